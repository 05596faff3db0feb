import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Template } from '../../src/domain/template.js';
import { parseQuietHours } from '../../src/domain/time.js';
import { runPhaseReminder } from '../../src/jobs/reminders.js';
import { type PhaseReminderJob, Scheduler, scheduledJobId } from '../../src/queues/scheduler.js';
import { SlackOutbound } from '../../src/slack-api/outbound.js';
import { Pacer } from '../../src/store/pacer.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { SlackStandIn } from '../support/slack-stand-in.js';

// A phase reminder round run at a chosen moment, against real Redis, a real BullMQ queue and the
// Slack stand-in: who is reminded now, and when the people in their quiet hours are.

const TEAM = 'T0001';
const CHANNEL = 'C0DEPLOY';
const BERLIN_OWNER = 'U0BERLIN';
const NEW_YORK_OWNER = 'U0NEWYORK';
const HOUR = 3600_000;

const template: Template = {
  id: 'tiny',
  name: 'Tiny',
  phases: [
    {
      id: 'prepare',
      name: 'Prepare',
      due: 'T-0',
      items: [
        { id: 'backup', text: 'Backup taken', required: true },
        { id: 'notes', text: 'Release notes written', required: true },
      ],
    },
  ],
};

let standIn: SlackStandIn;
let redis: Redis;
let queueRedis: Redis;
let prefix: string;
let store: ReleaseStore;
let scheduler: Scheduler;
let outbound: SlackOutbound;

beforeAll(async () => {
  standIn = await SlackStandIn.start();
  standIn.setUser(BERLIN_OWNER, { tz: 'Europe/Berlin' });
  standIn.setUser(NEW_YORK_OWNER, { tz: 'America/New_York' });
  redis = new Redis(TEST_REDIS_URL);
  queueRedis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await standIn.stop();
  await redis.quit();
  await queueRedis.quit();
});
beforeEach(() => {
  standIn.reset();
  prefix = createTestPrefix('reminder-jobs');
  store = new ReleaseStore(redis, prefix);
  outbound = new SlackOutbound(
    { token: 'xoxb-test-token', apiUrl: standIn.apiUrl, postIntervalMs: 0, updateIntervalMs: 0 },
    new Pacer(redis, store.keys),
    pino({ level: 'silent' }),
  );
  scheduler = new Scheduler(queueRedis, prefix, store, config);
});
afterEach(async () => {
  await scheduler.close();
  await deleteKeysWithPrefix(prefix);
});

const config = {
  reminders: { intervalMs: 4 * HOUR, quietHours: unwrap(parseQuietHours('20:00-08:00')) },
};

function unwrap<T>(result: { ok: true; value: T } | { ok: false }): T {
  if (!result.ok) throw new Error('fixture did not parse');
  return result.value;
}

/** A release due at `windowAt`, its header posted, with the notes owned by the New York owner. */
async function releaseDueAt(windowAt: number): Promise<PhaseReminderJob> {
  const { releaseId } = await store.startRelease({
    teamId: TEAM,
    channelId: CHANNEL,
    version: 'v1.0',
    env: 'production',
    template,
    userId: BERLIN_OWNER,
    window: { at: windowAt, zone: 'Europe/Berlin' },
    requestId: `start-${windowAt}`,
  });
  await store.assignOwners({
    teamId: TEAM,
    releaseId,
    userId: BERLIN_OWNER,
    owners: [{ itemId: 'notes', ownerId: NEW_YORK_OWNER }],
    requestId: 'assign',
  });
  const { ts } = await outbound.postMessage(TEAM, { channel: CHANNEL, text: 'Release v1.0', blocks: [] });
  await store.messages.saveRef(TEAM, releaseId, 'header', { ts, hash: 'h' });
  return { kind: 'phase-reminder', teamId: TEAM, releaseId, phaseIndex: 0, windowAt, series: 0, seq: 0 };
}

function deps() {
  return { store, outbound, scheduler, config, log: pino({ level: 'silent' }) };
}

/** How many reminder messages Slack holds: in the release thread, and in each owner's DM. */
function expectPosted(counts: { thread: number; berlinDms: number; newYorkDms: number }) {
  expect(standIn.messages(CHANNEL).filter((message) => message.thread_ts)).toHaveLength(counts.thread);
  expect(standIn.messages(`D${BERLIN_OWNER.slice(1)}`)).toHaveLength(counts.berlinDms);
  expect(standIn.messages(`D${NEW_YORK_OWNER.slice(1)}`)).toHaveLength(counts.newYorkDms);
}

async function remindersSent(job: PhaseReminderJob) {
  return (await store.readAudit(TEAM, job.releaseId)).filter((event) => event.type === 'reminder_sent');
}

async function ownerReminderAt(job: PhaseReminderJob, userId: string, at: number) {
  const id = scheduledJobId({ ...job, kind: 'owner-reminder', userId, at });
  return scheduler.queue.getJob(id);
}

describe('a reminder round at 23:00 in Berlin', () => {
  it.each([
    // The night spring forward: 23:00 CET is 22:00Z; 08:00 CEST the next morning is 06:00Z.
    { night: 'before summer time', now: Date.UTC(2026, 2, 28, 22), morning: Date.UTC(2026, 2, 29, 6) },
    // The night clocks go back: 23:00 CEST is 21:00Z; 08:00 CET the next morning is 07:00Z.
    { night: 'before winter time', now: Date.UTC(2026, 9, 24, 21), morning: Date.UTC(2026, 9, 25, 7) },
  ])('$night: reminds New York now and Berlin at 08:00 Berlin time', async ({ now, morning }) => {
    const job = await releaseDueAt(now - HOUR);
    await runPhaseReminder(deps(), job, now);

    const thread = standIn.messages(CHANNEL).filter((message) => message.thread_ts);
    expect(thread).toHaveLength(1);
    const threadText = JSON.stringify(thread[0]!.blocks);
    expect(threadText).toContain(`<@${NEW_YORK_OWNER}>`);
    expect(threadText).toContain('Release notes written');
    expect(threadText).not.toContain(`<@${BERLIN_OWNER}>`);
    // Berlin's item still counts, and the thread says why it waits (without pinging them).
    expect(thread[0]!.text).toMatch(/, 2 required items are open$/);
    expect(threadText).toContain(`🌙 Quiet hours until <!date^${morning / 1000}^`);
    expect(threadText).toContain('Backup taken');
    expect(standIn.messages(`D${NEW_YORK_OWNER.slice(1)}`)).toHaveLength(1);
    expect(standIn.messages(`D${BERLIN_OWNER.slice(1)}`)).toHaveLength(0);

    const deferred = await ownerReminderAt(job, BERLIN_OWNER, morning);
    expect(deferred?.data).toMatchObject({ kind: 'owner-reminder', userId: BERLIN_OWNER, at: morning });
    const nextRound = await scheduler.queue.getJob(scheduledJobId({ ...job, seq: 1 }));
    expect(nextRound?.data).toMatchObject({ seq: 1 });

    const audit = await store.readAudit(TEAM, job.releaseId);
    expect(audit.filter((event) => event.type === 'reminder_sent').map((event) => event.recipient)).toEqual([
      NEW_YORK_OWNER,
    ]);
  });

  it('runs again without posting twice (a retried job)', async () => {
    const now = Date.UTC(2026, 5, 10, 12); // 14:00 in Berlin, 08:00 in New York: both awake
    const job = await releaseDueAt(now - HOUR);
    await runPhaseReminder(deps(), job, now);
    await runPhaseReminder(deps(), job, now);
    expectPosted({ thread: 1, berlinDms: 1, newYorkDms: 1 });
    const sent = await remindersSent(job);
    expect(sent.map((event) => event.recipient).sort()).toEqual([BERLIN_OWNER, NEW_YORK_OWNER]);
  });

  it('records each DM with the release once, and asks for the sync that keeps them true', async () => {
    const now = Date.UTC(2026, 5, 10, 12);
    const job = await releaseDueAt(now - HOUR);
    const syncsAsked: string[] = [];
    const relay = {
      requestSync: async (_teamId: string, releaseId: string) => void syncsAsked.push(releaseId),
    };
    await runPhaseReminder({ ...deps(), relay }, job, now);
    await runPhaseReminder({ ...deps(), relay }, job, now);

    const { directMessages } = await store.messages.get(TEAM, job.releaseId);
    const recorded = [...directMessages.values()].sort((a, b) => a.userId.localeCompare(b.userId));
    const postedTo = (userId: string) => standIn.messages(`D${userId.slice(1)}`)[0]!.ts;
    expect(recorded).toEqual([
      {
        kind: 'reminder',
        userId: BERLIN_OWNER,
        phaseIndex: 0,
        ts: postedTo(BERLIN_OWNER),
        hash: expect.any(String),
      },
      {
        kind: 'reminder',
        userId: NEW_YORK_OWNER,
        phaseIndex: 0,
        ts: postedTo(NEW_YORK_OWNER),
        hash: expect.any(String),
      },
    ]);
    // The retried job posted nothing more, and asked again: the sync is safe to repeat.
    expect(syncsAsked).toEqual([job.releaseId, job.releaseId]);
  });

  it('still sends the DMs when the thread post fails, and the retry posts only the thread', async () => {
    const now = Date.UTC(2026, 5, 10, 12);
    const job = await releaseDueAt(now - HOUR);
    standIn.misbehave('chat.postMessage', { kind: 'error', error: 'not_in_channel' }, 1, {
      channel: CHANNEL,
    });
    await expect(runPhaseReminder(deps(), job, now)).rejects.toMatchObject({ slackError: 'not_in_channel' });
    expectPosted({ thread: 0, berlinDms: 1, newYorkDms: 1 });
    // No round is planned by a failed one: its retry plans it.
    expect(await scheduler.queue.getJob(scheduledJobId({ ...job, seq: 1 }))).toBeUndefined();

    await runPhaseReminder(deps(), job, now);
    expectPosted({ thread: 1, berlinDms: 1, newYorkDms: 1 });
    const sent = await remindersSent(job);
    expect(sent).toHaveLength(2);
    expect(await scheduler.queue.getJob(scheduledJobId({ ...job, seq: 1 }))).toBeDefined();
  });

  it('leaves a snoozed owner out and plans their reminder for the snooze’s end', async () => {
    const now = Date.UTC(2026, 5, 10, 12);
    const job = await releaseDueAt(now - HOUR);
    // The snooze is stored with the time it ends; its end here is after `now` whatever the clock says.
    const until = Date.now() + HOUR;
    await store.snoozeReminders({
      teamId: TEAM,
      releaseId: job.releaseId,
      phaseIndex: 0,
      userId: BERLIN_OWNER,
      until,
      requestId: 'snooze',
    });
    await runPhaseReminder(deps(), job, now);
    expect(standIn.messages(`D${BERLIN_OWNER.slice(1)}`)).toHaveLength(0);
    expect(standIn.messages(`D${NEW_YORK_OWNER.slice(1)}`)).toHaveLength(1);
    expect((await ownerReminderAt(job, BERLIN_OWNER, until))?.data).toMatchObject({ at: until });
  });
});
