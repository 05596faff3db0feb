import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/domain/audit.js';
import type { Release } from '../../src/domain/release.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { current, requiredItemIds, template, tickAll, waitForHeader, waitForPhase } from '../e2e/helpers.js';
import { viewItem } from '../support/app-harness.js';
import { ProcessCluster, type ShipcheckProcess } from '../support/process-harness.js';
import { TestRedisServer } from '../support/redis-server.js';
import { createActionTs, createBlockActions, SLACK_TEAM } from '../support/slack-requests.js';
import { SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';

// Redis is SIGKILLed under load and started again on the same port, with its append-only file
// (appendfsync everysec). shipcheck's processes are not told: they reconnect by themselves.
//
// Redis's own durability window: with everysec Redis fsyncs the AOF once a second, so a crash may
// lose up to about a second of acknowledged writes; and while an fsync is still running, Redis holds
// back the write itself for up to 2 s (flushAppendOnlyFile in aof.c), so a SIGKILL then loses what it
// held. Writes acknowledged within FSYNC_WINDOW_MS before the kill may therefore be lost; anything
// older must be there. The tests allow exactly that and nothing more.
const FSYNC_WINDOW_MS = 2000;

const TRY_AGAIN = /can't reach its database right now, so nothing was changed\. Please try again/;

let redis: TestRedisServer | undefined;
let cluster: ProcessCluster | undefined;
let standIn: SlackStandIn | undefined;
afterEach(async () => {
  // A process drains against Redis on SIGTERM: bring Redis back if a failed test left it down.
  await redis?.run();
  await cluster?.stop();
  await standIn?.stop();
  await redis?.stop();
  redis = undefined;
  cluster = undefined;
  standIn = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startBot(env: Record<string, string> = {}) {
  redis = await TestRedisServer.start({ appendOnly: true });
  standIn = await SlackStandIn.start();
  // A short drain keeps afterEach quick should a test fail while Redis is away.
  cluster = new ProcessCluster(standIn, { REDIS_URL: redis.url, SHUTDOWN_TIMEOUT_MS: '3000', ...env });
  // One after the other: the first process started is the one Slack's requests go to.
  const web = await cluster.start({ SHIPCHECK_ROLE: 'web' });
  const worker = await cluster.start({ SHIPCHECK_ROLE: 'worker' });
  return { redis, standIn, cluster, web, worker };
}

/** Resolves once /readyz says Redis and the queues answer again; nothing but the process itself reconnects. */
async function waitUntilReady(run: ShipcheckProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await fetch(`${run.baseUrl}/readyz`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(100);
  }
  throw new Error(`process on port ${run.port} not ready after Redis came back:\n${run.output()}`);
}

/** The process's JSON log lines with the given message. */
function logLines(run: ShipcheckProcess, msg: string): Record<string, unknown>[] {
  return run
    .output()
    .split('\n')
    .filter((line) => line.includes(`"msg":"${msg}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function readRelease(server: TestRedisServer, prefix: string, version: string) {
  const client = new Redis(server.url);
  try {
    const store = new ReleaseStore(client, prefix);
    const [release] = await store.findByVersion(SLACK_TEAM.id, version);
    if (!release) throw new Error(`no release ${version}`);
    return { release, audit: await store.readAudit(SLACK_TEAM.id, release.id) };
  } finally {
    client.disconnect();
  }
}

interface Click {
  itemId: string;
  done: boolean;
  /** Every click comes from a user of its own, so the audit event and log line it caused name it. */
  user: string;
  responseTag: string;
  sentAt: number;
  status: number;
}

/** The block_actions payload of one checkbox click on the message as the user sees it, stale or not. */
function checkboxClick(
  message: StoredMessage,
  itemId: string,
  done: boolean,
  user: string,
  responseUrl: string,
) {
  const block = message.blocks.find((candidate) => candidate.accessory?.action_id?.endsWith(`|${itemId}`));
  const checkbox = block?.accessory;
  if (!block?.block_id || !checkbox?.action_id || !checkbox.options)
    throw new Error(`item ${itemId} has no checkbox`);
  return createBlockActions({
    message: message as never,
    user,
    responseUrl,
    actions: [
      {
        type: 'checkboxes',
        block_id: block.block_id,
        action_id: checkbox.action_id,
        selected_options: done ? checkbox.options : [],
        action_ts: createActionTs(),
      },
    ],
  });
}

describe('Redis killed in the middle of a click burst', () => {
  it('keeps every click acknowledged before the kill, says "try again" during the outage, and reconnects by itself', async () => {
    const { redis, standIn, cluster, web, worker } = await startBot();
    await cluster.command('start v2.0 development standard');
    const header = await waitForHeader(cluster, 'v2.0 → development');
    const phase = await waitForPhase(cluster, header, 'Planning');
    // Twelve items take the clicks; the others stay open, so the phase never completes mid-test.
    const itemIds = template('standard')
      .phases[0]!.items.slice(0, 12)
      .map((item) => item.id);

    const clicks: Click[] = [];
    let clickCount = 0;
    const send = async (itemId: string, done: boolean) => {
      clickCount += 1;
      const click: Click = {
        itemId,
        done,
        user: `U0CLICK${String(clickCount).padStart(4, '0')}`,
        responseTag: `click-${clickCount}`,
        sentAt: Date.now(),
        status: 0,
      };
      clicks.push(click);
      const payload = checkboxClick(
        current(cluster, phase),
        itemId,
        done,
        click.user,
        standIn.responseUrl(click.responseTag),
      );
      click.status = await cluster.interact(payload).then(
        (response) => response.status,
        () => -1,
      );
    };

    // Each item is clicked on and off again and again, one click at a time, at random intervals.
    let bursting = true;
    const lastSent = new Map<string, boolean>();
    const burst = Promise.all(
      itemIds.map(async (itemId) => {
        let done = true;
        while (bursting) {
          await send(itemId, done);
          lastSent.set(itemId, done);
          done = !done;
          await sleep(150 + Math.random() * 300);
        }
      }),
    );
    await sleep(3500);
    const killAt = Date.now();
    await redis.kill();
    const killedAt = Date.now();
    await sleep(1500);
    bursting = false;
    await burst;

    // Every click sent while Redis was away is answered before Redis comes back.
    const outage = clicks.filter((click) => click.sentAt >= killedAt);
    expect(outage.length, 'clicks during the outage').toBeGreaterThan(0);
    await standIn.waitFor(
      () => outage.every((click) => standIn.responsesTo(click.responseTag).length > 0),
      5000,
      'an answer to every click during the outage',
    );

    await redis.run();
    await waitUntilReady(web);
    await waitUntilReady(worker);
    // One more click on every item once the bot is ready again.
    const finalRoundFrom = clicks.length;
    await Promise.all(itemIds.map((itemId) => send(itemId, !lastSent.get(itemId))));
    const finalRound = clicks.slice(finalRoundFrom);

    const { release, audit } = await readRelease(redis, cluster.prefix, 'v2.0');
    // The sync worker is back too: Slack ends up showing what Redis holds.
    await standIn.waitFor(
      () =>
        itemIds.every(
          (itemId) =>
            viewItem(current(cluster, phase), itemId)?.ticked === (release.items[itemId]?.done ?? false),
        ),
      10_000,
      'the checklist message showing the stored state',
    );
    // Each click's answer (if any) has had time to arrive since its handler finished.
    await sleep(300);

    checkClicks({ clicks, finalRound, outage, release, audit, web, standIn, itemIds, killAt, killedAt });
  }, 60_000);
});

describe('Redis killed while check-ins are pending', () => {
  it('posts each check-in exactly once, the one that came due during the outage included', async () => {
    const { redis, standIn, cluster, web, worker } = await startBot({ CHECKIN_SCHEDULE: '4s,8s' });
    await cluster.command('start v1.0 staging minimal');
    const header = await waitForHeader(cluster, 'v1.0 → staging');
    for (const [phaseIndex, phase] of template('minimal').phases.slice(0, 2).entries()) {
      const message = await waitForPhase(cluster, header, phase.name);
      await tickAll(cluster, message, requiredItemIds('minimal', phaseIndex));
    }
    // The relay of whichever process got to the deploy's event first plans them.
    const planned = await standIn.waitFor(
      () => [...logLines(web, 'check-ins planned'), ...logLines(worker, 'check-ins planned')][0],
      5000,
      'check-ins planned',
    );
    const plannedAt = Number(planned.time);
    const checkins = (number: number) =>
      standIn
        .messages(header.channel)
        .filter(
          (message) => message.thread_ts === header.ts && message.text.startsWith(`Check-in ${number}:`),
        );

    // The check-ins were written longer ago than Redis's durability window when it dies.
    await sleep(plannedAt + FSYNC_WINDOW_MS + 500 - Date.now());
    await redis.kill();
    expect(checkins(1), 'no check-in before the kill').toHaveLength(0);
    // The first check-in comes due while Redis is away; the second after it is back.
    await sleep(plannedAt + 5000 - Date.now());
    const restartedAt = Date.now();
    await redis.run();
    await waitUntilReady(web);
    await waitUntilReady(worker);

    const postedEvents = async () =>
      (await readRelease(redis, cluster.prefix, 'v1.0')).audit.filter(
        (event) => event.type === 'checkin_posted',
      );
    const deadline = Date.now() + 15_000;
    while ((await postedEvents()).length < 2 && Date.now() < deadline) await sleep(100);
    // Room for a double post to show before counting.
    await sleep(1000);
    expect(checkins(1)).toHaveLength(1);
    expect(checkins(2)).toHaveLength(1);
    expect((await postedEvents()).map((event) => event.checkinIndex)).toEqual([0, 1]);
    const { release } = await readRelease(redis, cluster.prefix, 'v1.0');
    expect(release.checkins[0]!.dueAt, 'check-in 1 due before Redis was back').toBeLessThan(restartedAt);
  }, 60_000);
});

function checkClicks(run: {
  clicks: Click[];
  finalRound: Click[];
  outage: Click[];
  release: Release;
  audit: AuditEvent[];
  web: ShipcheckProcess;
  standIn: SlackStandIn;
  itemIds: string[];
  killAt: number;
  killedAt: number;
}): void {
  const { clicks, release, audit, standIn } = run;
  const itemEvents = audit.filter((event) => event.type === 'ticked' || event.type === 'unticked');
  const eventsBy = new Map<string, AuditEvent[]>();
  for (const event of itemEvents) eventsBy.set(event.user, [...(eventsBy.get(event.user) ?? []), event]);
  // "Acknowledged with success": the web process logged that the store applied the click.
  const acknowledgedAt = new Map<string, number>();
  for (const line of [...logLines(run.web, 'item ticked'), ...logLines(run.web, 'item unticked')])
    acknowledgedAt.set(String(line.userId), Number(line.time));
  const told = (click: Click) =>
    standIn.responsesTo(click.responseTag).some((response) => TRY_AGAIN.test(JSON.stringify(response.body)));

  // Slack always got its answer within the request, whether Redis was there or not.
  expect(clicks.filter((click) => click.status !== 200)).toEqual([]);
  // Every tick and untick in the audit trail comes from one click, and no click counts twice.
  const clickUsers = new Set(clicks.map((click) => click.user));
  expect(itemEvents.filter((event) => !clickUsers.has(event.user))).toEqual([]);
  for (const click of clicks) {
    const events = eventsBy.get(click.user) ?? [];
    expect(events.length, `audit events of ${click.user}`).toBeLessThanOrEqual(1);
    if (events[0])
      expect([events[0].itemId, events[0].to]).toEqual([click.itemId, click.done ? 'done' : 'open']);
    // The bot never says "nothing was changed" about a change it made.
    if (acknowledgedAt.has(click.user))
      expect(told(click), `${click.user} acknowledged and told`).toBe(false);
  }

  // Acknowledged before Redis's durability window opened: kept, every one.
  const durable = clicks.filter(
    (click) => (acknowledgedAt.get(click.user) ?? Infinity) < run.killAt - FSYNC_WINDOW_MS,
  );
  expect(durable.length, 'clicks acknowledged before the fsync window').toBeGreaterThan(0);
  for (const click of durable) expect(eventsBy.get(click.user), `${click.user} kept`).toHaveLength(1);

  // Sent while Redis was down: "try again", and nothing changed.
  for (const click of run.outage) {
    expect(told(click), `${click.user} told to try again`).toBe(true);
    expect(eventsBy.get(click.user), `${click.user} changed nothing`).toBeUndefined();
    expect(acknowledgedAt.has(click.user)).toBe(false);
  }
  // Once the bot says it is ready again, every click is taken.
  for (const click of run.finalRound) expect(told(click), `${click.user} after the restart`).toBe(false);

  // Replays each item's clicks in the order they were sent: what the clicks imply is what is stored.
  for (const itemId of run.itemIds) {
    let done = false;
    for (const click of clicks.filter((candidate) => candidate.itemId === itemId)) {
      const applied = eventsBy.has(click.user);
      const acknowledged = acknowledgedAt.get(click.user);
      if (applied) {
        expect(click.done, `${click.user} changed ${itemId}`).not.toBe(done);
        done = click.done;
      } else if (told(click)) {
        // Told to try again: changed nothing. (A click in flight at the kill instant may have run in
        // Redis with its reply lost; then it shows up as applied above, never acknowledged.)
      } else if (acknowledged !== undefined) {
        // Acknowledged, yet not in Redis: only Redis's own window may lose it.
        expect(acknowledged, `${click.user} lost outside the fsync window`).toBeGreaterThanOrEqual(
          run.killAt - FSYNC_WINDOW_MS,
        );
        expect(acknowledged).toBeLessThanOrEqual(run.killedAt);
      } else {
        // Neither applied nor refused: only a click asking for the state the item already had.
        expect(click.done, `${click.user} on ${itemId} silently lost`).toBe(done);
      }
    }
    expect(release.items[itemId]?.done ?? false, `${itemId} stored`).toBe(done);
  }
}
