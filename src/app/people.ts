import type { AuditEvent } from '../domain/audit.js';
import { peopleNamedIn } from '../domain/people.js';
import type { Logger } from '../log.js';
import type { SlackOutbound } from '../slack-api/outbound.js';
import type { RecordPersonOutcome } from '../store/people-store.js';
import type { ReleaseStore } from '../store/release-store.js';

// Keeps each release's people record: the names a person had in Slack when the release's record first
// named them. A job per release and person does it (the relay queues it), off every request path; a
// workspace cache means Slack is asked about a person once a day at most, however many releases name
// them. A lookup that fails leaves the id as it is: the job retries, and the log shows the id meanwhile.

/** How long a name looked up for one release serves the others: people rarely rename themselves. */
export const PERSON_CACHE_MS = 24 * 3600_000;

export interface PeopleDeps {
  store: Pick<ReleaseStore, 'people'>;
  outbound: Pick<SlackOutbound, 'getUserName'>;
  log: Logger;
}

/**
 * Records a person's current names with the release, unless it has them already. Throws when Slack
 * cannot answer; 'unnamed' when its answer carries no name.
 */
export async function recordPerson(
  deps: PeopleDeps,
  teamId: string,
  releaseId: string,
  userId: string,
  now: number,
  attempts?: number,
): Promise<RecordPersonOutcome | 'unnamed'> {
  const { people } = deps.store;
  if ((await people.missing(teamId, releaseId, [userId])).length === 0) return 'known';
  let person = await people.cached(teamId, userId);
  if (!person || now - person.at >= PERSON_CACHE_MS || person.at > now) {
    person = await deps.outbound.getUserName(userId, now, attempts);
    if (!person) return 'unnamed';
    await people.cache(teamId, userId, person);
  }
  return people.record(teamId, releaseId, userId, person);
}

/**
 * Before a log is built: records the people its events name that the record still lacks (their jobs
 * have not run yet, or Slack failed them). One try each, and none after Slack fails once, so the log
 * is never held up: whoever is left is shown by id.
 */
export async function recordMissingPeople(
  deps: PeopleDeps,
  teamId: string,
  releaseId: string,
  events: readonly AuditEvent[],
  now: number,
): Promise<void> {
  const missing = await deps.store.people.missing(teamId, releaseId, peopleNamedIn(events));
  for (const userId of missing) {
    try {
      await recordPerson(deps, teamId, releaseId, userId, now, 1);
    } catch (err) {
      deps.log.info(
        { err, teamId, releaseId, userId, left: missing.length },
        'names not looked up; the log shows ids',
      );
      return;
    }
  }
}
