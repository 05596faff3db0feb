import { buildDeploymentLog } from '../domain/deployment-log.js';
import type { Logger } from '../log.js';
import type { SlackOutbound } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { recordMissingPeople } from './people.js';

// The deployment log of a release, shared in its thread as two files: Markdown for people and JSON
// for machines. Built from the stored record (the release and its audit trail) at the moment it is
// asked for: by a person (/deploy log) or, once, when the release ends (src/jobs/deployment-log.ts).
// People are named as the release's people record has them; whoever it lacks is looked up first, once.

export interface LogDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  log: Logger;
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
  const events = await deps.store.readAudit(teamId, releaseId);
  await recordMissingPeople(deps, teamId, releaseId, events, now);
  const people = await deps.store.people.forRelease(teamId, releaseId);
  const log = buildDeploymentLog(release, events, now, people);
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
