import { type ChangeOutcome, changeRelease } from './change-release.js';
import type { AppDeps } from './deps.js';

// Resolving an issue a check-in reported. The last open issue either closes the monitoring window (the
// latest check-in was healthy) or plans a follow-up check-in.

export function resolveIssue(
  deps: AppDeps,
  request: {
    teamId: string;
    releaseId: string;
    issueId: number;
    userId: string;
    resolution: string;
    requestId: string;
  },
): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'resolve-issue',
    commit: () => deps.store.resolveIssue(request),
  });
}
