import { type RoleDirectory, resolvePhaseHolders } from '../app/access.js';
import type { Relay } from '../app/relay.js';
import type { Config } from '../config/env.js';
import type { RoleHolders } from '../domain/access.js';
import { type Release, snoozedUntil } from '../domain/release.js';
import { groupOpenItemsByOwner, type HeldReminder } from '../domain/reminders.js';
import type { TemplateItem } from '../domain/template.js';
import { isQuietTime, nextAllowedTime, phaseDueAt } from '../domain/time.js';
import type { Logger } from '../log.js';
import type { OwnerReminderJob, PhaseReminderJob, Scheduler } from '../queues/scheduler.js';
import { deliverOnce, directMessageTarget } from '../slack-api/delivery.js';
import { type SlackOutbound, SlackPlatformError } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { renderOwnerReminder, renderThreadReminder } from '../views/reminder-message.js';
import { deliverDirectMessage } from './sync-direct-messages.js';

// Phase reminders. When a phase is due with required items open, each owner of open items is
// reminded: one message in the release thread naming everyone reminded now, and a direct message to
// each with their own items. The series repeats every REMINDER_INTERVAL until the phase is done.
// A person in their quiet hours, or who snoozed, is left out of a round and gets their own reminder
// at their morning or when the snooze ends; the round's thread message still counts their items.

export interface ReminderDeps {
  /** Role holders receive the reminders of their role's items (when the items have no owner). */
  roles?: RoleDirectory;
  store: ReleaseStore;
  outbound: SlackOutbound;
  scheduler: Scheduler;
  config: Pick<Config, 'reminders'>;
  log: Logger;
  /** Asks for the sync that keeps the release's DMs true (an older DM is superseded by a new one). */
  relay?: Pick<Relay, 'requestSync'>;
}

/** DMs that cannot reach a person (a bot, a deactivated account); the thread message still names them. */
const UNREACHABLE_USER_ERRORS = new Set([
  'cannot_dm_bot',
  'user_not_found',
  'user_disabled',
  'account_inactive',
]);

type Drop = { drop: string };

/** The release if the reminder still has a reason to exist, else why it is dropped. */
async function readRemindable(
  store: ReleaseStore,
  job: PhaseReminderJob | OwnerReminderJob,
): Promise<Release | Drop> {
  const release = await store.getRelease(job.teamId, job.releaseId);
  if (!release) return { drop: 'release gone' };
  if (release.status !== 'active') return { drop: `release ${release.status}` };
  if (release.window?.at !== job.windowAt) return { drop: 'window moved' };
  return release;
}

/** One round of a phase's reminders; plans the next round. Safe to run again for the same job. */
export async function runPhaseReminder(deps: ReminderDeps, job: PhaseReminderJob, now = Date.now()) {
  const { store, scheduler, config } = deps;
  const jobId = `remind-${job.releaseId}-p${job.phaseIndex}-w${job.windowAt}-s${job.series}-n${job.seq}`;
  const log = deps.log.child({
    teamId: job.teamId,
    releaseId: job.releaseId,
    phaseIndex: job.phaseIndex,
    jobId,
  });
  const release = await readRemindable(store, job);
  if ('drop' in release) return void log.info({ reason: release.drop }, 'reminder dropped');
  const holders = await roleHolders(deps, release, job.phaseIndex);
  const byOwner = groupOpenItemsByOwner(release, job.phaseIndex, holders);
  if (byOwner.size === 0) return void log.info('reminder dropped: phase done');

  const remindNow = new Map<string, TemplateItem[]>();
  const held: HeldReminder[] = [];
  for (const [owner, items] of byOwner) {
    const hold = await deferIfAway(deps, release, job, owner, now);
    if (hold) held.push({ userId: owner, ...hold, items });
    else remindNow.set(owner, items);
  }
  if (remindNow.size > 0) await remind(deps, release, job.phaseIndex, remindNow, held, holders, jobId, now);
  await scheduler.schedule({ ...job, seq: job.seq + 1 }, now + config.reminders.intervalMs);
}

/** One person's reminder, deferred past their quiet hours or due at the end of their snooze. */
export async function runOwnerReminder(deps: ReminderDeps, job: OwnerReminderJob, now = Date.now()) {
  const { store } = deps;
  const jobId = `remind-${job.releaseId}-p${job.phaseIndex}-w${job.windowAt}-u${job.userId}-t${job.at}`;
  const log = deps.log.child({
    teamId: job.teamId,
    releaseId: job.releaseId,
    phaseIndex: job.phaseIndex,
    jobId,
  });
  const release = await readRemindable(store, job);
  if ('drop' in release) return void log.info({ reason: release.drop }, 'reminder dropped');
  const holders = await roleHolders(deps, release, job.phaseIndex);
  const items = groupOpenItemsByOwner(release, job.phaseIndex, holders).get(job.userId);
  if (!items) return void log.info('reminder dropped: nothing open for this owner');
  // Snoozed again, or asleep, since this was planned: a later reminder of their own takes over.
  if (await deferIfAway(deps, release, job, job.userId, now)) return;
  await remind(deps, release, job.phaseIndex, new Map([[job.userId, items]]), [], holders, jobId, now);
}

/**
 * Plans a person's own reminder for the end of their snooze or of their quiet hours, when `now` falls
 * in either; resolves why and until when it did (they are left out now), else undefined. Planning it
 * twice adds one job.
 */
async function deferIfAway(
  deps: ReminderDeps,
  release: Release,
  job: PhaseReminderJob | OwnerReminderJob,
  owner: string,
  now: number,
): Promise<Pick<HeldReminder, 'reason' | 'until'> | undefined> {
  const { scheduler, config } = deps;
  const snoozed = snoozedUntil(release, job.phaseIndex, owner);
  if (snoozed > now) {
    await scheduler.schedule(ownerReminder(job, owner, snoozed), snoozed);
    return { reason: 'snoozed', until: snoozed };
  }
  const zone = (await deps.outbound.getUserTimeZone(owner)) ?? 'UTC';
  if (!isQuietTime(now, zone, config.reminders.quietHours)) return undefined;
  const morning = nextAllowedTime(now, zone, config.reminders.quietHours);
  deps.log.info(
    { releaseId: release.id, owner, zone, until: morning },
    'reminder deferred to the owner’s morning',
  );
  await scheduler.schedule(ownerReminder(job, owner, morning), morning);
  return { reason: 'quiet_hours', until: morning };
}

/** Who holds the roles of the phase's items; without a directory, nobody (their items go to the starter). */
async function roleHolders(deps: ReminderDeps, release: Release, phaseIndex: number): Promise<RoleHolders> {
  return deps.roles
    ? resolvePhaseHolders({ roles: deps.roles, log: deps.log }, release, phaseIndex)
    : () => undefined;
}

function ownerReminder(
  job: PhaseReminderJob | OwnerReminderJob,
  userId: string,
  at: number,
): OwnerReminderJob {
  const { teamId, releaseId, phaseIndex, windowAt } = job;
  return { kind: 'owner-reminder', teamId, releaseId, phaseIndex, windowAt, userId, at };
}

/**
 * Posts the thread message naming the owners reminded now (with an audit event per owner) and those
 * held, and each reminded owner's DM.
 */
async function remind(
  deps: ReminderDeps,
  release: Release,
  phaseIndex: number,
  owners: ReadonlyMap<string, TemplateItem[]>,
  held: readonly HeldReminder[],
  holders: RoleHolders,
  deliveryKey: string,
  now: number,
) {
  const { store } = deps;
  const log = deps.log.child({ teamId: release.teamId, releaseId: release.id, phaseIndex });
  const messages = await store.messages.get(release.teamId, release.id);
  const headerTs = messages.refs.header?.ts;
  // The header is posted within seconds of the start; a reminder cannot be due before it exists.
  if (!headerTs) throw new Error('the release header is not posted yet');
  const dueAt = release.window
    ? phaseDueAt(release.window.at, release.template.phases[phaseIndex]?.due)
    : undefined;
  const recipients = [...owners.keys()];
  // The thread message and each owner's DM go to conversations of their own, so they are posted side
  // by side: the DMs do not wait for the thread's post and its record.
  const thread = deliverOnce(deps, {
    teamId: release.teamId,
    releaseId: release.id,
    key: deliveryKey,
    channel: release.channelId,
    threadTs: headerTs,
    message: renderThreadReminder(release, phaseIndex, dueAt, owners, held, now),
    audit: recipients.map((recipient) => ({
      type: 'reminder_sent',
      user: 'shipcheck',
      from: 'open',
      to: 'reminded',
      phase: phaseIndex,
      recipient,
    })),
  });
  const [threadSent, ...dmsSent] = await Promise.allSettled([
    thread,
    ...recipients.map(async (owner) => {
      const channel = await directMessageTarget(deps, release.teamId, owner);
      const key = `${deliveryKey}-dm-${owner}`;
      const message = renderOwnerReminder(
        release,
        phaseIndex,
        owner,
        holders,
        dueAt,
        messages.permalink,
        now,
      );
      // Recorded with the post, so the sync keeps it true from then on.
      const about = { kind: 'reminder', userId: owner, phaseIndex };
      await deliverDirectMessage(deps, {
        teamId: release.teamId,
        releaseId: release.id,
        key,
        channel,
        message,
        about,
      });
    }),
  ]);
  // The new DMs supersede this person's older ones, and the release may have changed since they
  // were rendered; the sync brings every DM in line. A rerun of this job asks again, harmlessly.
  if (dmsSent.some((outcome) => outcome.status === 'fulfilled')) {
    await deps.relay?.requestSync(release.teamId, release.id);
  }
  // A failed thread post fails the job; its retry posts only what is missing.
  if (threadSent.status === 'rejected') throw threadSent.reason;
  dmsSent.forEach((outcome, index) => {
    if (outcome.status === 'fulfilled') return;
    const err = outcome.reason;
    if (!(err instanceof SlackPlatformError && UNREACHABLE_USER_ERRORS.has(err.slackError))) throw err;
    log.warn(
      { owner: recipients[index], slackError: err.slackError },
      'reminder DM impossible; the thread message names them',
    );
  });
  log.info({ owners: recipients.length, openItems: [...owners.values()].flat().length }, 'reminder sent');
}
