import { type ConnectionOptions, DelayedError, type Job, Worker } from 'bullmq';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { queuePrefix } from '../queues/sync-queue.js';
import { RetryLaterError } from '../slack-api/delivery.js';

export type JobMetrics = Pick<Metrics, 'jobLateness' | 'jobsFinished'>;

export const JOB_LOCK_MS = 5000;
export const STALLED_CHECK_MS = 2000;

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
    async (job, token) => {
      if (job.attemptsStarted <= 1) {
        const dueAt = job.timestamp + (job.opts.delay ?? 0);
        metrics?.jobLateness.observe({ queue }, Math.max(0, Date.now() - dueAt) / 1000);
      }
      try {
        await options.run(job.data);
      } catch (err) {
        if (!(err instanceof RetryLaterError) || !token) throw err;
        // Waiting for another instance is not a failure: the job goes back to the delayed set
        // without spending one of its attempts.
        log.info({ queue, jobId: job.id, delayMs: err.delayMs, reason: err.message }, 'job waits');
        await job.moveToDelayed(Date.now() + err.delayMs, token);
        throw new DelayedError();
      }
    },
    {
      connection: options.connection,
      prefix: queuePrefix(options.redisPrefix),
      concurrency: options.concurrency,
      // A job whose worker died is taken over by another within about 7 s: its lock lapses 5 s after
      // the last renewal (a live worker renews every 2.5 s, however long the job runs) and every
      // worker looks for lapsed locks every 2 s. BullMQ's defaults (30 s each) left a due reminder or
      // check-in of a dead worker waiting up to a minute. A job fails for stalling only after ten
      // takeovers: each is a worker that died holding it, and a check-in or an announcement must not be
      // lost because its workers were killed a few times in a row.
      lockDuration: JOB_LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      maxStalledCount: 10,
    },
  );
  worker.on('completed', () => metrics?.jobsFinished.inc({ queue, outcome: 'completed' }));
  worker.on('failed', (job, err) => {
    metrics?.jobsFinished.inc({ queue, outcome: 'failed' });
    const described = job && options.describeJob ? options.describeJob(job) : {};
    const context = { err, queue, jobId: job?.id, attemptsMade: job?.attemptsMade, ...described };
    // The last attempt is an error someone has to look at; earlier ones are retried with backoff.
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) log.error(context, 'job failed for good');
    else log.warn(context, 'job failed; will retry');
  });
  worker.on('error', (err) => log.error({ err, queue }, 'worker error'));
  return worker;
}
