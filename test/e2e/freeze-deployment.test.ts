import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, viewItem } from '../support/app-harness.js';
import {
  click,
  current,
  requiredItemIds,
  tickAll,
  waitForHeader,
  waitForItem,
  waitForPhase,
  waitForReply,
} from './helpers.js';

// The freeze rule on deployment ticks: a release that started before a freeze (here: scheduled after
// the one in force) cannot tick its deployment phase inside it. The refusal is clear, changes nothing,
// is audited, and stakeholders hear nothing of a deploy. A release manager's override, on the record,
// lets the deployment go on.

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** A weekly window in UTC from an hour ago to an hour from now ("Tue 09:12 - Tue 11:12"). */
function windowAroundNow(): string {
  const at = (offsetMs: number) => {
    const date = new Date(Date.now() + offsetMs);
    const hh = String(date.getUTCHours()).padStart(2, '0');
    const mm = String(date.getUTCMinutes()).padStart(2, '0');
    return `${DAYS[date.getUTCDay()]} ${hh}:${mm}`;
  };
  return `production: ${at(-3600_000)} - ${at(3600_000)} UTC`;
}

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

const DEPLOY_PHASE = 1; // minimal: before → deploy (the deployment phase) → verify → sign-off
const PLAIN_DEPLOY_ITEM = 'dependencies-built';

describe('freeze windows and deployment ticks', () => {
  it('refuses deployment ticks inside a freeze until a release manager overrides it for the release', async () => {
    const app = await startTestApp({
      env: {
        FREEZE_WINDOWS: windowAroundNow(),
        ROLES: 'release_manager=U0LEAD',
        STAKEHOLDER_CHANNEL: 'C0STAKE',
      },
    });
    apps.push(app);
    // Planned for after the freeze, so the start is allowed; the team starts deploying early.
    const started = await app.command('start v4.0 production minimal in 3h', { user_id: 'U0ALICE' });
    const header = await waitForHeader(app, 'v4.0 → production');
    expect(app.standIn.responsesTo(started.responseTag)).toEqual([]);
    const before = await waitForPhase(app, header, 'Before the deploy');
    // The lead ticks: some of these items are the release manager's.
    await tickAll(app, before, requiredItemIds('minimal', 0), 'U0LEAD');
    const deploy = await waitForPhase(app, header, 'Deploy');
    await app.standIn.waitFor(
      () => viewItem(current(app, deploy), PLAIN_DEPLOY_ITEM)?.clickable,
      5000,
      'deploy open',
    );

    // A tick in the deployment phase: refused with the freeze's end and the way out, nothing changed.
    const refusedUrl = app.standIn.responseUrl('frozen-tick');
    await app.interact(app.tickPayload(current(app, deploy), PLAIN_DEPLOY_ITEM, true, 'U0ALICE', refusedUrl));
    const refusal = await waitForReply(app, 'frozen-tick', /is frozen until/);
    expect(refusal).toContain('Nothing was changed');
    expect(app.standIn.responsesTo('frozen-tick')[0]?.body).toMatchObject({ response_type: 'ephemeral' });
    expect(refusal).toContain('/deploy override-freeze v4.0 production');
    await waitForItem(app, deploy, PLAIN_DEPLOY_ITEM, false);
    // Every required item of the phase, values and all, is refused the same way.
    for (const itemId of requiredItemIds('minimal', DEPLOY_PHASE)) await click(app, deploy, itemId, true);
    const audit = await app.command('audit v4.0', { user_id: 'U0ALICE' });
    const trail = await waitForReply(app, audit.responseTag, /Audit trail/);
    expect(trail).toMatch(
      /<@U0ALICE> was refused: tick “[^”]+” \(the environment is frozen and the release has no override\)/,
    );
    expect(trail).not.toMatch(/ticked “[^”]+” in Deploy /);
    for (const itemId of requiredItemIds('minimal', DEPLOY_PHASE)) {
      expect(viewItem(current(app, deploy), itemId)?.ticked, itemId).toBe(false);
    }

    // Only a release manager may override; the override goes on the record.
    const denied = await app.command('override-freeze v4.0 production Customer data at risk', {
      user_id: 'U0ALICE',
    });
    expect(
      await waitForReply(app, denied.responseTag, /Only @release_manager can override a freeze/),
    ).toBeTruthy();
    const overridden = await app.command('override-freeze v4.0 production Customer data at risk', {
      user_id: 'U0LEAD',
    });
    expect(await waitForReply(app, overridden.responseTag, /Freeze overridden/)).toContain('v4.0');
    const again = await app.command('override-freeze v4.0 production Once more', { user_id: 'U0LEAD' });
    expect(await waitForReply(app, again.responseTag, /nothing to override/)).toBeTruthy();

    const announced = await app.standIn.waitFor(
      () => app.standIn.messages('C0STAKE').find((message) => /during a freeze/.test(message.text)),
      5000,
      'the freeze override announcement',
    );
    expect(JSON.stringify(announced.blocks)).toContain('approved by <@U0LEAD>: Customer data at risk');
    // Refused ticks told stakeholders nothing of a deploy.
    expect(
      app.standIn.messages('C0STAKE').filter((message) => /is live|now live/.test(message.text)),
    ).toEqual([]);

    // Now the deployment goes through, and is announced.
    await tickAll(app, deploy, requiredItemIds('minimal', DEPLOY_PHASE));
    await app.standIn.waitFor(
      () => app.standIn.messages('C0STAKE').find((message) => /v4\.0 is live/.test(message.text)),
      5000,
      'the deployed announcement',
    );
    const after = await app.command('audit v4.0', { user_id: 'U0ALICE' });
    const trailAfter = await waitForReply(app, after.responseTag, /overrode the freeze/);
    expect(trailAfter).toContain('<@U0LEAD> overrode the freeze on *production*');
    expect(trailAfter).toContain('Customer data at risk');
  });
});
