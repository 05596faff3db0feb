import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseStore } from '../../src/store/release-store.js';
import { blockTexts, startTestApp, type TestApp } from '../support/app-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { clickButton, SLACK_TEAM, submitView } from '../support/slack-requests.js';
import { SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';
import { click, current, waitForHeader, waitForItem, waitForPhase, waitForReply } from './helpers.js';

// The whole timed flow through signed Slack requests, with durations in seconds: owners, grouped
// reminders in the thread and by DM, snooze, the deploy, check-ins, escalation, an issue found and
// resolved, and the monitoring window closing the release.

const TIMED_TEMPLATE = `id: timed
name: Timed
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
    due: T+1s
    deployment: true
    items:
      - id: shipped
        text: Deployed to the servers
`;

const OWNER = 'U0OWNER';
const BOB = 'U0BOB';

let checklistsDir: string;
const apps: TestApp[] = [];
const standIns: SlackStandIn[] = [];
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-schedule-'));
  await writeFile(path.join(checklistsDir, 'timed.yaml'), TIMED_TEMPLATE);
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
      CHECKIN_SCHEDULE: '2s,4s',
      CHECKIN_ESCALATE_AFTER: '1s',
      ...options.env,
    },
  });
  apps.push(app);
  return app;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dm = (userId: string) => `D${userId.slice(1)}`;

function threadMessages(standIn: SlackStandIn, header: StoredMessage, prefix: string): StoredMessage[] {
  return standIn
    .messages(header.channel)
    .filter((message) => message.thread_ts === header.ts && message.text.startsWith(prefix));
}

function directMessages(standIn: SlackStandIn, userId: string, phaseName?: string): StoredMessage[] {
  return standIn
    .messages(dm(userId))
    .filter((message) => phaseName === undefined || message.text.includes(` of ${phaseName} in `));
}

function text(message: StoredMessage): string {
  return blockTexts(message).join('\n');
}

async function press(app: TestApp, message: StoredMessage, actionId: string, user: string) {
  const response = await app.interact(clickButton(current(app, message) as never, { actionId }, { user }));
  expect(response.status).toBe(200);
}

/** Opens a modal with a button, then submits it with `values`. */
async function fillModal(
  app: TestApp,
  message: StoredMessage,
  actionId: string,
  callbackId: string,
  values: Parameters<typeof submitView>[1],
  user: string,
) {
  const opened = app.standIn.views.length;
  await press(app, message, actionId, user);
  const modal = await app.standIn.waitFor(
    () => app.standIn.views.slice(opened).find((view) => view.view.callback_id === callbackId),
    5000,
    `modal ${callbackId}`,
  );
  const response = await app.interact(submitView(modal, values, { user }));
  expect(response.status).toBe(200);
}

async function auditLines(app: TestApp, version: string): Promise<string> {
  const audit = await app.command(`audit ${version}`);
  return waitForReply(app, audit.responseTag, /Audit trail/);
}

describe('the timed flow of a release', () => {
  it('reminds owners, snoozes, checks in after the deploy, escalates and closes the window', async () => {
    const app = await startApp();
    await app.command('start v1.0 staging timed in 2s', { user_id: OWNER });
    const header = await waitForHeader(app, 'v1.0 → staging');
    const prepare = await waitForPhase(app, header, 'Prepare');

    // Bob owns the release notes; the backup stays with the person who started the release.
    await fillModal(
      app,
      prepare,
      'owners.open|r1|0',
      'owners.assign',
      { 'owner:notes': { 'owner.select': BOB } },
      OWNER,
    );
    await app.standIn.waitFor(
      () => text(current(app, prepare)).includes(`owner <@${BOB}>`),
      5000,
      'owner shown',
    );

    // One thread message names both owners with their own items; each gets a DM with only theirs.
    const reminder = await app.standIn.waitFor(
      () => threadMessages(app.standIn, header, 'Reminder: Prepare')[0],
      6000,
      'the first reminder',
    );
    expect(text(reminder)).toMatch(new RegExp(`<@${OWNER}>[^]*Backup taken`));
    expect(text(reminder)).toMatch(new RegExp(`<@${BOB}>[^]*Release notes written`));
    expect(text(reminder)).not.toContain('Nice to have');
    const bobDm = await app.standIn.waitFor(() => directMessages(app.standIn, BOB)[0], 5000, 'Bob’s DM');
    expect(text(bobDm)).toContain('Release notes written');
    expect(text(bobDm)).not.toContain('Backup taken');
    const ownerDm = await app.standIn.waitFor(
      () => directMessages(app.standIn, OWNER, 'Prepare')[0],
      5000,
      'owner DM',
    );
    expect(text(ownerDm)).toContain('Backup taken');

    // Bob ticks his item from the DM: the checklist shows it, and the DM says he is done.
    await press(app, bobDm, 'item.done|r1|notes', BOB);
    await waitForItem(app, prepare, 'notes', true);
    await app.standIn.waitFor(
      () => /All your items/.test(text(current(app, bobDm))),
      5000,
      'Bob’s DM updated',
    );

    // The owner snoozes: the next rounds leave them out until the snooze ends.
    await press(app, ownerDm, 'reminder.snooze|r1|0|30m', OWNER);
    await app.standIn.waitFor(() => /Snoozed until/.test(text(current(app, ownerDm))), 5000, 'snooze shown');
    const threadRemindersBefore = threadMessages(app.standIn, header, 'Reminder: Prepare').length;
    // (Ship is due too by now, and reminded of separately; the snooze is for Prepare.)
    const ownerDmsBefore = directMessages(app.standIn, OWNER, 'Prepare').length;
    await sleep(2500);
    expect(directMessages(app.standIn, OWNER, 'Prepare')).toHaveLength(ownerDmsBefore);
    expect(threadMessages(app.standIn, header, 'Reminder: Prepare')).toHaveLength(threadRemindersBefore);
    expect(directMessages(app.standIn, BOB)).toHaveLength(1);

    // The phase is done; then the deploy: check-ins follow at +2 s and +4 s.
    await click(app, prepare, 'backup', true, OWNER);
    const ship = await waitForPhase(app, header, 'Ship');
    await click(app, ship, 'shipped', true, OWNER);
    await app.standIn.waitFor(
      () => /Deployed/.test(text(current(app, header))),
      5000,
      'deployed on the header',
    );

    const firstCheckin = await app.standIn.waitFor(
      () => threadMessages(app.standIn, header, 'Check-in 1')[0],
      6000,
      'check-in 1',
    );
    expect(text(firstCheckin)).toContain(`<@${OWNER}>`);
    // Nobody answers: after 1 s the owner is pinged in the thread and by DM, with the buttons.
    const escalation = await app.standIn.waitFor(
      () => threadMessages(app.standIn, header, 'Check-in 1 of')[0],
      5000,
      'the escalation',
    );
    expect(text(escalation)).toContain(`<@${OWNER}>`);
    await app.standIn.waitFor(
      () =>
        directMessages(app.standIn, OWNER).some((message) => /waiting for your answer/.test(message.text)),
      5000,
      'the escalation DM',
    );
    // The record keeps the question's ts apart from the nudge's: links and redraws reach the question.
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const [release] = await new ReleaseStore(redis, app.prefix).listActive(SLACK_TEAM.id);
      expect(release?.checkins[0]).toMatchObject({ ts: firstCheckin.ts, escalationTs: escalation.ts });
    } finally {
      redis.disconnect();
    }

    // An issue is found at check-in 1: it shows on the header and keeps the window open.
    await fillModal(
      app,
      firstCheckin,
      'checkin.issue|r1|0',
      'checkin.issue',
      { what: { 'what.input': 'Error rate up <!channel> & more' }, severity: { 'severity.select': 'major' } },
      BOB,
    );
    await app.standIn.waitFor(
      () => /Issue found/.test(text(current(app, firstCheckin))),
      5000,
      'answer shown',
    );
    await app.standIn.waitFor(
      () => /#1 \(major\)/.test(text(current(app, header))),
      5000,
      'issue on the header',
    );
    expect(text(current(app, header))).toContain('&lt;!channel&gt; &amp; more');

    const secondCheckin = await app.standIn.waitFor(
      () => threadMessages(app.standIn, header, 'Check-in 2')[0],
      6000,
      'check-in 2',
    );
    await press(app, secondCheckin, 'checkin.healthy|r1|1', BOB);
    await app.standIn.waitFor(() => /Healthy/.test(text(current(app, secondCheckin))), 5000, 'healthy shown');
    // The open issue still holds the window open.
    await sleep(300);
    expect(text(current(app, header))).not.toContain('Completed');

    await fillModal(
      app,
      header,
      'issue.resolve|r1|1',
      'issue.resolve',
      { resolution: { 'resolution.input': 'Rolled a config fix forward' } },
      BOB,
    );
    await app.standIn.waitFor(() => /Completed/.test(text(current(app, header))), 5000, 'release completed');

    // Every check-in and escalation was posted once.
    await sleep(1500);
    expect(threadMessages(app.standIn, header, 'Check-in 1:')).toHaveLength(1);
    expect(threadMessages(app.standIn, header, 'Check-in 2:')).toHaveLength(1);
    expect(threadMessages(app.standIn, header, 'Check-in 1 of')).toHaveLength(1);

    const audit = await auditLines(app, 'v1.0');
    for (const line of [
      `assigned “Release notes written” to <@${BOB}>`,
      `reminded <@${OWNER}> of the open items in Prepare`,
      `reminded <@${BOB}> of the open items in Prepare`,
      'snoozed their reminders for Prepare',
      'deployed; 2 check-ins planned',
      'posted check-in 1',
      'posted check-in 2',
      `escalated unanswered check-in 1 to <@${OWNER}>`,
      'answered check-in 1: *issue found*',
      'reported issue #1 (major)',
      'answered check-in 2: *healthy*',
      'resolved issue #1',
      'The monitoring window closed',
      'The release completed',
    ]) {
      expect(audit).toContain(line);
    }
  });

  it('rolls back from a check-in: the release ends, later check-ins never come', async () => {
    const app = await startApp({ env: { CHECKIN_SCHEDULE: '1s,3s', CHECKIN_ESCALATE_AFTER: '1h' } });
    await app.command('start v2.0 staging timed', { user_id: OWNER });
    const header = await waitForHeader(app, 'v2.0 → staging');
    const prepare = await waitForPhase(app, header, 'Prepare');
    await click(app, prepare, 'backup', true, OWNER);
    await click(app, prepare, 'notes', true, OWNER);
    const ship = await waitForPhase(app, header, 'Ship');
    await click(app, ship, 'shipped', true, OWNER);
    const checkin = await app.standIn.waitFor(
      () => threadMessages(app.standIn, header, 'Check-in 1')[0],
      5000,
      'check-in 1',
    );
    await fillModal(
      app,
      checkin,
      'checkin.rollback|r1|0',
      'checkin.rollback',
      { reason: { 'reason.input': 'Payments fail for EU cards' } },
      OWNER,
    );
    await app.standIn.waitFor(() => /Rolled back/.test(text(current(app, header))), 5000, 'rolled back');
    expect(text(current(app, header))).toContain('Payments fail for EU cards');
    await sleep(3000);
    expect(threadMessages(app.standIn, header, 'Check-in 2')).toHaveLength(0);

    // A stale view of the check-in still has its buttons: a click on one is refused, and says why.
    const responseUrl = app.standIn.responseUrl('late-answer');
    await app.interact(
      clickButton(checkin as never, { actionId: 'checkin.healthy|r1|0' }, { user: BOB, responseUrl }),
    );
    expect(await waitForReply(app, 'late-answer', /rolled back/)).toMatch(/nothing was changed/);
    // The version and environment are free again.
    await app.command('start v2.0 staging timed', { user_id: OWNER });
    await app.standIn.waitFor(
      () =>
        app.standIn.messages(header.channel).filter((message) => message.text.startsWith('Release v2.0'))
          .length === 2,
      5000,
      'a second release of v2.0',
    );
  });

  it('posts each check-in once with two instances on one Redis, across a restart', async () => {
    const standIn = await SlackStandIn.start();
    standIns.push(standIn);
    const env = { CHECKIN_SCHEDULE: '2s', CHECKIN_ESCALATE_AFTER: '1s' };
    const first = await startApp({ standIn, env });
    await first.command('start v3.0 staging timed', { user_id: OWNER });
    const header = await waitForHeader(first, 'v3.0 → staging');
    const prepare = await waitForPhase(first, header, 'Prepare');
    await click(first, prepare, 'backup', true, OWNER);
    await click(first, prepare, 'notes', true, OWNER);
    const ship = await waitForPhase(first, header, 'Ship');
    await click(first, ship, 'shipped', true, OWNER);
    await standIn.waitFor(() => /Deployed/.test(text(current(first, header))), 5000, 'deployed');
    // Stop with the check-in pending; two instances take over the same Redis.
    await first.shipcheck.stop();
    apps.splice(apps.indexOf(first), 1);
    const shared = { standIn, prefix: first.prefix, signingSecret: first.signingSecret, env };
    await startApp(shared);
    await startApp(shared);
    await standIn.waitFor(() => threadMessages(standIn, header, 'Check-in 1 of')[0], 8000, 'the escalation');
    await sleep(1500);
    expect(threadMessages(standIn, header, 'Check-in 1:')).toHaveLength(1);
    expect(threadMessages(standIn, header, 'Check-in 1 of')).toHaveLength(1);
    expect(
      directMessages(standIn, OWNER).filter((message) => /waiting for your answer/.test(message.text)),
    ).toHaveLength(1);
  });

  it('refuses to move the window of a deployed release, and nothing changes', async () => {
    const app = await startApp({ env: { CHECKIN_SCHEDULE: '1h' } });
    await app.command('start v4.0 staging timed in 1h', { user_id: OWNER });
    const header = await waitForHeader(app, 'v4.0 → staging');
    const prepare = await waitForPhase(app, header, 'Prepare');
    await click(app, prepare, 'backup', true, OWNER);
    await click(app, prepare, 'notes', true, OWNER);
    const ship = await waitForPhase(app, header, 'Ship');
    await click(app, ship, 'shipped', true, OWNER);
    await app.standIn.waitFor(() => /Deployed/.test(text(current(app, header))), 5000, 'deployed');
    const before = text(current(app, header));
    const moved = await app.command('reschedule v4.0 in 2h', { user_id: OWNER });
    expect(await waitForReply(app, moved.responseTag, /was deployed/)).toMatch(/cannot move/);
    expect(text(current(app, header))).toBe(before);
  });
});
