import { type ConnectionOptions, Queue } from 'bullmq';
import { z } from 'zod';
import { coalesceByKey } from './coalesce.js';

// The slack-sync queue carries "make Slack show this release's current state" jobs. They render from
// Redis when they run, so any number of requests for one release collapse into one running job and one
// follow-up (BullMQ deduplication with keepLastIfActive): the latest state always wins, nothing is lost,
// and two instances never update the same release's messages at once.

export const SYNC_QUEUE = 'slack-sync';

export const SyncJobData = z.object({
  teamId: z.string().min(1),
  releaseId: z.string().min(1),
  /** Set when a user's command started the sync: where to tell them if Slack refuses the post. */
  responseUrl: z.string().url().optional(),
});
export type SyncJobData = z.infer<typeof SyncJobData>;

/** Deterministic and free of ':' (BullMQ reserves it in ids). */
export function syncDeduplicationId(data: Pick<SyncJobData, 'teamId' | 'releaseId'>): string {
  return `sync-${data.teamId}-${data.releaseId}`;
}

/** BullMQ keys get a hash tag so that a queue's keys share one Redis Cluster slot. */
export function queuePrefix(redisPrefix: string): string {
  return `${redisPrefix}:{jobs}`;
}

export class SyncQueue {
  readonly queue: Queue<SyncJobData>;

  constructor(connection: ConnectionOptions, redisPrefix: string) {
    this.queue = new Queue<SyncJobData>(SYNC_QUEUE, {
      connection,
      prefix: queuePrefix(redisPrefix),
      defaultJobOptions: {
        // A sync that runs out of tries (each call already retried for about 15 s) is asked for again by
        // the relay (src/app/relay.ts) every 30 s while Slack shows the release wrong, so its own tries
        // stay short: at most 4 s between them, and a sync waits no longer than that once Slack is back.
        attempts: 4,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
      },
    });
  }

  /**
   * Asks for a sync of the release. Resolves once a job is queued that started after this call, so
   * it will render every change made before it. Concurrent requests in this process share one enqueue
   * and one follow-up; other instances' requests fold together in BullMQ's deduplication.
   */
  readonly requestSync = (data: SyncJobData): Promise<void> => {
    const request = this.enqueue(data);
    this.inFlight.add(request);
    const forget = () => this.inFlight.delete(request);
    request.then(forget, forget);
    return request;
  };

  private readonly inFlight = new Set<Promise<void>>();

  private readonly enqueue = coalesceByKey<SyncJobData>(async (data) => {
    await this.queue.add('sync', data, {
      deduplication: { id: syncDeduplicationId(data), keepLastIfActive: true },
    });
  }, syncDeduplicationId);

  /** Resolves when every sync requested so far is in the queue (or has failed to get there). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Jobs not finished yet, across every instance. */
  async countUnfinished(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
