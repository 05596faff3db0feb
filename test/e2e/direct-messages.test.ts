import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { ProcessCluster } from '../support/process-harness.js';
import { clickButton } from '../support/slack-requests.js';
import { SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';
import { click, current, tickAll, waitForHeader, waitForItem, waitForPhase } from './helpers.js';

// The direct messages shipcheck sends are part of the release's messages: the latest reminder a
// person got about a phase follows the checklist, an older one says once that it was superseded, and
// an escalation shows its answer. Each test reads every version of each DM, as the person saw it.

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
  - id: ship
    name: Ship
    due: T+1h
    deployment: true
    items:
      - id: shipped
        text: Deployed to the servers
`;

const OWNER = 'U0OWNER';
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const BASE_ENV = { REMINDER_INTERVAL: '1h', QUIET_HOURS: '00:00-00:00' };

let checklistsDir: string;
const apps: TestApp[] = [];
let cluster: ProcessCluster | undefined;
let sharedStandIn: SlackStandIn | undefined;
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-dms-'));
  await writeFile(path.join(checklistsDir, 'quick.yaml'), TEMPLATE);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
  await cluster?.stop();
  await sharedStandIn?.stop();
  cluster = undefined;
  sharedStandIn = undefined;
});
afterAll(async () => {
  await rm(checklistsDir, { recursive: true, force: true });
});

async function startApp(env: Record<string, string> = {}) {
  const app = await startTestApp({ env: { CHECKLISTS_DIR: checklistsDir, ...BASE_ENV, ...env } });
  apps.push(app);
  return app;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dmChannel = (userId: string) => `D${userId.slice(1)}`;

interface Block {
  type: string;
  text?: { text?: string };
  elements?: { type?: string; text?: unknown; value?: string }[];
  accessory?: { type?: string; text?: { text?: string }; value?: string };
}

/** What a person sees in one version of a message: each line of text, and each button as [Label]. */
interface Seen {
  fallback: string;
  lines: string[];
  buttons: string[];
}

function see(text: string, blocks: unknown): Seen {
  const lines: string[] = [];
  const buttons: string[] = [];
  const label = (button: { text?: unknown; value?: string }) => {
    const name = (button.text as { text?: string } | undefined)?.text ?? '';
    return button.value ? `${name} ${button.value}` : name;
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

/**
 * Every version of a message as Slack showed it: the post (found by its delivery key), then each
 * chat.update Slack accepted, in order.
 */
function versionsOf(standIn: SlackStandIn, message: StoredMessage): Seen[] {
  const key = message.metadata?.event_payload.key;
  const accepted = (call: { answered: number; error?: string }) => call.answered === 200 && !call.error;
  const posted = standIn
    .callsTo('chat.postMessage')
    .filter(
      (call) =>
        accepted(call) &&
        (call.args.metadata as { event_payload?: { key?: unknown } })?.event_payload?.key === key,
    );
  const updated = standIn
    .callsTo('chat.update')
    .filter((call) => accepted(call) && call.args.channel === message.channel && call.args.ts === message.ts);
  return [...posted, ...updated].map((call) => see(String(call.args.text ?? ''), call.args.blocks));
}

const seenNow = (standIn: SlackStandIn, message: StoredMessage) => {
  const found = standIn.message(message.channel, message.ts);
  if (!found) throw new Error(`message ${message.ts} is gone`);
  return see(found.text, found.blocks);
};

function reminderDms(standIn: SlackStandIn, userId: string): StoredMessage[] {
  return standIn
    .messages(dmChannel(userId))
    .filter((message) => message.metadata?.event_payload.key !== undefined);
}

function threadReminders(standIn: SlackStandIn, header: StoredMessage): StoredMessage[] {
  return standIn
    .messages(header.channel)
    .filter((message) => message.thread_ts === header.ts && message.text.startsWith('Reminder: Prepare '));
}

const SNOOZES = ['Snooze 30 min', 'Snooze 1 h', 'Snooze 2 h', 'Open the checklist'];
const SUPERSEDED = 'Superseded: an older reminder of Prepare in';

/** Each older DM was told once, last, that a newer reminder superseded it, and then left alone. */
function expectSupersededOnce(standIn: SlackStandIn, older: StoredMessage[]) {
  for (const message of older) {
    const versions = versionsOf(standIn, message);
    expect(versions.filter((version) => version.fallback.startsWith(SUPERSEDED))).toHaveLength(1);
    expect(versions.at(-1)).toEqual({
      fallback: 'Superseded: an older reminder of Prepare in v1.0 → staging',
      lines: [
        '⏰ This reminder about *Prepare* in *v1.0 → staging* was superseded by a newer one further down.',
      ],
      buttons: [],
    });
  }
}

/** No version repeats the one before it: a DM is updated only when what it shows changes. */
function expectNoIdleUpdates(versions: Seen[]) {
  for (let index = 1; index < versions.length; index++) {
    expect(versions[index]).not.toEqual(versions[index - 1]);
  }
}

describe('reminder DMs follow the release', () => {
  it('shows an item ticked in the thread as done, then the phase done, in the one DM', async () => {
    const app = await startApp();
    await app.command('start v1.0 staging quick in 1s', { user_id: OWNER });
    const header = await waitForHeader(app, 'v1.0 → staging');
    const dm = await app.standIn.waitFor(() => reminderDms(app.standIn, OWNER)[0], 6000, 'the reminder DM');
    const phase = await waitForPhase(app, header, 'Prepare');

    await click(app, phase, 'backup', true, ALICE);
    await app.standIn.waitFor(
      () => seenNow(app.standIn, dm).lines.some((line) => line.startsWith('✅ Backup taken')),
      5000,
      'the tick shown in the DM',
    );
    await click(app, phase, 'notes', true, ALICE);
    await app.standIn.waitFor(
      () => seenNow(app.standIn, dm).fallback.startsWith('Every required item of Prepare'),
      5000,
      'the phase shown done in the DM',
    );
    await sleep(500);

    const versions = versionsOf(app.standIn, dm);
    const doneBy = (text: string) =>
      expect.stringMatching(new RegExp(`^✅ ${text} · done by <@${ALICE}> <!date\\^\\d+\\^`));
    const heading = expect.stringMatching(
      /^⏰ Reminder: these required items of \*Prepare\* in \*v1\.0 → staging\*/,
    );
    expect(versions).toEqual([
      {
        fallback: 'Your open items: 2 required items of Prepare in v1.0 → staging',
        lines: [heading, '⬜ Backup taken', '⬜ Release notes written'],
        buttons: ['Done backup', 'Done notes', ...SNOOZES],
      },
      {
        fallback: 'Your open items: 1 required item of Prepare in v1.0 → staging',
        lines: [heading, doneBy('Backup taken'), '⬜ Release notes written'],
        buttons: ['Done notes', ...SNOOZES],
      },
      {
        fallback: 'Every required item of Prepare in v1.0 → staging is done',
        lines: [
          heading,
          doneBy('Backup taken'),
          doneBy('Release notes written'),
          '✅ *Prepare* is done: every required item is ticked.',
        ],
        buttons: [],
      },
    ]);
    // The sync updates the DMs it keeps; nothing new is posted to the person for it.
    expect(reminderDms(app.standIn, OWNER)).toHaveLength(1);
  });

  it('tells an older DM once that a newer reminder superseded it, and the latest that the release was cancelled', async () => {
    const app = await startApp({ REMINDER_INTERVAL: '1s' });
    await app.command('start v1.0 staging quick in 1s', { user_id: OWNER });
    const header = await waitForHeader(app, 'v1.0 → staging');
    await app.standIn.waitFor(() => reminderDms(app.standIn, OWNER).length >= 2, 8000, 'a second reminder');
    const [first] = reminderDms(app.standIn, OWNER);
    await app.standIn.waitFor(
      () => seenNow(app.standIn, first!).fallback.startsWith(SUPERSEDED),
      5000,
      'the first DM superseded',
    );
    const firstVersions = versionsOf(app.standIn, first!);
    expect(firstVersions[0]).toMatchObject({
      fallback: 'Your open items: 2 required items of Prepare in v1.0 → staging',
      buttons: ['Done backup', 'Done notes', ...SNOOZES],
    });

    await app.command('cancel v1.0 not today', { user_id: OWNER });
    await app.standIn.waitFor(
      () => seenNow(app.standIn, reminderDms(app.standIn, OWNER).at(-1)!).fallback.includes('is cancelled'),
      5000,
      'the latest DM says the release ended',
    );
    await sleep(1500);

    const dms = reminderDms(app.standIn, OWNER);
    const latest = dms.at(-1)!;
    expect(threadReminders(app.standIn, header)).toHaveLength(dms.length);
    expectSupersededOnce(app.standIn, dms.slice(0, -1));
    expect(seenNow(app.standIn, latest)).toEqual({
      fallback: 'v1.0 → staging is cancelled; nothing left to do',
      lines: [
        expect.stringMatching(/^⏰ Reminder: these required items of \*Prepare\*/),
        '⬜ Backup taken',
        '⬜ Release notes written',
        'This release is cancelled; nothing left to do.',
      ],
      buttons: [],
    });
    expectNoIdleUpdates(versionsOf(app.standIn, latest));
  });
});

describe('escalation DMs show the answer', () => {
  it('shows the answer given in the thread, and that the release completed, without the answers', async () => {
    const app = await startApp({ CHECKIN_SCHEDULE: '1s', CHECKIN_ESCALATE_AFTER: '1s' });
    await app.command('start v2.0 staging quick', { user_id: OWNER });
    const header = await waitForHeader(app, 'v2.0 → staging');
    await tickAll(app, await waitForPhase(app, header, 'Prepare'), ['backup', 'notes'], OWNER);
    const ship = await waitForPhase(app, header, 'Ship');
    await click(app, ship, 'shipped', true, OWNER);
    await waitForItem(app, ship, 'shipped', true);

    const escalation = await app.standIn.waitFor(
      () =>
        app.standIn.messages(dmChannel(OWNER)).find((message) => message.text.startsWith('Check-in 1 of')),
      8000,
      'the escalation DM',
    );
    const checkin = await app.standIn.waitFor(
      () =>
        app.standIn
          .messages(header.channel)
          .find((message) => message.thread_ts === header.ts && message.text.startsWith('Check-in 1:')),
      5000,
      'the check-in',
    );
    const answer = await app.interact(
      clickButton(current(app, checkin) as never, { actionId: 'checkin.healthy|r1|0' }, { user: BOB }),
    );
    expect(answer.status).toBe(200);
    await app.standIn.waitFor(
      () => seenNow(app.standIn, escalation).lines.includes('The release is completed.'),
      5000,
      'the answer in the escalation DM',
    );
    await sleep(500);

    const answered = expect.stringMatching(new RegExp(`^✅ Healthy — <@${BOB}> <!date\\^\\d+\\^`));
    const versions = versionsOf(app.standIn, escalation);
    expect(versions[0]).toMatchObject({
      fallback: 'Check-in 1 of v2.0 → staging is waiting for your answer',
      buttons: ['Healthy', 'Issue found…', 'Roll back…', 'Open the thread'],
    });
    expect(versions.at(-1)).toEqual({
      fallback: 'Check-in 1 of v2.0 → staging is answered',
      lines: [
        expect.stringMatching(/^🩺 \*Check-in 1 of 1\*\nIs \*v2\.0 → staging\* healthy\?/),
        expect.stringMatching(/^Deployed <!date/),
        answered,
        expect.stringMatching(/^⏰ Escalated to <@U0OWNER>/),
        'The release is completed.',
      ],
      buttons: ['Open the thread'],
    });
    // Once answered, no version offered the answers again.
    const firstAnswered = versions.findIndex((version) => version.fallback.endsWith('is answered'));
    expect(firstAnswered).toBeGreaterThan(0);
    for (const version of versions.slice(firstAnswered)) expect(version.buttons).toEqual(['Open the thread']);
    expectNoIdleUpdates(versions);
    // Where it was asked in the thread, it shows answered too.
    expect(seenNow(app.standIn, checkin)).toMatchObject({
      lines: expect.arrayContaining([answered]),
      buttons: [],
    });

    // A second click in the DM, on the version it showed before, is refused and changes nothing.
    const late = app.standIn.responseUrl('late');
    await app.interact(
      clickButton(
        escalation as never,
        { actionId: 'checkin.healthy|r1|0' },
        { user: OWNER, responseUrl: late },
      ),
    );
    await app.standIn.waitFor(() => app.standIn.responsesTo('late')[0], 5000, 'the refusal');
    expect(versionsOf(app.standIn, escalation)).toHaveLength(versions.length);
  });
});

describe('with two instances on one Redis', () => {
  it('posts each reminder DM once, supersedes each older one once, and shows the phase done in the latest', async () => {
    sharedStandIn = await SlackStandIn.start();
    const standIn = sharedStandIn;
    cluster = new ProcessCluster(standIn, {
      CHECKLISTS_DIR: checklistsDir,
      ...BASE_ENV,
      REMINDER_INTERVAL: '1s',
      SHUTDOWN_TIMEOUT_MS: '3000',
    });
    await cluster.start();
    await cluster.start();
    const app = cluster;
    await app.command('start v1.0 staging quick in 1s', { user_id: OWNER });
    const header = await waitForHeader(app, 'v1.0 → staging');
    const phase = await waitForPhase(app, header, 'Prepare');
    await standIn.waitFor(() => reminderDms(standIn, OWNER).length >= 3, 10_000, 'three reminder rounds');

    await click(app, phase, 'backup', true, ALICE);
    await standIn.waitFor(
      () =>
        seenNow(standIn, reminderDms(standIn, OWNER).at(-1)!).buttons.join() ===
        ['Done notes', ...SNOOZES].join(),
      5000,
      'the latest DM without the ticked item’s Done',
    );
    await click(app, phase, 'notes', true, ALICE);
    await waitForItem(app, phase, 'notes', true);
    // A round that read the release before the last tick may still land; later ones may not.
    await standIn.waitFor(
      () =>
        seenNow(standIn, reminderDms(standIn, OWNER).at(-1)!).fallback.startsWith(
          'Every required item of Prepare',
        ),
      5000,
      'the latest DM says the phase is done',
    );
    await sleep(2000);

    const dms = reminderDms(standIn, OWNER);
    // One DM per round, though both instances run the reminder jobs and the syncs.
    expect(threadReminders(standIn, header)).toHaveLength(dms.length);
    expect(new Set(dms.map((message) => message.metadata?.event_payload.key)).size).toBe(dms.length);
    expectSupersededOnce(standIn, dms.slice(0, -1));
    const latest = versionsOf(standIn, dms.at(-1)!);
    expect(latest.at(-1)).toMatchObject({
      fallback: 'Every required item of Prepare in v1.0 → staging is done',
      lines: expect.arrayContaining(['✅ *Prepare* is done: every required item is ticked.']),
      buttons: [],
    });
    expectNoIdleUpdates(latest);
  });
});
