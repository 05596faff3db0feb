import type { ConnectionOptions, Worker } from 'bullmq';
import type { Release } from '../domain/release.js';
import type { Logger } from '../log.js';
import { MAINTENANCE_QUEUE } from '../queues/retention-schedule.js';
import type { ReleaseStore } from '../store/release-store.js';
import { createInstrumentedWorker, type JobMetrics } from './instrumented-worker.js';

// Retention: finished releases and their records (audit trail included) are kept RETENTION_DAYS after
// they ended, then removed by one daily sweep, logged. Active releases are never removed. Each
// workspace keeps the cut-off of its last sweep, so the delivery figures can say which period the
// remaining records cover.

const DAY_MS = 24 * 3600_000;

/** Whether a release's records are past keeping: it ended before the cut-off. */
export function isExpired(release: Release, cutoff: number): boolean {
  return (
    release.status !== 'active' &&
    release.status !== 'rolling_back' &&
    (release.finishedAt ?? Infinity) < cutoff
  );
}

export interface RetentionDeps {
  store: ReleaseStore;
  log: Logger;
  retentionDays: number;
}

/** Removes every expired release of every workspace; resolves with how many went. Safe to run again. */
export async function runRetention(deps: RetentionDeps, now = Date.now()): Promise<number> {
  const cutoff = now - deps.retentionDays * DAY_MS;
  let removed = 0;
  for (const teamId of await deps.store.retention.listTeams()) {
    // A release ended after it started: only those started before the cut-off can have expired.
    for (const releaseId of await deps.store.retention.releasesStartedBefore(teamId, cutoff)) {
      const release = await deps.store.getRelease(teamId, releaseId);
      if (release && !isExpired(release, cutoff)) continue;
      await deps.store.retention.removeRelease(teamId, releaseId, release?.version);
      removed++;
      deps.log.info(
        { teamId, releaseId, version: release?.version, finishedAt: release?.finishedAt },
        'release removed: past retention',
      );
    }
    await deps.store.retention.markCutoff(teamId, cutoff);
  }
  deps.log.info({ removed, cutoff, retentionDays: deps.retentionDays }, 'retention sweep done');
  return removed;
}

export function createRetentionWorker(
  connection: ConnectionOptions,
  redisPrefix: string,
  deps: RetentionDeps,
  metrics?: JobMetrics,
): Worker {
  return createInstrumentedWorker({
    queue: MAINTENANCE_QUEUE,
    connection,
    redisPrefix,
    concurrency: 1,
    run: async () => {
      await runRetention(deps);
    },
    log: deps.log,
    metrics,
  });
}
