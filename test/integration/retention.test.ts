import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Template } from '../../src/domain/template.js';
import { runRetention } from '../../src/jobs/retention.js';
import { RetentionSchedule } from '../../src/queues/retention-schedule.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

// Retention removes only finished releases that ended before the cut-off, with all their records.

const TEAM = 'T0KEEP';
const DAY = 24 * 3600_000;
const template: Template = {
  id: 'tiny',
  name: 'Tiny',
  phases: [{ id: 'one', name: 'One', items: [{ id: 'a', text: 'A', required: true }] }],
};

let redis: Redis;
let queueRedis: Redis;
let prefix: string;
let store: ReleaseStore;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  queueRedis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await redis.quit();
  await queueRedis.quit();
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

async function release(version: string, cancel: boolean): Promise<string> {
  const { releaseId } = await store.startRelease({
    teamId: TEAM,
    channelId: 'C0DEPLOY',
    version,
    env: 'staging',
    template,
    userId: 'U0LEAD',
    requestId: version,
  });
  await store.setItem({
    teamId: TEAM,
    releaseId,
    itemId: 'a',
    done: false,
    userId: 'U0LEAD',
    requestId: `${version}-x`,
  });
  if (cancel)
    await store.cancelRelease({
      teamId: TEAM,
      releaseId,
      userId: 'U0LEAD',
      reason: 'done',
      requestId: version,
    });
  return releaseId;
}

async function keysOf(releaseId: string): Promise<string[]> {
  return redis.keys(`${prefix}:{${TEAM}}:release:${releaseId}*`);
}

describe('runRetention', () => {
  it('removes what ended before the cut-off, with its records, and keeps the rest', async () => {
    prefix = createTestPrefix('retention');
    store = new ReleaseStore(redis, prefix);
    const old = await release('v1.0', true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const recent = await release('v1.1', true);
    const active = await release('v1.2', false);
    expect(await keysOf(old)).not.toHaveLength(0);

    // Cut off just before the recent one ended: 400 days from then.
    const recentEnd = (await store.getRelease(TEAM, recent))!.finishedAt!;
    const now = recentEnd - 1 + 400 * DAY;
    const removed = await runRetention({ store, log: pino({ level: 'silent' }), retentionDays: 400 }, now);

    expect(removed).toBe(1);
    expect(await keysOf(old)).toEqual([]);
    expect(await store.getRelease(TEAM, old)).toBeUndefined();
    expect(await store.findByVersion(TEAM, 'v1.0')).toEqual([]);
    expect((await store.listRecent(TEAM, 10)).map((kept) => kept.id).sort()).toEqual([recent, active].sort());
    expect(await store.readAudit(TEAM, recent)).not.toHaveLength(0);
    expect(await store.retention.cutoff(TEAM)).toBe(recentEnd - 1);

    // An active release is never removed, however old.
    expect(
      await runRetention({ store, log: pino({ level: 'silent' }), retentionDays: 400 }, now + 5000 * DAY),
    ).toBe(1);
    expect(await store.getRelease(TEAM, active)).toBeDefined();
  });

  it('schedules the daily sweep once, whoever starts first', async () => {
    prefix = createTestPrefix('retention');
    store = new ReleaseStore(redis, prefix);
    const schedules = [0, 1, 2].map(
      () => new RetentionSchedule(queueRedis, prefix, redis, store.keys.retentionLock()),
    );
    await Promise.all(schedules.map((schedule) => schedule.ensureScheduled()));
    await schedules[0]!.ensureScheduled();
    const schedulers = await schedules[0]!.queue.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: 'retention-sweep', every: 24 * 3600_000 });
    await Promise.all(schedules.map((schedule) => schedule.close()));
  });
});
