import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ReleaseStore } from '../../src/store/release-store.js';
import { headerText, viewItem } from '../support/app-harness.js';
import { ProcessCluster } from '../support/process-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { SlackStandIn } from '../support/slack-stand-in.js';
import {
  answerCheckinsHealthy,
  current,
  requiredItemIds,
  template,
  tickAll,
  waitForHeader,
  waitForPhase,
} from './helpers.js';

// Several shipcheck processes on one Redis, and SIGTERM in the middle of work.

let cluster: ProcessCluster | undefined;
let standIn: SlackStandIn | undefined;
afterEach(async () => {
  await cluster?.stop();
  await standIn?.stop();
  cluster = undefined;
  standIn = undefined;
});

describe('scaling out', () => {
  it('runs a release end to end with one web and two worker processes, posting every message once', async () => {
    standIn = await SlackStandIn.start();
    cluster = new ProcessCluster(standIn);
    const quick = { CHECKIN_SCHEDULE: '1s' };
    const web = await cluster.start({ SHIPCHECK_ROLE: 'web', ...quick });
    // One worker gets its role from the environment, the other from its command line, as on Fly.io.
    const workers = [
      await cluster.start({ SHIPCHECK_ROLE: 'worker', ...quick }),
      await cluster.start(quick, ['worker']),
    ];

    await cluster.command('start v1.0 staging minimal');
    const header = await waitForHeader(cluster, 'v1.0 → staging');
    for (const [phaseIndex, phase] of template('minimal').phases.entries()) {
      const message = await waitForPhase(cluster, header, phase.name);
      await tickAll(cluster, message, requiredItemIds('minimal', phaseIndex));
    }
    await answerCheckinsHealthy(cluster, header);

    // The release header is the one top-level message with the title; the retrospective draft that
    // follows the release's end also names it, in the thread.
    const headers = standIn
      .messages()
      .filter((message) => !message.thread_ts && headerText(message).includes('v1.0 → staging'));
    expect(headers).toHaveLength(1);
    const threadMessages = standIn.messages().filter((message) => message.thread_ts === header.ts);
    expect(threadMessages.filter((message) => message.text.startsWith('Check-in 1:'))).toHaveLength(1);
    // Each phase once; the retrospective draft that follows the release's end is the thread's other header.
    expect(threadMessages.map(headerText).filter((text) => /^\d+\/4 · /.test(text))).toEqual(
      template('minimal').phases.map((phase, index) => `${index + 1}/4 · ${phase.name}`),
    );
    // Only workers talk to Slack's Web API for posts; the web process answers requests.
    expect(web.output()).not.toContain('"msg":"message posted"');
    expect(workers.map((worker) => worker.output()).join('')).toContain('"msg":"message posted"');
    expect(await cluster.stop()).toEqual([0, 0, 0]);
  });
});

describe('graceful shutdown', () => {
  it('keeps every acknowledged click and flushes its message update when SIGTERM lands mid-burst', async () => {
    standIn = await SlackStandIn.start();
    cluster = new ProcessCluster(standIn);
    const run = await cluster.start();
    await cluster.command('start v2.0 staging standard');
    const header = await waitForHeader(cluster, 'v2.0 → staging');
    const phase = await waitForPhase(cluster, header, 'Planning');
    const view = current(cluster, phase);
    // Slow updates keep the final flush honest: it has to wait for Slack.
    standIn.misbehave('chat.update', { kind: 'slow', delayMs: 300 });

    const itemIds = template('standard').phases[0]!.items.map((item) => item.id);
    const outcomes = await Promise.all(
      itemIds.map(async (itemId, index) => {
        await new Promise((resolve) => setTimeout(resolve, index * 15));
        if (index === Math.floor(itemIds.length / 2)) run.child.kill('SIGTERM');
        return cluster!.interact(cluster!.tickPayload(view, itemId, true, 'U0BURST')).then(
          (response) => ({ itemId, acked: response.status === 200 }),
          () => ({ itemId, acked: false }),
        );
      }),
    );
    expect(await run.exited).toBe(0);

    const acked = outcomes.filter((outcome) => outcome.acked).map((outcome) => outcome.itemId);
    expect(acked.length).toBeGreaterThan(0);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const store = new ReleaseStore(redis, cluster.prefix);
      const [release] = await store.findByVersion('T0001', 'v2.0');
      const audit = await store.readAudit('T0001', release!.id);
      for (const itemId of acked) {
        expect(release!.items[itemId]?.done, `acked tick of ${itemId} kept`).toBe(true);
        expect(audit.filter((event) => event.type === 'ticked' && event.itemId === itemId)).toHaveLength(1);
      }
    } finally {
      await redis.quit();
    }
    // The update queued before the stop reached Slack before the process exited.
    const shown = current(cluster, phase);
    for (const itemId of acked) expect(viewItem(shown, itemId)?.ticked, `${itemId} shown ticked`).toBe(true);
    expect(run.output()).toContain('"msg":"shipcheck stopped"');
  });
});
