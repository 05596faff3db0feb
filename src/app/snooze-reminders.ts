import { fail, ok, type Result, releaseClosed } from '../domain/errors.js';
import type { AppDeps } from './deps.js';

// Snoozing one person's reminders of one phase: their next reminder comes when the snooze ends
// (planned by the relay from the reminder_snoozed event).

export interface SnoozeRequest {
  teamId: string;
  releaseId: string;
  phaseIndex: number;
  userId: string;
  snoozeMs: number;
  requestId: string;
}

export async function snoozeReminders(
  deps: AppDeps,
  request: SnoozeRequest,
): Promise<Result<{ until: number }>> {
  const { teamId, releaseId, phaseIndex, userId } = request;
  const release = await deps.store.getRelease(teamId, releaseId);
  if (!release?.template.phases[phaseIndex]) return fail({ code: 'item_unknown' });
  const until = Date.now() + request.snoozeMs;
  const result = await deps.store.snoozeReminders({
    teamId,
    releaseId,
    phaseIndex,
    userId,
    until,
    requestId: request.requestId,
  });
  switch (result.kind) {
    case 'applied':
      deps.log.info({ teamId, releaseId, phaseIndex, userId, until }, 'reminders snoozed');
      deps.relay.committed({ intent: 'snooze', teamId, releaseId });
      return ok({ until });
    case 'replayed':
      return ok({ until });
    case 'closed':
      return fail(releaseClosed(release, result.status));
    case 'not_found':
      return fail({ code: 'item_unknown' });
  }
}
