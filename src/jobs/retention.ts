import type { ConnectionOptions, Worker } from 'bullmq';
import { readLogEvidence } from '../app/verify-audit.js';
import { archiveLocationOf } from '../domain/archive-location.js';
import type { AuditKeys } from '../domain/audit-seal.js';
import { buildDeploymentLog } from '../domain/deployment-log.js';
import type { Release } from '../domain/release.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { MAINTENANCE_QUEUE } from '../queues/retention-schedule.js';
import { type ArchiveFailureReason, ArchiveWriteError, type LogArchive } from '../store/log-archive.js';
import type { ReleaseStore } from '../store/release-store.js';
import { createInstrumentedWorker, type JobMetrics } from './instrumented-worker.js';

// Retention: finished releases and their records (audit trail included) are kept RETENTION_DAYS after
// they ended, then removed by one daily sweep, logged. Active releases are never removed. Before a
// release is removed, its deployment log (JSON and Markdown) is written to the archive folder
// (ARCHIVE_DIR); a release whose archive could not be written, or with no archive folder configured,
// is kept, and the next sweep tries again. Each workspace keeps the cut-off of its last sweep that
// removed everything past it, so the delivery figures can say which period the remaining records cover.

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
  /** Where logs go before their releases are removed; without one, nothing is removed. */
  archive: LogArchive | undefined;
  metrics?: Pick<Metrics, 'archiveFailures' | 'releasesArchived'>;
  /** The archived log carries the check of its trail; seals are checked with these keys. */
  auditKeys?: AuditKeys | undefined;
}

type ArchiveOutcome =
  | { archived: true; paths: string[]; lastEventId: string | undefined }
  | { archived: false; reason: ArchiveFailureReason; why: string };

/** Writes the release's deployment log to the archive; the release may be removed only when this says so. */
async function archiveRelease(
  deps: RetentionDeps,
  teamId: string,
  releaseId: string,
  release: Release | undefined,
  now: number,
): Promise<ArchiveOutcome> {
  if (!release) {
    // Only its index entry is left: nothing to archive, unless an audit trail outlived the release.
    if ((await deps.store.readAudit(teamId, releaseId)).length === 0)
      return { archived: true, paths: [], lastEventId: undefined };
    return { archived: false, reason: 'no_release_record', why: 'an audit trail without its release record' };
  }
  if (!deps.archive) return { archived: false, reason: 'not_configured', why: 'ARCHIVE_DIR is not set' };
  // The sweep does not talk to Slack: the archived log says its anchor was not read.
  const { events, evidence } = await readLogEvidence(
    deps.store,
    deps.auditKeys,
    release,
    { state: 'not_read' },
    now,
  );
  // The names recorded with the release; nobody is looked up now, a year after the events.
  const people = await deps.store.people.forRelease(teamId, releaseId);
  let files: { extension: 'json' | 'md'; content: string }[];
  try {
    const log = buildDeploymentLog(release, events, now, people, evidence);
    files = [
      { extension: 'json', content: `${JSON.stringify(log.json, null, 2)}\n` },
      { extension: 'md', content: log.markdown },
    ];
  } catch (err) {
    return {
      archived: false,
      reason: 'render_failed',
      why: err instanceof Error ? err.message : String(err),
    };
  }
  try {
    const paths = await deps.archive.write(archiveLocationOf(release), files);
    return { archived: true, paths, lastEventId: events.at(-1)?.id };
  } catch (err) {
    if (!(err instanceof ArchiveWriteError)) throw err;
    return { archived: false, reason: err.reason, why: err.message };
  }
}

/**
 * Archives then removes every expired release of every workspace; resolves with how many went.
 * Safe to run again: an archive written by a sweep that died before removing is written again.
 */
export async function runRetention(deps: RetentionDeps, now = Date.now()): Promise<number> {
  const cutoff = now - deps.retentionDays * DAY_MS;
  let removed = 0;
  let kept = 0;
  for (const teamId of await deps.store.retention.listTeams()) {
    let keptInTeam = 0;
    // A release ended after it started: only those started before the cut-off can have expired.
    for (const releaseId of await deps.store.retention.releasesStartedBefore(teamId, cutoff)) {
      const release = await deps.store.getRelease(teamId, releaseId);
      if (release && !isExpired(release, cutoff)) continue;
      const context = { teamId, releaseId, version: release?.version, finishedAt: release?.finishedAt };
      const outcome = await archiveRelease(deps, teamId, releaseId, release, now);
      if (!outcome.archived) {
        keptInTeam++;
        deps.metrics?.archiveFailures.inc({ reason: outcome.reason });
        // Without a folder every expired release is kept for the same reason: said once, below.
        if (outcome.reason !== 'not_configured')
          deps.log.warn(
            { ...context, reason: outcome.reason, why: outcome.why },
            'release kept past retention: its archive could not be written',
          );
        continue;
      }
      if (outcome.paths.length > 0) deps.metrics?.releasesArchived.inc();
      // An event appended while the files were written (a late retrospective) is not in them yet.
      if ((await deps.store.retention.lastAuditId(teamId, releaseId)) !== outcome.lastEventId) {
        keptInTeam++;
        deps.log.info(context, 'release kept past retention: it changed while it was archived');
        continue;
      }
      await deps.store.retention.removeRelease(teamId, releaseId, release?.version);
      removed++;
      deps.log.info(
        { ...context, archivedTo: outcome.paths },
        'release archived and removed: past retention',
      );
    }
    // The cut-off tells readers that everything before it is gone; while a release is kept, it is not.
    if (keptInTeam === 0) await deps.store.retention.markCutoff(teamId, cutoff);
    kept += keptInTeam;
  }
  if (kept > 0 && !deps.archive)
    deps.log.warn(
      { kept, reason: 'not_configured' },
      'releases kept past retention: ARCHIVE_DIR is not set, and nothing is removed without an archive',
    );
  deps.log.info({ removed, kept, cutoff, retentionDays: deps.retentionDays }, 'retention sweep done');
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
