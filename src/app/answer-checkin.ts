import { type ChangeOutcome, changeRelease, type StoreInput } from './change-release.js';
import type { AppDeps } from './deps.js';

// Answering a post-deploy check-in: healthy, an issue found (what, how severe), or roll back (why,
// and only for those who may roll back). One script changes the check-in, any issue, the monitoring
// window and the release's status together.

export function answerCheckin(deps: AppDeps, request: StoreInput<'answerCheckin'>): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'answer-checkin',
    ...(request.answer === 'rollback' ? { permission: 'rollback' as const } : {}),
    commit: () => deps.store.answerCheckin(request),
  });
}
