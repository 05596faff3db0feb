import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { defineScripts, type ScriptedRedis } from './scripts.js';

// Spaces calls that share a budget (Slack's rate limits) across every instance, through one key per
// budget in Redis. Kept apart from the release store: the Slack client needs this and nothing else.

const PACER_SCRIPT_FILES = { reserveSlot: 'reserve-slot-1' } as const;

export type PacerKeys = Pick<Keys, 'postPacer' | 'updatePacer' | 'homePacer'>;

export class Pacer {
  private readonly redis: ScriptedRedis<typeof PACER_SCRIPT_FILES>;

  constructor(
    redis: Redis,
    /** Where the pacers live; built in keys.ts like every other key. */
    readonly keys: PacerKeys,
  ) {
    this.redis = defineScripts(redis, PACER_SCRIPT_FILES);
  }

  /** Reserves a slot on a shared pacer; resolves with the wait in ms before the call may go. */
  async reserveSlot(pacerKey: string, intervalMs: number, pauseMs = 0): Promise<number> {
    return Number(await this.redis.reserveSlot(pacerKey, intervalMs, pauseMs));
  }
}
