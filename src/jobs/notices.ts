import type { Logger } from '../log.js';
import type { NoticeJob } from '../queues/scheduler.js';
import { type SlackOutbound, SlackPlatformError } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { renderCancelledNotice } from '../views/command-replies.js';

// A confirmation to the person whose change it was, derived from the record like every other
// follow-up: it reaches them even when the instance that took their command died right after the
// commit. It is ephemeral, so it cannot be looked up afterwards; a worker that dies inside the post
// may show it twice, never zero times.

export interface NoticeDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  log: Logger;
}

export async function runNotice(deps: NoticeDeps, job: NoticeJob): Promise<void> {
  const context = { teamId: job.teamId, releaseId: job.releaseId, userId: job.userId };
  const release = await deps.store.getRelease(job.teamId, job.releaseId);
  if (!release) return;
  const notice = renderCancelledNotice(release);
  // A slash command is answered where it was typed; a cancellation from a button (no-go) in the
  // release's channel.
  const replyUrl = await deps.store.messages.cancelReplyUrl(job.teamId, job.releaseId);
  if (replyUrl) {
    try {
      await deps.outbound.replyToCommand(replyUrl, notice.text);
      return void deps.log.info({ ...context, notice: job.notice }, 'notice sent');
    } catch (err) {
      // A response_url lives 30 minutes; a notice that comes later goes to the channel instead.
      deps.log.info(
        { ...context, err: { message: (err as Error).message } },
        'notice falls back to ephemeral',
      );
    }
  }
  try {
    await deps.outbound.postEphemeral({ channel: release.channelId, user: job.userId, ...notice });
  } catch (err) {
    // Retrying cannot put them back in the channel.
    if (!(err instanceof SlackPlatformError)) throw err;
    deps.log.warn({ ...context, slackError: err.slackError }, 'notice not delivered');
    return;
  }
  deps.log.info({ ...context, notice: job.notice }, 'notice sent');
}
