import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../../src/metrics-source/prometheus.js';
import { TestExporter, TestPrometheus } from '../support/prometheus.js';

// The Prometheus HTTP API client against a real server that asks for basic auth: the credentials go
// in the header (from the settings or the URL), a refusal is an error that names no secret, and a
// query that returns several series or a range is an error that says how to fix it.

// bcrypt of "metrics-pass" (cost 4, so the server checks it fast).
const HASH = '$2b$04$y1EFr..untg01pijWAklfOZKAtlPB1fyHwjY1CBwC5lic2XWvddsq';

let exporter: TestExporter;
let prometheus: TestPrometheus;
const clients: PrometheusClient[] = [];

beforeAll(async () => {
  exporter = await TestExporter.start();
  exporter.setGauge('client_queue_depth', { env: 'production', shard: 'a' }, 3);
  exporter.setGauge('client_queue_depth', { env: 'production', shard: 'b' }, 4);
  prometheus = await TestPrometheus.start([exporter.target], {
    basicAuth: { username: 'shipcheck', password: 'metrics-pass', hash: HASH },
  });
}, 30_000);
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await prometheus?.stop();
  await exporter?.stop();
});

function client(settings: Partial<ConstructorParameters<typeof PrometheusClient>[0]> = {}) {
  const created = new PrometheusClient({ url: prometheus.url, timeoutMs: 2000, retries: 0, ...settings });
  clients.push(created);
  return created;
}

const basicAuth = { username: 'shipcheck', password: 'metrics-pass' };

/** Waits for the first scrape, through an authorised client. */
async function scraped(): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const reading = await client({ basicAuth }).query('sum(client_queue_depth)', Date.now());
    if (reading.kind === 'value' && reading.value === 7) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the exporter was never scraped');
}

describe('PrometheusClient', () => {
  it('reads one number with basic auth, from the settings or from the URL', async () => {
    await scraped();
    expect(
      await client({ basicAuth }).query('sum(client_queue_depth{env="production"})', Date.now()),
    ).toEqual({
      kind: 'value',
      value: 7,
    });
    const inUrl = client({ url: prometheus.url.replace('http://', 'http://shipcheck:metrics-pass@') });
    expect(await inUrl.query('max(client_queue_depth)', Date.now())).toEqual({ kind: 'value', value: 4 });
    // Links to the graph page never carry the credentials.
    expect(inUrl.baseUrl).toBe(`${prometheus.url}/`);
  });

  it('calls refused credentials an error without retrying and without the password', async () => {
    const reading = await client({ basicAuth: { username: 'shipcheck', password: 'wrong-pass' } }).query(
      'up',
      Date.now(),
    );
    expect(reading).toEqual({ kind: 'error', message: 'the server refused the credentials (HTTP 401)' });
  });

  it('asks for one series, and for an instant query rather than a range', async () => {
    await scraped();
    expect(await client({ basicAuth }).query('client_queue_depth', Date.now())).toEqual({
      kind: 'error',
      message: 'the query returns 2 series; aggregate them to one (sum, max, …)',
    });
    expect(await client({ basicAuth }).query('client_queue_depth[1m]', Date.now())).toEqual({
      kind: 'error',
      message: 'the query returns a range; wrap it in a function like rate()',
    });
  });

  it('reads a scalar, and NaN as no data', async () => {
    await scraped();
    const scalar = await client({ basicAuth }).query('scalar(sum(client_queue_depth)) * 2', Date.now());
    expect(scalar).toEqual({ kind: 'value', value: 14 });
    const nothing = await client({ basicAuth }).query('vector(0) / vector(0)', Date.now());
    expect(nothing).toEqual({ kind: 'no_data' });
  });
});
