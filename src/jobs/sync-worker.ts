import type { ConnectionOptions, Worker } from 'bullmq';
import type { Logger } from '../log.js';
import { SYNC_QUEUE, SyncJobData } from '../queues/sync-queue.js';
import { createInstrumentedWorker, type JobMetrics } from './instrumented-worker.js';
import { type SyncDeps, syncRelease } from './sync-release.js';

/** Runs slack-sync jobs. Jobs for one release never run in parallel (deduplication); different releases do. */
export function createSyncWorker(
  connection: ConnectionOptions,
  redisPrefix: string,
  deps: SyncDeps,
  log: Logger,
  metrics?: JobMetrics,
): Worker<SyncJobData> {
  return createInstrumentedWorker<SyncJobData>({
    queue: SYNC_QUEUE,
    connection,
    redisPrefix,
    // Jobs mostly wait on Slack's pacing, not on the CPU.
    concurrency: 16,
    run: (data) => syncRelease(deps, SyncJobData.parse(data)),
    log,
    metrics,
    describeJob: (job) => ({ teamId: job.data.teamId, releaseId: job.data.releaseId }),
  });
}
