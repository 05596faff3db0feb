import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Template } from '../../src/domain/template.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

// Asking to be told when an environment is free: only while a release holds it, checked and added
// in one script.

const TEAM = 'T0001';

const template: Template = {
  id: 'deploy',
  name: 'Deploy',
  phases: [
    { id: 'prepare', name: 'Prepare', items: [{ id: 'ready', text: 'Ready', required: true }] },
    {
      id: 'ship',
      name: 'Ship',
      deployment: true,
      items: [
        { id: 'started', text: 'Deployment started', required: true },
        { id: 'shipped', text: 'Shipped', required: true },
      ],
    },
  ],
};

let redis: Redis;
let prefix: string;
let store: ReleaseStore;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

let requestCounter = 0;
const requestId = () => `request-${++requestCounter}`;

/** Starts a release on staging and makes the first tick of its deployment phase, which takes the lock. */
async function deployToStaging(version: string): Promise<string> {
  const started = await store.startRelease({
    teamId: TEAM,
    channelId: 'C0DEPLOY',
    version,
    env: 'staging',
    template,
    userId: 'U0LEAD',
    requestId: requestId(),
  });
  if (started.kind !== 'created') throw new Error(`not started: ${started.kind}`);
  for (const itemId of ['ready', 'started']) {
    await store.setItem({
      teamId: TEAM,
      releaseId: started.releaseId,
      itemId,
      done: true,
      userId: 'U0LEAD',
      requestId: requestId(),
    });
  }
  return started.releaseId;
}

describe('waiting for an environment', () => {
  it('adds a waiter while a release holds the environment, and nobody once it is free', async () => {
    prefix = createTestPrefix('locks');
    store = new ReleaseStore(redis, prefix);
    const releaseId = await deployToStaging('v1.0');
    expect((await store.locks.list(TEAM)).map((lock) => lock.releaseId)).toEqual([releaseId]);

    expect(await store.locks.addWaiterWhileHeld(TEAM, 'staging', 'U0BOB')).toBe('added');
    expect(await store.locks.addWaiterWhileHeld(TEAM, 'staging', 'U0BOB')).toBe('already_waiting');
    expect(await store.locks.addWaiterWhileHeld(TEAM, 'production', 'U0BOB')).toBe('free');

    await store.cancelRelease({
      teamId: TEAM,
      releaseId,
      userId: 'U0LEAD',
      reason: 'wrong build',
      requestId: requestId(),
    });
    expect(await store.locks.addWaiterWhileHeld(TEAM, 'staging', 'U0CAROL')).toBe('free');
    expect(await store.locks.waiters(TEAM, 'staging')).toEqual(['U0BOB']);
    expect(await store.locks.waiters(TEAM, 'production')).toEqual([]);
  });

  it('counts a lock left by a release that ended or is gone as free', async () => {
    prefix = createTestPrefix('locks');
    store = new ReleaseStore(redis, prefix);
    const releaseId = await deployToStaging('v1.0');
    await store.cancelRelease({
      teamId: TEAM,
      releaseId,
      userId: 'U0LEAD',
      reason: 'wrong build',
      requestId: requestId(),
    });
    const locksKey = store.keys.envLocks(TEAM);
    for (const holder of [releaseId, 'r999']) {
      await redis.hset(
        locksKey,
        'staging',
        JSON.stringify({ releaseId: holder, since: 1, by: 'U0LEAD', version: 'v1.0' }),
      );
      expect(await store.locks.addWaiterWhileHeld(TEAM, 'staging', 'U0BOB'), holder).toBe('free');
    }
    expect(await store.locks.waiters(TEAM, 'staging')).toEqual([]);
  });
});
