import type { Redis } from 'ioredis';
import type { EnvLock } from '../domain/release.js';
import type { Keys } from './keys.js';

// Who deploys to which environment, and who waits to hear when it is free. The release scripts take
// and free the locks, in the same step as the change that does; this only reads them.

export class LockStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Every environment lock of a workspace (the holder may have ended since: callers check). */
  async list(teamId: string): Promise<EnvLock[]> {
    const fields = await this.redis.hgetall(this.keys.envLocks(teamId));
    return Object.entries(fields)
      .map(([env, value]) => ({ env, ...(JSON.parse(value) as Omit<EnvLock, 'env'>) }))
      .sort((a, b) => a.env.localeCompare(b.env));
  }

  /** Adds someone to be told by DM when an environment is free again; false if they were already. */
  async addWaiter(teamId: string, env: string, userId: string): Promise<boolean> {
    return (await this.redis.sadd(this.keys.lockWaiters(teamId, env), userId)) === 1;
  }

  async waiters(teamId: string, env: string): Promise<string[]> {
    return this.redis.smembers(this.keys.lockWaiters(teamId, env));
  }

  async removeWaiter(teamId: string, env: string, userId: string): Promise<void> {
    await this.redis.srem(this.keys.lockWaiters(teamId, env), userId);
  }
}
