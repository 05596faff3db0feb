import { type ConnectionOptions, Queue } from 'bullmq';
import { z } from 'zod';
import type { Config } from '../config/env.js';
import { watchedCriteria } from '../domain/metric-checks.js';
import type { Release } from '../domain/release.js';
import { planFirstReminders } from '../domain/reminders.js';
import { ANNOUNCEMENT_EVENTS, type AnnouncementEvent } from '../domain/template.js';
import { parseDuration } from '../domain/time.js';
import type { ReleaseStore } from '../store/release-store.js';
import { queuePrefix } from './sync-queue.js';

// Every timed job of a release on one BullMQ queue: phase reminders, a person's deferred or snoozed
// reminder, post-deploy check-ins and their escalations. A job's id says what it is for (release,
// kind, phase or check-in, window, person, moment), so scheduling the same thing twice (a retried
// command, two instances, a reconciling sync) adds one job. Handlers re-read the release when they
// fire: a job whose reason has gone (phase done, release closed, window moved) posts nothing.

export const SCHEDULE_QUEUE = 'schedule';

const Target = { teamId: z.string().min(1), releaseId: z.string().min(1) };

export const ScheduledJobData = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('phase-reminder'),
    ...Target,
    phaseIndex: z.number().int().min(0),
    /** The window this series was planned for; a moved window makes the job stale. */
    windowAt: z.number().int(),
    /** 0 for the series planned with the window; when a done phase reopened, the moment it did. */
    series: z.number().int().min(0).default(0),
    seq: z.number().int().min(0),
  }),
  z.object({
    kind: z.literal('owner-reminder'),
    ...Target,
    phaseIndex: z.number().int().min(0),
    windowAt: z.number().int(),
    userId: z.string().min(1),
    /** When it is due: the end of a snooze, or the person's morning after quiet hours. */
    at: z.number().int(),
  }),
  z.object({ kind: z.literal('checkin'), ...Target, checkinIndex: z.number().int().min(0) }),
  z.object({ kind: z.literal('checkin-escalation'), ...Target, checkinIndex: z.number().int().min(0) }),
  z.object({
    kind: z.literal('metric-watch'),
    ...Target,
    criterionId: z.string().min(1),
    /** When this run is due; each run plans the next. */
    at: z.number().int(),
  }),
  z.object({ kind: z.literal('lock-freed'), ...Target, env: z.string().min(1) }),
  z.object({ kind: z.literal('final-log'), ...Target }),
  z.object({ kind: z.literal('retro-draft'), ...Target }),
  z.object({ kind: z.literal('retro-prompt'), ...Target }),
  z.object({
    kind: z.literal('retro-saved'),
    ...Target,
    /** The retro_saved event; each save is posted once. */
    eventId: z.string().regex(/^\d+-\d+$/),
  }),
  z.object({
    kind: z.literal('log-version'),
    ...Target,
    /** The retro_saved event; each save shares one new version of the log. */
    eventId: z.string().regex(/^\d+-\d+$/),
  }),
  z.object({
    kind: z.literal('notice'),
    ...Target,
    notice: z.enum(['cancelled']),
    userId: z.string().min(1),
    /** The audit event the notice confirms; one notice per event. */
    eventId: z.string().regex(/^\d+-\d+$/),
  }),
  z.object({
    kind: z.literal('lost-click'),
    ...Target,
    /** The click's request id; one notice per click. */
    clickId: z.string().min(1),
    itemId: z.string().min(1),
    userId: z.string().min(1),
    done: z.boolean(),
    replyUrl: z.string().url().optional(),
  }),
  z.object({
    kind: z.literal('record-person'),
    ...Target,
    /** A person the release's events name, whose names its people record lacks. */
    userId: z.string().regex(/^[UW][A-Z0-9]+$/),
  }),
  z.object({
    kind: z.literal('announce'),
    ...Target,
    event: z.enum(ANNOUNCEMENT_EVENTS),
    /** Which time the event happens, for events that can repeat (the id); 0 otherwise. */
    occurrence: z.number().int().min(0),
  }),
]);
export type ScheduledJobData = z.infer<typeof ScheduledJobData>;
export type PhaseReminderJob = Extract<ScheduledJobData, { kind: 'phase-reminder' }>;
export type OwnerReminderJob = Extract<ScheduledJobData, { kind: 'owner-reminder' }>;
export type CheckinJob = Extract<ScheduledJobData, { kind: 'checkin' | 'checkin-escalation' }>;
export type AnnounceJob = Extract<ScheduledJobData, { kind: 'announce' }>;
export type MetricWatchJob = Extract<ScheduledJobData, { kind: 'metric-watch' }>;
export type LockFreedJob = Extract<ScheduledJobData, { kind: 'lock-freed' }>;
export type NoticeJob = Extract<ScheduledJobData, { kind: 'notice' }>;
export type LostClickJob = Extract<ScheduledJobData, { kind: 'lost-click' }>;
export type RecordPersonJob = Extract<ScheduledJobData, { kind: 'record-person' }>;

/** Deterministic, and free of ':' (BullMQ reserves it in ids). */
export function scheduledJobId(data: ScheduledJobData): string {
  const release = `${data.teamId}-${data.releaseId}`;
  switch (data.kind) {
    case 'phase-reminder':
      return `remind-${release}-p${data.phaseIndex}-w${data.windowAt}-s${data.series}-n${data.seq}`;
    case 'owner-reminder':
      return `remind-${release}-p${data.phaseIndex}-w${data.windowAt}-u${data.userId}-t${data.at}`;
    case 'checkin':
      return `checkin-${release}-k${data.checkinIndex}`;
    case 'checkin-escalation':
      return `checkin-${release}-k${data.checkinIndex}-escalate`;
    case 'metric-watch':
      return `watch-${release}-${data.criterionId}-t${data.at}`;
    case 'announce':
      return `announce-${release}-${data.event}-o${data.occurrence}`;
    case 'lock-freed':
      return `lockfree-${release}`;
    case 'final-log':
      return `log-${release}`;
    case 'retro-draft':
      return `retro-${release}-draft`;
    case 'retro-prompt':
      return `retro-${release}-prompt`;
    case 'retro-saved':
      return `retro-${release}-saved-${data.eventId}`;
    case 'log-version':
      return `log-${release}-retro-${data.eventId}`;
    case 'notice':
      return `notice-${release}-${data.eventId}`;
    case 'lost-click':
      return `notice-${release}-lost-${data.clickId.replaceAll(':', '_')}`;
    case 'record-person':
      return `people-${release}-${data.userId}`;
  }
}

const isReminderJobId = (jobId: string) => jobId.startsWith('remind-');
/** Announcements are never cancelled with the release: the last of them tells that it ended. */
/** What follows a release's end (announcements, lock notices, its log, its retrospective, its people's names) outlives it. */
const isCancellable = (jobId: string) =>
  !['announce-', 'lockfree-', 'log-', 'retro-', 'notice-', 'people-'].some((prefix) =>
    jobId.startsWith(prefix),
  );

export class Scheduler {
  readonly queue: Queue<ScheduledJobData>;

  constructor(
    connection: ConnectionOptions,
    redisPrefix: string,
    private readonly store: ReleaseStore,
    private readonly config: Pick<Config, 'reminders'>,
  ) {
    this.queue = new Queue<ScheduledJobData>(SCHEDULE_QUEUE, {
      connection,
      prefix: queuePrefix(redisPrefix),
      defaultJobOptions: {
        attempts: 8,
        backoff: { type: 'exponential', delay: 2000 },
        // Finished jobs are kept for a week, which keeps their ids taken: a late duplicate add is a no-op.
        removeOnComplete: { age: 7 * 24 * 3600 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    });
  }

  async schedule(data: ScheduledJobData, at: number): Promise<void> {
    const jobId = scheduledJobId(data);
    await this.store.jobs.track(data.teamId, data.releaseId, jobId);
    await this.queue.add(data.kind, data, { jobId, delay: Math.max(0, at - Date.now()) });
  }

  /** Plans the first reminder of every phase of a release with a window. */
  async scheduleRelease(release: Release, now = Date.now()): Promise<number> {
    if (!release.window) return 0;
    const planned = planFirstReminders(release, now, this.config.reminders.intervalMs);
    for (const { phaseIndex, at } of planned) {
      await this.schedule(
        {
          kind: 'phase-reminder',
          teamId: release.teamId,
          releaseId: release.id,
          phaseIndex,
          windowAt: release.window.at,
          series: 0,
          seq: 0,
        },
        at,
      );
    }
    return planned.length;
  }

  /**
   * Starts a new reminder series for a phase that was done and is open again (its old series ended
   * when it was done); the first reminder comes when the phase is due, or one interval from now.
   * `series` (when it reopened) names the series' jobs, so planning it again adds nothing.
   */
  async scheduleReopenedPhase(
    release: Release,
    phaseIndex: number,
    series: number,
    now = Date.now(),
  ): Promise<boolean> {
    if (!release.window || release.status !== 'active') return false;
    const first = planFirstReminders(release, now, this.config.reminders.intervalMs).find(
      (planned) => planned.phaseIndex === phaseIndex,
    );
    if (!first) return false;
    await this.schedule(
      {
        kind: 'phase-reminder',
        teamId: release.teamId,
        releaseId: release.id,
        phaseIndex,
        windowAt: release.window.at,
        series,
        seq: 0,
      },
      first.at,
    );
    return true;
  }

  /** Plans every check-in not posted yet; safe to call after any change (ids are deterministic). */
  async scheduleCheckins(release: Release): Promise<number> {
    if (release.status !== 'active' || release.monitoring?.state !== 'open') return 0;
    let planned = 0;
    for (const checkin of release.checkins) {
      if (checkin.postedAt !== undefined) continue;
      await this.schedule(
        { kind: 'checkin', teamId: release.teamId, releaseId: release.id, checkinIndex: checkin.index },
        checkin.dueAt,
      );
      planned++;
    }
    return planned;
  }

  /** Plans the first run of each watched success criterion, one interval after the deploy. */
  async scheduleWatch(release: Release): Promise<number> {
    if (release.status !== 'active' || release.monitoring?.state !== 'open' || !release.deployment) return 0;
    let planned = 0;
    for (const criterion of watchedCriteria(release.template)) {
      const every = parseDuration(criterion.watch.every);
      if (!every.ok) continue;
      const at = release.deployment.at + every.value;
      await this.schedule(
        {
          kind: 'metric-watch',
          teamId: release.teamId,
          releaseId: release.id,
          criterionId: criterion.id,
          at,
        },
        at,
      );
      planned++;
    }
    return planned;
  }

  /**
   * Tells the release's stakeholders about an event, once: the job id names the event (and its
   * occurrence), so a retried request or a second instance adds nothing.
   */
  async announce(release: Release, event: AnnouncementEvent, occurrence = 0): Promise<void> {
    if (release.stakeholderChannels.length === 0) return;
    // Its place among the release's announcements, which every channel hears in that order.
    await this.store.messages.noteAnnouncement(release.teamId, release.id, event, occurrence);
    await this.schedule(
      { kind: 'announce', teamId: release.teamId, releaseId: release.id, event, occurrence },
      Date.now(),
    );
  }

  /** Removes every pending job of the release (cancelled, completed, rolled back). */
  async cancelRelease(teamId: string, releaseId: string): Promise<number> {
    return this.cancelJobs(teamId, releaseId, isCancellable);
  }

  /** Removes the release's pending reminders (rescheduled: a new series is planned for the new window). */
  async cancelReminders(teamId: string, releaseId: string): Promise<number> {
    return this.cancelJobs(teamId, releaseId, isReminderJobId);
  }

  /** Removes the pending check-ins and escalations (the monitoring window closed). */
  async cancelCheckins(teamId: string, releaseId: string): Promise<number> {
    return this.cancelJobs(teamId, releaseId, (jobId) => jobId.startsWith('checkin-'));
  }

  /** Removes the pending reminders of one phase (it is done). */
  async cancelPhaseReminders(teamId: string, releaseId: string, phaseIndex: number): Promise<number> {
    const marker = `-${teamId}-${releaseId}-p${phaseIndex}-`;
    return this.cancelJobs(teamId, releaseId, (jobId) => isReminderJobId(jobId) && jobId.includes(marker));
  }

  private async cancelJobs(
    teamId: string,
    releaseId: string,
    matches: (jobId: string) => boolean,
  ): Promise<number> {
    let removed = 0;
    for (const jobId of await this.store.jobs.take(teamId, releaseId, matches)) {
      const job = await this.queue.getJob(jobId);
      if (!job) continue;
      // An active (locked) job cannot be removed; its handler re-reads the release and posts nothing.
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
