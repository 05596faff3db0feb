import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { current, tickAll, waitForHeader, waitForPhase, waitForReply } from '../e2e/helpers.js';
import { blockTexts } from '../support/app-harness.js';
import { clickButton, type SubmittedValue, submitView } from '../support/slack-requests.js';
import type { StoredMessage } from '../support/slack-stand-in.js';
import {
  expectNoRawMarkup,
  expectNoSecretsLeaked,
  MARKUP,
  MARKUP_ESCAPED,
  productionFrozenNow,
  type SecurityApp,
  shownTexts,
  startSecurityApp,
} from './support.js';

// Everything a person types that shipcheck shows again (release notes, downtime, red flag notes,
// issues, resolutions, override, cancel, no-go and rollback reasons, the retrospective, the freeze
// override, arguments it did not understand) reaches Slack escaped: no text can ping a channel,
// mention someone or disguise a link. Each text is typed with Slack markup and a label; the test
// finds the escaped text where it should be shown, and no raw markup anywhere Slack reads mrkdwn.

const TEMPLATE = `id: escape
name: Escape
rollback:
  criteria:
    - Errors are up
  items:
    - id: rb-done
      text: Previous version deployed again
phases:
  - id: prepare
    name: Prepare
    items:
      - id: ready
        text: Ready
  - id: ship
    name: Ship
    deployment: true
    go: true
    items:
      - id: shipped
        text: Shipped
  - id: wrap
    name: Wrap up
    items:
      - id: wrapped
        text: Wrapped up
`;

const LEAD = 'U0LEAD';
const ALICE = 'U0ALICE';
const DEPLOY = 'C0DEPLOY';
const STAKEHOLDERS = 'C0STAKE';

/** What a person types: a label, so that each text can be found, then the markup. */
const typed = (label: string) => `${label}: ${MARKUP}`;
/** How Slack must receive it in mrkdwn. */
const shown = (label: string) => `${label}: ${MARKUP_ESCAPED}`;

/** A weekly freeze of production from an hour ago to an hour from now (UTC). */

let checklistsDir: string;
let app: SecurityApp;
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-escape-'));
  await writeFile(path.join(checklistsDir, 'escape.yaml'), TEMPLATE);
  app = await startSecurityApp({
    env: {
      CHECKLISTS_DIR: checklistsDir,
      ROLES: `release_manager=${LEAD}`,
      STAKEHOLDER_CHANNEL: STAKEHOLDERS,
      CHECKIN_SCHEDULE: '1s',
      CHECKIN_ESCALATE_AFTER: '1h',
      FREEZE_WINDOWS: productionFrozenNow(),
    },
  });
});
afterAll(async () => {
  await app?.stop();
  await rm(checklistsDir, { recursive: true, force: true });
});

const text = (message: StoredMessage) => blockTexts(message).join('\n');

/** Presses a button on a message as it is shown now; an ephemeral one is pressed as it was given. */
async function press(message: StoredMessage, actionId: string, user: string, ephemeral = false) {
  const shownNow = ephemeral ? message : current(app, message);
  const response = await app.interact(clickButton(shownNow as never, { actionId }, { user, ephemeral }));
  expect(response.status).toBe(200);
}

/** Presses a button that opens a modal, and submits the modal with `values`. */
async function fillModal(
  message: StoredMessage,
  actionId: string,
  values: Record<string, Record<string, SubmittedValue>>,
  user: string,
  ephemeral = false,
) {
  const opened = app.standIn.views.length;
  await press(message, actionId, user, ephemeral);
  const modal = await app.standIn.waitFor(() => app.standIn.views[opened], 5000, `the modal of ${actionId}`);
  const response = await app.interact(submitView(modal, values, { user }));
  expect(response.status).toBe(200);
  expect(response.body).toBe('');
}

async function waitForText(message: StoredMessage, wanted: string, what: string) {
  return app.standIn.waitFor(() => text(current(app, message)).includes(wanted), 5000, what);
}

/** Where the escaped form of a label's text was shown: each place as "<method> <channel>". */
function placesShown(label: string): string[] {
  const places = new Set<string>();
  const calls = app.standIn.calls;
  for (const { where, text: shownText, format } of shownTexts(app.standIn)) {
    if (format !== 'mrkdwn' || !shownText.includes(shown(label))) continue;
    const [, method = '', index = ''] = /^(.+?)#(\d+)/.exec(where) ?? [];
    const channel = method === 'response_url' ? '' : String(calls[Number(index)]?.args.channel ?? '');
    places.add(`${method} ${channel}`.trim());
  }
  return [...places].sort();
}

describe('user text with Slack markup', () => {
  it('is escaped in headers, thread messages, announcements, modals and replies', async () => {
    // A: the start form's notes and downtime; a red flag and its clearing; an issue and its resolution.
    await app.command('start', { user_id: LEAD });
    const form = await app.standIn.waitFor(() => app.standIn.views[0], 5000, 'the start form');
    await app.interact(
      submitView(
        form,
        {
          version: { 'version.input': 'v1.0' },
          env: { 'env.select': 'staging' },
          template: { 'template.select': 'escape' },
          notes: { 'notes.input': typed('notes') },
          downtime: { 'downtime.input': typed('downtime') },
        },
        { user: LEAD },
      ),
    );
    const a = await waitForHeader(app, 'v1.0 → staging');
    await fillModal(
      a,
      'release.redflag.open',
      { condition: { 'condition.select': '0' }, note: { 'note.input': typed('flag') } },
      ALICE,
    );
    await waitForText(a, shown('flag'), 'the red flag on the header');
    await fillModal(a, 'release.redflag.clear.open', { note: { 'note.input': typed('clear') } }, LEAD);
    await app.standIn.waitFor(() => !/Stopped by a red flag/.test(text(current(app, a))), 5000, 'cleared');
    await tickAll(app, await waitForPhase(app, a, 'Prepare'), ['ready']);
    await waitForText(a, 'Go / no-go', 'the go/no-go call');
    await press(a, 'release.go', LEAD);
    const ship = await waitForPhase(app, a, 'Ship');
    await app.standIn.waitFor(
      () => /release\.go/.test(JSON.stringify(current(app, a).blocks)) === false,
      5000,
      'go',
    );
    await tickAll(app, ship, ['shipped']);
    const checkin = await app.standIn.waitFor(
      () =>
        app.standIn
          .messages(DEPLOY)
          .find((message) => message.thread_ts === a.ts && /Check-in 1/.test(text(message))),
      5000,
      'check-in 1',
    );
    await fillModal(
      checkin,
      'checkin.issue|r1|0',
      { what: { 'what.input': typed('issue') }, severity: { 'severity.select': 'major' } },
      ALICE,
    );
    await waitForText(a, shown('issue'), 'the issue on the header');
    await fillModal(
      a,
      'issue.resolve|r1|1',
      { resolution: { 'resolution.input': typed('resolution') } },
      ALICE,
    );
    await waitForText(a, shown('resolution'), 'the resolution on the header');

    // B: a gate override, then a cancel whose reason Slack sends HTML-escaped, as it sends typed < > &.
    await app.command('start v2.0 development escape', { user_id: LEAD });
    const b = await waitForHeader(app, 'v2.0 → development');
    await fillModal(
      b,
      'gate.override.open',
      { phase: { 'phase.select': '1' }, reason: { 'reason.input': typed('override') } },
      ALICE,
    );
    await waitForText(b, shown('override'), 'the override on the header');
    const slackEscaped = typed('cancel').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const cancel = await app.command(`cancel v2.0 development ${slackEscaped}`, { user_id: LEAD });
    await waitForReply(app, cancel.responseTag, /Cancelled v2\.0/);
    await waitForText(b, shown('cancel'), 'the cancel reason on the header');

    // C: a no-go.
    await app.command('start v3.0 staging escape', { user_id: LEAD });
    const c = await waitForHeader(app, 'v3.0 → staging');
    await tickAll(app, await waitForPhase(app, c, 'Prepare'), ['ready']);
    await waitForText(c, 'Go / no-go', 'the go/no-go call of C');
    await fillModal(c, 'release.nogo.open', { note: { 'note.input': typed('nogo') } }, LEAD);
    await waitForText(c, shown('nogo'), 'the no-go on the header');

    // D: a rollback asked for by command, with the reason as Slack sends mentions and links; then the
    // rollback checklist and the retrospective.
    await app.command('start v4.0 development escape', { user_id: LEAD });
    const d = await waitForHeader(app, 'v4.0 → development');
    await app.command(`rollback v4.0 ${typed('rollback')}`, { user_id: LEAD });
    const confirm = await app.standIn.waitFor(
      () =>
        app.standIn.views.find(
          (view) => view.view.callback_id === 'release.rollback' && /v4\.0/.test(JSON.stringify(view.view)),
        ),
      5000,
      'the rollback confirmation',
    );
    // The reason is filled in as plain text, which Slack shows as typed.
    expect(JSON.stringify(confirm.view.blocks)).toContain(JSON.stringify(typed('rollback')).slice(1, -1));
    await app.interact(submitView(confirm, {}, { user: LEAD }));
    await waitForText(d, shown('rollback'), 'the rollback reason on the header');
    const checklist = await app.standIn.waitFor(
      () =>
        app.standIn
          .messages(DEPLOY)
          .find((message) => message.thread_ts === d.ts && message.text.endsWith('rollback checklist')),
      5000,
      'the rollback checklist',
    );
    await tickAll(app, checklist, ['rb-done']);
    const draft = await app.standIn.waitFor(
      () =>
        app.standIn
          .messages(DEPLOY)
          .find((message) => message.thread_ts === d.ts && /retrospective/i.test(message.text)),
      5000,
      'the draft retrospective',
    );
    await fillModal(
      draft,
      'retro.open',
      {
        went_well: { 'went_well.input': typed('well') },
        went_wrong: { 'went_wrong.input': typed('wrong') },
        follow_ups: { 'follow_ups.input': typed('follow-ups') },
      },
      LEAD,
    );
    await app.standIn.waitFor(() => placesShown('follow-ups').length > 0, 5000, 'the saved retrospective');

    // E: a start inside a freeze, overridden with a reason.
    const frozen = await app.command('start v5.0 production escape', { user_id: LEAD });
    await waitForReply(app, frozen.responseTag, /is frozen until/);
    const refusal = app.standIn.responsesTo(frozen.responseTag)[0]!.body as {
      text: string;
      blocks: unknown[];
    };
    await fillModal(
      { ts: '1.1', channel: DEPLOY, text: refusal.text, blocks: refusal.blocks } as never,
      'freeze.override.open',
      { reason: { 'reason.input': typed('freeze') } },
      LEAD,
      true,
    );
    await waitForHeader(app, 'v5.0 → production');
    await app.standIn.waitFor(
      () => placesShown('freeze').includes(`chat.postMessage ${STAKEHOLDERS}`),
      5000,
      'the freeze override announced',
    );

    // The audit trails show every reason.
    for (const version of ['v1.0', 'v2.0', 'v3.0', 'v4.0', 'v5.0']) {
      const audit = await app.command(`audit ${version}`, { user_id: ALICE });
      await waitForReply(app, audit.responseTag, /Audit trail/);
    }

    // Where each text was shown, escaped: the channel's messages, the stakeholders', modals and replies.
    const header = 'chat.update C0DEPLOY';
    const announced = `chat.postMessage ${STAKEHOLDERS}`;
    const expected: Record<string, string[]> = {
      notes: [announced],
      downtime: [announced],
      flag: [header, announced, 'views.open', 'response_url'],
      clear: [announced, 'response_url'],
      issue: [header, announced, 'views.open', 'response_url'],
      resolution: [header, 'response_url'],
      override: [header, 'response_url'],
      cancel: [header, announced, 'response_url'],
      nogo: [header, announced, 'response_url'],
      rollback: [header, announced, 'response_url'],
      well: ['chat.postMessage C0DEPLOY'],
      wrong: ['chat.postMessage C0DEPLOY'],
      'follow-ups': ['chat.postMessage C0DEPLOY'],
      freeze: [announced, 'response_url'],
    };
    const found = Object.fromEntries(
      Object.keys(expected).map((label) => [
        label,
        expected[label]!.filter((place) => placesShown(label).includes(place)),
      ]),
    );
    expect(found).toEqual(expected);
    expectNoRawMarkup(app.standIn);
  }, 60_000);

  it('is escaped when a command echoes what it did not understand', async () => {
    const echoes: Record<string, string> = {
      'an unknown argument': `start v6.0 ${MARKUP}`,
      'an unreadable version': `status ${MARKUP}`,
      'an unreadable window': `start v6.0 staging at ${MARKUP}`,
      'an unknown time zone': `start v6.0 staging at tomorrow 14:00 ${MARKUP}`,
      'an unknown subcommand': MARKUP,
      'the same, sent HTML-escaped by Slack': `start v6.0 ${MARKUP.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}`,
    };
    const answers: Record<string, string> = {};
    for (const [name, commandText] of Object.entries(echoes)) {
      const sent = await app.command(commandText, { user_id: LEAD });
      expect(sent.status).toBe(200);
      answers[name] =
        sent.body === ''
          ? await waitForReply(app, sent.responseTag, /./)
          : JSON.stringify((sent.json as { text: string }).text);
    }
    for (const [name, answer] of Object.entries(answers)) {
      expect(answer, name).toContain('&lt;!channel&gt;');
      expect(answer, name).not.toContain('<!channel>');
      expect(answer, name).not.toContain('<@U0INJECT>');
    }
    expectNoRawMarkup(app.standIn);
  });

  it('shows a user id that is not one escaped, not as a mention', async () => {
    // Slack never sends such an id; a mention built from it would still ping the channel.
    const bogus = 'U0X> <!channel';
    const cancel = await app.command('cancel v1.0 staging no longer needed', { user_id: bogus });
    await waitForReply(app, cancel.responseTag, /Cancelled v1\.0/);
    const a = await waitForHeader(app, 'v1.0 → staging');
    await waitForText(a, 'U0X&gt; &lt;!channel', 'the canceller on the header');
    const audit = await app.command('audit v1.0', { user_id: LEAD });
    expect(await waitForReply(app, audit.responseTag, /Audit trail/)).toContain('U0X&gt; &lt;!channel');
    expectNoRawMarkup(app.standIn, ['<!channel']);
  });
});

it('leaks no token or secret in a log line, an answer or a message of the tests above', () => {
  expectNoSecretsLeaked(app);
});
