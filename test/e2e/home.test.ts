import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { postSigned, SLACK_APP_ID, SLACK_TEAM } from '../support/slack-requests.js';
import { current, waitForHeader, waitForItem, waitForPhase } from './helpers.js';

// The App Home tab: drawn for the person who opens it, once per event (Slack redelivers).

const TEMPLATE = `id: home
name: Home
phases:
  - id: check
    name: Check
    items:
      - id: smoke
        text: Smoke test passes
      - id: qa-ok
        text: QA approves <the build>
        role: qa
`;

let checklistsDir: string;
const apps: TestApp[] = [];
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-home-'));
  await writeFile(path.join(checklistsDir, 'home.yaml'), TEMPLATE);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});
afterAll(async () => {
  await rm(checklistsDir, { recursive: true, force: true });
});

/** The Events API request Slack sends when someone opens the Home tab. */
function homeOpened(user: string, eventId: string) {
  return JSON.stringify({
    token: 'verification-token-not-used',
    team_id: SLACK_TEAM.id,
    api_app_id: SLACK_APP_ID,
    event: {
      type: 'app_home_opened',
      user,
      channel: `D${user.slice(1)}`,
      tab: 'home',
      event_ts: `${Date.now() / 1000}`,
    },
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
  });
}

describe('the App Home tab', () => {
  it('shows each person what waits on them, once per event', async () => {
    const app = await startTestApp({ env: { CHECKLISTS_DIR: checklistsDir, ROLES: 'qa=U0BOB' } });
    apps.push(app);
    await app.command('start v1.0 staging home', { user_id: 'U0LEAD' });
    const header = await waitForHeader(app, 'v1.0 → staging');
    await waitForPhase(app, header, 'Check');

    const url = `${app.baseUrl}/slack/events`;
    const post = (body: string, retryNum?: number) =>
      postSigned(url, body, {
        signingSecret: app.signingSecret,
        contentType: 'application/json',
        ...(retryNum ? { retryNum } : {}),
      });
    expect((await post(homeOpened('U0BOB', 'Ev001'))).status).toBe(200);
    const bobs = await app.standIn.waitFor(
      () => app.standIn.views.find((view) => view.method === 'views.publish' && view.user_id === 'U0BOB'),
      5000,
      'Bob’s home',
    );
    const bobText = JSON.stringify(bobs.view.blocks);
    expect(bobText).toContain('QA approves &lt;the build&gt;');
    expect(bobText).not.toContain('Smoke test passes');
    expect(bobText).toContain('Active releases');
    expect(bobText).toContain('Delivery figures');

    // The same event again (Slack's retry) draws nothing new; the release's starter gets the other item.
    await post(homeOpened('U0BOB', 'Ev001'), 1);
    await post(homeOpened('U0LEAD', 'Ev002'));
    const leads = await app.standIn.waitFor(
      () => app.standIn.views.find((view) => view.method === 'views.publish' && view.user_id === 'U0LEAD'),
      5000,
      'the lead’s home',
    );
    expect(JSON.stringify(leads.view.blocks)).toContain('Smoke test passes');
    expect(bobs.updates).toBe(0);
    expect(app.standIn.callsTo('views.publish')).toHaveLength(2);
  });

  it('is redrawn for the people looking when a click changes what it shows, a burst at a time', async () => {
    const app = await startTestApp({ env: { CHECKLISTS_DIR: checklistsDir, ROLES: 'qa=U0BOB' } });
    apps.push(app);
    await app.command('start v1.1 staging home', { user_id: 'U0LEAD' });
    const header = await waitForHeader(app, 'v1.1 → staging');
    const phase = await waitForPhase(app, header, 'Check');
    const url = `${app.baseUrl}/slack/events`;
    for (const [user, eventId] of [
      ['U0BOB', 'Ev101'],
      ['U0LEAD', 'Ev102'],
    ] as const) {
      await postSigned(url, homeOpened(user, eventId), {
        signingSecret: app.signingSecret,
        contentType: 'application/json',
      });
    }
    const homeOf = (user: string) =>
      app.standIn.views.find((view) => view.method === 'views.publish' && view.user_id === user);
    await app.standIn.waitFor(() => homeOf('U0BOB') && homeOf('U0LEAD'), 5000, 'both homes drawn');
    const publishesBefore = app.standIn.callsTo('views.publish').length;

    // Bob ticks and unticks his QA item five times in a row, ending ticked: each tab is redrawn
    // for the final state, a few times at most rather than once per click.
    for (let round = 0; round < 5; round++) {
      const response = await app.interact(
        app.tickPayload(current(app, phase), 'qa-ok', round % 2 === 0, 'U0BOB'),
      );
      expect(response.status).toBe(200);
      await waitForItem(app, phase, 'qa-ok', round % 2 === 0);
    }
    const shows = (user: string, text: string) => JSON.stringify(homeOf(user)?.view.blocks).includes(text);
    await app.standIn.waitFor(
      () => shows('U0BOB', 'Nothing is waiting on you.') && shows('U0LEAD', '1/2 required done'),
      10_000,
      'both homes redrawn with the tick',
    );
    expect(shows('U0LEAD', 'Smoke test passes')).toBe(true);
    expect(shows('U0BOB', '1/2 required done')).toBe(true);
    // Nobody who never opened their Home gets one drawn.
    expect(app.standIn.views.filter((view) => view.method === 'views.publish')).toHaveLength(2);
    // Give a kept follow-up time to run, then count.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const refreshes = app.standIn.callsTo('views.publish').slice(publishesBefore);
    for (const user of ['U0BOB', 'U0LEAD']) {
      const mine = refreshes.filter((call) => call.args.user_id === user);
      expect(mine.length).toBeGreaterThanOrEqual(1);
      expect(mine.length).toBeLessThanOrEqual(3);
    }
  });
});
