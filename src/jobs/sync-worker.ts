import { type ConnectionOptions, Worker } from 'bullmq';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { queuePrefix, SYNC_QUEUE, SyncJobData } from './sync-queue.js';
import { type SyncDeps, syncRelease } from './sync-release.js';

/** Runs slack-sync jobs. Jobs for one release never run in parallel (deduplication); different releases do. */
export function createSyncWorker(
  connection: ConnectionOptions,
  redisPrefix: string,
  deps: SyncDeps,
  log: Logger,
  metrics?: Pick<Metrics, 'jobLateness' | 'jobsFinished'>,
): Worker<SyncJobData> {
  const worker = new Worker<SyncJobData>(
    SYNC_QUEUE,
    async (job) => {
      const dueAt = job.timestamp + (job.opts.delay ?? 0);
      metrics?.jobLateness.observe({ queue: SYNC_QUEUE }, Math.max(0, Date.now() - dueAt) / 1000);
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
  worker.on('completed', () => metrics?.jobsFinished.inc({ queue: SYNC_QUEUE, outcome: 'completed' }));
  worker.on('failed', (job, err) => {
    metrics?.jobsFinished.inc({ queue: SYNC_QUEUE, outcome: 'failed' });
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
