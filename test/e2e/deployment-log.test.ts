import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { clickButton, submitView } from '../support/slack-requests.js';
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

// The deployment log: shared once in the thread when a release ends, and on request.

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

describe('the deployment log', () => {
  it('is shared once in the thread when the release ends, and again on request', async () => {
    const app = await startTestApp({ env: { CHECKIN_SCHEDULE: '1s' } });
    apps.push(app);
    await app.command('start v1.0 staging minimal', { user_id: 'U0LEAD' });
    const header = await waitForHeader(app, 'v1.0 → staging');
    for (const [phaseIndex, phase] of template('minimal').phases.entries()) {
      await tickAll(app, await waitForPhase(app, header, phase.name), requiredItemIds('minimal', phaseIndex));
    }
    await answerCheckinsHealthy(app, header);

    const shared = await app.standIn.waitFor(
      () => (app.standIn.files.filter((file) => file.completed).length === 2 ? app.standIn.files : undefined),
      5000,
      'the log files',
    );
    const [markdown, json] = shared;
    expect(markdown).toMatchObject({ channel: header.channel, thread_ts: header.ts });
    expect(markdown!.filename).toMatch(/^deployment-log-v1\.0-staging.*\.md$/);
    expect(markdown!.content).toContain('# Deployment log: v1.0 → staging');
    expect(markdown!.content).toContain('## Audit trail');
    const parsed = JSON.parse(json!.content) as { release: { version: string; status: string } };
    expect(parsed.release).toMatchObject({ version: 'v1.0', status: 'completed' });

    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(app.standIn.files.filter((file) => file.completed)).toHaveLength(2);

    const asked = await app.command('log v1.0', { user_id: 'U0AUDITOR' });
    expect(await waitForReply(app, asked.responseTag, /Shared the deployment log/)).toBeTruthy();
    expect(app.standIn.files.filter((file) => file.completed)).toHaveLength(4);
    expect(app.standIn.files.at(-2)!.initial_comment).toContain('<@U0AUDITOR>');
  });

  it('says that a phase a gate override let the completed release pass was skipped', async () => {
    const app = await startTestApp({ env: { CHECKIN_SCHEDULE: '1s' } });
    apps.push(app);
    await app.command('start v2.0 staging minimal', { user_id: 'U0LEAD' });
    const header = await waitForHeader(app, 'v2.0 → staging');
    await waitForPhase(app, header, 'Before the deploy');
    const viewsBefore = app.standIn.views.length;
    await app.interact(
      clickButton(current(app, header) as never, { actionId: 'gate.override.open' }, { user: 'U0LEAD' }),
    );
    const modal = await app.standIn.waitFor(() => app.standIn.views[viewsBefore], 5000, 'override modal');
    await app.interact(
      submitView(modal, { reason: { 'reason.input': 'Hotfix, checked by hand' } }, { user: 'U0LEAD' }),
    );
    const phases = template('minimal').phases;
    for (const [phaseIndex, phase] of phases.entries()) {
      if (phaseIndex === 0) continue;
      await tickAll(app, await waitForPhase(app, header, phase.name), requiredItemIds('minimal', phaseIndex));
    }
    await answerCheckinsHealthy(app, header);

    const [markdown, json] = await app.standIn.waitFor(
      () => (app.standIn.files.filter((file) => file.completed).length === 2 ? app.standIn.files : undefined),
      5000,
      'the log files',
    );
    const parsed = JSON.parse(json!.content) as {
      release: { status: string };
      phases: { name: string; state: string; items: { required: boolean; skipped?: true }[] }[];
    };
    expect(parsed.release.status).toBe('completed');
    expect(parsed.phases.map((phase) => [phase.name, phase.state])).toEqual(
      phases.map((phase, index) => [phase.name, index === 0 ? 'skipped' : 'done']),
    );
    // Only required items hold a phase up, so only they are skipped; optional ones stay as they were.
    const required = parsed.phases[0]!.items.filter((item) => item.required);
    expect(required.length).toBeGreaterThan(0);
    expect(required.every((item) => item.skipped)).toBe(true);
    expect(parsed.phases[0]!.items.filter((item) => !item.required && item.skipped)).toEqual([]);
    expect(markdown!.content).toContain('(skipped by a gate override)');
  });
});
