import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findAttempt, withAttemptNumbers } from '../../src/app/find-release.js';
import type { Template } from '../../src/domain/template.js';
import { createKeys } from '../../src/store/keys.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

// Attempt numbers as create-release-8.lua records them, and as releases started before that get theirs.

const TEAM = 'T0001';
const template: Template = {
  id: 'one',
  name: 'One phase',
  phases: [{ id: 'ship', name: 'Ship', items: [{ id: 's1', text: 'Ship it', required: true }] }],
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

function freshStore(): ReleaseStore {
  prefix = createTestPrefix('attempts');
  store = new ReleaseStore(redis, prefix);
  return store;
}

async function start(env: string): Promise<string> {
  const result = await store.startRelease({
    teamId: TEAM,
    channelId: 'C0DEPLOY',
    version: 'v5.0',
    env,
    template,
    userId: 'U0ALICE',
    requestId: `start-${Math.random()}`,
  });
  if (result.kind !== 'created') throw new Error(`expected a new release, got ${result.kind}`);
  return result.releaseId;
}

async function cancel(releaseId: string): Promise<void> {
  await store.cancelRelease({
    teamId: TEAM,
    releaseId,
    userId: 'U0ALICE',
    reason: 'again',
    requestId: releaseId,
  });
}

async function attemptOf(releaseId: string): Promise<number | undefined> {
  return (await store.getRelease(TEAM, releaseId))?.attempt;
}

describe('attempt numbers', () => {
  it('are recorded at the start, counted per environment', async () => {
    freshStore();
    const first = await start('production');
    const staging = await start('staging');
    await cancel(first);
    const second = await start('production');

    expect([await attemptOf(first), await attemptOf(staging), await attemptOf(second)]).toEqual([1, 1, 2]);
  });

  it('count on from releases started before numbers were recorded, which get theirs by start order', async () => {
    freshStore();
    const keys = createKeys(prefix);
    const first = await start('production');
    await cancel(first);
    const second = await start('production');
    await cancel(second);
    for (const id of [first, second]) await redis.hdel(keys.releaseMeta(TEAM, id), 'attempt');
    const third = await start('production');

    expect(await attemptOf(first)).toBeUndefined();
    expect(await attemptOf(third)).toBe(3);
    const listed = await withAttemptNumbers(store, TEAM, await store.listRecent(TEAM, 10));
    expect(listed.map((release) => [release.id, release.attempt])).toEqual([
      [third, 3],
      [second, 2],
      [first, 1],
    ]);
    const found = await findAttempt(store, TEAM, 'v5.0', undefined, 1);
    expect(found.ok && found.value.id).toBe(first);
    const newest = await findAttempt(store, TEAM, 'v5.0', 'production', undefined);
    expect(newest.ok && newest.value.id).toBe(third);
  });

  it('refuses a number that does not exist with the attempts that do', async () => {
    freshStore();
    const first = await start('production');
    await cancel(first);
    await start('production');
    await start('staging');

    expect(await findAttempt(store, TEAM, 'v5.0', 'production', 3)).toEqual({
      ok: false,
      error: {
        code: 'attempt_not_found',
        version: 'v5.0',
        env: 'production',
        attempt: 3,
        attempts: [
          { attempt: 1, status: 'cancelled' },
          { attempt: 2, status: 'active' },
        ],
      },
    });
    expect(await findAttempt(store, TEAM, 'v4.0', undefined, 1)).toMatchObject({
      ok: false,
      error: { code: 'release_not_found' },
    });
  });
});
