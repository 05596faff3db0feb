import { type ConnectionOptions, Queue } from 'bullmq';
import { z } from 'zod';
import { coalesceByKey } from './coalesce.js';
import { queuePrefix } from './sync-queue.js';

// Asks for a workspace's open Home tabs to be redrawn (src/jobs/home-refresh.ts draws them). One job per
// workspace is waiting at a time (BullMQ deduplication, a follow-up kept while one runs), so a burst
// of clicks is drawn once.

export const HOME_QUEUE = 'home-refresh';

/** How long a refresh waits before drawing, so the changes of a burst land in one publish. */
export const HOME_REFRESH_DELAY_MS = 2000;
/** Someone who has not opened their Home for this long gets it redrawn when they next open it. */
export const HOME_VIEWER_IDLE_MS = 14 * 24 * 3600_000;

export const HomeRefreshJobData = z.object({ teamId: z.string().min(1) });
export type HomeRefreshJobData = z.infer<typeof HomeRefreshJobData>;

/** Deterministic and free of ':' (BullMQ reserves it in ids). */
export function homeRefreshId(teamId: string): string {
  return `home-${teamId}`;
}

export class HomeRefreshQueue {
  readonly queue: Queue<HomeRefreshJobData>;

  constructor(connection: ConnectionOptions, redisPrefix: string) {
    this.queue = new Queue<HomeRefreshJobData>(HOME_QUEUE, {
      connection,
      prefix: queuePrefix(redisPrefix),
      defaultJobOptions: {
        attempts: 5,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600, count: 100 },
      },
    });
  }

  /** Asks for the workspace's open Home tabs to be redrawn soon; many asks fold into one refresh. */
  readonly request = coalesceByKey<string>(
    async (teamId) => {
      await this.queue.add(
        'refresh',
        { teamId },
        {
          delay: HOME_REFRESH_DELAY_MS,
          deduplication: { id: homeRefreshId(teamId), keepLastIfActive: true },
        },
      );
    },
    (teamId) => teamId,
  );

  async close(): Promise<void> {
    await this.queue.close();
  }
}
