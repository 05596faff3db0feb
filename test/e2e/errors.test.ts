import { afterAll, beforeAll, expect, it } from 'vitest';
import { RETIRED_BUTTON_TEXT } from '../../src/slack/listeners/unmatched.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { clickButton, type createBlockActions } from '../support/slack-requests.js';
import { current, plainItemIds, waitForHeader, waitForPhase } from './helpers.js';

// Unexpected failures reach the user as a short message with an error id that is also in the log;
// unreadable or forged requests are refused and change nothing.

const logLines: string[] = [];
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ logLines });
});
afterAll(async () => {
  await app?.stop();
});

/** Waits until `/deploy audit <release>` answers that its trail holds one event: the start. */
async function waitForAuditOfOnlyTheStart(release: string) {
  const audit = await app.command(`audit ${release}`);
  await app.standIn.waitFor(
    () =>
      app.standIn
        .responsesTo(audit.responseTag)
        .some((response) => /1 event\b/.test(JSON.stringify(response.body))),
    5000,
    'audit shows only the start',
  );
}

function ephemeralTexts(): string[] {
  return app.standIn.responses.map((response) => (response.body as { text?: string }).text ?? '');
}

it('gives the user an error id for an unexpected failure, and logs it with context but no token', async () => {
  await app.command('start v1.0 staging minimal');
  const header = await waitForHeader(app, 'v1.0 → staging');
  app.standIn.misbehave('views.open', { kind: 'error', error: 'internal_error' }, 1);
  const responseUrl = app.standIn.responseUrl();
  await app.interact(
    clickButton(current(app, header) as never, { actionId: 'gate.override.open' }, { responseUrl }),
  );
  const text = await app.standIn.waitFor(
    () => ephemeralTexts().find((candidate) => /error id `E-[0-9A-F]{8}`/.test(candidate)),
    5000,
    'error id message',
  );
  const errorId = /E-[0-9A-F]{8}/.exec(text)![0];
  const line = logLines.find((candidate) => candidate.includes(errorId));
  expect(line).toBeDefined();
  expect(JSON.parse(line!)).toMatchObject({ errorId, releaseId: expect.any(String), msg: 'request failed' });
  expect(logLines.join('\n')).not.toContain('xoxb-test-token');
  expect(logLines.join('\n')).not.toContain(app.signingSecret);
});

it('refuses a click whose action id is forged or unreadable, changing nothing', async () => {
  await app.command('start v1.1 staging minimal');
  const header = await waitForHeader(app, 'v1.1 → staging');
  const phase = await waitForPhase(app, header, 'Before the deploy');
  const [itemId] = plainItemIds('minimal', 0);
  const genuine = app.tickPayload(current(app, phase), itemId!, true) as ReturnType<
    typeof createBlockActions
  >;
  const forgedIds = ['item.set|r1|Not An Item', 'item.set|../../etc|x', `item.set|r1|${itemId}|extra`];
  for (const actionId of forgedIds) {
    const forged = { ...genuine, actions: [{ ...genuine.actions[0]!, action_id: actionId }] };
    expect((await app.interact(forged)).status).toBe(200);
  }
  const unknownItem = {
    ...genuine,
    actions: [{ ...genuine.actions[0]!, action_id: 'item.set|r999|no-such-item' }],
  };
  expect((await app.interact(unknownItem)).status).toBe(200);
  await app.standIn.waitFor(
    () =>
      ephemeralTexts().filter((text) => /could not read that request|not part of this release/.test(text))
        .length >= 4,
    5000,
    'four refusals',
  );
  await waitForAuditOfOnlyTheStart('v1.1 staging');
});

it('acks a button no listener knows at once, says it is retired, and changes nothing', async () => {
  await app.command('start v1.2 staging minimal');
  const header = await waitForHeader(app, 'v1.2 → staging');
  const genuine = clickButton(current(app, header) as never, { actionId: 'gate.override.open' });
  const responseUrl = app.standIn.responseUrl('retired');
  const viewsOpened = app.standIn.callsTo('views.open').length;
  // As Slack sends a click on a message posted by an older version, whose button ids have changed.
  const retired = {
    ...genuine,
    response_url: responseUrl,
    actions: [{ ...genuine.actions[0]!, action_id: 'release.retired-button' }],
  };
  const answer = await app.interact(retired);
  expect(answer.status).toBe(200);
  expect(answer.ms).toBeLessThan(1000);
  const told = await app.standIn.waitFor(
    () => app.standIn.responsesTo('retired')[0],
    5000,
    'the retired-button answer',
  );
  expect(told.body).toMatchObject({ response_type: 'ephemeral', text: RETIRED_BUTTON_TEXT });
  expect(app.standIn.callsTo('views.open')).toHaveLength(viewsOpened);
  await waitForAuditOfOnlyTheStart('v1.2 staging');
});

it('rejects malformed bodies without crashing, and keeps serving', async () => {
  // Signed, but of no kind shipcheck handles: Bolt lets it time out and answers 404, not a 5xx.
  const unknownKind = await app.interact({ type: 'no_such_kind' });
  expect(unknownKind.status).toBe(404);
  // Unsigned garbage never reaches a listener.
  const garbage = await fetch(app.url, { method: 'POST', body: 'payload=%7Bnot-json' });
  expect(garbage.status).toBe(401);
  expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
});
