import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { getFreePort } from '../support/free-port.js';
import { TestRedisServer } from '../support/redis-server.js';
import { click, plainItemIds, waitForHeader, waitForItem, waitForPhase } from './helpers.js';

// What an operator's monitoring sees: liveness, readiness and Prometheus metrics.

const apps: TestApp[] = [];
const redisServers: TestRedisServer[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});
afterAll(async () => {
  await Promise.all(redisServers.map((server) => server.stop()));
});

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The value of one Prometheus sample, e.g. metric('shipcheck_active_releases') or with labels. */
function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('health and readiness', () => {
  it('stays live while Redis is away, is not ready until it is back, and recovers by itself', async () => {
    const redis = await TestRedisServer.start();
    redisServers.push(redis);
    const app = await startTestApp({ env: { REDIS_URL: redis.url } });
    apps.push(app);
    expect(await getJson(`${app.baseUrl}/healthz`)).toMatchObject({
      status: 200,
      body: { ok: true, status: 'live' },
    });
    expect(await getJson(`${app.baseUrl}/readyz`)).toMatchObject({
      status: 200,
      body: { ok: true, checks: { redis: 'up', queue: 'up', worker: 'up' } },
    });

    await redis.kill();
    expect((await getJson(`${app.baseUrl}/healthz`)).status).toBe(200);
    const notReady = await getJson(`${app.baseUrl}/readyz`);
    expect(notReady).toMatchObject({ status: 503, body: { ok: false } });
    expect((notReady.body.checks as Record<string, string>).redis).toBe('down');

    await redis.run();
    let ready = 0;
    for (let attempt = 0; attempt < 100 && ready !== 200; attempt++) {
      ready = (await getJson(`${app.baseUrl}/readyz`)).status;
      if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(ready).toBe(200);
  });
});

describe('metrics', () => {
  it('exposes ack latency, Slack calls, jobs and active releases after traffic', async () => {
    const app = await startTestApp();
    apps.push(app);
    await app.command('start v1.0 staging minimal');
    const header = await waitForHeader(app, 'v1.0 → staging');
    const phase = await waitForPhase(app, header, 'Before the deploy');
    const [itemId] = plainItemIds('minimal', 0);
    await click(app, phase, itemId!, true);
    await waitForItem(app, phase, itemId!, true);

    // A job counts as finished a moment after its last Slack call lands.
    let text = '';
    for (let tries = 0; tries < 100; tries++) {
      const response = await fetch(`${app.baseUrl}/metrics`);
      expect(response.headers.get('content-type')).toContain('text/plain');
      text = await response.text();
      const finished = metricValue(text, 'shipcheck_jobs_finished_total', {
        queue: 'slack-sync',
        outcome: 'completed',
      });
      if ((finished ?? 0) >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(metricValue(text, 'shipcheck_ack_duration_seconds_count', { kind: 'command' })).toBe(1);
    expect(metricValue(text, 'shipcheck_ack_duration_seconds_count', { kind: 'action' })).toBe(1);
    // The click's commit, timed inside its acknowledgement.
    expect(metricValue(text, 'shipcheck_commit_before_ack_seconds_count', { kind: 'checkbox' })).toBe(1);
    expect(
      metricValue(text, 'shipcheck_slack_api_calls_total', { method: 'chat.postMessage', outcome: 'ok' }),
    ).toBe(2);
    expect(
      metricValue(text, 'shipcheck_slack_api_calls_total', { method: 'chat.update', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(text, 'shipcheck_jobs_finished_total', { queue: 'slack-sync', outcome: 'completed' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      metricValue(text, 'shipcheck_job_lateness_seconds_count', { queue: 'slack-sync' }),
    ).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, 'shipcheck_active_releases')).toBe(1);
    expect(metricValue(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it('counts rate limits and errors from Slack by method', async () => {
    const app = await startTestApp();
    apps.push(app);
    app.standIn.misbehave('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 1 }, 1);
    await app.command('start v1.1 staging minimal');
    await waitForHeader(app, 'v1.1 → staging');
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(
      metricValue(text, 'shipcheck_slack_api_calls_total', {
        method: 'chat.postMessage',
        outcome: 'rate_limited',
      }),
    ).toBe(1);
    expect(
      metricValue(text, 'shipcheck_slack_rate_limit_wait_seconds_total', { method: 'chat.postMessage' }),
    ).toBe(1);
  });

  it('serves metrics on METRICS_PORT when it is set, and not on the main port', async () => {
    const metricsPort = await getFreePort();
    const app = await startTestApp({ env: { METRICS_PORT: String(metricsPort) } });
    apps.push(app);
    expect((await fetch(`${app.baseUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('shipcheck_ack_duration_seconds');
  });
});
