import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeForm,
  SlackHttpError,
  SlackNetworkError,
  SlackPlatformError,
  SlackRateLimitedError,
  SlackWebApi,
} from '../../src/slack-api/web-api.js';
import { getFreePort } from '../support/free-port.js';
import { SlackStandIn } from '../support/slack-stand-in.js';

const TOKEN = 'xoxb-web-api-test-secret';

let standIn: SlackStandIn;
let api: SlackWebApi;

beforeAll(async () => {
  standIn = await SlackStandIn.start();
  api = new SlackWebApi({ token: TOKEN, apiUrl: standIn.apiUrl, timeoutMs: 300 });
});

afterAll(async () => {
  await api.close();
  await standIn.stop();
});

afterEach(() => {
  standIn.reset();
});

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );

/** The token must not leak through an error's message, its cause or its fields. */
function expectNoToken(error: Error | undefined) {
  expect(error).toBeDefined();
  const seen = [String(error), String(error?.cause ?? ''), JSON.stringify(error)].join(' ');
  expect(seen).not.toContain(TOKEN);
}

describe('SlackWebApi against the Slack stand-in', () => {
  it('posts a message with its blocks and metadata and returns Slack’s answer', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'Deploy *api* v1 & <more>' } }];
    const metadata = { event_type: 'shipcheck_delivery', event_payload: { key: 'remind-r1-p0' } };
    const answer = await api.call('chat.postMessage', {
      channel: 'C0DEPLOY',
      text: 'Deploy api v1',
      blocks,
      metadata,
      unfurl_links: false,
      thread_ts: undefined,
    });
    expect(answer).toMatchObject({
      ok: true,
      channel: 'C0DEPLOY',
      ts: expect.stringMatching(/^\d+\.\d{6}$/),
    });

    const [call] = standIn.callsTo('chat.postMessage');
    expect(call?.token).toBe(TOKEN);
    expect(call?.args).not.toHaveProperty('thread_ts');
    const [stored] = standIn.messages('C0DEPLOY');
    expect(stored).toMatchObject({ text: 'Deploy api v1', metadata });
    expect(stored?.blocks[0]?.text).toEqual(blocks[0]?.text);
  });

  it('raises ok:false as a platform error naming Slack’s reason', async () => {
    const error = await failureOf(
      api.call('chat.update', { channel: 'C0DEPLOY', ts: '1.000001', text: 'x' }),
    );
    expect(error).toBeInstanceOf(SlackPlatformError);
    expect(error).toMatchObject({ method: 'chat.update', slackError: 'message_not_found' });
    expectNoToken(error);
  });

  it('raises a 429 as rate limited with Slack’s Retry-After, having done nothing', async () => {
    standIn.misbehave('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 7 }, 1);
    const error = await failureOf(api.call('chat.postMessage', { channel: 'C0DEPLOY', text: 'x' }));
    expect(error).toBeInstanceOf(SlackRateLimitedError);
    expect(error).toMatchObject({ retryAfterMs: 7000 });
    expect(standIn.messages()).toEqual([]);
    expectNoToken(error);
  });

  it('raises another status as an HTTP error', async () => {
    standIn.misbehave('chat.postMessage', { kind: 'server_error', status: 503 }, 1);
    const error = await failureOf(api.call('chat.postMessage', { channel: 'C0DEPLOY', text: 'x' }));
    expect(error).toBeInstanceOf(SlackHttpError);
    expect(error).toMatchObject({ status: 503 });
    expectNoToken(error);

    // The connection is still good for the next call.
    await api.call('chat.postMessage', { channel: 'C0DEPLOY', text: 'y' });
    expect(standIn.messages().map((message) => message.text)).toEqual(['y']);
  });

  it('gives up on an answer slower than its timeout', async () => {
    standIn.misbehave('chat.postMessage', { kind: 'slow', delayMs: 3000 }, 1);
    const started = performance.now();
    const error = await failureOf(api.call('chat.postMessage', { channel: 'C0DEPLOY', text: 'x' }));
    expect(error).toBeInstanceOf(SlackNetworkError);
    expect(performance.now() - started).toBeLessThan(2500);
    expectNoToken(error);
  });

  it('raises a refused connection as a network error', async () => {
    const port = await getFreePort();
    const nowhere = new SlackWebApi({ token: TOKEN, apiUrl: `http://127.0.0.1:${port}/api`, timeoutMs: 300 });
    try {
      const error = await failureOf(nowhere.call('auth.test', {}));
      expect(error).toBeInstanceOf(SlackNetworkError);
      expect(error?.message).toMatch(/auth\.test got no answer \(ECONNREFUSED\)/);
      expectNoToken(error);
    } finally {
      await nowhere.close();
    }
  });
});

describe('encodeForm', () => {
  it('sends scalars as they are, objects as JSON, and leaves out what is missing', () => {
    const form = new URLSearchParams(
      encodeForm({
        channel: 'C1',
        limit: 200,
        inclusive: true,
        blocks: [{ type: 'divider' }],
        cursor: undefined,
        thread_ts: null,
      }),
    );
    expect([...form.keys()]).toEqual(['channel', 'limit', 'inclusive', 'blocks']);
    expect(form.get('limit')).toBe('200');
    expect(form.get('inclusive')).toBe('true');
    expect(JSON.parse(form.get('blocks') ?? '')).toEqual([{ type: 'divider' }]);
  });
});
