import type { Logger } from '../log.js';
import { CHANNEL_UNUSABLE_ERRORS, type SlackOutbound, SlackPlatformError } from '../slack/outbound.js';
import { renderAnnouncement } from '../slack/views/announcement-message.js';
import type { ReleaseStore } from '../store/release-store.js';
import { deliverOnce } from './delivery.js';
import type { AnnounceJob } from './scheduler.js';

// Stakeholder announcements: one message per event in every stakeholder channel of the release. Each
// channel's post is its own exactly-once delivery, so a retried job (or a second instance) posts only
// where the message is still missing. A channel the app cannot post to is skipped with a warning, since
// retrying cannot fix it; any other failure fails the job once every channel has been tried, and the
// retry picks up what is left. Announcements add nothing to the audit trail.

export interface AnnouncementDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  log: Logger;
}

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
  if (job.event === 'issue_found' && !release.issues.some((issue) => issue.id === job.occurrence)) {
    return void log.info({ reason: 'no such issue' }, 'announcement dropped');
  }
  const channels = [...new Set(release.stakeholderChannels)];
  if (channels.length === 0)
    return void log.info({ reason: 'no stakeholder channels' }, 'announcement dropped');

  const { permalink } = await deps.store.getMessages(job.teamId, job.releaseId);
  const message = renderAnnouncement(release, job.event, job.occurrence, permalink, now);
  let failure: { error: unknown } | undefined;
  // One channel after another: the outbound client paces each channel's posts.
  for (const channel of channels) {
    try {
      const { ts, posted } = await deliverOnce(deps, {
        teamId: job.teamId,
        releaseId: job.releaseId,
        key: announcementKey(job, channel),
        channel,
        message,
      });
      log.info({ event: job.event, channel, ts, posted }, 'announcement posted');
    } catch (err) {
      if (err instanceof SlackPlatformError && CHANNEL_UNUSABLE_ERRORS.has(err.slackError)) {
        log.warn(
          { event: job.event, channel, slackError: err.slackError },
          'announcement skipped: the app cannot post in the channel',
        );
        continue;
      }
      log.warn({ event: job.event, channel, err }, 'announcement failed; the job will retry');
      failure ??= { error: err };
    }
  }
  if (failure) throw failure.error;
}
