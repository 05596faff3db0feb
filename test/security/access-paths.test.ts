import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { current, tickAll, waitForHeader, waitForItem, waitForPhase, waitForReply } from '../e2e/helpers.js';
import { blockTexts, findPhaseMessage, viewItem } from '../support/app-harness.js';
import {
  clickButton,
  type SlackMessage,
  type SubmittedValue,
  submitView,
} from '../support/slack-requests.js';
import type { RecordedView, StoredMessage } from '../support/slack-stand-in.js';
import {
  expectNoSecretsLeaked,
  productionFrozenNow,
  readAudit,
  readReleaseState,
  type SecurityApp,
  snapshotData,
  startSecurityApp,
  TEAM_ID,
} from './support.js';

// Someone without the role cannot tick a role's item, sign off, override a gate, roll back, make the
// go/no-go call, raise or clear a red flag, move a window or start a release, through any path:
// a button, a command, a modal opened by someone entitled and submitted by them, or an action id or
// value copied from another message or release. Each attempt is answered with who may, recorded once
// in the audit trail of the release it names, and changes nothing else.
//
// The paths covered here, by what is attempted:
//   tick, sign off    Done button of a reminder; checkbox of the sign-off phase; Done button of one's
//                     own release (two-person rule); Done button copied onto another release
//   untick            checkbox of an item its role's holder ticked
//   rollback item     checkbox of the rollback checklist's role item
//   override a gate   header button; its modal submitted by someone else
//   roll back         header button; its confirmation submitted by someone else; a check-in's
//                     button and modal; a header button whose value names another release
//   go / no-go        No-go… clicked by hand; its modal submitted by someone else
//   red flag          raise button and modal; clearing modal submitted by someone else
//   move the window   /deploy reschedule
//   start             /deploy start, /deploy start (the form), the form submitted by someone else,
//                     a freeze override submitted by someone who may start but not override
//
// Paths already shown elsewhere are not repeated here: ticking a role's item and the two-person rule
// by checkbox, a checkbox action carried by another message, `/deploy cancel` and `/deploy rollback`
// (test/e2e/access.test.ts, rollback.test.ts), the Go and "Clear the red flag…" buttons
// (stop-and-go.test.ts) and the "Override the freeze…" button (freeze.test.ts).

const TEMPLATE = `id: guarded
name: Guarded
redflags:
  - Smoke test failed
rollback:
  criteria:
    - Errors are up
  items:
    - id: rb-reverted
      text: Previous version deployed again
      role: ops
phases:
  - id: prepare
    name: Prepare
    items:
      - id: notes-ready
        text: Release notes written
      - id: qa-approval
        text: QA approves the build
        role: qa
  - id: ship
    name: Ship
    deployment: true
    go: true
    items:
      - id: shipped
        text: Deployed
  - id: sign-off
    name: Sign-off
    items:
      - id: lead-signoff
        text: The release manager signs off
        role: release_manager
`;

const LEAD = 'U0LEAD';
const LEAD2 = 'U0LEAD2';
const QA = 'U0QA';
const OPS = 'U0OPS';
/** Holds no role. */
const MALLORY = 'U0MALLORY';

let checklistsDir: string;
let app: SecurityApp;
/** r1: v1.0 on staging, started by LEAD, in its first phase. */
let header1: StoredMessage;
/** r2: v2.0 on development, started by LEAD2, deployed, with a check-in posted. */
let header2: StoredMessage;
let checkin2: StoredMessage;

beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-paths-'));
  await writeFile(path.join(checklistsDir, 'guarded.yaml'), TEMPLATE);
  app = await startSecurityApp({
    env: {
      CHECKLISTS_DIR: checklistsDir,
      ROLES: `release_manager=${LEAD},${LEAD2}; qa=S0QA; ops=${OPS}`,
      PERMISSIONS:
        'start=release_manager,ops; cancel=release_manager; reschedule=release_manager; override=release_manager; rollback=release_manager; red_flag=release_manager,qa',
      TWO_PERSON_RULE: 'on',
      FREEZE_WINDOWS: productionFrozenNow(),
      CHECKIN_SCHEDULE: '1s',
      CHECKIN_ESCALATE_AFTER: '1h',
    },
  });
  app.standIn.setUserGroup('S0QA', [QA]);

  await app.command('start v1.0 staging guarded', { user_id: LEAD });
  header1 = await waitForHeader(app, 'v1.0 → staging');
  await waitForPhase(app, header1, 'Prepare');

  await app.command('start v2.0 development guarded', { user_id: LEAD2 });
  header2 = await waitForHeader(app, 'v2.0 → development');
  const prepare2 = await waitForPhase(app, header2, 'Prepare');
  await tickAll(app, prepare2, ['notes-ready'], OPS);
  await tickAll(app, prepare2, ['qa-approval'], QA);
  await app.standIn.waitFor(
    () => /Go \/ no-go/.test(blockTexts(current(app, header2)).join('\n')),
    5000,
    'go/no-go',
  );
  await app.interact(clickButton(current(app, header2) as never, { actionId: 'release.go' }, { user: LEAD }));
  const ship2 = await waitForPhase(app, header2, 'Ship');
  await app.standIn.waitFor(() => viewItem(current(app, ship2), 'shipped')?.clickable, 5000, 'ship open');
  await tickAll(app, ship2, ['shipped'], OPS);
  checkin2 = await app.standIn.waitFor(
    () =>
      app.standIn
        .messages(header2.channel)
        .find(
          (message) => message.thread_ts === header2.ts && /Check-in 1/.test(blockTexts(message).join('\n')),
        ),
    5000,
    'check-in 1 of v2.0',
  );
  await waitForPhase(app, header2, 'Sign-off');
}, 30_000);
afterAll(async () => {
  await app?.stop();
  await rm(checklistsDir, { recursive: true, force: true });
});

// ---- Requests ---------------------------------------------------------------------------------

/** How a refusal reaches the person: through the response_url, or as an ephemeral message (modals). */
type Answer = { tag: string } | { ephemeralTo: string; after: number };

/** Presses a button in `message`; `forged` changes what the click carries, as a hand-made request would. */
async function pressButton(
  message: SlackMessage,
  actionId: string,
  user: string,
  forged: { actionId?: string; value?: string } = {},
): Promise<Answer> {
  const tag = `${user}-${actionId}-${Math.random().toString(36).slice(2)}`;
  const payload = clickButton(message, { actionId }, { user, responseUrl: app.standIn.responseUrl(tag) });
  const action = payload.actions[0]!;
  if (forged.actionId !== undefined) action.action_id = forged.actionId;
  if (forged.value !== undefined) action.value = forged.value;
  expect((await app.interact(payload)).status).toBe(200);
  return { tag };
}

async function command(text: string, user: string): Promise<Answer> {
  const sent = await app.command(text, { user_id: user });
  expect(sent.status).toBe(200);
  return { tag: sent.responseTag };
}

/** Opens a modal as someone entitled to it. */
async function openModal(
  message: SlackMessage,
  actionId: string,
  user: string,
  forged: { actionId?: string } = {},
): Promise<RecordedView> {
  const opened = app.standIn.views.length;
  await pressButton(message, actionId, user, forged);
  return app.standIn.waitFor(() => app.standIn.views[opened], 5000, `the modal of ${actionId}`);
}

/** Submits a modal someone else opened, as `user`. */
async function submitAs(
  modal: RecordedView,
  values: Record<string, Record<string, SubmittedValue>>,
  user: string,
): Promise<Answer> {
  const after = app.standIn.ephemerals.length;
  const response = await app.interact(submitView(modal, values, { user }));
  expect(response.status).toBe(200);
  expect(response.body).toBe('');
  return { ephemeralTo: user, after };
}

/** A "Done" button like those of a reminder DM, in a DM of the stand-in. */
async function reminderWithDone(user: string, actionId: string): Promise<StoredMessage> {
  const blocks = [
    {
      type: 'actions',
      block_id: 'reminder-items',
      elements: [{ type: 'button', action_id: actionId, text: { type: 'plain_text', text: 'Done' } }],
    },
  ];
  const response = await fetch(`${app.standIn.apiUrl}chat.postMessage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer xoxb-reminder-maker' },
    body: JSON.stringify({ channel: `D${user}`, text: 'Your open items', blocks }),
  });
  const { channel, ts } = (await response.json()) as { channel: string; ts: string };
  return app.standIn.message(channel, ts)!;
}

function answerText(answer: Answer): string | undefined {
  if ('tag' in answer) {
    const body = app.standIn.responsesTo(answer.tag)[0]?.body as { text?: string } | undefined;
    return body?.text;
  }
  return app.standIn.ephemerals.slice(answer.after).find((ephemeral) => ephemeral.user === answer.ephemeralTo)
    ?.text;
}

// ---- What a refusal must leave ------------------------------------------------------------------

async function readState() {
  const state: Record<string, unknown> = {};
  for (const releaseId of ['r1', 'r2']) {
    const { meta, items } = await readReleaseState(app.prefix, releaseId);
    // The head of the audit hash chain and the relay's cursor move with the refusal's own event.
    const { auditHead: _auditHead, relayed: _relayed, ...fields } = meta;
    state[releaseId] = { fields, items };
  }
  const data = await snapshotData(app.prefix);
  state.releases = data[`${app.prefix}:{${TEAM_ID}}:releases`];
  return state;
}

interface Refused {
  /** What the person is told. */
  says: RegExp;
  /** The release whose audit trail records the attempt, and how; none when no release is named. */
  audited?: { releaseId: 'r1' | 'r2'; action: string; item?: string; reason: string };
}

/** Makes the attempt and checks that it was refused, recorded once, and changed nothing else. */
async function expectRefused(user: string, attempt: () => Promise<Answer>, refused: Refused) {
  const before = await readState();
  const audits = { r1: await readAudit(app.prefix, 'r1'), r2: await readAudit(app.prefix, 'r2') };
  const answer = await attempt();
  const text = await app.standIn.waitFor(() => answerText(answer), 5000, `the answer to ${user}`);
  expect(text).toMatch(refused.says);
  expect(text).toMatch(/[Nn]othing was changed/);
  expect(await readState()).toEqual(before);
  for (const releaseId of ['r1', 'r2'] as const) {
    const added = (await readAudit(app.prefix, releaseId)).slice(audits[releaseId].length);
    const expected =
      refused.audited?.releaseId === releaseId
        ? [
            {
              type: 'refused',
              user,
              action: refused.audited.action,
              reason: refused.audited.reason,
              ...(refused.audited.item ? { item: refused.audited.item } : {}),
            },
          ]
        : [];
    expect(added.map(({ fields }) => fields)).toMatchObject(expected);
    expect(added).toHaveLength(expected.length);
  }
}

const onlyRole = (role: string, what: string) => new RegExp(`^Only ${role} can ${what}; nothing was changed`);

// ---- The paths ----------------------------------------------------------------------------------

describe('ticking and signing off', () => {
  it('refuses a role’s item ticked from a reminder’s Done button', async () => {
    const dm = await reminderWithDone(MALLORY, 'item.done|r1|qa-approval');
    await expectRefused(MALLORY, () => pressButton(dm, 'item.done|r1|qa-approval', MALLORY), {
      says: onlyRole('@qa', 'tick this item'),
      audited: { releaseId: 'r1', action: 'tick', item: 'qa-approval', reason: 'role:qa' },
    });
  });

  it('refuses unticking a role’s item that its holder ticked', async () => {
    const prepare2 = findPhaseMessage(app.standIn, header2.ts, 'Prepare')!;
    await expectRefused(
      MALLORY,
      async () => {
        const tag = `untick-${Date.now()}`;
        const payload = app.tickPayload(
          current(app, prepare2),
          'qa-approval',
          false,
          MALLORY,
          app.standIn.responseUrl(tag),
        );
        expect((await app.interact(payload)).status).toBe(200);
        return { tag };
      },
      {
        says: onlyRole('@qa', 'untick this item'),
        audited: { releaseId: 'r2', action: 'untick', item: 'qa-approval', reason: 'role:qa' },
      },
    );
    await waitForItem(app, prepare2, 'qa-approval', true);
  });

  it('refuses a sign-off by someone without the role, by checkbox', async () => {
    const signOff = findPhaseMessage(app.standIn, header2.ts, 'Sign-off')!;
    await expectRefused(
      MALLORY,
      async () => {
        const tag = `signoff-${Date.now()}`;
        const payload = app.tickPayload(
          current(app, signOff),
          'lead-signoff',
          true,
          MALLORY,
          app.standIn.responseUrl(tag),
        );
        expect((await app.interact(payload)).status).toBe(200);
        return { tag };
      },
      {
        says: onlyRole('@release_manager', 'tick this item'),
        audited: { releaseId: 'r2', action: 'tick', item: 'lead-signoff', reason: 'role:release_manager' },
      },
    );
  });

  it('refuses the sign-off of one’s own release from a Done button (two-person rule)', async () => {
    const dm = await reminderWithDone(LEAD2, 'item.done|r2|lead-signoff');
    await expectRefused(LEAD2, () => pressButton(dm, 'item.done|r2|lead-signoff', LEAD2), {
      says: /two-person rule\)\. Nothing was changed/,
      audited: { releaseId: 'r2', action: 'tick', item: 'lead-signoff', reason: 'own_release' },
    });
  });

  it('refuses a Done button copied from another release onto one’s own; the original still works', async () => {
    // LEAD may sign off v2.0 (LEAD2 started it), not v1.0, which LEAD started.
    const dm = await reminderWithDone(LEAD, 'item.done|r2|lead-signoff');
    const forged = { actionId: 'item.done|r1|lead-signoff' };
    await expectRefused(LEAD, () => pressButton(dm, 'item.done|r2|lead-signoff', LEAD, forged), {
      says: /two-person rule\)\. Nothing was changed/,
      audited: { releaseId: 'r1', action: 'tick', item: 'lead-signoff', reason: 'own_release' },
    });
    await pressButton(current(app, dm), 'item.done|r2|lead-signoff', LEAD);
    await waitForItem(app, findPhaseMessage(app.standIn, header2.ts, 'Sign-off')!, 'lead-signoff', true);
  });
});

describe('overriding a gate', () => {
  it('refuses the header button', async () => {
    await expectRefused(MALLORY, () => pressButton(current(app, header1), 'gate.override.open', MALLORY), {
      says: onlyRole('@release_manager', 'override a gate'),
      audited: { releaseId: 'r1', action: 'override', reason: 'role:release_manager' },
    });
  });

  it('refuses the modal when someone else submits it', async () => {
    const modal = await openModal(current(app, header1), 'gate.override.open', LEAD);
    const values = {
      phase: { 'phase.select': '1' },
      reason: { 'reason.input': 'Ship it before the weekend' },
    };
    await expectRefused(MALLORY, () => submitAs(modal, values, MALLORY), {
      says: onlyRole('@release_manager', 'override a gate'),
      audited: { releaseId: 'r1', action: 'override', reason: 'role:release_manager' },
    });
  });
});

describe('rolling back', () => {
  it('refuses the header button', async () => {
    await expectRefused(MALLORY, () => pressButton(current(app, header1), 'release.rollback.open', MALLORY), {
      says: onlyRole('@release_manager', 'roll a release back'),
      audited: { releaseId: 'r1', action: 'rollback', reason: 'role:release_manager' },
    });
  });

  it('refuses the confirmation when someone else submits it', async () => {
    const modal = await openModal(current(app, header1), 'release.rollback.open', LEAD);
    await expectRefused(
      MALLORY,
      () => submitAs(modal, { reason: { 'reason.input': 'It is broken' } }, MALLORY),
      {
        says: onlyRole('@release_manager', 'roll a release back'),
        audited: { releaseId: 'r1', action: 'rollback', reason: 'role:release_manager' },
      },
    );
  });

  it('refuses a check-in’s Roll back… button', async () => {
    await expectRefused(
      MALLORY,
      () => pressButton(current(app, checkin2), 'checkin.rollback|r2|0', MALLORY),
      {
        says: onlyRole('@release_manager', 'roll a release back'),
        audited: { releaseId: 'r2', action: 'rollback', reason: 'role:release_manager' },
      },
    );
  });

  it('refuses a check-in’s rollback modal when someone else submits it', async () => {
    const modal = await openModal(current(app, checkin2), 'checkin.rollback|r2|0', LEAD);
    await expectRefused(
      MALLORY,
      () => submitAs(modal, { reason: { 'reason.input': 'Errors are up' } }, MALLORY),
      {
        says: onlyRole('@release_manager', 'roll a release back'),
        audited: { releaseId: 'r2', action: 'rollback', reason: 'role:release_manager' },
      },
    );
  });

  it('refuses a header button whose value names another release, on that release’s record', async () => {
    // The click comes from v1.0's header but names v2.0: the check and the record follow the value.
    await expectRefused(
      MALLORY,
      () => pressButton(current(app, header1), 'release.rollback.open', MALLORY, { value: 'r2' }),
      {
        says: onlyRole('@release_manager', 'roll a release back'),
        audited: { releaseId: 'r2', action: 'rollback', reason: 'role:release_manager' },
      },
    );
  });
});

describe('go / no-go and red flags', () => {
  // v1.0 is not ready for the call and has no flag up, so its header shows neither "No-go…" nor
  // "Clear the red flag…": these clicks are made by hand from the red flag button, as a stale view or a
  // crafted request would be. Only the permission stands between them and the modal.
  const noGo = { actionId: 'release.nogo.open' };
  const clear = { actionId: 'release.redflag.clear.open' };

  it('refuses the No-go… button', async () => {
    await expectRefused(
      MALLORY,
      () => pressButton(current(app, header1), 'release.redflag.open', MALLORY, noGo),
      {
        says: onlyRole('@release_manager', 'make the go/no-go call'),
        audited: { releaseId: 'r1', action: 'go', reason: 'role:release_manager' },
      },
    );
  });

  it('refuses the no-go modal when someone else submits it', async () => {
    const modal = await openModal(current(app, header1), 'release.redflag.open', LEAD, noGo);
    expect(modal.view.callback_id).toBe('release.nogo');
    await expectRefused(MALLORY, () => submitAs(modal, { note: { 'note.input': 'Not today' } }, MALLORY), {
      says: onlyRole('@release_manager', 'make the go/no-go call'),
      audited: { releaseId: 'r1', action: 'go', reason: 'role:release_manager' },
    });
  });

  it('refuses the red flag button and its modal to someone who may not raise one', async () => {
    await expectRefused(MALLORY, () => pressButton(current(app, header1), 'release.redflag.open', MALLORY), {
      says: onlyRole('@release_manager or @qa', 'raise a red flag'),
      audited: { releaseId: 'r1', action: 'red_flag', reason: 'role:release_manager,qa' },
    });
    const modal = await openModal(current(app, header1), 'release.redflag.open', QA);
    const values = {
      condition: { 'condition.select': '0' },
      note: { 'note.input': 'The smoke test is red' },
    };
    await expectRefused(MALLORY, () => submitAs(modal, values, MALLORY), {
      says: onlyRole('@release_manager or @qa', 'raise a red flag'),
      audited: { releaseId: 'r1', action: 'red_flag', reason: 'role:release_manager,qa' },
    });
  });

  it('refuses the clearing modal when someone else submits it', async () => {
    const modal = await openModal(current(app, header1), 'release.redflag.open', LEAD, clear);
    expect(modal.view.callback_id).toBe('release.redflag.clear');
    await expectRefused(
      MALLORY,
      () => submitAs(modal, { note: { 'note.input': 'All good again' } }, MALLORY),
      {
        says: onlyRole('@release_manager', 'clear a red flag'),
        audited: { releaseId: 'r1', action: 'red_flag_resolve', reason: 'role:release_manager' },
      },
    );
  });
});

describe('windows and starts', () => {
  it('refuses /deploy reschedule', async () => {
    await expectRefused(MALLORY, () => command('reschedule v1.0 staging in 3d', MALLORY), {
      says: onlyRole('@release_manager', 'move a deploy window'),
      audited: { releaseId: 'r1', action: 'reschedule', reason: 'role:release_manager' },
    });
  });

  it('refuses /deploy start, and the start form, without recording anything', async () => {
    await expectRefused(MALLORY, () => command('start v9.0 staging guarded', MALLORY), {
      says: onlyRole('@release_manager or @ops', 'start a release'),
    });
    const views = app.standIn.views.length;
    await expectRefused(MALLORY, () => command('start', MALLORY), {
      says: onlyRole('@release_manager or @ops', 'start a release'),
    });
    expect(app.standIn.views).toHaveLength(views);
  });

  it('refuses the start form when someone else submits it', async () => {
    const opened = app.standIn.views.length;
    await command('start', LEAD);
    const form = await app.standIn.waitFor(() => app.standIn.views[opened], 5000, 'the start form');
    const values = {
      version: { 'version.input': 'v9.1' },
      env: { 'env.select': 'staging' },
      template: { 'template.select': 'guarded' },
    };
    await expectRefused(MALLORY, () => submitAs(form, values, MALLORY), {
      says: onlyRole('@release_manager or @ops', 'start a release'),
    });
  });

  it('refuses a freeze override submitted by someone who may start but not override a freeze', async () => {
    const frozen = await command('start v3.0 production guarded', LEAD);
    const tag = (frozen as { tag: string }).tag;
    await waitForReply(app, tag, /is frozen until/);
    const refusal = app.standIn.responsesTo(tag)[0]!.body as { text: string; blocks: unknown[] };
    const opened = app.standIn.views.length;
    const click = clickButton(
      { ts: '1.1', channel: header1.channel, text: refusal.text, blocks: refusal.blocks },
      { actionId: 'freeze.override.open' },
      { user: LEAD, ephemeral: true },
    );
    expect((await app.interact(click)).status).toBe(200);
    const modal = await app.standIn.waitFor(() => app.standIn.views[opened], 5000, 'the freeze override');
    await expectRefused(
      OPS,
      () => submitAs(modal, { reason: { 'reason.input': 'Customer deadline' } }, OPS),
      {
        says: onlyRole('@release_manager', 'override a freeze'),
      },
    );
  });
});

describe('the rollback checklist', () => {
  it('refuses its role’s item to someone without the role; its holder ticks it', async () => {
    const modal = await openModal(current(app, header2), 'release.rollback.open', LEAD);
    expect(
      (await app.interact(submitView(modal, { reason: { 'reason.input': 'Errors are up' } }, { user: LEAD })))
        .status,
    ).toBe(200);
    const checklist = await app.standIn.waitFor(
      () =>
        app.standIn
          .messages(header2.channel)
          .find((message) => message.thread_ts === header2.ts && message.text.endsWith('rollback checklist')),
      5000,
      'the rollback checklist',
    );
    await expectRefused(
      MALLORY,
      async () => {
        const tag = `rb-${Date.now()}`;
        const payload = app.tickPayload(
          current(app, checklist),
          'rb-reverted',
          true,
          MALLORY,
          app.standIn.responseUrl(tag),
        );
        expect((await app.interact(payload)).status).toBe(200);
        return { tag };
      },
      {
        says: onlyRole('@ops', 'tick this item'),
        audited: { releaseId: 'r2', action: 'tick', item: 'rb-reverted', reason: 'role:ops' },
      },
    );
    await tickAll(app, checklist, ['rb-reverted'], OPS);
    await app.standIn.waitFor(
      () => /Rolled back by <@U0OPS>/.test(blockTexts(current(app, header2)).join('\n')),
      5000,
      'rolled back',
    );
  });
});

it('leaks no token or secret in a log line, an answer or a message of the tests above', () => {
  expectNoSecretsLeaked(app);
});
