import { type ConnectionOptions, Worker } from 'bullmq';
import type { Logger } from '../log.js';
import { queuePrefix, SYNC_QUEUE, SyncJobData } from './sync-queue.js';
import { type SyncDeps, syncRelease } from './sync-release.js';

/** Runs slack-sync jobs. Jobs for one release never run in parallel (deduplication); different releases do. */
export function createSyncWorker(
  connection: ConnectionOptions,
  redisPrefix: string,
  deps: SyncDeps,
  log: Logger,
): Worker<SyncJobData> {
  const worker = new Worker<SyncJobData>(
    SYNC_QUEUE,
    async (job) => {
      const data = SyncJobData.parse(job.data);
      await syncRelease(deps, data);
    },
    {
      connection,
      prefix: queuePrefix(redisPrefix),
      // Jobs mostly wait on Slack's pacing, not on the CPU.
      concurrency: 16,
    },
  );
  worker.on('failed', (job, err) => {
    log.warn(
      {
        err,
        jobId: job?.id,
        attemptsMade: job?.attemptsMade,
        data: job?.data && { ...job.data, responseUrl: undefined },
      },
      'sync job failed',
    );
  });
  worker.on('error', (err) => log.error({ err }, 'sync worker error'));
  return worker;
}
