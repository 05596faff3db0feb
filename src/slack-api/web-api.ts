import { Agent, request } from 'undici';

// One HTTP call to a Slack Web API method, and nothing else: a form-encoded POST with the bot token,
// the JSON answer, and an error class per way it can fail. Pacing and retries are SlackOutbound's.
// @slack/web-api's WebClient did this before; it redacted and serialised every request for a debug
// log even when the log was off and went through fetch's web streams, together about 40% of a
// reminder's CPU (docs/BENCHMARKS.md). undici.request is the HTTP client under Node's own fetch.

/** A call to a Slack Web API method that did not succeed; the subclass says how. */
export abstract class SlackCallFailure extends Error {
  constructor(
    readonly method: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Slack answered `ok: false`: the call reached Slack and was refused for a reason it names. */
export class SlackPlatformError extends SlackCallFailure {
  constructor(
    method: string,
    readonly slackError: string,
  ) {
    super(method, `Slack ${method} failed: ${slackError}`);
  }
}

/** HTTP 429: nothing was done; the same call may be sent again after `retryAfterMs`. */
export class SlackRateLimitedError extends SlackCallFailure {
  constructor(
    method: string,
    readonly retryAfterMs: number,
  ) {
    super(method, `Slack ${method} was rate limited; retry after ${retryAfterMs} ms`);
  }
}

/** Any other HTTP status: Slack may or may not have done the work. */
export class SlackHttpError extends SlackCallFailure {
  constructor(
    method: string,
    readonly status: number,
  ) {
    super(method, `Slack ${method} answered HTTP ${status}`);
  }
}

/** No answer: refused connection, reset, timeout. Slack may or may not have done the work. */
export class SlackNetworkError extends SlackCallFailure {
  constructor(method: string, cause: unknown) {
    const reason = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.name) : 'unknown';
    super(method, `Slack ${method} got no answer (${reason})`, { cause });
  }
}

export interface SlackWebApiOptions {
  token: string;
  /** Base URL ending in `/api/`; Slack's own when not given (SLACK_API_URL points tests at a stand-in). */
  apiUrl?: string;
  /** Longest wait for the answer's headers, and again for its body. */
  timeoutMs: number;
  /** Connections kept open to Slack; calls beyond them queue. */
  connections?: number;
}

const SLACK_API_URL = 'https://slack.com/api/';
/** Slack always sends Retry-After with a 429; this is for an answer that somehow lacks it. */
const DEFAULT_RETRY_AFTER_MS = 1000;
const USER_AGENT = `shipcheck node/${process.versions.node}`;

export class SlackWebApi {
  private readonly base: string;
  private readonly dispatcher: Agent;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: SlackWebApiOptions) {
    const base = options.apiUrl ?? SLACK_API_URL;
    this.base = base.endsWith('/') ? base : `${base}/`;
    this.dispatcher = new Agent({ connections: options.connections ?? 100, pipelining: 1 });
    this.headers = {
      authorization: `Bearer ${options.token}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      'user-agent': USER_AGENT,
    };
  }

  /** Calls `method`; resolves with Slack's answer when it says ok, else rejects with a SlackCallFailure. */
  async call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    let answer: Awaited<ReturnType<typeof request>>;
    try {
      answer = await request(`${this.base}${method}`, {
        method: 'POST',
        headers: this.headers,
        body: encodeForm(args),
        dispatcher: this.dispatcher,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
    } catch (err) {
      throw new SlackNetworkError(method, err);
    }
    const { statusCode, headers, body } = answer;
    if (statusCode !== 200) {
      await body.dump().catch(() => undefined);
      if (statusCode === 429) throw new SlackRateLimitedError(method, retryAfterMs(headers['retry-after']));
      throw new SlackHttpError(method, statusCode);
    }
    let result: unknown;
    try {
      result = await body.json();
    } catch (err) {
      throw new SlackNetworkError(method, err);
    }
    if (typeof result !== 'object' || result === null) throw new SlackHttpError(method, statusCode);
    const fields = result as Record<string, unknown>;
    if (fields.ok !== true) {
      throw new SlackPlatformError(method, typeof fields.error === 'string' ? fields.error : 'unknown_error');
    }
    return fields;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/**
 * Slack's form encoding: strings, numbers and booleans as they are, anything else (blocks, metadata,
 * a view) as JSON in its field; undefined and null are left out.
 */
export function encodeForm(args: Record<string, unknown>): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined || value === null) continue;
    const type = typeof value;
    form.append(
      key,
      type === 'string' || type === 'number' || type === 'boolean' ? String(value) : JSON.stringify(value),
    );
  }
  return form.toString();
}

function retryAfterMs(header: string | string[] | undefined): number {
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_RETRY_AFTER_MS;
}
