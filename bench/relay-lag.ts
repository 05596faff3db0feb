import type { Redis } from 'ioredis';
import { type HistogramFigures, RELAY_LAG_METRIC } from './metrics.js';
import { sleep, TEAM_ID } from './releases.js';
import { type Distribution, distribution } from './reminders.js';

// The relay's lag (src/app/relay.ts), measured from outside shipcheck: the time from an audit event's
// commit (the ms part of its stream id, stamped by Redis) to the relay having queued its follow-ups,
// which it marks by moving the release's "relayed" cursor past the event. A poller reads that cursor
// together with Redis's own clock, so both ends of the lag come from one clock and each event gets
// its own figure, not a histogram bucket. The cross-check is the `shipcheck_relay_lag_seconds`
// histogram on the process's /metrics.

/** Short enough to be a small part of a lag that at 100 concurrent clicks is tens of ms. */
export const POLL_INTERVAL_MS = 2;
/** How long after the load the bench waits for the cursor to reach the last event. */
const CATCH_UP_MS = 15_000;
/** Stretches of load at least this long tell whether the relay keeps up with the commits. */
const RATE_WINDOW_MS = 5000;

export function releaseMetaKey(prefix: string, releaseId: string): string {
  return `${prefix}:{${TEAM_ID}}:release:${releaseId}`;
}

/** Compares two stream ids ("<ms>-<seq>"); ms since the epoch fit a double exactly. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(Number);
  const [bMs, bSeq] = b.split('-').map(Number);
  return aMs! - bMs! || aSeq! - bSeq!;
}

const idMs = (id: string) => Number(id.slice(0, id.indexOf('-')));

interface CursorSample {
  /** Redis's clock when it read the cursor, ms since the epoch (µs precision). */
  at: number;
  cursor: string | null;
}

/**
 * Reads one release's relay cursor every POLL_INTERVAL_MS on a connection of its own until stopped.
 * Run it through the whole of a level, both servers' chunks, so its small cost falls on both alike.
 */
export class CursorWatch {
  readonly samples: CursorSample[] = [];
  private stopping = false;
  private readonly running: Promise<void>;

  constructor(
    private readonly redis: Redis,
    private readonly metaKey: string,
  ) {
    this.running = this.loop();
    // A failed poll surfaces from stop(); until then it must not count as unhandled.
    this.running.catch(() => undefined);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      // TIME in the same transaction: the moment Redis read the cursor, on the clock that stamped the events.
      const replies = await this.redis.multi().time().hget(this.metaKey, 'relayed').exec();
      const [error, time] = replies?.[0] ?? [new Error('no reply')];
      if (error) throw error;
      const [seconds, micros] = time as [string, string];
      this.samples.push({
        at: Number(seconds) * 1000 + Number(micros) / 1000,
        cursor: (replies?.[1]?.[1] as string | null) ?? null,
      });
      await sleep(POLL_INTERVAL_MS);
    }
  }

  latest(): string | null {
    return this.samples.at(-1)?.cursor ?? null;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }
}

export interface RelayLag {
  /** Events committed in the window. */
  events: number;
  /** Of those, the ones the cursor had passed when the bench stopped waiting. */
  relayed: number;
  /** First poll that saw the cursor past an event − the event's ms: an upper bound, by one poll gap. */
  lag: Distribution;
  /** Time between consecutive polls over the window: how much each figure may be above the true lag. */
  pollGap: Distribution;
  /** From the end of the load until the cursor reached the last event. */
  catchUpMs: number;
  /** Events committed per second of the windows. */
  committedPerSecond: number;
  /**
   * Of those, relayed per second before their window ended. Below the commit rate, the relay fell
   * behind and the lag grew for as long as the load lasted, so its percentiles depend on the run's length.
   */
  relayedPerSecond: number;
  longestWindowMs: number;
}

/** Every event id of a stream from `fromMs` to `toMs`, in order, read in pages. */
async function eventIds(redis: Redis, audit: string, fromMs: number, toMs: number): Promise<string[]> {
  const ids: string[] = [];
  let start = `${Math.floor(fromMs)}-0`;
  const end = `${Math.floor(toMs)}-18446744073709551615`;
  for (;;) {
    const page = await redis.xrange(audit, start, end, 'COUNT', 2000);
    for (const [id] of page) ids.push(id);
    if (page.length < 2000) return ids;
    start = `(${page.at(-1)![0]}`;
  }
}

/**
 * A stretch of load, epoch ms. A click's commit follows its ack, so the events of its last clicks
 * land up to `tailMs` after `toMs`; they count, but the rates are over from → to.
 */
export interface Window {
  fromMs: number;
  toMs: number;
  tailMs: number;
}

/**
 * The lag of every event committed inside the windows (the load's, oldest first). Waits, with the
 * watch still polling, until the cursor has reached the stream's newest event; the caller stops the watch.
 */
export async function relayLagOf(options: {
  redis: Redis;
  watch: CursorWatch;
  audit: string;
  windows: Window[];
}): Promise<RelayLag> {
  const { redis, watch, audit, windows } = options;
  const loadEnd = Date.now();
  const newest = (await redis.xrevrange(audit, '+', '-', 'COUNT', 1))[0]?.[0];
  let catchUpMs = Number.NaN;
  while (newest && Date.now() - loadEnd < CATCH_UP_MS) {
    const cursor = watch.latest();
    if (cursor && compareStreamIds(cursor, newest) >= 0) {
      catchUpMs = Date.now() - loadEnd;
      break;
    }
    await sleep(20);
  }
  const ids: { id: string; windowEnd: number }[] = [];
  for (const { fromMs, toMs, tailMs } of windows) {
    for (const id of await eventIds(redis, audit, fromMs, toMs + tailMs)) ids.push({ id, windowEnd: toMs });
  }
  const loadMs = windows.reduce((sum, { fromMs, toMs }) => sum + toMs - fromMs, 0);
  const samples = watch.samples;
  const lags: number[] = [];
  let relayedInWindow = 0;
  // Both run forward in time (the cursor never moves back), so one pass pairs each event with the
  // first poll that saw it relayed.
  let next = 0;
  for (const { id, windowEnd } of ids) {
    while (next < samples.length) {
      const cursor = samples[next]!.cursor;
      if (cursor && compareStreamIds(cursor, id) >= 0) break;
      next += 1;
    }
    if (next === samples.length) break;
    lags.push(samples[next]!.at - idMs(id));
    if (samples[next]!.at <= windowEnd) relayedInWindow += 1;
  }
  const gaps: number[] = [];
  for (let index = 1; index < samples.length; index++) {
    const sample = samples[index]!;
    if (windows.some(({ fromMs, toMs }) => sample.at >= fromMs && sample.at <= toMs)) {
      gaps.push(sample.at - samples[index - 1]!.at);
    }
  }
  return {
    events: ids.length,
    relayed: lags.length,
    lag: distribution(lags),
    pollGap: distribution(gaps),
    catchUpMs,
    committedPerSecond: (ids.length / loadMs) * 1000,
    relayedPerSecond: (relayedInWindow / loadMs) * 1000,
    longestWindowMs: Math.max(0, ...windows.map(({ fromMs, toMs }) => toMs - fromMs)),
  };
}

// ---- report -------------------------------------------------------------------------------------

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/**
 * Whether the relay kept up: it queued (almost) every event before the load ended. Undefined for
 * stretches of load a few relay rounds long, where the last round ends after the load whatever the rate.
 */
export function keptUp(lag: RelayLag): boolean | undefined {
  if (lag.longestWindowMs < RATE_WINDOW_MS) return undefined;
  return lag.relayedPerSecond >= 0.95 * lag.committedPerSecond;
}

/** "p50 12 ms, p99 48 ms, max 61 ms", and the rates when the relay fell behind. */
export function lagFigures(lag: RelayLag): string {
  const figures = `p50 ${fixed(lag.lag.p50, 1)} ms, p99 ${fixed(lag.lag.p99, 1)} ms, max ${fixed(lag.lag.max, 1)} ms`;
  return keptUp(lag) !== false
    ? figures
    : `${figures} (FELL BEHIND: relayed ${fixed(lag.relayedPerSecond)} events/s of ${fixed(lag.committedPerSecond)}/s committed, so the lag grew while the load lasted)`;
}

/** What the figures cover and how fine they are, for the report. */
export function lagDetail(lag: RelayLag): string {
  const missing = lag.events - lag.relayed;
  const rates =
    keptUp(lag) === undefined
      ? ''
      : ` (${fixed(lag.committedPerSecond)}/s committed, ${fixed(lag.relayedPerSecond)}/s relayed before the load ended)`;
  return `${lag.relayed} of ${lag.events} events${rates}${missing > 0 ? ` (${missing} not relayed within ${CATCH_UP_MS / 1000} s of the load's end)` : ''}; polled every ${fixed(lag.pollGap.p50, 1)} ms (p99 gap ${fixed(lag.pollGap.p99, 1)} ms), so each figure is at most one gap above the true lag; cursor caught up ${Number.isFinite(lag.catchUpMs) ? `${fixed(lag.catchUpMs)} ms` : 'not at all'} after the load`;
}

export function histogramText(figures: HistogramFigures | undefined): string {
  return figures
    ? `\`${RELAY_LAG_METRIC}\` on /metrics: ${figures.count} observations, p50 ≈ ${fixed(figures.p50 * 1000, 1)} ms, p99 ≈ ${fixed(figures.p99 * 1000, 1)} ms (interpolated in its buckets)`
    : `\`${RELAY_LAG_METRIC}\` on /metrics: no observations`;
}
