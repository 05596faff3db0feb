import { Writable } from 'node:stream';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInstrumentedWorker } from '../../src/jobs/instrumented-worker.js';
import { queuePrefix } from '../../src/queues/sync-queue.js';
import { RetryLaterError } from '../../src/slack-api/delivery.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

// How a job that fails, or has to wait for another instance, is retried and shown in the logs.

const QUEUE = 'worker-test';

let prefix: string;
let connection: Redis;
let queue: Queue;
let events: QueueEvents;
let logLines: Record<string, unknown>[];
const closers: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  prefix = createTestPrefix('worker');
  connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue(QUEUE, { connection, prefix: queuePrefix(prefix) });
  events = new QueueEvents(QUEUE, { connection: { url: TEST_REDIS_URL }, prefix: queuePrefix(prefix) });
  await events.waitUntilReady();
  logLines = [];
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await events.close();
  await queue.close();
  await connection.quit();
  await deleteKeysWithPrefix(prefix);
});

function startWorker(run: (data: unknown) => Promise<void>) {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const worker = createInstrumentedWorker({
    queue: QUEUE,
    connection,
    redisPrefix: prefix,
    concurrency: 1,
    run,
    log: pino({ level: 'info' }, sink),
    metrics: undefined,
    describeJob: () => ({ kind: 'test' }),
  });
  closers.push(() => worker.close());
  return worker;
}

async function waitForLine(msg: string): Promise<Record<string, unknown> | undefined> {
  for (let waited = 0; waited < 2000; waited += 10) {
    const line = logLines.find((candidate) => candidate.msg === msg);
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return undefined;
}

describe('an instrumented worker', () => {
  it('retries a failing job with backoff, then logs it as an error when its attempts are spent', async () => {
    let runs = 0;
    startWorker(async () => {
      runs++;
      throw new Error('Slack said no');
    });
    const job = await queue.add('x', {}, { attempts: 3, backoff: { type: 'fixed', delay: 20 } });
    await expect(job.waitUntilFinished(events, 5000)).rejects.toThrow('Slack said no');
    expect(runs).toBe(3);
    // The worker's "failed" event may come just after the queue's.
    const final = await waitForLine('job failed for good');
    const messages = logLines.map((line) => line.msg);
    expect(messages.filter((msg) => msg === 'job failed; will retry')).toHaveLength(2);
    expect(final).toMatchObject({ level: 50, jobId: job.id, attemptsMade: 3, kind: 'test' });
  });

  it('puts a job that must wait back in the delayed set without spending an attempt', async () => {
    let runs = 0;
    startWorker(async () => {
      runs++;
      if (runs < 3) throw new RetryLaterError(30, 'held by another instance');
    });
    const job = await queue.add('x', {}, { attempts: 1 });
    await job.waitUntilFinished(events, 5000);
    expect(runs).toBe(3);
    const finished = await queue.getJob(job.id!);
    expect(finished?.attemptsMade).toBeLessThanOrEqual(1);
    expect(logLines.filter((line) => line.msg === 'job waits')).toHaveLength(2);
    expect(logLines.some((line) => String(line.msg).startsWith('job failed'))).toBe(false);
  });
});
