import type { PipelineActorId } from '../domain/actor.js';
import { redFlagsOf } from '../domain/criteria.js';
import type { SHIPCHECK_USER } from '../domain/follow-ups.js';
import type { Release } from '../domain/release.js';
import { type ChangeOutcome, changeRelease, type StoreInput } from './change-release.js';
import type { AppDeps } from './deps.js';

// A red flag stops every tick of a release until someone entitled clears it with a note.

/** The stop conditions a red flag is raised for: the template's own list, or the built-in one. */
export function redFlagConditions(release: Release): readonly string[] {
  return redFlagsOf(release.template);
}

/**
 * A machine raising a flag (shipcheck's metric watch, a pipeline's failed deploy) names what it saw;
 * no person's permission applies.
 */
export type MachineRedFlag = StoreInput<'raiseRedFlag'> & { userId: typeof SHIPCHECK_USER | PipelineActorId };

export function raiseRedFlag(
  deps: AppDeps,
  request:
    | (Omit<StoreInput<'raiseRedFlag'>, 'condition'> & {
        /** Which of the release's stop conditions (redFlagConditions). */
        conditionIndex: number;
      })
    | MachineRedFlag,
): Promise<ChangeOutcome> {
  let condition: string | undefined;
  const byMachine = !('conditionIndex' in request);
  return changeRelease(deps, {
    ...request,
    intent: 'raise-red-flag',
    ...(byMachine ? {} : { permission: 'red_flag' as const }),
    check: (release) => {
      condition = byMachine ? request.condition : redFlagConditions(release)[request.conditionIndex];
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
