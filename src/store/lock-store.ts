import type { Redis } from 'ioredis';
import type { EnvLock } from '../domain/release.js';
import type { Keys } from './keys.js';
import { defineScripts, SCRIPT_FILES, type ScriptedRedis } from './scripts.js';

// Who deploys to which environment, and who waits to hear when it is free. The release scripts take
// and free the locks, in the same step as the change that does; this only reads them.

/** What asking to be told when an environment is free came to. */
export type LockWaitOutcome = 'added' | 'already_waiting' | 'free';

export class LockStore {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
  ) {
    this.redis = defineScripts(redis, SCRIPT_FILES);
  }

  /** Every environment lock of a workspace (the holder may have ended since: callers check). */
  async list(teamId: string): Promise<EnvLock[]> {
    const fields = await this.redis.hgetall(this.keys.envLocks(teamId));
    return Object.entries(fields)
      .map(([env, value]) => ({ env, ...(JSON.parse(value) as Omit<EnvLock, 'env'>) }))
      .sort((a, b) => a.env.localeCompare(b.env));
  }

  /**
   * Adds someone to be told by DM when an environment is free again, only while a release holds it
   * (in one script, so a lock freed meanwhile cannot leave them waiting for nothing).
   */
  async addWaiterWhileHeld(teamId: string, env: string, userId: string): Promise<LockWaitOutcome> {
    const reply = await this.redis.addLockWaiter(
      this.keys.envLocks(teamId),
      this.keys.lockWaiters(teamId, env),
      env,
      userId,
    );
    if (reply === 1) return 'added';
    if (reply === 0) return 'already_waiting';
    if (reply === -1) return 'free';
    throw new Error(`add-lock-waiter-2.lua replied ${JSON.stringify(reply)}`);
  }

  async waiters(teamId: string, env: string): Promise<string[]> {
    return this.redis.smembers(this.keys.lockWaiters(teamId, env));
  }

  async removeWaiter(teamId: string, env: string, userId: string): Promise<void> {
    await this.redis.srem(this.keys.lockWaiters(teamId, env), userId);
  }
}
