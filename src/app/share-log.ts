import type { AuditKeys } from '../domain/audit-seal.js';
import { buildDeploymentLog } from '../domain/deployment-log.js';
import type { Logger } from '../log.js';
import type { SlackOutbound } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { recordMissingPeople } from './people.js';
import { readHeaderAnchor, readLogEvidence } from './verify-audit.js';

// The deployment log of a release, shared in its thread as two files: Markdown for people and JSON
// for machines. Built from the stored record (the release and its audit trail) at the moment it is
// asked for: by a person (/deploy log) or, once, when the release ends (src/jobs/deployment-log.ts).
// People are named as the release's people record has them; whoever it lacks is looked up first, once.
// The trail is checked as it is read, with the anchor on the release header, and the log carries the
// result, the hashes and seals: a log built from a broken trail says so at the top.

export interface LogDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  log: Logger;
  /** Seals are checked with these; without them the log says seals were not checked. */
  config?: { auditKeys?: AuditKeys | undefined };
}

/**
 * Builds the log and shares it in the release thread; resolves false when the thread does not exist.
 * Without a comment the files go in bare (a message of shipcheck's own introduces them).
 */
export async function shareDeploymentLog(
  deps: LogDeps,
  teamId: string,
  releaseId: string,
  comment: string | undefined,
  now = Date.now(),
): Promise<boolean> {
  const release = await deps.store.getRelease(teamId, releaseId);
  const headerTs = (await deps.store.messages.get(teamId, releaseId)).refs.header?.ts;
  if (!release || !headerTs) return false;
  const anchor = await readHeaderAnchor(deps, release);
  const { events, evidence } = await readLogEvidence(
    deps.store,
    deps.config?.auditKeys,
    release,
    anchor,
    now,
  );
  await recordMissingPeople(deps, teamId, releaseId, events, now);
  const people = await deps.store.people.forRelease(teamId, releaseId);
  const log = buildDeploymentLog(release, events, now, people, evidence);
  if (evidence.report.problems.length > 0)
    deps.log.warn(
      { teamId, releaseId, problems: evidence.report.problems },
      'deployment log built from an audit trail that does not verify',
    );
  await deps.outbound.uploadFiles({
    channel: release.channelId,
    threadTs: headerTs,
    ...(comment ? { comment } : {}),
    files: [
      {
        filename: `${log.fileStem}.md`,
        title: `Deployment log: ${release.version} → ${release.env}`,
        content: log.markdown,
      },
      {
        filename: `${log.fileStem}.json`,
        title: `Deployment log (JSON): ${release.version} → ${release.env}`,
        content: `${JSON.stringify(log.json, null, 2)}\n`,
      },
    ],
  });
  deps.log.info({ teamId, releaseId, fileStem: log.fileStem }, 'deployment log shared');
  return true;
}
