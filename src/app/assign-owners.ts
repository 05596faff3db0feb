import { type ChangeOutcome, changeRelease, type StoreInput } from './change-release.js';
import type { AppDeps } from './deps.js';

// Setting (or clearing) the owners of checklist items; reminders about an item go to its owner.

export function assignOwners(deps: AppDeps, request: StoreInput<'assignOwners'>): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'assign',
    commit: () => deps.store.assignOwners(request),
  });
}
