import { freezeBlockingDeployment } from '../domain/freeze.js';
import { type ChangeOutcome, changeRelease } from './change-release.js';
import type { AppDeps } from './deps.js';

// A release manager lets a release that is already running deploy inside the freeze its environment
// is in now (it started before the freeze began, or was scheduled into it): with a reason, on the
// record, announced. A release started inside a freeze got its override with the start instead.

export interface OverrideFreezeRequest {
  teamId: string;
  releaseId: string;
  userId: string;
  reason: string;
  requestId: string;
}

export function overrideFreeze(deps: AppDeps, request: OverrideFreezeRequest): Promise<ChangeOutcome> {
  // Read once, at the check, so that the commit overrides exactly the freeze that was checked.
  let freeze: ReturnType<typeof freezeBlockingDeployment>;
  return changeRelease(deps, {
    ...request,
    intent: 'override-freeze',
    permission: 'freeze_override',
    check: (release) => {
      freeze = freezeBlockingDeployment(
        deps.config.freezeWindows,
        release.env,
        Date.now(),
        release.freezeOverride,
      );
      return freeze ? undefined : { code: 'not_frozen', env: release.env, version: release.version };
    },
    commit: () =>
      deps.store.overrideFreeze({
        ...request,
        window: freeze!.window.text,
        endsAt: freeze!.endsAt,
      }),
  });
}
