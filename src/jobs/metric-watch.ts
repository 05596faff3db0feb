import type { AppDeps } from '../app/deps.js';
import { raiseRedFlag } from '../app/red-flags.js';
import { SHIPCHECK_USER } from '../domain/follow-ups.js';
import {
  conditionOf,
  countMisses,
  describeCondition,
  formatReading,
  type MetricResult,
  watchedCriteria,
} from '../domain/metric-checks.js';
import type { Release } from '../domain/release.js';
import { parseDuration } from '../domain/time.js';
import type { Logger } from '../log.js';
import type { MetricsSource } from '../metrics-source/prometheus.js';
import type { MetricWatchJob, Scheduler } from '../queues/scheduler.js';
import { deliverOnce, releaseThread } from '../slack-api/delivery.js';
import type { SlackOutbound } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { renderMetricAlarm } from '../views/metric-results.js';
import { evaluateCriterion } from './metric-evaluation.js';

// A watched success criterion is measured every `watch.every` while the monitoring window is open.
// `watch.misses` misses in a row raise a red flag with the numbers, as shipcheck itself: the flag
// stops the release's ticks, its announcement tells the stakeholders once, and the release owner is
// pinged in the thread. Each run plans the next one first, with a deterministic id, so a run that
// fails or is retried neither stops the watch nor doubles it; a run counts once (its due time is
// kept with the count).

export interface MetricWatchDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  log: Logger;
  scheduler: Pick<Scheduler, 'schedule'>;
  metricsSource?: MetricsSource | undefined;
  /** What raising a red flag takes (src/app/red-flags.ts). */
  app: Omit<AppDeps, 'log' | 'store'>;
}

/** Readings kept with the count, shown with the flag. */
const SHOWN_READINGS = 10;

export async function runMetricWatch(deps: MetricWatchDeps, job: MetricWatchJob): Promise<void> {
  const log = deps.log.child({ teamId: job.teamId, releaseId: job.releaseId, criterionId: job.criterionId });
  const release = await deps.store.getRelease(job.teamId, job.releaseId);
  const criterion = release
    ? watchedCriteria(release.template).find((candidate) => candidate.id === job.criterionId)
    : undefined;
  const every = criterion ? parseDuration(criterion.watch.every) : undefined;
  if (!release || !criterion || !every?.ok) return void log.info('metric watch dropped: nothing to watch');
  if (release.status !== 'active' || release.monitoring?.state !== 'open') {
    return void log.info({ status: release.status }, 'metric watch ended: monitoring closed');
  }
  if (!deps.metricsSource) return void log.warn('metric watch dropped: PROMETHEUS_URL is not set');
  const next = job.at + every.value;
  await deps.scheduler.schedule({ ...job, at: next }, next);

  const state = await deps.store.metrics.watchState(job.teamId, job.releaseId, criterion.id);
  let misses = state?.misses ?? 0;
  let readings = state?.readings ?? [];
  let last = state?.last;
  if (state?.tick !== job.at) {
    const result = await evaluateCriterion(deps.metricsSource, release, criterion, Date.now());
    misses = countMisses(misses, result.verdict, criterion.watch.misses).misses;
    if (result.verdict === 'met') readings = [];
    if (result.verdict === 'missed' && result.value !== undefined)
      readings = [...readings, result.value].slice(-SHOWN_READINGS);
    last = result;
    await deps.store.metrics.saveWatchState(job.teamId, job.releaseId, criterion.id, {
      misses,
      tick: job.at,
      readings,
      last,
    });
    log.info({ verdict: result.verdict, value: result.value, misses }, 'metric watched');
  }
  if (misses < criterion.watch.misses || !last) return;
  await raiseFlag(deps, release, job, { misses, readings, last }, log);
  // The run of misses is spent on this flag; a new one starts counting.
  await deps.store.metrics.saveWatchState(job.teamId, job.releaseId, criterion.id, {
    misses: 0,
    tick: job.at,
    readings: [],
  });
}

async function raiseFlag(
  deps: MetricWatchDeps,
  release: Release,
  job: MetricWatchJob,
  run: { misses: number; readings: number[]; last: MetricResult },
  log: Logger,
): Promise<void> {
  const criterion = watchedCriteria(release.template).find((candidate) => candidate.id === job.criterionId)!;
  const condition = conditionOf(criterion);
  const values = run.readings.map((value) => formatReading(value, criterion.unit)).join(', ');
  const threshold =
    run.last.threshold !== undefined ? formatReading(run.last.threshold, criterion.unit) : undefined;
  const target = condition ? describeCondition(condition, criterion.unit) : '';
  const note = `${run.misses} misses in a row: ${values}${
    target
      ? ` (needs ${target}${threshold && condition?.against === 'baseline' ? ` = ${threshold}` : ''})`
      : ''
  }`;
  const outcome = await raiseRedFlag(
    { ...deps.app, store: deps.store, log: deps.log },
    {
      teamId: job.teamId,
      releaseId: job.releaseId,
      userId: SHIPCHECK_USER,
      condition: `${criterion.name} missed its threshold`,
      note,
      // One flag per run of misses, however often this run is retried.
      requestId: `watch-${job.releaseId}-${criterion.id}-t${job.at}`,
    },
  );
  if (!outcome.ok) {
    return void log.info({ error: outcome.error.code }, 'metric watch could not raise a red flag');
  }
  const flag = (await deps.store.getRelease(job.teamId, job.releaseId))?.redFlag;
  if (!flag) return;
  log.warn({ misses: run.misses, flag: flag.number }, 'metric watch raised a red flag');
  const thread = await releaseThread(deps.store, job.teamId, job.releaseId);
  if (thread === 'unpostable') return;
  await deliverOnce(deps, {
    teamId: job.teamId,
    releaseId: job.releaseId,
    key: `watch-${job.releaseId}-flag${flag.number}`,
    channel: release.channelId,
    threadTs: thread.headerTs,
    message: renderMetricAlarm(release, criterion, { ...run, note, flagNumber: flag.number }),
  });
}
