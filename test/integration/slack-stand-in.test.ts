import { App, LogLevel, verifySlackRequest } from '@slack/bolt';
import {
  ErrorCode,
  type WebAPIHTTPError,
  type WebAPIPlatformError,
  type WebAPIRateLimitedError,
  WebClient,
} from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort } from '../support/free-port.js';
import {
  clickButton,
  clickCheckbox,
  createSlashCommand,
  encodeInteraction,
  encodeSlashCommand,
  postInteraction,
  postSigned,
  postSlashCommand,
  type SlackBlock,
  signSlackRequest,
  submitView,
} from '../support/slack-requests.js';
import { SlackStandIn } from '../support/slack-stand-in.js';

const checklistBlocks = (ticked: string[] = []): SlackBlock[] => {
  const options = ['tests', 'migrations', 'changelog'].map((value) => ({
    text: { type: 'mrkdwn', text: `Check ${value}` },
    value,
  }));
  const initial = options.filter((option) => ticked.includes(option.value));
  return [
    { type: 'header', text: { type: 'plain_text', text: 'Deploy api v1.2.3' } },
    {
      type: 'section',
      block_id: 'phase-pre',
      text: { type: 'mrkdwn', text: '*Before deploy*' },
      accessory: {
        type: 'checkboxes',
        action_id: 'tick',
        options,
        ...(initial.length ? { initial_options: initial } : {}),
      },
    },
    {
      type: 'actions',
      elements: [
        { type: 'button', action_id: 'abort', text: { type: 'plain_text', text: 'Abort' }, value: 'd-1' },
      ],
    },
  ];
};

let standIn: SlackStandIn;
let client: WebClient;

beforeAll(async () => {
  standIn = await SlackStandIn.start();
  client = new WebClient('xoxb-test', {
    slackApiUrl: standIn.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR,
  });
});

afterAll(async () => {
  await standIn.stop();
});

afterEach(() => {
  standIn.reset();
});

describe('Slack stand-in with the real WebClient', () => {
  it('stores posted messages and shows the latest state after chat.update', async () => {
    const posted = await client.chat.postMessage({
      channel: 'C0DEPLOY',
      text: 'Deploy api v1.2.3',
      blocks: checklistBlocks(),
    });
    expect(posted.ok).toBe(true);
    expect(posted.channel).toBe('C0DEPLOY');
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(posted.message?.blocks?.[1]).toMatchObject({ block_id: 'phase-pre' });

    const [call] = standIn.callsTo('chat.postMessage');
    expect(call?.token).toBe('xoxb-test');
    expect(call?.args.blocks).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'header' })]));

    const reply = await client.chat.postMessage({
      channel: 'C0DEPLOY',
      text: 'started',
      thread_ts: posted.ts!,
    });
    expect(Number(reply.ts)).toBeGreaterThan(Number(posted.ts));

    const updated = await client.chat.update({
      channel: 'C0DEPLOY',
      ts: posted.ts!,
      text: 'Deploy api v1.2.3 (1/3)',
      blocks: checklistBlocks(['tests']),
    });
    expect(updated).toMatchObject({
      ok: true,
      channel: 'C0DEPLOY',
      ts: posted.ts,
      text: 'Deploy api v1.2.3 (1/3)',
    });

    const messages = standIn.messages('C0DEPLOY');
    expect(messages.map((m) => [m.text, m.updates, m.thread_ts])).toEqual([
      ['Deploy api v1.2.3 (1/3)', 1, undefined],
      ['started', 0, posted.ts],
    ]);
    const checkbox = messages[0]?.blocks[1]?.accessory;
    expect(checkbox?.initial_options?.map((o) => o.value)).toEqual(['tests']);
    // Slack names blocks and elements the app left unnamed.
    expect(messages[0]?.blocks[2]?.block_id).toEqual(expect.any(String));
  });

  it('fails chat.update for unknown messages and user-id channels', async () => {
    await expect(
      client.chat.update({ channel: 'C0DEPLOY', ts: '1.000001', text: 'x' }),
    ).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: 'message_not_found' },
    });
    const dm = await client.chat.postMessage({ channel: 'U0ALICE', text: 'hi' });
    expect(dm.channel).toBe('D0ALICE');
    await expect(client.chat.update({ channel: 'U0ALICE', ts: dm.ts!, text: 'x' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
  });

  it('answers 429 with Retry-After, which the client raises as a rate-limited error', async () => {
    standIn.misbehave('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 7 }, 1);
    const error = (await client.chat.postMessage({ channel: 'C0DEPLOY', text: 'x' }).catch((e) => e)) as
      | WebAPIRateLimitedError
      | undefined;
    expect(error?.code).toBe(ErrorCode.RateLimitedError);
    expect(error?.retryAfter).toBe(7);
    expect(standIn.messages()).toEqual([]);
    expect(standIn.calls[0]).toMatchObject({
      method: 'chat.postMessage',
      answered: 429,
      misbehaviour: 'rate_limited',
    });

    // The rule was for one call only.
    await client.chat.postMessage({ channel: 'C0DEPLOY', text: 'x' });
    expect(standIn.messages()).toHaveLength(1);
  });

  it('surfaces an error rule as a platform error and leaves messages alone', async () => {
    const { ts } = await client.chat.postMessage({ channel: 'C0DEPLOY', text: 'before' });
    standIn.misbehave('*', { kind: 'error', error: 'not_in_channel' });
    const error = (await client.chat
      .update({ channel: 'C0DEPLOY', ts: ts!, text: 'after' })
      .catch((e) => e)) as WebAPIPlatformError | undefined;
    expect(error?.code).toBe(ErrorCode.PlatformError);
    expect(error?.data.error).toBe('not_in_channel');
    expect(standIn.message('C0DEPLOY', ts!)?.text).toBe('before');

    standIn.clearMisbehaviour();
    await client.chat.update({ channel: 'C0DEPLOY', ts: ts!, text: 'after' });
    expect(standIn.message('C0DEPLOY', ts!)).toMatchObject({ text: 'after', updates: 1 });
  });

  it('applies rules in registration order, each for its number of calls', async () => {
    standIn.misbehave('chat.postMessage', { kind: 'server_error', status: 503 }, 1);
    standIn.misbehave('*', { kind: 'error', error: 'channel_not_found' }, 1);
    const first = (await client.chat
      .postMessage({ channel: 'C0DEPLOY', text: 'x' })
      .catch((e) => e)) as WebAPIHTTPError;
    expect(first.code).toBe(ErrorCode.HTTPError);
    expect(first.statusCode).toBe(503);
    await expect(client.chat.postMessage({ channel: 'C0DEPLOY', text: 'x' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    await client.chat.postMessage({ channel: 'C0DEPLOY', text: 'x' });
    expect(standIn.calls.map((c) => c.answered)).toEqual([503, 200, 200]);
    expect(standIn.calls.map((c) => c.error)).toEqual([undefined, 'channel_not_found', undefined]);
    expect(standIn.messages()).toHaveLength(1);
  });

  it('misbehaves in turn for a while, then answers normally again', async () => {
    standIn.misbehaveFor(
      'chat.postMessage',
      [{ kind: 'server_error', status: 500 }, undefined, { kind: 'rate_limited', retryAfterSec: 1 }],
      300,
    );
    for (let call = 0; call < 4; call++) {
      await client.chat.postMessage({ channel: 'C0DEPLOY', text: 'x' }).catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client.chat.postMessage({ channel: 'C0DEPLOY', text: 'x' });
    expect(standIn.calls.map((c) => c.answered)).toEqual([500, 200, 429, 500, 200]);
    expect(standIn.messages()).toHaveLength(2);
  });

  it('can do the work and still answer 5xx, as a lost answer looks to the app', async () => {
    standIn.misbehave('chat.postMessage', { kind: 'server_error_after_applying', status: 502 }, 1);
    const error = (await client.chat
      .postMessage({ channel: 'C0DEPLOY', text: 'posted anyway' })
      .catch((e) => e)) as WebAPIHTTPError;
    expect(error.statusCode).toBe(502);
    expect(standIn.messages().map((message) => message.text)).toEqual(['posted anyway']);
  });

  it('limits one channel and leaves the others alone', async () => {
    standIn.misbehave('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 1 }, 1, {
      channel: 'C0BUSY',
    });
    await expect(client.chat.postMessage({ channel: 'C0BUSY', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
    });
    await client.chat.postMessage({ channel: 'C0DEPLOY', text: 'x' });
    expect(standIn.calls.map((c) => c.answered)).toEqual([429, 200]);
  });

  it('answers slowly but correctly', async () => {
    standIn.misbehave('chat.postMessage', { kind: 'slow', delayMs: 150 });
    const started = performance.now();
    const { ts } = await client.chat.postMessage({ channel: 'C0DEPLOY', text: 'slow' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(standIn.message('C0DEPLOY', ts!)?.text).toBe('slow');
  });

  it('rejects calls without a token and unknown methods', async () => {
    const anonymous = new WebClient(undefined, { slackApiUrl: standIn.apiUrl, retryConfig: { retries: 0 } });
    await expect(anonymous.auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    await expect(client.apiCall('no.such.method')).rejects.toMatchObject({
      data: { error: 'unknown_method' },
    });
  });

  it('answers auth.test, users.info, conversations.info, permalinks and ephemerals', async () => {
    standIn.setUser('U0BOB', { real_name: 'Bob Builder', tz: 'America/New_York', tz_offset: -18000 });
    expect(await client.auth.test()).toMatchObject({ user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T0001' });
    expect((await client.users.info({ user: 'U0ALICE' })).user).toMatchObject({
      id: 'U0ALICE',
      tz: 'Europe/Berlin',
    });
    expect((await client.users.info({ user: 'U0BOB' })).user).toMatchObject({
      real_name: 'Bob Builder',
      tz_offset: -18000,
    });
    expect((await client.conversations.info({ channel: 'C0DEPLOY' })).channel).toMatchObject({
      id: 'C0DEPLOY',
    });
    const { permalink } = await client.chat.getPermalink({
      channel: 'C0DEPLOY',
      message_ts: '1700000000.000100',
    });
    expect(permalink).toBe('https://example.slack.com/archives/C0DEPLOY/p1700000000000100');
    const { message_ts } = await client.chat.postEphemeral({
      channel: 'C0DEPLOY',
      user: 'U0ALICE',
      text: 'only you',
    });
    expect(standIn.ephemerals).toEqual([
      expect.objectContaining({ user: 'U0ALICE', text: 'only you', message_ts }),
    ]);
  });

  it('accepts JSON bodies', async () => {
    const response = await fetch(`${standIn.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: 'Bearer xoxb-json', 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C0DEPLOY', text: 'json', blocks: checklistBlocks() }),
    });
    expect(await response.json()).toMatchObject({ ok: true, channel: 'C0DEPLOY' });
    expect(standIn.messages()[0]?.blocks).toHaveLength(3);
    expect(standIn.calls[0]?.token).toBe('xoxb-json');
  });

  it('opens and updates modals, and builds their submission', async () => {
    const view = {
      type: 'modal' as const,
      callback_id: 'rollback',
      private_metadata: '{"deploy":"d-1"}',
      title: { type: 'plain_text' as const, text: 'Roll back' },
      submit: { type: 'plain_text' as const, text: 'Roll back' },
      blocks: [
        {
          type: 'input',
          block_id: 'reason',
          label: { type: 'plain_text' as const, text: 'Why?' },
          element: { type: 'plain_text_input', action_id: 'text' },
        },
        {
          type: 'input',
          block_id: 'target',
          label: { type: 'plain_text' as const, text: 'To' },
          element: {
            type: 'static_select',
            action_id: 'version',
            options: [{ text: { type: 'plain_text' as const, text: 'v1.2.2' }, value: 'v1.2.2' }],
          },
        },
      ],
    };
    const opened = await client.views.open({ trigger_id: '123.456.abc', view });
    expect(opened.view?.id).toMatch(/^V/);
    const updated = await client.views.update({ view_id: opened.view!.id!, hash: opened.view!.hash!, view });
    expect(updated.view?.id).toBe(opened.view?.id);
    await expect(
      client.views.update({ view_id: opened.view!.id!, hash: 'stale', view }),
    ).rejects.toMatchObject({
      data: { error: 'hash_conflict' },
    });

    const recorded = standIn.views[0]!;
    expect(recorded).toMatchObject({ method: 'views.open', trigger_id: '123.456.abc', updates: 1 });
    const payload = submitView(
      recorded,
      { reason: { text: 'broken login' }, target: { version: 'v1.2.2' } },
      { user: 'U0BOB' },
    );
    expect(payload).toMatchObject({
      type: 'view_submission',
      user: { id: 'U0BOB', name: 'bob' },
      view: { id: opened.view?.id, callback_id: 'rollback', private_metadata: '{"deploy":"d-1"}' },
    });
    expect(payload.view.state.values).toEqual({
      reason: { text: { type: 'plain_text_input', value: 'broken login' } },
      target: {
        version: { type: 'static_select', selected_option: expect.objectContaining({ value: 'v1.2.2' }) },
      },
    });
    expect(() => submitView(recorded, { reason: { nope: 'x' } })).toThrow(/has no input reason\/nope/);
  });

  it('records response_url posts', async () => {
    const url = standIn.responseUrl('cmd-1');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', text: 'Started' }),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');
    expect(standIn.responsesTo('cmd-1')).toEqual([
      { tag: 'cmd-1', body: { response_type: 'ephemeral', text: 'Started' }, at: expect.any(Number) },
    ]);
  });

  it('waitFor resolves with the value and times out with a summary of calls', async () => {
    setTimeout(() => void client.chat.postMessage({ channel: 'C0DEPLOY', text: 'later' }), 30);
    const message = await standIn.waitFor(() => standIn.messages()[0], 2000, 'the message');
    expect(message?.text).toBe('later');
    await expect(standIn.waitFor(() => false, 50, 'a miracle')).rejects.toThrow(
      /waiting for a miracle[\s\S]*chat\.postMessage → 200 channel="C0DEPLOY"/,
    );
  });
});

describe('Slack stand-in: metadata and reading conversations', () => {
  const deployMetadata = { event_type: 'deploy_started', event_payload: { deploy: 'd-1', phase: 'pre' } };

  it('keeps message metadata from form and JSON bodies, and chat.update replaces it', async () => {
    // The WebClient sends a form body, so the metadata arrives JSON-encoded in one field.
    const posted = await client.chat.postMessage({
      channel: 'C0DEPLOY',
      text: 'x',
      metadata: deployMetadata,
    });
    expect(posted.message?.metadata).toEqual(deployMetadata);
    expect(standIn.message('C0DEPLOY', posted.ts!)?.metadata).toEqual(deployMetadata);

    const plain = await client.chat.postMessage({ channel: 'C0DEPLOY', text: 'no metadata' });
    expect(plain.message).not.toHaveProperty('metadata');
    expect(standIn.message('C0DEPLOY', plain.ts!)).not.toHaveProperty('metadata');

    const response = await fetch(`${standIn.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: 'Bearer xoxb-json', 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C0DEPLOY', text: 'json', metadata: deployMetadata }),
    });
    const json = (await response.json()) as { ts: string; message: { metadata?: unknown } };
    expect(json.message.metadata).toEqual(deployMetadata);

    // Leaving metadata out of chat.update keeps it; passing it replaces it.
    await client.chat.update({ channel: 'C0DEPLOY', ts: posted.ts!, text: 'y' });
    expect(standIn.message('C0DEPLOY', posted.ts!)?.metadata).toEqual(deployMetadata);
    const done = { event_type: 'deploy_finished', event_payload: { deploy: 'd-1' } };
    const updated = await client.chat.update({
      channel: 'C0DEPLOY',
      ts: posted.ts!,
      text: 'z',
      metadata: done,
    });
    expect(updated.message?.metadata).toEqual(done);
    expect(standIn.message('C0DEPLOY', posted.ts!)?.metadata).toEqual(done);

    await expect(
      client.apiCall('chat.postMessage', { channel: 'C0DEPLOY', text: 'x', metadata: { event_type: 'e' } }),
    ).rejects.toMatchObject({ data: { error: 'invalid_metadata_schema' } });
    expect(standIn.messages('C0DEPLOY')).toHaveLength(3);
  });

  it('opens the DM with one user, whose id is the one postMessage to that user uses', async () => {
    const opened = await client.conversations.open({ users: 'U0BOB' });
    expect(opened).toMatchObject({ ok: true, channel: { id: 'D0BOB' } });
    const posted = await client.chat.postMessage({ channel: 'U0BOB', text: 'hi' });
    expect(posted.channel).toBe(opened.channel?.id);

    await expect(client.conversations.open({ users: 'U0BOB,U0ALICE' })).rejects.toMatchObject({
      data: { error: 'too_many_users' },
    });
    await expect(client.apiCall('conversations.open', {})).rejects.toMatchObject({
      data: { error: 'users_list_not_supplied' },
    });
  });

  it('lists top-level messages newest first, within oldest/latest, in pages', async () => {
    const post = async (text: string, thread_ts?: string) =>
      (await client.chat.postMessage({ channel: 'C0DEPLOY', text, ...(thread_ts ? { thread_ts } : {}) })).ts!;
    const first = await post('first');
    await post('reply to first', first);
    const second = await post('second');
    const third = await post('third');
    await client.chat.postMessage({ channel: 'C0OTHER', text: 'elsewhere' });

    const all = await client.conversations.history({ channel: 'C0DEPLOY' });
    expect(all.messages?.map((m) => m.text)).toEqual(['third', 'second', 'first']);
    expect(all).toMatchObject({ has_more: false, response_metadata: { next_cursor: '' } });
    expect(all.messages?.[0]).toMatchObject({ type: 'message', user: 'UBOT', bot_id: 'BBOT', ts: third });

    const between = await client.conversations.history({ channel: 'C0DEPLOY', oldest: first, latest: third });
    expect(between.messages?.map((m) => m.ts)).toEqual([second]);
    const inclusive = await client.conversations.history({
      channel: 'C0DEPLOY',
      oldest: first,
      latest: third,
      inclusive: true,
    });
    expect(inclusive.messages?.map((m) => m.ts)).toEqual([third, second, first]);

    const page1 = await client.conversations.history({ channel: 'C0DEPLOY', limit: 2 });
    expect(page1.messages?.map((m) => m.text)).toEqual(['third', 'second']);
    expect(page1.has_more).toBe(true);
    // A message posted between pages must not shift the next page.
    await post('fourth');
    const page2 = await client.conversations.history({
      channel: 'C0DEPLOY',
      limit: 2,
      cursor: page1.response_metadata!.next_cursor!,
    });
    expect(page2.messages?.map((m) => m.text)).toEqual(['first']);
    expect(page2.has_more).toBe(false);

    await expect(
      client.conversations.history({ channel: 'C0DEPLOY', cursor: 'bm9wZQ==' }),
    ).rejects.toMatchObject({ data: { error: 'invalid_cursor' } });
    await expect(client.conversations.history({ channel: 'U0ALICE' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    expect(await client.conversations.history({ channel: 'C0EMPTY' })).toMatchObject({
      ok: true,
      messages: [],
      has_more: false,
    });
  });

  it('returns metadata in history and replies only with include_all_metadata', async () => {
    const { ts } = await client.chat.postMessage({
      channel: 'C0DEPLOY',
      text: 'x',
      metadata: deployMetadata,
    });
    await client.chat.postMessage({ channel: 'C0DEPLOY', text: 'plain' });

    const without = await client.conversations.history({ channel: 'C0DEPLOY' });
    expect(without.messages?.some((m) => 'metadata' in m)).toBe(false);
    const withMetadata = await client.conversations.history({
      channel: 'C0DEPLOY',
      include_all_metadata: true,
    });
    expect(withMetadata.messages?.map((m) => m.metadata)).toEqual([undefined, deployMetadata]);
    expect(withMetadata.messages?.[0]).not.toHaveProperty('metadata');

    const replies = await client.conversations.replies({
      channel: 'C0DEPLOY',
      ts: ts!,
      include_all_metadata: true,
    });
    expect(replies.messages?.[0]?.metadata).toEqual(deployMetadata);
    expect(standIn.callsTo('conversations.replies')[0]?.args.include_all_metadata).toBe('true');
  });

  it('lists a thread parent first, then replies oldest first, in pages', async () => {
    const parent = (await client.chat.postMessage({ channel: 'C0DEPLOY', text: 'parent' })).ts!;
    const replyTs: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      replyTs.push((await client.chat.postMessage({ channel: 'C0DEPLOY', text, thread_ts: parent })).ts!);
    }
    await client.chat.postMessage({ channel: 'C0DEPLOY', text: 'not in the thread' });

    const thread = await client.conversations.replies({ channel: 'C0DEPLOY', ts: parent });
    expect(thread.messages?.map((m) => m.text)).toEqual(['parent', 'one', 'two', 'three']);
    expect(thread.messages?.[1]).toMatchObject({ ts: replyTs[0], thread_ts: parent });

    const page1 = await client.conversations.replies({ channel: 'C0DEPLOY', ts: parent, limit: 3 });
    expect(page1.messages?.map((m) => m.text)).toEqual(['parent', 'one', 'two']);
    expect(page1.has_more).toBe(true);
    const page2 = await client.conversations.replies({
      channel: 'C0DEPLOY',
      ts: parent,
      limit: 3,
      cursor: page1.response_metadata!.next_cursor!,
    });
    expect(page2.messages?.map((m) => m.text)).toEqual(['three']);
    expect(page2).toMatchObject({ has_more: false, response_metadata: { next_cursor: '' } });

    const newer = await client.conversations.replies({
      channel: 'C0DEPLOY',
      ts: parent,
      oldest: replyTs[0]!,
    });
    expect(newer.messages?.map((m) => m.text)).toEqual(['two', 'three']);

    await expect(client.conversations.replies({ channel: 'C0DEPLOY', ts: '1.000001' })).rejects.toMatchObject(
      {
        data: { error: 'thread_not_found' },
      },
    );
  });

  it('lets misbehaviour rules apply to the conversation methods', async () => {
    standIn.misbehave('conversations.history', { kind: 'error', error: 'not_in_channel' }, 1);
    await expect(client.conversations.history({ channel: 'C0DEPLOY' })).rejects.toMatchObject({
      data: { error: 'not_in_channel' },
    });
    expect((await client.conversations.history({ channel: 'C0DEPLOY' })).ok).toBe(true);
  });
});

describe('request helpers', () => {
  it('signs like Slack (known vector from Slack documentation)', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
      '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
      '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
      '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)).toEqual({
      'x-slack-request-timestamp': '1531420618',
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    });
  });

  it('produces bodies Bolt verifies', () => {
    const body = encodeSlashCommand(createSlashCommand({ text: 'api v1.2.3 to production' }));
    const headers = signSlackRequest('s3cret', body);
    expect(() =>
      verifySlackRequest({
        signingSecret: 's3cret',
        body,
        headers: {
          'x-slack-signature': headers['x-slack-signature'],
          'x-slack-request-timestamp': Number(headers['x-slack-request-timestamp']),
        },
      }),
    ).not.toThrow();
    expect(Object.fromEntries(new URLSearchParams(body))).toMatchObject({
      team_id: 'T0001',
      channel_id: 'C0DEPLOY',
      user_id: 'U0ALICE',
      user_name: 'alice',
      command: '/deploy',
      text: 'api v1.2.3 to production',
      is_enterprise_install: 'false',
    });
  });

  it('clickCheckbox ticks and unticks from the state the user sees', async () => {
    const { ts } = await client.chat.postMessage({
      channel: 'C0DEPLOY',
      text: 'x',
      blocks: checklistBlocks(['tests']),
    });
    const message = standIn.message('C0DEPLOY', ts!)!;
    const responseUrl = standIn.responseUrl();

    const tick = clickCheckbox(
      message,
      { optionValue: 'changelog' },
      { selected: true, user: 'U0BOB', responseUrl },
    );
    expect(tick).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0BOB', username: 'bob', name: 'bob', team_id: 'T0001' },
      container: { type: 'message', message_ts: ts, channel_id: 'C0DEPLOY', is_ephemeral: false },
      channel: { id: 'C0DEPLOY' },
      message: { ts, user: 'UBOT', bot_id: 'BBOT', text: 'x' },
      response_url: responseUrl,
      enterprise: null,
      is_enterprise_install: false,
    });
    const [action] = tick.actions;
    expect(action).toMatchObject({ type: 'checkboxes', block_id: 'phase-pre', action_id: 'tick' });
    expect(action?.action_ts).toMatch(/^\d{10}\.\d{6}$/);
    const values = ((action?.selected_options ?? []) as { value: string }[]).map((o) => o.value);
    expect(values).toEqual(['tests', 'changelog']);
    expect(tick.state.values['phase-pre']?.tick).toEqual({
      type: 'checkboxes',
      selected_options: action?.selected_options,
    });

    const untick = clickCheckbox(message, { optionValue: 'tests', actionId: 'tick' }, { selected: false });
    expect(untick.actions[0]?.selected_options).toEqual([]);

    expect(() => clickCheckbox(message, { optionValue: 'tests' }, { selected: true })).toThrow(
      /already ticked/,
    );
    expect(() => clickCheckbox(message, { optionValue: 'smoke' }, { selected: true })).toThrow(
      /No clickable checkbox with value "smoke"[\s\S]*phase-pre\/tick: \[x\] tests, \[ \] migrations/,
    );

    const abort = clickButton(message, { actionId: 'abort' });
    expect(abort.actions[0]).toMatchObject({ type: 'button', action_id: 'abort', value: 'd-1' });
    expect(decodeURIComponent(encodeInteraction(abort).slice('payload='.length).replace(/\+/g, ' '))).toBe(
      JSON.stringify(abort),
    );
  });
});

describe('helpers against a real Bolt app', () => {
  it('delivers signed commands and clicks that Bolt accepts, and rejects forged ones', async () => {
    const signingSecret = 'bolt-secret';
    const port = await getFreePort();
    const app = new App({
      token: 'xoxb-bolt',
      signingSecret,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: standIn.apiUrl, retryConfig: { retries: 0 } },
    });
    app.command('/deploy', async ({ ack, respond, client: web, command }) => {
      await ack();
      await respond({ response_type: 'ephemeral', text: `Deploying ${command.text}` });
      await web.chat.postMessage({
        channel: command.channel_id,
        text: 'checklist',
        blocks: checklistBlocks(),
      });
    });
    app.action('tick', async ({ ack, body, respond }) => {
      await ack();
      const action = (body as { actions: { selected_options: { value: string }[] }[] }).actions[0];
      await respond({ text: `ticked ${action?.selected_options.map((o) => o.value).join(',')}` });
    });
    await app.start(port);
    try {
      const url = `http://127.0.0.1:${port}/slack/events`;
      const command = createSlashCommand({ text: 'api', response_url: standIn.responseUrl('cmd') });
      const acked = await postSlashCommand(url, command, { signingSecret });
      expect(acked.status).toBe(200);
      const posted = await standIn.waitFor(() => standIn.messages('C0DEPLOY')[0], 2000, 'the checklist');
      expect(standIn.responsesTo('cmd')[0]?.body).toMatchObject({ text: 'Deploying api' });

      const click = clickCheckbox(
        posted!,
        { optionValue: 'tests' },
        { selected: true, responseUrl: standIn.responseUrl('click') },
      );
      expect((await postInteraction(url, click, { signingSecret, retryNum: 1 })).status).toBe(200);
      await standIn.waitFor(() => standIn.responsesTo('click').length > 0, 2000, 'the click response');
      expect(standIn.responsesTo('click')[0]?.body).toMatchObject({ text: 'ticked tests' });

      const forged = await postSigned(url, encodeSlashCommand(command), {
        signingSecret,
        signature: 'v0=deadbeef',
      });
      expect(forged.status).toBe(401);
      const stale = await postSigned(url, encodeSlashCommand(command), {
        signingSecret,
        timestampSec: Math.floor(Date.now() / 1000) - 600,
      });
      expect(stale.status).toBe(401);
    } finally {
      await app.stop();
    }
  });
});
