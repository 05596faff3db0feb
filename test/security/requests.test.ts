import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETIRED_BUTTON_TEXT } from '../../src/slack/listeners/unmatched.js';
import { describeUserError } from '../../src/views/user-errors.js';
import { current, waitForHeader, waitForItem, waitForPhase, waitForReply } from '../e2e/helpers.js';
import {
  createSlashCommand,
  encodeInteraction,
  encodeSlashCommand,
  nowSec,
  postSigned,
  signSlackRequest,
} from '../support/slack-requests.js';
import type { StoredMessage } from '../support/slack-stand-in.js';
import {
  expectNoSecretsLeaked,
  readAudit,
  type SecurityApp,
  snapshotData,
  startSecurityApp,
  waitUntilSettled,
} from './support.js';

// Requests that Slack did not sign, signed long ago, or signed but unreadable: each is refused with
// the 4xx Bolt's receiver (and shipcheck's server in front of it) gives, reaches no listener, changes
// nothing in Redis, and the app keeps serving.

/** Bolt's default body limit (HTTPReceiver bodyLimit). */
const BODY_LIMIT_BYTES = 4 * 1024 * 1024;

let app: SecurityApp;
let phase: StoredMessage;
beforeAll(async () => {
  app = await startSecurityApp();
  await app.command('start v1.0 staging minimal');
  const header = await waitForHeader(app, 'v1.0 → staging');
  phase = await waitForPhase(app, header, 'Before the deploy');
});
afterAll(async () => {
  await app?.stop();
});

/** A form body that ticks an item, as Slack would send it: accepted, it would change the release. */
function tickBody(tag: string): string {
  return encodeInteraction(
    app.tickPayload(current(app, phase), 'code-reviewed', true, 'U0ALICE', app.standIn.responseUrl(tag)),
  );
}

/** A form body that cancels the release: accepted, it would end it. */
function cancelBody(tag: string): string {
  return encodeSlashCommand(
    createSlashCommand({ text: 'cancel v1.0 staging forged', response_url: app.standIn.responseUrl(tag) }),
  );
}

/** A POST with exactly these headers (fetch would add a content type of its own). */
function rawPost(path: string, body: string, headers: Record<string, string>): Promise<number> {
  const url = new URL(path, app.baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function signedHeaders(body: string, timestampSec = nowSec(), secret = app.signingSecret) {
  return signSlackRequest(secret, body, timestampSec);
}

/** What a refused request must leave unchanged: Redis, Slack, and the app's ability to serve. */
async function expectNothingHappened(before: Record<string, unknown>, callsBefore: number, tags: string[]) {
  // A request that did get through is answered at once and does its work after: a signed status
  // command, answered by its reply, has run after everything sent before it had been acknowledged.
  const probe = await app.command('status v1.0');
  expect(probe.status).toBe(200);
  await waitForReply(app, probe.responseTag, /v1\.0/);
  await waitUntilSettled(app);
  expect(await snapshotData(app.prefix)).toEqual(before);
  for (const tag of tags) expect(app.standIn.responsesTo(tag)).toEqual([]);
  const newCalls = app.standIn.calls.slice(callsBefore).map((call) => call.method);
  expect(newCalls).toEqual([]);
  expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
}

describe('signatures and timestamps', () => {
  it('refuses unsigned, forged, tampered, stale and future-dated requests with 401, changing nothing', async () => {
    const before = await waitUntilSettled(app);
    const callsBefore = app.standIn.calls.length;
    const tags: string[] = [];
    const next = (name: string) => {
      tags.push(name);
      return name;
    };
    const form = 'application/x-www-form-urlencoded';

    const cases: [string, () => Promise<number>][] = [
      [
        'no signature headers',
        () => rawPost('/slack/events', tickBody(next('unsigned')), { 'content-type': form }),
      ],
      [
        'a signature but no timestamp',
        async () => {
          const body = tickBody(next('no-timestamp'));
          const { 'x-slack-signature': signature } = signedHeaders(body);
          return rawPost('/slack/events', body, { 'content-type': form, 'x-slack-signature': signature });
        },
      ],
      [
        'a timestamp but no signature',
        async () => {
          const body = cancelBody(next('no-signature'));
          const { 'x-slack-request-timestamp': timestamp } = signedHeaders(body);
          return rawPost('/slack/events', body, {
            'content-type': form,
            'x-slack-request-timestamp': timestamp,
          });
        },
      ],
      [
        'signed with another secret',
        async () => {
          const body = cancelBody(next('wrong-secret'));
          return rawPost('/slack/events', body, {
            'content-type': form,
            ...signedHeaders(body, nowSec(), 'not-the-signing-secret'),
          });
        },
      ],
      [
        'an unknown signature version',
        async () => {
          const body = tickBody(next('v1-signature'));
          const headers = signedHeaders(body);
          headers['x-slack-signature'] = headers['x-slack-signature'].replace(/^v0=/, 'v1=');
          return rawPost('/slack/events', body, { 'content-type': form, ...headers });
        },
      ],
      [
        'an empty signature',
        async () => {
          const body = tickBody(next('empty-signature'));
          return rawPost('/slack/events', body, {
            'content-type': form,
            ...signedHeaders(body),
            'x-slack-signature': 'v0=',
          });
        },
      ],
      [
        'a body changed after signing',
        async () => {
          const signedFor = cancelBody(next('tampered-original'));
          const sent = signedFor.replace('forged', 'tampered');
          return rawPost('/slack/events', sent, { 'content-type': form, ...signedHeaders(signedFor) });
        },
      ],
      [
        'a timestamp that is not a number',
        async () => {
          const body = tickBody(next('nan-timestamp'));
          return rawPost('/slack/events', body, {
            'content-type': form,
            ...signedHeaders(body),
            'x-slack-request-timestamp': 'yesterday',
          });
        },
      ],
      [
        // Slack's rule, and Bolt's: older than five minutes is stale, however well signed.
        'signed correctly 5 min 1 s ago',
        async () => {
          const body = cancelBody(next('stale'));
          return rawPost('/slack/events', body, {
            'content-type': form,
            ...signedHeaders(body, nowSec() - 301),
          });
        },
      ],
      [
        // Slack's guidance is five minutes either way; Bolt only refuses the past.
        'signed correctly, dated 10 min in the future',
        async () => {
          const body = cancelBody(next('future'));
          return rawPost('/slack/events', body, {
            'content-type': form,
            ...signedHeaders(body, nowSec() + 600),
          });
        },
      ],
      [
        'signed correctly, dated 5 min 1 s in the future',
        async () => {
          const body = tickBody(next('future-edge'));
          return rawPost('/slack/events', body, {
            'content-type': form,
            ...signedHeaders(body, nowSec() + 301),
          });
        },
      ],
      [
        'a request recorded an hour ago, replayed',
        async () => {
          const body = tickBody(next('replayed-old'));
          return rawPost('/slack/events', body, {
            'content-type': form,
            ...signedHeaders(body, nowSec() - 3600),
          });
        },
      ],
      [
        'the signature of an old request with a fresh timestamp',
        async () => {
          const body = cancelBody(next('retimed'));
          const old = signedHeaders(body, nowSec() - 3600);
          return rawPost('/slack/events', body, {
            'content-type': form,
            'x-slack-signature': old['x-slack-signature'],
            'x-slack-request-timestamp': String(nowSec()),
          });
        },
      ],
    ];
    const statuses: Record<string, number> = {};
    for (const [name, send] of cases) statuses[name] = await send();
    expect(statuses).toEqual(Object.fromEntries(cases.map(([name]) => [name, 401])));
    await expectNothingHappened(before, callsBefore, tags);
  });

  it('applies a request replayed inside the five minutes once: a tick and a start', async () => {
    await waitUntilSettled(app);
    const auditBefore = await readAudit(app.prefix, 'r1');
    const tick = tickBody('replay-tick');
    const tickHeaders = { 'content-type': 'application/x-www-form-urlencoded', ...signedHeaders(tick) };
    expect(await rawPost('/slack/events', tick, tickHeaders)).toBe(200);
    await waitForItem(app, phase, 'code-reviewed', true);
    expect(await rawPost('/slack/events', tick, tickHeaders)).toBe(200);
    await waitUntilSettled(app);
    const ticked = (await readAudit(app.prefix, 'r1')).slice(auditBefore.length);
    expect(ticked.map((entry) => [entry.fields.type, entry.fields.item])).toEqual([
      ['ticked', 'code-reviewed'],
    ]);

    const start = encodeSlashCommand(
      createSlashCommand({ text: 'start v2.0 development minimal', response_url: app.standIn.responseUrl() }),
    );
    const startHeaders = { 'content-type': 'application/x-www-form-urlencoded', ...signedHeaders(start) };
    expect(await rawPost('/slack/events', start, startHeaders)).toBe(200);
    await waitForHeader(app, 'v2.0 → development');
    expect(await rawPost('/slack/events', start, startHeaders)).toBe(200);
    const settled = await waitUntilSettled(app);
    expect(settled[`${app.prefix}:{T0001}:version:v2.0`]).toMatchObject({ type: 'zset' });
    const versions = settled[`${app.prefix}:{T0001}:version:v2.0`] as { value: string[] };
    // One release id and its score: the replay started nothing.
    expect(versions.value).toHaveLength(2);
    expect(
      app.standIn.messages().filter((message) => message.text.startsWith('Release v2.0 → development')),
    ).toHaveLength(1);
  });
});

describe('content types, sizes and methods', () => {
  it('answers 400 to a signed body in a content type Slack does not send, 413 above 4 MiB, 405 to other methods', async () => {
    const before = await waitUntilSettled(app);
    const callsBefore = app.standIn.calls.length;
    const tags = ['text-plain', 'charset', 'json-type', 'multipart', 'no-type'];
    const signedAs = (tag: string, contentType: string | undefined) => {
      const body = cancelBody(tag);
      return rawPost('/slack/events', body, {
        ...(contentType ? { 'content-type': contentType } : {}),
        ...signedHeaders(body),
      });
    };
    const oversized = `payload=${'a'.repeat(BODY_LIMIT_BYTES)}`;
    const statuses = {
      'text/plain': await signedAs('text-plain', 'text/plain'),
      // Bolt compares the type exactly; Slack sends it without a charset.
      'form with a charset': await signedAs('charset', 'application/x-www-form-urlencoded; charset=utf-8'),
      'a form body sent as JSON': await signedAs('json-type', 'application/json'),
      multipart: await signedAs('multipart', 'multipart/form-data; boundary=x'),
      'no content type': await signedAs('no-type', undefined),
      'signed, over 4 MiB': await rawPost('/slack/events', oversized, {
        'content-type': 'application/x-www-form-urlencoded',
        ...signedHeaders(oversized),
      }),
      // The limit is checked before the signature: the body is never read in full.
      'unsigned, over 4 MiB': await rawPost('/slack/events', oversized, {
        'content-type': 'application/x-www-form-urlencoded',
      }),
      'a path next to the endpoint': await rawPost('/slack/events/x', cancelBody('other-path'), {
        'content-type': 'application/x-www-form-urlencoded',
      }),
    };
    expect(statuses).toEqual({
      'text/plain': 400,
      'form with a charset': 400,
      'a form body sent as JSON': 400,
      multipart: 400,
      'no content type': 400,
      'signed, over 4 MiB': 413,
      'unsigned, over 4 MiB': 413,
      'a path next to the endpoint': 404,
    });

    // Bolt's listener throws for a method it does not route; shipcheck's server answers first.
    const methods: Record<string, number> = {};
    for (const method of ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const response = await fetch(app.url, { method });
      methods[method] = response.status;
      if (method === 'GET') expect(response.headers.get('allow')).toBe('POST');
    }
    expect(methods).toEqual({ GET: 405, HEAD: 405, PUT: 405, PATCH: 405, DELETE: 405, OPTIONS: 405 });
    await expectNothingHappened(before, callsBefore, [...tags, 'other-path']);
  });
});

describe('malformed payloads, properly signed', () => {
  it('answers 400 to a body that is not a JSON object, or a payload Bolt cannot read', async () => {
    const before = await waitUntilSettled(app);
    const callsBefore = app.standIn.calls.length;
    const genuine = app.tickPayload(current(app, phase), 'migrations-ready', true, 'U0ALICE');
    const { user: _user, ...withoutUser } = genuine;
    const post = (body: string, contentType = 'application/x-www-form-urlencoded') =>
      postSigned(app.url, body, { signingSecret: app.signingSecret, contentType }).then((r) => r.status);
    const statuses = {
      'payload that is not JSON': await post('payload=%7Bnot-json'),
      // These two left the request unanswered and the rejection unhandled, which ends a real process.
      'payload=null': await post('payload=null'),
      'JSON null': await post('null', 'application/json'),
      'a JSON array': await post('[{"type":"block_actions"}]', 'application/json'),
      'a JSON string': await post('"block_actions"', 'application/json'),
      'a JSON number': await post('42', 'application/json'),
      // These two were answered 500.
      'block_actions without a user': await post(encodeInteraction(withoutUser)),
      'block_actions with a null user': await post(encodeInteraction({ ...genuine, user: null })),
      'view_submission without a view': await post(
        encodeInteraction({ type: 'view_submission', user: { id: 'U0ALICE' }, team: { id: 'T0001' } }),
      ),
      'unsigned JSON null': await fetch(app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: 'null',
      }).then((response) => response.status),
    };
    expect(statuses).toEqual({
      'payload that is not JSON': 400,
      'payload=null': 400,
      'JSON null': 400,
      'a JSON array': 400,
      'a JSON string': 400,
      'a JSON number': 400,
      'block_actions without a user': 400,
      'block_actions with a null user': 400,
      'view_submission without a view': 400,
      'unsigned JSON null': 401,
    });
    await expectNothingHappened(before, callsBefore, []);
  });

  it('answers 404 to a payload of a kind no listener takes, once Bolt gives up waiting for an ack', async () => {
    const before = await waitUntilSettled(app);
    const callsBefore = app.standIn.calls.length;
    const genuine = app.tickPayload(current(app, phase), 'migrations-ready', true, 'U0ALICE');
    const action = genuine.actions[0]!;
    const payloads: Record<string, object> = {
      'a message shortcut, which shipcheck has no listener for': {
        type: 'message_action',
        callback_id: 'no.such.shortcut',
        user: { id: 'U0ALICE' },
        team: { id: 'T0001' },
      },
      'block_actions with no actions': { ...genuine, actions: [] },
      'block_actions whose actions is a string': { ...genuine, actions: 'item.set|r1|migrations-ready' },
      'an action without an action_id': { ...genuine, actions: [{ ...action, action_id: undefined }] },
    };
    // Each waits Bolt's 3 s for an ack that never comes; sent together, they wait once.
    const statuses = Object.fromEntries(
      await Promise.all(
        Object.entries(payloads).map(async ([name, payload]) => [name, (await app.interact(payload)).status]),
      ),
    );
    expect(statuses).toEqual(Object.fromEntries(Object.keys(payloads).map((name) => [name, 404])));
    await expectNothingHappened(before, callsBefore, []);
  });

  it('acks a click or a submission with an id no listener matches at once, changing nothing', async () => {
    const before = await waitUntilSettled(app);
    const callsBefore = app.standIn.calls.length;
    const responseUrl = app.standIn.responseUrl('unmatched-click');
    const genuine = app.tickPayload(current(app, phase), 'migrations-ready', true, 'U0ALICE', responseUrl);
    const click = { ...genuine, actions: [{ ...genuine.actions[0]!, action_id: 'item.delete|r1' }] };
    const submission = {
      type: 'view_submission',
      user: { id: 'U0ALICE' },
      team: { id: 'T0001' },
      view: { id: 'V0X', callback_id: 'no.such.modal', state: { values: {} } },
    };
    for (const payload of [click, submission]) {
      const answer = await app.interact(payload);
      expect(answer.status).toBe(200);
      expect(answer.body).toBe('');
    }
    // The click came from a message: its clicker is told the button does nothing any more.
    const told = await app.standIn.waitFor(
      () => app.standIn.responsesTo('unmatched-click')[0],
      5000,
      'the answer to the unmatched click',
    );
    expect(told.body).toMatchObject({ response_type: 'ephemeral', text: RETIRED_BUTTON_TEXT });
    await expectNothingHappened(before, callsBefore, []);
    expect(app.standIn.responsesTo('unmatched-click')).toHaveLength(1);
  });

  it('refuses a click whose user has no readable id, recording nothing against nobody', async () => {
    // Each of these, with a user, ticks, snoozes, waits for an environment, opens a modal or decides.
    const before = await waitUntilSettled(app);
    const callsBefore = app.standIn.calls.length;
    const actions = [
      { action_id: 'item.done|r1|migrations-ready' },
      { action_id: 'reminder.snooze|r1|0|1h' },
      { action_id: 'lock.notify', value: 'staging' },
      { action_id: 'release.rollback.open', value: 'r1' },
      { action_id: 'release.go', value: 'r1' },
    ];
    const users: unknown[] = ['U0ALICE', { id: 42 }, { id: '' }, { name: 'alice' }];
    const tags: string[] = [];
    for (const action of actions) {
      for (const user of users) {
        const tag = `userless-${tags.length}`;
        tags.push(tag);
        const payload = {
          type: 'block_actions',
          user,
          team: { id: 'T0001', domain: 'example' },
          trigger_id: `trigger-${tag}`,
          response_url: app.standIn.responseUrl(tag),
          actions: [{ type: 'button', action_ts: '1.000001', ...action }],
        };
        expect((await app.interact(payload)).status).toBe(200);
      }
    }
    for (const tag of tags) await waitForReply(app, tag, /./);
    const answers = tags.map((tag) => (app.standIn.responsesTo(tag)[0]!.body as { text: string }).text);
    expect(new Set(answers)).toEqual(new Set([describeUserError({ code: 'payload_invalid' })]));
    await waitUntilSettled(app);
    expect(await snapshotData(app.prefix)).toEqual(before);
    expect(app.standIn.calls.slice(callsBefore).map((call) => call.method)).toEqual([]);
  });

  it('answers a view_submission without state with the form’s own errors', async () => {
    const response = await app.interact({
      type: 'view_submission',
      user: { id: 'U0ALICE' },
      team: { id: 'T0001' },
      view: { id: 'V0Y', callback_id: 'gate.override', private_metadata: '{}' },
    });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      response_action: 'errors',
      errors: { reason: 'Write a reason of 5 to 500 characters.' },
    });
  });
});

it('leaks no token or secret in a log line, an answer or a message of the tests above', () => {
  expectNoSecretsLeaked(app);
});
