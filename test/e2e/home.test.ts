import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { postSigned, SLACK_APP_ID, SLACK_TEAM } from '../support/slack-requests.js';
import { waitForHeader, waitForPhase } from './helpers.js';

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
});
