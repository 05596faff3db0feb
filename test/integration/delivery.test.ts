import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Template } from '../../src/domain/template.js';
import {
  DELIVERY_EVENT_TYPE,
  type Delivery,
  deliverOnce,
  directMessageTarget,
  RetryLaterError,
} from '../../src/slack-api/delivery.js';
import { SlackOutbound } from '../../src/slack-api/outbound.js';
import { Pacer } from '../../src/store/pacer.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { SlackStandIn } from '../support/slack-stand-in.js';

// Exactly-once posting (src/slack-api/delivery.ts) against real Redis and the Slack stand-in.

const TEAM = 'T0001';
const CHANNEL = 'C0DEPLOY';
/** When the attempts in these tests begin: a little before now, as a worker that died a moment ago. */
const ATTEMPT_AT = Date.now() - 1000;

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
let releaseId: string;
let keyCounter = 0;

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
  prefix = createTestPrefix('delivery');
  store = new ReleaseStore(redis, prefix);
  outbound = new SlackOutbound(
    { token: 'xoxb-test-token', apiUrl: standIn.apiUrl, postIntervalMs: 0, updateIntervalMs: 0 },
    new Pacer(redis, store.keys),
    pino({ level: 'silent' }),
  );
  const started = await store.startRelease({
    teamId: TEAM,
    channelId: CHANNEL,
    version: 'v1.0',
    env: 'production',
    template,
    userId: 'U0ALICE',
    checkinPlanMs: [1000],
    requestId: 'start',
  });
  releaseId = started.releaseId;
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

function nextKey(label = 'msg'): string {
  return `${label}-${releaseId}-${++keyCounter}`;
}

function delivery(key: string, overrides: Partial<Delivery> = {}): Delivery {
  return {
    teamId: TEAM,
    releaseId,
    key,
    channel: CHANNEL,
    message: { text: `Message ${key}`, blocks: [] },
    audit: [{ type: 'checkin_posted', user: 'shipcheck', from: 'planned', to: 'posted', checkin: 0 }],
    ...overrides,
  };
}

/** A worker began the delivery at ATTEMPT_AT and died: its attempt stays noted, its lease has run out. */
async function deadWorkerBegan(key: string): Promise<void> {
  expect(await store.deliveries.begin(TEAM, key, 'dead-worker', 1, ATTEMPT_AT)).toEqual({ state: 'go' });
  await new Promise((resolve) => setTimeout(resolve, 5));
}

const metadataFor = (key: string) => ({ event_type: DELIVERY_EVENT_TYPE, event_payload: { key } });

/** A top-level message to hang a thread on, like the release header. */
async function postHeader(): Promise<string> {
  const { ts } = await outbound.postMessage(TEAM, { channel: CHANNEL, text: 'Release v1.0', blocks: [] });
  return ts;
}

async function postedAuditEvents() {
  return (await store.readAudit(TEAM, releaseId)).filter((event) => event.type === 'checkin_posted');
}

describe('deliverOnce', () => {
  it('posts once; a second call answers with the same ts and posts nothing', async () => {
    const key = nextKey();
    const first = await deliverOnce({ store, outbound }, delivery(key));
    expect(first.posted).toBe(true);
    expect(standIn.callsTo('chat.postMessage')).toHaveLength(1);
    expect(standIn.message(CHANNEL, first.ts)).toMatchObject({ text: `Message ${key}` });
    expect(await store.deliveries.doneTs(TEAM, key)).toBe(first.ts);

    const second = await deliverOnce({ store, outbound }, delivery(key));
    expect(second).toEqual({ ts: first.ts, posted: false });
    expect(standIn.callsTo('chat.postMessage')).toHaveLength(1);
    expect(standIn.messages(CHANNEL)).toHaveLength(1);
    expect(await postedAuditEvents()).toHaveLength(1);
    // The lease is given back.
    expect(await redis.exists(store.keys.deliveryLease(TEAM, key))).toBe(0);
  });

  it('marks the posted message with the delivery key in its metadata', async () => {
    const key = nextKey();
    const { ts } = await deliverOnce({ store, outbound }, delivery(key));
    expect(standIn.message(CHANNEL, ts)?.metadata).toEqual({
      event_type: 'shipcheck_delivery',
      event_payload: { key },
    });
  });

  it('records what the message means with its ts, and its audit events', async () => {
    const threadTs = await postHeader();
    const key = nextKey('checkin');
    const { ts, posted } = await deliverOnce(
      { store, outbound },
      delivery(key, {
        threadTs,
        record: { hash: 'meta', field: 'checkin:0', patch: { postedAt: ATTEMPT_AT } },
      }),
    );
    expect(posted).toBe(true);
    expect(standIn.message(CHANNEL, ts)).toMatchObject({ thread_ts: threadTs });
    const release = (await store.getRelease(TEAM, releaseId))!;
    expect(release.checkins).toEqual([{ index: 0, postedAt: ATTEMPT_AT, ts }]);
    expect(await postedAuditEvents()).toEqual([
      expect.objectContaining({ user: 'shipcheck', from: 'planned', to: 'posted', checkinIndex: 0 }),
    ]);
  });

  describe('after a worker died', () => {
    it('finds a reply posted before the worker could record it, and records it without posting again', async () => {
      const threadTs = await postHeader();
      const key = nextKey('checkin');
      // The dead worker noted its attempt and posted, then died before the commit.
      await deadWorkerBegan(key);
      const { ts: orphan } = await outbound.postMessage(TEAM, {
        channel: CHANNEL,
        threadTs,
        text: 'Is it healthy?',
        blocks: [],
        metadata: metadataFor(key),
      });
      // Another delivery's message in the same thread is not it.
      await outbound.postMessage(TEAM, {
        channel: CHANNEL,
        threadTs,
        text: 'Something else',
        blocks: [],
        metadata: metadataFor(`${key}-other`),
      });
      const postsBefore = standIn.callsTo('chat.postMessage').length;

      const result = await deliverOnce(
        { store, outbound },
        delivery(key, { threadTs, record: { hash: 'meta', field: 'checkin:0', patch: { postedAt: 1 } } }),
        ATTEMPT_AT + 60_000,
      );
      expect(result).toEqual({ ts: orphan, posted: false });
      expect(standIn.callsTo('chat.postMessage')).toHaveLength(postsBefore);
      const lookups = standIn.callsTo('conversations.replies');
      expect(lookups).toHaveLength(1);
      expect(lookups[0]!.args).toMatchObject({ channel: CHANNEL, ts: threadTs });
      expect(standIn.callsTo('conversations.history')).toHaveLength(0);
      expect(await store.deliveries.doneTs(TEAM, key)).toBe(orphan);
      expect((await store.getRelease(TEAM, releaseId))!.checkins[0]).toMatchObject({ ts: orphan });
      expect(await postedAuditEvents()).toHaveLength(1);

      // Done now: another retry neither looks nor posts.
      expect(await deliverOnce({ store, outbound }, delivery(key, { threadTs }))).toEqual({
        ts: orphan,
        posted: false,
      });
      expect(standIn.callsTo('conversations.replies')).toHaveLength(1);
      expect(standIn.callsTo('chat.postMessage')).toHaveLength(postsBefore);
      expect(await postedAuditEvents()).toHaveLength(1);
    });

    it('finds a top-level message through the channel history', async () => {
      const key = nextKey();
      await deadWorkerBegan(key);
      const { ts: orphan } = await outbound.postMessage(TEAM, {
        channel: CHANNEL,
        text: 'Reminder',
        blocks: [],
        metadata: metadataFor(key),
      });
      await postHeader();
      const postsBefore = standIn.callsTo('chat.postMessage').length;

      const result = await deliverOnce({ store, outbound }, delivery(key), ATTEMPT_AT + 60_000);
      expect(result).toEqual({ ts: orphan, posted: false });
      expect(standIn.callsTo('chat.postMessage')).toHaveLength(postsBefore);
      const lookups = standIn.callsTo('conversations.history');
      expect(lookups).toHaveLength(1);
      expect(lookups[0]!.args).toMatchObject({ channel: CHANNEL });
      expect(standIn.callsTo('conversations.replies')).toHaveLength(0);
      expect(await store.deliveries.doneTs(TEAM, key)).toBe(orphan);
      expect(await postedAuditEvents()).toHaveLength(1);
    });

    it('posts once when the worker died before posting', async () => {
      const threadTs = await postHeader();
      const key = nextKey();
      await deadWorkerBegan(key);

      const result = await deliverOnce({ store, outbound }, delivery(key, { threadTs }), ATTEMPT_AT + 60_000);
      expect(result.posted).toBe(true);
      expect(standIn.callsTo('conversations.replies')).toHaveLength(1);
      // The header, then this delivery.
      expect(standIn.callsTo('chat.postMessage')).toHaveLength(2);
      expect(standIn.message(CHANNEL, result.ts)).toMatchObject({
        thread_ts: threadTs,
        metadata: metadataFor(key),
      });
      expect(await store.deliveries.doneTs(TEAM, key)).toBe(result.ts);
      expect(await postedAuditEvents()).toHaveLength(1);
    });

    it('posts once at the top level when nothing is in the channel', async () => {
      const key = nextKey();
      await deadWorkerBegan(key);
      const result = await deliverOnce({ store, outbound }, delivery(key), ATTEMPT_AT + 60_000);
      expect(result.posted).toBe(true);
      expect(standIn.callsTo('conversations.history')).toHaveLength(1);
      expect(standIn.callsTo('chat.postMessage')).toHaveLength(1);
      expect(standIn.messages(CHANNEL)).toHaveLength(1);
    });
  });

  it('waits while another instance holds the delivery, posting nothing', async () => {
    const key = nextKey();
    expect(await store.deliveries.begin(TEAM, key, 'another-instance', 30_000, Date.now())).toEqual({
      state: 'go',
    });

    const attempt = deliverOnce({ store, outbound }, delivery(key));
    await expect(attempt).rejects.toBeInstanceOf(RetryLaterError);
    const error = (await attempt.catch((err: unknown) => err)) as RetryLaterError;
    expect(error.delayMs).toBeGreaterThan(0);
    expect(error.delayMs).toBeLessThanOrEqual(30_000);
    expect(standIn.callsTo('chat.postMessage')).toHaveLength(0);
    expect(await store.deliveries.doneTs(TEAM, key)).toBeUndefined();
    // The other holder keeps its lease.
    expect(await redis.get(store.keys.deliveryLease(TEAM, key))).toBe('another-instance');

    // Once it lets go, the delivery goes out.
    await store.deliveries.dropLease(TEAM, key, 'another-instance');
    expect((await deliverOnce({ store, outbound }, delivery(key))).posted).toBe(true);
    expect(standIn.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('keeps its hold while a slow post runs, past the lease period', async () => {
    const key = nextKey();
    standIn.misbehave('chat.postMessage', { kind: 'slow', delayMs: 700 }, 1);
    const attempt = deliverOnce({ store, outbound, leaseMs: 300 }, delivery(key));
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Another instance, past the first lease period, still finds the delivery held.
    expect(await store.deliveries.begin(TEAM, key, 'another-instance', 300, Date.now())).toMatchObject({
      state: 'busy',
    });
    expect((await attempt).posted).toBe(true);
    expect(standIn.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('renews only a lease it holds, and one not renewed lapses after its period', async () => {
    const key = nextKey();
    await store.deliveries.begin(TEAM, key, 'holder-a', 200, Date.now());
    expect(await store.deliveries.renewLease(TEAM, key, 'holder-b', 60_000)).toBe(false);
    expect(await redis.pttl(store.keys.deliveryLease(TEAM, key))).toBeLessThanOrEqual(200);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await store.deliveries.renewLease(TEAM, key, 'holder-a', 60_000)).toBe(false);
    expect(await store.deliveries.begin(TEAM, key, 'holder-b', 200, Date.now())).toMatchObject({
      state: 'go',
    });
  });

  it('does not drop a lease it does not hold', async () => {
    const key = nextKey();
    await store.deliveries.begin(TEAM, key, 'holder-a', 30_000, Date.now());
    await store.deliveries.dropLease(TEAM, key, 'holder-b');
    expect(await redis.get(store.keys.deliveryLease(TEAM, key))).toBe('holder-a');
    const again = await store.deliveries.begin(TEAM, key, 'holder-b', 30_000, Date.now());
    expect(again).toMatchObject({ state: 'busy' });
  });
});

describe('direct messages', () => {
  it('posts the first one to the user id, learns the DM id from the answer, and opens nothing', async () => {
    expect(await directMessageTarget({ store }, TEAM, 'U0BOB')).toBe('U0BOB');
    const first = await deliverOnce({ store, outbound }, delivery(nextKey('dm'), { channel: 'U0BOB' }));
    expect(first.posted).toBe(true);
    expect(standIn.callsTo('chat.postMessage')[0]!.args).toMatchObject({ channel: 'U0BOB' });
    expect(standIn.message('D0BOB', first.ts)).toBeDefined();
    expect(await store.deliveries.directMessageChannel(TEAM, 'U0BOB')).toBe('D0BOB');

    // The next one goes to the remembered conversation.
    const target = await directMessageTarget({ store }, TEAM, 'U0BOB');
    expect(target).toBe('D0BOB');
    const second = await deliverOnce({ store, outbound }, delivery(nextKey('dm'), { channel: target }));
    expect(standIn.callsTo('chat.postMessage')[1]!.args).toMatchObject({ channel: 'D0BOB' });
    expect(standIn.messages('D0BOB').map((message) => message.ts)).toEqual([first.ts, second.ts]);
    expect(standIn.callsTo('conversations.open')).toHaveLength(0);
  });

  it('opens the DM to look for a message a dead worker may have posted to the user id', async () => {
    const key = nextKey('dm');
    await deadWorkerBegan(key);
    const { ts: orphan } = await outbound.postMessage(TEAM, {
      channel: 'U0CAROL',
      text: 'Your open items',
      blocks: [],
      metadata: metadataFor(key),
    });
    const postsBefore = standIn.callsTo('chat.postMessage').length;

    const result = await deliverOnce(
      { store, outbound },
      delivery(key, { channel: 'U0CAROL' }),
      ATTEMPT_AT + 60_000,
    );
    expect(result).toEqual({ ts: orphan, posted: false });
    expect(standIn.callsTo('conversations.open').map((call) => call.args)).toEqual([
      expect.objectContaining({ users: 'U0CAROL' }),
    ]);
    expect(standIn.callsTo('conversations.history')[0]!.args).toMatchObject({ channel: 'D0CAROL' });
    expect(standIn.callsTo('chat.postMessage')).toHaveLength(postsBefore);
    expect(await store.deliveries.directMessageChannel(TEAM, 'U0CAROL')).toBe('D0CAROL');
  });
});
