import { redFlagsOf } from '../domain/criteria.js';
import type { Release } from '../domain/release.js';
import { type ChangeOutcome, changeRelease, type StoreInput } from './change-release.js';
import type { AppDeps } from './deps.js';

// A red flag stops every tick of a release until someone entitled clears it with a note.

/** The stop conditions a red flag is raised for: the template's own list, or the built-in one. */
export function redFlagConditions(release: Release): readonly string[] {
  return redFlagsOf(release.template);
}

export function raiseRedFlag(
  deps: AppDeps,
  request: Omit<StoreInput<'raiseRedFlag'>, 'condition'> & {
    /** Which of the release's stop conditions (redFlagConditions). */
    conditionIndex: number;
  },
): Promise<ChangeOutcome> {
  let condition: string | undefined;
  return changeRelease(deps, {
    ...request,
    intent: 'raise-red-flag',
    permission: 'red_flag',
    check: (release) => {
      condition = redFlagConditions(release)[request.conditionIndex];
      return condition === undefined ? { code: 'payload_invalid' } : undefined;
    },
    commit: () => deps.store.raiseRedFlag({ ...request, condition: condition! }),
  });
}

export function clearRedFlag(deps: AppDeps, request: StoreInput<'clearRedFlag'>): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'clear-red-flag',
    permission: 'red_flag_resolve',
    commit: () => deps.store.clearRedFlag(request),
  });
}
