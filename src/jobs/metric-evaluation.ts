import {
  type CheckinMetrics,
  conditionOf,
  fillQuery,
  judgeMetric,
  type MetricCriterion,
  type MetricReading,
  type MetricResult,
  metricCriteria,
  queryLink,
  suggestAnswer,
  windowOf,
} from '../domain/metric-checks.js';
import { type Observation, observedValueProblem } from '../domain/observations.js';
import type { Release } from '../domain/release.js';
import type { MetricsSource } from '../metrics-source/prometheus.js';

// Measuring a release's success criteria on the metrics server at one moment. A baseline condition
// reads the same query at the deploy moment (time = when the release was marked deployed): that
// moment is in the release's record, so a check-in evaluated late, or again after a crash, reads the
// same baseline for as long as the server keeps its data; one taken at the deploy would be lost
// whenever the server or the worker was down just then.

/** The user the measured values are recorded as. */
export const METRICS_USER = 'shipcheck';

export async function evaluateCriterion(
  source: MetricsSource,
  release: Release,
  criterion: MetricCriterion,
  at: number,
): Promise<MetricResult> {
  const query = fillQuery(criterion.metric, {
    env: release.env,
    version: release.version,
    window: windowOf(criterion),
  });
  const base: Pick<MetricResult, 'criterionId' | 'query' | 'at' | 'link'> = {
    criterionId: criterion.id,
    query,
    at,
    link: queryLink(source.baseUrl, query, at),
  };
  const condition = conditionOf(criterion);
  if (!condition) return { ...base, verdict: 'error', problem: 'the criterion has no condition' };
  const deployedAt = release.deployment?.at;
  const [reading, baseline] = await Promise.all([
    source.query(query, at),
    condition.against === 'baseline'
      ? deployedAt === undefined
        ? Promise.resolve<MetricReading>({ kind: 'error', message: 'the release has no deploy moment' })
        : source.query(query, deployedAt)
      : Promise.resolve(undefined),
  ]);
  return { ...base, ...judgeMetric(condition, reading, baseline) };
}

/** Every measured success criterion of the release, at `at`; undefined when it has none. */
export async function evaluateRelease(
  source: MetricsSource,
  release: Release,
  at: number,
): Promise<CheckinMetrics | undefined> {
  const criteria = metricCriteria(release.template);
  if (criteria.length === 0) return undefined;
  const results = await Promise.all(
    criteria.map((criterion) => evaluateCriterion(source, release, criterion, at)),
  );
  return { at, results, suggestion: suggestAnswer(results) ?? 'inconclusive' };
}

/**
 * The measured values as check-in observations, recorded by shipcheck: what the deployment log, the
 * retrospective and the stats read. A value that cannot be a reading in the criterion's unit (a
 * query in the wrong unit) is shown but not recorded.
 */
export function observationsOf(release: Release, metrics: CheckinMetrics): Record<string, Observation> {
  const criteria = new Map(metricCriteria(release.template).map((criterion) => [criterion.id, criterion]));
  const observed: Record<string, Observation> = {};
  for (const result of metrics.results) {
    const criterion = criteria.get(result.criterionId);
    if (!criterion || result.value === undefined || result.verdict === 'error') continue;
    if (observedValueProblem(criterion.unit, result.value) !== undefined) continue;
    observed[result.criterionId] = {
      value: result.value,
      by: METRICS_USER,
      at: result.at,
      // Judged by its condition's threshold (a baseline's, or its own number) where that differs.
      ...(result.threshold !== undefined && result.threshold !== criterion.threshold
        ? { threshold: Number(result.threshold.toPrecision(6)) }
        : {}),
    };
  }
  return observed;
}
