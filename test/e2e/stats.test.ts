import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
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

// `/deploy stats`: the delivery figures computed from the releases and their audit trails.

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

describe('/deploy stats', () => {
  it('counts deployments and rollbacks from the record, and refuses arguments it cannot read', async () => {
    const app = await startTestApp({ env: { CHECKIN_SCHEDULE: '1h' } });
    apps.push(app);
    // Two environments: one release holds its environment until it ends.
    for (const [version, env] of [
      ['v1.0', 'staging'],
      ['v1.1', 'development'],
    ] as const) {
      await app.command(`start ${version} ${env} minimal`, { user_id: 'U0LEAD' });
      const header = await waitForHeader(app, `${version} → ${env}`);
      for (const phaseIndex of [0, 1]) {
        const phase = await waitForPhase(app, header, template('minimal').phases[phaseIndex]!.name);
        await tickAll(app, phase, requiredItemIds('minimal', phaseIndex));
      }
      if (version === 'v1.1') {
        const opened = app.standIn.views.length;
        await app.interact(
          clickButton(
            current(app, header) as never,
            { actionId: 'release.rollback.open' },
            { user: 'U0LEAD' },
          ),
        );
        const modal = await app.standIn.waitFor(
          () => app.standIn.views[opened],
          5000,
          'the rollback confirmation',
        );
        await app.interact(
          submitView(modal, { reason: { 'reason.input': 'Broken login' } }, { user: 'U0LEAD' }),
        );
        await app.standIn.waitFor(
          () => /Rolling back/.test(JSON.stringify(current(app, header).blocks)),
          5000,
          'rolling back',
        );
      }
    }

    const stats = await app.command('stats 7');
    const text = await waitForReply(app, stats.responseTag, /Delivery figures/);
    expect(text).toMatch(/2 deployments/);
    expect(text).toMatch(/rollback rate 50 %/);
    const staging = await app.command('stats staging');
    expect(await waitForReply(app, staging.responseTag, /Delivery figures/)).toMatch(
      /1 deployment, .*rollback rate 0 %/,
    );

    const bad = await app.command('stats 9000');
    expect(await waitForReply(app, bad.responseTag, /400/)).toBeTruthy();
  });
});
