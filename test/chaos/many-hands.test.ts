import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/domain/audit-chain.js';
import { SyncQueue } from '../../src/queues/sync-queue.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { waitForHeader, waitForPhase } from '../e2e/helpers.js';
import { blockTexts, tickPayload, viewItem } from '../support/app-harness.js';
import { ProcessCluster } from '../support/process-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { type BlockActionsPayload, postInteraction, SLACK_TEAM } from '../support/slack-requests.js';
import { SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';
import { chaosSeed, createPrng, deriveSeed, type Prng } from './prng.js';

// Many hands: three shipcheck processes on one Redis, 20 people clicking 2,000 times at random moments
// on one checklist, some from views that are out of date, some delivered twice as Slack retries do.
// Afterwards the items, the audit trail and what Slack shows must agree exactly with the clicks.
//
// What a click does (src/store/lua/set-item-9.lua): it sets the item to what the user's checkbox now
// shows, whatever else their view showed. It applies (changes the item and appends one audit event)
// only when the item is not in that state already; otherwise it changes nothing and writes nothing.
// Its request id is user + action_ts + item, so a retried delivery of the same click is a replay,
// and it never applies twice. A phase that is done stays clickable: unticking one of its items
// reopens it (and locks the phases after it again).
//
// Some deliveries are sent again with Slack's retry headers: at once (racing the first delivery, on
// another instance), after the first was acked, or late, after later clicks changed the item, where
// applying it again would visibly undo them.
//
// Each item's clicks go in waves: clicks in one wave all ask for the same state and run at once,
// over several instances, and the next wave on that item starts once every delivery so far is
// processed. The outcome of a wave is then fixed: it applies exactly once if the item was in the
// other state, else not at all. Waves on different items overlap freely. (Two people setting one
// item to different states at the same moment end in whichever Redis ran last; no count could be
// asserted for that.) The app acks before it works, so the test learns that a delivery was
// processed from the instance's log line about it: applied, unchanged or replayed.

const ITEM_COUNT = 24;
const CLICK_COUNT = 2000;
const INSTANCE_COUNT = 3;
const USERS = Array.from({ length: 20 }, (_, index) => `U0HAND${String(index + 1).padStart(2, '0')}`);
const ITEM_IDS = Array.from(
  { length: ITEM_COUNT },
  (_, index) => `task-${String(index + 1).padStart(2, '0')}`,
);
const TEAM_ID = SLACK_TEAM.id;
/** Longest a click may take to be processed before the test calls it lost. */
const PROCESSING_DEADLINE_MS = 15_000;

const TEMPLATE = [
  'id: hands',
  'name: Many hands',
  'phases:',
  '  - id: work',
  '    name: Work',
  '    items:',
  ...ITEM_IDS.flatMap((id, index) => [`      - id: ${id}`, `        text: Task ${index + 1}`]),
  // Never clicked: it keeps the release active, so no click is refused for a closed release.
  '  - id: finish',
  '    name: Finish',
  '    items:',
  '      - id: signed-off',
  '        text: Signed off',
  '',
].join('\n');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Wave {
  itemId: string;
  done: boolean;
  users: string[];
  /** Whether the item was in the other state before the wave, so one of its clicks applies. */
  applies: boolean;
}

/** One version of the checklist message, and which items it shows ticked. */
interface Version {
  message: StoredMessage;
  ticked: Set<string>;
}

function toVersion(message: StoredMessage): Version {
  return { message, ticked: new Set(ITEM_IDS.filter((itemId) => viewItem(message, itemId)!.ticked)) };
}

interface Ack {
  instance: number;
  status: number;
  ms: number;
}

interface ClickOutcomes {
  applied: number;
  unchanged: number;
  replayed: number;
  refused: number;
  /** Handled with an error (logged by the guard), whatever the click did before. */
  failed: number;
}

/** Counts, from the instances' log lines, what each delivered click came to. */
class ClickLog {
  readonly total: ClickOutcomes = { applied: 0, unchanged: 0, replayed: 0, refused: 0, failed: 0 };
  private readonly processedByItem = new Map<string, number>();

  attach(stream: NodeJS.ReadableStream): void {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.read(line);
    });
  }

  /** Deliveries about the item that were processed, whatever they came to. */
  processed(itemId: string): number {
    return this.processedByItem.get(itemId) ?? 0;
  }

  private read(line: string): void {
    if (!line.includes('"itemId"')) return;
    const entry = JSON.parse(line) as { msg: string; itemId: string; result?: string };
    if (entry.msg === 'item ticked' || entry.msg === 'item unticked') this.total.applied++;
    else if (entry.result === 'unchanged') this.total.unchanged++;
    else if (entry.result === 'replayed') this.total.replayed++;
    else if (entry.msg.startsWith('click refused')) this.total.refused++;
    else if (entry.msg === 'request failed' || entry.msg.startsWith('redis unavailable')) {
      this.total.failed++;
      return;
    } else return;
    this.processedByItem.set(entry.itemId, this.processed(entry.itemId) + 1);
  }
}

let checklistsDir: string;
let standIn: SlackStandIn;
let cluster: ProcessCluster;
let redis: Redis;

beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-hands-'));
  await writeFile(path.join(checklistsDir, 'hands.yaml'), TEMPLATE);
  standIn = await SlackStandIn.start();
  cluster = new ProcessCluster(standIn, { CHECKLISTS_DIR: checklistsDir, LOG_LEVEL: 'debug' });
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  await cluster?.stop();
  await standIn?.stop();
  await redis?.quit();
  await rm(checklistsDir, { recursive: true, force: true });
});

describe('many hands', () => {
  it('keeps every click exactly once with three instances, stale views and Slack retries', async () => {
    const seed = chaosSeed();
    console.info(`many hands: seed ${seed} (CHAOS_SEED=${seed} replays this run's plan)`);
    const planner = createPrng(seed);

    await Promise.all(Array.from({ length: INSTANCE_COUNT }, () => cluster.start()));
    const clickLog = new ClickLog();
    const instanceErrors = () =>
      cluster.processes
        .flatMap((run) => run.output().split('\n'))
        .filter((line) => /"level":[56]0/.test(line))
        .join('\n');
    for (const run of cluster.processes) clickLog.attach(run.child.stdout!);
    await cluster.command('start v1.0 staging hands', { user_id: USERS[0]! });
    const header = await waitForHeader(cluster, 'v1.0 → staging');
    const phase = await waitForPhase(cluster, header, 'Work');
    const store = new ReleaseStore(redis, cluster.prefix);
    const [release] = await store.findByVersion(TEAM_ID, 'v1.0');
    const releaseId = release!.id;

    // Every version of the checklist message the test has seen, oldest first: the views people have.
    const versions: Version[] = [toVersion(phase)];
    const latestVersion = (): Version => {
      const shown = standIn.message(phase.channel, phase.ts)!;
      if (shown.updates !== versions.at(-1)!.message.updates) versions.push(toVersion(shown));
      return versions.at(-1)!;
    };

    // Slack's action_ts has microseconds and differs between clicks; these are unique by construction.
    let lastActionMicros = 0;
    const nextActionTs = () => {
      lastActionMicros = Math.max(lastActionMicros + 1, Date.now() * 1000);
      return (lastActionMicros / 1e6).toFixed(6);
    };

    // Set when the run ends, also by a failure, so no item goes on clicking into a stopped cluster.
    let stopped = false;
    const waves: Wave[] = [];
    const acks: Ack[] = [];
    let staleClicks = 0;
    let retries = 0;
    const responseTag = `hands-${seed}`;
    const send = async (payload: BlockActionsPayload, instance: number, retryNum?: number) => {
      const result = await postInteraction(`${cluster.processes[instance]!.baseUrl}/slack/events`, payload, {
        signingSecret: cluster.signingSecret,
        ...(retryNum === undefined ? {} : { retryNum, retryReason: 'http_timeout' }),
      });
      acks.push({ instance, status: result.status, ms: result.ms });
    };

    const deliveriesSent = new Map<string, number>();
    const countDelivery = (itemId: string) =>
      deliveriesSent.set(itemId, (deliveriesSent.get(itemId) ?? 0) + 1);
    const sendRetry = async (
      itemId: string,
      payload: BlockActionsPayload,
      instance: number,
      retryNum: number,
    ) => {
      retries++;
      countDelivery(itemId);
      await send(payload, instance, retryNum);
    };
    /** Resolves once every delivery sent about the item so far has been processed. */
    const deliveriesProcessed = async (itemId: string) => {
      const deadline = Date.now() + PROCESSING_DEADLINE_MS;
      while (clickLog.processed(itemId) < (deliveriesSent.get(itemId) ?? 0)) {
        if (clickLog.total.failed > 0) throw new Error(`a click failed:\n${instanceErrors()}`);
        if (Date.now() > deadline) throw new Error(`clicks on ${itemId} acked but never processed`);
        await sleep(10);
      }
    };

    /** One person's click in a wave, with the Slack retries of its delivery, if any. */
    const clickOnce = async (rng: Prng, itemId: string, done: boolean, user: string) => {
      await sleep(rng.next() * 30);
      const latest = latestVersion();
      // A view that shows the item in the other state, since the click flips the box the user sees.
      const fitting = versions.filter((view) => view.ticked.has(itemId) !== done);
      const wantsStale = rng.chance(0.2);
      const pickAt = rng.next();
      const older = fitting.filter((view) => view !== latest);
      const view =
        (wantsStale || !fitting.includes(latest)) && older.length > 0
          ? older[Math.floor(pickAt * older.length)]!
          : latest;
      if (view !== latest) staleClicks++;
      const payload = tickPayload(view.message, itemId, done, user, standIn.responseUrl(responseTag));
      payload.actions[0]!.action_ts = nextActionTs();

      const instance = rng.int(INSTANCE_COUNT);
      // Slack retries a delivery it thinks timed out, up to three times, to whichever instance.
      const retryCount = rng.chance(0.12) ? 1 + rng.int(3) : 0;
      const planned = Array.from({ length: retryCount }, (_, index) => ({
        retryNum: index + 1,
        instance: (instance + 1 + rng.int(INSTANCE_COUNT - 1)) % INSTANCE_COUNT,
        when: rng.pick(['racing', 'after ack', 'late'] as const),
        delayMs: rng.next() * 40,
        laterWaves: 1 + rng.int(3),
      }));
      countDelivery(itemId);
      const original = send(payload, instance);
      await Promise.all([
        original,
        ...planned
          .filter((retry) => retry.when !== 'late')
          .map(async (retry) => {
            if (retry.when === 'after ack') await original;
            await sleep(retry.delayMs);
            await sendRetry(itemId, payload, retry.instance, retry.retryNum);
          }),
      ]);
      return planned.filter((retry) => retry.when === 'late').map((retry) => ({ ...retry, payload }));
    };

    /** The clicks on one item, wave after wave, until its share of the clicks is used. */
    const runItem = async (itemId: string, clicks: number, rng: Prng) => {
      let done = false;
      let used = 0;
      let late: { payload: BlockActionsPayload; instance: number; retryNum: number; dueWave: number }[] = [];
      for (let wave = 0; used < clicks && !stopped; wave++) {
        const roll = rng.next();
        const size = Math.min(clicks - used, roll < 0.75 ? 1 : roll < 0.93 ? 2 : 3);
        // Mostly people flip what they see now; in the middle of the run mostly ticks, so the phase
        // gets done and reopened again; the last wave ticks, so it ends done and the next phase opens.
        // Anything else needs a view from before the latest change.
        const progress = used / clicks;
        const shownNow = latestVersion().ticked.has(itemId);
        let want =
          progress > 0.4 && progress < 0.75
            ? rng.chance(0.93)
            : rng.chance(0.75)
              ? !shownNow
              : rng.chance(0.5);
        if (used + size >= clicks) want = true;
        // Nobody can untick an item nobody has seen ticked yet.
        if (!want && !versions.some((view) => view.ticked.has(itemId))) want = true;
        const users = rng.sample(USERS, size);
        const streams = users.map(() => createPrng(rng.int(0xffffffff)));
        const lateRetries = await Promise.all(
          users.map((user, index) => clickOnce(streams[index]!, itemId, want, user)),
        );
        waves.push({ itemId, done: want, users, applies: want !== done });
        done = want;
        used += size;
        late.push(...lateRetries.flat().map((retry) => ({ ...retry, dueWave: wave + retry.laterWaves })));
        const due = late.filter((retry) => retry.dueWave <= wave || used >= clicks);
        late = late.filter((retry) => !due.includes(retry));
        for (const retry of due) await sendRetry(itemId, retry.payload, retry.instance, retry.retryNum);
        // The next wave waits for these: a late retry that applied would have to show before it.
        await deliveriesProcessed(itemId);
        await sleep(rng.exponential(60));
      }
      return done;
    };

    const share = new Map(ITEM_IDS.map((itemId) => [itemId, 0]));
    for (let click = 0; click < CLICK_COUNT; click++) {
      const itemId = planner.pick(ITEM_IDS);
      share.set(itemId, share.get(itemId)! + 1);
    }
    const started = Date.now();
    let expected: Map<string, boolean>;
    try {
      const outcomes = await Promise.all(
        ITEM_IDS.map(
          async (itemId, index) =>
            [itemId, await runItem(itemId, share.get(itemId)!, createPrng(deriveSeed(seed, index)))] as const,
        ),
      );
      expected = new Map(outcomes);
    } finally {
      stopped = true;
    }
    const clickMs = Date.now() - started;

    // Every delivery was answered 200, and no click was refused or failed (those answer by response_url).
    expect(acks).toHaveLength(CLICK_COUNT + retries);
    expect(acks.filter((ack) => ack.status !== 200)).toEqual([]);
    for (let instance = 0; instance < INSTANCE_COUNT; instance++)
      expect(acks.some((ack) => ack.instance === instance)).toBe(true);
    expect(standIn.responsesTo(responseTag)).toEqual([]);

    // Each delivery was processed once: one click per wave that applies, the others found the item
    // as they wanted it, and every retry was a replay, whenever it came.
    expect(clickLog.total).toEqual({
      applied: waves.filter((wave) => wave.applies).length,
      unchanged: CLICK_COUNT - waves.filter((wave) => wave.applies).length,
      replayed: retries,
      refused: 0,
      failed: 0,
    });

    // The stored items are what the clicks imply.
    const stored = (await store.getRelease(TEAM_ID, releaseId))!;
    expect(stored.status).toBe('active');
    for (const itemId of ITEM_IDS) {
      expect(stored.items[itemId]?.done ?? false, `stored state of ${itemId}`).toBe(expected.get(itemId));
    }

    // One audit event per applied click, in each item's order, by one of the people in its wave.
    const audit = await store.readAudit(TEAM_ID, releaseId);
    const changes = audit.filter((event) => event.type === 'ticked' || event.type === 'unticked');
    const applied = waves.filter((wave) => wave.applies);
    expect(changes).toHaveLength(applied.length);
    expect(audit.filter((event) => !changes.includes(event)).map((event) => event.type)).toEqual(['started']);
    for (const itemId of ITEM_IDS) {
      const events = changes.filter((event) => event.itemId === itemId);
      const itemWaves = applied.filter((wave) => wave.itemId === itemId);
      expect(
        events.map((event) => event.to),
        `audit of ${itemId}`,
      ).toEqual(itemWaves.map((wave) => (wave.done ? 'done' : 'open')));
      events.forEach((event, index) => {
        expect(itemWaves[index]!.users, `who changed ${itemId}`).toContain(event.user);
      });
      const last = itemWaves.at(-1);
      if (stored.items[itemId]?.done) expect(last?.users).toContain(stored.items[itemId]!.by);
    }
    const chain = await store.readAuditChain(TEAM_ID, releaseId);
    expect(verifyAuditChain(chain.entries, chain.head)).toEqual({ intact: true, events: audit.length });

    // Slack ends up showing the stored state: wait until no sync is left to run and the message agrees.
    const syncQueue = new SyncQueue(redis, cluster.prefix);
    const shownMatches = () => {
      const shown = standIn.message(phase.channel, phase.ts)!;
      return ITEM_IDS.every((itemId) => viewItem(shown, itemId)!.ticked === expected.get(itemId));
    };
    try {
      const deadline = Date.now() + 20_000;
      while (!((await syncQueue.countUnfinished()) === 0 && shownMatches()) && Date.now() < deadline)
        await sleep(100);
      // A sync asked for by a click handler still finishing would be queued by now.
      await sleep(500);
      expect(await syncQueue.countUnfinished()).toBe(0);
    } finally {
      await syncQueue.close();
    }
    const shown = standIn.message(phase.channel, phase.ts)!;
    const doneCount = ITEM_IDS.filter((itemId) => expected.get(itemId)).length;
    for (const itemId of ITEM_IDS) {
      const item = viewItem(shown, itemId)!;
      expect(item, `${itemId} as Slack shows it`).toMatchObject({
        clickable: true,
        ticked: expected.get(itemId),
      });
      if (item.ticked) expect(item.text).toContain(`<@${stored.items[itemId]!.by}>`);
    }
    expect(blockTexts(shown).join('\n')).toContain(`${doneCount}/${ITEM_COUNT} required done`);
    // Every task ends ticked, so the next phase is open: posted once, clickable, untouched.
    expect(doneCount).toBe(ITEM_COUNT);
    const thread = standIn.messages(phase.channel).filter((message) => message.thread_ts === header.ts);
    expect(thread).toHaveLength(2);
    expect(viewItem(thread[1]!, 'signed-off')).toMatchObject({ clickable: true, ticked: false });
    expect(blockTexts(shown).join('\n')).toContain('Phase done');

    let ticked = 0;
    let phaseDoneTimes = 0;
    for (const event of changes) {
      ticked += event.type === 'ticked' ? 1 : -1;
      if (ticked === ITEM_COUNT) phaseDoneTimes++;
    }
    const ackMs = acks.map((ack) => ack.ms).sort((a, b) => a - b);
    console.info(
      `many hands: ${CLICK_COUNT} clicks (+${retries} retries, ${staleClicks} from stale views) in ${clickMs} ms; ` +
        `${waves.length} waves, ${applied.length} applied; ${versions.length} message versions seen; ` +
        `ack p50 ${ackMs[Math.floor(ackMs.length / 2)]!.toFixed(0)} ms, ` +
        `p99 ${ackMs[Math.floor(ackMs.length * 0.99)]!.toFixed(0)} ms; phase done ${phaseDoneTimes} times`,
    );
  }, 120_000);
});
