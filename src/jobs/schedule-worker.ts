import type { ConnectionOptions, Worker } from 'bullmq';
import type { Config } from '../config/env.js';
import { SCHEDULE_QUEUE, ScheduledJobData, scheduledJobId } from '../queues/scheduler.js';
import { runAnnouncement } from './announcements.js';
import { type CheckinDeps, runCheckin, runCheckinEscalation } from './checkins.js';
import { runFinalLog, runLogVersion } from './deployment-log.js';
import { createInstrumentedWorker, type JobMetrics } from './instrumented-worker.js';
import { runLockFreed } from './locks.js';
import { type MetricWatchDeps, runMetricWatch } from './metric-watch.js';
import { type NoticeDeps, runLostClick, runNotice } from './notices.js';
import { runRecordPerson } from './people.js';
import { type ReminderDeps, runOwnerReminder, runPhaseReminder } from './reminders.js';
import { type RetroDeps, runRetroDraft, runRetroPrompt, runRetroSaved } from './retrospective.js';

// The shared logs check the trail's seals with the audit keys.
export type ScheduleDeps = ReminderDeps &
  CheckinDeps &
  RetroDeps &
  NoticeDeps &
  MetricWatchDeps & { config: Pick<Config, 'auditKeys'> };

export async function runScheduledJob(deps: ScheduleDeps, data: ScheduledJobData): Promise<void> {
  switch (data.kind) {
    case 'phase-reminder':
      return runPhaseReminder(deps, data);
    case 'owner-reminder':
      return runOwnerReminder(deps, data);
    case 'checkin':
      return runCheckin(deps, data);
    case 'checkin-escalation':
      return runCheckinEscalation(deps, data);
    case 'metric-watch':
      return runMetricWatch(deps, data);
    case 'announce':
      return runAnnouncement(deps, data);
    case 'lock-freed':
      return runLockFreed(deps, data);
    case 'final-log':
      return runFinalLog(deps, data.teamId, data.releaseId);
    case 'log-version':
      return runLogVersion(deps, data.teamId, data.releaseId, data.eventId);
    case 'retro-draft':
      return runRetroDraft(deps, data.teamId, data.releaseId);
    case 'retro-prompt':
      return runRetroPrompt(deps, data.teamId, data.releaseId);
    case 'retro-saved':
      return runRetroSaved(deps, data.teamId, data.releaseId, data.eventId);
    case 'notice':
      return runNotice(deps, data);
    case 'lost-click':
      return runLostClick(deps, data);
    case 'record-person':
      return runRecordPerson(deps, data);
  }
}

export function createScheduleWorker(
  connection: ConnectionOptions,
  redisPrefix: string,
  deps: ScheduleDeps,
  metrics?: JobMetrics,
): Worker<ScheduledJobData> {
  return createInstrumentedWorker<ScheduledJobData>({
    queue: SCHEDULE_QUEUE,
    connection,
    redisPrefix,
    // Most of a job's time is spent waiting (for a channel's post slot, for Slack); a job keeps its
    // slot while it waits, so reminders due together need many slots. With 64, a burst of 1,000
    // drained at the rate the slots turned over (about 700/s) with the CPU not yet busy.
    concurrency: 256,
    run: async (data) => {
      const job = ScheduledJobData.parse(data);
      // The job leaves the release's tracked set when it runs; one it plans next is tracked anew.
      await deps.store.jobs.untrack(job.teamId, job.releaseId, scheduledJobId(job));
      await runScheduledJob(deps, job);
    },
    log: deps.log,
    metrics,
    describeJob: (job) => ({
      kind: job.data.kind,
      teamId: job.data.teamId,
      releaseId: job.data.releaseId,
    }),
  });
}
