import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readScript, SCRIPT_FILES } from '../../src/store/scripts.js';
import { createTestPrefix, TEST_REDIS_URL } from '../support/redis.js';

let redis: Redis;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});

describe('scripts', () => {
  it('compiles every script with its includes and reply tables', async () => {
    for (const file of [...Object.values(SCRIPT_FILES), 'reserve-slot-1']) {
      await expect(redis.script('LOAD', readScript(file)), file).resolves.toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it('raises on a reply code the table does not have, instead of replying without it', async () => {
    const source = readScript('save-retro-3').replaceAll('return {REPLY.REPLAYED}', 'return {REPLY.NO_SUCH}');
    const prefix = createTestPrefix('scripts');
    await redis.set(`${prefix}:applied`, '1', 'EX', 10);
    await expect(
      redis.eval(source, 3, `${prefix}:meta`, `${prefix}:audit`, `${prefix}:applied`),
    ).rejects.toThrow(/no reply code REPLY\.NO_SUCH/);
    await redis.del(`${prefix}:applied`);
  });
});
