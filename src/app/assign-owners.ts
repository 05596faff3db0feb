import { type ChangeOutcome, changeRelease } from './change-release.js';
import type { AppDeps } from './deps.js';

// Setting (or clearing) the owners of checklist items; reminders about an item go to its owner.

export function assignOwners(
  deps: AppDeps,
  request: {
    teamId: string;
    releaseId: string;
    userId: string;
    owners: { itemId: string; ownerId: string | undefined }[];
    requestId: string;
  },
): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'assign',
    commit: () => deps.store.assignOwners(request),
  });
}
