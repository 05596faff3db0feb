import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { clickButton } from '../support/slack-requests.js';
import { SlackStandIn } from '../support/slack-stand-in.js';
import { current, tickAll, waitForHeader, waitForPhase } from './helpers.js';

// Stakeholder announcements end to end, with two instances on one Redis taking turns with the
// requests: every event reaches every stakeholder channel exactly once.

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

let checklistsDir: string;
let standIn: SlackStandIn;
const apps: TestApp[] = [];
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-announce-'));
  await writeFile(path.join(checklistsDir, 'announced.yaml'), TEMPLATE);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
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
    await standIn.waitFor(() => announcements('C0STAKE1').length === 1, 5000, 'the start announcement');
    await second.command('cancel v2.0 <!channel> broke & burned', { user_id: 'U0LEAD' });
    await standIn.waitFor(() => announcements('C0STAKE1').length === 2, 5000, 'started and cancelled');
    await sleep(500);
    const cancelled = standIn.messages('C0STAKE1')[1]!;
    expect(JSON.stringify(cancelled.blocks)).toContain('&lt;!channel&gt; broke &amp; burned');
    expect(announcements('C0STAKE2')).toHaveLength(2);
  });
});
