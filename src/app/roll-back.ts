import { type ChangeOutcome, changeRelease, type StoreInput } from './change-release.js';
import type { AppDeps } from './deps.js';

// Rolling a release back: it switches to rolling back (its rollback checklist is posted), or is
// rolled back at once when its template has no rollback checklist.

export function rollBack(deps: AppDeps, request: StoreInput<'startRollback'>): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'rollback',
    permission: 'rollback',
    commit: () => deps.store.startRollback(request),
  });
}
