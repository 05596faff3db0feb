import type { Redis } from 'ioredis';
import {
  createSlashCommand,
  encodeSlashCommand,
  postSigned,
  SLACK_TEAM,
} from '../test/support/slack-requests.js';
import type { SlackCall, SlackStandIn } from '../test/support/slack-stand-in.js';
import {
  type HistogramFigures,
  histogramBetween,
  histogramQuantile,
  RELAY_LAG_METRIC,
  readHistogram,
} from './metrics.js';
import { readCommandStats, redisCpuMs, subtractCounts, topCommands, totalOf } from './redis-stats.js';
import { cpuTimeMs, type ProcessMemory, processMemory } from './servers.js';

// The reminder-lateness benchmark: 1,000 releases started through signed `/deploy start … at <window>`
// commands, every one with the same window, 10 phases due T+0, T+5s … T+45s: 10,000 delayed BullMQ
// jobs. It runs twice: `steady`, where the releases use five templates whose phases are due 0–4 s
// later, so 200 reminders fall due every second for 50 s; and `burst`, one template, so 1,000 fall due
// at the same instant every 5 s. Lateness is when the Slack stand-in received each reminder post minus
// the moment it was due. See bench/README.md.

const TEAM_ID = SLACK_TEAM.id;
export const REMIND_TEMPLATE_ID = 'bench-remind';
export const REMIND_PHASES = 10;
/** Phase n is due n × this many seconds after the window: all within one minute. */
export const REMIND_SPACING_S = 5;
export const REMIND_ITEMS_PER_PHASE = 3;
export const REMIND_INTERVAL = '1h';
export const REMIND_QUIET_HOURS = '00:00-00:00';
/** In the steady run, release n uses the template whose phases are due (n mod this) seconds later. */
export const STEADY_SHIFTS = 5;

/** How the reminders fall due: 200 every second (steady), or 1,000 at one instant every 5 s (burst). */
export type ReminderMode = 'steady' | 'burst';
export const REMINDER_MODES: readonly ReminderMode[] = ['steady', 'burst'];

/** The template whose phases are due `shiftS` seconds after those of the plain one. */
export function remindTemplateId(shiftS: number): string {
  return shiftS === 0 ? REMIND_TEMPLATE_ID : `${REMIND_TEMPLATE_ID}-plus${shiftS}s`;
}

/** Names of one run's releases, channels and owners, apart from the other run's. */
function namesFor(mode: ReminderMode) {
  const letter = mode === 'burst' ? 'B' : 'S';
  const releasePrefix = `r${letter.toLowerCase()}-`;
  return {
    releasePrefix,
    release: (index: number) => `${releasePrefix}${pad4(index + 1)}`,
    channel: (index: number) => `C0${letter}${pad4(index + 1)}`,
    owner: (index: number) => `U0R${letter}${pad4(index + 1)}`,
    /** A DM goes to the owner's user id first, then to the DM id the answer named (U0RB0001: D0RB0001). */
    dmPattern: new RegExp(`^[UD]0R${letter}(\\d{4})$`),
  };
}
const DEFAULT_RELEASES = 1000;
/** With --quick: enough releases to exercise every step. */
const QUICK_RELEASES = 20;
const CREATE_CONCURRENCY = 20;
/** How long after the last due moment the bench waits for reminders that have not arrived. */
const LATE_TIMEOUT_MS = 5 * 60_000;
/** Time to create the releases and post their first messages, planned before the window is picked. */
const CREATE_BASE_MS = 15_000;
/** Measured: about 65 ms per release (two paced posts each, 16 sync jobs at a time), plus headroom. */
const CREATE_PER_RELEASE_MS = 75;
/** The window is at least this long after the creation is expected to be over. */
const WINDOW_MARGIN_MS = 10_000;
/** After every reminder arrived: how long to wait for the jobs to finish (audit event, next reminder). */
const SETTLE_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pad4 = (value: number) => String(value).padStart(4, '0');
const phaseName = (phaseIndex: number) => `Phase ${String(phaseIndex + 1).padStart(2, '0')}`;
const phaseOffsetMs = (phaseIndex: number) => phaseIndex * REMIND_SPACING_S * 1000;

/** How many releases to start: BENCH_REMINDER_RELEASES (1–1000) when set, else 20 with --quick, else 1,000. */
export function reminderReleaseCount(quick = false): number {
  const raw = process.env.BENCH_REMINDER_RELEASES;
  if (raw === undefined || raw.trim() === '') return quick ? QUICK_RELEASES : DEFAULT_RELEASES;
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1 || count > DEFAULT_RELEASES) {
    throw new Error(`BENCH_REMINDER_RELEASES must be a whole number from 1 to ${DEFAULT_RELEASES}`);
  }
  return count;
}

/** The longest this part can take, for the watchdog. */
export function reminderBudgetMs(releases: number): number {
  const create = CREATE_BASE_MS + releases * CREATE_PER_RELEASE_MS + WINDOW_MARGIN_MS + 60_000;
  return create + phaseOffsetMs(REMIND_PHASES - 1) + LATE_TIMEOUT_MS + SETTLE_TIMEOUT_MS + 60_000;
}

export function remindTemplateYaml(shiftS = 0): string {
  const lines = [
    `# Written by bench/run.ts: ${REMIND_PHASES} phases of ${REMIND_ITEMS_PER_PHASE} required items, due ${REMIND_SPACING_S} s apart from T+${shiftS}s.`,
    `id: ${remindTemplateId(shiftS)}`,
    `name: Reminder bench${shiftS === 0 ? '' : ` (+${shiftS} s)`}`,
    'phases:',
  ];
  for (let phase = 0; phase < REMIND_PHASES; phase++) {
    const offset = shiftS + phase * REMIND_SPACING_S;
    lines.push(
      `  - id: p${phase + 1}`,
      `    name: ${phaseName(phase)}`,
      `    due: ${offset === 0 ? 'T+0' : `T+${offset}s`}`,
      '    items:',
    );
    for (let item = 0; item < REMIND_ITEMS_PER_PHASE; item++) {
      lines.push(
        `      - id: p${phase + 1}-i${item + 1}`,
        `        text: Reminder bench item ${item + 1} of phase ${phase + 1}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface ReminderContext {
  standIn: SlackStandIn;
  redis: Redis;
  prefix: string;
  signingSecret: string;
  shipUrl: string;
  metricsUrl: string;
  /** Every shipcheck process that runs the job queues: their CPU adds up. The first one took the commands. */
  shipPids: (number | undefined)[];
  /** How many releases to start (reminderReleaseCount). */
  releases: number;
  mode: ReminderMode;
  progress: (line: string) => void;
}

export interface Distribution {
  count: number;
  p50: number;
  p99: number;
  max: number;
  min: number;
}

export interface MemoryGroup {
  keys: number;
  bytes: number;
}

export interface MemorySnapshot {
  usedMemory: number;
  keys: number;
  /** MEMORY USAGE (SAMPLES 0) of every key under the prefix, by kind of key. */
  groups: Map<string, MemoryGroup>;
  scanMs: number;
}

export interface BurstRow {
  phaseIndex: number;
  offsetS: number;
  arrived: number;
  lateness: Distribution;
  /** shipcheck's CPU time from the burst's due moment to its last arrival, as a share of that time. */
  shipCpuShare: number;
}

export interface ReminderResult {
  mode: ReminderMode;
  releases: number;
  /** shipcheck processes running the job queues (the main one and any extra workers). */
  processes: number;
  expected: number;
  windowAt: number;
  windowText: string;
  createMs: number;
  createAcks: Distribution;
  createFailures: string[];
  refusals: string[];
  postedMs: number;
  /** Whether every header and first phase message was in Slack before the window. */
  readyBeforeWindow: boolean;
  headersPosted: number;
  delayedJobs: number;
  windowMismatches: number;
  arrived: number;
  duplicates: number;
  unknownReminders: number;
  lateness: Distribution;
  /** The owner's direct message of each reminder: arrival − due, like the thread post. */
  dmArrived: number;
  dmDuplicates: number;
  dmLateness: Distribution;
  bursts: BurstRow[];
  /** processedOn − due, from the BullMQ job hashes (kept for 7 days after completion). */
  dequeue: Distribution;
  /** Arrival at Slack − processedOn: the handler's Redis reads, the pacer and the HTTP call. */
  handler: Distribution;
  /** finishedOn − arrival: the audit event and the next reminder of the series. */
  afterPost: Distribution;
  jobsWithRetries: number;
  jobsRead: number;
  metric: { count: number; p50: number; p99: number; buckets: string } | undefined;
  /**
   * The relay's lag from the main process's /metrics histogram (bucket-interpolated): the releases'
   * "started" events while they were created, and the reminders' records while they fired.
   */
  relayLag: { creation: HistogramFigures | undefined; firing: HistogramFigures | undefined };
  finished: { completed: number; failed: number } | undefined;
  firingMs: number;
  shipCpuMs: number | undefined;
  clientCpuMs: number;
  redisCpuMs: number;
  redisCommands: number;
  redisTop: [string, number][];
  usersInfoCalls: number;
  otherSlackCalls: Map<string, number>;
  pacedCandidates: number;
  auditBefore: number;
  auditAfter: number;
  completedAfter: number;
  delayedAfter: number;
  memBefore: MemorySnapshot;
  memCreated: MemorySnapshot;
  memAfter: MemorySnapshot | undefined;
  /** RSS of the shipcheck process that took the commands (the first of shipPids). */
  rss: {
    /** At the start of this part, before any release of it. */
    before: ProcessMemory | undefined;
    /** Once every release was created and posted, just before the window. */
    created: ProcessMemory | undefined;
    /** After every reminder fired and its job finished. */
    after: ProcessMemory | undefined;
  };
  notes: string[];
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index]!;
}

export function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    min: sorted[0] ?? Number.NaN,
  };
}

/** Reads new Slack calls since the last take; the stand-in only ever appends. */
class CallCursor {
  private index: number;
  constructor(private readonly standIn: SlackStandIn) {
    this.index = standIn.calls.length;
  }
  take(): SlackCall[] {
    const calls = this.standIn.calls.slice(this.index);
    this.index += calls.length;
    return calls;
  }
}

function groupOf(key: string, prefix: string): string {
  const rest = key.slice(prefix.length + 1);
  const release = /^\{[^}]+\}:release:[^:]+(?::(\w+))?$/.exec(rest);
  if (release) return `release ${release[1] ?? 'meta'}`;
  if (/^\{[^}]+\}:applied:/.test(rest)) return 'applied-request markers';
  if (/^\{[^}]+\}:version:/.test(rest)) return 'version index';
  if (rest.startsWith('{jobs}:schedule:')) {
    const name = rest.slice('{jobs}:schedule:'.length);
    if (name.startsWith('remind-'))
      return name.includes(':') ? 'reminder job (sub-key)' : 'reminder job hash';
    return 'schedule queue structures';
  }
  if (rest.startsWith('{jobs}:')) return 'other queues';
  if (rest.startsWith('pace:')) return 'pacers';
  return 'other';
}

export async function memorySnapshot(redis: Redis, prefix: string): Promise<MemorySnapshot> {
  const started = performance.now();
  const usedMemory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
  const groups = new Map<string, MemoryGroup>();
  let keys = 0;
  let cursor = '0';
  // Bounded: a scan of the prefix ends within a few hundred rounds for the ~50,000 keys this makes.
  for (let round = 0; round < 10_000; round++) {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 2000);
    cursor = next;
    if (batch.length > 0) {
      const pipeline = redis.pipeline();
      for (const key of batch) pipeline.call('memory', 'usage', key, 'samples', '0');
      const replies = (await pipeline.exec()) ?? [];
      batch.forEach((key, index) => {
        const bytes = Number(replies[index]?.[1] ?? 0);
        const group = groups.get(groupOf(key, prefix)) ?? { keys: 0, bytes: 0 };
        group.keys += 1;
        group.bytes += Number.isFinite(bytes) ? bytes : 0;
        groups.set(groupOf(key, prefix), group);
      });
      keys += batch.length;
    }
    if (cursor === '0') break;
  }
  return { usedMemory, keys, groups, scanMs: performance.now() - started };
}

function totalBytes(snapshot: MemorySnapshot): number {
  let total = 0;
  for (const group of snapshot.groups.values()) total += group.bytes;
  return total;
}

async function readMetrics(url: string): Promise<{
  metric: ReminderResult['metric'];
  finished: ReminderResult['finished'];
}> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  const buckets: [number, number][] = [];
  let finished: ReminderResult['finished'];
  for (const line of text.split('\n')) {
    const bucket = /^shipcheck_job_lateness_seconds_bucket\{(.*)\} (\S+)$/.exec(line);
    if (bucket && /queue="schedule"/.test(bucket[1]!)) {
      const le = /le="([^"]+)"/.exec(bucket[1]!)?.[1] ?? '+Inf';
      buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(bucket[2])]);
    }
    const done = /^shipcheck_jobs_finished_total\{(.*)\} (\S+)$/.exec(line);
    if (done && /queue="schedule"/.test(done[1]!)) {
      finished ??= { completed: 0, failed: 0 };
      if (/outcome="completed"/.test(done[1]!)) finished.completed += Number(done[2]);
      if (/outcome="failed"/.test(done[1]!)) finished.failed += Number(done[2]);
    }
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const count = buckets.at(-1)?.[1] ?? 0;
  if (count === 0) return { metric: undefined, finished };
  let previous = 0;
  const shown = buckets
    .map(([bound, cumulative]) => {
      const inBucket = cumulative - previous;
      previous = cumulative;
      return inBucket > 0 ? `≤${Number.isFinite(bound) ? bound : '∞'} s: ${inBucket}` : '';
    })
    .filter(Boolean)
    .join(', ');
  return {
    metric: {
      count,
      p50: histogramQuantile(buckets, 0.5),
      p99: histogramQuantile(buckets, 0.99),
      buckets: shown,
    },
    finished,
  };
}

/** CPU time used between two moments (from the samples just outside them) ÷ the time between those samples. */
function cpuShareBetween(samples: [number, number][], from: number, to: number): number {
  const before = samples.findLast(([at]) => at <= from);
  const after = samples.find(([at]) => at >= to);
  if (!before || !after || after[0] <= before[0]) return Number.NaN;
  return (after[1] - before[1]) / (after[0] - before[0]);
}

function windowTextFor(windowAt: number): string {
  const iso = new Date(windowAt).toISOString();
  return `at ${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** Sums XLEN of every release's audit stream. */
async function auditTotal(redis: Redis, prefix: string, releaseIds: string[]): Promise<number> {
  const pipeline = redis.pipeline();
  for (const id of releaseIds) pipeline.xlen(`${prefix}:{${TEAM_ID}}:release:${id}:audit`);
  const replies = (await pipeline.exec()) ?? [];
  return replies.reduce((sum, [, value]) => sum + Number(value ?? 0), 0);
}

/** CPU time of all the shipcheck processes together, or undefined if any cannot be read. */
function shipCpuMs(pids: (number | undefined)[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const cpu = cpuTimeMs(pid);
    if (cpu === undefined) return undefined;
    total += cpu;
  }
  return total;
}

export async function runReminderBench(ctx: ReminderContext): Promise<ReminderResult> {
  const { standIn, redis, prefix, progress } = ctx;
  const { releases, mode } = ctx;
  const names = namesFor(mode);
  const expected = releases * REMIND_PHASES;
  const notes: string[] = [];
  const channels = Array.from({ length: releases }, (_unused, index) => names.channel(index));
  const shiftS = (index: number) => (mode === 'steady' ? index % STEADY_SHIFTS : 0);
  const maxShiftS = mode === 'steady' ? Math.min(releases, STEADY_SHIFTS) - 1 : 0;
  const channelIndex = new Map(channels.map((channel, index) => [channel, index]));
  const queueKey = (name: string) => `${prefix}:{jobs}:schedule:${name}`;

  const memBefore = await memorySnapshot(redis, prefix);
  const rssBefore = processMemory(ctx.shipPids[0]);
  // The relay's histogram is read between the steps; a page that cannot be read leaves the figure out.
  const relayHistogram = () => readHistogram(ctx.metricsUrl, RELAY_LAG_METRIC).catch(() => undefined);
  const relayBeforeCreate = await relayHistogram();
  // Every release gets the same window: the first whole minute after the creation is expected to end.
  const plannedMs = CREATE_BASE_MS + releases * CREATE_PER_RELEASE_MS + WINDOW_MARGIN_MS;
  const windowAt = Math.ceil((Date.now() + plannedMs) / 60_000) * 60_000;
  const windowText = windowTextFor(windowAt);
  const lastDue = windowAt + maxShiftS * 1000 + phaseOffsetMs(REMIND_PHASES - 1);
  const dueAt = (index: number, phaseIndex: number) =>
    windowAt + shiftS(index) * 1000 + phaseOffsetMs(phaseIndex);
  progress(
    `reminders (${mode}): starting ${releases} releases (${CREATE_CONCURRENCY} at a time), window ${new Date(windowAt).toISOString()}, ${Math.round((windowAt - Date.now()) / 1000)} s from now`,
  );

  // 1. The releases, through signed slash commands.
  const cursor = new CallCursor(standIn);
  const createStart = performance.now();
  const acks: number[] = [];
  const createFailures: string[] = [];
  let next = 0;
  const creator = async () => {
    while (next < releases) {
      const index = next++;
      const fields = createSlashCommand({
        text: `start ${names.release(index)} staging ${remindTemplateId(shiftS(index))} ${windowText}`,
        channel_id: channels[index]!,
        user_id: names.owner(index),
        response_url: standIn.responseUrl(names.release(index)),
      });
      try {
        const answer = await postSigned(ctx.shipUrl, encodeSlashCommand(fields), {
          signingSecret: ctx.signingSecret,
          timeoutMs: 10_000,
        });
        acks.push(answer.ms);
        // A refusal Bolt can answer at once (a bad window) comes in the ack's own body.
        if (answer.status !== 200 || answer.body !== '') {
          createFailures.push(`${names.release(index)}: ${answer.status} ${answer.body.slice(0, 200)}`);
        }
      } catch (error) {
        createFailures.push(`${names.release(index)}: ${String(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, () => creator()));
  const createMs = performance.now() - createStart;
  progress(`reminders: ${releases} commands answered in ${(createMs / 1000).toFixed(1)} s`);

  // 2. Until every release's header and first phase message are in Slack (a reminder needs the header).
  const hasHeader = new Set<number>();
  const hasPart = new Set<number>();
  let postedMs = Number.NaN;
  const readyDeadline = windowAt - 1000;
  while (Date.now() < readyDeadline) {
    for (const call of cursor.take()) {
      if (call.method !== 'chat.postMessage') continue;
      const index = channelIndex.get(String(call.args.channel));
      if (index === undefined) continue;
      (call.args.thread_ts ? hasPart : hasHeader).add(index);
    }
    if (hasHeader.size === releases && hasPart.size === releases) {
      postedMs = performance.now() - createStart;
      break;
    }
    await sleep(200);
  }
  const readyBeforeWindow = Number.isFinite(postedMs);
  const relayAfterCreate = await relayHistogram();
  // The message refs are saved just after each post; let the last ones land before counting memory.
  if (readyBeforeWindow) await sleep(Math.min(1000, Math.max(0, windowAt - 5000 - Date.now())));
  if (!readyBeforeWindow) {
    notes.push(
      `not every release was posted before the window: ${hasHeader.size} headers and ${hasPart.size} first phase messages of ${releases}; the rest fire late or retry`,
    );
  }
  progress(
    `reminders: ${hasHeader.size} headers posted${readyBeforeWindow ? ` after ${(postedMs / 1000).toFixed(1)} s` : ' (not all)'}; ${Math.round((windowAt - Date.now()) / 1000)} s to the window`,
  );
  const refusals = standIn.responses
    .filter((response) => response.tag.startsWith(names.releasePrefix))
    .map((response) => `${response.tag}: ${JSON.stringify(response.body).slice(0, 200)}`);

  // Where each release is: its id (from the active index), its header ts (from the stand-in).
  const active = await redis.hgetall(`${prefix}:{${TEAM_ID}}:active`);
  const releaseIds: (string | undefined)[] = channels.map(
    (_channel, index) => active[`staging|${names.release(index)}`],
  );
  const knownIds = releaseIds.filter((id): id is string => id !== undefined);
  const windowPipeline = redis.pipeline();
  for (const id of knownIds) windowPipeline.hget(`${prefix}:{${TEAM_ID}}:release:${id}`, 'windowAt');
  const windows = (await windowPipeline.exec()) ?? [];
  const windowMismatches = windows.filter(([, value]) => Number(value) !== windowAt).length;
  const headerTs = new Map<string, string>();
  for (const message of standIn.messages()) {
    if (!message.thread_ts && channelIndex.has(message.channel) && !headerTs.has(message.channel)) {
      headerTs.set(message.channel, message.ts);
    }
  }
  const delayedJobs = await redis.zcard(queueKey('delayed'));
  const auditBefore = await auditTotal(redis, prefix, knownIds);
  const memCreated = await memorySnapshot(redis, prefix);
  const rssCreated = processMemory(ctx.shipPids[0]);
  progress(
    `reminders: ${delayedJobs} delayed jobs, ${memCreated.keys - memBefore.keys} new keys; scanned in ${memCreated.scanMs.toFixed(0)} ms`,
  );
  if (Date.now() > windowAt - 500) notes.push('the memory scan after creation ran into the window');

  // 3. The firing: from just before the window until every reminder arrived (or the timeout).
  while (Date.now() < windowAt - 1000) await sleep(Math.min(500, windowAt - 1000 - Date.now()));
  cursor.take();
  const relayBeforeFiring = await relayHistogram();
  const statsBefore = await readCommandStats(redis);
  const redisCpuBefore = await redisCpuMs(redis);
  const shipCpuBefore = shipCpuMs(ctx.shipPids);
  const clientBefore = process.cpuUsage();
  const firingStart = performance.now();
  progress(
    `reminders (${mode}): waiting for ${expected} reminders (due from the window to +${(lastDue - windowAt) / 1000} s)`,
  );

  const arrivals = new Map<number, number>(); // release × phases + phase → arrival (ms since epoch)
  const lateByPhase: number[][] = Array.from({ length: REMIND_PHASES }, () => []);
  const lateness: number[] = [];
  // Each reminder also goes to its owner by DM.
  const dmArrivals = new Map<number, number>();
  const dmLateness: number[] = [];
  let dmDuplicates = 0;
  const lastPostAt = new Map<string, number>();
  const otherSlackCalls = new Map<string, number>();
  let duplicates = 0;
  let unknownReminders = 0;
  let usersInfoCalls = 0;
  let pacedCandidates = 0;
  let lastReport = Date.now();
  // shipcheck's CPU time, sampled as the arrivals come in, to tell a busy event loop from waiting.
  const cpuSamples: [number, number][] = [];
  const arrivalDeadline = lastDue + LATE_TIMEOUT_MS;
  while ((arrivals.size < expected || dmArrivals.size < expected) && Date.now() < arrivalDeadline) {
    for (const call of cursor.take()) {
      if (call.method === 'users.info') {
        usersInfoCalls += 1;
        continue;
      }
      const text = String(call.args.text ?? '');
      const dm = /^Your open items: .* of Phase (\d+) in /.exec(text);
      // The first DM to a person goes to their user id, later ones to the DM the answer named.
      const dmOwner = names.dmPattern.exec(String(call.args.channel));
      if (call.method === 'chat.postMessage' && dm && dmOwner) {
        const slot = (Number(dmOwner[1]) - 1) * REMIND_PHASES + Number(dm[1]) - 1;
        if (dmArrivals.has(slot)) {
          dmDuplicates += 1;
          continue;
        }
        dmArrivals.set(slot, call.at);
        dmLateness.push(call.at - dueAt(Number(dmOwner[1]) - 1, Number(dm[1]) - 1));
        continue;
      }
      if (call.method !== 'chat.postMessage' || !text.startsWith('Reminder: ')) {
        otherSlackCalls.set(call.method, (otherSlackCalls.get(call.method) ?? 0) + 1);
        continue;
      }
      const channel = String(call.args.channel);
      const index = channelIndex.get(channel);
      const phase = /^Reminder: Phase (\d+) of /.exec(text);
      const phaseIndex = phase ? Number(phase[1]) - 1 : -1;
      if (
        index === undefined ||
        phaseIndex < 0 ||
        phaseIndex >= REMIND_PHASES ||
        String(call.args.thread_ts) !== headerTs.get(channel)
      ) {
        unknownReminders += 1;
        continue;
      }
      const previous = lastPostAt.get(channel);
      if (previous !== undefined && call.at - previous < 1000) pacedCandidates += 1;
      lastPostAt.set(channel, call.at);
      const slot = index * REMIND_PHASES + phaseIndex;
      if (arrivals.has(slot)) {
        duplicates += 1;
        continue;
      }
      arrivals.set(slot, call.at);
      const late = call.at - dueAt(index, phaseIndex);
      lateness.push(late);
      lateByPhase[phaseIndex]!.push(late);
    }
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      progress(`reminders (${mode}): ${arrivals.size}/${expected} arrived`);
    }
    const cpuNow = shipCpuMs(ctx.shipPids);
    if (cpuNow !== undefined) cpuSamples.push([Date.now(), cpuNow]);
    if (arrivals.size < expected || dmArrivals.size < expected) await sleep(50);
  }
  progress(`reminders (${mode}): ${arrivals.size}/${expected} arrived; waiting for the jobs to finish`);

  // The jobs go on after their post: an audit event, then the next reminder (1 h later).
  const settleDeadline = Date.now() + SETTLE_TIMEOUT_MS;
  let completedAfter = 0;
  let delayedAfter = 0;
  while (Date.now() < settleDeadline) {
    completedAfter = await redis.zcard(queueKey('completed'));
    delayedAfter = await redis.zcard(queueKey('delayed'));
    const busy =
      (await redis.llen(queueKey('active'))) + (await redis.llen(queueKey('wait'))) > 0 ||
      completedAfter < arrivals.size;
    if (!busy) break;
    await sleep(250);
  }
  const firingMs = performance.now() - firingStart;
  const relayAfterFiring = await relayHistogram();
  const shipCpuAfter = shipCpuMs(ctx.shipPids);
  const client = process.cpuUsage(clientBefore);
  const redisCpu = (await redisCpuMs(redis)) - redisCpuBefore;
  const statsDelta = subtractCounts(await readCommandStats(redis), statsBefore);
  for (const call of cursor.take()) {
    otherSlackCalls.set(call.method, (otherSlackCalls.get(call.method) ?? 0) + 1);
  }

  // 4. Where the time went, from the jobs themselves (completed jobs are kept for 7 days).
  const jobPipeline = redis.pipeline();
  const slots: number[] = [];
  releaseIds.forEach((id, index) => {
    if (!id) return;
    for (let phaseIndex = 0; phaseIndex < REMIND_PHASES; phaseIndex++) {
      const jobId = `remind-${TEAM_ID}-${id}-p${phaseIndex}-w${windowAt}-s0-n0`;
      jobPipeline.hmget(queueKey(jobId), 'processedOn', 'finishedOn', 'atm', 'attemptsMade');
      slots.push(index * REMIND_PHASES + phaseIndex);
    }
  });
  const jobReplies = (await jobPipeline.exec()) ?? [];
  const dequeue: number[] = [];
  const handler: number[] = [];
  const afterPost: number[] = [];
  let jobsWithRetries = 0;
  let jobsRead = 0;
  jobReplies.forEach(([, value], position) => {
    const [processedOn, finishedOn, atm, attemptsMade] = (value as (string | null)[] | null) ?? [];
    if (!processedOn) return;
    jobsRead += 1;
    const slot = slots[position]!;
    const due = dueAt(Math.floor(slot / REMIND_PHASES), slot % REMIND_PHASES);
    dequeue.push(Number(processedOn) - due);
    const arrived = arrivals.get(slot);
    if (arrived !== undefined) {
      handler.push(arrived - Number(processedOn));
      if (finishedOn) afterPost.push(Number(finishedOn) - arrived);
    }
    if (Number(atm ?? attemptsMade ?? 0) > 1) jobsWithRetries += 1;
  });

  const auditAfter = await auditTotal(redis, prefix, knownIds);
  let metrics: Awaited<ReturnType<typeof readMetrics>> = { metric: undefined, finished: undefined };
  try {
    metrics = await readMetrics(ctx.metricsUrl);
  } catch (error) {
    notes.push(`could not read /metrics: ${String(error)}`);
  }
  const memAfter = await memorySnapshot(redis, prefix);
  const rssAfter = processMemory(ctx.shipPids[0]);

  return {
    mode,
    releases,
    expected,
    windowAt,
    windowText,
    createMs,
    createAcks: distribution(acks),
    createFailures,
    refusals,
    postedMs,
    readyBeforeWindow,
    headersPosted: hasHeader.size,
    delayedJobs,
    windowMismatches: windowMismatches + (releases - knownIds.length),
    arrived: arrivals.size,
    duplicates,
    unknownReminders,
    processes: ctx.shipPids.length,
    lateness: distribution(lateness),
    dmArrived: dmArrivals.size,
    dmDuplicates,
    dmLateness: distribution(dmLateness),
    bursts: lateByPhase.map((values, phaseIndex) => {
      const lateness = distribution(values);
      const due = windowAt + phaseOffsetMs(phaseIndex);
      // From the phase's first due moment to its last arrival (its five due seconds, when steady).
      const spanMs = maxShiftS * 1000 + lateness.max;
      return {
        phaseIndex,
        offsetS: phaseOffsetMs(phaseIndex) / 1000,
        arrived: values.length,
        lateness,
        shipCpuShare: cpuShareBetween(cpuSamples, due, due + spanMs),
      };
    }),
    dequeue: distribution(dequeue),
    handler: distribution(handler),
    afterPost: distribution(afterPost),
    jobsWithRetries,
    jobsRead,
    metric: metrics.metric,
    relayLag: {
      creation: histogramBetween(relayBeforeCreate, relayAfterCreate),
      firing: histogramBetween(relayBeforeFiring, relayAfterFiring),
    },
    finished: metrics.finished,
    firingMs,
    shipCpuMs:
      shipCpuBefore !== undefined && shipCpuAfter !== undefined ? shipCpuAfter - shipCpuBefore : undefined,
    clientCpuMs: (client.user + client.system) / 1000,
    redisCpuMs: redisCpu,
    redisCommands: totalOf(statsDelta),
    redisTop: topCommands(statsDelta, 8),
    usersInfoCalls,
    otherSlackCalls,
    pacedCandidates,
    auditBefore,
    auditAfter,
    completedAfter,
    delayedAfter,
    memBefore,
    memCreated,
    memAfter,
    rss: { before: rssBefore, created: rssCreated, after: rssAfter },
    notes,
  };
}

// ---- report -------------------------------------------------------------------------------------

const fixed = (value: number, digits = 0) =>
  Number.isFinite(value) ? (Math.abs(value) < 0.5 * 10 ** -digits ? 0 : value).toFixed(digits) : 'n/a';
const kib = (bytes: number, digits = 1) => fixed(bytes / 1024, digits);
const thousands = (value: number) => value.toLocaleString('en-US');

/** Whether reminder p99 lateness was under 1 s, with the figures. */
export function reminderTarget(result: ReminderResult | undefined): { met: boolean; detail: string } {
  if (!result || result.lateness.count === 0) return { met: false, detail: 'no reminder arrived' };
  // A reminder is its thread post and its owner's DM: both count.
  const all = result.arrived === result.expected && result.dmArrived === result.expected;
  const met = all && result.lateness.p99 < 1000 && result.dmLateness.p99 < 1000;
  return {
    met,
    detail: `${result.mode === 'steady' ? `steady, ${thousands(Math.ceil(result.releases / STEADY_SHIFTS))} due every second` : `burst, ${thousands(result.releases)} due at one instant every ${REMIND_SPACING_S} s`}: p99 ${fixed(result.lateness.p99)} ms (thread posts), ${fixed(result.dmLateness.p99)} ms (owner DMs); p50 ${fixed(result.lateness.p50)} ms; ${thousands(result.expected)} reminders across ${thousands(result.releases)} releases${all ? '' : `; only ${result.arrived} and ${result.dmArrived} of ${result.expected} arrived`}`,
  };
}

/** The relay's lag in this run, from the histogram: bucket-interpolated estimates, not measurements. */
export function relayLagText(result: ReminderResult): string {
  const figures = (what: string, lag: HistogramFigures | undefined) =>
    lag
      ? `${what}: p50 ≈ ${fixed(lag.p50 * 1000)} ms, p99 ≈ ${fixed(lag.p99 * 1000)} ms (${thousands(lag.count)} events)`
      : `${what}: no observations`;
  return `\`${RELAY_LAG_METRIC}\` of the main process, interpolated in its buckets: ${figures(`${thousands(result.releases)} releases created ${CREATE_CONCURRENCY} at a time (their "started" events)`, result.relayLag.creation)}; ${figures(`${thousands(result.expected)} reminders firing (their records)`, result.relayLag.firing)}`;
}

/**
 * Redis memory per release, two ways: MEMORY USAGE of the keys under the bench's prefix (only this run's
 * keys), and INFO used_memory (server-wide, so other clients of this Redis move it).
 */
export function redisBytesPerRelease(result: ReminderResult): { keys: number; usedMemory: number } {
  return {
    keys: (totalBytes(result.memCreated) - totalBytes(result.memBefore)) / result.releases,
    usedMemory: (result.memCreated.usedMemory - result.memBefore.usedMemory) / result.releases,
  };
}

export function reminderSection(result: ReminderResult): string[] {
  const r = result;
  const lines: string[] = [];
  const out = (line = '') => lines.push(line);
  const perRelease = (bytes: number) => bytes / r.releases;
  const dist = (d: Distribution) =>
    `p50 ${fixed(d.p50)} ms, p99 ${fixed(d.p99)} ms, max ${fixed(d.max)} ms (min ${fixed(d.min)} ms, n ${d.count})`;
  const runNames = namesFor(r.mode);
  const steady = r.mode === 'steady';
  const perSecond = Math.ceil(r.releases / STEADY_SHIFTS);
  out(
    `### Reminder lateness, ${r.mode} (${thousands(r.expected)} reminders, ${thousands(r.releases)} releases, ${steady ? `${thousands(perSecond)} due every second` : `${thousands(r.releases)} due at one instant every ${REMIND_SPACING_S} s`})`,
  );
  out();
  const lastOffsetS = phaseOffsetMs(REMIND_PHASES - 1) / 1000;
  out(
    steady
      ? `- setup: ${thousands(r.releases)} releases started by signed \`/deploy start rs-NNNN staging <template> ${r.windowText}\` commands, ${CREATE_CONCURRENCY} at a time; release n uses template \`${remindTemplateId(0)}\` (n mod ${STEADY_SHIFTS} = 0) or \`${remindTemplateId(1)}\` … \`${remindTemplateId(STEADY_SHIFTS - 1)}\`: ${REMIND_PHASES} phases of ${REMIND_ITEMS_PER_PHASE} required items, due T+k, T+k+${REMIND_SPACING_S}s … T+k+${lastOffsetS}s for k = 0…${STEADY_SHIFTS - 1}. Every release has the same window, so ${thousands(perSecond)} reminders fall due every second for ${lastOffsetS + STEADY_SHIFTS} s`
      : `- setup: ${thousands(r.releases)} releases started by signed \`/deploy start rb-NNNN staging ${REMIND_TEMPLATE_ID} ${r.windowText}\` commands, ${CREATE_CONCURRENCY} at a time; template \`${REMIND_TEMPLATE_ID}\`: ${REMIND_PHASES} phases of ${REMIND_ITEMS_PER_PHASE} required items, due T+0, T+${REMIND_SPACING_S}s … T+${lastOffsetS}s. Every release has the same window, so ${thousands(r.releases)} reminders fall due at the same instant every ${REMIND_SPACING_S} s, all ${thousands(r.expected)} within ${lastOffsetS} s`,
  );
  out(
    `- shipcheck: ${r.processes === 1 ? 'one process (SHIPCHECK_ROLE=all)' : `${r.processes} processes on one Redis: one with SHIPCHECK_ROLE=all and ${r.processes - 1} with SHIPCHECK_ROLE=worker (\`--workers ${r.processes - 1}\`)`}; each reminder is a thread post naming its owner and a DM to the owner, each posted exactly once (lease, metadata marker, record with its audit event)`,
  );
  out(
    `- each release in its own channel (${runNames.channel(0)}…${runNames.channel(r.releases - 1)}) with its own owner (${runNames.owner(0)}…), so the per-channel post pacing (SLACK_POST_INTERVAL_MS 1000) never holds a reminder back: a channel gets one every ${REMIND_SPACING_S} s; REMINDER_INTERVAL ${REMIND_INTERVAL} (each reminder fires once in the run), QUIET_HOURS ${REMIND_QUIET_HOURS}`,
  );
  out(
    `- creation: ${thousands(r.releases)} commands answered in ${fixed(r.createMs / 1000, 1)} s (ack p50 ${fixed(r.createAcks.p50, 1)} ms, p99 ${fixed(r.createAcks.p99, 1)} ms, ${r.createFailures.length} failed, ${r.refusals.length} refused); ${r.readyBeforeWindow ? `every header and first phase message posted after ${fixed(r.postedMs / 1000, 1)} s` : `only ${r.headersPosted} headers posted before the window`}; ${thousands(r.delayedJobs)} delayed reminder jobs; ${r.windowMismatches} releases without the intended window`,
  );
  out(
    `- **lateness** (the stand-in received the reminder post − its due moment: window + phase offset): **p50 ${fixed(r.lateness.p50)} ms, p99 ${fixed(r.lateness.p99)} ms, max ${fixed(r.lateness.max)} ms**; fired ${thousands(r.arrived)} of ${thousands(r.expected)}${r.duplicates > 0 ? `, ${r.duplicates} duplicates` : ', no duplicates'}${r.unknownReminders > 0 ? `, ${r.unknownReminders} unrecognised` : ''}`,
  );
  out(
    `- **owner DMs** (each reminder also goes to its owner by direct message; arrival − due): **p50 ${fixed(r.dmLateness.p50)} ms, p99 ${fixed(r.dmLateness.p99)} ms, max ${fixed(r.dmLateness.max)} ms**; ${thousands(r.dmArrived)} of ${thousands(r.expected)} arrived${r.dmDuplicates > 0 ? `, ${r.dmDuplicates} duplicates` : ', no duplicates'}`,
  );
  out();
  if (steady) {
    out('| phase | due | reminders | p50 ms | p99 ms | max ms | shipcheck CPU while they fire |');
    out('|---|---:|---:|---:|---:|---:|---:|');
  } else {
    out(
      '| phase | due | reminders | p50 ms | p99 ms | max ms (last one of the burst) | reminders/s (burst ÷ max) | shipcheck CPU while draining |',
    );
    out('|---|---:|---:|---:|---:|---:|---:|---:|');
  }
  for (const burst of r.bursts) {
    const due = steady ? `T+${burst.offsetS}…${burst.offsetS + STEADY_SHIFTS - 1}s` : `T+${burst.offsetS}s`;
    const rate = steady ? '' : ` ${fixed((burst.arrived / burst.lateness.max) * 1000)} |`;
    out(
      `| ${phaseName(burst.phaseIndex)} | ${due} | ${burst.arrived} | ${fixed(burst.lateness.p50)} | ${fixed(burst.lateness.p99)} | ${fixed(burst.lateness.max)} |${rate} ${fixed(burst.shipCpuShare * 100)}% |`,
    );
  }
  out();
  out(
    `- from the BullMQ job hashes (${thousands(r.jobsRead)} read): dequeue (processedOn − due) ${dist(r.dequeue)}; handler until Slack had the post (arrival − processedOn) ${dist(r.handler)}; after the post (audit event, next reminder scheduled: finishedOn − arrival) ${dist(r.afterPost)}; jobs that needed a retry: ${r.jobsWithRetries}`,
  );
  if (r.metric) {
    out(
      `- cross-check, \`shipcheck_job_lateness_seconds{queue="schedule"}\` from /metrics (dequeue lateness in the worker): ${thousands(r.metric.count)} observations, p50 ≈ ${fixed(r.metric.p50 * 1000)} ms, p99 ≈ ${fixed(r.metric.p99 * 1000)} ms (interpolated inside the buckets as histogram_quantile() does; they are wide above 0.5 s, so this can sit far from the exact figures above: ${r.metric.buckets})${r.finished ? `; jobs finished: ${r.finished.completed} completed, ${r.finished.failed} failed attempts` : ''}`,
    );
  } else {
    out('- cross-check: /metrics had no reminders lateness observations');
  }
  out(`- relay lag (${relayLagText(r)})`);
  const cpuShare = (ms: number) => `${fixed((ms / r.firingMs) * 100)}% of one core`;
  const other = [...r.otherSlackCalls.entries()].map(([method, count]) => `${method} ${count}`).join(', ');
  out(
    `- during the firing (${fixed(r.firingMs / 1000, 1)} s, from 1 s before the window until every job had finished): shipcheck CPU ${r.shipCpuMs === undefined ? 'n/a' : `${fixed(r.shipCpuMs / r.arrived, 2)} ms per reminder (${cpuShare(r.shipCpuMs)})`}; Redis ${fixed(r.redisCommands / Math.max(1, r.arrived), 1)} commands and ${fixed(r.redisCpuMs / Math.max(1, r.arrived), 3)} ms CPU per reminder (${cpuShare(r.redisCpuMs)}; top: ${r.redisTop.map(([name, count]) => `${name} ${fixed(count / Math.max(1, r.arrived), 1)}`).join(', ')}); the load generator and stand-in ${cpuShare(r.clientCpuMs)}`,
  );
  out(
    `- users.info calls during the firing: ${r.usersInfoCalls} (each owner's zone was cached when the release was started, minutes earlier); other Slack calls: ${other || 'none'}; reminders posted less than 1 s after the previous post in their channel (where pacing could have delayed them): ${r.pacedCandidates}`,
  );
  const created = r.memCreated.usedMemory - r.memBefore.usedMemory;
  const keysCreated = r.memCreated.keys - r.memBefore.keys;
  out(
    `- **Redis memory per release: ${kib(perRelease(totalBytes(r.memCreated) - totalBytes(r.memBefore)))} KiB** (MEMORY USAGE of every key under the bench's prefix after creating ${thousands(r.releases)} releases with their ${thousands(r.delayedJobs)} jobs and audit trails − before, ÷ ${thousands(r.releases)}); ${fixed(keysCreated / r.releases, 1)} keys per release; INFO used_memory ${(r.memBefore.usedMemory / 2 ** 20).toFixed(1)} MiB before, ${(r.memCreated.usedMemory / 2 ** 20).toFixed(1)} MiB after: ${kib(perRelease(created))} KiB per release (server-wide, so other clients of this Redis move it)`,
  );
  if (r.memAfter) {
    const after = r.memAfter.usedMemory - r.memCreated.usedMemory;
    out(
      `- after the reminders fired: ${after >= 0 ? '+' : ''}${kib(perRelease(after))} KiB per release (used_memory ${(r.memAfter.usedMemory / 2 ** 20).toFixed(1)} MiB; ${fixed((r.memAfter.keys - r.memCreated.keys) / r.releases, 1)} more keys per release): ${thousands(r.completedAfter)} completed jobs kept for 7 days, ${thousands(r.delayedAfter)} next reminders delayed by ${REMIND_INTERVAL}, audit trails ${thousands(r.auditBefore)} → ${thousands(r.auditAfter)} events (+${fixed((r.auditAfter - r.auditBefore) / r.releases, 1)} per release), one claim marker per reminder`,
    );
  }
  out();
  out(
    '| key group (MEMORY USAGE) | keys/release after creation | bytes/release after creation | bytes/release after firing |',
  );
  out('|---|---:|---:|---:|');
  const names = new Set([...r.memCreated.groups.keys(), ...(r.memAfter?.groups.keys() ?? [])]);
  const delta = (snapshot: MemorySnapshot | undefined, name: string, field: keyof MemoryGroup) =>
    snapshot
      ? ((snapshot.groups.get(name)?.[field] ?? 0) - (r.memBefore.groups.get(name)?.[field] ?? 0)) /
        r.releases
      : Number.NaN;
  const changed = (name: string) =>
    [delta(r.memCreated, name, 'bytes'), delta(r.memAfter, name, 'bytes')].some(
      (value) => Math.abs(value) >= 0.5,
    );
  for (const name of [...names]
    .filter(changed)
    .sort((a, b) => delta(r.memAfter, b, 'bytes') - delta(r.memAfter, a, 'bytes'))) {
    out(
      `| ${name} | ${fixed(delta(r.memCreated, name, 'keys'), 2)} | ${fixed(delta(r.memCreated, name, 'bytes'))} | ${fixed(delta(r.memAfter, name, 'bytes'))} |`,
    );
  }
  out();
  for (const note of r.notes) out(`- note: ${note}`);
  for (const failure of r.createFailures.slice(0, 3)) out(`- failed command: ${failure}`);
  for (const refusal of r.refusals.slice(0, 3)) out(`- refused command: ${refusal}`);
  if (r.notes.length + r.createFailures.length + r.refusals.length > 0) out();
  return lines;
}
