import type { Release } from '../domain/release.js';
import { ANNOUNCEMENT_EVENTS } from '../domain/template.js';
import type { Logger } from '../log.js';
import type { AnnounceJob } from '../queues/scheduler.js';
import { deliverOnce, RetryLaterError, releaseThread } from '../slack-api/delivery.js';
import { CHANNEL_UNUSABLE_ERRORS, type SlackOutbound, SlackPlatformError } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { renderAnnouncement } from '../views/announcement-message.js';

// Stakeholder announcements: one message per event in every stakeholder channel of the release. Each
// channel's post is its own exactly-once delivery, so a retried job (or a second instance) posts only
// where the message is still missing. A channel hears the release's announcements in the order their
// events happened (Scheduler.announce notes that order). A channel the app cannot post to is skipped
// with a warning, since retrying cannot fix it; any other failure fails the job once every channel has
// been tried, and the retry picks up what is left. Announcements add nothing to the audit trail.

export interface AnnouncementDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  log: Logger;
}

/** How long after the header is posted an announcement waits for its link before going without. */
const PERMALINK_WAIT_MS = 30_000;

/** The delivery key of one announcement in one channel. */
export function announcementKey(job: AnnounceJob, channel: string): string {
  return `announce-${job.releaseId}-${job.event}-o${job.occurrence}-${channel}`;
}

export async function runAnnouncement(
  deps: AnnouncementDeps,
  job: AnnounceJob,
  now = Date.now(),
): Promise<void> {
  const log = deps.log.child({
    teamId: job.teamId,
    releaseId: job.releaseId,
    event: job.event,
    occurrence: job.occurrence,
  });
  const release = await deps.store.getRelease(job.teamId, job.releaseId);
  if (!release) return void log.info({ reason: 'release gone' }, 'announcement dropped');
  if (!stillAnnounceable(release, job)) {
    return void log.info({ reason: 'no such issue' }, 'announcement dropped');
  }
  const channels = [...new Set(release.stakeholderChannels)];
  if (channels.length === 0)
    return void log.info({ reason: 'no stakeholder channels' }, 'announcement dropped');

  // Stakeholders are sent to the release thread, so they hear nothing before it exists; of a release
  // whose thread never could be posted, they hear nothing at all.
  const thread = await releaseThread(deps.store, job.teamId, job.releaseId);
  if (thread === 'unpostable')
    return void log.info({ reason: 'release never posted' }, 'announcement dropped');
  const { permalink, announcements } = thread.messages;
  // The sync asks Slack for the header's link just after posting it; wait a moment for that, not longer.
  if (!permalink && now - Number(thread.headerTs) * 1000 < PERMALINK_WAIT_MS) {
    throw new RetryLaterError(500, 'the release thread has no link yet');
  }
  // Every channel hears the release's announcements in the order their events happened: a job that
  // runs before an earlier one (a retry, a 429, two events of one click) posts that one first.
  const own = announcements.find((noted) => noted.event === job.event && noted.occurrence === job.occurrence);
  const inOrder: AnnounceJob[] = own
    ? announcements
        .filter((noted) => noted.seq <= own.seq)
        .flatMap((noted) => {
          const event = ANNOUNCEMENT_EVENTS.find((known) => known === noted.event);
          if (!event) return [];
          const earlier: AnnounceJob = { ...job, event, occurrence: noted.occurrence };
          return stillAnnounceable(release, earlier) ? [earlier] : [];
        })
    : [job];
  const messages = new Map(
    inOrder.map((entry) => [
      entry,
      renderAnnouncement(release, entry.event, entry.occurrence, permalink, now),
    ]),
  );
  let failure: { error: unknown } | undefined;
  // One channel after another: the outbound client paces each channel's posts.
  for (const channel of channels) {
    for (const [entry, message] of messages) {
      try {
        const { ts, posted } = await deliverOnce(deps, {
          teamId: job.teamId,
          releaseId: job.releaseId,
          key: announcementKey(entry, channel),
          channel,
          message,
        });
        log.info({ event: entry.event, channel, ts, posted }, 'announcement posted');
      } catch (err) {
        if (err instanceof SlackPlatformError && CHANNEL_UNUSABLE_ERRORS.has(err.slackError)) {
          log.warn(
            { event: entry.event, channel, slackError: err.slackError },
            'announcement skipped: the app cannot post in the channel',
          );
          break;
        }
        log.warn({ event: entry.event, channel, err }, 'announcement failed; the job will retry');
        failure ??= { error: err };
        // What comes after it in this channel waits for the retry, so the order holds.
        break;
      }
    }
  }
  if (failure) throw failure.error;
}

/** An issue's announcement needs the issue; every other event stands once it happened. */
function stillAnnounceable(release: Release, job: AnnounceJob): boolean {
  return job.event !== 'issue_found' || release.issues.some((issue) => issue.id === job.occurrence);
}
