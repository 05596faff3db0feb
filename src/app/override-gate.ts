import { type ChangeOutcome, changeRelease, type StoreInput } from './change-release.js';
import type { AppDeps } from './deps.js';

// Passing a locked phase's gate with a reason, on the record and on the release header.

export function overrideGate(deps: AppDeps, request: StoreInput<'overrideGate'>): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'override-gate',
    permission: 'override',
    commit: () => deps.store.overrideGate(request),
    refuse: (release, result) =>
      result.kind === 'not_locked'
        ? {
            code: 'gate_not_locked',
            phaseName: release.template.phases[request.phaseIndex]?.name ?? `phase ${request.phaseIndex + 1}`,
          }
        : undefined,
  });
}
