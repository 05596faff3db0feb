import { type ChangeOutcome, changeRelease, type StoreInput } from './change-release.js';
import type { AppDeps } from './deps.js';

// Cancelling an active release with a reason. Its author hears back through a notice the relay
// sends from the record, so the answer survives a crash right after the commit.

export function cancelRelease(deps: AppDeps, request: StoreInput<'cancelRelease'>): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'cancel',
    permission: 'cancel',
    commit: () => deps.store.cancelRelease(request),
  });
}
