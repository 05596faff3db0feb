import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULE_QUEUE } from '../../src/queues/scheduler.js';
import { queuePrefix, SyncQueue } from '../../src/queues/sync-queue.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { current } from '../e2e/helpers.js';
import {
  blockTexts,
  findHeader,
  findPhaseMessage,
  headerText,
  startTestApp,
  tickPayload,
  viewItem,
} from '../support/app-harness.js';
import { ProcessCluster } from '../support/process-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import {
  type BlockActionsPayload,
  clickButton,
  type PostResult,
  postInteraction,
  SLACK_TEAM,
} from '../support/slack-requests.js';
import { type Misbehaviour, SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';

// Slack misbehaves: a release runs from start to finish on two shipcheck processes while the Slack
// stand-in has bad spells (429s with Retry-After, 500s and 503s, slow answers). People tick items,
// stakeholders are told about the release, a check-in is posted and answered. Afterwards every
// message shows its final state, and each announcement reached each stakeholder channel exactly once.
// Clicks are acked at once whatever Slack does: the deadline guard below is Slack's own 3 s with a
// margin, not a speed target.

const STAKEHOLDERS = ['C0STAKE1', 'C0STAKE2'];
const PHASES = [
  { id: 'prepare', name: 'Prepare', items: 10 },
  { id: 'ship', name: 'Ship', items: 3 },
  { id: 'verify', name: 'Verify', items: 3 },
];
const itemIdsOf = (phase: (typeof PHASES)[number]) =>
  Array.from({ length: phase.items }, (_, index) => `${phase.id}-${index + 1}`);
const ALL_ITEMS = PHASES.flatMap(itemIdsOf);
const TEMPLATE = [
  'id: rough',
  'name: Rough weather',
  `stakeholders: [${STAKEHOLDERS.join(', ')}]`,
  'phases:',
  ...PHASES.flatMap((phase) => [
    `  - id: ${phase.id}`,
    `    name: ${phase.name}`,
    ...(phase.id === 'ship' ? ['    deployment: true'] : []),
    '    items:',
    ...itemIdsOf(phase).flatMap((id) => [`      - id: ${id}`, `        text: ${id} done`]),
  ]),
  '',
].join('\n');

/** What each announcement says, in the default wording, in the order they happen. */
const ANNOUNCEMENTS = [
  ['scheduled', 'is planned to go out'],
  ['started', 'has begun'],
  ['deployed', 'is now live'],
  ['completed', 'is finished'],
] as const;
const ACK_DEADLINE_MS = 2500;
const TEAM_ID = SLACK_TEAM.id;
const rateLimited = (retryAfterSec: number): Misbehaviour => ({ kind: 'rate_limited', retryAfterSec });
const serverError = (status: number): Misbehaviour => ({ kind: 'server_error', status });
const slow = (delayMs: number): Misbehaviour => ({ kind: 'slow', delayMs });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let checklistsDir: string;
let standIn: SlackStandIn;
let cluster: ProcessCluster;
let redis: Redis;

beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-rough-'));
  await writeFile(path.join(checklistsDir, 'rough.yaml'), TEMPLATE);
  standIn = await SlackStandIn.start();
  cluster = new ProcessCluster(standIn, {
    CHECKLISTS_DIR: checklistsDir,
    CHECKIN_SCHEDULE: '1s',
    CHECKIN_ESCALATE_AFTER: '1h',
    LOG_LEVEL: 'warn',
  });
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  await cluster?.stop();
  await standIn?.stop();
  await redis?.quit();
  await rm(checklistsDir, { recursive: true, force: true });
});

describe('Slack misbehaves', () => {
  it('shows every final state and posts every announcement once through 429s, 500s and slow answers', async () => {
    await Promise.all([cluster.start(), cluster.start()]);
    const instanceUrls = cluster.processes.map((run) => `${run.baseUrl}/slack/events`);
    const acks: PostResult[] = [];
    let clicks = 0;
    /** A click delivered to one instance, and as a Slack retry to the other when `retried`. */
    const deliver = async (payload: BlockActionsPayload, retried: boolean) => {
      const instance = clicks++ % instanceUrls.length;
      const deliveries = [
        postInteraction(instanceUrls[instance]!, payload, { signingSecret: cluster.signingSecret }),
      ];
      if (retried) {
        deliveries.push(
          postInteraction(instanceUrls[(instance + 1) % instanceUrls.length]!, payload, {
            signingSecret: cluster.signingSecret,
            retryNum: 1,
            retryReason: 'http_timeout',
          }),
        );
      }
      acks.push(...(await Promise.all(deliveries)));
    };
    const waitLong = <T>(predicate: () => T, what: string) => standIn.waitFor(predicate, 30_000, what);
    const phaseMessage = (header: StoredMessage, name: string) =>
      waitLong(() => findPhaseMessage(standIn, header.ts, name, header.channel), `phase "${name}"`);
    /** Ticks the items at once, each from the message as it is shown now. */
    const tickPhase = async (message: StoredMessage, itemIds: string[]) => {
      const shown = current(cluster, message);
      await Promise.all(
        itemIds.map((itemId, index) =>
          deliver(tickPayload(shown, itemId, true, `U0PERSON${index % 4}`), index % 3 === 0),
        ),
      );
    };

    // 1. The release starts while Slack has a bad spell: every kind of trouble, in turn.
    standIn.misbehaveFor(
      '*',
      [rateLimited(1), serverError(500), slow(1200), undefined, serverError(503), undefined],
      6000,
    );
    const started = await cluster.command('start v1.0 production rough in 2h', { user_id: 'U0LEAD' });
    expect(started.status).toBe(200);
    const header = await waitLong(() => findHeader(standIn, 'v1.0 → production'), 'the release header');
    const prepare = await phaseMessage(header, 'Prepare');
    await waitLong(() => announcementsIn('C0STAKE2').length === 1, 'the scheduled announcement');

    // 2. Slack answers every call with 429 for a while; people keep ticking, and every click is acked
    // at once. Spread over the spell, so the clicks' own updates run into the 429s.
    standIn.clearMisbehaviour();
    standIn.misbehaveFor('*', [rateLimited(2)], 4000);
    const spellStart = Date.now();
    const prepareItems = itemIdsOf(PHASES[0]!);
    for (const [index, itemId] of prepareItems.entries()) {
      await deliver(
        tickPayload(current(cluster, prepare), itemId, true, `U0PERSON${index % 4}`),
        index % 3 === 0,
      );
      await sleep(250);
    }
    const spellEnd = Date.now();
    const limitedDuringClicks = standIn.calls.filter(
      (call) => call.answered === 429 && call.at >= spellStart && call.at <= spellEnd,
    );
    // The premise: Slack was answering 429 while those clicks came in.
    expect(limitedDuringClicks.length).toBeGreaterThan(0);

    // 3. Posts fail with 500s and 503s or crawl, updates too, while the release ships and is checked.
    // One stakeholder channel is rate limited for more calls than one call's retries: an announcement
    // job then fails after posting to the other channel, and its retry must not post there again. (At
    // most three announcement jobs share the 16 answers, so one of them gets more than six.)
    standIn.clearMisbehaviour();
    standIn.misbehave('chat.postMessage', rateLimited(1), 16, { channel: STAKEHOLDERS[1]! });
    standIn.misbehaveFor(
      'chat.postMessage',
      [serverError(500), slow(1500), serverError(503), undefined],
      10_000,
    );
    standIn.misbehaveFor('chat.update', [slow(800), serverError(500), undefined], 10_000);
    const ship = await phaseMessage(header, 'Ship');
    await tickPhase(ship, itemIdsOf(PHASES[1]!));
    const verify = await phaseMessage(header, 'Verify');
    await tickPhase(verify, itemIdsOf(PHASES[2]!));
    const checkin = await waitLong(
      () => standIn.messages(header.channel).find((message) => message.text.startsWith('Check-in 1:')),
      'the check-in',
    );
    const healthyAction = JSON.stringify(checkin.blocks).match(
      /"action_id":"(checkin\.healthy\|[^"]+)"/,
    )![1]!;
    await deliver(clickButton(checkin as never, { actionId: healthyAction }, { user: 'U0LEAD' }), true);

    // Afterwards: the release is complete in Redis, and Slack catches up with all of it.
    const store = new ReleaseStore(redis, cluster.prefix);
    const [release] = await store.findByVersion(TEAM_ID, 'v1.0');
    await waitLong(
      () => blockTexts(current(cluster, header)).some((text) => text.includes('✅ Completed')),
      'completed',
    );
    await waitLong(
      () =>
        announcementsIn('C0STAKE1').length >= ANNOUNCEMENTS.length &&
        announcementsIn('C0STAKE2').length >= ANNOUNCEMENTS.length,
      'every announcement',
    );
    // Nothing is left to post or update: no sync and no announcement waits in a queue.
    expect(await waitUntilQuiet(cluster.prefix)).toBe(0);

    const stored = (await store.getRelease(TEAM_ID, release!.id))!;
    expect(stored.status).toBe('completed');
    for (const itemId of ALL_ITEMS) expect(stored.items[itemId]?.done, `${itemId} stored`).toBe(true);
    const audit = await store.readAudit(TEAM_ID, release!.id);
    // Retried deliveries of a click count once.
    expect(audit.filter((event) => event.type === 'ticked')).toHaveLength(ALL_ITEMS.length);
    expect(audit.filter((event) => event.type === 'checkin_answered')).toHaveLength(1);

    // Every click was acked, each well inside Slack's deadline, also during the 429 spell.
    expect(acks.filter((ack) => ack.status !== 200)).toEqual([]);
    expect(acks.filter((ack) => ack.ms >= ACK_DEADLINE_MS).map((ack) => ack.ms)).toEqual([]);

    // Each message once, showing its final state.
    const thread = standIn.messages(header.channel).filter((message) => message.thread_ts === header.ts);
    const checkins = thread.filter((message) => message.text.startsWith('Check-in 1:'));
    expect(checkins).toHaveLength(1);
    const checkinShown = JSON.stringify(checkins[0]!.blocks);
    expect(checkinShown).toContain('✅ Healthy — <@U0LEAD>');
    expect(checkinShown).not.toContain('checkin.healthy|');
    expect(blockTexts(current(cluster, header)).join('\n')).toContain('✅ Completed');
    expect(
      standIn.messages(header.channel).filter((message) => message.thread_ts === undefined),
    ).toHaveLength(1);
    for (const phase of PHASES) {
      const parts = thread.filter((message) => headerText(message).endsWith(`· ${phase.name}`));
      expect(parts, `messages of ${phase.name}`).toHaveLength(1);
      for (const itemId of itemIdsOf(phase)) {
        expect(viewItem(parts[0]!, itemId), `${itemId} as Slack shows it`).toMatchObject({
          ticked: true,
          clickable: false,
        });
      }
    }

    // Each announcement in each stakeholder channel exactly once, in the order of the events, also in
    // the channel whose posts were rate-limited.
    for (const channel of STAKEHOLDERS) {
      const said = announcementsIn(channel);
      expect(said, `announcements in ${channel}`).toHaveLength(ANNOUNCEMENTS.length);
      for (const [event, words] of ANNOUNCEMENTS) {
        expect(
          said.filter((text) => text.includes(words)),
          `${event} in ${channel}`,
        ).toHaveLength(1);
      }
      expect(said.map(eventOf), `order in ${channel}`).toEqual(ANNOUNCEMENTS.map(([event]) => event));
    }

    const count = (predicate: (call: (typeof standIn.calls)[number]) => boolean) =>
      standIn.calls.filter(predicate).length;
    console.info(
      `slack misbehaves: ${standIn.calls.length} Slack calls, ${count((call) => call.answered === 429)} answered 429, ` +
        `${count((call) => call.answered >= 500)} answered 5xx, ${count((call) => call.misbehaviour === 'slow')} slow; ` +
        `${acks.length} click deliveries, slowest ack ${Math.max(...acks.map((ack) => ack.ms)).toFixed(0)} ms; ` +
        `announcement order: ${STAKEHOLDERS.map((channel) => `${channel} ${announcementsIn(channel).map(eventOf).join(' ')}`).join(', ')}`,
    );

    // The premise: Slack did misbehave in every way, and shipcheck got through it.
    const kinds = new Set(standIn.calls.map((call) => call.misbehaviour ?? call.answered));
    expect(kinds).toEqual(new Set([200, 'rate_limited', 'server_error', 'slow']));
    expect(standIn.calls.some((call) => call.answered === 503)).toBe(true);
    const output = cluster.processes.map((run) => run.output()).join('');
    expect(output).toContain('"msg":"announcement failed; the job will retry"');
  }, 120_000);

  // A post Slack applied but whose answer was lost (a 5xx, a timeout) is not sent again blindly: the
  // delivery's next attempt finds it in Slack by its metadata marker.
  it('posts the header and an announcement once when Slack posted them but the answer was lost', async () => {
    const app = await startTestApp({ env: { STAKEHOLDER_CHANNEL: 'C0STAKE9' } });
    try {
      for (const channel of ['C0STAKE9', 'C0DEPLOY']) {
        app.standIn.misbehave('chat.postMessage', { kind: 'server_error_after_applying', status: 502 }, 1, {
          channel,
        });
      }
      await app.command('start v9.0 staging minimal');
      await app.standIn.waitFor(
        () => app.standIn.messages('C0STAKE9').length > 0,
        10_000,
        'the announcement',
      );
      expect(await waitUntilQuiet(app.prefix)).toBe(0);
      expect(app.standIn.callsTo('chat.postMessage').some((call) => call.answered === 502)).toBe(true);
      expect(app.standIn.callsTo('chat.postMessage').filter((call) => call.answered === 502)).toHaveLength(2);
      expect(app.standIn.messages('C0STAKE9')).toHaveLength(1);
      expect(
        app.standIn.messages('C0DEPLOY').filter((message) => headerText(message).includes('v9.0 → staging')),
      ).toHaveLength(1);
    } finally {
      await app.stop();
    }
  });
});

/** What the announcements in a stakeholder channel say, oldest first. */
function announcementsIn(channel: string): string[] {
  return standIn.messages(channel).map((message) => blockTexts(message).join('\n'));
}

function eventOf(text: string): string {
  return ANNOUNCEMENTS.find(([, words]) => text.includes(words))?.[0] ?? '?';
}

/**
 * Waits until no sync job and no announcement job is left in the queues under `prefix`, or 30 s pass.
 * Resolves with how many are left.
 */
async function waitUntilQuiet(prefix: string): Promise<number> {
  const syncQueue = new SyncQueue(redis, prefix);
  const scheduleQueue = new Queue(SCHEDULE_QUEUE, { connection: redis, prefix: queuePrefix(prefix) });
  const unfinished = async () => {
    const scheduled = await scheduleQueue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
    const announcing = scheduled.filter((job) => job.id?.startsWith('announce-'));
    return (await syncQueue.countUnfinished()) + announcing.length;
  };
  try {
    const deadline = Date.now() + 30_000;
    while ((await unfinished()) > 0 && Date.now() < deadline) await sleep(100);
    return await unfinished();
  } finally {
    await Promise.all([syncQueue.close(), scheduleQueue.close()]);
  }
}
