import { type ChangeOutcome, changeRelease, type StoreInput } from './change-release.js';
import type { AppDeps } from './deps.js';

// Resolving an issue a check-in reported. The last open issue either closes the monitoring window (the
// latest check-in was healthy) or plans a follow-up check-in.

export function resolveIssue(deps: AppDeps, request: StoreInput<'resolveIssue'>): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'resolve-issue',
    commit: () => deps.store.resolveIssue(request),
  });
}
