import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Template } from '../../src/domain/template.js';
import type { PendingClick } from '../../src/store/click-store.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

// Clicks between being read and being committed: the commit takes its click out whatever it decides;
// a click left behind is claimed as lost once, and a commit that comes after the claim changes nothing.

const TEAM = 'T0001';
const template: Template = {
  id: 'one',
  name: 'One phase',
  phases: [{ id: 'plan', name: 'Plan', items: [{ id: 'p1', text: 'Plan one', required: true }] }],
};

let redis: Redis;
let store: ReleaseStore;
let prefix: string;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

async function startRelease(): Promise<string> {
  prefix = createTestPrefix('clicks');
  store = new ReleaseStore(redis, prefix);
  const started = await store.startRelease({
    teamId: TEAM,
    channelId: 'C0DEPLOY',
    version: 'v1.0',
    env: 'staging',
    template,
    userId: 'U0ALICE',
    requestId: 'start-1',
  });
  if (started.kind !== 'created') throw new Error(`not started: ${started.kind}`);
  return started.releaseId;
}

function click(releaseId: string, clickId: string, at: number): PendingClick {
  return {
    clickId,
    teamId: TEAM,
    releaseId,
    itemId: 'p1',
    userId: 'U0BOB',
    done: true,
    at,
    replyUrl: 'https://hooks.slack.com/actions/T0001/1/abc',
  };
}

const commit = (releaseId: string, requestId: string) =>
  store.setItem({ teamId: TEAM, releaseId, itemId: 'p1', done: true, userId: 'U0BOB', requestId });

describe('pending clicks', () => {
  it('a committed click is no longer pending, whatever the commit decided', async () => {
    const releaseId = await startRelease();
    await store.clicks.note(click(releaseId, 'c1', 1000));
    await store.clicks.note(click(releaseId, 'c2', 1000));
    expect((await commit(releaseId, 'c1')).kind).toBe('applied');
    // The first completed the release: the second is refused, and no longer pending either.
    expect((await commit(releaseId, 'c2')).kind).toBe('closed');
    expect(await store.clicks.claimLost(TEAM, Date.now(), 10)).toEqual([]);
    expect(await redis.zcard(store.keys.pendingClicks(TEAM))).toBe(0);
    expect(await redis.hlen(store.keys.pendingClickDetails(TEAM))).toBe(0);
  });

  it('claims a click read before the cut-off and never committed, and fences out its late commit', async () => {
    const releaseId = await startRelease();
    await store.clicks.note(click(releaseId, 'old', 1000));
    await store.clicks.note(click(releaseId, 'recent', 5000));
    const lost = await store.clicks.claimLost(TEAM, 2000, 10);
    expect(lost).toEqual([click(releaseId, 'old', 1000)]);
    // Until forgotten, the next claim returns it again: a claimer that died leaves it to another.
    expect((await store.clicks.claimLost(TEAM, 2000, 10)).map((found) => found.clickId)).toEqual(['old']);
    await store.clicks.forget(TEAM, 'old');
    expect(await store.clicks.claimLost(TEAM, 2000, 10)).toEqual([]);
    // The lost commit arriving now is a replay: nothing changes, no event.
    expect((await commit(releaseId, 'old')).kind).toBe('replayed');
    expect((await store.getRelease(TEAM, releaseId))!.items.p1?.done ?? false).toBe(false);
    // The recent one is still being worked on, and commits as usual.
    expect((await commit(releaseId, 'recent')).kind).toBe('applied');
    expect(await redis.zcard(store.keys.pendingClicks(TEAM))).toBe(0);
  });

  it('forgets a click committed after all without claiming it', async () => {
    const releaseId = await startRelease();
    await store.clicks.note(click(releaseId, 'c1', 1000));
    // The commit's own marker exists, but the click was noted again (a retry read it once more).
    expect((await commit(releaseId, 'c1')).kind).toBe('applied');
    await store.clicks.note(click(releaseId, 'c1', 1000));
    expect(await store.clicks.claimLost(TEAM, 2000, 10)).toEqual([]);
    expect(await redis.zcard(store.keys.pendingClicks(TEAM))).toBe(0);
  });

  it('drops a pending entry that cannot be read instead of returning it every round', async () => {
    const releaseId = await startRelease();
    await store.clicks.note(click(releaseId, 'good', 1000));
    await redis.zadd(store.keys.pendingClicks(TEAM), 1000, 'broken');
    await redis.hset(store.keys.pendingClickDetails(TEAM), 'broken', '{not json');
    expect((await store.clicks.claimLost(TEAM, 2000, 10)).map((found) => found.clickId)).toEqual(['good']);
    expect(await redis.zscore(store.keys.pendingClicks(TEAM), 'broken')).toBeNull();
  });
});
