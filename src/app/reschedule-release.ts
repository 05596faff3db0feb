import type { UserError } from '../domain/errors.js';
import { findActiveFreeze } from '../domain/freeze.js';
import type { DeployWindow, Release } from '../domain/release.js';
import { type ChangeOutcome, changeRelease, type StoreInput } from './change-release.js';
import type { AppDeps } from './deps.js';

// Moving a release's deploy window, on the record. A deployed release keeps its window, and a window
// cannot be moved into a freeze (starting anew with an override is the way in).

export function rescheduleRelease(
  deps: AppDeps,
  request: StoreInput<'rescheduleRelease'>,
): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'reschedule',
    permission: 'reschedule',
    check: (release) => refuseWindow(deps, release, request.window),
    commit: () => deps.store.rescheduleRelease(request),
  });
}

function refuseWindow(deps: AppDeps, release: Release, window: DeployWindow): UserError | undefined {
  if (release.deployment) {
    return {
      code: 'release_deployed',
      version: release.version,
      env: release.env,
      deployedAt: release.deployment.at,
    };
  }
  const freeze = findActiveFreeze(deps.config.freezeWindows, release.env, window.at);
  if (freeze) return { code: 'frozen', env: release.env, window: freeze.window.text, endsAt: freeze.endsAt };
  return undefined;
}
