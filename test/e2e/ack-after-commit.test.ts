import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { ReleaseStore } from '../../src/store/release-store.js';
import { ProcessCluster } from '../support/process-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import type { PostResult } from '../support/slack-requests.js';
import { SLACK_TEAM } from '../support/slack-requests.js';
import { SlackStandIn } from '../support/slack-stand-in.js';
import { plainItemIds, template, waitForHeader, waitForPhase } from './helpers.js';

// An acknowledged click is an applied click: a burst of clicks goes to one process, which is
// SIGKILLed as soon as the first of them is acknowledged. Every click Slack got a 200 for must be in
// the record; a click whose process died before answering may or may not be (Slack shows the person
// an error for it and they click again).

let standIn: SlackStandIn | undefined;
let cluster: ProcessCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  await standIn?.stop();
  cluster = undefined;
  standIn = undefined;
});

it('keeps every click that was acknowledged when the process dies mid-burst', async () => {
  standIn = await SlackStandIn.start();
  cluster = new ProcessCluster(standIn, { SHUTDOWN_TIMEOUT_MS: '3000' });
  const doomed = await cluster.start();
  const phaseName = template('minimal').phases[0]!.name;
  const messages = [];
  for (const version of ['v1.0', 'v2.0', 'v3.0']) {
    await cluster.command(`start ${version} staging minimal`);
    messages.push(
      await waitForPhase(cluster, await waitForHeader(cluster, `${version} → staging`), phaseName),
    );
  }
  // Items that record a value are ticked through a form, not one click; the burst is of plain ticks.
  const items = plainItemIds('minimal', 0);
  const clicks = messages.flatMap((message, release) =>
    items.map((itemId, index) => ({ message, itemId, user: `U0CLICK${release}${index}` })),
  );

  const answers: (PostResult | undefined)[] = clicks.map(() => undefined);
  let firstAcknowledged: () => void = () => undefined;
  const acknowledged = new Promise<void>((resolve) => {
    firstAcknowledged = resolve;
  });
  const sent = clicks.map(({ message, itemId, user }, index) =>
    cluster!
      .interact(cluster!.tickPayload(message, itemId, true, user))
      .then((answer) => {
        answers[index] = answer;
        if (answer.status === 200) firstAcknowledged();
      })
      .catch(() => undefined),
  );
  await acknowledged;
  doomed.child.kill('SIGKILL');
  await Promise.all(sent);
  await doomed.exited;

  const redis = new Redis(TEST_REDIS_URL);
  try {
    const store = new ReleaseStore(redis, cluster.prefix);
    const ticked = new Set<string>();
    for (const release of await store.listActive(SLACK_TEAM.id)) {
      for (const event of await store.readAudit(SLACK_TEAM.id, release.id)) {
        if (event.type === 'ticked') ticked.add(`${event.user}|${event.itemId}`);
      }
    }
    const ok = clicks.filter((_click, index) => answers[index]?.status === 200);
    const lost = ok.filter(({ user, itemId }) => !ticked.has(`${user}|${itemId}`));
    const unanswered = clicks.length - ok.length;
    console.log(
      `clicks ${clicks.length}: acknowledged ${ok.length} (applied ${ok.length - lost.length}, lost ${lost.length}), ` +
        `unanswered ${unanswered} (applied anyway ${clicks.filter((click, index) => answers[index]?.status !== 200 && ticked.has(`${click.user}|${click.itemId}`)).length})`,
    );
    expect(ok.length).toBeGreaterThan(0);
    expect(lost).toEqual([]);
  } finally {
    redis.disconnect();
  }
});
