import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { runFinalLog, runLogVersion } from '../../src/jobs/deployment-log.js';
import { SlackOutbound } from '../../src/slack-api/outbound.js';
import { Pacer } from '../../src/store/pacer.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { clickButton, SLACK_TEAM, submitView } from '../support/slack-requests.js';
import { SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';
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
const standIns: SlackStandIn[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
  await Promise.all(standIns.splice(0).map((standIn) => standIn.stop()));
});

const deliveryKey = (message: StoredMessage) => String(message.metadata?.event_payload.key ?? '');

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

  it('names people by the display names they had at the time, with their ids', async () => {
    const app = await startTestApp({ env: { CHECKIN_SCHEDULE: '1s' } });
    apps.push(app);
    app.standIn.setUser('U0LEAD', { profile: { display_name: 'Lena *Lead*', real_name: 'Lena Leadbetter' } });
    await app.command('start v1.5 staging minimal', { user_id: 'U0LEAD' });
    const header = await waitForHeader(app, 'v1.5 → staging');
    for (const [phaseIndex, phase] of template('minimal').phases.entries()) {
      await tickAll(app, await waitForPhase(app, header, phase.name), requiredItemIds('minimal', phaseIndex));
    }
    await answerCheckinsHealthy(app, header);
    const completed = () => app.standIn.files.filter((file) => file.completed);
    const [markdown, json] = await app.standIn.waitFor(
      () => (completed().length === 2 ? completed() : undefined),
      5000,
      'the log files',
    );
    // Escaped in Markdown (people choose their names), as given in JSON; the ids stay where they were.
    expect(markdown!.content).toContain('| Started | Lena \\*Lead\\* (U0LEAD) at ');
    expect(markdown!.content).toContain('- Lena \\*Lead\\* (U0LEAD), real name Lena Leadbetter; as of ');
    expect(markdown!.content).toMatch(/\| alice \(U0ALICE\) \| Ticked \|/);
    expect(markdown!.content).not.toContain('@U0LEAD');
    const parsed = JSON.parse(json!.content) as {
      release: { startedBy: string };
      people: Record<string, { name: string; realName?: string; recordedAt: string }>;
    };
    expect(parsed.release.startedBy).toBe('U0LEAD');
    expect(parsed.people.U0LEAD).toMatchObject({ name: 'Lena *Lead*', realName: 'Lena Leadbetter' });
    expect(parsed.people.U0ALICE).toMatchObject({ name: 'alice', realName: 'Alice' });
    expect(Date.parse(parsed.people.U0LEAD!.recordedAt)).toBeGreaterThan(0);

    // Renamed in Slack after the events: the log still shows the names of the time.
    app.standIn.setUser('U0LEAD', { profile: { display_name: 'Someone Else' } });
    const asked = await app.command('log v1.5', { user_id: 'U0AUDITOR' });
    expect(await waitForReply(app, asked.responseTag, /Shared the deployment log/)).toBeTruthy();
    const [again, againJson] = completed().slice(2);
    expect(again!.content).toContain('| Started | Lena \\*Lead\\* (U0LEAD) at ');
    expect(again!.content).not.toContain('Someone Else');
    expect(JSON.parse(againJson!.content).people.U0LEAD.name).toBe('Lena *Lead*');
    // Each person was looked up once, whatever the number of their acts and logs.
    const lookups = app.standIn.calls.filter(
      (call) => call.method === 'users.info' && call.args.user === 'U0LEAD',
    );
    expect(lookups.length).toBeLessThanOrEqual(2);
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

  it('is shared again, once, when the retrospective is saved after it, and the earlier version says it was superseded', async () => {
    const standIn = await SlackStandIn.start();
    standIns.push(standIn);
    const env = { CHECKIN_SCHEDULE: '1s' };
    // Two instances on one Redis: each runs the job queues.
    const app = await startTestApp({ standIn, env });
    apps.push(app);
    apps.push(await startTestApp({ standIn, env, prefix: app.prefix, signingSecret: app.signingSecret }));
    await app.command('start v3.0 staging minimal', { user_id: 'U0LEAD' });
    const header = await waitForHeader(app, 'v3.0 → staging');
    for (const [phaseIndex, phase] of template('minimal').phases.entries()) {
      await tickAll(app, await waitForPhase(app, header, phase.name), requiredItemIds('minimal', phaseIndex));
    }
    await answerCheckinsHealthy(app, header);

    const sharedFiles = () => standIn.files.filter((file) => file.completed && file.thread_ts === header.ts);
    const logMessages = () =>
      standIn
        .messages(header.channel)
        .filter(
          (message) => message.thread_ts === header.ts && /^log-.+-message$/.test(deliveryKey(message)),
        );
    await standIn.waitFor(
      () => sharedFiles().length === 2 && logMessages().length === 1,
      5000,
      'the final log',
    );
    const [finalMessage] = logMessages();
    expect(finalMessage!.text).toContain('the release has ended');
    expect(sharedFiles()[0]!.content).not.toContain('### What went wrong');
    const releaseId = deliveryKey(finalMessage!).slice('log-'.length, -'-message'.length);

    const draft = await standIn.waitFor(
      () =>
        standIn
          .messages(header.channel)
          .find((message) => deliveryKey(message) === `retro-${releaseId}-draft`),
      5000,
      'the draft retrospective',
    );
    const viewsBefore = standIn.views.length;
    await app.interact(clickButton(draft as never, { actionId: 'retro.open' }, { user: 'U0OPS' }));
    const form = await standIn.waitFor(() => standIn.views[viewsBefore], 5000, 'the retrospective form');
    await app.interact(
      submitView(
        form,
        {
          went_well: { 'went_well.input': 'The deploy took 4 minutes' },
          went_wrong: { 'went_wrong.input': 'The smoke test missed SSO' },
          follow_ups: { 'follow_ups.input': 'Add SSO to the smoke test' },
        },
        { user: 'U0OPS' },
      ),
    );

    await standIn.waitFor(
      () => sharedFiles().length === 4 && logMessages().length === 2,
      8000,
      'the log shared again',
    );
    const [markdown, json] = sharedFiles().slice(2);
    expect(markdown!.content).toContain('### What went wrong');
    expect(markdown!.content).toContain('Add SSO to the smoke test');
    const parsed = JSON.parse(json!.content) as { retrospective?: { wentWrong: string; by: string } };
    expect(parsed.retrospective).toMatchObject({ wentWrong: 'The smoke test missed SSO', by: 'U0OPS' });
    const newerMessage = logMessages()[1]!;
    expect(newerMessage.text).toContain('updated with the retrospective <@U0OPS> saved');
    // The earlier version's message now points at the newer one.
    const superseded = await standIn.waitFor(
      () => {
        const message = current(app, finalMessage!);
        return message.text.startsWith('Superseded') ? message : undefined;
      },
      5000,
      'the earlier log marked superseded',
    );
    expect(JSON.stringify(superseded.blocks)).toContain(`/p${newerMessage.ts.replace('.', '')}`);
    expect(superseded.updates).toBe(1);

    // The same jobs run again, twice at once (a retry, another instance): nothing more in the thread.
    const eventId = deliveryKey(newerMessage).slice(`log-${releaseId}-retro-`.length, -'-message'.length);
    const redis = new Redis(TEST_REDIS_URL);
    const store = new ReleaseStore(redis, app.prefix);
    const log = pino({ level: 'silent' });
    const outbound = new SlackOutbound(
      { token: 'xoxb-test-token', apiUrl: standIn.apiUrl, postIntervalMs: 0, updateIntervalMs: 0 },
      new Pacer(redis, store.keys),
      log,
    );
    try {
      const deps = { store, outbound, log };
      await Promise.all([
        runLogVersion(deps, SLACK_TEAM.id, releaseId, eventId),
        runLogVersion(deps, SLACK_TEAM.id, releaseId, eventId),
        runFinalLog(deps, SLACK_TEAM.id, releaseId),
      ]);
    } finally {
      await outbound.close();
      await redis.quit();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sharedFiles()).toHaveLength(4);
    expect(logMessages()).toHaveLength(2);
    expect(current(app, finalMessage!).updates).toBe(1);
    expect(current(app, newerMessage).text).not.toContain('Superseded');
  });
});
