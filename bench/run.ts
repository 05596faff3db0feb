import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { SCRIPT_FILES } from '../src/store/scripts.js';
import { findHeader, headerText, viewItem } from '../test/support/app-harness.js';
import { getFreePort } from '../test/support/free-port.js';
import { deleteKeysWithPrefix } from '../test/support/redis.js';
import {
  createSlashCommand,
  encodeSlashCommand,
  postSigned,
  SLACK_TEAM,
} from '../test/support/slack-requests.js';
import { SlackStandIn, type StoredMessage } from '../test/support/slack-stand-in.js';
import {
  type ClickPicker,
  type ClickTemplate,
  clickTemplate,
  type LatencySummary,
  type PostOutcome,
  releaseIdOf,
  renderClick,
  runLoad,
  SignedPoster,
  summarize,
} from './clicks.js';
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
  REMIND_INTERVAL,
  REMIND_QUIET_HOURS,
  REMIND_TEMPLATE_ID,
  type ReminderResult,
  reminderBudgetMs,
  reminderReleaseCount,
  reminderSection,
  reminderTargetLine,
  remindTemplateYaml,
  runReminderBench,
} from './reminders.js';
import { cpuTimeMs, REPO_ROOT, type ServerChild, spawnServer, stopServer, waitForHttp } from './servers.js';

// `npm run bench`: ack latency and throughput of checkbox clicks, shipcheck next to a bare Bolt app,
// Redis commands per click, how far chat.update calls coalesce, and how late 10,000 scheduled
// reminders fire. `npm run bench -- --only reminders` (or `--only clicks`) runs one part. See bench/README.md.

/** The script a click runs, by the file name the MONITOR capture labels it with. */
const CLICK_SCRIPT = `${SCRIPT_FILES.setItem}.lua`;
const REDIS_URL = 'redis://127.0.0.1:6379';
const TEAM_ID = SLACK_TEAM.id;
const ITEM_COUNT = 100;
const ITEM_IDS = Array.from(
  { length: ITEM_COUNT },
  (_unused, index) => `i${String(index + 1).padStart(3, '0')}`,
);
/** Clicks cycle over 99 of the 100 items, so the release never completes while it is being clicked. */
const CYCLE_ITEMS = ITEM_IDS.slice(0, ITEM_COUNT - 1);
const LEVELS = [
  { concurrency: 1, warmup: 50, requests: 200 },
  { concurrency: 10, warmup: 200, requests: 1000 },
  { concurrency: 100, warmup: 500, requests: 3000 },
] as const;
/**
 * Each level's requests go in this many chunks per server, alternating bare/ship/ship/bare/…, so that
 * whatever else the machine is doing meanwhile lands on both servers alike.
 */
const ROUNDS = 4;
/** After a chunk: lets the app finish the work it does after acking before the other server's chunk. */
const CHUNK_PAUSE_MS = 250;
const MONITOR_CLICKS = 50;
const COALESCE_SPACING_MS = 100;
const COALESCE_USERS = ['U0COAL1', 'U0COAL2', 'U0COAL3', 'U0COAL4', 'U0COAL5'];
const COALESCE_TARGET = 15;
/** The clicks part (ack latency, Redis commands, coalescing); the reminders part adds its own budget. */
const CLICKS_BUDGET_MS = 6 * 60_000;

const PARTS = ['clicks', 'reminders'] as const;
type Part = (typeof PARTS)[number];

const USAGE = `usage: npm run bench [-- --only ${PARTS.join('|')}] [--workers N]`;

/**
 * `--workers N`: N more shipcheck processes with SHIPCHECK_ROLE=worker beside the main one, sharing
 * its Redis (0 when absent), as a deployment scales its job queues out.
 */
function extraWorkers(argv: string[]): number {
  const index = argv.findIndex((arg) => arg === '--workers' || arg.startsWith('--workers='));
  if (index === -1) return 0;
  const arg = argv[index]!;
  const value = Number(arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[index + 1]);
  if (!Number.isInteger(value) || value < 0 || value > 8) throw new Error(`--workers takes 0 to 8; ${USAGE}`);
  return value;
}

function withoutWorkersArgument(argv: string[]): string[] {
  const index = argv.findIndex((arg) => arg === '--workers' || arg.startsWith('--workers='));
  if (index === -1) return argv;
  return argv.filter(
    (_arg, position) => position !== index && !(argv[index] === '--workers' && position === index + 1),
  );
}

/** `--only reminders`, `--only=clicks`, `--only clicks,reminders`; every part when absent. */
function selectedParts(argv: string[]): Set<Part> {
  const chosen = new Set<Part>();
  let only = false;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    let value: string | undefined;
    if (arg === '--only') value = argv[++index];
    else if (arg.startsWith('--only=')) value = arg.slice('--only='.length);
    else throw new Error(`unknown argument ${arg}; ${USAGE}`);
    only = true;
    for (const name of (value ?? '').split(',').filter(Boolean)) {
      if (!(PARTS as readonly string[]).includes(name)) {
        throw new Error(`--only takes ${PARTS.join(', ')} (comma-separated), not "${name}"`);
      }
      chosen.add(name as Part);
    }
    if (chosen.size === 0) throw new Error(`--only needs a part: ${PARTS.join(', ')}`);
  }
  return only ? chosen : new Set(PARTS);
}

const report: string[] = [];
const out = (line = '') => report.push(line);
const progress = (line: string) => process.stderr.write(`# ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

function benchTemplateYaml(): string {
  const lines = [
    '# Written by bench/run.ts: one phase of 100 required items.',
    'id: bench',
    'name: Benchmark',
    'phases:',
    '  - id: all',
    '    name: Bench',
    '    items:',
  ];
  for (const id of ITEM_IDS) lines.push(`      - id: ${id}`, `        text: Bench item ${id}`);
  return `${lines.join('\n')}\n`;
}

interface Context {
  standIn: SlackStandIn;
  redis: Redis;
  prefix: string;
  signingSecret: string;
  shipUrl: string;
}

interface StartedRelease {
  channel: string;
  releaseId: string;
  header: StoredMessage;
  parts: StoredMessage[];
}

async function startRelease(ctx: Context, version: string, channel: string): Promise<StartedRelease> {
  const fields = createSlashCommand({
    text: `start ${version} bench`,
    channel_id: channel,
    channel_name: 'bench',
    response_url: ctx.standIn.responseUrl(`start-${version}`),
  });
  const answer = await postSigned(ctx.shipUrl, encodeSlashCommand(fields), {
    signingSecret: ctx.signingSecret,
    timeoutMs: 10_000,
  });
  if (answer.status !== 200)
    throw new Error(`/deploy start ${version} answered ${answer.status}: ${answer.body}`);
  const title = `${version} → production`;
  const found = await ctx.standIn.waitFor(
    () => {
      const header = findHeader(ctx.standIn, title, channel);
      if (!header) return undefined;
      const parts = ctx.standIn
        .messages(channel)
        .filter((message) => message.thread_ts === header.ts && headerText(message).includes('· Bench'));
      const complete = ITEM_IDS.every((id) => parts.some((part) => viewItem(part, id)?.clickable));
      return complete ? { header, parts } : undefined;
    },
    30_000,
    `release ${title} with all ${ITEM_COUNT} items posted`,
  );
  return { channel, releaseId: releaseIdOf(found.parts), ...found };
}

/** Waits until the Slack stand-in has had no call for `quietMs` (at most `maxMs`). */
async function waitForSlackQuiet(standIn: SlackStandIn, quietMs = 2500, maxMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const last = standIn.calls.at(-1)?.at ?? 0;
    if (Date.now() - last >= quietMs) return true;
    await sleep(100);
  }
  return false;
}

function auditKey(ctx: Context, releaseId: string): string {
  return `${ctx.prefix}:{${TEAM_ID}}:release:${releaseId}:audit`;
}

/** Tick on the first pass over the items, untick on the second, and so on: every click changes state. */
function cyclePicker(ticks: ClickTemplate[], unticks: ClickTemplate[], offset: number): ClickPicker {
  return (k, clicker) => {
    const index = k + offset;
    const item = index % CYCLE_ITEMS.length;
    const tick = Math.floor(index / CYCLE_ITEMS.length) % 2 === 0;
    return {
      template: (tick ? ticks : unticks)[item]!,
      userId: `U0CLK${String(clicker).padStart(3, '0')}`,
    };
  };
}

function perClick(counts: [string, number][], clicks: number): string {
  return counts.map(([name, calls]) => `${name} ${(calls / clicks).toFixed(2)}`).join(', ');
}

type ServerName = 'bare bolt' | 'shipcheck';

interface Target {
  name: ServerName;
  url: string;
  child: ServerChild;
}

interface LevelRow {
  server: ServerName;
  concurrency: number;
  summary: LatencySummary;
  cpuMsPerClick: number;
  /** The load generator's own CPU time per click (the parent process, which also runs the stand-in). */
  clientCpuMsPerClick: number;
  /** p99 of each chunk, in the order they ran: shows whether one stall made the level's p99. */
  chunkP99s: number[];
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

async function main(): Promise<void> {
  let parts: Set<Part>;
  let workers: number;
  try {
    workers = extraWorkers(process.argv.slice(2));
    parts = selectedParts(withoutWorkersArgument(process.argv.slice(2)));
    if (parts.has('reminders')) reminderReleaseCount();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }
  const runClicks = parts.has('clicks');
  const runReminders = parts.has('reminders');
  const watchdogMs =
    (runClicks ? CLICKS_BUDGET_MS : 60_000) + (runReminders ? reminderBudgetMs(reminderReleaseCount()) : 0);
  const started = Date.now();
  const loadAtStart = os.loadavg()[0] ?? Number.NaN;
  const prefix = `sc-bench-${randomBytes(4).toString('hex')}`;
  const signingSecret = randomBytes(16).toString('hex');
  const servers: ServerChild[] = [];
  const posters: SignedPoster[] = [];
  let standIn: SlackStandIn | undefined;
  let redis: Redis | undefined;
  let monitorRedis: Redis | undefined;
  let checklistsDir: string | undefined;
  const cleanupNotes: string[] = [];

  let cleaning: Promise<void> | undefined;
  const cleanup = () => {
    cleaning ??= (async () => {
      progress('cleaning up');
      for (const poster of posters) poster.close();
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
      monitorRedis?.disconnect();
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

  const rows: LevelRow[] = [];
  let clickStats: ClickStats | undefined;
  let trips: RoundTrip[] = [];
  let clientNames = new Map<string, string>();
  const appliedNotes: string[] = [];
  const coalesceLines: string[] = [];
  let bodyBytes = 0;
  let failure: unknown;
  let redisVersion = 'unknown';
  let reminderResult: ReminderResult | undefined;

  try {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    standIn = await SlackStandIn.start();
    checklistsDir = await mkdtemp(path.join(os.tmpdir(), 'shipcheck-bench-'));
    for (const name of await readdir(path.join(REPO_ROOT, 'checklists'))) {
      if (/\.ya?ml$/.test(name)) {
        await copyFile(path.join(REPO_ROOT, 'checklists', name), path.join(checklistsDir, name));
      }
    }
    await writeFile(path.join(checklistsDir, 'bench.yaml'), benchTemplateYaml());
    await writeFile(path.join(checklistsDir, `${REMIND_TEMPLATE_ID}.yaml`), remindTemplateYaml());

    const [barePort, shipPort] = [await getFreePort(), await getFreePort()];
    progress(
      `starting ${runClicks ? `bare Bolt on ${barePort} and ` : ''}shipcheck on ${shipPort}${workers > 0 ? ` with ${workers} more worker process${workers === 1 ? '' : 'es'}` : ''} (Redis prefix ${prefix}; parts: ${[...parts].join(', ')})`,
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
    const bareChild = runClicks
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
      {
        ...common,
        REDIS_URL,
        REDIS_PREFIX: prefix,
        PORT: String(shipPort),
        LOG_LEVEL: 'warn',
        CHECKLISTS_DIR: checklistsDir,
        // Only the reminders part has windows: each reminder fires once in the run, at any hour.
        REMINDER_INTERVAL: REMIND_INTERVAL,
        QUIET_HOURS: REMIND_QUIET_HOURS,
      },
      profileArgs('shipcheck'),
    );
    servers.push(shipChild);
    const workerChildren: ServerChild[] = [];
    for (let index = 0; index < workers; index++) {
      const workerPort = await getFreePort();
      const worker = spawnServer(
        `shipcheck worker ${index + 1}`,
        'src/main.ts',
        {
          ...common,
          REDIS_URL,
          REDIS_PREFIX: prefix,
          PORT: String(workerPort),
          SHIPCHECK_ROLE: 'worker',
          LOG_LEVEL: 'warn',
          CHECKLISTS_DIR: checklistsDir,
          REMINDER_INTERVAL: REMIND_INTERVAL,
          QUIET_HOURS: REMIND_QUIET_HOURS,
        },
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
    const ctx: Context = {
      standIn,
      redis,
      prefix,
      signingSecret,
      shipUrl: `http://127.0.0.1:${shipPort}/slack/events`,
    };
    const ship: Target = { name: 'shipcheck', url: ctx.shipUrl, child: shipChild };

    if (bareChild) {
      const bare: Target = {
        name: 'bare bolt',
        url: `http://127.0.0.1:${barePort}/slack/events`,
        child: bareChild,
      };

      // One release per level, each in its own channel (posting is paced per channel, so they start together).
      progress('starting one release per concurrency level');
      const releases = await Promise.all(
        LEVELS.map((level) =>
          startRelease(
            ctx,
            `bench-${level.concurrency}`,
            `C0BENCH${String(level.concurrency).padStart(3, '0')}`,
          ),
        ),
      );
      await waitForSlackQuiet(standIn);

      for (const [index, level] of LEVELS.entries()) {
        const release = releases[index]!;
        const ticks = CYCLE_ITEMS.map((id) => clickTemplate(release.parts, id, true));
        const unticks = CYCLE_ITEMS.map((id) => clickTemplate(release.parts, id, false));
        bodyBytes = Math.max(bodyBytes, Buffer.byteLength(renderClick(ticks[0]!, 'U0CLK000')));
        const levelPosters = new Map<ServerName, SignedPoster>();
        const offsets = new Map<ServerName, number>();
        for (const target of [bare, ship]) {
          const poster = new SignedPoster(target.url, signingSecret, level.concurrency + 10);
          levelPosters.set(target.name, poster);
          offsets.set(target.name, 0);
        }
        const send = async (target: Target, count: number) => {
          const offset = offsets.get(target.name)!;
          offsets.set(target.name, offset + count);
          return runLoad(
            levelPosters.get(target.name)!,
            cyclePicker(ticks, unticks, offset),
            level.concurrency,
            count,
          );
        };
        try {
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
          // Warm-up right before measuring: JIT, and keep-alive connections that the servers have not yet
          // closed as idle (Node's HTTP server closes them after 5 s).
          for (const target of [bare, ship]) {
            progress(`${target.name}: ${level.warmup} warm-up clicks at concurrency ${level.concurrency}`);
            const warm = await send(target, level.warmup);
            if (warm.failures.length > 0)
              throw new Error(`${target.name} warm-up failed: ${warm.failures[0]}`);
          }
          const auditBefore = await redis.xlen(auditKey(ctx, release.releaseId));
          const merged = new Map<ServerName, { latencies: number[]; wallMs: number; failures: string[] }>();
          const cpu = new Map<ServerName, number>();
          const clientCpu = new Map<ServerName, number>();
          const chunkP99s = new Map<ServerName, number[]>();
          let shipDelta: CommandCounts = new Map();
          let shipRunMs = 0;
          const chunk = Math.ceil(level.requests / ROUNDS);
          progress(
            `${level.requests} clicks per server at concurrency ${level.concurrency}, in ${ROUNDS} chunks each`,
          );
          for (let round = 0; round < ROUNDS; round++) {
            for (const target of round % 2 === 0 ? [bare, ship] : [ship, bare]) {
              const count = Math.min(chunk, level.requests - round * chunk);
              if (count <= 0) continue;
              const cpuBefore = cpuTimeMs(target.child.process.pid);
              const statsBefore = target === ship && idleDelta ? await readCommandStats(redis) : undefined;
              const clientBefore = process.cpuUsage();
              const result = await send(target, count);
              const client = process.cpuUsage(clientBefore);
              clientCpu.set(
                target.name,
                (clientCpu.get(target.name) ?? 0) + (client.user + client.system) / 1000,
              );
              chunkP99s.set(target.name, [...(chunkP99s.get(target.name) ?? []), summarize(result).p99]);
              await sleep(CHUNK_PAUSE_MS);
              if (statsBefore) {
                const delta = subtractCounts(await readCommandStats(redis), statsBefore);
                for (const [name, calls] of delta) shipDelta.set(name, (shipDelta.get(name) ?? 0) + calls);
                shipRunMs += result.wallMs + CHUNK_PAUSE_MS;
              }
              const cpuAfter = cpuTimeMs(target.child.process.pid);
              if (cpuBefore !== undefined && cpuAfter !== undefined) {
                cpu.set(target.name, (cpu.get(target.name) ?? 0) + cpuAfter - cpuBefore);
              }
              const sum = merged.get(target.name) ?? { latencies: [], wallMs: 0, failures: [] };
              sum.latencies.push(...result.latencies);
              sum.wallMs += result.wallMs;
              sum.failures.push(...result.failures);
              merged.set(target.name, sum);
            }
          }
          for (const target of [bare, ship]) {
            const result = merged.get(target.name)!;
            if (result.failures.length > 0) {
              progress(
                `${target.name}: ${result.failures.length} failed requests, e.g. ${result.failures[0]}`,
              );
            }
            rows.push({
              server: target.name,
              concurrency: level.concurrency,
              summary: summarize(result),
              cpuMsPerClick: (cpu.get(target.name) ?? Number.NaN) / level.requests,
              clientCpuMsPerClick: (clientCpu.get(target.name) ?? Number.NaN) / level.requests,
              chunkP99s: chunkP99s.get(target.name) ?? [],
            });
          }
          if (idleDelta) {
            clickStats = { clicks: level.requests, delta: shipDelta, idleDelta, idleMs, runMs: shipRunMs };
            shipDelta = new Map();
          }
          const applied = (await redis.xlen(auditKey(ctx, release.releaseId))) - auditBefore;
          appliedNotes.push(
            `concurrency ${level.concurrency}: ${applied} of ${level.requests} clicks changed an item (audit events added)`,
          );
        } finally {
          for (const poster of levelPosters.values()) poster.close();
        }
        // This level's Slack sync finishes before the next level starts.
        await waitForSlackQuiet(standIn);
      }

      // Where the commands go, per connection and script, for a few more clicks at concurrency 1 and the
      // Slack sync they cause.
      {
        progress(`MONITOR: ${MONITOR_CLICKS} clicks at concurrency 1 and the Slack sync after them`);
        const release = releases[0]!;
        const ticks = CYCLE_ITEMS.map((id) => clickTemplate(release.parts, id, true));
        const unticks = CYCLE_ITEMS.map((id) => clickTemplate(release.parts, id, false));
        const level = LEVELS[0];
        const poster = new SignedPoster(ctx.shipUrl, signingSecret, 4);
        posters.push(poster);
        monitorRedis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
        const capture = await startMonitor(monitorRedis);
        const result = await runLoad(
          poster,
          cyclePicker(ticks, unticks, level.warmup + level.requests),
          1,
          MONITOR_CLICKS,
        );
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

      // Coalescing: 100 ticks of 100 different items over 10 s, then until Slack shows them all.
      {
        progress('coalescing: starting a fresh release');
        const channel = 'C0BENCHCO';
        const release = await startRelease(ctx, 'bench-coalesce', channel);
        await waitForSlackQuiet(standIn);
        const templates = ITEM_IDS.map((id) => clickTemplate(release.parts, id, true));
        const labels = new Map<string, string>([[release.header.ts, 'header']]);
        for (const [index, part] of release.parts.entries()) labels.set(part.ts, `part ${index + 1}`);
        const updateCount = standIn.calls.length;
        const updates = () =>
          standIn!.calls
            .slice(updateCount)
            .filter((call) => call.method === 'chat.update' && call.args.channel === channel);
        const poster = new SignedPoster(ctx.shipUrl, signingSecret, 16);
        posters.push(poster);
        progress(`coalescing: ${templates.length} ticks, one every ${COALESCE_SPACING_MS} ms`);
        const t0 = performance.now();
        const firstClickEpoch = Date.now();
        const sends: Promise<PostOutcome>[] = [];
        let lastAck = 0;
        let lastAckEpoch = 0;
        for (const [index, template] of templates.entries()) {
          const wait = t0 + index * COALESCE_SPACING_MS - performance.now();
          if (wait > 0) await sleep(wait);
          const user = COALESCE_USERS[index % COALESCE_USERS.length]!;
          sends.push(
            poster.post(renderClick(template, user)).then((outcome) => {
              lastAck = Math.max(lastAck, performance.now());
              lastAckEpoch = Math.max(lastAckEpoch, Date.now());
              return outcome;
            }),
          );
        }
        const outcomes = await Promise.all(sends);
        const failed = outcomes.filter((outcome) => outcome.status !== 200).length;
        // Ticked: a ticked checkbox, or (once the release completed) the read-only "✅ <item>" line.
        const shownDone = (message: StoredMessage, id: string) =>
          viewItem(message, id)?.ticked === true ||
          message.blocks.some(
            (block) => block.type === 'section' && block.text?.text.split('\n')[0] === `✅ Bench item ${id}`,
          );
        const tickedCount = () => {
          const messages = release.parts
            .map((part) => standIn!.message(channel, part.ts))
            .filter((message): message is StoredMessage => message !== undefined);
          return ITEM_IDS.filter((id) => messages.some((message) => shownDone(message, id))).length;
        };
        let settledMs = Number.NaN;
        try {
          await standIn.waitFor(() => tickedCount() === ITEM_COUNT, 60_000, 'all items shown ticked');
          settledMs = performance.now() - lastAck;
        } catch {
          // reported below with the count that did show up
        }
        const finalCount = tickedCount();
        const atFinal = updates().length;
        await waitForSlackQuiet(standIn);
        const all = updates();
        const byMessage = new Map<string, number>();
        for (const call of all) {
          const label = labels.get(String(call.args.ts)) ?? String(call.args.ts);
          byMessage.set(label, (byMessage.get(label) ?? 0) + 1);
        }
        const afterLast = all.filter((call) => call.at > lastAckEpoch).length;
        const readOnly = release.parts.every(
          (part) => viewItem(standIn!.message(channel, part.ts) ?? part, 'i001')?.clickable !== true,
        );
        coalesceLines.push(
          `chat.update calls for ${templates.length} clicks in ${fixed((templates.length * COALESCE_SPACING_MS) / 1000, 0)} s: ${all.length} (target ≤ ${COALESCE_TARGET}: ${all.length <= COALESCE_TARGET ? 'met' : 'MISSED'}); final messages show ${finalCount}/${ITEM_COUNT} ticked`,
          Number.isFinite(settledMs)
            ? `time from the last click's ack to the final state in Slack: ${fixed(settledMs, 0)} ms`
            : 'the final state did not appear within 60 s of the last click',
          `by message: ${[...byMessage.entries()].map(([label, count]) => `${label} ${count}`).join(', ')}; ${afterLast} of them after the last click, ${all.length - atFinal} after the final state showed`,
          `updates, in seconds after the first click: ${all.map((call) => `${fixed((call.at - firstClickEpoch) / 1000, 1)} ${labels.get(String(call.args.ts)) ?? '?'}`).join(', ')}`,
          `clicks answered non-200: ${failed}; the last click was acked ${fixed((lastAck - t0) / 1000, 1)} s after the first was sent`,
        );
        if (readOnly) {
          coalesceLines.push(
            'the 100th tick completed the release: every part was re-rendered read-only (✅ lines, no checkboxes)',
          );
        }
      }
    }

    // Reminder lateness: 10,000 delayed jobs across 1,000 releases, due within one minute.
    if (runReminders) {
      reminderResult = await runReminderBench({
        standIn,
        redis,
        prefix,
        signingSecret,
        shipUrl: ctx.shipUrl,
        metricsUrl: `http://127.0.0.1:${shipPort}/metrics`,
        shipPids: [shipChild.process.pid, ...workerChildren.map((worker) => worker.process.pid)],
        progress,
      });
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
    `- parts: ${[...parts].join(', ')}; pacing at the defaults (SLACK_POST_INTERVAL_MS 1000, SLACK_UPDATE_INTERVAL_MS 1200); shipcheck with REMINDER_INTERVAL ${REMIND_INTERVAL} and QUIET_HOURS ${REMIND_QUIET_HOURS} (only the reminders part has deploy windows)`,
  );
  if (runClicks) {
    out(
      `- a click: signed block_actions, form-encoded, ${(bodyBytes / 1024).toFixed(1)} KiB (it carries the whole checklist message, as Slack's do); clicks tick, then untick, 99 of 100 items round-robin`,
    );
    out(
      `- per level: a warm-up, then the requests in ${ROUNDS} chunks per server, alternating between the servers`,
    );
  }
  out();
  if (rows.length > 0) {
    out('### Ack latency (time to the full HTTP response)');
    out();
    out('| server | concurrency | requests | p50 ms | p99 ms | max ms | req/s | CPU ms/click | failed |');
    out('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of rows) {
      const s = row.summary;
      out(
        `| ${row.server} | ${row.concurrency} | ${s.requests} | ${fixed(s.p50)} | ${fixed(s.p99)} | ${fixed(s.max)} | ${fixed(s.perSecond, 0)} | ${fixed(row.cpuMsPerClick)} | ${s.failures} |`,
      );
    }
    out();
    for (const level of LEVELS) {
      const bareRow = rows.find((row) => row.server === 'bare bolt' && row.concurrency === level.concurrency);
      const shipRow = rows.find((row) => row.server === 'shipcheck' && row.concurrency === level.concurrency);
      if (bareRow && shipRow) {
        const ratio = (a: number, b: number) => fixed(a / b);
        out(
          `- concurrency ${level.concurrency}, shipcheck / bare Bolt: p50 ${ratio(shipRow.summary.p50, bareRow.summary.p50)}×, p99 ${ratio(shipRow.summary.p99, bareRow.summary.p99)}×, req/s ${ratio(shipRow.summary.perSecond, bareRow.summary.perSecond)}×, CPU per click ${ratio(shipRow.cpuMsPerClick, bareRow.cpuMsPerClick)}×`,
        );
        const chunks = (row: LevelRow) => row.chunkP99s.map((value) => fixed(value, 1)).join(' / ');
        out(
          `  - p99 of each chunk (ms): bare Bolt ${chunks(bareRow)}; shipcheck ${chunks(shipRow)}; load generator CPU ${fixed(bareRow.clientCpuMsPerClick)} / ${fixed(shipRow.clientCpuMsPerClick)} ms per click`,
        );
      }
    }
    for (const note of appliedNotes) out(`- shipcheck ${note}`);
    out(
      "- CPU ms/click: the server process's user+system CPU time over its chunks (and 250 ms after each) / clicks",
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
    const clicks = MONITOR_CLICKS;
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
      `- the click handler's round trips after the ack (state + audit, BullMQ enqueue): ${(clickPath / clicks).toFixed(2)} per click`,
    );
    out(
      `- Slack sync (job worker, store reads, pacer), amortised: ${((trips.length - clickPath) / clicks).toFixed(2)} round trips per click`,
    );
    out(
      `- all: ${(trips.length / clicks).toFixed(2)} round trips and ${((trips.length + inner) / clicks).toFixed(2)} commands (those inside scripts included) per click`,
    );
    out();
  }

  if (coalesceLines.length > 0) {
    out('### Coalescing of chat.update (100 ticks of 100 different items, one every 100 ms, 5 users)');
    out();
    for (const line of coalesceLines) out(`- ${line}`);
    out();
  }

  if (reminderResult) for (const line of reminderSection(reminderResult)) out(line);

  const shipTop = rows.find((row) => row.server === 'shipcheck' && row.concurrency === 100);
  const bareTop = rows.find((row) => row.server === 'bare bolt' && row.concurrency === 100);
  const shipRows = rows.filter((row) => row.server === 'shipcheck');
  out('### Targets and housekeeping');
  out();
  if (shipTop && bareTop) {
    const ratio = shipTop.summary.p99 / bareTop.summary.p99;
    const worst = Math.max(...shipRows.map((row) => row.summary.p99));
    const worstMax = Math.max(...shipRows.map((row) => row.summary.max));
    out(
      `- ack p99 within 1.5× of bare Bolt at 100 concurrent: ${ratio <= 1.5 ? 'met' : 'MISSED'} (${ratio.toFixed(2)}×)`,
    );
    out(
      `- ack far inside Slack's 3 s deadline: ${worstMax < 1000 ? 'met' : worstMax < 3000 ? 'inside, but not far' : 'MISSED'} (worst shipcheck p99 ${fixed(worst, 1)} ms, worst max ${fixed(worstMax, 1)} ms)`,
    );
  }
  if (runReminders) out(reminderTargetLine(reminderResult));
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
      `ack p99 ratio ${(shipTop.summary.p99 / bareTop.summary.p99).toFixed(2)} (shipcheck ${fixed(shipTop.summary.p99, 1)} ms / bare bolt ${fixed(bareTop.summary.p99, 1)} ms) at 100 concurrent`,
    );
  } else {
    out('ack p99 ratio n/a (the 100-concurrent level did not run)');
  }
  process.stdout.write(`${report.join('\n')}\n`);
  process.exitCode = failure ? 1 : 0;
}

await main();
