import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { SCRIPT_FILES } from '../src/store/scripts.js';
import { getFreePort } from '../test/support/free-port.js';
import { deleteKeysWithPrefix } from '../test/support/redis.js';
import { SlackStandIn } from '../test/support/slack-stand-in.js';
import {
  type AckLevel,
  type AckTarget,
  ackTable,
  CHUNK_PAUSE_MS,
  findRow,
  type LevelRow,
  measureLevel,
  p99Ratio,
  ROUNDS,
} from './ack.js';
import { renderBody, runLoad, SignedPoster } from './clicks.js';
import {
  COALESCE_TARGET,
  type CoalesceResult,
  coalescingMet,
  coalescingSection,
  runCoalescing,
  totalCalls,
} from './coalescing.js';
import { INVALID_VERSION, KINDS_TEMPLATE, kindPicker, type PreparedKinds, prepareKinds } from './kinds.js';
import {
  COMMIT_METRIC,
  type HistogramFigures,
  histogramBetween,
  RELAY_LAG_METRIC,
  readHistogram,
} from './metrics.js';
import {
  PIPELINE_API_FULL,
  PIPELINE_API_QUICK,
  type PipelineApiResult,
  pipelineApiFigure,
  pipelineApiSection,
  runPipelineApiBench,
} from './pipeline-api.js';
import {
  type CommandCounts,
  knownScripts,
  type MonitoredCommand,
  readCommandStats,
  startMonitor,
  subtractCounts,
  topCommands,
  totalOf,
} from './redis-stats.js';
import {
  CursorWatch,
  histogramText,
  lagDetail,
  lagFigures,
  POLL_INTERVAL_MS,
  type RelayLag,
  relayLagOf,
  releaseMetaKey,
  type Window,
} from './relay-lag.js';
import {
  type ReleaseMemoryResult,
  releaseMemoryFigure,
  releaseMemorySection,
  runReleaseMemory,
} from './release-memory.js';
import {
  auditKey,
  benchTemplateYaml,
  type Context,
  type CycleTemplates,
  cyclePicker,
  cycleTemplates,
  type StartedRelease,
  sleep,
  startRelease,
  waitForSlackQuiet,
} from './releases.js';
import {
  REMIND_INTERVAL,
  REMIND_PHASES,
  REMIND_QUIET_HOURS,
  REMINDER_MODES,
  type ReminderResult,
  redisBytesPerRelease,
  relayLagText,
  reminderBudgetMs,
  reminderReleaseCount,
  reminderSection,
  reminderTarget,
  remindTemplateId,
  remindTemplateYaml,
  runReminderBench,
  STEADY_SHIFTS,
} from './reminders.js';
import {
  type ProcessMemory,
  processMemory,
  REPO_ROOT,
  type ServerChild,
  spawnServer,
  stopServer,
  waitForHttp,
} from './servers.js';
import {
  runStatusPagesBench,
  STATUS_FULL,
  STATUS_QUICK,
  type StatusPagesResult,
  statusPagesFigure,
  statusPagesSection,
} from './status-pages.js';
import { type Instance, runThroughput, type ThroughputResult, throughputSection } from './throughput.js';

// `npm run bench`: every benchmark of issue 7. Ack latency per request kind next to a bare Bolt app,
// Redis commands per click, ack latency while Slack answers 429, clicks per second with one and three
// instances, Slack API calls per 100 clicks, reminder lateness with 10,000 jobs, Redis memory per
// release and shipcheck's RSS. `--only <part>` runs some parts, `--quick` small sizes. See bench/README.md.

/** The script a click runs, by the file name the MONITOR capture labels it with. */
const CLICK_SCRIPT = `${SCRIPT_FILES.setItem}.lua`;
/** The script that ends each round of the relay (it moves the release's cursor). */
const RELAY_SCRIPT = `${SCRIPT_FILES.advanceRelay}.lua`;
const REDIS_URL = 'redis://127.0.0.1:6379';

interface Sizes {
  levels: AckLevel[];
  monitorClicks: number;
  rateLimited: AckLevel;
  throughput: { concurrency: number; durationMs: number; warmup: number };
}

const FULL: Sizes = {
  levels: [
    { concurrency: 1, warmup: 50, requests: 200 },
    { concurrency: 10, warmup: 200, requests: 1000 },
    { concurrency: 100, warmup: 500, requests: 3000 },
  ],
  monitorClicks: 50,
  rateLimited: { concurrency: 100, warmup: 300, requests: 3000 },
  throughput: { concurrency: 100, durationMs: 15_000, warmup: 500 },
};

/** `--quick`: a smoke run that every part finishes in seconds; its figures are not a record. */
const QUICK: Sizes = {
  levels: [
    { concurrency: 1, warmup: 10, requests: 40 },
    { concurrency: 10, warmup: 20, requests: 100 },
    { concurrency: 100, warmup: 100, requests: 300 },
  ],
  monitorClicks: 20,
  rateLimited: { concurrency: 100, warmup: 50, requests: 300 },
  throughput: { concurrency: 100, durationMs: 3000, warmup: 100 },
};

/** The concurrency of issue 7's ack target. */
const TOP_CONCURRENCY = 100;
const ACK_RATIO_TARGET = 1.5;
/** What the relay change asks of the same figure: no slower than bare Bolt. */
const RELAY_ACK_RATIO_ASK = 1.0;
/** Slack's deadline for an ack, and what counts as far inside it. */
const SLACK_DEADLINE_MS = 3000;
const FAR_INSIDE_MS = 1000;
const RETRY_AFTER_S = 1;
/** The size of issue 7's reminder and RSS figures. */
const FULL_RELEASES = 1000;

const PARTS = [
  'clicks',
  'kinds',
  'ratelimited',
  'throughput',
  'coalescing',
  'reminders',
  'memory',
  'api',
  'status',
] as const;
type Part = (typeof PARTS)[number];
/** The watchdog's budget per part (the reminders part computes its own). */
const PART_BUDGET_MS: Record<Exclude<Part, 'reminders'>, number> = {
  clicks: 4 * 60_000,
  kinds: 4 * 60_000,
  ratelimited: 2 * 60_000,
  throughput: 3 * 60_000,
  coalescing: 2 * 60_000,
  memory: 6 * 60_000,
  api: 4 * 60_000,
  status: 4 * 60_000,
};

const USAGE = `usage: npm run bench [-- --only ${PARTS.join(',')}] [--quick] [--workers N]`;

interface Options {
  parts: Set<Part>;
  quick: boolean;
  /**
   * `--workers N`: N more shipcheck processes with SHIPCHECK_ROLE=worker beside the main one, sharing
   * its Redis (0 when absent), as a deployment scales its job queues out.
   */
  workers: number;
}

function parseOptions(argv: string[]): Options {
  const parts = new Set<Part>();
  let only = false;
  let quick = false;
  let workers = 0;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    const argValue = (name: string) => (arg === name ? argv[++index] : arg.slice(name.length + 1));
    if (arg === '--quick') quick = true;
    else if (arg === '--workers' || arg.startsWith('--workers=')) {
      workers = Number(argValue('--workers'));
      if (!Number.isInteger(workers) || workers < 0 || workers > 8)
        throw new Error(`--workers takes 0 to 8; ${USAGE}`);
    } else if (arg === '--only' || arg.startsWith('--only=')) {
      only = true;
      for (const name of (argValue('--only') ?? '').split(',').filter(Boolean)) {
        if (!(PARTS as readonly string[]).includes(name)) {
          throw new Error(`--only takes ${PARTS.join(', ')} (comma-separated), not "${name}"`);
        }
        parts.add(name as Part);
      }
      if (parts.size === 0) throw new Error(`--only needs a part: ${PARTS.join(', ')}`);
    } else throw new Error(`unknown argument ${arg}; ${USAGE}`);
  }
  // `clicks` has always included the coalescing; `--only coalescing` runs that alone.
  if (parts.has('clicks')) parts.add('coalescing');
  return { parts: only ? parts : new Set(PARTS), quick, workers };
}

const report: string[] = [];
const out = (line = '') => report.push(line);
const benchStart = performance.now();
/** Progress to stderr, with the seconds since the start, so a run shows where its time goes. */
const progress = (line: string) =>
  process.stderr.write(`# [${((performance.now() - benchStart) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const mib = (kib: number | undefined) => (kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(1)} MiB`);

function perClick(counts: [string, number][], clicks: number): string {
  return counts.map(([name, calls]) => `${name} ${(calls / clicks).toFixed(2)}`).join(', ');
}

interface ClickStats {
  clicks: number;
  delta: CommandCounts;
  idleDelta: CommandCounts;
  idleMs: number;
  runMs: number;
}

interface RoundTrip {
  source: string;
  label: string;
  /** Commands the script ran inside Redis (MONITOR shows them as from "lua", right after the EVALSHA). */
  inner: number;
  touchesPrefix: boolean;
}

function toRoundTrips(
  commands: MonitoredCommand[],
  scripts: Map<string, string>,
  prefix: string,
): RoundTrip[] {
  const trips: RoundTrip[] = [];
  let current: RoundTrip | undefined;
  for (const command of commands) {
    if (command.source === 'lua') {
      if (current) current.inner += 1;
      continue;
    }
    const name = command.args[0]?.toLowerCase() ?? '?';
    const sha = command.args[1] ?? '';
    const label = name === 'evalsha' ? (scripts.get(sha) ?? `evalsha ${sha.slice(0, 8)}`) : name;
    current = {
      source: command.source,
      label,
      inner: 0,
      touchesPrefix: command.args.some((arg) => arg.includes(prefix)),
    };
    trips.push(current);
  }
  const ours = new Set(trips.filter((trip) => trip.touchesPrefix).map((trip) => trip.source));
  return trips.filter((trip) => ours.has(trip.source));
}

/** What ran while Slack answered 429 to every Web API call. */
interface RateLimitedRun {
  rows: LevelRow[];
  answered429: number;
  /** From the end of the 429s until Slack had been quiet for 2.5 s; NaN when it never was within 60 s. */
  catchUpMs: number;
}

/** The relay's lag during one level of clicks: per event from its cursor, and from its /metrics histogram. */
interface LevelRelay {
  lag: RelayLag;
  /** The whole level, warm-up included (the process's histogram cannot be cut at a chunk). */
  metric: HistogramFigures | undefined;
  /** The clicks' commits inside their acks, from the same process's histogram, the whole level. */
  commit: HistogramFigures | undefined;
}

/** The kinds' rows, with what each kind is, for the report. */
interface KindsRun {
  prepared: PreparedKinds;
  rows: LevelRow[];
  auditAfter: number;
}

async function main(): Promise<void> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
    if (options.parts.has('reminders')) reminderReleaseCount(options.quick);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }
  const { parts, quick, workers } = options;
  const sizes = quick ? QUICK : FULL;
  const has = (part: Part) => parts.has(part);
  const needsBare = has('clicks') || has('kinds') || has('ratelimited') || has('throughput');
  const reminderReleases = has('reminders') ? reminderReleaseCount(quick) : 0;
  let watchdogMs =
    60_000 + (has('reminders') ? REMINDER_MODES.length * reminderBudgetMs(reminderReleases) : 0);
  for (const part of parts) if (part !== 'reminders') watchdogMs += PART_BUDGET_MS[part];
  const started = Date.now();
  const loadAtStart = os.loadavg()[0] ?? Number.NaN;
  const prefix = `sc-bench-${randomBytes(4).toString('hex')}`;
  const signingSecret = randomBytes(16).toString('hex');
  const servers: ServerChild[] = [];
  const posters: SignedPoster[] = [];
  let standIn: SlackStandIn | undefined;
  let redis: Redis | undefined;
  /** Polls relay cursors (bench/relay-lag.ts), apart from the connection the bench reads with. */
  let pollRedis: Redis | undefined;
  let checklistsDir: string | undefined;
  const cleanupNotes: string[] = [];

  let cleaning: Promise<void> | undefined;
  const cleanup = () => {
    cleaning ??= (async () => {
      progress('cleaning up');
      for (const poster of posters) poster.close();
      standIn?.clearMisbehaviour();
      const stopped = await Promise.all(
        servers.map(async (server) => `${server.name} ${await stopServer(server, 10_000)}`),
      );
      cleanupNotes.push(...stopped);
      try {
        await deleteKeysWithPrefix(prefix, REDIS_URL);
        const left = redis ? (await redis.scan('0', 'MATCH', `${prefix}:*`, 'COUNT', 10_000))[1].length : -1;
        cleanupNotes.push(`Redis keys under ${prefix}:* deleted (${left} left)`);
      } catch (error) {
        cleanupNotes.push(`could not delete Redis keys under ${prefix}:* (${String(error)})`);
      }
      pollRedis?.disconnect();
      await redis?.quit().catch(() => redis?.disconnect());
      await standIn?.stop().catch((error: unknown) => cleanupNotes.push(`stand-in stop failed: ${error}`));
      if (checklistsDir) await rm(checklistsDir, { recursive: true, force: true });
    })();
    return cleaning;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping`);
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    progress(`the benchmark ran longer than ${watchdogMs / 1000} s; aborting`);
    cleanup().finally(() => process.exit(2));
  }, watchdogMs);
  watchdog.unref();

  const clickRows: LevelRow[] = [];
  /** By concurrency: the levels that ran with the relay cursor polled. */
  const clickRelay = new Map<number, LevelRelay>();
  let rateLimitedRelay: LevelRelay | undefined;
  let clickStats: ClickStats | undefined;
  let trips: RoundTrip[] = [];
  let clientNames = new Map<string, string>();
  const appliedNotes: string[] = [];
  let clickBodyBytes = 0;
  let kindsRun: KindsRun | undefined;
  let rateLimited: RateLimitedRun | undefined;
  let throughput: ThroughputResult | undefined;
  let coalescing: CoalesceResult | undefined;
  /** Issue 16: Redis memory per finished release, beside the figure recorded before it. */
  let releaseMemory: ReleaseMemoryResult | undefined;
  /** Issue 17: API ticks beside Slack clicks, and the click ack while pipelines wait at the gate. */
  let pipelineApi: PipelineApiResult | undefined;
  /** Issue 19: /status latency, and the ack latency while live tabs are open. */
  let statusPages: StatusPagesResult | undefined;
  /** One per mode, steady first; the first also gives the memory and RSS figures. */
  const reminderResults: ReminderResult[] = [];
  let rssFresh: ProcessMemory | undefined;
  /** Idle RSS of the process restarted for the reminders part (when other parts ran before it). */
  let rssRestarted: ProcessMemory | undefined;
  let failure: unknown;
  let redisVersion = 'unknown';

  try {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    pollRedis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    standIn = await SlackStandIn.start();
    checklistsDir = await mkdtemp(path.join(os.tmpdir(), 'shipcheck-bench-'));
    for (const name of await readdir(path.join(REPO_ROOT, 'checklists'))) {
      if (/\.ya?ml$/.test(name)) {
        await copyFile(path.join(REPO_ROOT, 'checklists', name), path.join(checklistsDir, name));
      }
    }
    await writeFile(path.join(checklistsDir, 'bench.yaml'), benchTemplateYaml());
    for (let shiftS = 0; shiftS < STEADY_SHIFTS; shiftS++) {
      await writeFile(
        path.join(checklistsDir, `${remindTemplateId(shiftS)}.yaml`),
        remindTemplateYaml(shiftS),
      );
    }

    const [barePort, shipPort] = [await getFreePort(), await getFreePort()];
    progress(
      `starting ${needsBare ? `bare Bolt on ${barePort} and ` : ''}shipcheck on ${shipPort}${workers > 0 ? ` with ${workers} more worker process${workers === 1 ? '' : 'es'}` : ''} (Redis prefix ${prefix}; parts: ${[...parts].join(', ')}${quick ? '; quick' : ''})`,
    );
    // BENCH_CPU_PROF=<dir> writes V8 CPU profiles of each server (one per thread) to <dir>/<server>/ at exit.
    const profileArgs = (name: string) =>
      process.env.BENCH_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${path.join(process.env.BENCH_CPU_PROF, name)}`]
        : [];
    const common = {
      SLACK_BOT_TOKEN: 'xoxb-bench-token',
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: standIn.apiUrl,
    };
    const shipEnv = (port: number, role: 'all' | 'worker') => ({
      ...common,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      PORT: String(port),
      SHIPCHECK_ROLE: role,
      LOG_LEVEL: 'warn',
      CHECKLISTS_DIR: checklistsDir!,
      // Only the reminders part has windows: each reminder fires once in the run, at any hour.
      REMINDER_INTERVAL: REMIND_INTERVAL,
      QUIET_HOURS: REMIND_QUIET_HOURS,
    });
    const bareChild = needsBare
      ? spawnServer(
          'bare bolt',
          'bench/bare-bolt.ts',
          { ...common, PORT: String(barePort) },
          profileArgs('bare-bolt'),
        )
      : undefined;
    if (bareChild) servers.push(bareChild);
    const shipChild = spawnServer(
      'shipcheck',
      'src/main.ts',
      shipEnv(shipPort, 'all'),
      profileArgs('shipcheck'),
    );
    servers.push(shipChild);
    const workerChildren: ServerChild[] = [];
    for (let index = 0; index < workers; index++) {
      const workerPort = await getFreePort();
      const worker = spawnServer(
        `shipcheck worker ${index + 1}`,
        'src/main.ts',
        shipEnv(workerPort, 'worker'),
        profileArgs(`shipcheck-worker-${index + 1}`),
      );
      servers.push(worker);
      workerChildren.push(worker);
      await waitForHttp(worker, `http://127.0.0.1:${workerPort}/healthz`, 200, 30_000);
    }
    await Promise.all([
      bareChild && waitForHttp(bareChild, `http://127.0.0.1:${barePort}/`, undefined, 30_000),
      waitForHttp(shipChild, `http://127.0.0.1:${shipPort}/healthz`, 200, 30_000),
    ]);
    // Idle RSS of a fresh instance, before any release or request.
    await sleep(1000);
    rssFresh = processMemory(shipChild.process.pid);
    const ctx: Context = {
      standIn,
      redis,
      prefix,
      signingSecret,
      shipUrl: `http://127.0.0.1:${shipPort}/slack/events`,
      progress,
    };
    const ship: AckTarget = { name: 'shipcheck', url: ctx.shipUrl, child: shipChild };
    const bare: AckTarget | undefined = bareChild && {
      name: 'bare bolt',
      url: `http://127.0.0.1:${barePort}/slack/events`,
      child: bareChild,
    };
    const shipMetricsUrl = `http://127.0.0.1:${shipPort}/metrics`;
    const relayHistogram = () => readHistogram(shipMetricsUrl, RELAY_LAG_METRIC).catch(() => undefined);
    const commitHistogram = () =>
      readHistogram(shipMetricsUrl, COMMIT_METRIC, { kind: 'checkbox' }).catch(() => undefined);
    /**
     * Runs a level with the release's relay cursor polled throughout (both servers' chunks), and gives
     * the lag of the events committed during shipcheck's measured chunks.
     */
    const watchRelay = async <T>(
      releaseId: string,
      level: (hooks: { beforeShipChunk: () => void; afterShipChunk: () => void }) => Promise<T>,
    ): Promise<{ result: T; relay: LevelRelay }> => {
      const watch = new CursorWatch(pollRedis!, releaseMetaKey(prefix, releaseId));
      try {
        const histogramBefore = await relayHistogram();
        const commitBefore = await commitHistogram();
        const windows: Window[] = [];
        const result = await level({
          beforeShipChunk: () =>
            windows.push({ fromMs: Date.now(), toMs: Number.NaN, tailMs: CHUNK_PAUSE_MS }),
          afterShipChunk: () => {
            const last = windows.at(-1);
            if (last) last.toMs = Date.now();
          },
        });
        const lag = await relayLagOf({ redis: redis!, watch, audit: auditKey(prefix, releaseId), windows });
        return {
          result,
          relay: {
            lag,
            metric: histogramBetween(histogramBefore, await relayHistogram()),
            commit: histogramBetween(commitBefore, await commitHistogram()),
          },
        };
      } finally {
        await watch.stop();
      }
    };

    // The releases the parts click on, started together (posting is paced per channel, so they overlap),
    // each in its own channel. The kinds' `standard` release is started by prepareKinds alongside.
    progress('starting the releases the parts click on');
    const clickLevels = has('clicks') ? sizes.levels : [];
    const needs100 = has('clicks') || has('ratelimited');
    const levelConcurrencies = [
      ...new Set([...clickLevels.map((level) => level.concurrency), ...(needs100 ? [TOP_CONCURRENCY] : [])]),
    ];
    const [levelReleases, throughputRelease, prepared] = await Promise.all([
      Promise.all(
        levelConcurrencies.map((concurrency) =>
          startRelease(ctx, `bench-${concurrency}`, `C0BENCH${String(concurrency).padStart(3, '0')}`),
        ),
      ),
      has('throughput') ? startRelease(ctx, 'bench-throughput', 'C0BENCHTPT') : undefined,
      has('kinds') && bare ? prepareKinds(ctx, bare.url) : undefined,
    ]);
    await waitForSlackQuiet(standIn);
    const releaseFor = new Map<
      number,
      { release: StartedRelease; templates: CycleTemplates; sent: number }
    >();
    levelConcurrencies.forEach((concurrency, index) => {
      const release = levelReleases[index]!;
      releaseFor.set(concurrency, { release, templates: cycleTemplates(release), sent: 0 });
    });

    // Ack latency of checkbox clicks, and Redis commands per click at concurrency 1.
    if (has('clicks') && bare) {
      for (const level of sizes.levels) {
        const state = releaseFor.get(level.concurrency)!;
        clickBodyBytes = Math.max(
          clickBodyBytes,
          Buffer.byteLength(renderBody(state.templates.ticks[0]!, 'U0CLK000')),
        );
        // The previous level's Slack sync has settled (see the end of the loop), so this is the idle rate:
        // the job worker's blocking polls and anyone else using this Redis.
        let idleDelta: CommandCounts | undefined;
        let idleMs = 0;
        if (level.concurrency === 1) {
          const idleStart = performance.now();
          const idleBefore = await readCommandStats(redis);
          await sleep(1000);
          idleDelta = subtractCounts(await readCommandStats(redis), idleBefore);
          idleMs = performance.now() - idleStart;
        }
        const audit = auditKey(prefix, state.release.releaseId);
        const auditBefore = await redis.xlen(audit);
        const measure = (hooks?: { beforeShipChunk: () => void; afterShipChunk: () => void }) =>
          measureLevel({
            kind: 'checkbox',
            bare,
            ship,
            level,
            signingSecret,
            picker: (offset) => cyclePicker(state.templates, state.sent + offset),
            progress,
            ...(idleDelta ? { commandStatsOf: redis } : {}),
            ...hooks,
          });
        // Not at the level that counts Redis commands per click: the poller's would count with them.
        let result: Awaited<ReturnType<typeof measure>>;
        if (idleDelta) result = await measure();
        else {
          const watched = await watchRelay(state.release.releaseId, measure);
          result = watched.result;
          clickRelay.set(level.concurrency, watched.relay);
        }
        state.sent += level.warmup + level.requests;
        clickRows.push(...result.rows);
        if (idleDelta) {
          clickStats = {
            clicks: level.requests,
            delta: result.shipDelta,
            idleDelta,
            idleMs,
            runMs: result.shipRunMs,
          };
        }
        const applied = (await redis.xlen(audit)) - auditBefore;
        appliedNotes.push(
          `concurrency ${level.concurrency}: ${applied} of ${level.warmup + level.requests} clicks (warm-up included) changed an item (audit events added)`,
        );
        // This level's Slack sync finishes before the next level starts.
        await waitForSlackQuiet(standIn);
      }

      // Where the commands go, per connection and script, for a few more clicks at concurrency 1 and the
      // Slack sync they cause.
      progress(`MONITOR: ${sizes.monitorClicks} clicks at concurrency 1 and the Slack sync after them`);
      const state = releaseFor.get(sizes.levels[0]!.concurrency)!;
      const poster = new SignedPoster(ctx.shipUrl, signingSecret, 4);
      posters.push(poster);
      const capture = await startMonitor(REDIS_URL);
      const result = await runLoad([poster], cyclePicker(state.templates, state.sent), 1, {
        requests: sizes.monitorClicks,
      });
      state.sent += sizes.monitorClicks;
      await waitForSlackQuiet(standIn);
      await capture.stop();
      poster.close();
      if (result.failures.length > 0) throw new Error(`MONITOR clicks failed: ${result.failures[0]}`);
      trips = toRoundTrips(capture.commands, await knownScripts(REPO_ROOT), prefix);
      const sources = new Set(trips.map((trip) => trip.source));
      const list = String(await redis.client('LIST'));
      clientNames = new Map(
        list
          .split('\n')
          .map((line) => [/addr=(\S+)/.exec(line)?.[1] ?? '', /name=(\S*)/.exec(line)?.[1] ?? ''] as const)
          .filter(([addr]) => sources.has(addr)),
      );
    }

    // Ack latency of the other request kinds.
    if (prepared && bare) {
      const rows: LevelRow[] = [];
      for (const kind of prepared.kinds) {
        for (const level of sizes.levels) {
          rows.push(
            ...(
              await measureLevel({
                kind: kind.id,
                bare,
                ship,
                level,
                signingSecret,
                picker: kindPicker(kind),
                progress,
              })
            ).rows,
          );
          await waitForSlackQuiet(standIn, 1500);
        }
      }
      kindsRun = { prepared, rows, auditAfter: await redis.xlen(prepared.auditKey) };
    }

    // Checkbox clicks at 100 concurrent while Slack answers every Web API call with 429.
    if (has('ratelimited') && bare) {
      const state = releaseFor.get(TOP_CONCURRENCY)!;
      progress(`ratelimited: every Slack Web API call answered 429 (Retry-After ${RETRY_AFTER_S} s)`);
      const firstCall = standIn.calls.length;
      standIn.misbehave('*', { kind: 'rate_limited', retryAfterSec: RETRY_AFTER_S });
      let rows: LevelRow[];
      try {
        const watched = await watchRelay(state.release.releaseId, (hooks) =>
          measureLevel({
            kind: 'checkbox under 429',
            bare,
            ship,
            level: sizes.rateLimited,
            signingSecret,
            picker: (offset) => cyclePicker(state.templates, state.sent + offset),
            progress,
            ...hooks,
          }),
        );
        rows = watched.result.rows;
        rateLimitedRelay = watched.relay;
      } finally {
        standIn.clearMisbehaviour();
      }
      state.sent += sizes.rateLimited.warmup + sizes.rateLimited.requests;
      const answered429 = standIn.calls.slice(firstCall).filter((call) => call.answered === 429).length;
      const catchUpStart = performance.now();
      const quiet = await waitForSlackQuiet(standIn, 2500, 60_000);
      rateLimited = { rows, answered429, catchUpMs: quiet ? performance.now() - catchUpStart : Number.NaN };
    }

    // Clicks per second: one instance, then three on one Redis prefix.
    if (has('throughput') && bare && throughputRelease) {
      const spawnInstance = async (index: number): Promise<Instance> => {
        const port = await getFreePort();
        const child = spawnServer(`shipcheck instance ${index}`, 'src/main.ts', shipEnv(port, 'all'));
        servers.push(child);
        await waitForHttp(child, `http://127.0.0.1:${port}/healthz`, 200, 30_000);
        return { name: child.name, url: `http://127.0.0.1:${port}/slack/events`, child };
      };
      throughput = await runThroughput({
        ctx,
        release: throughputRelease,
        bare: { name: 'bare bolt', url: bare.url, child: bare.child },
        ship: { name: 'shipcheck', url: ship.url, child: shipChild },
        spawnInstance,
        pollRedis,
        ...sizes.throughput,
      });
    }

    if (has('coalescing')) coalescing = await runCoalescing(ctx);

    // Releases of the standard template driven to completion by an app of its own (in this process).
    if (has('api'))
      pipelineApi = await runPipelineApiBench({
        sizes: quick ? PIPELINE_API_QUICK : PIPELINE_API_FULL,
        progress,
      });

    if (has('memory')) {
      releaseMemory = await runReleaseMemory({
        releases: quick ? 4 : 20,
        checklistsDir: path.join(REPO_ROOT, 'checklists'),
        env: { AUDIT_KEY: randomBytes(48).toString('base64'), AUDIT_KEY_ID: 'k1' },
        progress,
      });
    }

    // The status pages with 1,000 finished and 100 active releases, by an app process of their own.
    if (has('status'))
      statusPages = await runStatusPagesBench({ sizes: quick ? STATUS_QUICK : STATUS_FULL, progress });

    // Reminder lateness: 10,000 delayed jobs across 1,000 releases, due within one minute.
    if (has('reminders')) {
      // A fresh process, as in a run of this part alone: the heap the parts before grew would count in
      // its RSS, and their warmed-up code would flatter the first burst.
      let reminderShip = shipChild;
      if (parts.size > 1) {
        progress('reminders: restarting shipcheck, so this part starts with a fresh process');
        cleanupNotes.push(`shipcheck (before the reminders part) ${await stopServer(shipChild, 10_000)}`);
        reminderShip = spawnServer(
          'shipcheck (restarted)',
          'src/main.ts',
          shipEnv(shipPort, 'all'),
          profileArgs('shipcheck-restarted'),
        );
        servers.push(reminderShip);
        await waitForHttp(reminderShip, `http://127.0.0.1:${shipPort}/healthz`, 200, 30_000);
        await sleep(1000);
        rssRestarted = processMemory(reminderShip.process.pid);
      }
      for (const mode of REMINDER_MODES) {
        reminderResults.push(
          await runReminderBench({
            standIn,
            redis,
            prefix,
            signingSecret,
            shipUrl: ctx.shipUrl,
            metricsUrl: `http://127.0.0.1:${shipPort}/metrics`,
            shipPids: [reminderShip.process.pid, ...workerChildren.map((worker) => worker.process.pid)],
            releases: reminderReleases,
            mode,
            progress,
          }),
        );
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    await cleanup();
    clearTimeout(watchdog);
  }

  // ---- report ---------------------------------------------------------------------------------
  const cpus = os.cpus();
  const args = process.argv.slice(2).join(' ');
  const command =
    process.env.npm_lifecycle_event === 'bench'
      ? `npm run bench${args ? ` -- ${args}` : ''}`
      : `npx tsx bench/run.ts${args ? ` ${args}` : ''}`;
  out('## shipcheck benchmark');
  out();
  if (quick) {
    out(
      "**`--quick`: a smoke run with small sizes. Its figures are not a record, and its verdicts are for these sizes, not the targets'.**",
    );
    out();
  }
  out(`- date: ${new Date(started).toISOString()}`);
  out(`- command: \`cd /work/main && ${command}\``);
  out(
    `- machine: ${cpus[0]?.model.trim() ?? 'unknown cpu'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}; load average (1 min) ${fixed(loadAtStart)} at start, ${fixed(os.loadavg()[0] ?? Number.NaN)} at end`,
  );
  out(`- node ${process.version}, Redis ${redisVersion} on 127.0.0.1:6379, Slack Web API: local stand-in`);
  out(
    '- each server in its own child process (`node --import tsx`); load generator and Slack stand-in in the parent; all on this machine',
  );
  out(
    `- parts: ${[...parts].join(', ')}; pacing at the defaults (SLACK_POST_INTERVAL_MS 1000, SLACK_UPDATE_INTERVAL_MS 1200); shipcheck with SHIPCHECK_ROLE all, REMINDER_INTERVAL ${REMIND_INTERVAL} and QUIET_HOURS ${REMIND_QUIET_HOURS} (only the reminders part has deploy windows)`,
  );
  if (clickRows.length > 0 || kindsRun) {
    out(
      `- ack latency: per level a warm-up, then the requests in ${ROUNDS} chunks per server, alternating between the servers; the bare Bolt app acks each kind as shipcheck does (empty, or the start form's errors)`,
    );
  }
  out();

  // The summary: every issue-7 target and figure, with its verdict.
  const summary: [string, string, string][] = [];
  const notRun = (part: Part) => `not run (\`--only ${part}\` runs it)`;
  const ratio100 = p99Ratio(clickRows, 'checkbox', TOP_CONCURRENCY);
  const shipTop = findRow(clickRows, 'checkbox', 'shipcheck', TOP_CONCURRENCY);
  const bareTop = findRow(clickRows, 'checkbox', 'bare bolt', TOP_CONCURRENCY);
  summary.push([
    'No lost or doubled click, announcement or check-in',
    `not a benchmark figure: the chaos suite (\`npm run test:chaos\`) asserts exact counts${reminderResults.length > 0 ? `; here ${reminderResults.map((result) => `${result.arrived} of ${result.expected} reminders posted, ${result.duplicates} twice (${result.mode})`).join('; ')}` : ''}${coalescing ? `; ${coalescing.finalCount} of 100 ticks shown in Slack` : ''}`,
    '–',
  ]);
  summary.push(
    shipTop && bareTop
      ? [
          `p99 ack within ${ACK_RATIO_TARGET}× of bare Bolt at ${TOP_CONCURRENCY} concurrent clickers (checkbox clicks)`,
          `${fixed(ratio100)}× (${fixed(shipTop.summary.p99, 1)} ms / ${fixed(bareTop.summary.p99, 1)} ms)`,
          ratio100 <= ACK_RATIO_TARGET ? 'met' : 'MISSED',
        ]
      : [
          `p99 ack within ${ACK_RATIO_TARGET}× of bare Bolt at ${TOP_CONCURRENCY} concurrent clickers`,
          notRun('clicks'),
          '–',
        ],
  );
  summary.push(
    shipTop && bareTop
      ? [
          `… within ${fixed(RELAY_ACK_RATIO_ASK, 1)}× of bare Bolt (what the relay change asks of the same figure)`,
          `${fixed(ratio100)}× (${fixed(shipTop.summary.p99, 1)} ms / ${fixed(bareTop.summary.p99, 1)} ms)`,
          ratio100 <= RELAY_ACK_RATIO_ASK ? 'met' : 'MISSED',
        ]
      : [`… within ${fixed(RELAY_ACK_RATIO_ASK, 1)}× of bare Bolt`, notRun('clicks'), '–'],
  );
  const commitRows = [...clickRelay.entries()].filter(([, relay]) => relay.commit);
  summary.push(
    commitRows.length > 0
      ? [
          'the commit inside the ack, p50 / p99 (checkbox clicks, 1 instance; `shipcheck_commit_before_ack_seconds`, whole level with warm-up, interpolated in its buckets)',
          commitRows
            .map(
              ([concurrency, relay]) =>
                `${concurrency} concurrent: p50 ≈ ${fixed(relay.commit!.p50 * 1000, 2)} ms, p99 ≈ ${fixed(relay.commit!.p99 * 1000, 2)} ms (${relay.commit!.count} clicks)`,
            )
            .join('; '),
          '–',
        ]
      : ['the commit inside the ack', notRun('clicks'), '–'],
  );
  const shipClicksPerSecond = (concurrency: number) =>
    findRow(clickRows, 'checkbox', 'shipcheck', concurrency)?.summary.perSecond ?? Number.NaN;
  summary.push(
    clickRelay.size > 0
      ? [
          'relay lag, commit → follow-ups queued, p50 / p99 (checkbox clicks on one release, 1 instance; per event, from its polled cursor)',
          [...clickRelay.entries()]
            .map(
              ([concurrency, relay]) =>
                `${concurrency} concurrent, ${fixed(shipClicksPerSecond(concurrency), 0)} clicks/s: ${lagFigures(relay.lag)} (${relay.lag.relayed} events)`,
            )
            .join('; '),
          '–',
        ]
      : ['relay lag under clicks', notRun('clicks'), '–'],
  );
  const allAckRows = [...clickRows, ...(kindsRun?.rows ?? [])];
  const kindIds = [
    ...(clickRows.length > 0 ? ['checkbox'] : []),
    ...(kindsRun?.prepared.kinds ?? []).map((kind) => kind.id),
  ];
  for (const kind of kindIds) {
    const cells = sizes.levels.map((level) => {
      const row = findRow(allAckRows, kind, 'shipcheck', level.concurrency);
      return `${level.concurrency}: ${fixed(row?.summary.p50 ?? Number.NaN, 1)} / ${fixed(row?.summary.p99 ?? Number.NaN, 1)} ms (${fixed(p99Ratio(allAckRows, kind, level.concurrency))}×)`;
    });
    const ratio = p99Ratio(allAckRows, kind, TOP_CONCURRENCY);
    summary.push([
      `ack p50 / p99 (p99 ratio to bare Bolt) by concurrency: ${kind}`,
      cells.join('; '),
      `${ratio <= ACK_RATIO_TARGET ? 'within' : 'NOT within'} ${ACK_RATIO_TARGET}× at ${TOP_CONCURRENCY}`,
    ]);
  }
  if (!kindsRun)
    summary.push(['ack latency of slash commands, buttons and modal submissions', notRun('kinds'), '–']);
  const shipAckRows = allAckRows.filter((row) => row.server === 'shipcheck');
  if (shipAckRows.length > 0) {
    const worstP99 = Math.max(...shipAckRows.map((row) => row.summary.p99));
    const worstMax = Math.max(...shipAckRows.map((row) => row.summary.max));
    summary.push([
      `never near Slack's ${SLACK_DEADLINE_MS / 1000} s deadline (every kind and level)`,
      `worst p99 ${fixed(worstP99, 1)} ms, worst max ${fixed(worstMax, 1)} ms`,
      worstMax < FAR_INSIDE_MS ? 'met' : worstMax < SLACK_DEADLINE_MS ? 'inside, not far' : 'MISSED',
    ]);
  } else {
    summary.push([`never near Slack's ${SLACK_DEADLINE_MS / 1000} s deadline`, notRun('clicks'), '–']);
  }
  const limitedShip =
    rateLimited &&
    findRow(rateLimited.rows, 'checkbox under 429', 'shipcheck', sizes.rateLimited.concurrency);
  summary.push(
    rateLimited && limitedShip
      ? [
          `… also while Slack answers 429 (checkbox clicks at ${sizes.rateLimited.concurrency} concurrent)`,
          `p99 ${fixed(limitedShip.summary.p99, 1)} ms, max ${fixed(limitedShip.summary.max, 1)} ms (${fixed(p99Ratio(rateLimited.rows, 'checkbox under 429', sizes.rateLimited.concurrency))}× bare Bolt); ${rateLimited.answered429} Slack calls answered 429`,
          limitedShip.summary.max < FAR_INSIDE_MS && limitedShip.summary.failures === 0
            ? 'met'
            : limitedShip.summary.max < SLACK_DEADLINE_MS && limitedShip.summary.failures === 0
              ? 'inside, not far'
              : 'MISSED',
        ]
      : ['… also while Slack answers 429', notRun('ratelimited'), '–'],
  );
  summary.push(
    coalescing
      ? [
          `at most ${COALESCE_TARGET} chat.update calls per 100 clicks on one release within 10 s`,
          `${coalescing.updates} (final state ${coalescing.finalCount}/100 shown)`,
          coalescingMet(coalescing) ? 'met' : 'MISSED',
        ]
      : [`at most ${COALESCE_TARGET} chat.update calls per 100 clicks`, notRun('coalescing'), '–'],
  );
  summary.push(
    coalescing
      ? [
          'Slack API calls per 100 clicks (all methods)',
          `${totalCalls(coalescing)}: ${[...coalescing.callsByMethod.entries()]
            .sort((a, b) => b[1] - a[1])
            .map(([method, count]) => `${method} ${count}`)
            .join(', ')}`,
          '–',
        ]
      : ['Slack API calls per 100 clicks', notRun('coalescing'), '–'],
  );
  if (throughput) {
    const rowOf = (processes: number) =>
      throughput!.rows.find((row) => row.processes === processes && row.applied !== undefined);
    const bareRow = throughput.rows.find((row) => row.applied === undefined);
    summary.push([
      `clicks per second at ${throughput.concurrency} concurrent (sustained ${fixed(throughput.durationMs / 1000, 0)} s)`,
      `one instance ${fixed(rowOf(1)?.summary.perSecond ?? Number.NaN, 0)}/s; three instances ${fixed(rowOf(3)?.summary.perSecond ?? Number.NaN, 0)}/s (SHIPCHECK_ROLE=all, round-robin); bare Bolt ${fixed(bareRow?.summary.perSecond ?? Number.NaN, 0)}/s`,
      '–',
    ]);
    const lagged = throughput.rows.filter((row) => row.relayLag);
    if (lagged.length > 0) {
      summary.push([
        `relay lag under sustained clicks (${throughput.concurrency} concurrent, ${fixed(throughput.durationMs / 1000, 0)} s; per event, from its polled cursor)`,
        lagged
          .map(
            (row) =>
              `${row.processes === 1 ? 'one instance' : `${row.processes} instances`} at ${fixed(row.summary.perSecond, 0)} clicks/s: ${lagFigures(row.relayLag!)}`,
          )
          .join('; '),
        '–',
      ]);
    }
  } else summary.push(['clicks per second per instance and with three instances', notRun('throughput'), '–']);
  const fullSize = (releases: number) =>
    releases < FULL_RELEASES ? ` (at ${releases} releases, not the target's ${FULL_RELEASES})` : '';
  const reminderResult = reminderResults[0];
  if (reminderResult) {
    for (const result of reminderResults) {
      const target = reminderTarget(result);
      const burst = result.mode === 'burst';
      summary.push([
        burst
          ? '… the same with 1,000 due at one instant (a stress beyond the target)'
          : 'reminder lateness p99 under 1 s with 10,000 pending jobs',
        target.detail,
        `${target.met ? 'met' : burst ? 'over 1 s' : 'MISSED'}${fullSize(result.releases)}`,
      ]);
    }
    for (const result of reminderResults) {
      summary.push([`relay lag in the reminders part (${result.mode} run)`, relayLagText(result), '–']);
    }
    summary.push([
      'Redis memory per release',
      `${(redisBytesPerRelease(reminderResult).keys / 1024).toFixed(1)} KiB with its ${REMIND_PHASES} reminder jobs and audit trail (MEMORY USAGE of the keys under the bench's prefix; INFO used_memory, server-wide: ${(redisBytesPerRelease(reminderResult).usedMemory / 1024).toFixed(1)} KiB)`,
      '–',
    ]);
    const rss = reminderResult.rss;
    summary.push([
      `RSS of one instance with ${reminderResult.releases} active releases`,
      `${mib(rss.created?.rssKiB)}; ${mib(rss.before?.rssKiB)} idle before the releases were created${fullSize(reminderResult.releases)}`,
      '–',
    ]);
  } else {
    summary.push(['reminder lateness p99 under 1 s with 10,000 pending jobs', notRun('reminders'), '–']);
    summary.push(['Redis memory per release; RSS with 1,000 active releases', notRun('reminders'), '–']);
  }
  summary.push(
    releaseMemory
      ? [
          `Redis memory per finished release, before and after issue 16 (${releaseMemory.releases} standard releases driven to completion)`,
          releaseMemoryFigure(releaseMemory),
          '–',
        ]
      : ['Redis memory per finished release, before and after issue 16', notRun('memory'), '–'],
  );
  summary.push(
    pipelineApi
      ? [
          `API tick p50/p99 beside the Slack click; click ack p99 while ${pipelineApi.pollersOpen} pipelines long-poll the gate`,
          pipelineApiFigure(pipelineApi),
          '–',
        ]
      : ['API tick beside the Slack click; ack p99 while pipelines long-poll the gate', notRun('api'), '–'],
  );
  summary.push(
    statusPages
      ? [
          `/status p99 with ${statusPages.sizes.finished} finished and ${statusPages.sizes.active} active releases; ack p99 while ${statusPages.sizes.liveClients} tabs hold it open`,
          statusPagesFigure(statusPages),
          '–',
        ]
      : ['/status p99; ack p99 while live tabs hold it open', notRun('status'), '–'],
  );
  out('### Summary (issue 7)');
  out();
  out('| target or figure | this run | verdict |');
  out('|---|---|---|');
  for (const [what, figure, verdict] of summary) out(`| ${what} | ${figure} | ${verdict} |`);
  out();

  if (clickRows.length > 0) {
    out(`### Ack latency: checkbox clicks (time to the full HTTP response)`);
    out();
    out(
      `- a click: signed block_actions, form-encoded, ${(clickBodyBytes / 1024).toFixed(1)} KiB (it carries the whole checklist message, as Slack's do); clicks tick, then untick, 99 of 100 items round-robin, one release per level`,
    );
    out();
    for (const line of ackTable(clickRows, 'click')) out(line);
    for (const note of appliedNotes) out(`- shipcheck ${note}`);
    for (const [concurrency, relay] of clickRelay) {
      out(
        `- relay lag at concurrency ${concurrency} (commit → follow-ups queued, the events of shipcheck's measured chunks): **${lagFigures(relay.lag)}**; ${lagDetail(relay.lag)}; cross-check over the whole level, warm-up included: ${histogramText(relay.metric)}`,
      );
    }
    if (clickRelay.size > 0) {
      out(
        `- the relay cursor (the \`relayed\` field of the release's meta hash) was read with Redis's clock (MULTI TIME + HGET) every ${POLL_INTERVAL_MS} ms through each of these levels, both servers' chunks alike; not at concurrency ${sizes.levels[0]!.concurrency}, where Redis commands per click are counted`,
      );
    }
    out(
      "- CPU ms/click: the server process's user+system CPU time over its chunks (and 250 ms after each) / clicks",
    );
    out();
  }

  if (kindsRun) {
    const { prepared, rows } = kindsRun;
    out('### Ack latency: other request kinds');
    out();
    out(
      `- on one release of the \`${KINDS_TEMPLATE}\` template; each kind sent as Slack sends it (signed, form-encoded), with its own trigger_id and action_ts per request`,
    );
    out(
      `- audit events the kinds added to their release: ${kindsRun.auditAfter - prepared.auditBefore} (none expected: every kind is read-only)`,
    );
    out();
    for (const kind of prepared.kinds) {
      out(`#### ${kind.id}: ${kind.label}`);
      out();
      out(`- ${(kind.bodyBytes / 1024).toFixed(1)} KiB; shipcheck: ${kind.detail}`);
      out();
      for (const line of ackTable(rows.filter((row) => row.kind === kind.id))) out(line);
      out();
    }
    out(
      `- view-errors: a valid start form would start a release with every request, so the bench submits the version \`${INVALID_VERSION}\`, which the form checks before acking and answers with \`response_action: errors\`; view-owners is a valid submission that writes nothing.`,
    );
    out();
  }

  if (rateLimited) {
    out(
      `### Ack latency while Slack answers 429 (every Web API call, Retry-After ${RETRY_AFTER_S} s; checkbox clicks)`,
    );
    out();
    for (const line of ackTable(rateLimited.rows, 'click')) out(line);
    if (rateLimitedRelay) {
      out(
        `- relay lag (commit → follow-ups queued): **${lagFigures(rateLimitedRelay.lag)}**; ${lagDetail(rateLimitedRelay.lag)}; ${histogramText(rateLimitedRelay.metric)}`,
      );
    }
    out(
      `- Slack calls answered 429 during the level: ${rateLimited.answered429}; after the 429s stopped, Slack was quiet again (the sync caught up) after ${Number.isFinite(rateLimited.catchUpMs) ? `${fixed(rateLimited.catchUpMs / 1000, 1)} s` : 'more than 60 s'}`,
    );
    out();
  }

  if (clickStats) {
    const { clicks, delta, idleDelta, idleMs, runMs } = clickStats;
    const total = totalOf(delta);
    const background = (totalOf(idleDelta) / idleMs) * runMs;
    out('### Redis commands per click (shipcheck, concurrency 1, INFO commandstats)');
    out();
    out(
      `- all commands: ${total} for ${clicks} clicks = ${(total / clicks).toFixed(2)} per click (server-wide delta; Redis counts the commands a script runs too)`,
    );
    out(`- evalsha: ${((delta.get('evalsha') ?? 0) / clicks).toFixed(2)} per click`);
    out(`- top commands per click: ${perClick(topCommands(delta, 10), clicks)}`);
    out(
      `- background: ${totalOf(idleDelta)} commands in an idle ${fixed(idleMs, 0)} ms just before (${perClick(topCommands(idleDelta, 4), 1) || 'none'}), so about ${background.toFixed(0)} of the total above are not the clicks'`,
    );
    out();
  }

  if (trips.length > 0) {
    const clicks = sizes.monitorClicks;
    const roleOf = new Map<string, string>();
    for (const trip of trips) {
      if (trip.label === CLICK_SCRIPT) roleOf.set(trip.source, 'app store');
      else if (trip.label === 'bullmq addStandardJob' && !roleOf.has(trip.source))
        roleOf.set(trip.source, 'queue');
    }
    const role = (source: string) => {
      const known = roleOf.get(source);
      if (known) return known;
      const name = clientNames.get(source);
      return name ? `worker (blocking, ${name})` : 'worker';
    };
    const groups = new Map<string, { connection: string; label: string; calls: number; inner: number }>();
    for (const trip of trips) {
      const key = `${role(trip.source)}\u0000${trip.label}`;
      const group = groups.get(key) ?? {
        connection: role(trip.source),
        label: trip.label,
        calls: 0,
        inner: 0,
      };
      group.calls += 1;
      group.inner += trip.inner;
      groups.set(key, group);
    }
    const count = (label: string) => trips.filter((trip) => trip.label === label).length;
    const clickPath = count(CLICK_SCRIPT) + count('bullmq addStandardJob');
    const inner = trips.reduce((sum, trip) => sum + trip.inner, 0);
    out(
      `### Round trips per click (MONITOR on ${clicks} more clicks at concurrency 1 and the Slack sync they caused; shipcheck's connections only)`,
    );
    out();
    out('| connection | round trip | calls | per click | commands run inside, per call |');
    out('|---|---|---:|---:|---:|');
    for (const group of [...groups.values()].sort((a, b) => b.calls - a.calls)) {
      out(
        `| ${group.connection} | ${group.label} | ${group.calls} | ${(group.calls / clicks).toFixed(2)} | ${group.inner > 0 ? (group.inner / group.calls).toFixed(1) : '–'} |`,
      );
    }
    out();
    out(
      `- click state + audit: ${(count(CLICK_SCRIPT) / clicks).toFixed(2)} EVALSHA (${CLICK_SCRIPT}) per click — one Lua round trip`,
    );
    out(
      `- the click's own round trip (state + audit) and the BullMQ enqueue of its sync: ${(clickPath / clicks).toFixed(2)} per click`,
    );
    // Each relay round ends with one advance script, so their count says how far the relay batches clicks.
    out(
      `- the relay behind the clicks: ${(count(RELAY_SCRIPT) / clicks).toFixed(2)} rounds per click (one ${RELAY_SCRIPT} each; below 1, a round carried the events of several clicks); a round also reads the new events and the release and queues the sync (the BullMQ enqueue above)`,
    );
    out(
      `- Slack sync (job worker, store reads, pacer), amortised: ${((trips.length - clickPath) / clicks).toFixed(2)} round trips per click`,
    );
    out(
      `- all: ${(trips.length / clicks).toFixed(2)} round trips and ${((trips.length + inner) / clicks).toFixed(2)} commands (those inside scripts included) per click`,
    );
    out();
  }

  if (throughput) for (const line of throughputSection(throughput)) out(line);
  if (coalescing) for (const line of coalescingSection(coalescing)) out(line);
  if (releaseMemory) for (const line of releaseMemorySection(releaseMemory)) out(line);
  if (pipelineApi) for (const line of pipelineApiSection(pipelineApi)) out(line);
  if (statusPages) for (const line of statusPagesSection(statusPages)) out(line);
  for (const result of reminderResults) for (const line of reminderSection(result)) out(line);
  if (reminderResult) {
    const rss = reminderResult.rss;
    out(`### RSS of one shipcheck instance (VmRSS from /proc/<pid>/status)`);
    out();
    out('| when | RSS | peak so far (VmHWM) |');
    out('|---|---:|---:|');
    const rssRow = (when: string, memory: ProcessMemory | undefined) =>
      out(`| ${when} | ${mib(memory?.rssKiB)} | ${mib(memory?.peakKiB)} |`);
    rssRow('idle, 1 s after it first answered /healthz', rssFresh);
    if (rssRestarted) rssRow('restarted for the reminders part: idle, 1 s after /healthz', rssRestarted);
    rssRow('at the start of the reminders part', rss.before);
    rssRow(
      `**with ${reminderResult.releases} active releases** (created and posted, before the window)`,
      rss.created,
    );
    rssRow(`after their reminders fired (the ${reminderResult.mode} run)`, rss.after);
    const last = reminderResults.at(-1);
    if (last && last !== reminderResult) {
      rssRow(
        `after the ${last.mode} run too (${last.releases * reminderResults.length} active releases)`,
        last.rss.after,
      );
    }
    out();
    out(
      '- the process that took the commands and runs the job queues (SHIPCHECK_ROLE all); releases live in Redis, so RSS is mostly V8 heap and what BullMQ and the HTTP server hold',
    );
    out();
  }

  out('### Housekeeping');
  out();
  for (const server of servers) {
    out(`- ${server.name} wrote ${server.lineCount} log lines (LOG_LEVEL warn)`);
    for (const line of server.lines.slice(-3)) out(`  - \`${line.slice(0, 300)}\``);
  }
  out(`- cleanup: ${cleanupNotes.join('; ')}`);
  out(`- the run took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (failure) {
    out();
    out(
      `BENCHMARK FAILED: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}`,
    );
  }
  out();
  if (shipTop && bareTop) {
    out(
      `ack p99 ratio ${(shipTop.summary.p99 / bareTop.summary.p99).toFixed(2)} (shipcheck ${fixed(shipTop.summary.p99, 1)} ms / bare bolt ${fixed(bareTop.summary.p99, 1)} ms) at ${TOP_CONCURRENCY} concurrent`,
    );
  } else {
    out(`ack p99 ratio n/a (the ${TOP_CONCURRENCY}-concurrent level did not run)`);
  }
  process.stdout.write(`${report.join('\n')}\n`);
  process.exitCode = failure ? 1 : 0;
}

await main();
