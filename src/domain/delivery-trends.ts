import { computeDeliveryStats, type DeliveryStats, type ReleaseRecord, type StatsQuery } from './stats.js';

// The delivery figures of `/deploy stats` over time, for the charts of the stats page: the same
// computation (src/domain/stats.ts) run once per week of the period, and the start-to-deployed times
// of the period sorted into bins. Pure.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

export interface WeekFigures {
  /** The week is [from, to). */
  from: number;
  to: number;
  deployments: number;
  /** Undefined in a week without deployments. */
  changeFailureRate?: number;
  rollbackRate?: number;
}

export interface LeadTimeBin {
  label: string;
  /** Start to deployed in [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  count: number;
}

export interface DeliveryTrends {
  overall: DeliveryStats;
  /** Oldest first; the last week ends at the end of the period. */
  weeks: WeekFigures[];
  leadTimeBins: LeadTimeBin[];
}

const LEAD_TIME_BINS: readonly { label: string; fromMs: number; toMs: number }[] = [
  { label: '< 1 h', fromMs: 0, toMs: HOUR },
  { label: '1 h–1 d', fromMs: HOUR, toMs: DAY },
  { label: '1–3 d', fromMs: DAY, toMs: 3 * DAY },
  { label: '3–7 d', fromMs: 3 * DAY, toMs: WEEK },
  { label: '1–2 w', fromMs: WEEK, toMs: 2 * WEEK },
  { label: '≥ 2 w', fromMs: 2 * WEEK, toMs: Number.POSITIVE_INFINITY },
];

/** Whole weeks back from the end of the period, enough to cover it. */
export function weeksOf(query: StatsQuery): { from: number; to: number }[] {
  const count = Math.max(1, Math.ceil((query.to - query.from) / WEEK));
  return Array.from({ length: count }, (_unused, index) => {
    const to = query.to - (count - 1 - index) * WEEK;
    return { from: to - WEEK, to };
  });
}

export function computeDeliveryTrends(records: readonly ReleaseRecord[], query: StatsQuery): DeliveryTrends {
  const overall = computeDeliveryStats(records, query);
  const scoped = (week: { from: number; to: number }): StatsQuery =>
    query.env === undefined ? week : { ...week, env: query.env };
  const weeks = weeksOf(query).map((week): WeekFigures => {
    const stats = computeDeliveryStats(records, scoped(week));
    return {
      ...week,
      deployments: stats.deployments,
      ...(stats.changeFailureRate.rate !== undefined
        ? { changeFailureRate: stats.changeFailureRate.rate }
        : {}),
      ...(stats.rollbackRate.rate !== undefined ? { rollbackRate: stats.rollbackRate.rate } : {}),
    };
  });
  const env = query.env?.toLowerCase();
  const leadTimes = records
    .filter(({ release }) => env === undefined || release.env.toLowerCase() === env)
    .flatMap(({ release }) => {
      const at = release.deployment?.at;
      return at !== undefined && at >= query.from && at < query.to ? [at - release.startedAt] : [];
    });
  const leadTimeBins = LEAD_TIME_BINS.map((bin) => ({
    ...bin,
    count: leadTimes.filter((ms) => ms >= bin.fromMs && ms < bin.toMs).length,
  }));
  return { overall, weeks, leadTimeBins };
}
