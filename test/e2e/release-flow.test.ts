import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blockTexts, headerText, startTestApp, type TestApp, viewItem } from '../support/app-harness.js';
import { clickButton, submitView } from '../support/slack-requests.js';
import {
  answerCheckinsHealthy,
  click,
  current,
  repliesTo,
  requiredItemIds,
  template,
  tickAll,
  waitForHeader,
  waitForItem,
  waitForPhase,
  waitForReply,
} from './helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { CHECKIN_SCHEDULE: '1s' } });
});
afterAll(async () => {
  await app?.stop();
});
beforeEach(() => {
  app.standIn.clearMisbehaviour();
});

function headerOf(title: string) {
  return waitForHeader(app, title);
}

describe('/deploy start', () => {
  it('acks at once, posts the release header and the first phase in its thread, and nothing locked', async () => {
    const response = await app.command('start v2.3', { user_id: 'U0ALICE' });
    expect(response.status).toBe(200);
    expect(response.body).toBe('');
    const header = await headerOf('v2.3 → production');
    const texts = blockTexts(header).join('\n');
    expect(texts).toContain('<@U0ALICE>');
    expect(texts).toContain('Standard release');
    expect(texts).toMatch(/0\/\d+ phases done/);
    const planning = await waitForPhase(app, header, 'Planning');
    expect(headerText(planning)).toBe(`1/${template('standard').phases.length} · Planning`);
    const firstItem = template('standard').phases[0]!.items[0]!;
    expect(viewItem(planning, firstItem.id)).toMatchObject({ clickable: true, ticked: false });
    // Later phases stay locked and unposted until Planning is done.
    const threadMessages = app.standIn
      .messages(header.channel)
      .filter((message) => message.thread_ts === header.ts);
    expect(threadMessages).toHaveLength(1);
  });

  it('shows who ticked an item and when, and the phase counts it', async () => {
    await app.command('start v2.4 staging');
    const header = await headerOf('v2.4 → staging');
    const planning = await waitForPhase(app, header, 'Planning');
    const [itemId] = requiredItemIds('standard', 0);
    await click(app, planning, itemId!, true, 'U0BOB');
    await waitForItem(app, planning, itemId!, true);
    const shown = viewItem(current(app, planning), itemId!)!;
    expect(shown.text).toContain('<@U0BOB>');
    expect(shown.text).toMatch(/<!date\^\d+\^/);
    expect(blockTexts(current(app, planning)).join(' ')).toMatch(/Open · 1\/\d+ required done/);
    await click(app, planning, itemId!, false, 'U0BOB');
    await waitForItem(app, planning, itemId!, false);
    expect(viewItem(current(app, planning), itemId!)!.text).not.toContain('<@U0BOB>');
  });

  it('keeps both ticks when two people click the same message from the same, stale view', async () => {
    await app.command('start v2.5 development');
    const header = await headerOf('v2.5 → development');
    const planning = await waitForPhase(app, header, 'Planning');
    const [first, second] = requiredItemIds('standard', 0);
    const staleView = current(app, planning);
    await Promise.all([
      app.interact(app.tickPayload(staleView, first!, true, 'U0ALICE')),
      app.interact(app.tickPayload(staleView, second!, true, 'U0BOB')),
    ]);
    await waitForItem(app, planning, first!, true);
    await waitForItem(app, planning, second!, true);
    // Bob's view still shows `first` unticked; his click on `second` must not untick it.
    await app.interact(app.tickPayload(staleView, second!, true, 'U0BOB'));
    const audit = await app.command('audit v2.5 development');
    const text = await waitForReply(app, audit.responseTag, /Audit trail/);
    expect(text.match(/ticked/g)).toHaveLength(2);
  });

  it('applies a Slack retry of the same click once', async () => {
    await app.command('start v2.6');
    const header = await headerOf('v2.6 → production');
    const planning = await waitForPhase(app, header, 'Planning');
    const [itemId] = requiredItemIds('standard', 0);
    const payload = app.tickPayload(current(app, planning), itemId!, true, 'U0ALICE');
    expect((await app.interact(payload)).status).toBe(200);
    expect((await app.interact(payload, { retryNum: 1, retryReason: 'http_timeout' })).status).toBe(200);
    await waitForItem(app, planning, itemId!, true);
    const audit = await app.command('audit v2.6');
    const text = await waitForReply(app, audit.responseTag, /Audit trail/);
    expect(text.match(/ticked/g)).toHaveLength(1);
  });

  it('refuses a second active release of the same version and environment, with a link to it', async () => {
    await app.command('start v3.0 staging minimal');
    // The header's permalink is saved before the first phase is posted; the refusal links to it.
    await waitForPhase(app, await headerOf('v3.0 → staging'), 'Before the deploy');
    const repeated = await app.command('start v3.0 staging');
    const reply = await waitForReply(app, repeated.responseTag, /already being deployed/);
    expect(reply).toContain('https://example.slack.com/archives/');
    expect(
      app.standIn.messages().filter((message) => headerText(message).includes('v3.0 → staging')),
    ).toHaveLength(1);
  });

  it('answers bad input at once, ephemerally, and creates nothing', async () => {
    // `/deploy start` alone opens the start form instead (test/e2e/start-form.test.ts).
    const cases: [string, RegExp][] = [
      ['start <!channel>', /not a version I can use/],
      ['start v1 moon', /I don't know `moon`.*Environments:.*Templates:.*`standard`/s],
      ['start v1 production staging', /one environment only/],
      [`start ${'x'.repeat(65)}`, /longer than 64/],
      ['cancel v1', /give a reason/],
    ];
    for (const [text, expected] of cases) {
      const response = await app.command(text);
      expect(response.status).toBe(200);
      const body = response.json as { response_type: string; text: string };
      expect(body.response_type).toBe('ephemeral');
      expect(body.text).toMatch(expected);
      expect(body.text).not.toContain('<!channel>');
    }
    const list = await app.command('list');
    expect(await waitForReply(app, list.responseTag, /Active releases/)).not.toMatch(/\bv1\b/);
  });

  it('answers help for nothing and for unknown subcommands', async () => {
    const empty = await app.command('');
    expect(await waitForReply(app, empty.responseTag, /Commands:/)).toContain('/deploy start');
    const unknown = await app.command('launch v1');
    expect(await waitForReply(app, unknown.responseTag, /I don't know `\/deploy launch`/)).toContain(
      '/deploy cancel',
    );
  });
});

describe('phases, gates and completion', () => {
  it('unlocks the next phase when the required items are done, and re-locks it when one is unticked', async () => {
    await app.command('start v4.0 staging minimal');
    const header = await headerOf('v4.0 → staging');
    const before = await waitForPhase(app, header, 'Before the deploy');
    const required = requiredItemIds('minimal', 0);
    await tickAll(app, before, required);
    const deploy = await waitForPhase(app, header, 'Deploy');
    const deployItem = requiredItemIds('minimal', 1)[0]!;
    expect(viewItem(deploy, deployItem)?.clickable).toBe(true);
    const staleDeployView = current(app, deploy);

    await click(app, before, required[0]!, false);
    await app.standIn.waitFor(
      () => viewItem(current(app, deploy), deployItem)?.clickable === false,
      5000,
      'deploy re-locked',
    );
    expect(blockTexts(current(app, deploy)).join(' ')).toContain('Locked until *Before the deploy* is done');

    // A click from a view taken before the re-lock is refused, explained, and the message re-sent.
    const updatesBefore = current(app, deploy).updates;
    const refused = await app.interact(app.tickPayload(staleDeployView, deployItem, true, 'U0CAROL'));
    expect(refused.status).toBe(200);
    await app.standIn.waitFor(
      () =>
        app.standIn.responses.some((response) =>
          /is locked until \*Before the deploy\*/.test(JSON.stringify(response.body)),
        ),
      5000,
      'locked explanation',
    );
    await app.standIn.waitFor(
      () => current(app, deploy).updates > updatesBefore,
      5000,
      'refused click re-rendered',
    );
    expect(viewItem(current(app, deploy), deployItem)?.ticked).toBe(false);
  });

  it('lets a gate be overridden through the modal, with the reason on the release and in the audit', async () => {
    await app.command('start v4.1 staging minimal');
    const header = await headerOf('v4.1 → staging');
    await waitForPhase(app, header, 'Before the deploy');
    const viewsBefore = app.standIn.views.length;
    const opened = await app.interact(
      clickButton(current(app, header) as never, { actionId: 'gate.override.open' }, { user: 'U0LEAD' }),
    );
    expect(opened.status).toBe(200);
    const modal = await app.standIn.waitFor(() => app.standIn.views[viewsBefore], 5000, 'override modal');
    expect(modal.view.callback_id).toBe('gate.override');

    const tooShort = await app.interact(
      submitView(modal, { reason: { 'reason.input': 'no' } }, { user: 'U0LEAD' }),
    );
    expect(tooShort.json).toMatchObject({ response_action: 'errors' });

    const submitted = await app.interact(
      submitView(
        modal,
        { reason: { 'reason.input': 'Hotfix <!channel> approved by CTO' } },
        { user: 'U0LEAD' },
      ),
    );
    expect(submitted.status).toBe(200);
    const deploy = await waitForPhase(app, header, 'Deploy');
    expect(viewItem(deploy, requiredItemIds('minimal', 1)[0]!)?.clickable).toBe(true);
    await app.standIn.waitFor(
      () => blockTexts(current(app, header)).some((text) => text.includes('unlocked early by <@U0LEAD>')),
      5000,
      'override shown on header',
    );
    const headerJson = JSON.stringify(current(app, header).blocks);
    expect(headerJson).toContain('&lt;!channel&gt;');
    expect(headerJson).not.toContain('<!channel>');
    const audit = await app.command('audit v4.1 staging');
    expect(await waitForReply(app, audit.responseTag, /overrode the gate/)).toContain('<@U0LEAD>');
    // /deploy status names it too, as the header does.
    const status = await app.command('status v4.1 staging');
    const statusText = await waitForReply(app, status.responseTag, /unlocked early/);
    expect(statusText).toContain('unlocked early by <@U0LEAD>');
    expect(statusText).toContain('Hotfix &lt;!channel&gt; approved by CTO');
  });

  it('completes the release when the last phase is done; the header says so and clicks are refused', async () => {
    await app.command('start v5.0 development minimal');
    const header = await headerOf('v5.0 → development');
    const phases = template('minimal').phases;
    const messages = [];
    for (const [phaseIndex, phase] of phases.entries()) {
      const message = await waitForPhase(app, header, phase.name);
      messages.push(message);
      await tickAll(app, message, requiredItemIds('minimal', phaseIndex));
    }
    // Every checklist is done, but the release is complete only once its check-in says healthy.
    expect(blockTexts(current(app, header)).join('\n')).not.toContain('✅ Completed');
    await answerCheckinsHealthy(app, header);
    const last = messages.at(-1)!;
    await app.standIn.waitFor(
      () =>
        viewItem(current(app, last), requiredItemIds('minimal', phases.length - 1)[0]!)?.clickable === false,
      5000,
      'read-only',
    );
    const optional = template('minimal').phases[1]!.items.find((item) => !item.required)!;
    // The Deploy message as it was first posted: a view from before the release completed.
    const staleView = messages[1]!;
    const refusal = await app.interact(app.tickPayload(staleView, optional.id, true));
    expect(refusal.status).toBe(200);
    await app.standIn.waitFor(
      () =>
        app.standIn.responses.some((response) =>
          /v5\.0 → development is completed/.test(JSON.stringify(response.body)),
        ),
      5000,
      'completed refusal',
    );
    const status = await app.command('status v5.0');
    expect(await waitForReply(app, status.responseTag, /v5\.0 → development/)).toContain('completed');
  });
});

describe('cancel, status, list and audit', () => {
  it('cancels with the reason escaped on the header and frees the version', async () => {
    await app.command('start v6.0 staging hotfix');
    const header = await headerOf('v6.0 → staging');
    const cancel = await app.command(
      'cancel v6.0 staging smoke tests <@U0EVE> failed & <https://x.example|click>',
      { user_id: 'U0ALICE' },
    );
    expect(await waitForReply(app, cancel.responseTag, /Cancelled v6\.0 → staging/)).toBeTruthy();
    await app.standIn.waitFor(
      () => blockTexts(current(app, header)).some((text) => text.includes('Cancelled by <@U0ALICE>')),
      5000,
      'header cancelled',
    );
    const json = JSON.stringify(current(app, header).blocks);
    expect(json).toContain('smoke tests &lt;@U0EVE&gt; failed &amp; &lt;https://x.example|click&gt;');
    expect(json).not.toContain('<@U0EVE>');
    const again = await app.command('cancel v6.0 staging twice');
    expect(await waitForReply(app, again.responseTag, /v6\.0 → staging is cancelled/)).toContain(
      'nothing was changed',
    );
    const restart = await app.command('start v6.0 staging hotfix');
    expect(restart.status).toBe(200);
    await app.standIn.waitFor(
      () =>
        app.standIn.messages().filter((message) => headerText(message).includes('v6.0 → staging')).length ===
        2,
      5000,
      'restarted release',
    );
  });

  it('asks which environment when a version is active in several', async () => {
    await app.command('start v7.0 staging minimal');
    await app.command('start v7.0 production minimal');
    await headerOf('v7.0 → production');
    const cancel = await app.command('cancel v7.0 not needed');
    expect(await waitForReply(app, cancel.responseTag, /active in/)).toMatch(/`staging`|`production`/);
  });

  it('lists active releases and shows one release with its open items', async () => {
    await app.command('start v8.0 staging minimal');
    await headerOf('v8.0 → staging');
    const list = await app.command('list');
    const listed = await waitForReply(app, list.responseTag, /Active releases/);
    expect(listed).toContain('v8.0 → staging');
    const status = await app.command('status v8.0 staging');
    const shown = await waitForReply(app, status.responseTag, /Open in/);
    expect(shown).toContain(template('minimal').phases[0]!.items[0]!.text);
    const missing = await app.command('status v404');
    expect(await waitForReply(app, missing.responseTag, /found no release v404/)).toBeTruthy();
  });
});

describe('request verification', () => {
  it('rejects a bad signature and a stale timestamp with 401 and changes nothing', async () => {
    const forged = await app.command('start v9.9', {}, { signature: 'v0=deadbeef' });
    expect(forged.status).toBe(401);
    const stale = await app.command(
      'start v9.9',
      {},
      { timestampSec: Math.floor(Date.now() / 1000) - 6 * 60 },
    );
    expect(stale.status).toBe(401);
    const list = await app.command('list');
    expect(await waitForReply(app, list.responseTag, /Active releases|No release/)).not.toContain('v9.9');
    expect(repliesTo(app, forged.responseTag)).toHaveLength(0);
  });

  it('answers health checks', async () => {
    const response = await fetch(`${app.baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true });
  });
});
