import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockTexts, startTestApp, type TestApp } from '../support/app-harness.js';
import {
  answerCheckinsHealthy,
  current,
  requiredItemIds,
  template,
  tickAll,
  waitForHeader,
  waitForPhase,
  waitForReply,
} from './helpers.js';

// Deploy windows: read in the user's own Slack time zone, shown to each reader in theirs.

const DAY_MS = 24 * 3600 * 1000;
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { CHECKIN_SCHEDULE: '1s' } });
  app.standIn.setUser('U0BERLIN', { tz: 'Europe/Berlin' });
  app.standIn.setUser('U0NEWYORK', { tz: 'America/New_York' });
});
afterAll(async () => {
  await app?.stop();
});

const dateToken = (ms: number) => `<!date^${Math.floor(ms / 1000)}^`;

describe('/deploy start … at', () => {
  it('reads the time in the user’s own zone and shows the window and each phase’s due time', async () => {
    await app.command('start v1.0 staging minimal at 2030-01-15 14:00', { user_id: 'U0BERLIN' });
    const header = await waitForHeader(app, 'v1.0 → staging');
    const windowAt = Date.UTC(2030, 0, 15, 13, 0); // 14:00 in Berlin, in winter
    const texts = blockTexts(header).join('\n');
    expect(texts).toContain(`*Deploy window*\n${dateToken(windowAt)}`);
    expect(texts).toContain('(set in Europe/Berlin)');
    const phase = await waitForPhase(app, header, template('minimal').phases[0]!.name);
    // minimal's first phase is due T-1d.
    expect(blockTexts(phase).join('\n')).toContain(`due ${dateToken(windowAt - DAY_MS)}`);
  });

  it('takes an explicit zone over the user’s, and relative windows', async () => {
    await app.command('start v1.1 staging minimal at 2030-01-15 14:00 UTC', { user_id: 'U0NEWYORK' });
    const header = await waitForHeader(app, 'v1.1 → staging');
    expect(blockTexts(header).join('\n')).toContain(dateToken(Date.UTC(2030, 0, 15, 14, 0)));

    const before = Date.now();
    await app.command('start v1.2 staging minimal in 3d', { user_id: 'U0NEWYORK' });
    const relative = await waitForHeader(app, 'v1.2 → staging');
    const seconds = Number(/\*Deploy window\*\n<!date\^(\d+)\^/.exec(blockTexts(relative).join('\n'))![1]);
    expect(seconds * 1000).toBeGreaterThanOrEqual(before + 3 * DAY_MS - 1000);
    expect(seconds * 1000).toBeLessThanOrEqual(Date.now() + 3 * DAY_MS);
  });

  it('refuses past, unreadable and unknown-zone times, and creates nothing', async () => {
    const cases: [string, RegExp][] = [
      ['start v1.9 staging at 2020-01-01 10:00', /is in the past/],
      ['start v1.9 staging at someday soon', /couldn't read `at someday soon` as a time/],
      ['start v1.9 staging at 2030-01-15 14:00 Mars/Base', /don't know the time zone `Mars\/Base`/],
    ];
    for (const [text, expected] of cases) {
      const response = await app.command(text, { user_id: 'U0BERLIN' });
      expect(await waitForReply(app, response.responseTag, expected)).toContain('Nothing was changed');
    }
    const list = await app.command('list');
    expect(await waitForReply(app, list.responseTag, /Active releases|No release/)).not.toContain('v1.9');
  });
});

describe('/deploy reschedule', () => {
  it('moves the window, updates the messages and records it', async () => {
    await app.command('start v2.0 production minimal at 2030-02-01 10:00', { user_id: 'U0BERLIN' });
    const header = await waitForHeader(app, 'v2.0 → production');
    const reply = await app.command('reschedule v2.0 at 2030-02-03 09:30', { user_id: 'U0BERLIN' });
    expect(await waitForReply(app, reply.responseTag, /is now planned for/)).toContain('Europe/Berlin');
    const movedTo = Date.UTC(2030, 1, 3, 8, 30);
    await app.standIn.waitFor(
      () => blockTexts(current(app, header)).join('\n').includes(dateToken(movedTo)),
      5000,
      'header shows the new window',
    );
    const audit = await app.command('audit v2.0');
    const trail = await waitForReply(app, audit.responseTag, /moved the deploy window/);
    expect(trail).toContain(dateToken(Date.UTC(2030, 1, 1, 9, 0)));
    expect(trail).toContain(dateToken(movedTo));
  });

  it('refuses a missing time, and a release that is already finished', async () => {
    const missing = await app.command('reschedule v2.0');
    expect((missing.json as { text: string }).text).toMatch(/When should it move to\?/);

    await app.command('start v2.1 development minimal', { user_id: 'U0BERLIN' });
    const header = await waitForHeader(app, 'v2.1 → development');
    for (const [phaseIndex, phase] of template('minimal').phases.entries()) {
      await tickAll(app, await waitForPhase(app, header, phase.name), requiredItemIds('minimal', phaseIndex));
    }
    await answerCheckinsHealthy(app, header);
    const late = await app.command('reschedule v2.1 at 2030-03-01 10:00');
    expect(await waitForReply(app, late.responseTag, /is completed/)).toContain('nothing was changed');
  });
});
