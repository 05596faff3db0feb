import { type ConnectionOptions, Queue, type Worker } from 'bullmq';
import { z } from 'zod';
import type { Config } from '../config/env.js';
import type { Release } from '../domain/release.js';
import { openRequiredItems, planFirstReminders } from '../domain/reminders.js';
import { isQuietTime, nextAllowedTime, phaseDueAt } from '../domain/time.js';
import type { Logger } from '../log.js';
import type { SlackOutbound } from '../slack/outbound.js';
import { renderPhaseReminder } from '../slack/views/reminder-message.js';
import type { ReleaseStore } from '../store/release-store.js';
import { createInstrumentedWorker, type JobMetrics } from './instrumented-worker.js';
import { queuePrefix } from './sync-queue.js';

// Phase reminders as delayed BullMQ jobs. A job's id names the release, the phase, the window and its
// place in the series, so scheduling the same reminder twice (a retried command, two instances) adds
// one job. The handler re-reads the release when it fires: a reminder is never posted for a phase
// that is done, a release that is closed, or a window that has moved.

export const REMINDER_QUEUE = 'reminders';

export const ReminderJobData = z.object({
  teamId: z.string().min(1),
  releaseId: z.string().min(1),
  phaseIndex: z.number().int().min(0),
  /** The window this series was planned for; a moved window makes the job stale. */
  windowAt: z.number().int(),
  seq: z.number().int().min(0),
});
export type ReminderJobData = z.infer<typeof ReminderJobData>;

/** Deterministic, and free of ':' (BullMQ reserves it in ids). */
export function reminderJobId(data: ReminderJobData): string {
  return `remind-${data.teamId}-${data.releaseId}-p${data.phaseIndex}-w${data.windowAt}-n${data.seq}`;
}

export class ReminderScheduler {
  readonly queue: Queue<ReminderJobData>;

  constructor(
    connection: ConnectionOptions,
    redisPrefix: string,
    private readonly store: ReleaseStore,
    private readonly config: Pick<Config, 'reminders'>,
  ) {
    this.queue = new Queue<ReminderJobData>(REMINDER_QUEUE, {
      connection,
      prefix: queuePrefix(redisPrefix),
      defaultJobOptions: {
        attempts: 6,
        backoff: { type: 'exponential', delay: 2000 },
        // Finished jobs are kept for a week, which keeps their ids taken: a late duplicate add is a no-op.
        removeOnComplete: { age: 7 * 24 * 3600 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    });
  }

  async schedule(data: ReminderJobData, at: number): Promise<void> {
    const jobId = reminderJobId(data);
    await this.store.trackJob(data.teamId, data.releaseId, jobId);
    await this.queue.add('reminder', data, { jobId, delay: Math.max(0, at - Date.now()) });
  }

  /** Plans the first reminder of every phase of a release with a window. */
  async scheduleRelease(release: Release, now = Date.now()): Promise<number> {
    if (!release.window) return 0;
    const planned = planFirstReminders(release, now, this.config.reminders.intervalMs);
    for (const { phaseIndex, at } of planned) {
      await this.schedule(
        { teamId: release.teamId, releaseId: release.id, phaseIndex, windowAt: release.window.at, seq: 0 },
        at,
      );
    }
    return planned.length;
  }

  /** Removes the release's pending reminders (cancelled, completed, rescheduled). A running one finds out when it re-reads. */
  async cancelRelease(teamId: string, releaseId: string): Promise<number> {
    let removed = 0;
    for (const jobId of await this.store.takeTrackedJobs(teamId, releaseId)) {
      const job = await this.queue.getJob(jobId);
      if (!job) continue;
      // An active (locked) job cannot be removed; its handler sees the change and posts nothing.
      if (await job.isActive()) continue;
      await job.remove().then(
        () => removed++,
        () => undefined,
      );
    }
    return removed;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export interface ReminderDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  scheduler: ReminderScheduler;
  config: Pick<Config, 'reminders'>;
  log: Logger;
}

/** Fires one reminder of a series, then plans the next one; safe to run again for the same job. */
export async function runReminder(
  deps: ReminderDeps,
  data: ReminderJobData,
  now = Date.now(),
): Promise<void> {
  const { store, outbound, scheduler, config } = deps;
  const jobId = reminderJobId(data);
  const log = deps.log.child({
    teamId: data.teamId,
    releaseId: data.releaseId,
    phaseIndex: data.phaseIndex,
    jobId,
  });
  await store.untrackJob(data.teamId, data.releaseId, jobId);
  const release = await store.getRelease(data.teamId, data.releaseId);
  if (release?.status !== 'active' || release.window?.at !== data.windowAt) {
    log.info({ status: release?.status }, 'reminder dropped: release closed or rescheduled');
    return;
  }
  const openItems = openRequiredItems(release, data.phaseIndex);
  if (openItems.length === 0) {
    log.info('reminder dropped: phase done');
    return;
  }
  const next: ReminderJobData = { ...data, seq: data.seq + 1 };
  const owner = release.startedBy;
  const zone = (await outbound.getUserTimeZone(owner)) ?? 'UTC';
  if (isQuietTime(now, zone, config.reminders.quietHours)) {
    // Wait for the owner's morning; the series goes on from there.
    const morning = nextAllowedTime(now, zone, config.reminders.quietHours);
    log.info({ owner, zone, until: morning }, 'reminder deferred: quiet hours');
    await scheduler.schedule(next, morning);
    return;
  }
  const actionId = `reminder:${jobId}`;
  if (await store.claimOnce(data.teamId, actionId)) {
    const headerTs = (await store.getMessages(data.teamId, data.releaseId)).refs.header?.ts;
    if (!headerTs) {
      await store.releaseClaim(data.teamId, actionId);
      throw new Error('the release header is not posted yet');
    }
    try {
      await outbound.postMessage(data.teamId, {
        channel: release.channelId,
        threadTs: headerTs,
        ...renderPhaseReminder(
          release,
          data.phaseIndex,
          phaseDueAt(data.windowAt, release.template.phases[data.phaseIndex]?.due),
          owner,
          openItems,
          now,
        ),
      });
    } catch (err) {
      await store.releaseClaim(data.teamId, actionId);
      throw err;
    }
    await store.appendAudit(data.teamId, data.releaseId, {
      type: 'reminder_sent',
      user: 'shipcheck',
      from: 'open',
      to: 'reminded',
      phase: data.phaseIndex,
      recipient: owner,
    });
    log.info({ owner, openItems: openItems.length }, 'reminder sent');
  } else {
    log.warn('reminder already claimed; not posting it again');
  }
  await scheduler.schedule(next, now + config.reminders.intervalMs);
}

export function createReminderWorker(
  connection: ConnectionOptions,
  redisPrefix: string,
  deps: ReminderDeps,
  metrics?: JobMetrics,
): Worker<ReminderJobData> {
  return createInstrumentedWorker<ReminderJobData>({
    queue: REMINDER_QUEUE,
    connection,
    redisPrefix,
    // Most of a reminder's time is spent waiting (for a channel's post slot, for Slack); a job keeps
    // its slot while it waits, so reminders due together in one channel need many slots.
    concurrency: 64,
    run: (data) => runReminder(deps, ReminderJobData.parse(data)),
    log: deps.log,
    metrics,
    describeJob: (job) => ({
      teamId: job.data.teamId,
      releaseId: job.data.releaseId,
      phaseIndex: job.data.phaseIndex,
    }),
  });
}
