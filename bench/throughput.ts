import type { Redis } from 'ioredis';
import { type LatencySummary, runLoad, SignedPoster, summarize } from './clicks.js';
import { redisCpuMs } from './redis-stats.js';
import {
  CursorWatch,
  lagDetail,
  lagFigures,
  type RelayLag,
  relayLagOf,
  releaseMetaKey,
} from './relay-lag.js';
import {
  auditKey,
  type Context,
  cyclePicker,
  cycleTemplates,
  type StartedRelease,
  sleep,
  waitForSlackQuiet,
} from './releases.js';
import { cpuTimeMs, type ServerChild, stopServer } from './servers.js';

// Sustained clicks per second at a fixed number of concurrent clickers: the bare Bolt floor, one
// shipcheck instance, and three shipcheck instances on one Redis prefix with the clicks spread
// round-robin over them, as a load balancer in front of a scaled-out deployment would.

/** The pause after a timed run, for the work that follows the last acks. */
const AFTER_RUN_MS = 500;

export interface Instance {
  name: string;
  url: string;
  child: ServerChild;
}

export interface ThroughputOptions {
  ctx: Context;
  /** A release of its own: every click of every run goes to it. */
  release: StartedRelease;
  bare: Instance;
  /** The main shipcheck process. */
  ship: Instance;
  /** Starts one more shipcheck process on the same Redis prefix and waits until it is ready. */
  spawnInstance: (index: number) => Promise<Instance>;
  concurrency: number;
  durationMs: number;
  /** Warm-up clicks per process before its run. */
  warmup: number;
  /** A connection of its own that polls the release's relay cursor (bench/relay-lag.ts). */
  pollRedis: Redis;
}

export interface ThroughputRow {
  setup: string;
  processes: number;
  summary: LatencySummary;
  /** Clicks each process answered, and their p99. */
  perProcess: { clicks: number; p99: number }[];
  /** CPU time of each process over the run ÷ the run's wall time. */
  processCpuShare: number[];
  redisCpuShare: number;
  clientCpuShare: number;
  /** Audit events the run added: clicks that changed an item (shipcheck only). */
  applied: number | undefined;
  /** Commit → follow-ups queued, for the events of the timed run (shipcheck only). */
  relayLag: RelayLag | undefined;
}

export interface ThroughputResult {
  concurrency: number;
  durationMs: number;
  rows: ThroughputRow[];
  notes: string[];
}

export async function runThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const { ctx, release, concurrency } = options;
  const templates = cycleTemplates(release);
  const notes: string[] = [];
  const rows: ThroughputRow[] = [];
  // Clicks sent so far, per server, so each run carries on the tick/untick cycle where the last stopped.
  const sent = { bare: 0, ship: 0 };
  const extra: Instance[] = [];
  let watch: CursorWatch | undefined;

  const run = async (setup: string, instances: Instance[], counted: boolean) => {
    const server = counted ? 'ship' : 'bare';
    const posters = instances.map(
      (instance) =>
        new SignedPoster(instance.url, ctx.signingSecret, Math.ceil(concurrency / instances.length) + 10),
    );
    try {
      // The previous run's Slack sync first; then the warm-up, right before the timed run and at full
      // concurrency, so that run finds every keep-alive connection open (Node closes idle ones after 5 s).
      await waitForSlackQuiet(ctx.standIn, 1500, 15_000);
      ctx.progress(`throughput, ${setup}: ${options.warmup} warm-up clicks per process`);
      const warm = await runLoad(posters, cyclePicker(templates, sent[server], 'U0TPT'), concurrency, {
        requests: options.warmup * instances.length,
      });
      sent[server] += options.warmup * instances.length;
      if (warm.failures.length > 0)
        throw new Error(`throughput warm-up (${setup}) failed: ${warm.failures[0]}`);
      ctx.progress(
        `throughput, ${setup}: clicks from ${concurrency} concurrent clickers for ${options.durationMs / 1000} s`,
      );
      const audit = auditKey(ctx.prefix, release.releaseId);
      const auditBefore = counted ? await ctx.redis.xlen(audit) : 0;
      const runFrom = Date.now();
      const cpuBefore = instances.map((instance) => cpuTimeMs(instance.child.process.pid));
      const redisBefore = await redisCpuMs(ctx.redis);
      const clientBefore = process.cpuUsage();
      const result = await runLoad(posters, cyclePicker(templates, sent[server], 'U0TPT'), concurrency, {
        durationMs: options.durationMs,
      });
      sent[server] += result.latencies.length + result.failures.length;
      const client = process.cpuUsage(clientBefore);
      const cpuAfter = instances.map((instance) => cpuTimeMs(instance.child.process.pid));
      const redisAfter = await redisCpuMs(ctx.redis);
      const runTo = Date.now();
      // The audit events come from work after the ack; let it finish.
      await sleep(AFTER_RUN_MS);
      const relayLag =
        counted && watch
          ? await relayLagOf({
              redis: ctx.redis,
              watch,
              audit,
              windows: [{ fromMs: runFrom, toMs: runTo, tailMs: AFTER_RUN_MS }],
            })
          : undefined;
      rows.push({
        setup,
        processes: instances.length,
        summary: summarize(result),
        perProcess: result.byPoster.map((latencies) => {
          const { requests, p99 } = summarize({ latencies, wallMs: result.wallMs, failures: [] });
          return { clicks: requests, p99 };
        }),
        processCpuShare: instances.map((_instance, index) => {
          const before = cpuBefore[index];
          const after = cpuAfter[index];
          return before === undefined || after === undefined ? Number.NaN : (after - before) / result.wallMs;
        }),
        redisCpuShare: (redisAfter - redisBefore) / result.wallMs,
        clientCpuShare: (client.user + client.system) / 1000 / result.wallMs,
        applied: counted ? (await ctx.redis.xlen(audit)) - auditBefore : undefined,
        relayLag,
      });
      if (result.failures.length > 0)
        notes.push(`${setup}: ${result.failures.length} failed, e.g. ${result.failures[0]}`);
    } finally {
      for (const poster of posters) poster.close();
    }
  };

  try {
    // The extra processes start first, so that their start-up CPU is over before anything is timed.
    ctx.progress(
      'throughput: starting two more shipcheck processes (SHIPCHECK_ROLE=all) on the same Redis prefix',
    );
    const spawned = await Promise.allSettled([options.spawnInstance(2), options.spawnInstance(3)]);
    for (const outcome of spawned) if (outcome.status === 'fulfilled') extra.push(outcome.value);
    const failed = spawned.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    await sleep(1000);
    // Polling through every run, the bare one too, so that its small cost falls on all of them.
    watch = new CursorWatch(options.pollRedis, releaseMetaKey(ctx.prefix, release.releaseId));
    await run('bare Bolt, 1 process', [options.bare], false);
    await run('shipcheck, 1 instance', [options.ship], true);
    await run('shipcheck, 3 instances (SHIPCHECK_ROLE=all), round-robin', [options.ship, ...extra], true);
  } finally {
    await watch?.stop();
    for (const instance of extra) notes.push(`${instance.name} ${await stopServer(instance.child, 10_000)}`);
  }
  await waitForSlackQuiet(ctx.standIn);
  return { concurrency, durationMs: options.durationMs, rows, notes };
}

// ---- report -------------------------------------------------------------------------------------

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const percent = (share: number) => `${fixed(share * 100)}%`;

export function throughputSection(result: ThroughputResult): string[] {
  const lines = [
    `### Clicks per second (${result.concurrency} concurrent clickers, ${fixed(result.durationMs / 1000)} s each)`,
    '',
    '| setup | clicks/s | clicks | p50 ms | p99 ms | max ms | failed | clicks (p99 ms) per process | CPU per process | Redis CPU | load generator CPU | changed an item | relay lag |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---|',
  ];
  for (const row of result.rows) {
    const s = row.summary;
    lines.push(
      `| ${row.setup} | **${fixed(s.perSecond)}** | ${s.requests} | ${fixed(s.p50, 1)} | ${fixed(s.p99, 1)} | ${fixed(s.max, 1)} | ${s.failures} | ${row.perProcess.map((one) => `${one.clicks} (${fixed(one.p99)})`).join(' / ')} | ${row.processCpuShare.map(percent).join(' / ')} | ${percent(row.redisCpuShare)} | ${percent(row.clientCpuShare)} | ${row.applied ?? '–'} | ${row.relayLag ? lagFigures(row.relayLag) : '–'} |`,
    );
  }
  lines.push('');
  const one = result.rows.find((row) => row.processes === 1 && row.applied !== undefined);
  const three = result.rows.find((row) => row.processes === 3);
  if (one && three) {
    lines.push(
      `- three instances / one: ${fixed(three.summary.perSecond / one.summary.perSecond, 2)}× the clicks per second. All processes, Redis and the load generator share this machine's cores, so this shows what a second and third process add here, not what three machines would do.`,
    );
  }
  lines.push(
    '- CPU shares are of one core (100% = one core busy), from /proc/<pid>/stat and Redis `INFO cpu` over the timed run.',
  );
  for (const row of result.rows) {
    if (row.relayLag) lines.push(`- relay lag, ${row.setup}: ${lagDetail(row.relayLag)}`);
  }
  for (const note of result.notes) lines.push(`- ${note}`);
  lines.push('');
  return lines;
}
