import { type ConnectionOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { queuePrefix } from './sync-queue.js';

// The daily retention sweep (src/jobs/retention.ts runs it), scheduled once across all instances.

export const MAINTENANCE_QUEUE = 'maintenance';
const SWEEP_SCHEDULER_ID = 'retention-sweep';
const SWEEP_EVERY_MS = 24 * 3600_000;

export class RetentionSchedule {
  readonly queue: Queue;

  constructor(
    connection: ConnectionOptions,
    redisPrefix: string,
    private readonly lockRedis: Redis,
    private readonly lockKey: string,
  ) {
    this.queue = new Queue(MAINTENANCE_QUEUE, { connection, prefix: queuePrefix(redisPrefix) });
  }

  /**
   * Makes sure the daily sweep is scheduled, once. Several instances starting together take turns
   * through a short lock: concurrent upserts of one scheduler are known to misbehave in BullMQ.
   */
  async ensureScheduled(): Promise<void> {
    const locked = await this.lockRedis.set(this.lockKey, '1', 'EX', 60, 'NX');
    if (locked !== 'OK') return;
    try {
      await this.queue.upsertJobScheduler(
        SWEEP_SCHEDULER_ID,
        { every: SWEEP_EVERY_MS },
        { name: 'retention', opts: { removeOnComplete: { count: 30 }, removeOnFail: { count: 30 } } },
      );
    } finally {
      await this.lockRedis.del(this.lockKey);
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
