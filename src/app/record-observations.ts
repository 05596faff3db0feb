import { releaseClosed, type UserError } from '../domain/errors.js';
import { measurableCriteria, observedValueProblem } from '../domain/observations.js';
import type { Release } from '../domain/release.js';
import { type ChangeOutcome, changeRelease, type StoreInput } from './change-release.js';
import type { AppDeps } from './deps.js';

// Recording the values observed at a post-deploy check-in for the template's success criteria. Anyone
// who may answer a check-in may record them, while the release is active; a later value for the same
// criterion at the same check-in replaces the earlier one, and both stay in the audit trail.

export type RecordObservationsRequest = StoreInput<'recordObservations'>;

export function recordObservations(
  deps: AppDeps,
  request: RecordObservationsRequest,
): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'record-observations',
    check: (release) => observationsRefusal(release, request),
    commit: () => deps.store.recordObservations(request),
  });
}

/**
 * Why the values cannot be recorded, or undefined when they can. The script checks the release's status
 * and the check-in again; criteria and units are checked here, against the release's fixed template.
 */
function observationsRefusal(release: Release, request: RecordObservationsRequest): UserError | undefined {
  if (release.status !== 'active') return releaseClosed(release);
  if (release.checkins[request.checkinIndex]?.postedAt === undefined) return { code: 'item_unknown' };
  const criteria = new Map(
    measurableCriteria(release.template).map((criterion) => [criterion.id, criterion]),
  );
  for (const { criterionId, value } of request.values) {
    const criterion = criteria.get(criterionId);
    if (!criterion) return { code: 'item_unknown' };
    if (value !== undefined && observedValueProblem(criterion.unit, value))
      return { code: 'payload_invalid' };
  }
  return undefined;
}
