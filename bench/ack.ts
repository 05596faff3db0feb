import type { Redis } from 'ioredis';
import {
  type LatencySummary,
  type LoadResult,
  type RequestPicker,
  runLoad,
  SignedPoster,
  summarize,
} from './clicks.js';
import { type CommandCounts, readCommandStats, subtractCounts } from './redis-stats.js';
import { sleep } from './releases.js';
import { cpuTimeMs, type ServerChild } from './servers.js';

// Ack latency of one request kind at one concurrency, shipcheck beside the bare Bolt app: a warm-up,
// then the requests in chunks that alternate between the servers (bare/ship, ship/bare, …), so that
// whatever else the machine does meanwhile lands on both alike.

export type ServerName = 'bare bolt' | 'shipcheck';

export interface AckTarget {
  name: ServerName;
  url: string;
  child: ServerChild;
}

export interface AckLevel {
  concurrency: number;
  warmup: number;
  requests: number;
}

/** Each level's requests go in this many chunks per server. */
export const ROUNDS = 4;
/** After a chunk: lets the app finish the work it does after acking before the other server's chunk. */
export const CHUNK_PAUSE_MS = 250;

export interface LevelRow {
  kind: string;
  server: ServerName;
  concurrency: number;
  summary: LatencySummary;
  cpuMsPerRequest: number;
  /** The load generator's own CPU time per request (the parent process, which also runs the stand-in). */
  clientCpuMsPerRequest: number;
  /** p99 of each chunk, in the order they ran: shows whether one stall made the level's p99. */
  chunkP99s: number[];
}

export interface LevelOptions {
  kind: string;
  bare: AckTarget;
  ship: AckTarget;
  level: AckLevel;
  signingSecret: string;
  /** The requests of a server, carrying on from `offset` requests sent to it before in this level. */
  picker: (offset: number) => RequestPicker;
  progress: (line: string) => void;
  /** When given: INFO commandstats around shipcheck's chunks (a server-wide delta). */
  commandStatsOf?: Redis;
  /** Called before each shipcheck chunk (e.g. to note where Slack's calls start). */
  beforeShipChunk?: () => void;
  /** Called as soon as each shipcheck chunk's last answer is in, before the pause after it. */
  afterShipChunk?: () => void;
}

export interface LevelResult {
  rows: LevelRow[];
  /** Commands Redis ran during shipcheck's chunks and the pause after each (with commandStatsOf). */
  shipDelta: CommandCounts;
  shipRunMs: number;
}

export async function measureLevel(options: LevelOptions): Promise<LevelResult> {
  const { kind, bare, ship, level, progress } = options;
  const posters = new Map<ServerName, SignedPoster>();
  const offsets = new Map<ServerName, number>();
  for (const target of [bare, ship]) {
    posters.set(target.name, new SignedPoster(target.url, options.signingSecret, level.concurrency + 10));
    offsets.set(target.name, 0);
  }
  const send = (target: AckTarget, count: number): Promise<LoadResult> => {
    const offset = offsets.get(target.name)!;
    offsets.set(target.name, offset + count);
    return runLoad([posters.get(target.name)!], options.picker(offset), level.concurrency, {
      requests: count,
    });
  };
  try {
    // Warm-up right before measuring: JIT, and keep-alive connections that the servers have not yet
    // closed as idle (Node's HTTP server closes them after 5 s).
    for (const target of [bare, ship]) {
      if (level.warmup === 0) break;
      progress(
        `${kind}, ${target.name}: ${level.warmup} warm-up requests at concurrency ${level.concurrency}`,
      );
      const warm = await send(target, level.warmup);
      if (warm.failures.length > 0)
        throw new Error(`${kind}: ${target.name} warm-up failed: ${warm.failures[0]}`);
    }
    const merged = new Map<ServerName, { latencies: number[]; wallMs: number; failures: string[] }>();
    const cpu = new Map<ServerName, number>();
    const clientCpu = new Map<ServerName, number>();
    const chunkP99s = new Map<ServerName, number[]>();
    const shipDelta: CommandCounts = new Map();
    let shipRunMs = 0;
    const chunk = Math.ceil(level.requests / ROUNDS);
    progress(`${kind}: ${level.requests} requests per server at concurrency ${level.concurrency}`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of round % 2 === 0 ? [bare, ship] : [ship, bare]) {
        const count = Math.min(chunk, level.requests - round * chunk);
        if (count <= 0) continue;
        const cpuBefore = cpuTimeMs(target.child.process.pid);
        const stats = target === ship ? options.commandStatsOf : undefined;
        const statsBefore = stats ? await readCommandStats(stats) : undefined;
        if (target === ship) options.beforeShipChunk?.();
        const clientBefore = process.cpuUsage();
        const result = await send(target, count);
        if (target === ship) options.afterShipChunk?.();
        const client = process.cpuUsage(clientBefore);
        clientCpu.set(target.name, (clientCpu.get(target.name) ?? 0) + (client.user + client.system) / 1000);
        chunkP99s.set(target.name, [...(chunkP99s.get(target.name) ?? []), summarize(result).p99]);
        await sleep(CHUNK_PAUSE_MS);
        if (stats && statsBefore) {
          const delta = subtractCounts(await readCommandStats(stats), statsBefore);
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
    const rows: LevelRow[] = [];
    for (const target of [bare, ship]) {
      const result = merged.get(target.name)!;
      if (result.failures.length > 0) {
        progress(
          `${kind}, ${target.name}: ${result.failures.length} failed requests, e.g. ${result.failures[0]}`,
        );
      }
      rows.push({
        kind,
        server: target.name,
        concurrency: level.concurrency,
        summary: summarize(result),
        cpuMsPerRequest: (cpu.get(target.name) ?? Number.NaN) / level.requests,
        clientCpuMsPerRequest: (clientCpu.get(target.name) ?? Number.NaN) / level.requests,
        chunkP99s: chunkP99s.get(target.name) ?? [],
      });
    }
    return { rows, shipDelta, shipRunMs };
  } finally {
    for (const poster of posters.values()) poster.close();
  }
}

// ---- report -------------------------------------------------------------------------------------

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function findRow(rows: LevelRow[], kind: string, server: ServerName, concurrency: number) {
  return rows.find((row) => row.kind === kind && row.server === server && row.concurrency === concurrency);
}

/** p99 of shipcheck ÷ p99 of bare Bolt for one kind and concurrency; NaN when either is missing. */
export function p99Ratio(rows: LevelRow[], kind: string, concurrency: number): number {
  const ship = findRow(rows, kind, 'shipcheck', concurrency);
  const bare = findRow(rows, kind, 'bare bolt', concurrency);
  return ship && bare ? ship.summary.p99 / bare.summary.p99 : Number.NaN;
}

/** The latency table of some rows and, per concurrency, the shipcheck / bare Bolt ratios. */
export function ackTable(rows: LevelRow[], unit = 'request'): string[] {
  const lines: string[] = [];
  lines.push(
    `| server | concurrency | requests | p50 ms | p99 ms | max ms | req/s | CPU ms/${unit} | failed |`,
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const s = row.summary;
    lines.push(
      `| ${row.server} | ${row.concurrency} | ${s.requests} | ${fixed(s.p50)} | ${fixed(s.p99)} | ${fixed(s.max)} | ${fixed(s.perSecond, 0)} | ${fixed(row.cpuMsPerRequest)} | ${s.failures} |`,
    );
  }
  lines.push('');
  const concurrencies = [...new Set(rows.map((row) => row.concurrency))];
  for (const concurrency of concurrencies) {
    const kind = rows[0]!.kind;
    const bareRow = findRow(rows, kind, 'bare bolt', concurrency);
    const shipRow = findRow(rows, kind, 'shipcheck', concurrency);
    if (!bareRow || !shipRow) continue;
    const ratio = (a: number, b: number) => fixed(a / b);
    lines.push(
      `- concurrency ${concurrency}, shipcheck / bare Bolt: p50 ${ratio(shipRow.summary.p50, bareRow.summary.p50)}×, p99 ${ratio(shipRow.summary.p99, bareRow.summary.p99)}×, req/s ${ratio(shipRow.summary.perSecond, bareRow.summary.perSecond)}×, CPU per ${unit} ${ratio(shipRow.cpuMsPerRequest, bareRow.cpuMsPerRequest)}×`,
    );
    const chunks = (row: LevelRow) => row.chunkP99s.map((value) => fixed(value, 1)).join(' / ');
    lines.push(
      `  - p99 of each chunk (ms): bare Bolt ${chunks(bareRow)}; shipcheck ${chunks(shipRow)}; load generator CPU ${fixed(bareRow.clientCpuMsPerRequest)} / ${fixed(shipRow.clientCpuMsPerRequest)} ms per ${unit}`,
    );
  }
  return lines;
}
