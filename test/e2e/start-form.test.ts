import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { submitView } from '../support/slack-requests.js';
import { waitForHeader } from './helpers.js';

// The start form: `/deploy start` alone opens it; what can be checked at once is answered in the form.

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

describe('the start form', () => {
  it('opens on /deploy start, checks its fields in place, and starts with notes, downtime and channels', async () => {
    const app = await startTestApp({ env: { STAKEHOLDER_CHANNEL: 'C0USUAL' } });
    apps.push(app);
    app.standIn.setUser('U0LEAD', { tz: 'Europe/Berlin' });
    await app.command('start', { user_id: 'U0LEAD' });
    const modal = await app.standIn.waitFor(() => app.standIn.views[0], 5000, 'the start form');
    expect(modal.view.callback_id).toBe('release.start');
    expect(JSON.stringify(modal.view.blocks)).toContain('Europe/Berlin');

    const bad = await app.interact(
      submitView(
        modal,
        { version: { 'version.input': 'v 2.3' }, window: { 'window.input': 'yesterday 10:00' } },
        { user: 'U0LEAD' },
      ),
    );
    const errors = (bad.json as { response_action: string; errors: Record<string, string> }).errors;
    expect(Object.keys(errors).sort()).toEqual(['version', 'window']);
    expect(app.standIn.messages()).toHaveLength(0);

    const good = await app.interact(
      submitView(
        modal,
        {
          version: { 'version.input': 'v2.3' },
          env: { 'env.select': 'staging' },
          template: { 'template.select': 'minimal' },
          window: { 'window.input': 'in 2d' },
          notes: { 'notes.input': 'Faster checkout <!channel>' },
          downtime: { 'downtime.input': 'about 5 minutes' },
          stakeholders: {
            'stakeholders.select': {
              type: 'multi_conversations_select',
              selected_conversations: ['C0SALES'],
            },
          },
        },
        { user: 'U0LEAD' },
      ),
    );
    expect(good.status).toBe(200);
    await waitForHeader(app, 'v2.3 → staging');
    const announced = await app.standIn.waitFor(
      () => app.standIn.messages('C0SALES')[0],
      5000,
      'the announcement',
    );
    const shown = JSON.stringify(announced.blocks);
    expect(shown).toContain('Faster checkout &lt;!channel&gt;');
    expect(shown).toContain('about 5 minutes');
    expect(app.standIn.messages('C0USUAL')).toHaveLength(0);
  });
});
