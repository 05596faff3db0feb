import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { ReleaseStore } from '../../src/store/release-store.js';
import { requiredItemIds, template, tickAll, waitForHeader, waitForPhase } from '../e2e/helpers.js';
import { ProcessCluster, type ShipcheckProcess } from '../support/process-harness.js';
import { TestRedisServer } from '../support/redis-server.js';
import { SLACK_TEAM } from '../support/slack-requests.js';
import { SlackStandIn } from '../support/slack-stand-in.js';

// A worker is SIGKILLed while Slack is still answering its check-in post: Slack has the message, the
// worker never learns its ts. Another worker takes the job over and finishes it without posting again.
//
// How long that takes is the app's own timing, with nothing shortened for the test:
// - BullMQ hands the dead worker's job on once its lock has lapsed (5 s after its last renewal) and a
//   stalled check (every 2 s in each worker) has seen it (src/jobs/instrumented-worker.ts);
// - the next attempt finds the dead attempt's delivery lease (src/slack-api/delivery.ts, 5 s after its
//   last renewal) lapsed too, and looks in Slack for the message before posting.
// The promise: the check-in is in Slack, recorded, within 10 s of the worker's death.
const TAKEOVER_MS = 10_000;
const TAKEOVER_TIMEOUT_MS = 60_000;
/** Slack holds the post this long: the worker dies while Slack is still working on it. */
const SLOW_POST_MS = 3000;

let redis: TestRedisServer | undefined;
let cluster: ProcessCluster | undefined;
let standIn: SlackStandIn | undefined;
afterEach(async () => {
  await cluster?.stop();
  await standIn?.stop();
  await redis?.stop();
  redis = undefined;
  cluster = undefined;
  standIn = undefined;
});

function logLines(run: ShipcheckProcess, msg: string): Record<string, unknown>[] {
  return run
    .output()
    .split('\n')
    .filter((line) => line.includes(`"msg":"${msg}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

it(
  'posts the check-in exactly once when the worker posting it is killed mid-post',
  async () => {
    const server = await TestRedisServer.start({ appendOnly: true });
    redis = server;
    const slack = await SlackStandIn.start();
    standIn = slack;
    cluster = new ProcessCluster(slack, {
      REDIS_URL: server.url,
      CHECKIN_SCHEDULE: '2s',
      // A short drain keeps afterEach quick whatever state a failed test left behind.
      SHUTDOWN_TIMEOUT_MS: '3000',
    });
    await cluster.start({ SHIPCHECK_ROLE: 'web' });
    const doomed = await cluster.start({ SHIPCHECK_ROLE: 'worker' });

    await cluster.command('start v1.0 staging minimal');
    const header = await waitForHeader(cluster, 'v1.0 → staging');
    for (const [phaseIndex, phase] of template('minimal').phases.slice(0, 2).entries()) {
      const message = await waitForPhase(cluster, header, phase.name);
      await tickAll(cluster, message, requiredItemIds('minimal', phaseIndex));
    }
    // Deployed: the next post is the check-in. Slack takes its time to answer it.
    slack.misbehave('chat.postMessage', { kind: 'slow', delayMs: SLOW_POST_MS }, 1);
    const slowPost = await slack.waitFor(
      () => slack.callsTo('chat.postMessage').find((call) => call.misbehaviour === 'slow'),
      10_000,
      'the check-in post',
    );
    expect(String(slowPost.args.text)).toMatch(/^Check-in 1:/);

    // The worker to take over starts while the first is stuck in the post (only that one could have
    // taken the job), then the first dies without a chance to record anything.
    const successor = await cluster.start({ SHIPCHECK_ROLE: 'worker' });
    expect(
      slack.messages(header.channel).filter((message) => message.thread_ts === header.ts),
    ).not.toContainEqual(expect.objectContaining({ text: expect.stringMatching(/^Check-in 1:/) }));
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const killedAt = Date.now();

    const client = new Redis(server.url);
    try {
      const store = new ReleaseStore(client, cluster.prefix);
      const [release] = await store.findByVersion(SLACK_TEAM.id, 'v1.0');
      if (!release) throw new Error('release v1.0 not found');
      const postedEvents = async () =>
        (await store.readAudit(SLACK_TEAM.id, release.id)).filter((event) => event.type === 'checkin_posted');
      const deadline = Date.now() + TAKEOVER_TIMEOUT_MS;
      while ((await postedEvents()).length === 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const takeoverMs = Date.now() - killedAt;
      console.log(`check-in taken over and recorded ${takeoverMs} ms after the worker was killed`);
      expect(takeoverMs).toBeLessThanOrEqual(TAKEOVER_MS);
      // Room for a second post to show before counting.
      await new Promise((resolve) => setTimeout(resolve, 1000));

      const checkins = slack
        .messages(header.channel)
        .filter((message) => message.thread_ts === header.ts && message.text.startsWith('Check-in 1:'));
      expect(checkins).toHaveLength(1);
      expect((await postedEvents()).map((event) => event.checkinIndex)).toEqual([0]);
      // The successor found the message the dead worker had sent, rather than posting it again.
      expect(logLines(successor, 'check-in posted')).toEqual([
        expect.objectContaining({ ts: checkins[0]!.ts, posted: false }),
      ]);
      expect(logLines(doomed, 'check-in posted')).toEqual([]);
      expect(
        slack.callsTo('chat.postMessage').filter((call) => /^Check-in 1:/.test(String(call.args.text))),
      ).toHaveLength(1);
      // Recorded as if the dead worker had finished: answers and the header find the message.
      const stored = await store.getRelease(SLACK_TEAM.id, release.id);
      expect(stored?.checkins[0]?.ts).toBe(checkins[0]!.ts);
    } finally {
      client.disconnect();
    }
  },
  TAKEOVER_TIMEOUT_MS + 30_000,
);
