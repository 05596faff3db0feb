import { type ChangeOutcome, changeRelease } from './change-release.js';
import type { AppDeps } from './deps.js';

// Cancelling an active release with a reason. Its author hears back through a notice the relay
// sends from the record, so the answer survives a crash right after the commit.

export function cancelRelease(
  deps: AppDeps,
  request: {
    teamId: string;
    releaseId: string;
    userId: string;
    reason: string;
    requestId: string;
    /** Where the confirmation goes (a slash command's response_url); else it is an ephemeral. */
    replyUrl?: string;
  },
): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'cancel',
    permission: 'cancel',
    commit: () => deps.store.cancelRelease(request),
  });
}
