import { afterEach, describe, expect, it } from 'vitest';
import { blockTexts, viewItem } from '../support/app-harness.js';
import { ProcessCluster, type ShipcheckProcess } from '../support/process-harness.js';
import { clickButton } from '../support/slack-requests.js';
import { SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';
import {
  current,
  repliesTo,
  requiredItemIds,
  template,
  tickAll,
  waitForHeader,
  waitForPhase,
} from './helpers.js';

// A process is SIGKILLed at the exact moment the brief worries about: Redis has committed the change
// and its audit event, and nothing that follows from it has been queued yet (the crash seam in
// test/support/crash-after-commit.ts). Nobody touches the release again. Another instance (already
// running, or started after the crash) must complete every follow-up from the record by itself.

const STAKEHOLDERS = 'C0STAKE';
const CRASH_SEAM = ['--import', './test/support/crash-after-commit.ts'];
/** How long the survivors get to repair everything: well inside "within a few seconds". */
const REPAIR_MS = 8000;
const deployPhase = template('minimal').phases.findIndex((phase) => phase.deployment);

let standIn: SlackStandIn | undefined;
let cluster: ProcessCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  await standIn?.stop();
  cluster = undefined;
  standIn = undefined;
});

async function startCluster(): Promise<{ slack: SlackStandIn; procs: ProcessCluster }> {
  standIn = await SlackStandIn.start();
  cluster = new ProcessCluster(standIn, {
    STAKEHOLDER_CHANNEL: STAKEHOLDERS,
    CHECKIN_SCHEDULE: '2s',
    SHUTDOWN_TIMEOUT_MS: '3000',
  });
  return { slack: standIn, procs: cluster };
}

/** The app as the crashing process sees it; after the crash, requests go to `via`. */
function through(procs: ProcessCluster, via: () => ShipcheckProcess) {
  return {
    standIn: procs.standIn,
    command: (text: string) => procs.command(text, {}, {}, via()),
    interact: (payload: object) => procs.interact(payload, {}, via()),
    tickPayload: procs.tickPayload.bind(procs),
  };
}

async function crashed(run: ShipcheckProcess): Promise<void> {
  await run.exited;
  expect(run.child.signalCode).toBe('SIGKILL');
  expect(run.output()).toContain('"msg":"crash seam fired"');
}

/** Stakeholder posts whose text says this. */
function announced(slack: SlackStandIn, words: string): StoredMessage[] {
  return slack.messages(STAKEHOLDERS).filter((message) => message.text.includes(words));
}

/** Ticks the phases before `lastPhase`, and every required item of `lastPhase` but its last one. */
async function tickUpTo(
  app: ReturnType<typeof through>,
  header: StoredMessage,
  lastPhase: number,
): Promise<{ message: StoredMessage; lastItem: string }> {
  for (let phaseIndex = 0; phaseIndex < lastPhase; phaseIndex++) {
    const message = await waitForPhase(app, header, template('minimal').phases[phaseIndex]!.name);
    await tickAll(app, message, requiredItemIds('minimal', phaseIndex));
  }
  const message = await waitForPhase(app, header, template('minimal').phases[lastPhase]!.name);
  const items = requiredItemIds('minimal', lastPhase);
  await tickAll(app, message, items.slice(0, -1));
  // Let the crashing process finish the work of the ticks before, so it dies holding nothing else.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { message, lastItem: items.at(-1)! };
}

describe('a process killed between a commit and its follow-ups', () => {
  it('deploy: a running instance shows the tick, announces the deploy and posts the check-in', async () => {
    const { slack, procs } = await startCluster();
    const doomed = await procs.start({ SHIPCHECK_CRASH_AFTER: 'deploy' }, [], CRASH_SEAM);
    const survivor = await procs.start();
    const app = through(procs, () => doomed);

    await app.command('start v1.0 staging minimal');
    const header = await waitForHeader(app, 'v1.0 → staging');
    const { message, lastItem } = await tickUpTo(app, header, deployPhase);
    await app.interact(app.tickPayload(current(app, message), lastItem, true)).catch(() => undefined);
    await crashed(doomed);

    const repaired = Date.now();
    await slack.waitFor(
      () =>
        viewItem(current(app, message), lastItem)?.ticked &&
        announced(slack, 'v1.0 is live in staging').length === 1 &&
        slack
          .messages(header.channel)
          .some((posted) => posted.thread_ts === header.ts && posted.text.startsWith('Check-in 1:')),
      REPAIR_MS,
      'the deploy shown, announced and its check-in posted',
    );
    console.log(`deploy repaired by the running instance in ${Date.now() - repaired} ms`);
    // Nothing twice, while the survivor goes on.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(announced(slack, 'v1.0 is live in staging')).toHaveLength(1);
    expect(
      slack.messages(header.channel).filter((posted) => posted.text.startsWith('Check-in 1:')),
    ).toHaveLength(1);
    expect(survivor.output()).toContain('"msg":"check-in posted"');
  });

  it('completion: the instance started again shows it, announces it and shares the log', async () => {
    const { slack, procs } = await startCluster();
    const doomed = await procs.start(
      { SHIPCHECK_CRASH_AFTER: 'complete', CHECKIN_SCHEDULE: '1s' },
      [],
      CRASH_SEAM,
    );
    let restarted: ShipcheckProcess | undefined;
    const app = through(procs, () => restarted ?? doomed);

    await app.command('start v2.0 staging minimal');
    const header = await waitForHeader(app, 'v2.0 → staging');
    const phases = template('minimal').phases;
    const { message, lastItem } = await tickUpTo(app, header, phases.length - 1);
    await app.interact(app.tickPayload(current(app, message), lastItem, true));
    // The last phase is done; the release completes when its check-in is answered healthy.
    const checkin = await slack.waitFor(
      () =>
        slack
          .messages(header.channel)
          .find((posted) => posted.thread_ts === header.ts && posted.text.startsWith('Check-in 1:')),
      8000,
      'the check-in',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const actionId = JSON.stringify(checkin.blocks).match(/"action_id":"(checkin\.healthy\|[^"]+)"/)?.[1];
    await app.interact(clickButton(checkin as never, { actionId: actionId! })).catch(() => undefined);
    await crashed(doomed);

    restarted = await procs.start();
    const repaired = Date.now();
    await slack.waitFor(
      () =>
        blockTexts(current(app, header)).some((text) => text.includes('✅ Completed')) &&
        announced(slack, 'v2.0 on staging is complete').length === 1 &&
        slack.files.filter((file) => file.completed).length === 2 &&
        slack.messages(header.channel).some((posted) => posted.text.includes('Draft retrospective')),
      REPAIR_MS,
      'the completion shown, announced, its log shared and its retrospective drafted',
    );
    console.log(`completion repaired by the restarted instance in ${Date.now() - repaired} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(announced(slack, 'v2.0 on staging is complete')).toHaveLength(1);
    expect(slack.files.filter((file) => file.completed)).toHaveLength(2);
  });

  it('cancel: the instance started again shows it, announces it, shares the log and answers the canceller', async () => {
    const { slack, procs } = await startCluster();
    const doomed = await procs.start({ SHIPCHECK_CRASH_AFTER: 'cancel' }, [], CRASH_SEAM);
    let restarted: ShipcheckProcess | undefined;
    const app = through(procs, () => restarted ?? doomed);

    await app.command('start v3.0 staging minimal');
    const header = await waitForHeader(app, 'v3.0 → staging');
    const first = await waitForPhase(app, header, template('minimal').phases[0]!.name);
    await announcedOnce(slack, 'v3.0 for staging is being prepared');
    const cancel = await procs
      .command('cancel v3.0 staging The vendor moved the window', {}, {}, doomed)
      .catch(() => undefined);
    await crashed(doomed);

    restarted = await procs.start();
    const repaired = Date.now();
    await slack.waitFor(
      () =>
        blockTexts(current(app, header)).some((text) => /cancelled/i.test(text)) &&
        viewItem(current(app, first), requiredItemIds('minimal', 0)[0]!)?.clickable === false &&
        announced(slack, 'v3.0 for staging was cancelled').length === 1 &&
        slack.files.filter((file) => file.completed).length === 2 &&
        (cancel
          ? repliesTo(app, cancel.responseTag).some((text) => text.startsWith('Cancelled v3.0'))
          : true),
      REPAIR_MS,
      'the cancellation shown, announced, its log shared and the canceller answered',
    );
    console.log(`cancellation repaired by the restarted instance in ${Date.now() - repaired} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(announced(slack, 'v3.0 for staging was cancelled')).toHaveLength(1);
    if (cancel)
      expect(repliesTo(app, cancel.responseTag).filter((text) => text.startsWith('Cancelled'))).toHaveLength(
        1,
      );
  });
});

async function announcedOnce(slack: SlackStandIn, words: string): Promise<void> {
  await slack.waitFor(() => announced(slack, words).length === 1, 5000, `"${words}" announced`);
}
