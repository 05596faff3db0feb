import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { queuePrefix } from '../../src/queues/sync-queue.js';
import { blockTexts, startTestApp, type TestApp } from '../support/app-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { clickButton, submitView } from '../support/slack-requests.js';
import {
  current,
  requiredItemIds,
  template,
  tickAll,
  waitForHeader,
  waitForPhase,
  waitForReply,
} from './helpers.js';

// Rolling back: one click on the header (or /deploy rollback), a confirmation with the template's
// criteria, the rollback checklist, pending jobs stopped, stakeholders told, and the lock freed.

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

async function startApp() {
  const app = await startTestApp({ env: { STAKEHOLDER_CHANNEL: 'C0STAKE', CHECKIN_SCHEDULE: '1h' } });
  apps.push(app);
  return app;
}

const text = (message: Parameters<typeof blockTexts>[0]) => blockTexts(message).join('\n');

describe('rollback', () => {
  it('rolls a deployed release back through its rollback checklist, then frees its environment', async () => {
    const app = await startApp();
    await app.command('start v1.0 staging minimal', { user_id: 'U0LEAD' });
    const header = await waitForHeader(app, 'v1.0 → staging');
    const phases = template('minimal').phases;
    for (const phaseIndex of [0, 1]) {
      const phase = await waitForPhase(app, header, phases[phaseIndex]!.name);
      await tickAll(app, phase, requiredItemIds('minimal', phaseIndex));
    }
    await app.standIn.waitFor(() => /Deployed/.test(text(current(app, header))), 5000, 'deployed');
    const scheduled = async () => {
      const redis = new Redis(TEST_REDIS_URL);
      try {
        const delayed = await redis.zrange(`${queuePrefix(app.prefix)}:schedule:delayed`, 0, -1);
        return delayed.filter((jobId) => jobId.startsWith('checkin-') || jobId.startsWith('remind-'));
      } finally {
        await redis.quit();
      }
    };
    expect(await scheduled()).toEqual(['checkin-T0001-r1-k0']);

    // One click: the confirmation shows the template's rollback criteria and asks why.
    const viewsBefore = app.standIn.views.length;
    await app.interact(
      clickButton(current(app, header) as never, { actionId: 'release.rollback.open' }, { user: 'U0LEAD' }),
    );
    const modal = await app.standIn.waitFor(
      () => app.standIn.views[viewsBefore],
      5000,
      'the rollback confirmation',
    );
    expect(JSON.stringify(modal.view.blocks)).toContain('A critical feature is broken');
    await app.interact(
      submitView(modal, { reason: { 'reason.input': 'Checkout fails for EU cards' } }, { user: 'U0LEAD' }),
    );

    await app.standIn.waitFor(() => /Rolling back/.test(text(current(app, header))), 5000, 'rolling back');
    // The check-in planned at the deploy (an hour away) is gone: nothing timed is left for the release.
    expect(await scheduled()).toEqual([]);
    const checklist = await app.standIn.waitFor(
      () =>
        app.standIn.messages(header.channel).find((message) => message.text.endsWith('rollback checklist')),
      5000,
      'the rollback checklist',
    );
    // The other checklists are read-only now; the lock is still held while rolling back.
    const locks = await app.command('locks');
    expect(await waitForReply(app, locks.responseTag, /Environment locks|No environment/)).toMatch(
      /staging\*: v1\.0/,
    );

    await tickAll(app, checklist, ['rb-reverted', 'rb-verified', 'rb-announced'], 'U0OPS');
    await app.standIn.waitFor(
      () => /Rolled back by <@U0OPS>/.test(text(current(app, header))),
      5000,
      'rolled back',
    );
    const freed = await app.command('locks');
    expect(await waitForReply(app, freed.responseTag, /No environment is locked/)).toBeTruthy();

    const stakeholders = await app.standIn.waitFor(
      () => {
        const texts = app.standIn.messages('C0STAKE').map((message) => message.text);
        return texts.some((line) => /was rolled back/.test(line)) ? texts : undefined;
      },
      5000,
      'the rolled-back announcement',
    );
    expect(stakeholders.filter((line) => /being rolled back/.test(line))).toHaveLength(1);
    expect(stakeholders.filter((line) => /was rolled back/.test(line))).toHaveLength(1);

    const audit = await app.command('audit v1.0');
    const trail = await waitForReply(app, audit.responseTag, /Audit trail/);
    expect(trail).toContain('<@U0LEAD> started rolling the release back');
    expect(trail).toContain('<@U0OPS> rolled the release back');
    // The version can be started again once it is rolled back.
    await app.command('start v1.0 staging minimal', { user_id: 'U0LEAD' });
    await app.standIn.waitFor(
      () =>
        app.standIn.messages(header.channel).filter((message) => message.text.startsWith('Release v1.0'))
          .length === 2,
      5000,
      'the release started again',
    );
  });

  it('opens the same confirmation from /deploy rollback, with the reason filled in; others may be refused', async () => {
    const app = await startTestApp({
      env: { ROLES: 'release_manager=U0LEAD', PERMISSIONS: 'rollback=release_manager' },
    });
    apps.push(app);
    await app.command('start v2.0 staging minimal', { user_id: 'U0LEAD' });
    await waitForHeader(app, 'v2.0 → staging');
    const refused = await app.command('rollback v2.0 it is broken', { user_id: 'U0ALICE' });
    expect(
      await waitForReply(app, refused.responseTag, /Only @release_manager can roll a release back/),
    ).toBeTruthy();
    await app.command('rollback v2.0 it is broken', { user_id: 'U0LEAD' });
    const modal = await app.standIn.waitFor(() => app.standIn.views[0], 5000, 'the rollback confirmation');
    expect(JSON.stringify(modal.view.blocks)).toContain('"initial_value":"it is broken"');
  });
});
