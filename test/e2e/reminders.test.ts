import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queuePrefix } from '../../src/queues/sync-queue.js';
import { blockTexts, startTestApp, type TestApp } from '../support/app-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { clickButton, submitView } from '../support/slack-requests.js';
import { SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';
import { click, current, waitForHeader, waitForItem, waitForPhase, waitForReply } from './helpers.js';

// Phase reminders on a schedule run in seconds: a template whose phases are due seconds after the window.

const QUICK_TEMPLATE = `id: quick
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
      - id: extra
        text: Nice to have
        required: false
  - id: ship
    name: Ship
    due: T+2s
    items:
      - id: deployed
        text: Deployed
`;

// Three required items with three different people responsible: the starter, an owner, a role holder.
const SHARED_TEMPLATE = `id: shared
name: Shared
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
`;

let checklistsDir: string;
const apps: TestApp[] = [];
const standIns: SlackStandIn[] = [];
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-reminders-'));
  await writeFile(path.join(checklistsDir, 'quick.yaml'), QUICK_TEMPLATE);
  await writeFile(path.join(checklistsDir, 'shared.yaml'), SHARED_TEMPLATE);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
  await Promise.all(standIns.splice(0).map((standIn) => standIn.stop()));
});
afterAll(async () => {
  await rm(checklistsDir, { recursive: true, force: true });
});

async function startApp(options: Parameters<typeof startTestApp>[0] = {}) {
  const app = await startTestApp({
    ...options,
    env: {
      CHECKLISTS_DIR: checklistsDir,
      REMINDER_INTERVAL: '1s',
      QUIET_HOURS: '00:00-00:00',
      ...options.env,
    },
  });
  apps.push(app);
  return app;
}

function reminders(standIn: SlackStandIn, header: StoredMessage, phaseName: string): StoredMessage[] {
  return standIn
    .messages(header.channel)
    .filter(
      (message) => message.thread_ts === header.ts && message.text.startsWith(`Reminder: ${phaseName} `),
    );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (message: StoredMessage) => blockTexts(message).join('\n');
const directMessages = (standIn: SlackStandIn, userId: string) => standIn.messages(`D${userId.slice(1)}`);

async function press(app: TestApp, message: StoredMessage, actionId: string, user: string) {
  const response = await app.interact(clickButton(current(app, message) as never, { actionId }, { user }));
  expect(response.status).toBe(200);
}

describe('phase reminders', () => {
  it('reminds of open required items when a phase is due, repeats, and stops when it is done', async () => {
    const app = await startApp();
    await app.command('start v1.0 staging quick in 1s', { user_id: 'U0OWNER' });
    const header = await waitForHeader(app, 'v1.0 → staging');
    const first = await app.standIn.waitFor(
      () => reminders(app.standIn, header, 'Prepare')[0],
      5000,
      'first reminder',
    );
    const text = JSON.stringify(first.blocks);
    expect(text).toContain('<@U0OWNER>');
    expect(text).toContain('Backup taken');
    expect(text).toContain('Release notes written');
    expect(text).not.toContain('Nice to have');
    await app.standIn.waitFor(() => reminders(app.standIn, header, 'Prepare').length >= 2, 5000, 'a repeat');

    const phase = await waitForPhase(app, header, 'Prepare');
    await click(app, phase, 'backup', true);
    await click(app, phase, 'notes', true);
    await waitForItem(app, phase, 'notes', true);
    // A reminder that had already read the release before the last tick may still land; later ones may not.
    await sleep(300);
    const afterDone = reminders(app.standIn, header, 'Prepare').length;
    await sleep(2500);
    expect(reminders(app.standIn, header, 'Prepare')).toHaveLength(afterDone);

    const audit = await app.command('audit v1.0');
    expect(
      await waitForReply(app, audit.responseTag, /reminded <@U0OWNER> of the open items in Prepare/),
    ).toBeTruthy();
  });

  it('drops pending reminders when the release is cancelled or its window moves', async () => {
    const app = await startApp();
    await app.command('start v2.0 staging quick in 2s', { user_id: 'U0OWNER' });
    const cancelled = await waitForHeader(app, 'v2.0 → staging');
    await app.command('cancel v2.0 not today');
    await app.command('start v2.1 staging quick in 2s', { user_id: 'U0OWNER' });
    const moved = await waitForHeader(app, 'v2.1 → staging');
    await app.command('reschedule v2.1 in 1h', { user_id: 'U0OWNER' });
    await sleep(4000);
    expect(reminders(app.standIn, cancelled, 'Prepare')).toHaveLength(0);
    expect(reminders(app.standIn, moved, 'Prepare')).toHaveLength(0);
    expect(reminders(app.standIn, moved, 'Ship')).toHaveLength(0);
    // The moved release's new series waits for its new window.
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const delayed = await redis.zcard(`${queuePrefix(app.prefix)}:schedule:delayed`);
      expect(delayed).toBe(2);
    } finally {
      await redis.quit();
    }
  });

  it('keeps reminders through a restart, and posts each once with two instances on one Redis', async () => {
    const standIn = await SlackStandIn.start();
    standIns.push(standIn);
    const first = await startApp({ standIn, env: { REMINDER_INTERVAL: '1h' } });
    await first.command('start v3.0 staging quick in 2s', { user_id: 'U0OWNER' });
    const header = await waitForHeader(first, 'v3.0 → staging');
    // Stop with the reminders pending, then run two instances against the same Redis.
    // Only the process stops; its Redis keys stay (the harness's stop() would also clean them up).
    await first.shipcheck.stop();
    apps.splice(apps.indexOf(first), 1);
    const shared = {
      standIn,
      prefix: first.prefix,
      signingSecret: first.signingSecret,
      env: { REMINDER_INTERVAL: '1h' },
    };
    await startApp(shared);
    await startApp(shared);
    await standIn.waitFor(
      () => reminders(standIn, header, 'Prepare').length > 0,
      6000,
      'the reminder after a restart',
    );
    await standIn.waitFor(
      () => reminders(standIn, header, 'Ship').length > 0,
      6000,
      'the second phase reminder',
    );
    await sleep(1000);
    expect(reminders(standIn, header, 'Prepare')).toHaveLength(1);
    expect(reminders(standIn, header, 'Ship')).toHaveLength(1);
  });

  it('counts every open item while an owner is snoozed, and each DM counts what the thread names', async () => {
    const [STARTER, BOB, QA] = ['U0STARTER', 'U0BOB', 'U0QA'];
    const app = await startApp({ env: { ROLES: `qa=${QA}` } });
    await app.command('start v5.0 staging shared in 3s', { user_id: STARTER });
    const header = await waitForHeader(app, 'v5.0 → staging');
    const prepare = await waitForPhase(app, header, 'Prepare');
    // Bob owns the notes; the backup stays with the starter; the sign-off goes to the qa holder.
    const opened = app.standIn.views.length;
    await press(app, prepare, 'owners.open|r1|0', STARTER);
    const modal = await app.standIn.waitFor(
      () => app.standIn.views.slice(opened).find((view) => view.view.callback_id === 'owners.assign'),
      5000,
      'owners modal',
    );
    const assigned = await app.interact(
      submitView(modal, { 'owner:notes': { 'owner.select': BOB } }, { user: STARTER }),
    );
    expect(assigned.status).toBe(200);
    await app.standIn.waitFor(() => text(current(app, prepare)).includes(`owner <@${BOB}>`), 5000, 'owner');

    const first = await app.standIn.waitFor(
      () => reminders(app.standIn, header, 'Prepare')[0],
      6000,
      'the first reminder',
    );
    expect(first.text).toBe('Reminder: Prepare of v5.0 → staging, 3 required items are open');
    expect(text(first)).toMatch(new RegExp(`<@${STARTER}>:\n• Backup taken`));
    expect(text(first)).toMatch(new RegExp(`<@${BOB}>:\n• Release notes written`));
    expect(text(first)).toMatch(new RegExp(`<@${QA}>:\n• QA signed off`));
    // The starter's DM has only what the thread names them for: not the qa holder's sign-off.
    const starterDm = await app.standIn.waitFor(() => directMessages(app.standIn, STARTER)[0], 5000, 'DM');
    expect(starterDm.text).toBe('Your open items: 1 required item of Prepare in v5.0 → staging');
    expect(text(starterDm)).not.toContain('QA signed off');
    const qaDm = await app.standIn.waitFor(() => directMessages(app.standIn, QA)[0], 5000, 'qa DM');
    expect(qaDm.text).toBe('Your open items: 1 required item of Prepare in v5.0 → staging');
    expect(text(qaDm)).toContain('⬜ QA signed off');

    // Bob snoozes: the next rounds leave him out, but still count his item and say why it waits.
    const bobDm = await app.standIn.waitFor(() => directMessages(app.standIn, BOB)[0], 5000, 'Bob’s DM');
    await press(app, bobDm, 'reminder.snooze|r1|0|30m', BOB);
    await app.standIn.waitFor(() => /Snoozed until/.test(text(current(app, bobDm))), 5000, 'snooze shown');
    const roundsBefore = reminders(app.standIn, header, 'Prepare').length;
    // A round that read the release before the snooze may still land; the one after it may not.
    const later = await app.standIn.waitFor(
      () => reminders(app.standIn, header, 'Prepare')[roundsBefore + 1],
      5000,
      'a round after the snooze',
    );
    expect(later.text).toBe('Reminder: Prepare of v5.0 → staging, 3 required items are open');
    expect(text(later)).toContain(`<@${STARTER}>:\n• Backup taken`);
    expect(text(later)).toContain(`<@${QA}>:\n• QA signed off`);
    expect(text(later)).toMatch(/💤 Snoozed until <!date\^\d+\^[^>]*>:\n• Release notes written/);
    expect(text(later)).not.toContain(`<@${BOB}>`);
    expect(directMessages(app.standIn, BOB)).toHaveLength(1);
  });

  it('waits for the end of the owner’s quiet hours', async () => {
    const now = new Date();
    const hhmm = (date: Date) =>
      `${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')}`;
    const quiet = `${hhmm(new Date(now.getTime() - 3600_000))}-${hhmm(new Date(now.getTime() + 3600_000))}`;
    const app = await startApp({ env: { QUIET_HOURS: quiet } });
    app.standIn.setUser('U0SLEEPER', { tz: 'UTC' });
    await app.command('start v4.0 staging quick in 1s', { user_id: 'U0SLEEPER' });
    const header = await waitForHeader(app, 'v4.0 → staging');
    await sleep(3500);
    expect(reminders(app.standIn, header, 'Prepare')).toHaveLength(0);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      // The phase's rounds go on; the sleeper's own reminder waits for their morning.
      const delayed = await redis.zrange(`${queuePrefix(app.prefix)}:schedule:delayed`, 0, -1, 'WITHSCORES');
      const index = delayed.findIndex(
        (member, position) => position % 2 === 0 && member.includes('-uU0SLEEPER-'),
      );
      expect(index, delayed.join(' ')).toBeGreaterThanOrEqual(0);
      const scoreText = delayed[index + 1];
      // BullMQ scores delayed jobs by their due time (ms, shifted left by 12 bits).
      const dueAt = Math.floor(Number(scoreText) / 4096);
      const quietEnds = Math.ceil((now.getTime() + 3600_000) / 60_000) * 60_000;
      expect(Math.abs(dueAt - quietEnds)).toBeLessThanOrEqual(60_000);
    } finally {
      await redis.quit();
    }
  });
});
