import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { MetricReading } from '../domain/metric-checks.js';

// Instant queries against Prometheus's HTTP API (/api/v1/query at a given time), and nothing else: a
// reading per query, with a timeout per call and a few retries when the server did not answer. The
// credentials go in headers only; neither they nor the URL's user info ever reach a reading or a log.

export interface PrometheusSettings {
  /** Base URL (a path prefix is kept: https://metrics.example.com/prometheus/). */
  url: string;
  bearerToken?: string | undefined;
  basicAuth?: { username: string; password: string } | undefined;
  /** A PEM file of the CA that signed the server's certificate (a private CA). */
  caFile?: string | undefined;
  /** Accept any certificate: for a test server only. */
  insecureSkipVerify?: boolean | undefined;
  /** Longest wait for one answer. */
  timeoutMs: number;
  /** Further attempts after a call got no answer or a 5xx. */
  retries: number;
}

/** Reads a query's value at a moment. */
export interface MetricsSource {
  /** Where people can open the query themselves (the graph page's base). */
  readonly baseUrl: string;
  query(query: string, at: number): Promise<MetricReading>;
}

const RETRY_DELAY_MS = 200;
const MAX_BODY_BYTES = 1_000_000;

/** What Prometheus answers on /api/v1/query (both success and error shapes). */
interface QueryAnswer {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A reason for people without the server's address or credentials: an error code or the name. */
// The server's certificate was not accepted: retrying cannot help, and the code alone tells nobody what
// to change.
const UNTRUSTED_ISSUER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);
const CERTIFICATE_REFUSED = new Set([
  ...UNTRUSTED_ISSUER,
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function describeCertificateFailure(code: string): string {
  return UNTRUSTED_ISSUER.has(code)
    ? `the server's certificate is not signed by a CA shipcheck trusts (${code}); set PROMETHEUS_CA_FILE to that CA`
    : `the server's certificate was refused (${code})`;
}

function describeFailure(err: unknown): string {
  if (err instanceof Error) {
    // AbortSignal.timeout aborts with a TimeoutError (a DOMException whose code is a number).
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out';
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timed out';
    return typeof code === 'string' ? code : err.name;
  }
  return 'unknown failure';
}

export class PrometheusClient implements MetricsSource {
  readonly baseUrl: string;
  private readonly endpoint: URL;
  private readonly dispatcher: Agent;
  private readonly headers: Record<string, string>;

  constructor(private readonly settings: PrometheusSettings) {
    const base = new URL(settings.url.endsWith('/') ? settings.url : `${settings.url}/`);
    // Credentials written into the URL are sent as basic auth, never as part of a link.
    const inUrl = base.username
      ? { username: decodeURIComponent(base.username), password: decodeURIComponent(base.password) }
      : undefined;
    base.username = '';
    base.password = '';
    this.baseUrl = base.toString();
    this.endpoint = new URL('api/v1/query', base);
    this.dispatcher = new Agent({
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
      connectTimeout: settings.timeoutMs,
      connect: {
        ...(settings.caFile ? { ca: readFileSync(settings.caFile) } : {}),
        rejectUnauthorized: !settings.insecureSkipVerify,
      },
    });
    this.headers = {
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'shipcheck',
    };
    if (settings.bearerToken) this.headers.authorization = `Bearer ${settings.bearerToken}`;
    else if (settings.basicAuth ?? inUrl) {
      const { username, password } = (settings.basicAuth ?? inUrl)!;
      this.headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
  }

  async query(query: string, at: number): Promise<MetricReading> {
    let failure = 'no answer';
    for (let attempt = 0; attempt <= this.settings.retries; attempt++) {
      if (attempt > 0) await sleep(RETRY_DELAY_MS * 2 ** (attempt - 1));
      const outcome = await this.attempt(query, at);
      if (outcome.kind !== 'retry') return outcome.reading;
      failure = outcome.reason;
    }
    return { kind: 'unreachable', message: failure };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async attempt(
    query: string,
    at: number,
  ): Promise<{ kind: 'done'; reading: MetricReading } | { kind: 'retry'; reason: string }> {
    // The server stops evaluating a query at its own timeout too, so a slow one does not pile up.
    const body = new URLSearchParams({
      query,
      time: (at / 1000).toFixed(3),
      timeout: `${Math.max(1, Math.floor(this.settings.timeoutMs / 1000))}s`,
    }).toString();
    let status: number;
    let answer: QueryAnswer | undefined;
    try {
      const response = await request(this.endpoint, {
        method: 'POST',
        headers: this.headers,
        body,
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      status = response.statusCode;
      const text = await response.body.text();
      if (text.length > MAX_BODY_BYTES) return done({ kind: 'error', message: 'the answer is too large' });
      try {
        answer = JSON.parse(text) as QueryAnswer;
      } catch {
        answer = undefined;
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code === 'string' && CERTIFICATE_REFUSED.has(code)) {
        return done({ kind: 'unreachable', message: describeCertificateFailure(code) });
      }
      return { kind: 'retry', reason: describeFailure(err) };
    }
    if (status === 401 || status === 403) {
      return done({ kind: 'error', message: `the server refused the credentials (HTTP ${status})` });
    }
    // 503: the server is overloaded or timed out evaluating; 5xx from a proxy in front of it.
    if (status >= 500 && answer?.errorType !== 'execution') {
      return { kind: 'retry', reason: answer?.errorType ?? `HTTP ${status}` };
    }
    if (answer?.status !== 'success') {
      const message = answer?.error ? `${answer.errorType ?? 'error'}: ${answer.error}` : `HTTP ${status}`;
      return done({ kind: 'error', message: message.slice(0, 300) });
    }
    return done(readResult(answer.data));
  }
}

const done = (reading: MetricReading) => ({ kind: 'done' as const, reading });

function readSample(value: unknown): MetricReading {
  if (!Array.isArray(value) || typeof value[1] !== 'string') {
    return { kind: 'error', message: 'the answer holds no sample' };
  }
  const number = Number(value[1]);
  // NaN is what a ratio of nothing gives (no requests at all): no data, not a value.
  if (Number.isNaN(number)) return { kind: 'no_data' };
  if (!Number.isFinite(number)) return { kind: 'error', message: `the value is ${value[1]}` };
  return { kind: 'value', value: number };
}

/** One number out of a query's result: a scalar, or a vector of exactly one series. */
export function readResult(data: QueryAnswer['data']): MetricReading {
  switch (data?.resultType) {
    case 'scalar':
      return readSample(data.result);
    case 'vector': {
      const series = Array.isArray(data.result) ? (data.result as { value?: unknown }[]) : [];
      if (series.length === 0) return { kind: 'no_data' };
      if (series.length > 1) {
        return {
          kind: 'error',
          message: `the query returns ${series.length} series; aggregate them to one (sum, max, …)`,
        };
      }
      return readSample(series[0]?.value);
    }
    case 'matrix':
      return { kind: 'error', message: 'the query returns a range; wrap it in a function like rate()' };
    default:
      return { kind: 'error', message: `unexpected result type ${String(data?.resultType)}` };
  }
}
