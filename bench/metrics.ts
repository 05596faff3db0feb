// Prometheus histograms read from a shipcheck process's /metrics page.

/** Commit of an audit event → its follow-ups queued by the relay (src/app/relay.ts). */
export const RELAY_LAG_METRIC = 'shipcheck_relay_lag_seconds';
/** A click's commit, timed inside its acknowledgement (src/slack/guard.ts), by request kind. */
export const COMMIT_METRIC = 'shipcheck_commit_before_ack_seconds';

/** The quantile of a Prometheus histogram, interpolated inside its bucket as histogram_quantile() does. */
export function histogramQuantile(buckets: [number, number][], fraction: number): number {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return Number.NaN;
  const rank = fraction * total;
  let previousBound = 0;
  let previousCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return previousBound;
      return (
        previousBound + ((bound - previousBound) * (rank - previousCount)) / (count - previousCount || 1)
      );
    }
    previousBound = bound;
    previousCount = count;
  }
  return previousBound;
}

/**
 * A histogram's cumulative buckets ([upper bound, count], +Inf last) from a /metrics page; with
 * `labels`, only the series that carries them.
 */
export async function readHistogram(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<[number, number][]> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  const buckets: [number, number][] = [];
  const pattern = new RegExp(`^${name}_bucket\\{(.*)\\} (\\S+)$`);
  for (const line of text.split('\n')) {
    const bucket = pattern.exec(line);
    if (!bucket) continue;
    if (Object.entries(labels).some(([key, value]) => !bucket[1]!.includes(`${key}="${value}"`))) continue;
    const le = /le="([^"]+)"/.exec(bucket[1]!)?.[1] ?? '+Inf';
    buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(bucket[2])]);
  }
  return buckets.sort((a, b) => a[0] - b[0]);
}

export interface HistogramFigures {
  count: number;
  /** Interpolated inside the buckets, as histogram_quantile() does: a bucket's bounds, not a measurement. */
  p50: number;
  p99: number;
}

/** The observations between two reads of a histogram; undefined when there were none. */
export function histogramBetween(
  before: [number, number][] | undefined,
  after: [number, number][] | undefined,
): HistogramFigures | undefined {
  if (!after) return undefined;
  const delta = after.map(([bound, count]): [number, number] => [
    bound,
    count - (before?.find(([le]) => le === bound)?.[1] ?? 0),
  ]);
  const count = delta.at(-1)?.[1] ?? 0;
  if (count <= 0) return undefined;
  return { count, p50: histogramQuantile(delta, 0.5), p99: histogramQuantile(delta, 0.99) };
}
