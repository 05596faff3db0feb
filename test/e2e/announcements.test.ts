import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, viewItem } from '../support/app-harness.js';
import { ProcessCluster, type ShipcheckProcess } from '../support/process-harness.js';
import { clickButton } from '../support/slack-requests.js';
import { SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';
import { current, tickAll, waitForHeader, waitForPhase } from './helpers.js';

// Stakeholder announcements end to end, with two instances on one Redis taking turns with the
// requests: every event reaches every stakeholder channel exactly once, and says what happened: a
// release is planned (or scheduled), deploying once its deployment phase opens, then live.

const TEMPLATE = `id: announced
name: Announced
stakeholders: [C0STAKE1, C0STAKE2]
announcements:
  deployed: "🎉 {version} is out on {env}. Thanks, {by}!"
phases:
  - id: prepare
    name: Prepare
    items:
      - id: backup
        text: Backup taken
  - id: ship
    name: Ship
    deployment: true
    items:
      - id: shipped
        text: Deployed
`;

/** Two phases before the deployment, so the time before it opens can be watched. */
const STAGED = `id: staged
name: Staged
stakeholders: [C0STAKE1, C0STAKE2]
phases:
  - id: prepare
    name: Prepare
    items:
      - id: backup
        text: Backup taken
  - id: review
    name: Review
    items:
      - id: approved
        text: Change approved
  - id: ship
    name: Ship
    deployment: true
    items:
      - id: started-deploy
        text: Deployment started
      - id: shipped
        text: Deployed
  - id: verify
    name: Verify
    items:
      - id: smoke
        text: Smoke test passed
`;

let checklistsDir: string;
let standIn: SlackStandIn;
let cluster: ProcessCluster | undefined;
const apps: TestApp[] = [];
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-announce-'));
  await writeFile(path.join(checklistsDir, 'announced.yaml'), TEMPLATE);
  await writeFile(path.join(checklistsDir, 'staged.yaml'), STAGED);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
  await cluster?.stop();
  cluster = undefined;
  await standIn?.stop();
});
afterAll(async () => {
  await rm(checklistsDir, { recursive: true, force: true });
});

async function twoInstances(): Promise<[TestApp, TestApp]> {
  standIn = await SlackStandIn.start();
  const env = { CHECKLISTS_DIR: checklistsDir, CHECKIN_SCHEDULE: '1s', CHECKIN_ESCALATE_AFTER: '1h' };
  const first = await startTestApp({ standIn, env });
  const second = await startTestApp({
    standIn,
    env,
    prefix: first.prefix,
    signingSecret: first.signingSecret,
  });
  apps.push(second, first);
  return [first, second];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function announcements(channel: string): string[] {
  return standIn.messages(channel).map((message) => message.text);
}

/** A version's announcements in a channel, as their plain texts, in the order they were posted. */
function announcementsOf(version: string, channel = 'C0STAKE1'): string[] {
  return announcements(channel).filter((text) => text.startsWith(`${version} `));
}

/** What every stakeholder channel shows of the version, once it shows `expected` and nothing else. */
async function expectAnnounced(version: string, expected: string[]): Promise<void> {
  const shown = () =>
    ['C0STAKE1', 'C0STAKE2'].every((channel) => announcementsOf(version, channel).length >= expected.length);
  await standIn.waitFor(shown, 8000, `${expected.length} announcements of ${version}`);
  // Anything posted twice, or too early, has had time to show by now.
  await sleep(1200);
  for (const channel of ['C0STAKE1', 'C0STAKE2']) {
    expect(announcementsOf(version, channel), channel).toEqual(expected);
  }
}

/** The app a request goes to; a spawned cluster alternates between its processes. */
type Door = Parameters<typeof tickAll>[0];

/** Ticks items once each shows a checkbox: a phase that just unlocked is redrawn a moment later. */
async function tickWhenOpen(app: Door, message: StoredMessage, itemIds: string[], user = 'U0LEAD') {
  for (const itemId of itemIds) {
    await standIn.waitFor(() => viewItem(current(app, message), itemId)?.clickable, 5000, `${itemId} open`);
  }
  await tickAll(app, message, itemIds, user);
}

/** The cluster as one app whose requests take turns between its processes. */
function alternating(procs: ProcessCluster): Door {
  let next = 0;
  const via = (): ShipcheckProcess => procs.processes[next++ % procs.processes.length]!;
  return {
    standIn: procs.standIn,
    command: (text, overrides, options) => procs.command(text, overrides, options, via()),
    interact: (payload, options) => procs.interact(payload, options, via()),
    tickPayload: procs.tickPayload.bind(procs),
  };
}

const planned = (version: string) => `${version} for production is being prepared`;
const scheduled = (version: string) => `${version} is scheduled for production`;
const deploying = (version: string) => `${version} is being deployed to production`;
const live = (version: string) => `${version} is live in production`;

describe('stakeholder announcements', () => {
  it('tells every stakeholder channel about each event once, in the team’s own wording', async () => {
    const [first, second] = await twoInstances();
    await first.command('start v1.0 production announced in 2h', { user_id: 'U0LEAD' });
    const header = await waitForHeader(first, 'v1.0 → production');
    await standIn.waitFor(() => announcements('C0STAKE2').length === 1, 5000, 'the scheduled announcement');

    await tickAll(second, await waitForPhase(second, header, 'Prepare'), ['backup'], 'U0LEAD');
    await tickAll(first, await waitForPhase(first, header, 'Ship'), ['shipped'], 'U0OPS');
    const checkin = await standIn.waitFor(
      () => standIn.messages(header.channel).find((message) => message.text.startsWith('Check-in 1:')),
      5000,
      'the check-in',
    );
    const healthy = clickButton(current(second, checkin) as never, { actionId: 'checkin.healthy|r1|0' });
    // The same click reaches both instances, as a retried delivery would.
    await Promise.all([first.interact(healthy), second.interact(healthy)]);
    await standIn.waitFor(() => announcements('C0STAKE1').length === 4, 5000, 'four announcements');
    await sleep(1000);

    for (const channel of ['C0STAKE1', 'C0STAKE2']) {
      const texts = announcements(channel);
      expect(texts).toHaveLength(4);
      expect(texts[0]).toMatch(/v1\.0 .*production/);
    }
    const deployed = standIn.messages('C0STAKE1')[2]!;
    expect(JSON.stringify(deployed.blocks)).toContain('🎉 v1.0 is out on production. Thanks, <@U0OPS>!');
    const kinds = standIn.messages('C0STAKE1').map((message) => JSON.stringify(message.blocks));
    expect(kinds[1]).toMatch(/has begun/);
    expect(kinds[3]).toMatch(/is finished/);
    // Each links to the release thread.
    for (const message of standIn.messages('C0STAKE2')) {
      expect(JSON.stringify(message.blocks)).toContain('View the release thread');
    }
  });

  it('announces a cancellation once, with its reason escaped', async () => {
    const [first, second] = await twoInstances();
    await first.command('start v2.0 production announced', { user_id: 'U0LEAD' });
    await waitForHeader(first, 'v2.0 → production');
    await standIn.waitFor(() => announcements('C0STAKE1').length === 1, 5000, 'the planned announcement');
    await second.command('cancel v2.0 <!channel> broke & burned', { user_id: 'U0LEAD' });
    await standIn.waitFor(() => announcements('C0STAKE1').length === 2, 5000, 'planned and cancelled');
    await sleep(500);
    expect(announcements('C0STAKE1')[0]).toBe(planned('v2.0'));
    const cancelled = standIn.messages('C0STAKE1')[1]!;
    expect(JSON.stringify(cancelled.blocks)).toContain('&lt;!channel&gt; broke &amp; burned');
    expect(announcements('C0STAKE2')).toHaveLength(2);
  });

  it('says an unscheduled release is planned, deploying only once its deployment phase opens, then live, once each across two processes', async () => {
    standIn = await SlackStandIn.start();
    cluster = new ProcessCluster(standIn, {
      CHECKLISTS_DIR: checklistsDir,
      CHECKIN_SCHEDULE: '1h',
      LOG_LEVEL: 'warn',
    });
    await Promise.all([cluster.start(), cluster.start()]);
    const app = alternating(cluster);

    await app.command('start v3.0 production staged', { user_id: 'U0LEAD' });
    const header = await waitForHeader(app, 'v3.0 → production');
    await expectAnnounced('v3.0', [planned('v3.0')]);
    const plannedMessage = standIn.messages('C0STAKE1')[0]!;
    expect(JSON.stringify(plannedMessage.blocks)).toContain(
      'has started, with no deploy time set yet. Its phases: Prepare → Review → Ship (deploy) → Verify.',
    );

    // Preparing is not deploying: the deployment phase is still locked behind Review.
    await tickWhenOpen(app, await waitForPhase(app, header, 'Prepare'), ['backup']);
    await expectAnnounced('v3.0', [planned('v3.0')]);

    // Review done opens the deployment phase. The click reaches both processes, as a retry would.
    const review = await waitForPhase(app, header, 'Review');
    await standIn.waitFor(() => viewItem(current(app, review), 'approved')?.clickable, 5000, 'Review open');
    const approve = app.tickPayload(current(app, review), 'approved', true, 'U0LEAD');
    await Promise.all(cluster.processes.map((run) => cluster!.interact(approve, {}, run)));
    await expectAnnounced('v3.0', [planned('v3.0'), deploying('v3.0')]);

    // The first deployment tick takes the environment; deploying was said already.
    const ship = await waitForPhase(app, header, 'Ship');
    await tickWhenOpen(app, ship, ['started-deploy']);
    await expectAnnounced('v3.0', [planned('v3.0'), deploying('v3.0')]);
    await tickWhenOpen(app, ship, ['shipped']);
    await expectAnnounced('v3.0', [planned('v3.0'), deploying('v3.0'), live('v3.0')]);
    // Nothing else reached the stakeholders, and every post is its own delivery.
    for (const channel of ['C0STAKE1', 'C0STAKE2']) {
      const keys = standIn.messages(channel).map((message) => message.metadata?.event_payload.key);
      expect(new Set(keys).size).toBe(3);
    }
  }, 60_000);

  it('says a scheduled release is scheduled, deploying only once its deployment phase opens, then live', async () => {
    const [first, second] = await twoInstances();
    await first.command('start v4.0 production staged in 3d', { user_id: 'U0LEAD' });
    const header = await waitForHeader(first, 'v4.0 → production');
    await expectAnnounced('v4.0', [scheduled('v4.0')]);
    expect(JSON.stringify(standIn.messages('C0STAKE1')[0]!.blocks)).toContain('is planned to go out to');

    await tickWhenOpen(second, await waitForPhase(second, header, 'Prepare'), ['backup']);
    await expectAnnounced('v4.0', [scheduled('v4.0')]);
    await tickWhenOpen(first, await waitForPhase(first, header, 'Review'), ['approved']);
    await expectAnnounced('v4.0', [scheduled('v4.0'), deploying('v4.0')]);
    const ship = await waitForPhase(second, header, 'Ship');
    await tickWhenOpen(second, ship, ['started-deploy', 'shipped']);
    await expectAnnounced('v4.0', [scheduled('v4.0'), deploying('v4.0'), live('v4.0')]);
  }, 40_000);

  it('says an unscheduled release is deploying only once it can deploy: not while another release holds its environment', async () => {
    const [first, second] = await twoInstances();
    // v5.0 deploys to production and holds it.
    await first.command('start v5.0 production staged', { user_id: 'U0LEAD' });
    const holder = await waitForHeader(first, 'v5.0 → production');
    await tickWhenOpen(first, await waitForPhase(first, holder, 'Prepare'), ['backup']);
    await tickWhenOpen(first, await waitForPhase(first, holder, 'Review'), ['approved']);
    await tickWhenOpen(first, await waitForPhase(first, holder, 'Ship'), ['started-deploy']);
    await expectAnnounced('v5.0', [planned('v5.0'), deploying('v5.0')]);

    // v6.0 is created, prepared and reviewed meanwhile: its deployment phase opens, but production is taken.
    await second.command('start v6.0 production staged', { user_id: 'U0LEAD' });
    const waiting = await waitForHeader(second, 'v6.0 → production');
    await expectAnnounced('v6.0', [planned('v6.0')]);
    await tickWhenOpen(second, await waitForPhase(second, waiting, 'Prepare'), ['backup']);
    await tickWhenOpen(first, await waitForPhase(first, waiting, 'Review'), ['approved']);
    const ship = await waitForPhase(second, waiting, 'Ship');
    await standIn.waitFor(
      () => viewItem(current(second, ship), 'started-deploy')?.clickable,
      5000,
      'Ship open',
    );
    // Its deployment tick is refused while v5.0 holds production.
    await second.interact(second.tickPayload(current(second, ship), 'started-deploy', true, 'U0OPS'));
    await expectAnnounced('v6.0', [planned('v6.0')]);

    // Once v5.0 is cancelled, v6.0's first deployment tick is its start of deploying.
    await first.command('cancel v5.0 production Superseded by v6.0', { user_id: 'U0LEAD' });
    await expectAnnounced('v5.0', [planned('v5.0'), deploying('v5.0'), 'v5.0 for production was cancelled']);
    await tickAll(second, ship, ['started-deploy'], 'U0OPS');
    await expectAnnounced('v6.0', [planned('v6.0'), deploying('v6.0')]);
  }, 40_000);
});
