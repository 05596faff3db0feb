import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ReleaseStore } from '../../src/store/release-store.js';
import { decodeItemActionId } from '../../src/views/ids.js';
import { waitForHeader, waitForPhase } from '../e2e/helpers.js';
import { tickPayload, viewItem } from '../support/app-harness.js';
import { ProcessCluster, type ShipcheckProcess } from '../support/process-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { type BlockActionsPayload, postInteraction, SLACK_TEAM } from '../support/slack-requests.js';
import { SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';
import { chaosSeed, createPrng, deriveSeed } from './prng.js';

// Clicks while processes die: three shipcheck processes on one Redis, people ticking checklist items
// of four releases, and processes killed by SIGKILL at random moments: by the test, by the crash seam
// right after a click was read and noted but before its commit was sent (the worst moment for the
// person: their Slack client shows the box ticked), and right after a commit before the answer. A dead
// process is replaced at once.
//
// What must hold: every click Slack got a 200 for is in the record (none acknowledged and lost), and
// every click shipcheck read and did not apply is put back (its phase redrawn with new block ids) and
// explained to its person, once. A click whose process died before reading it leaves no trace in
// shipcheck: Slack itself shows that person an error. Such clicks are counted, and each must have gone
// to a process that was killed. A click sent to a process already gone is sent to another, as a load
// balancer does with a refused connection.

const INSTANCE_COUNT = 3;
const RELEASES = ['v1.0', 'v2.0', 'v3.0', 'v4.0'];
const ITEM_COUNT = 30;
const ITEM_IDS = Array.from(
  { length: ITEM_COUNT },
  (_, index) => `task-${String(index + 1).padStart(2, '0')}`,
);
/** Clicks in flight at once. */
const CONCURRENCY = 6;
/** Mean time between the test's own kills while people click. */
const KILL_MEAN_MS = 2500;
const PRELOAD = ['--import', './test/support/crash-after-commit.ts'];
/** Long enough for a lost click to be claimed (10 s after it was read) and its notice to go out. */
const SETTLE_DEADLINE_MS = 60_000;
const TEAM_ID = SLACK_TEAM.id;

const TEMPLATE = [
  'id: clicks',
  'name: Clicks',
  'phases:',
  '  - id: work',
  '    name: Work',
  '    items:',
  ...ITEM_IDS.flatMap((id, index) => [`      - id: ${id}`, `        text: Task ${index + 1}`]),
  // Never clicked: it keeps each release active, so no click is refused for a closed release.
  '  - id: finish',
  '    name: Finish',
  '    items:',
  '      - id: signed-off',
  '        text: Signed off',
  '',
].join('\n');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Click {
  release: number;
  itemId: string;
  user: string;
  tag: string;
  requestId?: string;
  blockIdSent?: string;
  sentTo?: ShipcheckProcess;
  status?: number;
}

function itemBlockId(message: StoredMessage, itemId: string): string | undefined {
  const blocks = (message.blocks ?? []) as { block_id?: string; accessory?: { action_id?: string } }[];
  return blocks.find((block) => block.accessory?.action_id?.endsWith(`|${itemId}`))?.block_id;
}

let checklistsDir: string;
let standIn: SlackStandIn;
let cluster: ProcessCluster;
let redis: Redis;

beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-clicks-'));
  await writeFile(path.join(checklistsDir, 'clicks.yaml'), TEMPLATE);
  standIn = await SlackStandIn.start();
  cluster = new ProcessCluster(standIn, { CHECKLISTS_DIR: checklistsDir, SHUTDOWN_TIMEOUT_MS: '3000' });
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  await cluster?.stop();
  await standIn?.stop();
  await redis?.quit();
  await rm(checklistsDir, { recursive: true, force: true });
});

it('applies every acknowledged click, and puts back and explains every click it read and lost', async () => {
  const seed = chaosSeed();
  console.info(`clicks killed: seed ${seed} (CHAOS_SEED=${seed} replays this run's plan)`);
  const planner = createPrng(seed);
  let spawned = 0;
  // The first process dies at its first click, before the commit: the run always has a lost click.
  const spawn = () =>
    cluster.start(
      {
        SHIPCHECK_CRASH_BEFORE: spawned === 0 ? 'tick' : 'random:0.04',
        SHIPCHECK_CRASH_AFTER: 'random:0.02',
        SHIPCHECK_CRASH_SEED: String(deriveSeed(seed, ++spawned)),
      },
      [],
      PRELOAD,
    );
  const web = await cluster.start();
  const messages: StoredMessage[] = [];
  for (const version of RELEASES) {
    await cluster.command(`start ${version} staging clicks`, {}, {}, web);
    messages.push(await waitForPhase(cluster, await waitForHeader(cluster, `${version} → staging`), 'Work'));
  }
  await web.child.kill('SIGTERM');
  await web.exited;
  for (let index = 0; index < INSTANCE_COUNT; index++) await spawn();

  // Dead processes are replaced, and the test kills one now and then, until the clicking is over.
  let clicking = true;
  let kills = 0;
  const keepAlive = (async () => {
    while (clicking) {
      if (cluster.live.length < INSTANCE_COUNT) await spawn().catch(() => undefined);
      else await sleep(50);
    }
  })();
  const killer = (async () => {
    const random = createPrng(deriveSeed(seed, 0));
    while (clicking) {
      await sleep(random.exponential(KILL_MEAN_MS));
      const live = cluster.live;
      if (!clicking || live.length < 2) continue;
      random.pick(live).child.kill('SIGKILL');
      kills++;
    }
  })();

  const clicks: Click[] = planner
    .sample(
      RELEASES.flatMap((_version, release) => ITEM_IDS.map((itemId) => ({ release, itemId }))),
      RELEASES.length * ITEM_COUNT,
    )
    .map((click, index) => ({ ...click, user: `U0K${index}`, tag: `click-${index}` }));
  let next = 0;
  const send = async (click: Click) => {
    const message = standIn.message(messages[click.release]!.channel, messages[click.release]!.ts)!;
    const payload = tickPayload(message, click.itemId, true, click.user, standIn.responseUrl(click.tag));
    const action = (payload as BlockActionsPayload).actions[0]!;
    const { releaseId } = decodeItemActionId(action.action_id)!;
    click.requestId = `${click.user}-${action.action_ts}-${releaseId}-${click.itemId}`;
    click.blockIdSent = itemBlockId(message, click.itemId);
    // As a load balancer does, a connection refused (the process is gone) is tried on another one.
    for (;;) {
      while (cluster.live.length === 0) await sleep(20);
      click.sentTo = planner.pick(cluster.live);
      try {
        click.status = (
          await postInteraction(`${click.sentTo.baseUrl}/slack/events`, payload, {
            signingSecret: cluster.signingSecret,
          })
        ).status;
        return;
      } catch (err) {
        if ((err as { cause?: { code?: string } }).cause?.code !== 'ECONNREFUSED') return;
      }
    }
  };
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < clicks.length) {
        const click = clicks[next++]!;
        await send(click);
        await sleep(planner.int(1500));
      }
    }),
  );
  clicking = false;
  await killer;
  await keepAlive;
  while (cluster.live.length < INSTANCE_COUNT) await spawn().catch(() => undefined);

  const store = new ReleaseStore(redis, cluster.prefix);
  const releases = await Promise.all(
    RELEASES.map(async (version) => (await store.findByVersion(TEAM_ID, version))[0]!),
  );
  const markerOf = (click: Click) =>
    redis.get(store.keys.appliedRequest(TEAM_ID, `click:${click.requestId}`));
  const lostNotes = (click: Click) =>
    standIn
      .responsesTo(click.tag)
      .filter((response) => JSON.stringify(response.body).includes('was not saved'));

  // Settled: nothing pending, every read-and-lost click told, every item shown as stored.
  const settled = async () => {
    if ((await redis.zcard(store.keys.pendingClicks(TEAM_ID))) > 0) return false;
    for (const click of clicks) {
      if ((await markerOf(click)) === 'abandoned' && lostNotes(click).length === 0) return false;
    }
    for (const [index, release] of releases.entries()) {
      const stored = (await store.getRelease(TEAM_ID, release.id))!;
      const shown = standIn.message(messages[index]!.channel, messages[index]!.ts)!;
      for (const itemId of ITEM_IDS) {
        if ((viewItem(shown, itemId)?.ticked ?? false) !== (stored.items[itemId]?.done ?? false))
          return false;
      }
    }
    return true;
  };
  const deadline = Date.now() + SETTLE_DEADLINE_MS;
  while (!(await settled())) {
    if (Date.now() > deadline)
      throw new Error(`not settled in ${SETTLE_DEADLINE_MS} ms\n${standIn.describeCalls()}`);
    await sleep(250);
  }
  await sleep(1500);

  const ticked = new Set<string>();
  for (const [index, release] of releases.entries()) {
    for (const event of await store.readAudit(TEAM_ID, release.id)) {
      if (event.type === 'ticked') ticked.add(`${index}|${event.user}|${event.itemId}`);
    }
  }
  const applied = (click: Click) => ticked.has(`${click.release}|${click.user}|${click.itemId}`);
  const acknowledged = clicks.filter((click) => click.status === 200);
  const unanswered = clicks.filter((click) => click.status !== 200);
  const lostAfterAck = acknowledged.filter((click) => !applied(click));
  const putBack: Click[] = [];
  const neverRead: Click[] = [];
  for (const click of unanswered.filter((candidate) => !applied(candidate))) {
    if ((await markerOf(click)) === 'abandoned') putBack.push(click);
    else neverRead.push(click);
  }
  console.info(
    `clicks killed: ${clicks.length} clicks, ${kills} kills by the test, ${spawned} processes; ` +
      `acknowledged ${acknowledged.length} (lost ${lostAfterAck.length}), unanswered ${unanswered.length}: ` +
      `applied anyway ${unanswered.length - putBack.length - neverRead.length}, ` +
      `put back and told ${putBack.length}, never read ${neverRead.length}`,
  );

  expect(lostAfterAck.map((click) => click.tag)).toEqual([]);
  expect(putBack.length).toBeGreaterThan(0);
  for (const click of putBack) {
    expect(lostNotes(click), `${click.tag} told once`).toHaveLength(1);
    const shown = standIn.message(messages[click.release]!.channel, messages[click.release]!.ts)!;
    expect(itemBlockId(shown, click.itemId), `${click.tag} redrawn`).not.toBe(click.blockIdSent);
    expect(viewItem(shown, click.itemId)?.ticked, `${click.tag} shown unticked`).toBe(false);
  }
  for (const click of neverRead) {
    expect(click.sentTo!.child.signalCode, `${click.tag} went to a process that was killed`).toBe('SIGKILL');
    expect(lostNotes(click)).toEqual([]);
  }
  // Nobody whose click was applied is told it was lost.
  for (const click of clicks.filter(applied)) expect(lostNotes(click), click.tag).toEqual([]);
  // Nothing in the record twice.
  expect(ticked.size).toBe(clicks.filter(applied).length);
}, 240_000);
