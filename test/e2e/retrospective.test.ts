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

// The retrospective: drafted from the record when a release ends, the team asked again later, and
// its answers saved into the record and the log.

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

function threadText(app: TestApp, headerTs: string): string[] {
  return app.standIn
    .messages()
    .filter((message) => message.thread_ts === headerTs)
    .map((message) => message.text);
}

describe('the retrospective', () => {
  it('is drafted when a release is rolled back, asked for again, and saved into the record', async () => {
    const app = await startTestApp({ env: { CHECKIN_SCHEDULE: '1h', RETRO_PROMPT_AFTER: '1s' } });
    apps.push(app);
    app.standIn.setUser('U0LEAD', { profile: { display_name: 'Lena Lead' } });
    app.standIn.setUser('U0OPS', { profile: { display_name: 'Otto Ops' } });
    await app.command('start v1.0 staging minimal', { user_id: 'U0LEAD' });
    const header = await waitForHeader(app, 'v1.0 → staging');
    for (const phaseIndex of [0, 1]) {
      const phase = await waitForPhase(app, header, template('minimal').phases[phaseIndex]!.name);
      await tickAll(app, phase, requiredItemIds('minimal', phaseIndex));
    }
    // Forms that asked for the values of items came first.
    const viewsBefore = app.standIn.views.length;
    await app.interact(
      clickButton(current(app, header) as never, { actionId: 'release.rollback.open' }, { user: 'U0LEAD' }),
    );
    const confirm = await app.standIn.waitFor(
      () => app.standIn.views[viewsBefore],
      5000,
      'the rollback confirmation',
    );
    await app.interact(
      submitView(confirm, { reason: { 'reason.input': 'Login broke for SSO users' } }, { user: 'U0LEAD' }),
    );
    const checklist = await app.standIn.waitFor(
      () =>
        app.standIn.messages(header.channel).find((message) => message.text.endsWith('rollback checklist')),
      5000,
      'the rollback checklist',
    );
    await tickAll(app, checklist, ['rb-reverted', 'rb-verified', 'rb-announced'], 'U0OPS');

    const draft = await app.standIn.waitFor(
      () =>
        app.standIn
          .messages(header.channel)
          .find((message) => /retrospective/i.test(message.text) && message.thread_ts === header.ts),
      5000,
      'the draft retrospective',
    );
    expect(JSON.stringify(draft.blocks)).toContain('Login broke for SSO users');
    // Mentions show today's names in Slack; the draft also keeps those of the time, with the ids.
    expect(JSON.stringify(draft.blocks)).toContain('Names at the time: Lena Lead (U0LEAD)');
    await app.standIn.waitFor(
      () =>
        threadText(app, header.ts).length >= 2 &&
        threadText(app, header.ts).some((text) => /still open/i.test(text)),
      5000,
      'the prompt',
    );

    await app.interact(clickButton(draft as never, { actionId: 'retro.open' }, { user: 'U0OPS' }));
    const modal = await app.standIn.waitFor(
      () => app.standIn.views[viewsBefore + 1],
      5000,
      'the retrospective form',
    );
    await app.interact(
      submitView(
        modal,
        {
          went_well: { 'went_well.input': 'The rollback took 12 minutes' },
          went_wrong: { 'went_wrong.input': 'SSO was not in the smoke test <!here>' },
          follow_ups: { 'follow_ups.input': 'Add SSO to the smoke test' },
        },
        { user: 'U0OPS' },
      ),
    );
    const saved = await app.standIn.waitFor(
      () =>
        app.standIn
          .messages(header.channel)
          .find((message) => /SSO was not in the smoke test/.test(JSON.stringify(message.blocks))),
      5000,
      'the saved retrospective',
    );
    expect(JSON.stringify(saved.blocks)).toContain('&lt;!here&gt;');
    expect(JSON.stringify(saved.blocks)).toContain('Names at the time: Otto Ops (U0OPS)');

    const audit = await app.command('audit v1.0');
    expect(await waitForReply(app, audit.responseTag, /Audit trail/)).toContain(
      '<@U0OPS> wrote the retrospective',
    );
    const markdownFiles = () =>
      app.standIn.files.filter((file) => file.completed && file.filename.endsWith('.md'));
    const before = markdownFiles().length;
    await app.command('log v1.0');
    const log = await app.standIn.waitFor(
      () => (markdownFiles().length > before ? markdownFiles().at(-1) : undefined),
      5000,
      'the log',
    );
    expect(log.content).toContain('## Retrospective');
    expect(log.content).toContain('Add SSO to the smoke test');
    // Outside Slack a mention means nothing: the log names the writer with their id.
    expect(log.content).toContain('Written by Otto Ops (U0OPS) at ');
  });
});
