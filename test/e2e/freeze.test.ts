import { afterEach, describe, expect, it } from 'vitest';
import { blockTexts, startTestApp, type TestApp } from '../support/app-harness.js';
import { clickButton, submitView } from '../support/slack-requests.js';
import { waitForHeader, waitForReply } from './helpers.js';

// Freeze windows: a start inside one is refused with its end; a release manager can override with a
// reason, which is audited, announced and shown on the release.

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

async function startApp() {
  const app = await startTestApp({
    env: {
      FREEZE_WINDOWS: windowAroundNow(),
      ROLES: 'release_manager=U0LEAD',
      STAKEHOLDER_CHANNEL: 'C0STAKE',
    },
  });
  apps.push(app);
  return app;
}

type Reply = { text: string; blocks: unknown[] };

describe('freeze windows', () => {
  it('refuses a start inside a freeze; a release manager overrides it with a reason, on the record and on the release', async () => {
    const app = await startApp();
    const refused = await app.command('start v1.0 production minimal', { user_id: 'U0ALICE' });
    const text = await waitForReply(app, refused.responseTag, /is frozen until/);
    expect(text).toContain('Nothing was started');
    const reply = app.standIn.responsesTo(refused.responseTag)[0]!.body as Reply;
    const refusal = { ts: '1.1', channel: 'C0DEPLOY', text: reply.text, blocks: reply.blocks } as never;

    // Alice may not override; the release manager may.
    const aliceUrl = app.standIn.responseUrl('alice-override');
    await app.interact(
      clickButton(
        refusal,
        { actionId: 'freeze.override.open' },
        { user: 'U0ALICE', responseUrl: aliceUrl, ephemeral: true },
      ),
    );
    expect(
      await waitForReply(app, 'alice-override', /Only @release_manager can override a freeze/),
    ).toBeTruthy();
    expect(app.standIn.views).toHaveLength(0);

    await app.interact(
      clickButton(refusal, { actionId: 'freeze.override.open' }, { user: 'U0LEAD', ephemeral: true }),
    );
    const modal = await app.standIn.waitFor(() => app.standIn.views[0], 5000, 'the override modal');
    const tooShort = await app.interact(
      submitView(modal, { reason: { 'reason.input': 'no' } }, { user: 'U0LEAD' }),
    );
    expect(JSON.stringify(tooShort.json)).toContain('5 to 500 characters');
    await app.interact(
      submitView(modal, { reason: { 'reason.input': 'Fix for a data leak <!channel>' } }, { user: 'U0LEAD' }),
    );
    const header = await waitForHeader(app, 'v1.0 → production');

    // The override stays on the release: its header and /deploy status name the freeze, who and why.
    const shownOverride =
      /❄️ Freeze on \*production\* \(`production: \w{3} \d\d:\d\d - \w{3} \d\d:\d\d UTC`\) until <!date\^\d+\^[^>]+> overridden by <@U0LEAD> <!date\^\d+\^[^>]+>: _Fix for a data leak &lt;!channel&gt;_/;
    const freezeSection = blockTexts(header).find((text) => text.startsWith('*Freeze override*\n'));
    expect(freezeSection).toMatch(shownOverride);
    const status = await app.command('status v1.0', { user_id: 'U0ALICE' });
    expect(await waitForReply(app, status.responseTag, /v1\.0 → production/)).toMatch(shownOverride);

    const audit = await app.command('audit v1.0');
    expect(await waitForReply(app, audit.responseTag, /Audit trail/)).toContain(
      '<@U0LEAD> overrode the freeze on *production*',
    );
    const announced = await app.standIn.waitFor(
      () => app.standIn.messages('C0STAKE').find((message) => /during a freeze/.test(message.text)),
      5000,
      'the freeze override announcement',
    );
    expect(JSON.stringify(announced.blocks)).toContain('Fix for a data leak &lt;!channel&gt;');
  });

  it('leaves other environments alone, and refuses moving a window into a freeze', async () => {
    const app = await startApp();
    await app.command('start v2.0 staging minimal', { user_id: 'U0ALICE' });
    await waitForHeader(app, 'v2.0 → staging');
    await app.command('start v3.0 production minimal in 3h', { user_id: 'U0ALICE' });
    await waitForHeader(app, 'v3.0 → production');
    const moved = await app.command('reschedule v3.0 in 10m', { user_id: 'U0ALICE' });
    expect(await waitForReply(app, moved.responseTag, /frozen until/)).toContain('Nothing was changed');
  });
});
