import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeys } from '../../src/store/keys.js';
import { Pacer } from '../../src/store/pacer.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

let redis: Redis;
let prefix: string;
let pacer: Pacer;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});
beforeEach(() => {
  prefix = createTestPrefix('pacer');
  pacer = new Pacer(redis, createKeys(prefix));
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

describe('pacing', () => {
  it('hands out one slot per interval across callers', async () => {
    const key = pacer.keys.postPacer('C0PACE');
    const waits = await Promise.all(Array.from({ length: 5 }, () => pacer.reserveSlot(key, 1000)));
    const sorted = [...waits].sort((a, b) => a - b);
    expect(sorted[0]).toBe(0);
    for (let index = 1; index < sorted.length; index++) {
      expect(sorted[index]! - sorted[index - 1]!).toBeGreaterThanOrEqual(990);
      expect(sorted[index]! - sorted[index - 1]!).toBeLessThanOrEqual(1010);
    }
  });

  it('pushes every later slot back by a pause such as a Retry-After', async () => {
    const key = pacer.keys.updatePacer('T0001');
    expect(await pacer.reserveSlot(key, 100, 5000)).toBeGreaterThanOrEqual(4990);
    expect(await pacer.reserveSlot(key, 100)).toBeGreaterThanOrEqual(5080);
  });

  it('shares a budget between pacers on different connections', async () => {
    const other = new Redis(TEST_REDIS_URL);
    try {
      const key = pacer.keys.homePacer('T0001');
      const first = await pacer.reserveSlot(key, 1000);
      const second = await new Pacer(other, createKeys(prefix)).reserveSlot(key, 1000);
      expect(first).toBe(0);
      expect(second).toBeGreaterThan(500);
      expect(second).toBeLessThanOrEqual(1000);
    } finally {
      await other.quit();
    }
  });
});
