import { type ConnectionOptions, type Job, Worker } from 'bullmq';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { queuePrefix } from './sync-queue.js';

export type JobMetrics = Pick<Metrics, 'jobLateness' | 'jobsFinished'>;

/**
 * A BullMQ worker that reports how late each job started, how each attempt ended, and logs failures
 * with what `describeJob` chooses to show (never the whole payload: it may carry a response_url).
 */
export function createInstrumentedWorker<Data>(options: {
  queue: string;
  connection: ConnectionOptions;
  redisPrefix: string;
  concurrency: number;
  run: (data: unknown) => Promise<void>;
  log: Logger;
  metrics: JobMetrics | undefined;
  describeJob?: (job: Job<Data>) => Record<string, unknown>;
}): Worker<Data> {
  const { queue, metrics, log } = options;
  const worker = new Worker<Data>(
    queue,
    async (job) => {
      const dueAt = job.timestamp + (job.opts.delay ?? 0);
      metrics?.jobLateness.observe({ queue }, Math.max(0, Date.now() - dueAt) / 1000);
      await options.run(job.data);
    },
    {
      connection: options.connection,
      prefix: queuePrefix(options.redisPrefix),
      concurrency: options.concurrency,
    },
  );
  worker.on('completed', () => metrics?.jobsFinished.inc({ queue, outcome: 'completed' }));
  worker.on('failed', (job, err) => {
    metrics?.jobsFinished.inc({ queue, outcome: 'failed' });
    const described = job && options.describeJob ? options.describeJob(job) : {};
    log.warn({ err, queue, jobId: job?.id, attemptsMade: job?.attemptsMade, ...described }, 'job failed');
  });
  worker.on('error', (err) => log.error({ err, queue }, 'worker error'));
  return worker;
}
