import { type ChangeOutcome, changeRelease, type StoreInput } from './change-release.js';
import type { AppDeps } from './deps.js';

// The team's part of a release's retrospective: what went well, what went wrong, the follow-ups. It
// goes into the record; the relay posts it in the thread.

export function saveRetrospective(deps: AppDeps, request: StoreInput<'saveRetro'>): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'save-retro',
    commit: () => deps.store.saveRetro(request),
  });
}
