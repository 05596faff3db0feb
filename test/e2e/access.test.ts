import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, viewItem } from '../support/app-harness.js';
import { click, current, waitForHeader, waitForItem, waitForPhase, waitForReply } from './helpers.js';

// Roles and permissions through signed requests: who may tick a role's item, the two-person rule,
// guarded commands, and the audit trail of refused attempts.

const TEMPLATE = `id: gated
name: Gated
phases:
  - id: approve
    name: Approve
    items:
      - id: tests-green
        text: Tests are green
      - id: qa-approval
        text: QA approves the build
        role: qa
      - id: lead-approval
        text: The release manager approves
        role: release_manager
  - id: ship
    name: Ship
    items:
      - id: shipped
        text: Deployed
`;

const LEAD = 'U0LEAD';
const OTHER_LEAD = 'U0LEAD2';
const QA = 'U0QA';
const ALICE = 'U0ALICE';

let checklistsDir: string;
const apps: TestApp[] = [];
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-access-'));
  await writeFile(path.join(checklistsDir, 'gated.yaml'), TEMPLATE);
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
      ROLES: `qa=S0QA; release_manager=${LEAD},${OTHER_LEAD}`,
      PERMISSIONS: 'cancel=release_manager',
      TWO_PERSON_RULE: 'on',
    },
  });
  app.standIn.setUserGroup('S0QA', [QA]);
  apps.push(app);
  return app;
}

/** Ticks as `user` and waits for the ephemeral answer, if one comes. */
async function tickAs(app: TestApp, phase: Parameters<typeof click>[1], itemId: string, user: string) {
  const tag = `${user}-${itemId}-${Date.now()}`;
  const payload = app.tickPayload(current(app, phase), itemId, true, user, app.standIn.responseUrl(tag));
  const response = await app.interact(payload);
  expect(response.status).toBe(200);
  return tag;
}

describe('roles and sign-off', () => {
  it('lets only a holder tick a role’s item, and records every refused attempt', async () => {
    const app = await startApp();
    await app.command('start v1.0 staging gated', { user_id: LEAD });
    const header = await waitForHeader(app, 'v1.0 → staging');
    const phase = await waitForPhase(app, header, 'Approve');

    // Anyone can tick an item without a role.
    await click(app, phase, 'tests-green', true, ALICE);
    await waitForItem(app, phase, 'tests-green', true);

    // Alice is not in the @qa user group: refused, the box is put back, the attempt is audited.
    const refused = await tickAs(app, phase, 'qa-approval', ALICE);
    expect(await waitForReply(app, refused, /Only @qa can tick this item/)).toContain('nothing was changed');
    await waitForItem(app, phase, 'qa-approval', false);

    // The QA group's member can.
    await tickAs(app, phase, 'qa-approval', QA);
    await waitForItem(app, phase, 'qa-approval', true);

    // The lead started the release: with the two-person rule, another release manager must approve.
    const own = await tickAs(app, phase, 'lead-approval', LEAD);
    expect(await waitForReply(app, own, /two-person rule/)).toContain('Nothing was changed');
    await waitForItem(app, phase, 'lead-approval', false);
    await tickAs(app, phase, 'lead-approval', OTHER_LEAD);
    await waitForItem(app, phase, 'lead-approval', true);

    // The group's members were looked up once and kept.
    expect(app.standIn.callsTo('usergroups.users.list')).toHaveLength(1);

    const audit = await app.command('audit v1.0');
    const trail = await waitForReply(app, audit.responseTag, /Audit trail/);
    expect(trail).toContain(`<@${ALICE}> was refused: tick “QA approves the build” (only qa may)`);
    expect(trail).toContain(`<@${LEAD}> was refused: tick “The release manager approves” (two-person rule`);
    expect(trail).toContain(`<@${QA}> ticked “QA approves the build”`);
  });

  it('refuses a forged click on a role’s item sent from another message', async () => {
    const app = await startApp();
    await app.command('start v2.0 staging gated', { user_id: LEAD });
    const header = await waitForHeader(app, 'v2.0 → staging');
    const phase = await waitForPhase(app, header, 'Approve');
    // A hand-made action on the QA item, carried by the header message, with an action_id Slack never showed there.
    const forged = app.tickPayload(
      current(app, phase),
      'qa-approval',
      true,
      ALICE,
      app.standIn.responseUrl('forged'),
    );
    const action = forged.actions[0]!;
    forged.container.message_ts = header.ts;
    action.block_id = 'release-actions';
    const response = await app.interact(forged);
    expect(response.status).toBe(200);
    expect(await waitForReply(app, 'forged', /Only @qa can tick this item/)).toBeTruthy();
    expect(viewItem(current(app, phase), 'qa-approval')?.ticked).toBe(false);
  });

  it('guards commands by role: only a release manager may cancel', async () => {
    const app = await startApp();
    await app.command('start v3.0 staging gated', { user_id: LEAD });
    await waitForHeader(app, 'v3.0 → staging');
    const denied = await app.command('cancel v3.0 not needed', { user_id: ALICE });
    expect(
      await waitForReply(app, denied.responseTag, /Only @release_manager can cancel a release/),
    ).toBeTruthy();
    const allowed = await app.command('cancel v3.0 not needed', { user_id: OTHER_LEAD });
    expect(await waitForReply(app, allowed.responseTag, /Cancelled v3\.0/)).toBeTruthy();
    const audit = await app.command('audit v3.0');
    expect(await waitForReply(app, audit.responseTag, /Audit trail/)).toContain(
      `<@${ALICE}> was refused: cancel (only release_manager may)`,
    );
  });
});
