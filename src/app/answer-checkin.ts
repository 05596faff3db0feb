import type { CheckInAnswerKind, IssueSeverity } from '../domain/release.js';
import { type ChangeOutcome, changeRelease } from './change-release.js';
import type { AppDeps } from './deps.js';

// Answering a post-deploy check-in: healthy, an issue found (what, how severe), or roll back (why,
// and only for those who may roll back). One script changes the check-in, any issue, the monitoring
// window and the release's status together.

export function answerCheckin(
  deps: AppDeps,
  request: {
    teamId: string;
    releaseId: string;
    checkinIndex: number;
    answer: CheckInAnswerKind;
    userId: string;
    /** The issue found, or the rollback's reason. */
    note?: string;
    severity?: IssueSeverity;
    requestId: string;
  },
): Promise<ChangeOutcome> {
  return changeRelease(deps, {
    ...request,
    intent: 'answer-checkin',
    ...(request.answer === 'rollback' ? { permission: 'rollback' as const } : {}),
    commit: () => deps.store.answerCheckin(request),
  });
}
