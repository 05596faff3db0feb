import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/domain/audit.js';
import type { Release } from '../../src/domain/release.js';
import type { AnnouncementEvent } from '../../src/domain/template.js';
import { queuePrefix } from '../../src/queues/sync-queue.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { recordsValue, template } from '../e2e/helpers.js';
import { blockTexts, headerText, viewItem } from '../support/app-harness.js';
import { ProcessCluster, type ShipcheckProcess } from '../support/process-harness.js';
import { deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';
import {
  clickButton,
  DEFAULT_CHANNEL_ID,
  type PostResult,
  SLACK_TEAM,
  submitView,
} from '../support/slack-requests.js';
import { SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';
import { chaosSeed, createPrng, deriveSeed, type Prng } from './prng.js';

// Killed right after a commit: three shipcheck processes on one Redis run releases to their end
// (ticks, check-ins answered Healthy, rollbacks from a check-in and from the header, cancellations)
// while processes die by SIGKILL at random moments: the crash seam (test/support/crash-after-commit.ts)
// kills a process right after a commit, before anything that follows from it, and the test kills
// one now and then too. Every dead process is replaced after a short pause. Nobody clicks again for
// a follow-up a dead process owed: the survivors must finish all of them (the relay, src/app/relay.ts).
//
// A request whose process died is sent again to a live one, and an action is repeated until Redis
// shows it: a click acked just before its process died may never have been applied. So what Slack
// must show is derived from Redis (items, statuses, check-ins, the audit trail), not from the clicks.
//
// Once every release has ended, the survivors settle: no job left to run soon, nothing unrelayed,
// Slack quiet. A job held by a dead worker is handed on after BullMQ's stall detection (about 7 s),
// and a deployment log whose uploader died is shared again after its 120 s lease, hence the generous
// deadline; a run that settles finishes early.

const INSTANCE_COUNT = 3;
const RELEASE_COUNT = 12;
const TEAM_ID = SLACK_TEAM.id;
const CHANNEL = DEFAULT_CHANNEL_ID;
const STAKEHOLDERS = ['C0STAKE1', 'C0STAKE2'];
/**
 * One check-in, soon after the deploy. (Two a few seconds apart would be closer together than a
 * takeover from a dead worker takes, so a later one could be answered before an earlier one is
 * posted, which real schedules of hours never allow.)
 */
const CHECKIN_SCHEDULE = '2s';
const ENVIRONMENTS = Array.from({ length: RELEASE_COUNT }, (_, index) => `env${index + 1}`);
/** Probability that the seam kills a process after any one commit. */
const CRASH_RATE = 0.05;
/** The seam's rule for the first process of each slot, instead of a random commit. */
const FIRST_RULES: (string | undefined)[] = ['deploy', 'complete'];
/** Mean time between the test's own kills while the releases run. */
const KILL_MEAN_MS = 4000;
const PRELOAD = ['--import', './test/support/crash-after-commit.ts'];
/** How long an action may take to show in Redis before it is sent again. */
const APPLY_TIMEOUT_MS = 5000;
const DRIVE_DEADLINE_MS = 150_000;
/**
 * Long enough for the slowest takeover: a deployment log whose uploader died is shared again only
 * after its lease (LOG_LEASE_MS, 120 s, in src/jobs/deployment-log.ts).
 */
const SETTLE_DEADLINE_MS = 150_000;
/** Slack silent for this long, with nothing due in the queues, counts as settled. */
const QUIET_MS = 3000;
/** A check-in due this long before its release ended had time to survive a worker's death. */
const TAKEOVER_MS = 90_000;

const MINIMAL = template('minimal');
const PHASES = MINIMAL.phases;
const requiredOf = (items: { id: string; required: boolean }[]) =>
  items.filter((item) => item.required).map((item) => item.id);
const ROLLBACK_ITEMS = requiredOf(MINIMAL.rollback!.items);
/** Required items up to and including the deployment phase: ticking them deploys the release. */
const DEPLOY_TICKS = PHASES.slice(0, PHASES.findIndex((phase) => phase.deployment) + 1).reduce(
  (sum, phase) => sum + requiredOf(phase.items).length,
  0,
);
const ALL_TICKS = PHASES.reduce((sum, phase) => sum + requiredOf(phase.items).length, 0);
const DEPLOY_PHASE = PHASES.findIndex((phase) => phase.deployment);

/**
 * Whether the trail shows the deployment phase opened (the phase before it done; nothing is
 * overridden or unticked here, and each release has an environment of its own) or its first tick.
 */
function deploymentOpened(audit: AuditEvent[]): boolean {
  return audit.some(
    (event) =>
      event.type === 'locked' ||
      (event.type === 'ticked' && event.phaseState === 'done' && event.phaseIndex === DEPLOY_PHASE - 1),
  );
}
const ENDED = new Set(['completed', 'cancelled', 'rolled_back']);

type Fate = 'complete' | 'cancel' | 'checkin-rollback' | 'header-rollback';

interface Plan {
  index: number;
  version: string;
  env: string;
  user: string;
  fate: Fate;
  /** Items done before a cancel or a rollback from the header. */
  actAfter: number;
  startDelayMs: number;
  releaseId?: string;
}

/**
 * What each audit event tells the stakeholders (a release without a deploy window is "planned").
 * Deploying ("started") follows from the phases, see deploymentOpened.
 */
const ANNOUNCED_BY: Partial<Record<AuditEvent['type'], AnnouncementEvent>> = {
  started: 'planned',
  deployed: 'deployed',
  rollback_started: 'rolling_back',
  rolled_back: 'rolled_back',
  completed: 'completed',
  cancelled: 'cancelled',
  issue_found: 'issue_found',
  freeze_overridden: 'freeze_overridden',
  red_flag_raised: 'red_flag',
  red_flag_cleared: 'red_flag_cleared',
};
/** Words of each announcement's fallback text (src/slack/views/announcement-message.ts). */
const ANNOUNCEMENT_WORDS: Partial<Record<AnnouncementEvent, string>> = {
  planned: 'is being prepared',
  started: 'is being deployed to',
  deployed: 'is live in',
  rolling_back: 'is being rolled back on',
  rolled_back: 'was rolled back on',
  completed: 'is complete',
  cancelled: 'was cancelled',
};
const HEADER_STATUS: Record<string, string> = {
  completed: '✅ Completed',
  cancelled: '✖️ Cancelled',
  rolled_back: '↩️ Rolled back',
};
const ANSWER_SHOWN = { healthy: '✅ Healthy', rollback: '↩️ Rolled back', issue: '⚠️ Issue found' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let standIn: SlackStandIn | undefined;
let cluster: ProcessCluster | undefined;
let redis: Redis | undefined;
let chaos: Chaos | undefined;
afterEach(async () => {
  chaos?.finish();
  await cluster?.stop();
  await chaos?.stopped();
  // A replacement that was still coming up when the cluster stopped is not among its processes.
  for (const run of cluster?.spawned ?? []) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  if (cluster) await deleteKeysWithPrefix(cluster.prefix);
  redis?.disconnect();
  await standIn?.stop();
  standIn = undefined;
  cluster = undefined;
  redis = undefined;
  chaos = undefined;
});

/** Keeps INSTANCE_COUNT processes running: each dead one is replaced after a pause; kills some too. */
class Chaos {
  starts = 0;
  failedStarts = 0;
  /** Why processes died before they came up: the harness's error, with the start of their output. */
  readonly startFailures: string[] = [];
  testKills = 0;
  private finished = false;
  private killing = true;
  private readonly slots: Promise<void>[] = [];
  private killer: Promise<void> | undefined;

  constructor(
    private readonly cluster: ProcessCluster,
    private readonly seed: number,
    private readonly rng: Prng,
  ) {}

  /** Starts the processes; resolves once all of them are up. */
  async begin(): Promise<void> {
    const firstUp = Array.from({ length: INSTANCE_COUNT }, (_, slot) => {
      let up!: () => void;
      let broken!: (error: unknown) => void;
      const ready = new Promise<void>((resolve, reject) => {
        up = resolve;
        broken = reject;
      });
      this.slots.push(this.keepRunning(slot, up, broken));
      return ready;
    });
    await Promise.all(firstUp);
    this.killer = this.killNowAndThen();
  }

  stopKilling(): void {
    this.killing = false;
  }

  finish(): void {
    this.killing = false;
    this.finished = true;
  }

  /** Resolves when no process will be started or killed any more (after finish and the cluster's stop). */
  async stopped(): Promise<void> {
    await Promise.race([Promise.all([...this.slots, this.killer]), sleep(15_000)]);
  }

  private async keepRunning(slot: number, up: () => void, broken: (error: unknown) => void): Promise<void> {
    const pause = createPrng(deriveSeed(this.seed, 100 + slot));
    // The first processes of two slots die at the commits with the most follow-ups, whenever they
    // make one; every other process at random commits.
    let rule = FIRST_RULES[slot];
    let cameUp = false;
    while (!this.finished) {
      const generation = this.starts++;
      let run: ShipcheckProcess;
      try {
        run = await this.cluster.start(
          {
            SHIPCHECK_CRASH_SEED: String(deriveSeed(this.seed, 1000 + generation)),
            ...(rule ? { SHIPCHECK_CRASH_AFTER: rule } : {}),
          },
          [],
          PRELOAD,
        );
        rule = undefined;
      } catch (error) {
        this.failedStarts++;
        this.startFailures.push(String(error).slice(0, 2000));
        // A slot that never came up is a broken build or setup, not chaos.
        if (!cameUp && this.startFailures.length >= 3) return broken(error);
        await sleep(200);
        continue;
      }
      cameUp = true;
      up();
      if (this.finished) {
        run.child.kill('SIGTERM');
        break;
      }
      await run.exited;
      await sleep(300 + pause.int(1200));
    }
  }

  /** SIGKILLs a random live process now and then, as long as another one stays up to take requests. */
  private async killNowAndThen(): Promise<void> {
    // The first kill comes early, while every release is under way, so that no run goes without one.
    let gap = 2000 + this.rng.int(4000);
    while (this.killing) {
      // In short naps, so that stopping never waits for a long gap to pass.
      const next = Date.now() + gap;
      gap = this.rng.exponential(KILL_MEAN_MS);
      while (this.killing && Date.now() < next) await sleep(Math.min(100, next - Date.now()));
      // Another process must stay up to take requests: with fewer, wait for a replacement.
      while (this.killing && this.cluster.live.length < 2) await sleep(100);
      if (!this.killing) break;
      this.rng.pick(this.cluster.live).child.kill('SIGKILL');
      this.testKills++;
    }
  }
}

it(
  'finishes every follow-up of a commit whose process was killed, without posting anything twice',
  async () => {
    const seed = chaosSeed();
    console.info(`kill after commit: seed ${seed} (CHAOS_SEED=${seed} replays this run's plan)`);
    const planner = createPrng(seed);
    const runStarted = Date.now();

    const slack = await SlackStandIn.start();
    standIn = slack;
    const bot = new ProcessCluster(slack, {
      STAKEHOLDER_CHANNEL: STAKEHOLDERS.join(','),
      DEPLOY_ENVIRONMENTS: ENVIRONMENTS.join(','),
      CHECKIN_SCHEDULE,
      CHECKIN_ESCALATE_AFTER: '1h',
      SHUTDOWN_TIMEOUT_MS: '2000',
      SHIPCHECK_CRASH_AFTER: `random:${CRASH_RATE}`,
    });
    cluster = bot;
    const client = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    redis = client;
    const store = new ReleaseStore(client, bot.prefix);
    const killer = new Chaos(bot, seed, createPrng(deriveSeed(seed, 99)));
    chaos = killer;

    // The plan: every kind of ending at least once, the rest mostly completed.
    const fates: Fate[] = ['checkin-rollback', 'header-rollback', 'cancel'];
    while (fates.length < RELEASE_COUNT)
      fates.push(planner.chance(0.7) ? 'complete' : planner.pick(['cancel', 'header-rollback'] as const));
    const plans: Plan[] = planner.sample(fates, fates.length).map((fate, index) => ({
      index,
      version: `v${index + 1}.0`,
      env: ENVIRONMENTS[index]!,
      user: `U0LEAD${index + 1}`,
      fate,
      actAfter:
        fate === 'cancel'
          ? 1 + planner.int(DEPLOY_TICKS + 3)
          : fate === 'header-rollback'
            ? DEPLOY_TICKS + planner.int(ALL_TICKS - DEPLOY_TICKS)
            : 0,
      startDelayMs: planner.int(4000),
    }));

    await killer.begin();

    // ---- requests, each to a live process, sent again to another one when its process died ----
    const sent = { commands: 0, clicks: 0, submissions: 0, lost: 0, refused: 0 };
    let stopped = false;
    const requestRng = createPrng(deriveSeed(seed, 98));
    const send = async (
      kind: 'commands' | 'clicks' | 'submissions',
      post: (via: ShipcheckProcess) => Promise<PostResult>,
    ): Promise<void> => {
      while (!stopped) {
        const live = bot.live;
        if (live.length === 0) {
          await sleep(100);
          continue;
        }
        sent[kind]++;
        try {
          const result = await post(requestRng.pick(live));
          if (result.status === 200) return;
          sent.refused++;
        } catch {
          sent.lost++;
        }
        await sleep(50);
      }
    };
    const command = (text: string, user: string) =>
      send('commands', (via) => bot.command(text, { user_id: user }, { timeoutMs: 10_000 }, via));
    const interact = (kind: 'clicks' | 'submissions', payload: object) =>
      send(kind, (via) => bot.interact(payload, { timeoutMs: 10_000 }, via));

    const readRelease = async (plan: Plan): Promise<Release> => {
      const release = await store.getRelease(TEAM_ID, plan.releaseId!);
      if (!release) throw new Error(`release ${plan.version} is gone from Redis`);
      return release;
    };
    /** Polls Redis until `check` holds for the release, or the timeout; resolves with whether it did. */
    const until = async (plan: Plan, check: (release: Release) => boolean, timeoutMs = APPLY_TIMEOUT_MS) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (check(await readRelease(plan))) return true;
        await sleep(50);
      }
      return false;
    };

    // ---- what Slack shows of a release ----
    const titleOf = (plan: Plan) => `${plan.version} → ${plan.env}`;
    const headersOf = (plan: Plan, messages: StoredMessage[]) =>
      messages.filter((message) => !message.thread_ts && headerText(message) === `🚀 ${titleOf(plan)}`);
    const threadOf = (header: StoredMessage, messages: StoredMessage[]) =>
      messages.filter((message) => message.thread_ts === header.ts);
    const phaseTitle = (phaseIndex: number) =>
      `${phaseIndex + 1}/${PHASES.length} · ${PHASES[phaseIndex]!.name}`;
    const isRollbackChecklist = (message: StoredMessage) => message.text.endsWith(': rollback checklist');
    const checkinsIn = (thread: StoredMessage[], checkinIndex: number) =>
      thread.filter((message) => message.text.startsWith(`Check-in ${checkinIndex + 1}:`));
    const hasButton = (message: StoredMessage, actionId: string) =>
      JSON.stringify(message.blocks).includes(`"action_id":"${actionId}"`);

    // ---- one release from start to its planned end ----
    const startRelease = async (plan: Plan) => {
      while (!stopped) {
        await command(`start ${plan.version} ${plan.env} minimal`, plan.user);
        const deadline = Date.now() + APPLY_TIMEOUT_MS;
        while (Date.now() < deadline) {
          const [found] = (await store.findByVersion(TEAM_ID, plan.version)).filter(
            (release) => release.env === plan.env,
          );
          if (found) {
            plan.releaseId = found.id;
            return;
          }
          await sleep(50);
        }
      }
    };

    /**
     * A click on an item's checkbox, as the message shows now; false while it shows no checkbox. An
     * item that records a value opens a form, submitted with a value every shipped item accepts.
     */
    const tick = async (plan: Plan, message: StoredMessage, itemId: string) => {
      const box = viewItem(message, itemId);
      if (!box?.clickable) return false;
      const click = bot.tickPayload(message, itemId, true, plan.user);
      await interact('clicks', click);
      if (recordsValue(message, itemId)) {
        const deadline = Date.now() + APPLY_TIMEOUT_MS;
        let form = slack.views.find((view) => view.trigger_id === click.trigger_id);
        while (!form && Date.now() < deadline) {
          await sleep(50);
          form = slack.views.find((view) => view.trigger_id === click.trigger_id);
        }
        // Its process died before it opened the form: the next step clicks again.
        if (!form) return true;
        await interact(
          'submissions',
          submitView(form, { value: { 'value.input': '4f2a9c1' } }, { user: plan.user }),
        );
      }
      await until(plan, (release) => release.items[itemId]?.done === true);
      return true;
    };

    /** Presses a button that opens a modal, then submits the modal with a reason. */
    const rollBackThrough = async (plan: Plan, message: StoredMessage, actionId: string) => {
      const click = clickButton(message as never, { actionId }, { user: plan.user });
      await interact('clicks', click);
      const deadline = Date.now() + APPLY_TIMEOUT_MS;
      let modal = slack.views.find((view) => view.trigger_id === click.trigger_id);
      while (!modal && Date.now() < deadline) {
        await sleep(50);
        modal = slack.views.find((view) => view.trigger_id === click.trigger_id);
      }
      // Its process died before it opened the modal: the next step clicks again.
      if (!modal) return;
      const reason = `Errors are up after ${plan.version}`;
      await interact(
        'submissions',
        submitView(modal, { reason: { 'reason.input': reason } }, { user: plan.user }),
      );
      await until(plan, (release) => release.status !== 'active');
    };

    /** Does the next thing the plan asks for; false when there is nothing to do until Slack shows more. */
    const step = async (plan: Plan, release: Release): Promise<boolean> => {
      const messages = slack.messages(CHANNEL);
      const header = headersOf(plan, messages)[0];
      if (!header) return false;
      const thread = threadOf(header, messages);
      const done = Object.values(release.items).filter((item) => item.done).length;

      if (release.status === 'rolling_back') {
        const checklist = thread.find(isRollbackChecklist);
        const open = ROLLBACK_ITEMS.find((itemId) => !release.items[itemId]?.done);
        return checklist !== undefined && open !== undefined && tick(plan, checklist, open);
      }
      if (plan.fate === 'cancel' && done >= plan.actAfter) {
        await command(`cancel ${plan.version} ${plan.env} Found a blocker in ${plan.version}`, plan.user);
        await until(plan, (after) => after.status !== 'active');
        return true;
      }
      if (plan.fate === 'header-rollback' && release.deployment && done >= plan.actAfter) {
        if (!hasButton(header, 'release.rollback.open')) return false;
        await rollBackThrough(plan, header, 'release.rollback.open');
        return true;
      }
      for (const checkin of release.checkins) {
        if (checkin.postedAt === undefined || checkin.answer) continue;
        const shown = checkinsIn(thread, checkin.index)[0];
        const route = plan.fate === 'checkin-rollback' ? 'checkin.rollback' : 'checkin.healthy';
        const actionId = `${route}|${release.id}|${checkin.index}`;
        if (!shown || !hasButton(shown, actionId)) continue;
        if (plan.fate === 'checkin-rollback') {
          await rollBackThrough(plan, shown, actionId);
        } else {
          await interact('clicks', clickButton(shown as never, { actionId }, { user: plan.user }));
          await until(plan, (after) => after.checkins[checkin.index]?.answer !== undefined);
        }
        return true;
      }
      const phaseIndex = PHASES.findIndex((phase) =>
        requiredOf(phase.items).some((itemId) => !release.items[itemId]?.done),
      );
      if (phaseIndex === -1) return false;
      const message = thread.find((candidate) => headerText(candidate) === phaseTitle(phaseIndex));
      const open = requiredOf(PHASES[phaseIndex]!.items).filter((itemId) => !release.items[itemId]?.done);
      return message !== undefined && tick(plan, message, open[0]!);
    };

    const drive = async (plan: Plan, rng: Prng) => {
      await sleep(plan.startDelayMs);
      await startRelease(plan);
      while (!stopped) {
        const release = await readRelease(plan);
        if (ENDED.has(release.status)) return;
        const acted = await step(plan, release);
        await sleep(acted ? rng.exponential(120) : 100);
      }
    };

    // ---- run the releases while processes die ----
    const driving = Promise.all(plans.map((plan) => drive(plan, createPrng(deriveSeed(seed, plan.index)))));
    const driveDeadline = sleep(DRIVE_DEADLINE_MS).then(() => 'deadline' as const);
    const driven = await Promise.race([driving.then(() => 'done' as const), driveDeadline]);
    stopped = driven === 'deadline';
    killer.stopKilling();
    const drivenAt = Date.now();

    // ---- the picture Slack must end with, derived from Redis ----
    const inspect = async () => {
      const problems: string[] = [];
      const releases: { plan: Plan; release: Release; audit: AuditEvent[] }[] = [];
      for (const plan of plans) {
        if (!plan.releaseId) {
          problems.push(`${plan.version} was never started`);
          continue;
        }
        releases.push({
          plan,
          release: await readRelease(plan),
          audit: await store.readAudit(TEAM_ID, plan.releaseId),
        });
      }
      const messages = slack.messages(CHANNEL);
      const counts = {
        checkinsPlanned: 0,
        checkinsPosted: 0,
        checkinsNotPosted: 0,
        announcementsExpected: 0,
        retroDrafts: 0,
        logs: 0,
        notices: 0,
        announcements: Object.fromEntries(STAKEHOLDERS.map((channel) => [channel, 0])),
      };

      for (const { plan, release, audit } of releases) {
        const name = `${plan.version} (${release.id}, ${plan.fate})`;
        if (!ENDED.has(release.status)) problems.push(`${name} is still ${release.status}`);
        // 1. Every committed change is shown: the header's status, each item, each check-in's answer.
        const headers = headersOf(plan, messages);
        if (headers.length !== 1) problems.push(`${name}: ${headers.length} headers`);
        const header = headers[0];
        if (!header) continue;
        const headerShows = blockTexts(header).join('\n');
        const status = HEADER_STATUS[release.status];
        if (status && !headerShows.includes(status))
          problems.push(`${name}: the header does not show "${status}"`);
        const thread = threadOf(header, messages);
        const checklists: { title: string; itemIds: string[]; shown: StoredMessage[] }[] = PHASES.map(
          (phase, phaseIndex) => ({
            title: phaseTitle(phaseIndex),
            itemIds: phase.items.map((item) => item.id),
            shown: thread.filter((message) => headerText(message) === phaseTitle(phaseIndex)),
          }),
        );
        if (release.rollback) {
          checklists.push({
            title: 'rollback checklist',
            itemIds: MINIMAL.rollback!.items.map((item) => item.id),
            shown: thread.filter(isRollbackChecklist),
          });
        }
        for (const { title, itemIds, shown } of checklists) {
          const anyDone = itemIds.some((itemId) => release.items[itemId]?.done);
          if (shown.length > 1) problems.push(`${name}: ${title} posted ${shown.length} times`);
          if (shown.length === 0 && (anyDone || title === 'rollback checklist'))
            problems.push(`${name}: ${title} never posted`);
          for (const itemId of shown.length === 1 ? itemIds : []) {
            const stored = release.items[itemId]?.done === true;
            if (viewItem(shown[0]!, itemId)?.ticked !== stored)
              problems.push(`${name}: ${title} shows ${itemId} ${stored ? 'open' : 'done'}`);
          }
        }
        // 3. Each check-in once. One may be missing only when its release ended before anyone posted it
        // (its job re-reads the release and drops it), and not long after it was due.
        const leftActive = audit.find((event) =>
          ['completed', 'cancelled', 'rollback_started', 'rolled_back'].includes(event.type),
        )?.at;
        for (const checkin of release.checkins) {
          counts.checkinsPlanned++;
          const shown = checkinsIn(thread, checkin.index);
          if (shown.length === 1) counts.checkinsPosted++;
          else counts.checkinsNotPosted += shown.length === 0 ? 1 : 0;
          const mustShow =
            release.status === 'completed' ||
            checkin.postedAt !== undefined ||
            checkin.answer !== undefined ||
            (leftActive !== undefined && leftActive - checkin.dueAt > TAKEOVER_MS);
          if (shown.length > 1 || (mustShow && shown.length !== 1))
            problems.push(`${name}: check-in ${checkin.index + 1} posted ${shown.length} times`);
          const answer = checkin.answer;
          if (
            answer &&
            shown.length === 1 &&
            !blockTexts(shown[0]!).join('\n').includes(ANSWER_SHOWN[answer.kind])
          )
            problems.push(`${name}: check-in ${checkin.index + 1} does not show its answer (${answer.kind})`);
        }
        // The rest of an end: a retrospective draft once, the deployment log and the notice to whoever
        // cancelled at least once (a death mid-upload or mid-post may repeat those two, by design).
        if (release.status === 'completed' || release.status === 'rolled_back') {
          const drafts = thread.filter((message) => deliveryKey(message) === `retro-${release.id}-draft`);
          counts.retroDrafts += drafts.length;
          if (drafts.length !== 1)
            problems.push(`${name}: retrospective draft posted ${drafts.length} times`);
        }
        if (ENDED.has(release.status)) {
          const logs = slack.files.filter(
            (file) => file.completed && file.thread_ts === header.ts && file.filename.endsWith('.md'),
          ).length;
          counts.logs += logs;
          if (logs === 0) problems.push(`${name}: deployment log never shared`);
        }
        if (release.status === 'cancelled') {
          const notice = `Cancelled ${titleOf(plan)}. The reason is on the release`;
          const told =
            slack.responses.filter((response) => JSON.stringify(response.body).includes(notice)).length +
            slack.ephemerals.filter((ephemeral) => ephemeral.text.includes(notice)).length;
          counts.notices += told;
          if (told === 0) problems.push(`${name}: whoever cancelled was never told`);
        }
        // 2. Each announcement the audit trail calls for, once in each stakeholder channel, and no other.
        const expected = audit.flatMap((event) => {
          const announced = ANNOUNCED_BY[event.type];
          if (!announced) return [];
          const occurrence = announced === 'issue_found' ? (event.issueId ?? 0) : 0;
          return [`${announced}-o${occurrence}`];
        });
        if (deploymentOpened(audit)) expected.push('started-o0');
        counts.announcementsExpected += expected.length;
        const prefix = `announce-${release.id}-`;
        for (const channel of STAKEHOLDERS) {
          const said = slack
            .messages(channel)
            .map((message) => ({ message, key: deliveryKey(message) ?? '' }))
            .filter(({ key }) => key.startsWith(prefix))
            .map(({ message, key }) => ({ message, what: key.slice(prefix.length, -channel.length - 1) }));
          counts.announcements[channel]! += said.length;
          for (const what of new Set([...expected, ...said.map((entry) => entry.what)])) {
            const times = said.filter((entry) => entry.what === what).length;
            const wanted = expected.filter((entry) => entry === what).length;
            if (times !== wanted) problems.push(`${name}: "${what}" announced ${times} times in ${channel}`);
          }
          for (const { message, what } of said) {
            const words = ANNOUNCEMENT_WORDS[what.replace(/-o\d+$/, '') as AnnouncementEvent];
            if (words && !message.text.includes(words))
              problems.push(`${name}: the "${what}" announcement in ${channel} says "${message.text}"`);
          }
        }
      }

      // 4. Nothing posted twice: every post carries its delivery key, no key twice in a conversation.
      const conversations = new Set(slack.messages().map((message) => message.channel));
      for (const conversation of conversations) {
        const keys = new Map<string, number>();
        for (const message of slack.messages(conversation)) {
          const key = deliveryKey(message);
          if (!key) problems.push(`${conversation}: a post without a delivery key: "${message.text}"`);
          else keys.set(key, (keys.get(key) ?? 0) + 1);
        }
        for (const [key, times] of keys)
          if (times > 1) problems.push(`${conversation}: ${key} posted ${times} times`);
      }
      for (const channel of STAKEHOLDERS) {
        const stray = slack.messages(channel).filter((message) => {
          const key = deliveryKey(message) ?? '';
          return !releases.some(({ release }) => key.startsWith(`announce-${release.id}-`));
        });
        if (stray.length > 0) problems.push(`${channel}: ${stray.length} messages of no release`);
      }
      return { problems, releases, counts };
    };

    /** Jobs waiting, running or due within a couple of minutes, and releases with unrelayed events. */
    const pendingWork = async () => {
      const jobs = queuePrefix(bot.prefix);
      const horizon = (Date.now() + 120_000) * 0x1000;
      const ids: string[] = [];
      for (const queue of ['slack-sync', 'schedule']) {
        const lists = await Promise.all([
          client.lrange(`${jobs}:${queue}:wait`, 0, -1),
          client.lrange(`${jobs}:${queue}:active`, 0, -1),
          client.zrange(`${jobs}:${queue}:prioritized`, 0, -1),
          client.zrangebyscore(`${jobs}:${queue}:delayed`, '-inf', horizon),
        ]);
        ids.push(...lists.flat().map((id) => `${queue}/${id}`));
      }
      const unrelayed = await client.zcard(`${bot.prefix}:{${TEAM_ID}}:relay`);
      return { pending: ids.length, unrelayed, ids };
    };

    // ---- settle: until the picture is right and nothing is left to happen, or the deadline ----
    const settleDeadline = Date.now() + SETTLE_DEADLINE_MS;
    /** What the last look before the end was still waiting for, and when that was. */
    let lastWait = { at: drivenAt, for: [] as string[] };
    const look = async () => {
      const quietFor = Date.now() - (slack.calls.at(-1)?.at ?? 0);
      const seen = { picture: await inspect(), work: await pendingWork() };
      const waitingFor = [
        ...seen.picture.problems.slice(0, 2),
        ...seen.work.ids.slice(0, 3),
        ...(seen.work.unrelayed > 0 ? [`${seen.work.unrelayed} releases unrelayed`] : []),
        ...(quietFor < QUIET_MS ? ['Slack calls'] : []),
      ];
      if (waitingFor.length > 0) lastWait = { at: Date.now(), for: waitingFor };
      return { ...seen, settled: waitingFor.length === 0 };
    };
    let { picture, work, settled } = await look();
    while (!settled && Date.now() < settleDeadline) {
      await sleep(500);
      ({ picture, work, settled } = await look());
    }
    const settledMs = Date.now() - drivenAt;

    // ---- the summary, then the verdict ----
    const outputs = bot.spawned.map((run) => run.output());
    const seamFired = outputs.flatMap((output) =>
      output
        .split('\n')
        .filter((line) => line.includes('"msg":"crash seam fired"'))
        .map((line) => JSON.parse(line) as { intent: string; deployed?: boolean; completed?: boolean }),
    );
    const seamKills = seamFired.length;
    const seamAfter = new Map<string, number>();
    for (const fired of seamFired) {
      const what = fired.deployed ? 'deploy' : fired.completed ? 'complete' : fired.intent;
      seamAfter.set(what, (seamAfter.get(what) ?? 0) + 1);
    }
    const posts = slack.messages();
    const byStatus = (status: string) =>
      picture.releases.filter(({ release }) => release.status === status).length;
    const byFate = (fate: Fate) => plans.filter((plan) => plan.fate === fate).length;
    const headers = posts.filter((message) => message.channel === CHANNEL && !message.thread_ts).length;
    const threadPosts = posts.filter((message) => message.thread_ts !== undefined).length;
    const announcements = posts.filter((message) => STAKEHOLDERS.includes(message.channel)).length;
    const directMessages = posts.filter((message) => message.channel.startsWith('D')).length;
    const { counts } = picture;
    console.log(
      [
        `kill after commit (seed ${seed}): ${((Date.now() - runStarted) / 1000).toFixed(1)} s in all, ` +
          `releases driven in ${((drivenAt - runStarted) / 1000).toFixed(1)} s${driven === 'deadline' ? ' (DEADLINE)' : ''}, ` +
          `settled ${(settledMs / 1000).toFixed(1)} s later`,
        `  settling waited last (until +${((lastWait.at - drivenAt) / 1000).toFixed(1)} s) for: ${lastWait.for.join('; ') || 'nothing'}`,
        `  releases: ${plans.length} (${byStatus('completed')} completed, ${byStatus('rolled_back')} rolled back ` +
          `[${byFate('checkin-rollback')} from a check-in, ${byFate('header-rollback')} from the header], ` +
          `${byStatus('cancelled')} cancelled, ${picture.releases.filter(({ release }) => !ENDED.has(release.status)).length} not ended)`,
        `  requests: ${sent.clicks} clicks, ${sent.submissions} modal submissions, ${sent.commands} commands; ` +
          `${sent.lost} lost with their process and sent again, ${sent.refused} answered non-200`,
        `  processes: ${killer.starts} started (${INSTANCE_COUNT} at first, ${killer.starts - INSTANCE_COUNT} restarts, ` +
          `${killer.failedStarts} died coming up); killed by the seam ${seamKills} ` +
          `(after ${[...seamAfter].map(([what, times]) => `${what} ${times}`).join(', ') || 'nothing'}), ` +
          `by the test ${killer.testKills}`,
        ...killer.startFailures
          .slice(0, 2)
          .map((failure) => `    died coming up: ${failure.replace(/\s+/g, ' ')}`),
        `  slack: ${slack.calls.length} calls; ${posts.length} messages posted: ${headers} headers, ` +
          `${threadPosts} in threads, ${announcements} announcements, ${directMessages} DMs; ` +
          `${counts.retroDrafts} retrospective drafts, ${counts.logs} deployment logs, ${counts.notices} cancel notices`,
        `  announcements: ${STAKEHOLDERS.map((channel) => `${channel} ${counts.announcements[channel]}`).join(', ')} ` +
          `(expected ${counts.announcementsExpected} in each)`,
        `  check-ins: ${counts.checkinsPlanned} planned, ${counts.checkinsPosted} posted once, ` +
          `${counts.checkinsNotPosted} not posted (their release ended first)`,
        `  left over: ${work.pending} jobs due, ${work.unrelayed} releases unrelayed; ${picture.problems.length} problems`,
      ].join('\n'),
    );
    if (picture.problems.length > 0) {
      const failing = picture.releases.filter(({ release, plan }) =>
        picture.problems.some((problem) => problem.startsWith(`${plan.version} (${release.id}`)),
      );
      // For the post-mortem: every process's log, what Redis says each failing release's messages
      // show, and every Slack call in order (with the ts it was about and the delivery key it carried).
      const start = slack.calls[0]?.at ?? 0;
      const calls = slack.calls.map((call) => {
        const metadata = call.args.metadata as { event_payload?: { key?: unknown } } | string | undefined;
        const key = typeof metadata === 'object' ? metadata?.event_payload?.key : metadata;
        const about = ['channel', 'ts', 'thread_ts'].map(
          (name) => `${name}=${String(call.args[name] ?? '')}`,
        );
        return `+${call.at - start}ms ${call.method} → ${call.answered}${call.error ? ` ${call.error}` : ''} ${about.join(' ')} key=${String(key ?? '')} ${String(call.args.text ?? '').slice(0, 80)}`;
      });
      const recorded = await Promise.all(
        failing.map(async ({ plan, release }) => {
          const refs = await client.hgetall(store.keys.releaseMessages(TEAM_ID, release.id));
          return `==== ${plan.version} (${release.id}) messages in Redis\n${JSON.stringify(refs, null, 1)}`;
        }),
      ).catch((error: unknown) => [`==== messages in Redis unreadable: ${String(error)}`]);
      const logFile = path.join(tmpdir(), `kill-after-commit-${seed}.log`);
      await writeFile(
        logFile,
        [
          ...bot.spawned.map((run, index) => `==== process ${index + 1}\n${run.output()}`),
          ...recorded,
          `==== Slack calls\n${calls.join('\n')}`,
        ].join('\n'),
      );
      console.log(
        `the processes' logs, the failing releases' messages in Redis and every Slack call: ${logFile}`,
      );
      for (const { plan, release, audit } of failing.slice(0, 3)) {
        console.log(
          `${plan.version} (${release.id}) audit trail:\n${audit
            .map(
              (event) =>
                `  ${new Date(event.at).toISOString()} ${event.type} ${event.from}→${event.to} ${event.itemId ?? ''}`,
            )
            .join('\n')}`,
        );
      }
    }

    expect(picture.problems).toEqual([]);
    expect(driven, 'every release reached its end before the deadline').toBe('done');
    expect({ jobs: work.ids, unrelayed: work.unrelayed }).toEqual({ jobs: [], unrelayed: 0 });
    // The premise: processes did die, by the seam and by the test, and were replaced.
    expect(seamKills).toBeGreaterThan(0);
    expect(killer.testKills).toBeGreaterThan(0);
    expect(killer.starts).toBeGreaterThan(INSTANCE_COUNT);
  },
  DRIVE_DEADLINE_MS + SETTLE_DEADLINE_MS + 30_000,
);

/** The delivery key a post carries in its metadata (src/jobs/delivery.ts). */
function deliveryKey(message: StoredMessage): string | undefined {
  const key = message.metadata?.event_payload.key;
  return typeof key === 'string' ? key : undefined;
}
