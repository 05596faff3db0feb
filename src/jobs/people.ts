import { type PeopleDeps, recordPerson } from '../app/people.js';
import type { RecordPersonJob } from '../queues/scheduler.js';
import { SlackPlatformError } from '../slack-api/outbound.js';

/**
 * Records the names of a person the release's events name. Slack failing is retried with the job's
 * backoff; Slack saying no (user_not_found, missing_scope) is final, and the record keeps the id.
 */
export async function runRecordPerson(
  deps: PeopleDeps,
  job: RecordPersonJob,
  now = Date.now(),
): Promise<void> {
  const { teamId, releaseId, userId } = job;
  try {
    const outcome = await recordPerson(deps, teamId, releaseId, userId, now);
    deps.log.debug({ teamId, releaseId, userId, outcome }, 'person recorded');
  } catch (err) {
    if (!(err instanceof SlackPlatformError)) throw err;
    deps.log.warn({ err, teamId, releaseId, userId }, 'person not named: slack refused the lookup');
  }
}
