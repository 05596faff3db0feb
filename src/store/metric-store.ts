import type { Redis } from 'ioredis';
import type { CheckinMetrics, MetricResult } from '../domain/metric-checks.js';
import type { Keys } from './keys.js';

// What metric checks keep between attempts: a check-in's evaluation, taken once before its post, and
// each watched criterion's run of misses. Neither is part of the record until a script commits it
// (the check-in's post, a red flag); both expire long after anything could still read them.

/** As long as delivery markers: every retry of a check-in's post comes long before. */
const METRICS_TTL_SEC = 30 * 24 * 3600;

export interface WatchState {
  /** Misses in a row. */
  misses: number;
  /** The watch run (its due time) that counted last; a retried run counts once. */
  tick: number;
  /** The readings of the misses in the run, oldest first. */
  readings: number[];
  /** The last run's result. */
  last?: MetricResult;
}

export class MetricStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /**
   * Keeps the first evaluation of a check-in and resolves with it: a retry after a crash or a failed
   * post gets the numbers of the first attempt, not new ones.
   */
  async keepCheckinMetrics(
    teamId: string,
    releaseId: string,
    checkinIndex: number,
    metrics: CheckinMetrics,
  ): Promise<CheckinMetrics> {
    const key = this.keys.checkinMetrics(teamId, releaseId, checkinIndex);
    const [, [, kept]] = (await this.redis
      .multi()
      .set(key, JSON.stringify(metrics), 'EX', METRICS_TTL_SEC, 'NX')
      .get(key)
      .exec()) as [[Error | null, unknown], [Error | null, string | null]];
    return kept ? (JSON.parse(kept) as CheckinMetrics) : metrics;
  }

  async checkinMetrics(
    teamId: string,
    releaseId: string,
    checkinIndex: number,
  ): Promise<CheckinMetrics | undefined> {
    const kept = await this.redis.get(this.keys.checkinMetrics(teamId, releaseId, checkinIndex));
    return kept ? (JSON.parse(kept) as CheckinMetrics) : undefined;
  }

  async watchState(teamId: string, releaseId: string, criterionId: string): Promise<WatchState | undefined> {
    const value = await this.redis.hget(this.keys.metricWatch(teamId, releaseId), criterionId);
    return value ? (JSON.parse(value) as WatchState) : undefined;
  }

  async saveWatchState(
    teamId: string,
    releaseId: string,
    criterionId: string,
    state: WatchState,
  ): Promise<void> {
    const key = this.keys.metricWatch(teamId, releaseId);
    await this.redis
      .multi()
      .hset(key, criterionId, JSON.stringify(state))
      .expire(key, METRICS_TTL_SEC)
      .exec();
  }
}
