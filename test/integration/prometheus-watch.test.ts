import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RoleDirectory } from '../../src/app/access.js';
import type { CommittedChange } from '../../src/app/seams.js';
import { loadConfig } from '../../src/config/env.js';
import type { Template } from '../../src/domain/template.js';
import { runMetricWatch } from '../../src/jobs/metric-watch.js';
import { PrometheusClient } from '../../src/metrics-source/prometheus.js';
import { type MetricWatchJob, Scheduler, scheduledJobId } from '../../src/queues/scheduler.js';
import { SyncQueue } from '../../src/queues/sync-queue.js';
import { SlackOutbound } from '../../src/slack-api/outbound.js';
import { Pacer } from '../../src/store/pacer.js';
import { RelayStore } from '../../src/store/relay-store.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { TestExporter, TestPrometheus } from '../support/prometheus.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { SlackStandIn } from '../support/slack-stand-in.js';

// The metric watch between check-ins, against a real Prometheus: misses in a row are counted once per
// run however often a run is retried, the Nth raises one red flag as shipcheck with the readings and
// pings the owner once, each run plans the next, and a met reading starts the count again.

const TEAM = 'T0001';
const ENV = { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'secret' };
const CHANNEL = 'C0DEPLOY';
const OWNER = 'U0ALICE';

const template: Template = {
  id: 'watched',
  name: 'Watched',
  phases: [
    {
      id: 'ship',
      name: 'Ship',
      deployment: true,
      items: [{ id: 'shipped', text: 'Deployed', required: true }],
    },
  ],
  success: [
    {
      id: 'error-rate',
      name: 'Error rate',
      direction: 'below',
      threshold: 1,
      unit: '%',
      metric: 'watch_error_percent{env="{env}"}',
      watch: { every: '1s', misses: 3 },
    },
  ],
};

let standIn: SlackStandIn;
let redis: Redis;
let queueRedis: Redis;
let exporter: TestExporter;
let prometheus: TestPrometheus;
let prefix: string;
let store: ReleaseStore;
let outbound: SlackOutbound;
let scheduler: Scheduler;
let syncQueue: SyncQueue;
let source: PrometheusClient;
let committed: CommittedChange[];

beforeAll(async () => {
  standIn = await SlackStandIn.start();
  redis = new Redis(TEST_REDIS_URL);
  queueRedis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  exporter = await TestExporter.start();
  prometheus = await TestPrometheus.start([exporter.target]);
  source = new PrometheusClient({ url: prometheus.url, timeoutMs: 2000, retries: 1 });
}, 30_000);
afterAll(async () => {
  await source?.close();
  await prometheus?.stop();
  await exporter?.stop();
  await standIn.stop();
  await redis.quit();
  await queueRedis.quit();
});
beforeEach(() => {
  standIn.reset();
  committed = [];
  prefix = createTestPrefix('metric-watch');
  store = new ReleaseStore(redis, prefix);
  outbound = new SlackOutbound(
    { token: 'xoxb-test-token', apiUrl: standIn.apiUrl, postIntervalMs: 0, updateIntervalMs: 0 },
    new Pacer(redis, store.keys),
    pino({ level: 'silent' }),
  );
  scheduler = new Scheduler(queueRedis, prefix, store, loadConfig(ENV));
  syncQueue = new SyncQueue(queueRedis, prefix);
});
afterEach(async () => {
  await scheduler.close();
  await syncQueue.close();
  await outbound.close();
  await deleteKeysWithPrefix(prefix);
});

function deps() {
  const log = pino({ level: 'silent' });
  const config = loadConfig(ENV);
  return {
    store,
    outbound,
    log,
    scheduler,
    metricsSource: source,
    app: {
      config,
      roles: new RoleDirectory(config.access, outbound, log),
      templates: new Map([[template.id, template]]),
      relay: { committed: (change: CommittedChange) => void committed.push(change) },
      relayStore: new RelayStore(redis, store.keys),
      syncQueue,
    },
  };
}

async function deployedRelease(): Promise<{ releaseId: string; deployedAt: number }> {
  const { releaseId } = await store.startRelease({
    teamId: TEAM,
    channelId: CHANNEL,
    version: 'v2.3',
    env: 'production',
    template,
    userId: OWNER,
    checkinPlanMs: [3_600_000],
    requestId: 'start',
  });
  await store.setItem({
    teamId: TEAM,
    releaseId,
    itemId: 'shipped',
    done: true,
    userId: OWNER,
    requestId: 'tick',
  });
  const { ts } = await outbound.postMessage(TEAM, { channel: CHANNEL, text: 'Release v2.3', blocks: [] });
  await store.messages.saveRef(TEAM, releaseId, 'header', { ts, hash: 'h' });
  standIn.reset();
  const release = await store.getRelease(TEAM, releaseId);
  return { releaseId, deployedAt: release!.deployment!.at };
}

const run = (releaseId: string, at: number): MetricWatchJob => ({
  kind: 'metric-watch',
  teamId: TEAM,
  releaseId,
  criterionId: 'error-rate',
  at,
});

describe('metric watch', () => {
  it('raises one red flag after three misses in a row, with the readings, and pings the owner once', async () => {
    exporter.setGauge('watch_error_percent', { env: 'production' }, 2.5);
    await prometheus.waitFor('watch_error_percent{env="production"}', (value) => value === 2.5);
    const { releaseId, deployedAt } = await deployedRelease();
    const planned = await scheduler.scheduleWatch((await store.getRelease(TEAM, releaseId))!);
    expect(planned).toBe(1);
    expect(await scheduler.queue.getJob(scheduledJobId(run(releaseId, deployedAt + 1000)))).toBeDefined();

    await runMetricWatch(deps(), run(releaseId, deployedAt + 1000));
    await runMetricWatch(deps(), run(releaseId, deployedAt + 2000));
    // A retried run counts once.
    await runMetricWatch(deps(), run(releaseId, deployedAt + 2000));
    expect((await store.getRelease(TEAM, releaseId))!.redFlag).toBeUndefined();
    expect(await store.metrics.watchState(TEAM, releaseId, 'error-rate')).toMatchObject({ misses: 2 });

    await runMetricWatch(deps(), run(releaseId, deployedAt + 3000));
    await runMetricWatch(deps(), run(releaseId, deployedAt + 3000));

    const release = (await store.getRelease(TEAM, releaseId))!;
    expect(release.redFlag).toMatchObject({
      number: 1,
      by: 'shipcheck',
      condition: 'Error rate missed its threshold',
      note: '3 misses in a row: 2.5 %, 2.5 %, 2.5 % (needs < 1 %)',
    });
    expect(committed.filter((change) => change.intent === 'raise-red-flag')).toHaveLength(1);
    const pings = standIn.messages(CHANNEL);
    expect(pings).toHaveLength(1);
    expect(pings[0]!.text).toBe('Red flag #1: Error rate missed its threshold 3 times in a row');
    expect(JSON.stringify(pings[0]!.blocks)).toContain(
      `🚩 <@${OWNER}> *Error rate* missed its threshold 3 times`,
    );
    // Each run planned the next.
    expect(await scheduler.queue.getJob(scheduledJobId(run(releaseId, deployedAt + 4000)))).toBeDefined();
    expect(await store.metrics.watchState(TEAM, releaseId, 'error-rate')).toMatchObject({ misses: 0 });
  });

  it('starts counting again after a met reading', async () => {
    exporter.setGauge('watch_error_percent', { env: 'production' }, 2.5);
    await prometheus.waitFor('watch_error_percent{env="production"}', (value) => value === 2.5);
    const { releaseId, deployedAt } = await deployedRelease();

    await runMetricWatch(deps(), run(releaseId, deployedAt + 1000));
    await runMetricWatch(deps(), run(releaseId, deployedAt + 2000));
    exporter.setGauge('watch_error_percent', { env: 'production' }, 0.3);
    await prometheus.waitFor('watch_error_percent{env="production"}', (value) => value === 0.3);
    await runMetricWatch(deps(), run(releaseId, deployedAt + 3000));

    expect(await store.metrics.watchState(TEAM, releaseId, 'error-rate')).toMatchObject({
      misses: 0,
      last: { verdict: 'met', value: 0.3 },
    });
    expect((await store.getRelease(TEAM, releaseId))!.redFlag).toBeUndefined();
    expect(standIn.messages(CHANNEL)).toHaveLength(0);
  });

  it('stops once the monitoring window is closed', async () => {
    exporter.setGauge('watch_error_percent', { env: 'production' }, 2.5);
    const { releaseId, deployedAt } = await deployedRelease();
    await store.cancelRelease({
      teamId: TEAM,
      releaseId,
      userId: OWNER,
      reason: 'done',
      requestId: 'cancel',
    });

    await runMetricWatch(deps(), run(releaseId, deployedAt + 1000));

    expect(await scheduler.queue.getJob(scheduledJobId(run(releaseId, deployedAt + 2000)))).toBeUndefined();
    expect(await store.metrics.watchState(TEAM, releaseId, 'error-rate')).toBeUndefined();
  });
});
