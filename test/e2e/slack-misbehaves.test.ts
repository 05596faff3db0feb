import { afterEach, describe, expect, it } from 'vitest';
import { blockTexts, headerText, startTestApp, type TestApp, viewItem } from '../support/app-harness.js';
import { SlackStandIn } from '../support/slack-stand-in.js';
import {
  click,
  clickInView,
  current,
  plainItemIds,
  requiredItemIds,
  waitForHeader,
  waitForItem,
  waitForPhase,
  waitForReply,
} from './helpers.js';

// How shipcheck behaves when Slack pushes back: rate limits, errors, slowness, an unusable channel.

const apps: TestApp[] = [];
const standIns: SlackStandIn[] = [];
async function startApp(options: Parameters<typeof startTestApp>[0] = {}) {
  const app = await startTestApp(options);
  apps.push(app);
  return app;
}
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
  await Promise.all(standIns.splice(0).map((standIn) => standIn.stop()));
});

describe('rate limits and errors', () => {
  it('waits out a 429 Retry-After on chat.update and then shows the final state', async () => {
    const app = await startApp();
    await app.command('start v1.0 staging minimal');
    const header = await waitForHeader(app, 'v1.0 → staging');
    const phase = await waitForPhase(app, header, 'Before the deploy');
    app.standIn.misbehave('chat.update', { kind: 'rate_limited', retryAfterSec: 1 }, 1);
    const [itemId] = requiredItemIds('minimal', 0);
    await click(app, phase, itemId!, true);
    await waitForItem(app, phase, itemId!, true);
    const updates = app.standIn.callsTo('chat.update');
    const limited = updates.find((call) => call.answered === 429)!;
    const retried = updates.find((call) => call.answered === 200 && call.at > limited.at)!;
    expect(retried.at - limited.at).toBeGreaterThanOrEqual(1000);
  });

  it('retries 500s when posting and still posts each message exactly once', async () => {
    const app = await startApp();
    app.standIn.misbehave('chat.postMessage', { kind: 'server_error', status: 500 }, 2);
    await app.command('start v1.1 staging minimal');
    const header = await waitForHeader(app, 'v1.1 → staging');
    await waitForPhase(app, header, 'Before the deploy');
    const headers = app.standIn
      .messages()
      .filter((message) => headerText(message).includes('v1.1 → staging'));
    expect(headers).toHaveLength(1);
    expect(app.standIn.callsTo('chat.postMessage').filter((call) => call.answered === 500)).toHaveLength(2);
  });

  it('tells the user to invite the bot when it is not in the channel, and cancels the release', async () => {
    const app = await startApp();
    app.standIn.misbehave('chat.postMessage', { kind: 'error', error: 'not_in_channel' }, 1);
    const started = await app.command('start v1.2 staging minimal');
    expect(await waitForReply(app, started.responseTag, /\/invite @shipcheck/)).toContain('not_in_channel');
    const list = await app.command('list');
    const listed = await waitForReply(app, list.responseTag, /No release is active/);
    expect(listed).toMatch(/v1\.2 → staging\* · cancelled/);
    const again = await app.command('start v1.2 staging minimal');
    expect(again.status).toBe(200);
    await waitForHeader(app, 'v1.2 → staging');
  });

  it('keeps the rest of a release in sync when one of its messages was deleted', async () => {
    const app = await startApp();
    await app.command('start v1.4 staging minimal');
    const header = await waitForHeader(app, 'v1.4 → staging');
    const phase = await waitForPhase(app, header, 'Before the deploy');
    const [first] = plainItemIds('minimal', 0);
    const view = current(app, phase);
    app.standIn.deleteMessage(phase.channel, phase.ts);
    await app.interact(app.tickPayload(view, first!, true));
    await app.standIn.waitFor(
      () => app.standIn.callsTo('chat.update').some((call) => call.error === 'message_not_found'),
      5000,
      'the failed update',
    );
    for (const itemId of requiredItemIds('minimal', 0).filter((id) => id !== first)) {
      await clickInView(app, view, itemId, true);
    }
    // The next phase is posted and the header follows, although one update was refused for good.
    await waitForPhase(app, header, 'Deploy');
    await app.standIn.waitFor(
      () => blockTexts(current(app, header)).some((text) => text.includes('1/4 phases done')),
      5000,
      'header follows',
    );
  });

  it('acknowledges clicks while Slack is slow to answer updates', async () => {
    const app = await startApp();
    await app.command('start v1.3 staging minimal');
    const header = await waitForHeader(app, 'v1.3 → staging');
    const phase = await waitForPhase(app, header, 'Before the deploy');
    app.standIn.misbehave('chat.update', { kind: 'slow', delayMs: 2500 }, 2);
    const [itemId] = plainItemIds('minimal', 0);
    const response = await app.interact(app.tickPayload(current(app, phase), itemId!, true));
    expect(response.status).toBe(200);
    // The acknowledgement came back before Slack answered any update.
    expect(app.standIn.callsTo('chat.update').filter((call) => call.answered === 200)).toHaveLength(0);
    await app.standIn.waitFor(
      () => viewItem(current(app, phase), itemId!)?.ticked,
      10_000,
      'slow update lands',
    );
  });
});

describe('pacing and coalescing', () => {
  it('spaces posts to one channel about a second apart', async () => {
    const app = await startApp({ env: { SLACK_POST_INTERVAL_MS: '1000' } });
    await Promise.all([app.command('start v2.0 staging minimal'), app.command('start v2.1 staging minimal')]);
    await app.standIn.waitFor(() => app.standIn.messages().length === 4, 10_000, 'four posts');
    const posts = app.standIn
      .callsTo('chat.postMessage')
      .filter((call) => call.answered === 200)
      .map((call) => call.at)
      .sort((a, b) => a - b);
    for (let index = 1; index < posts.length; index++) {
      // Unpaced, they would be a few ms apart; the margin absorbs timer and network jitter.
      expect(posts[index]! - posts[index - 1]!).toBeGreaterThanOrEqual(800);
    }
  });

  it('folds a burst of clicks into a few updates and loses none of them', async () => {
    const app = await startApp({ env: { SLACK_UPDATE_INTERVAL_MS: '400' } });
    await app.command('start v2.2 production standard');
    const header = await waitForHeader(app, 'v2.2 → production');
    const phase = await waitForPhase(app, header, 'Planning');
    const itemIds = requiredItemIds('standard', 0);
    const view = current(app, phase);
    const before = app.standIn.callsTo('chat.update').length;
    // Every click is made from the same view, as people clicking at once would.
    const responses = await Promise.all(
      itemIds.map((itemId, index) => app.interact(app.tickPayload(view, itemId, true, `U0USER${index % 5}`))),
    );
    expect(responses.every((response) => response.status === 200)).toBe(true);
    for (const itemId of itemIds) await waitForItem(app, phase, itemId, true);
    await app.standIn.waitFor(
      () =>
        blockTexts(current(app, phase)).some((text) =>
          text.includes(`${itemIds.length}/${itemIds.length} required done`),
        ),
      10_000,
      'the phase counts every tick',
    );
    const updates = app.standIn.callsTo('chat.update').length - before;
    expect(itemIds.length).toBeGreaterThanOrEqual(15);
    expect(updates).toBeLessThan(itemIds.length / 2);
  });
});

describe('deployment shape', () => {
  it('posts in DEPLOY_CHANNEL and tells the user where', async () => {
    const app = await startApp({ env: { DEPLOY_CHANNEL: 'C0RELEASES' } });
    const started = await app.command('start v3.0 staging minimal', { channel_id: 'C0RANDOM' });
    expect(await waitForReply(app, started.responseTag, /checklists are in <#C0RELEASES>/)).toBeTruthy();
    await waitForHeader(app, 'v3.0 → staging', 'C0RELEASES');
    expect(app.standIn.messages('C0RANDOM')).toHaveLength(0);
  });

  it('behaves as one bot with two instances on one Redis', async () => {
    const standIn = await SlackStandIn.start();
    standIns.push(standIn);
    const first = await startApp({ standIn });
    const second = await startApp({ standIn, prefix: first.prefix, signingSecret: first.signingSecret });
    await Promise.all([
      first.command('start v4.0 staging minimal'),
      second.command('start v4.0 staging minimal'),
    ]);
    const header = await waitForHeader(first, 'v4.0 → staging');
    const phase = await waitForPhase(first, header, 'Before the deploy');
    const itemIds = requiredItemIds('minimal', 0);
    const view = current(first, phase);
    await Promise.all(
      itemIds.map((itemId, index) =>
        clickInView(index % 2 === 0 ? first : second, view, itemId, true, `U0USER${index}`),
      ),
    );
    for (const itemId of itemIds) await waitForItem(first, phase, itemId, true);
    await waitForPhase(first, header, 'Deploy');
    // One header, one Before message, one Deploy message: nothing posted twice.
    expect(
      standIn.messages().filter((message) => headerText(message).includes('v4.0 → staging')),
    ).toHaveLength(1);
    expect(standIn.messages().filter((message) => message.thread_ts === header.ts)).toHaveLength(2);
    const audit = await second.command('audit v4.0 staging');
    const trail = await waitForReply(second, audit.responseTag, /Audit trail/);
    expect(trail.match(/ ticked /g)).toHaveLength(itemIds.length);
  });
});
