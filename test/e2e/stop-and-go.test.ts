import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blockTexts, startTestApp, type TestApp, viewItem } from '../support/app-harness.js';
import { clickButton, submitView } from '../support/slack-requests.js';
import { current, tickAll, waitForHeader, waitForItem, waitForPhase, waitForReply } from './helpers.js';

// The go/no-go call before the deployment phase, and red flags that stop a release until cleared.

const TEMPLATE = `id: gonogo
name: Go no-go
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
        text: Deployed
`;

const LEAD = 'U0LEAD';
const ALICE = 'U0ALICE';

let checklistsDir: string;
const apps: TestApp[] = [];
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-gonogo-'));
  await writeFile(path.join(checklistsDir, 'gonogo.yaml'), TEMPLATE);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});
afterAll(async () => {
  await rm(checklistsDir, { recursive: true, force: true });
});

async function startApp() {
  const app = await startTestApp({
    env: {
      CHECKLISTS_DIR: checklistsDir,
      ROLES: `release_manager=${LEAD}`,
      STAKEHOLDER_CHANNEL: 'C0STAKE',
      CHECKIN_SCHEDULE: '1h',
    },
  });
  apps.push(app);
  return app;
}

const text = (message: Parameters<typeof blockTexts>[0]) => blockTexts(message).join('\n');

async function press(app: TestApp, message: Parameters<typeof current>[1], actionId: string, user: string) {
  const tag = `${user}-${actionId}-${Math.random()}`;
  const response = await app.interact(
    clickButton(
      current(app, message) as never,
      { actionId },
      { user, responseUrl: app.standIn.responseUrl(tag) },
    ),
  );
  expect(response.status).toBe(200);
  return tag;
}

/** Submits the modal a button just opened: the `count`-th one of the test. */
async function submitModal(
  app: TestApp,
  count: number,
  values: Parameters<typeof submitView>[1],
  user: string,
) {
  const modal = await app.standIn.waitFor(() => app.standIn.views[count - 1], 5000, `modal ${count}`);
  const response = await app.interact(submitView(modal, values, { user }));
  expect(response.status).toBe(200);
}

async function readyForTheCall(app: TestApp, version: string) {
  await app.command(`start ${version} staging gonogo`, { user_id: LEAD });
  const header = await waitForHeader(app, `${version} → staging`);
  await tickAll(app, await waitForPhase(app, header, 'Prepare'), ['ready']);
  await app.standIn.waitFor(() => /Go \/ no-go/.test(text(current(app, header))), 5000, 'the go/no-go call');
  return header;
}

describe('go / no-go', () => {
  it('keeps the deployment phase shut until the release manager says go', async () => {
    const app = await startApp();
    const header = await readyForTheCall(app, 'v1.0');
    const ship = await waitForPhase(app, header, 'Ship');
    expect(viewItem(current(app, ship), 'shipped')?.clickable).toBe(false);
    expect(text(current(app, ship))).toContain('Waiting for the go/no-go call');

    const refused = await press(app, header, 'release.go', ALICE);
    expect(
      await waitForReply(app, refused, /Only @release_manager can make the go\/no-go call/),
    ).toBeTruthy();

    await press(app, header, 'release.go', LEAD);
    await app.standIn.waitFor(
      () => viewItem(current(app, ship), 'shipped')?.clickable,
      5000,
      'the phase open',
    );
    await tickAll(app, ship, ['shipped'], ALICE);
    const audit = await app.command('audit v1.0');
    expect(await waitForReply(app, audit.responseTag, /Audit trail/)).toContain(
      `<@${LEAD}> made the call: *go*`,
    );
  });

  it('stops the release on a no-go, with the reason, and tells the stakeholders', async () => {
    const app = await startApp();
    const header = await readyForTheCall(app, 'v2.0');
    await press(app, header, 'release.nogo.open', LEAD);
    await submitModal(app, 1, { note: { 'note.input': 'Load test failed at 60 %' } }, LEAD);
    await app.standIn.waitFor(() => /Cancelled/.test(text(current(app, header))), 5000, 'cancelled');
    expect(text(current(app, header))).toContain('No-go: Load test failed at 60 %');
    await app.standIn.waitFor(
      () => app.standIn.messages('C0STAKE').some((message) => /was cancelled/.test(message.text)),
      5000,
      'the cancellation announced',
    );
  });
});

describe('red flags', () => {
  it('stops every tick until a release manager clears it, on the record and announced', async () => {
    const app = await startApp();
    await app.command('start v3.0 staging gonogo', { user_id: LEAD });
    const header = await waitForHeader(app, 'v3.0 → staging');
    const prepare = await waitForPhase(app, header, 'Prepare');

    // Anyone may raise one.
    await press(app, header, 'release.redflag.open', ALICE);
    await submitModal(
      app,
      1,
      { condition: { 'condition.select': '0' }, note: { 'note.input': 'Last night’s backup is empty' } },
      ALICE,
    );
    await app.standIn.waitFor(
      () => /Stopped by a red flag/.test(text(current(app, header))),
      5000,
      'the flag',
    );

    // The checklist is read-only now; a client still showing the checkbox sends the click anyway.
    const tag = `blocked-${Date.now()}`;
    await app.interact(app.tickPayload(prepare, 'ready', true, ALICE, app.standIn.responseUrl(tag)));
    expect(await waitForReply(app, tag, /stopped by a red flag/)).toContain('Nothing was changed');
    await waitForItem(app, prepare, 'ready', false);

    // Only a release manager may clear it.
    const refused = await press(app, header, 'release.redflag.clear.open', ALICE);
    expect(await waitForReply(app, refused, /Only @release_manager can clear a red flag/)).toBeTruthy();
    await press(app, header, 'release.redflag.clear.open', LEAD);
    await submitModal(app, 2, { note: { 'note.input': 'Backup re-run and verified' } }, LEAD);
    await app.standIn.waitFor(
      () => !/Stopped by a red flag/.test(text(current(app, header))),
      5000,
      'cleared',
    );
    await tickAll(app, prepare, ['ready'], ALICE);

    const announced = await app.standIn.waitFor(
      () => {
        const texts = app.standIn.messages('C0STAKE').map((message) => message.text);
        return texts.some((line) => /was cleared/.test(line)) ? texts : undefined;
      },
      5000,
      'both announcements',
    );
    expect(announced.filter((line) => /stopped by a red flag/.test(line))).toHaveLength(1);
    const audit = await app.command('audit v3.0');
    const trail = await waitForReply(app, audit.responseTag, /Audit trail/);
    expect(trail).toContain(`🚩 <@${ALICE}> raised a red flag and stopped the release`);
    expect(trail).toContain(`<@${LEAD}> cleared the red flag: _Backup re-run and verified_`);
  });
});
