import { type ChangeOutcome, changeRelease } from './change-release.js';
import type { AppDeps } from './deps.js';

// The team's part of a release's retrospective: what went well, what went wrong, the follow-ups. It
// goes into the record; the relay posts it in the thread.

export function saveRetrospective(
  deps: AppDeps,
  request: {
    teamId: string;
    releaseId: string;
    userId: string;
    retro: { wentWell: string; wentWrong: string; followUps: string };
    requestId: string;
  },
): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'save-retro',
    commit: () => deps.store.saveRetro(request),
  });
}
