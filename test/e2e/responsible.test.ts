import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeItemDoneActionId } from '../../src/views/ids.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { clickButton, postSigned, SLACK_APP_ID, SLACK_TEAM } from '../support/slack-requests.js';
import type { SlackStandIn, StoredMessage } from '../support/slack-stand-in.js';
import { current, repliesTo, waitForHeader, waitForItem, waitForPhase, waitForReply } from './helpers.js';

// Issue 14, point 1: an unowned qa item is the qa holder's everywhere (thread reminder, each DM, the
// redraw after their Done click, the Home tab), never the starter's, and every count agrees. Each
// version of each message is read as the person it went to saw it.

const TEMPLATE = `id: quick
name: Quick
phases:
  - id: prepare
    name: Prepare
    due: T-0
    items:
      - id: backup
        text: Backup taken
      - id: notes
        text: Release notes written
      - id: signoff
        text: QA signed off
        role: qa
      - id: extra
        text: Nice to have
        required: false
        role: qa
  - id: ship
    name: Ship
    due: T+1h
    items:
      - id: deployed
        text: Deployed
`;

const LEAD = 'U0LEAD';
const QA = 'U0QA';

let checklistsDir: string;
const apps: TestApp[] = [];
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-responsible-'));
  await writeFile(path.join(checklistsDir, 'quick.yaml'), TEMPLATE);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});
afterAll(async () => {
  await rm(checklistsDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dmChannel = (userId: string) => `D${userId.slice(1)}`;

interface Block {
  type: string;
  text?: { text?: string };
  elements?: { type?: string; text?: unknown; action_id?: string }[];
  accessory?: { type?: string; text?: { text?: string }; action_id?: string };
}

/** One version of a message as its reader saw it: each text, and each button (Done by the item its action id names). */
interface Seen {
  fallback: string;
  lines: string[];
  buttons: string[];
}

function see(text: string, blocks: unknown): Seen {
  const lines: string[] = [];
  const buttons: string[] = [];
  const label = (button: { text?: unknown; action_id?: string }) => {
    const done = decodeItemDoneActionId(button.action_id);
    return done ? `Done ${done.itemId}` : ((button.text as { text?: string } | undefined)?.text ?? '');
  };
  for (const block of (blocks ?? []) as Block[]) {
    if (block.text?.text) lines.push(block.text.text);
    if (block.accessory?.type === 'button') buttons.push(label(block.accessory));
    for (const element of block.elements ?? []) {
      if (block.type === 'actions') buttons.push(label(element));
      else if (typeof element.text === 'string') lines.push(element.text);
    }
  }
  return { fallback: text, lines, buttons };
}

const keyOf = (message: StoredMessage) => message.metadata?.event_payload.key;

/** Every version of a message: its post (found by its delivery key), then each update Slack accepted. */
function versionsOf(standIn: SlackStandIn, message: StoredMessage): Seen[] {
  const accepted = (call: { answered: number; error?: string }) => call.answered === 200 && !call.error;
  const posted = standIn
    .callsTo('chat.postMessage')
    .filter(
      (call) =>
        accepted(call) &&
        (call.args.metadata as { event_payload?: { key?: unknown } })?.event_payload?.key === keyOf(message),
    );
  const updated = standIn
    .callsTo('chat.update')
    .filter((call) => accepted(call) && call.args.channel === message.channel && call.args.ts === message.ts);
  return [...posted, ...updated].map((call) => see(String(call.args.text ?? ''), call.args.blocks));
}

function seenNow(standIn: SlackStandIn, message: StoredMessage): Seen {
  const found = standIn.message(message.channel, message.ts);
  if (!found) throw new Error(`message ${message.ts} is gone`);
  return see(found.text, found.blocks);
}

const reminderDms = (standIn: SlackStandIn, userId: string) =>
  standIn.messages(dmChannel(userId)).filter((message) => keyOf(message) !== undefined);

function threadReminders(standIn: SlackStandIn, header: StoredMessage): StoredMessage[] {
  return standIn
    .messages(header.channel)
    .filter((message) => message.thread_ts === header.ts && message.text.startsWith('Reminder: Prepare '));
}

/** A person's DM of the same round as a thread reminder: its delivery key is the round's, plus the person. */
function dmOfRound(standIn: SlackStandIn, round: StoredMessage, userId: string): StoredMessage | undefined {
  return reminderDms(standIn, userId).find((message) => keyOf(message) === `${keyOf(round)}-dm-${userId}`);
}

/** Per person the thread reminder names, how many items it lists under them. */
function namedInThread(seen: Seen): Map<string, number> {
  const named = new Map<string, number>();
  for (const line of seen.lines) {
    const [first, ...items] = line.split('\n');
    const mention = first?.match(/^<@([A-Z0-9]+)>:$/);
    if (mention) named.set(mention[1]!, items.filter((item) => item.startsWith('• ')).length);
  }
  return named;
}

const openCount = (fallback: string) => Number(fallback.match(/(\d+) required items?/)?.[1] ?? Number.NaN);

/** The Events API request Slack sends when someone opens the Home tab. */
function homeOpened(user: string, eventId: string) {
  return JSON.stringify({
    token: 'verification-token-not-used',
    team_id: SLACK_TEAM.id,
    api_app_id: SLACK_APP_ID,
    event: {
      type: 'app_home_opened',
      user,
      channel: dmChannel(user),
      tab: 'home',
      event_ts: `${Date.now() / 1000}`,
    },
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
  });
}

/** The "Waiting on you" lines of a person's Home tab as last published. */
function waitingOnHome(standIn: SlackStandIn, user: string): string[] | undefined {
  const home = standIn.views.find((view) => view.method === 'views.publish' && view.user_id === user);
  if (!home) return undefined;
  const waiting = see('', home.view.blocks).lines.find((line) => line.startsWith('*Waiting on you*\n'));
  return waiting?.split('\n').slice(1);
}

const HEADING = expect.stringMatching(
  /^⏰ Reminder: these required items of \*Prepare\* in \*x1 → staging\*/,
);
const SNOOZES = ['Snooze 30 min', 'Snooze 1 h', 'Snooze 2 h', 'Open the checklist'];

describe('who is responsible for an unowned role item', () => {
  it('is the role holder in the thread, their DM, after their Done click and on Home; never the starter', async () => {
    // Rounds 4 s apart: the holder's click lands well inside the first, the second shows its effect.
    const app = await startTestApp({
      env: {
        CHECKLISTS_DIR: checklistsDir,
        ROLES: `qa=${QA}`,
        REMINDER_INTERVAL: '4s',
        QUIET_HOURS: '00:00-00:00',
      },
    });
    apps.push(app);
    const { standIn } = app;
    await app.command('start x1 staging quick in 3s', { user_id: LEAD });
    const header = await waitForHeader(app, 'x1 → staging');
    const phase = await waitForPhase(app, header, 'Prepare');

    // Home, before any reminder: each sees only their own items.
    const events = `${app.baseUrl}/slack/events`;
    const openHome = (user: string, eventId: string) =>
      postSigned(events, homeOpened(user, eventId), {
        signingSecret: app.signingSecret,
        contentType: 'application/json',
      });
    expect((await openHome(QA, 'Ev001')).status).toBe(200);
    expect((await openHome(LEAD, 'Ev002')).status).toBe(200);
    const homeLine = (text: string) => expect.stringMatching(new RegExp(`^⬜ .* · Prepare: ${text}$`));
    await standIn.waitFor(() => waitingOnHome(standIn, QA) && waitingOnHome(standIn, LEAD), 5000, 'homes');
    expect(waitingOnHome(standIn, QA)).toEqual([homeLine('QA signed off')]);
    expect(waitingOnHome(standIn, LEAD)).toEqual([
      homeLine('Backup taken'),
      homeLine('Release notes written'),
    ]);

    // Round 1: the thread names the lead for two items and the holder for the qa item; 3 open.
    const round1 = await standIn.waitFor(() => threadReminders(standIn, header)[0], 8000, 'round 1');
    const qaDm = await standIn.waitFor(() => dmOfRound(standIn, round1, QA), 5000, 'the holder’s DM');
    const leadDm1 = await standIn.waitFor(() => dmOfRound(standIn, round1, LEAD), 5000, 'the lead’s DM');
    const thread1 = seenNow(standIn, round1);
    expect(thread1).toEqual({
      fallback: 'Reminder: Prepare of x1 → staging, 3 required items are open',
      lines: [
        expect.stringMatching(
          /^⏰ \*Prepare\* of \*x1 → staging\* (is|was) due .*; 3 required items are open:$/,
        ),
        `<@${LEAD}>:\n• Backup taken\n• Release notes written`,
        `<@${QA}>:\n• QA signed off`,
      ],
      buttons: [],
    });

    // The holder clicks Done in their DM: ticked, not refused.
    const replies = standIn.responseUrl('qa-done');
    const clicked = await app.interact(
      clickButton(
        current(app, qaDm) as never,
        { actionId: 'item.done|r1|signoff' },
        { user: QA, responseUrl: replies },
      ),
    );
    expect(clicked.status).toBe(200);
    await waitForItem(app, phase, 'signoff', true);
    await standIn.waitFor(
      () => seenNow(standIn, qaDm).fallback === 'All your items in Prepare of x1 → staging are done',
      5000,
      'the holder’s DM shows the item done',
    );

    // Round 2: only the lead is left, with the same two items; the holder gets no new DM.
    const round2 = await standIn.waitFor(() => threadReminders(standIn, header)[1], 8000, 'round 2');
    const leadDm2 = await standIn.waitFor(() => dmOfRound(standIn, round2, LEAD), 5000, 'the lead’s 2nd DM');
    await standIn.waitFor(
      () => seenNow(standIn, leadDm1).fallback.startsWith('Superseded:'),
      5000,
      'the lead’s first DM superseded',
    );
    // Home redrawn for those who opened it: the holder has nothing left.
    await standIn.waitFor(
      () => waitingOnHome(standIn, QA)?.join() === 'Nothing is waiting on you.',
      8000,
      'the holder’s Home redrawn',
    );
    await sleep(500);

    expect(repliesTo(app, 'qa-done').join('\n')).not.toMatch(/Only @qa|refused|not permitted/i);
    const audit = await app.command('audit x1', { user_id: LEAD });
    const trail = await waitForReply(app, audit.responseTag, /Audit trail/);
    expect(trail).toContain(`<@${QA}> ticked “QA signed off”`);
    expect(trail).not.toContain('was refused');

    expect(seenNow(standIn, round2)).toEqual({
      fallback: 'Reminder: Prepare of x1 → staging, 2 required items are open',
      lines: [
        expect.stringMatching(/^⏰ \*Prepare\* of \*x1 → staging\* was due .*; 2 required items are open:$/),
        `<@${LEAD}>:\n• Backup taken\n• Release notes written`,
      ],
      buttons: [],
    });
    expect(reminderDms(standIn, QA)).toHaveLength(1);

    // Every version of the holder's DM: asked with a Done for the qa item, then shown done by them.
    expect(versionsOf(standIn, qaDm)).toEqual([
      {
        fallback: 'Your open items: 1 required item of Prepare in x1 → staging',
        lines: [HEADING, '⬜ QA signed off'],
        buttons: ['Done signoff', ...SNOOZES],
      },
      {
        fallback: 'All your items in Prepare of x1 → staging are done',
        lines: [
          HEADING,
          expect.stringMatching(new RegExp(`^✅ QA signed off · done by <@${QA}> <!date\\^\\d+\\^`)),
          '✅ All your items in *Prepare* are done. Thank you!',
        ],
        buttons: [],
      },
    ]);
    // Every version of the lead's DMs: their two items, never the qa item nor its button.
    const leadAsked: Seen = {
      fallback: 'Your open items: 2 required items of Prepare in x1 → staging',
      lines: [HEADING, '⬜ Backup taken', '⬜ Release notes written'],
      buttons: ['Done backup', 'Done notes', ...SNOOZES],
    };
    expect(versionsOf(standIn, leadDm1)).toEqual([
      leadAsked,
      {
        fallback: 'Superseded: an older reminder of Prepare in x1 → staging',
        lines: [
          '⏰ This reminder about *Prepare* in *x1 → staging* was superseded by a newer one further down.',
        ],
        buttons: [],
      },
    ]);
    expect(versionsOf(standIn, leadDm2)).toEqual([leadAsked]);
    for (const version of [...versionsOf(standIn, leadDm1), ...versionsOf(standIn, leadDm2)]) {
      expect(JSON.stringify(version)).not.toContain('QA signed off');
      expect(version.buttons).not.toContain('Done signoff');
    }

    // The counts agree: each DM states what its round's thread message lists under that person, and
    // the thread's open count is what all of them hold together.
    for (const [round, dms] of [
      [round1, [qaDm, leadDm1]],
      [round2, [leadDm2]],
    ] as const) {
      const thread = seenNow(standIn, round);
      const named = namedInThread(thread);
      for (const dm of dms) {
        const first = versionsOf(standIn, dm)[0]!;
        expect(openCount(first.fallback)).toBe(named.get(dm.channel === dmChannel(QA) ? QA : LEAD));
      }
      expect(openCount(thread.fallback)).toBe([...named.values()].reduce((sum, count) => sum + count, 0));
    }

    // Home now: the lead still has their two items, and never the qa item.
    expect(waitingOnHome(standIn, LEAD)).toEqual([
      homeLine('Backup taken'),
      homeLine('Release notes written'),
    ]);
  }, 40_000);
});
