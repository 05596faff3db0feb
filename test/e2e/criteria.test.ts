import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blockTexts, startTestApp, type TestApp, viewItem } from '../support/app-harness.js';
import { clickButton } from '../support/slack-requests.js';
import type { StoredMessage } from '../support/slack-stand-in.js';
import { current, tickAll, waitForHeader, waitForPhase } from './helpers.js';

// The template's criteria where decisions are made: the go criteria with the Go button and in its
// confirmation, the rollback criteria (with their thresholds) in /deploy rollback's confirmation, and
// an item that refers to them.

const TEMPLATE = `id: measured
name: Measured
go:
  criteria:
    - id: backup-verified
      name: Backup verified
    - id: open-findings
      name: Open critical findings
      direction: at most
      threshold: 0
      unit: count
rollback:
  criteria:
    - id: errors
      name: Operations failing with errors
      direction: above
      threshold: 10
      unit: '%'
    - Data looks wrong
  items:
    - id: rb-reverted
      text: Previous version deployed again
phases:
  - id: prepare
    name: Prepare
    items:
      - id: ready
        text: Rollback triggers agreed
        criteria: [rollback]
  - id: ship
    name: Ship
    deployment: true
    go: true
    items:
      - id: shipped
        text: Deployed
`;

const LEAD = 'U0LEAD';

let checklistsDir: string;
const apps: TestApp[] = [];
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-criteria-'));
  await writeFile(path.join(checklistsDir, 'measured.yaml'), TEMPLATE);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});
afterAll(async () => {
  await rm(checklistsDir, { recursive: true, force: true });
});

async function startApp() {
  const app = await startTestApp({
    env: { CHECKLISTS_DIR: checklistsDir, ROLES: `release_manager=${LEAD}`, CHECKIN_SCHEDULE: '1h' },
  });
  apps.push(app);
  return app;
}

const text = (message: StoredMessage) => blockTexts(message).join('\n');

/** The confirmation dialog's text of the header's Go button, once it is shown. */
function goConfirmation(message: StoredMessage): string | undefined {
  for (const block of message.blocks as { block_id?: string; elements?: unknown[] }[]) {
    if (block.block_id !== 'go-actions') continue;
    for (const element of (block.elements ?? []) as {
      action_id?: string;
      confirm?: { text?: { text?: string } };
    }[]) {
      if (element.action_id === 'release.go') return element.confirm?.text?.text;
    }
  }
  return undefined;
}

describe('template criteria in Slack', () => {
  it('shows the go criteria with the Go button and in its confirmation', async () => {
    const app = await startApp();
    await app.command('start v1.0 staging measured', { user_id: LEAD });
    const header = await waitForHeader(app, 'v1.0 → staging');
    const prepare = await waitForPhase(app, header, 'Prepare');
    // The item shows the criteria it refers to.
    expect(viewItem(current(app, prepare), 'ready')?.text).toContain(
      '_Roll back when:_\n• Operations failing with errors: more than 10 %\n• Data looks wrong',
    );
    await tickAll(app, prepare, ['ready']);

    const confirmation = await app.standIn.waitFor(
      () => goConfirmation(current(app, header)),
      5000,
      'the Go button',
    );
    expect(confirmation).toBe(
      [
        '*Go when*',
        '• Backup verified',
        '• Open critical findings: none',
        'Start *Ship* for v1.0 → staging? The call is recorded with your name.',
      ].join('\n'),
    );
    expect(text(current(app, header))).toContain(
      '*Go when*\n• Backup verified\n• Open critical findings: none',
    );

    // The call itself works as before.
    await app.interact(
      clickButton(current(app, header) as never, { actionId: 'release.go' }, { user: LEAD }),
    );
    const ship = await waitForPhase(app, header, 'Ship');
    await app.standIn.waitFor(() => viewItem(current(app, ship), 'shipped')?.clickable, 5000, 'Ship open');
    await app.standIn.waitFor(
      () => goConfirmation(current(app, header)) === undefined,
      5000,
      'the Go button gone from the header',
    );
  });

  it("shows the template's rollback criteria, thresholds included, when /deploy rollback asks", async () => {
    const app = await startApp();
    await app.command('start v2.0 staging measured', { user_id: LEAD });
    await waitForHeader(app, 'v2.0 → staging');
    await app.command('rollback v2.0 staging errors everywhere', { user_id: LEAD });
    const modal = await app.standIn.waitFor(() => app.standIn.views[0], 5000, 'the rollback confirmation');
    const blocks = modal.view.blocks as { text?: { text?: string } }[];
    expect(blocks[0]?.text?.text).toBe(
      '*Roll back when*\n• Operations failing with errors: more than 10 %\n• Data looks wrong',
    );
    expect(JSON.stringify(modal.view.blocks)).toContain('"initial_value":"errors everywhere"');
  });
});
