import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnnouncementEvent, Template } from '../../src/domain/template.js';
import { parseQuietHours } from '../../src/domain/time.js';
import { type AnnouncementDeps, announcementKey, runAnnouncement } from '../../src/jobs/announcements.js';
import { type AnnounceJob, Scheduler, scheduledJobId } from '../../src/queues/scheduler.js';
import { deliverOnce } from '../../src/slack-api/delivery.js';
import { SlackOutbound, SlackPlatformError } from '../../src/slack-api/outbound.js';
import { Pacer } from '../../src/store/pacer.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { SlackStandIn } from '../support/slack-stand-in.js';

// Stakeholder announcements (src/jobs/announcements.ts) against real Redis and the Slack stand-in:
// every stakeholder channel hears about an event exactly once, whatever fails and is retried.

const TEAM = 'T0001';
const CHANNEL = 'C0DEPLOY';
const STAKE_1 = 'C0STAKE1';
const STAKE_2 = 'C0STAKE2';
const STARTER = 'U0ALICE';

const template: Template = {
  id: 'tiny',
  name: 'Tiny',
  phases: [
    {
      id: 'deploy',
      name: 'Deploy',
      deployment: true,
      items: [{ id: 'd1', text: 'Deploy', required: true }],
    },
  ],
};

let standIn: SlackStandIn;
let redis: Redis;
let prefix: string;
let store: ReleaseStore;
let outbound: SlackOutbound;
let logLines: Record<string, unknown>[];
let releaseId: string;
let permalink: string;

beforeAll(async () => {
  standIn = await SlackStandIn.start();
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await standIn.stop();
  await redis.quit();
});
beforeEach(async () => {
  standIn.reset();
  prefix = createTestPrefix('announcements');
  store = new ReleaseStore(redis, prefix);
  outbound = makeOutbound();
  logLines = [];
  const started = await store.startRelease({
    teamId: TEAM,
    channelId: CHANNEL,
    version: 'v2.3',
    env: 'production',
    template,
    userId: STARTER,
    checkinPlanMs: [1000],
    notes: 'New <b>invoice</b> layout & faster checkout',
    downtime: 'about 5 minutes',
    stakeholderChannels: [STAKE_1, STAKE_2],
    requestId: 'start',
  });
  releaseId = started.releaseId;
  // The release header, whose permalink the announcements link to.
  const { ts } = await outbound.postMessage(TEAM, { channel: CHANNEL, text: 'Release v2.3', blocks: [] });
  await store.messages.saveRef(TEAM, releaseId, 'header', { ts, hash: 'h' });
  permalink = await outbound.getPermalink(CHANNEL, ts);
  await store.messages.savePermalink(TEAM, releaseId, permalink);
  standIn.reset();
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

function makeOutbound(maxAttempts?: number): SlackOutbound {
  return new SlackOutbound(
    {
      token: 'xoxb-test-token',
      apiUrl: standIn.apiUrl,
      postIntervalMs: 0,
      updateIntervalMs: 0,
      ...(maxAttempts ? { maxAttempts } : {}),
    },
    new Pacer(redis, store.keys),
    pino({ level: 'silent' }),
  );
}

function deps(client = outbound): AnnouncementDeps {
  const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
  return { store, outbound: client, log };
}

function job(event: AnnouncementEvent, occurrence = 0, id = releaseId): AnnounceJob {
  return { kind: 'announce', teamId: TEAM, releaseId: id, event, occurrence };
}

const logged = (msg: string) => logLines.filter((line) => line.msg === msg);

describe('runAnnouncement', () => {
  it('posts to every stakeholder channel once, however often it runs', async () => {
    await runAnnouncement(deps(), job('started'));
    await runAnnouncement(deps(), job('started'));

    for (const channel of [STAKE_1, STAKE_2]) {
      const messages = standIn.messages(channel);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.text).toBe('v2.3 is being deployed to production');
      expect(messages[0]!.thread_ts).toBeUndefined();
      expect(messages[0]!.metadata?.event_payload).toEqual({ key: announcementKey(job('started'), channel) });
      const blocks = JSON.stringify(messages[0]!.blocks);
      expect(blocks).toContain('v2.3');
      expect(blocks).toContain('about 5 minutes');
      expect(blocks).toContain('New &lt;b&gt;invoice&lt;/b&gt; layout &amp; faster checkout');
      expect(blocks).toContain(`<${permalink}|View the release thread>`);
    }
    expect(standIn.callsTo('chat.postMessage')).toHaveLength(2);
    expect(standIn.messages(CHANNEL)).toHaveLength(0);
    expect(logged('announcement posted').map((line) => [line.channel, line.posted])).toEqual([
      [STAKE_1, true],
      [STAKE_2, true],
      [STAKE_1, false],
      [STAKE_2, false],
    ]);
    expect(logged('announcement posted').every((line) => line.event === 'started')).toBe(true);
  });

  it('announces different events (and their occurrences) separately', async () => {
    await runAnnouncement(deps(), job('scheduled'));
    await runAnnouncement(deps(), job('started'));
    expect(standIn.messages(STAKE_1).map((message) => message.text)).toEqual([
      'v2.3 is scheduled for production',
      'v2.3 is being deployed to production',
    ]);
    expect(standIn.messages(STAKE_2)).toHaveLength(2);
  });

  it('posts an earlier event first when its own job is late, and that job then posts nothing', async () => {
    // One click deploys and completes the release: two jobs, in this order.
    await store.messages.noteAnnouncement(TEAM, releaseId, 'deployed', 0);
    await store.messages.noteAnnouncement(TEAM, releaseId, 'completed', 0);
    await runAnnouncement(deps(), job('completed'));
    for (const channel of [STAKE_1, STAKE_2]) {
      expect(standIn.messages(channel).map((message) => message.text)).toEqual([
        'v2.3 is live in production',
        'v2.3 on production is complete',
      ]);
    }
    await runAnnouncement(deps(), job('deployed'));
    expect(standIn.callsTo('chat.postMessage')).toHaveLength(4);
    expect(logged('announcement posted').filter((line) => line.posted === false)).toHaveLength(2);
  });

  it('holds the later events of a channel back while an earlier one fails there', async () => {
    await store.messages.noteAnnouncement(TEAM, releaseId, 'deployed', 0);
    await store.messages.noteAnnouncement(TEAM, releaseId, 'completed', 0);
    standIn.misbehave('chat.postMessage', { kind: 'error', error: 'fatal_error' }, 1, { channel: STAKE_1 });
    await expect(runAnnouncement(deps(), job('completed'))).rejects.toBeInstanceOf(SlackPlatformError);
    expect(standIn.messages(STAKE_1)).toHaveLength(0);
    expect(standIn.messages(STAKE_2)).toHaveLength(2);

    await runAnnouncement(deps(), job('completed'));
    expect(standIn.messages(STAKE_1).map((message) => message.text)).toEqual([
      'v2.3 is live in production',
      'v2.3 on production is complete',
    ]);
    expect(standIn.messages(STAKE_2)).toHaveLength(2);
  });

  it('keeps an event’s first place when it is noted again, and posts none of the later ones', async () => {
    await store.messages.noteAnnouncement(TEAM, releaseId, 'started', 0);
    await store.messages.noteAnnouncement(TEAM, releaseId, 'deployed', 0);
    await store.messages.noteAnnouncement(TEAM, releaseId, 'started', 0);
    const { announcements } = await store.messages.get(TEAM, releaseId);
    expect(announcements.map((noted) => noted.event)).toEqual(['started', 'deployed']);

    await runAnnouncement(deps(), job('started'));
    expect(standIn.messages(STAKE_1).map((message) => message.text)).toEqual([
      'v2.3 is being deployed to production',
    ]);
  });

  it('is noted in order by the scheduler as each event is announced', async () => {
    const queueRedis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const quietHours = parseQuietHours('20:00-08:00');
    if (!quietHours.ok) throw new Error('fixture did not parse');
    const scheduler = new Scheduler(queueRedis, prefix, store, {
      reminders: { intervalMs: 3_600_000, quietHours: quietHours.value },
    });
    try {
      const release = (await store.getRelease(TEAM, releaseId))!;
      await scheduler.announce(release, 'started');
      await scheduler.announce(release, 'deployed');
      await scheduler.announce(release, 'started');
      const { announcements } = await store.messages.get(TEAM, releaseId);
      expect(announcements.map((noted) => `${noted.event}|${noted.occurrence}`)).toEqual([
        'started|0',
        'deployed|0',
      ]);
      expect(await scheduler.queue.getJob(scheduledJobId(job('deployed')))).toBeDefined();
    } finally {
      await scheduler.close();
      await queueRedis.quit();
    }
  });

  it('adds nothing to the audit trail', async () => {
    const before = await store.readAudit(TEAM, releaseId);
    await runAnnouncement(deps(), job('started'));
    expect(await store.readAudit(TEAM, releaseId)).toEqual(before);
  });

  it('leaves a post that got a 5xx to the next run, which looks in Slack before posting again', async () => {
    // Slack may have posted it: the client does not send it again blindly.
    standIn.misbehave('chat.postMessage', { kind: 'server_error' }, 1, { channel: STAKE_1 });
    await expect(runAnnouncement(deps(), job('started'))).rejects.toThrow();
    expect(standIn.messages(STAKE_1)).toHaveLength(0);
    expect(standIn.messages(STAKE_2)).toHaveLength(1);

    await runAnnouncement(deps(), job('started'));
    expect(standIn.callsTo('conversations.history')).toHaveLength(1);
    expect(standIn.messages(STAKE_1)).toHaveLength(1);
    expect(standIn.messages(STAKE_2)).toHaveLength(1);
  });

  it('finds a post whose answer was lost instead of posting it twice', async () => {
    standIn.misbehave('chat.postMessage', { kind: 'server_error_after_applying' }, 1, { channel: STAKE_1 });
    await expect(runAnnouncement(deps(), job('deployed'))).rejects.toThrow();
    expect(standIn.messages(STAKE_1)).toHaveLength(1);

    await runAnnouncement(deps(), job('deployed'));
    expect(standIn.messages(STAKE_1)).toHaveLength(1);
    expect(standIn.messages(STAKE_2)).toHaveLength(1);
    expect(standIn.messages(STAKE_1)[0]!.text).toBe('v2.3 is live in production');
  });

  it('retries a rate-limited post inside the Slack client', async () => {
    standIn.misbehave('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 0 }, 1);
    await runAnnouncement(deps(), job('started'));
    expect(standIn.messages(STAKE_1)).toHaveLength(1);
    expect(standIn.messages(STAKE_2)).toHaveLength(1);
  });

  it('rethrows a Slack error that a retry may fix, after the other channels were tried', async () => {
    standIn.misbehave('chat.postMessage', { kind: 'error', error: 'fatal_error' }, 1);
    const failure = await runAnnouncement(deps(), job('started')).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(SlackPlatformError);
    expect((failure as SlackPlatformError).slackError).toBe('fatal_error');
    expect(standIn.messages(STAKE_2)).toHaveLength(1);

    await runAnnouncement(deps(), job('started'));
    expect(standIn.messages(STAKE_1)).toHaveLength(1);
    expect(standIn.messages(STAKE_2)).toHaveLength(1);
  });

  it('skips a channel it cannot post in, with a warning, and goes on with the others', async () => {
    standIn.misbehave('chat.postMessage', { kind: 'error', error: 'channel_not_found' }, 1);
    await runAnnouncement(deps(), job('started'));

    expect(standIn.messages(STAKE_1)).toHaveLength(0);
    expect(standIn.messages(STAKE_2)).toHaveLength(1);
    const warning = logLines.find((line) => line.channel === STAKE_1 && line.level === 40);
    expect(warning).toMatchObject({ slackError: 'channel_not_found', event: 'started' });
  });

  it('drops the job when the release is gone', async () => {
    await runAnnouncement(deps(), job('started', 0, 'r999'));
    expect(standIn.callsTo('chat.postMessage')).toHaveLength(0);
    expect(logged('announcement dropped')[0]).toMatchObject({ reason: 'release gone' });
  });

  it('posts nothing for an issue the release does not have', async () => {
    await runAnnouncement(deps(), job('issue_found', 7));
    expect(standIn.callsTo('chat.postMessage')).toHaveLength(0);
    expect(logged('announcement dropped')[0]).toMatchObject({ reason: 'no such issue' });
  });

  it('announces an issue found at a check-in', async () => {
    const ticked = await store.setItem({
      teamId: TEAM,
      releaseId,
      itemId: 'd1',
      done: true,
      userId: STARTER,
      requestId: 'tick',
    });
    expect(ticked).toMatchObject({ kind: 'applied', deployed: true });
    // The check-in is posted in the release thread, as runCheckin does it.
    await deliverOnce(
      { store, outbound },
      {
        teamId: TEAM,
        releaseId,
        key: `checkin-${releaseId}-k0`,
        channel: CHANNEL,
        message: { text: 'Is it healthy?', blocks: [] },
        record: { hash: 'meta', field: 'checkin:0', patch: { postedAt: Date.now() } },
      },
    );
    const answered = await store.answerCheckin({
      teamId: TEAM,
      releaseId,
      checkinIndex: 0,
      answer: 'issue',
      userId: 'U0BOB',
      note: 'Invoices <!here> render blank',
      severity: 'critical',
      requestId: 'answer',
    });
    expect(answered).toMatchObject({ kind: 'applied', issueId: 1 });

    await runAnnouncement(deps(), job('issue_found', 1));
    await runAnnouncement(deps(), job('issue_found', 1));
    for (const channel of [STAKE_1, STAKE_2]) {
      const messages = standIn.messages(channel);
      expect(messages).toHaveLength(1);
      const blocks = JSON.stringify(messages[0]!.blocks);
      expect(blocks).toContain('Invoices &lt;!here&gt; render blank (critical)');
      expect(blocks).not.toContain('<!here>');
    }
  });
});
