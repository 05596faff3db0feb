import { goPhaseIndex } from '../domain/template.js';
import { type ChangeOutcome, changeRelease, type StoreInput } from './change-release.js';
import type { AppDeps } from './deps.js';

// The release manager's call before the deployment phase: go opens it, no-go cancels the release
// with the reason.

export function decideGo(deps: AppDeps, request: StoreInput<'decideGo'>): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: request.decision === 'go' ? 'go' : 'no-go',
    permission: 'go',
    commit: () => deps.store.decideGo(request),
    // For the go call, a locked gate means the phases before it are not done yet.
    refuse: (release, result) =>
      result.kind === 'locked'
        ? {
            code: 'go_not_ready',
            phaseName: release.template.phases[goPhaseIndex(release.template) ?? 0]?.name ?? '',
          }
        : undefined,
  });
}
