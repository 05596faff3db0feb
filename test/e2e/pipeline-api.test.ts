import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { blockTexts, startTestApp, type TestApp, viewItem } from '../support/app-harness.js';
import { createPipelineToken } from '../support/pipelines.js';
import { clickButton } from '../support/slack-requests.js';
import type { StoredMessage } from '../support/slack-stand-in.js';
import { current, tickAll, waitForHeader, waitForPhase, waitForReply } from './helpers.js';

// A pipeline drives a release through the CLI (`shipcheck release …`, real HTTP to the real app) while
// people work in Slack: it starts the release, ticks what it can check with evidence and values, waits
// at the gate while a person's item is open and the go call is not made, gets "allowed" once a person
// ticks and presses Go, reports the deploy, and the check-ins follow. A failed deploy raises a red flag
// the team sees with the rollback beside it.

const TEMPLATE = `id: piped
name: Piped
phases:
  - id: build
    name: Build
    items:
      - id: build-green
        text: Build is green
        pipeline: true
        record:
          kind: text
          label: Commit SHA
          pattern: '[0-9a-f]{7,40}'
      - id: staging-tests
        text: Automated tests passed on staging
        pipeline: true
  - id: review
    name: Review
    items:
      - id: change-approved
        text: Change approved by a person
  - id: ship
    name: Ship
    deployment: true
    go: true
    items:
      - id: deploy-succeeded
        text: Deploy succeeded
        pipeline: true
`;

const LEAD = 'U0LEAD';
const ALICE = 'U0ALICE';

let checklistsDir: string;
const apps: TestApp[] = [];
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-pipeline-'));
  await writeFile(path.join(checklistsDir, 'piped.yaml'), TEMPLATE);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});
afterAll(async () => {
  await rm(checklistsDir, { recursive: true, force: true });
});

async function startApp(): Promise<TestApp> {
  const app = await startTestApp({
    env: {
      CHECKLISTS_DIR: checklistsDir,
      ROLES: `release_manager=${LEAD}`,
      STAKEHOLDER_CHANNEL: 'C0STAKE',
      CHECKIN_SCHEDULE: '1s',
      CHECKIN_ESCALATE_AFTER: '1h',
    },
  });
  apps.push(app);
  return app;
}

const createToken = (app: TestApp) => createPipelineToken(app, 'ci', 'production', LEAD);

interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Starts `shipcheck <args>` as a pipeline job would, against the app; what it printed so far is readable. */
function startCli(app: TestApp, token: string, ...args: string[]) {
  const printed = { out: '', err: '' };
  const done = main(args, {
    stdout: (text) => {
      printed.out += text;
    },
    stderr: (text) => {
      printed.err += text;
    },
    cwd: process.cwd(),
    env: { SHIPCHECK_URL: app.baseUrl, SHIPCHECK_TOKEN: token },
  }).then((code): CliRun => ({ code, ...printed }));
  return { done, printed };
}

const cli = (app: TestApp, token: string, ...args: string[]) => startCli(app, token, ...args).done;

const text = (message: StoredMessage) => blockTexts(message).join('\n');

async function press(app: TestApp, message: StoredMessage, actionId: string, user: string) {
  const response = await app.interact(clickButton(current(app, message) as never, { actionId }, { user }));
  expect(response.status).toBe(200);
}

describe('a pipeline through the CLI', () => {
  it('starts, ticks with evidence, waits at the gate for a person and the go call, reports the deploy', async () => {
    const app = await startApp();
    const token = await createToken(app);

    const started = await cli(
      app,
      token,
      'release',
      'start',
      'v7.0',
      '--env',
      'production',
      '--template',
      'piped',
      '--commit',
      '3F9C2E1B7D',
      '--run-url',
      'https://ci.example.com/runs/42',
    );
    expect(started).toMatchObject({ code: 0, out: 'Started: v7.0 → production (r1)\n' });
    // Run again (a retried job): the same release, nothing new.
    expect(
      await cli(app, token, 'release', 'start', 'v7.0', '--env', 'production', '--template', 'piped'),
    ).toMatchObject({ code: 0, out: 'Already started: v7.0 → production (r1)\n' });

    // Posted as a start from Slack is, in the channel the token was made in, naming the pipeline.
    const header = await waitForHeader(app, 'v7.0 → production', 'C0DEPLOY');
    expect(text(header)).toContain('🤖 ci (pipeline)');
    expect(text(header)).toContain('`3f9c2e1b7d`');
    expect(text(header)).toContain('<https://ci.example.com/runs/42|pipeline run>');

    // The pipeline ticks its items, with the commit, a summary and a link to the proof.
    const tick = await cli(
      app,
      token,
      'release',
      'tick',
      'v7.0',
      'build-green',
      '--value',
      '3f9c2e1',
      '--summary',
      'Build #42 green',
      '--evidence',
      'https://ci.example.com/runs/42',
    );
    expect(tick).toMatchObject({ code: 0, out: 'Ticked: build-green\n' });
    expect(
      await cli(app, token, 'release', 'tick', 'v7.0', 'staging-tests', '--env', 'production'),
    ).toMatchObject({ code: 0 });
    const build = await waitForPhase(app, header, 'Build');
    await app.standIn.waitFor(
      () => viewItem(current(app, build), 'staging-tests')?.ticked === true,
      5000,
      'the pipeline ticks shown',
    );
    const buildText = text(current(app, build));
    expect(buildText).toContain('`3f9c2e1` — 🤖 ci (pipeline)');
    expect(buildText).toContain('_Build #42 green_ · <https://ci.example.com/runs/42|evidence>');

    // A person's item is not the pipeline's to tick.
    const refused = await cli(app, token, 'release', 'tick', 'v7.0', 'change-approved');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('403 pipeline_item_refused');

    // The gate waits while the review is open and the go call is not made.
    const gate = startCli(app, token, 'release', 'gate', 'v7.0', '--env', 'production', '--timeout', '30s');
    let gateDone = false;
    void gate.done.then(() => {
      gateDone = true;
    });
    await app.standIn.waitFor(
      () => gate.printed.out.includes('Waiting at the gate'),
      5000,
      'the gate waiting',
    );
    const review = await waitForPhase(app, header, 'Review');
    await tickAll(app, review, ['change-approved'], ALICE);
    await app.standIn.waitFor(
      () => /Go \/ no-go/.test(text(current(app, header))),
      5000,
      'the go call offered',
    );
    expect(gateDone).toBe(false);
    await press(app, header, 'release.go', LEAD);
    const wentAt = Date.now();
    const opened = await gate.done;
    const waited = Date.now() - wentAt;
    expect(opened.code).toBe(0);
    expect(opened.out).toContain('Waiting at the gate: phase: Review has 1 open required item');
    expect(opened.out).toContain('go: the go/no-go call has not been made');
    expect(opened.out).toMatch(/Gate open: the deploy may start\.\n$/);
    // Polled every 250 ms: well within a second of the go call, with room for a busy machine.
    expect(waited).toBeLessThan(2000);

    // The deploy is reported: the pipeline's deployment item is ticked, the release is deployed and
    // the check-in (1 s after the deploy here) is posted in the thread.
    const deployed = await cli(
      app,
      token,
      'release',
      'deployed',
      'v7.0',
      '--summary',
      'Helm release 42 rolled out',
      '--evidence',
      'https://ci.example.com/runs/42#deploy',
    );
    expect(deployed).toMatchObject({ code: 0 });
    expect(deployed.out).toContain('Ticked: deploy-succeeded');
    expect(deployed.out).toContain('The release is deployed; check-ins are planned.');
    await app.standIn.waitFor(() => /\*Deployed\*/.test(text(current(app, header))), 5000, 'deployed');
    await app.standIn.waitFor(
      () =>
        app.standIn
          .messages(header.channel)
          .some(
            (message) =>
              message.thread_ts === header.ts && /checkin\.healthy/.test(JSON.stringify(message.blocks)),
          ),
      8000,
      'the check-in posted',
    );

    // The audit trail names the pipeline for what it did, and its refusal.
    const audit = await app.command('audit v7.0', { user_id: LEAD });
    const listing = await waitForReply(app, audit.responseTag, /reported the deploy/);
    expect(listing).toContain(
      '🤖 ci (pipeline) reported the deploy *succeeded*: _Helm release 42 rolled out_',
    );
    expect(listing).toContain('🤖 ci (pipeline) was refused: tick');
  });

  it('reports a failed deploy as a red flag, with the rollback offered in Slack', async () => {
    const app = await startApp();
    const token = await createToken(app);
    await cli(app, token, 'release', 'start', 'v7.1', '--env', 'production', '--template', 'piped');
    const header = await waitForHeader(app, 'v7.1 → production');
    await cli(app, token, 'release', 'tick', 'v7.1', 'build-green', '--value', 'abcdef1');
    await cli(app, token, 'release', 'tick', 'v7.1', 'staging-tests');
    await tickAll(app, await waitForPhase(app, header, 'Review'), ['change-approved'], ALICE);
    await app.standIn.waitFor(
      () => /Go \/ no-go/.test(text(current(app, header))),
      5000,
      'the go call offered',
    );
    await press(app, header, 'release.go', LEAD);
    expect(await cli(app, token, 'release', 'deployed', 'v7.1', '--status', 'started')).toMatchObject({
      code: 0,
    });

    const failed = await cli(
      app,
      token,
      'release',
      'deployed',
      'v7.1',
      '--status',
      'failed',
      '--summary',
      'helm upgrade timed out',
      '--evidence',
      'https://ci.example.com/runs/43',
    );
    expect(failed).toMatchObject({ code: 0 });
    expect(failed.out).toContain('Red flag #1 raised; the team can roll back from Slack.');
    await app.standIn.waitFor(
      () => /Stopped by a red flag/.test(text(current(app, header))),
      5000,
      'red flag',
    );
    const shown = text(current(app, header));
    expect(shown).toContain('raised by 🤖 ci (pipeline)');
    expect(shown).toContain('helm upgrade timed out https://ci.example.com/runs/43');
    expect(JSON.stringify(current(app, header).blocks)).toContain('Roll back…');
    // Stakeholders hear of it once.
    await app.standIn.waitFor(
      () =>
        app.standIn.messages('C0STAKE').filter((message) => /red flag/i.test(message.text ?? '')).length ===
        1,
      5000,
      'stakeholders told of the red flag',
    );
    // The gate now says no, and why.
    const gate = await cli(app, token, 'release', 'gate', 'v7.1', '--timeout', '1s');
    expect(gate.code).toBe(2);
    expect(gate.out).toContain('red_flag: red flag #1 is up');
  });
});
