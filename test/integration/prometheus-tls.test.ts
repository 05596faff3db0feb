import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../../src/metrics-source/prometheus.js';
import { TestExporter, TestPrometheus } from '../support/prometheus.js';

// The client's TLS and bearer settings against a real Prometheus serving HTTPS with a certificate from
// a CA made for the test (openssl): trusted through PROMETHEUS_CA_FILE, refused without it, accepted
// with PROMETHEUS_INSECURE_SKIP_VERIFY. Prometheus itself takes no bearer tokens; teams put a proxy
// that checks one in front of it, so the test does the same: a proxy that lets only the right token
// through to the real server.

const TOKEN = 'prom-bearer-token-for-the-test';

let dir: string;
let exporter: TestExporter;
let prometheus: TestPrometheus;
let proxy: Server;
let proxyUrl: string;
const clients: PrometheusClient[] = [];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'shipcheck-prometheus-tls-'));
  // A CA of the test's own, and a certificate for 127.0.0.1 signed by it.
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=shipcheck test CA',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  await writeFile(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
  exporter = await TestExporter.start();
  exporter.setGauge('tls_queue_depth', { env: 'production' }, 5);
  prometheus = await TestPrometheus.start([exporter.target], {
    tls: {
      certFile: path.join(dir, 'server.pem'),
      keyFile: path.join(dir, 'server.key'),
      caFile: path.join(dir, 'ca.pem'),
    },
  });
  await prometheus.waitFor('sum(tls_queue_depth)', (value) => value === 5);

  // The bearer-checking proxy: plain HTTP in, HTTPS to the real server.
  const ca = readFileSync(path.join(dir, 'ca.pem'));
  const target = new URL(prometheus.url);
  proxy = createHttpServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end('unauthorized');
      return;
    }
    const upstream = httpsRequest(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: target.host },
        ca,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await prometheus?.stop();
  await exporter?.stop();
  await rm(dir, { recursive: true, force: true });
});

function client(settings: Partial<ConstructorParameters<typeof PrometheusClient>[0]>) {
  const created = new PrometheusClient({ url: prometheus.url, timeoutMs: 2000, retries: 0, ...settings });
  clients.push(created);
  return created;
}

describe('PrometheusClient over TLS', () => {
  it('trusts the server through the CA file it is given', async () => {
    const reading = await client({ caFile: path.join(dir, 'ca.pem') }).query(
      'sum(tls_queue_depth)',
      Date.now(),
    );
    expect(reading).toEqual({ kind: 'value', value: 5 });
  });

  it('refuses a certificate it cannot trust, and says what to set', async () => {
    const reading = await client({}).query('sum(tls_queue_depth)', Date.now());
    expect(reading).toEqual({
      kind: 'unreachable',
      message:
        "the server's certificate is not signed by a CA shipcheck trusts (UNABLE_TO_VERIFY_LEAF_SIGNATURE); set PROMETHEUS_CA_FILE to that CA",
    });
  });

  it('accepts any certificate when told to skip the check', async () => {
    const reading = await client({ insecureSkipVerify: true }).query('sum(tls_queue_depth)', Date.now());
    expect(reading).toEqual({ kind: 'value', value: 5 });
  });
});

describe('PrometheusClient with a bearer token', () => {
  it('sends the token, and a wrong one is refused as such without being echoed', async () => {
    expect(
      await client({ url: proxyUrl, bearerToken: TOKEN }).query('sum(tls_queue_depth)', Date.now()),
    ).toEqual({
      kind: 'value',
      value: 5,
    });
    const refused = await client({ url: proxyUrl, bearerToken: 'not-the-token' }).query('up', Date.now());
    expect(refused).toEqual({ kind: 'error', message: 'the server refused the credentials (HTTP 401)' });
    expect(JSON.stringify(refused)).not.toContain('not-the-token');
  });
});
