import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TemplateCriterion } from '../../src/domain/criteria.js';
import type { Template } from '../../src/domain/template.js';
import { runCheckin } from '../../src/jobs/checkins.js';
import { PrometheusClient } from '../../src/metrics-source/prometheus.js';
import type { CheckinJob } from '../../src/queues/scheduler.js';
import { SlackOutbound } from '../../src/slack-api/outbound.js';
import { Pacer } from '../../src/store/pacer.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { getFreePort } from '../support/free-port.js';
import { SlowProxy, TestExporter, TestPrometheus } from '../support/prometheus.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';

// Check-ins that read the metrics, against a real Prometheus scraping an exporter the test controls:
// each way a reading can come out (met, missed, against a baseline, no data, a bad query, the server
// down or too slow) is shown in the check-in and kept on the record, and a check-in is posted once
// with the numbers of its first evaluation, however its job is retried.

const TEAM = 'T0001';
const CHANNEL = 'C0DEPLOY';
const STARTER = 'U0ALICE';

let standIn: SlackStandIn;
let redis: Redis;
let exporter: TestExporter;
let prometheus: TestPrometheus;
let prefix: string;
let store: ReleaseStore;
let outbound: SlackOutbound;
const clients: PrometheusClient[] = [];

beforeAll(async () => {
  standIn = await SlackStandIn.start();
  redis = new Redis(TEST_REDIS_URL);
  exporter = await TestExporter.start();
  prometheus = await TestPrometheus.start([exporter.target]);
}, 30_000);
afterAll(async () => {
  await prometheus?.stop();
  await exporter?.stop();
  await standIn.stop();
  await redis.quit();
});
beforeEach(() => {
  standIn.reset();
  prefix = createTestPrefix('metric-checkins');
  store = new ReleaseStore(redis, prefix);
  outbound = new SlackOutbound(
    { token: 'xoxb-test-token', apiUrl: standIn.apiUrl, postIntervalMs: 0, updateIntervalMs: 0 },
    new Pacer(redis, store.keys),
    pino({ level: 'silent' }),
  );
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await outbound.close();
  await deleteKeysWithPrefix(prefix);
});

function client(url = prometheus.url, overrides: { timeoutMs?: number; retries?: number } = {}) {
  const created = new PrometheusClient({ url, timeoutMs: 2000, retries: 1, ...overrides });
  clients.push(created);
  return created;
}

function templateWith(success: TemplateCriterion[]): Template {
  return {
    id: 'measured',
    name: 'Measured',
    phases: [
      {
        id: 'ship',
        name: 'Ship',
        deployment: true,
        items: [{ id: 'shipped', text: 'Deployed', required: true }],
      },
    ],
    success: success as Template['success'],
  };
}

const errorRate = (metric: string, extra: Partial<TemplateCriterion> = {}): TemplateCriterion => ({
  id: 'error-rate',
  name: 'Error rate',
  direction: 'below',
  threshold: 1,
  unit: '%',
  metric: `${metric}{env="{env}"}`,
  ...extra,
});

/** A release of the template, deployed now, its header posted: ready for its check-in. */
async function deployedRelease(template: Template): Promise<string> {
  const { releaseId } = await store.startRelease({
    teamId: TEAM,
    channelId: CHANNEL,
    version: 'v2.3',
    env: 'production',
    template,
    userId: STARTER,
    checkinPlanMs: [1000],
    stakeholderChannels: [],
    requestId: 'start',
  });
  const ticked = await store.setItem({
    teamId: TEAM,
    releaseId,
    itemId: 'shipped',
    done: true,
    userId: STARTER,
    requestId: 'tick',
  });
  expect(ticked).toMatchObject({ kind: 'applied', deployed: true });
  const { ts } = await outbound.postMessage(TEAM, { channel: CHANNEL, text: 'Release v2.3', blocks: [] });
  await store.messages.saveRef(TEAM, releaseId, 'header', { ts, hash: 'h' });
  return releaseId;
}

function deps(source = client()) {
  return {
    store,
    outbound,
    config: { checkins: { scheduleMs: [1000], escalateAfterMs: 60_000 } },
    log: pino({ level: 'silent' }),
    metricsSource: source,
  };
}

const job = (releaseId: string): CheckinJob => ({
  kind: 'checkin',
  teamId: TEAM,
  releaseId,
  checkinIndex: 0,
});

/** The check-ins posted in release threads (the headers are the test's own). */
function posted(): StoredMessage[] {
  return standIn.messages(CHANNEL).filter((message) => message.thread_ts !== undefined);
}

const textOf = (message: StoredMessage) => JSON.stringify(message.blocks);

async function recorded(releaseId: string) {
  const release = await store.getRelease(TEAM, releaseId);
  return { checkin: release!.checkins[0]!, audit: await store.readAudit(TEAM, releaseId) };
}

describe('check-in metrics against Prometheus', () => {
  it('shows a met criterion with its reading, suggests Healthy and records the value', async () => {
    exporter.setGauge('met_error_percent', { env: 'production' }, 0.25);
    exporter.setGauge('met_error_percent', { env: 'staging' }, 9);
    await prometheus.waitFor('met_error_percent{env="production"}', (value) => value === 0.25);
    const releaseId = await deployedRelease(templateWith([errorRate('met_error_percent')]));

    await runCheckin(deps(), job(releaseId));

    const [message] = posted();
    expect(posted()).toHaveLength(1);
    const shown = textOf(message!);
    expect(shown).toContain('the numbers suggest *Healthy*');
    expect(shown).toContain('✅ *Error rate*: *0.25 %* — met (&lt; 1 %)');
    expect(shown).toContain('/graph?g0.expr=met_error_percent%7Benv%3D%22production%22%7D');
    expect(message!.text).toContain('Metrics: healthy.');
    const { checkin, audit } = await recorded(releaseId);
    expect(checkin.metrics).toMatchObject({
      suggestion: 'healthy',
      results: [{ criterionId: 'error-rate', verdict: 'met', value: 0.25, threshold: 1 }],
    });
    expect(checkin.observed?.['error-rate']).toMatchObject({ value: 0.25, by: 'shipcheck' });
    expect(audit.filter((event) => event.type === 'criterion_recorded')).toMatchObject([
      { user: 'shipcheck', criterionId: 'error-rate', from: 'none', to: '0.25', checkinIndex: 0 },
    ]);
  });

  it('shows a missed criterion with the number and suggests Issue', async () => {
    exporter.setGauge('missed_error_percent', { env: 'production' }, 4.5);
    await prometheus.waitFor('missed_error_percent{env="production"}', (value) => value === 4.5);
    const releaseId = await deployedRelease(
      templateWith([errorRate('missed_error_percent', { dashboard: 'https://grafana.example.com/d/api' })]),
    );

    await runCheckin(deps(), job(releaseId));

    const shown = textOf(posted()[0]!);
    expect(shown).toContain('the numbers suggest *Issue found*');
    expect(shown).toContain('❌ *Error rate*: *4.5 %* — missed (&lt; 1 %)');
    expect(shown).toContain('<https://grafana.example.com/d/api|dashboard>');
    // The success criteria read the same value, judged the same way.
    expect(shown).toContain('❌ *Error rate*: 4.5 % — missed (target: less than 1 %)');
    const { checkin } = await recorded(releaseId);
    expect(checkin.metrics).toMatchObject({
      suggestion: 'issue',
      results: [{ verdict: 'missed', value: 4.5 }],
    });
  });

  it('compares with the same query at the deploy moment when the condition names the baseline', async () => {
    exporter.setGauge('baseline_latency_ms', { env: 'production' }, 200);
    await prometheus.waitFor('baseline_latency_ms{env="production"}', (value) => value === 200);
    const criterion: TemplateCriterion = {
      id: 'latency',
      name: 'p95 latency',
      direction: 'below',
      threshold: 500,
      unit: 'ms',
      metric: 'baseline_latency_ms{env="{env}"}',
      condition: '< 1.1 * baseline',
    };
    const releaseId = await deployedRelease(templateWith([criterion]));
    // After the deploy the latency rises by a quarter: under the fixed 500 ms, over 1.1 × baseline.
    exporter.setGauge('baseline_latency_ms', { env: 'production' }, 250);
    await prometheus.waitFor('baseline_latency_ms{env="production"}', (value) => value === 250);

    await runCheckin(deps(), job(releaseId));

    const shown = textOf(posted()[0]!);
    expect(shown).toContain(
      '❌ *p95 latency*: *250 ms* — missed (&lt; 1.1 × baseline = 220 ms (baseline 200 ms))',
    );
    const { checkin } = await recorded(releaseId);
    expect(checkin.metrics?.results[0]).toMatchObject({
      verdict: 'missed',
      value: 250,
      baseline: 200,
      // 1.1 × 200, as Redis keeps it (14 significant digits).
      threshold: 220,
    });
    // Judged by the baseline's threshold wherever the value is read.
    expect(checkin.observed?.latency).toMatchObject({ value: 250, threshold: 220 });
    expect(shown).toContain('❌ *p95 latency*: 250 ms — missed (target: less than 220 ms)');
  });

  it('says no data, inconclusive, when the query finds no series', async () => {
    const releaseId = await deployedRelease(templateWith([errorRate('never_exported_percent')]));

    await runCheckin(deps(), job(releaseId));

    const shown = textOf(posted()[0]!);
    expect(shown).toContain('the numbers are *inconclusive*');
    expect(shown).toContain('➖ *Error rate*: no value — no data: no data for the query (&lt; 1 %)');
    expect(shown).not.toContain('suggest *Healthy*');
    const { checkin, audit } = await recorded(releaseId);
    expect(checkin.metrics).toMatchObject({ suggestion: 'inconclusive', results: [{ verdict: 'no_data' }] });
    expect(checkin.observed).toBeUndefined();
    expect(audit.filter((event) => event.type === 'criterion_recorded')).toEqual([]);
  });

  it('shows the server refusing a bad query as an error', async () => {
    exporter.setGauge('fine_percent', { env: 'production' }, 0.1);
    await prometheus.waitFor('fine_percent{env="production"}', (value) => value === 0.1);
    const releaseId = await deployedRelease(
      templateWith([
        errorRate('fine_percent'),
        {
          id: 'broken',
          name: 'Broken query',
          direction: 'below',
          threshold: 1,
          unit: '%',
          metric: 'sum(rate(',
        },
      ]),
    );

    await runCheckin(deps(), job(releaseId));

    const shown = textOf(posted()[0]!);
    expect(shown).toContain('⚠️ *Broken query*: no value — error: bad_data:');
    // One good reading does not make a healthy check-in when another could not be read.
    expect(shown).toContain('the numbers are *inconclusive*');
    const { checkin } = await recorded(releaseId);
    expect(checkin.metrics?.results.map((result) => result.verdict)).toEqual(['met', 'error']);
    expect(checkin.metrics?.results[1]?.problem).toMatch(/^bad_data: /);
  });

  it('asks anyway, inconclusive, when Prometheus is down', async () => {
    const releaseId = await deployedRelease(templateWith([errorRate('met_error_percent')]));
    const nobody = `http://127.0.0.1:${await getFreePort()}`;

    await runCheckin(deps(client(nobody, { retries: 2 })), job(releaseId));

    const shown = textOf(posted()[0]!);
    expect(shown).toContain('the numbers are *inconclusive*');
    expect(shown).toContain('⚠️ *Error rate*: no value — error: metrics server unreachable: ECONNREFUSED');
    expect(shown).toContain('Healthy');
    const { checkin } = await recorded(releaseId);
    expect(checkin.metrics).toMatchObject({ suggestion: 'inconclusive', results: [{ verdict: 'error' }] });
  });

  it('gives up on a slow answer after its timeout and retries, and says so', async () => {
    exporter.setGauge('slow_percent', { env: 'production' }, 0.1);
    await prometheus.waitFor('slow_percent{env="production"}', (value) => value === 0.1);
    const proxy = await SlowProxy.start(prometheus.port);
    try {
      proxy.delayMs = 1500;
      const releaseId = await deployedRelease(templateWith([errorRate('slow_percent')]));

      await runCheckin(deps(client(proxy.url, { timeoutMs: 300, retries: 1 })), job(releaseId));

      const shown = textOf(posted()[0]!);
      expect(shown).toContain('⚠️ *Error rate*: no value — error: metrics server unreachable: timed out');
      const { checkin } = await recorded(releaseId);
      expect(checkin.metrics).toMatchObject({ suggestion: 'inconclusive', results: [{ verdict: 'error' }] });

      // The same proxy without the delay answers: the slowness was the only problem.
      proxy.delayMs = 0;
      const fine = await client(proxy.url, { timeoutMs: 2000 }).query(
        'slow_percent{env="production"}',
        Date.now(),
      );
      expect(fine).toEqual({ kind: 'value', value: 0.1 });
    } finally {
      await proxy.stop();
    }
  });

  it('posts once, with the first evaluation, when the job is retried after Prometheus timed out', async () => {
    exporter.setGauge('retry_error_percent', { env: 'production' }, 3);
    await prometheus.waitFor('retry_error_percent{env="production"}', (value) => value === 3);
    const proxy = await SlowProxy.start(prometheus.port);
    try {
      const releaseId = await deployedRelease(templateWith([errorRate('retry_error_percent')]));
      // The first attempt: Prometheus too slow, and then Slack fails the post.
      proxy.delayMs = 1500;
      standIn.misbehave('chat.postMessage', { kind: 'error', error: 'internal_error' }, 1);
      const source = client(proxy.url, { timeoutMs: 300, retries: 0 });
      await expect(runCheckin(deps(source), job(releaseId))).rejects.toThrow();
      expect(posted()).toHaveLength(0);

      // The retry finds Prometheus fast again and the value changed; it posts what was evaluated first.
      proxy.delayMs = 0;
      exporter.setGauge('retry_error_percent', { env: 'production' }, 0.2);
      await prometheus.waitFor('retry_error_percent{env="production"}', (value) => value === 0.2);
      await runCheckin(deps(source), job(releaseId));
      // And a third run (a duplicate job, a second worker) adds nothing.
      await runCheckin(deps(source), job(releaseId));

      expect(posted()).toHaveLength(1);
      expect(textOf(posted()[0]!)).toContain('error: metrics server unreachable: timed out');
      const { checkin, audit } = await recorded(releaseId);
      expect(checkin.metrics).toMatchObject({ results: [{ verdict: 'error' }] });
      expect(audit.filter((event) => event.type === 'checkin_posted')).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
  });

  it('posts once when two workers run the check-in at the same moment', async () => {
    exporter.setGauge('race_error_percent', { env: 'production' }, 2);
    await prometheus.waitFor('race_error_percent{env="production"}', (value) => value === 2);
    const releaseId = await deployedRelease(templateWith([errorRate('race_error_percent')]));

    const runs = await Promise.allSettled([
      runCheckin(deps(), job(releaseId)),
      runCheckin(deps(client()), job(releaseId)),
    ]);
    // The loser waits for the winner's post (RetryLaterError) or finds it done.
    for (const run of runs) if (run.status === 'rejected') await runCheckin(deps(), job(releaseId));

    expect(posted()).toHaveLength(1);
    const { checkin, audit } = await recorded(releaseId);
    expect(checkin.metrics?.results[0]).toMatchObject({ verdict: 'missed', value: 2 });
    expect(audit.filter((event) => event.type === 'criterion_recorded')).toHaveLength(1);
  });

  it('asks as before, without numbers, when no Prometheus is configured', async () => {
    const releaseId = await deployedRelease(templateWith([errorRate('met_error_percent')]));

    await runCheckin({ ...deps(), metricsSource: undefined }, job(releaseId));

    const shown = textOf(posted()[0]!);
    expect(shown).not.toContain('Metrics');
    const { checkin } = await recorded(releaseId);
    expect(checkin.metrics).toBeUndefined();
    expect(checkin.observed).toBeUndefined();
  });
});
