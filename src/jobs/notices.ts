import type { Release } from '../domain/release.js';
import { findItem } from '../domain/template.js';
import type { Logger } from '../log.js';
import type { LostClickJob, NoticeJob } from '../queues/scheduler.js';
import type { SyncQueue } from '../queues/sync-queue.js';
import { type SlackOutbound, SlackPlatformError } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { type Reply, renderCancelledNotice, renderLostClickNotice } from '../views/command-replies.js';

// Words to one person, derived from the record like every other follow-up: they reach them even when
// the instance that took their request died. They are ephemeral, so they cannot be looked up
// afterwards; a worker that dies inside the post may show one twice, never zero times.

export interface NoticeDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  syncQueue: Pick<SyncQueue, 'requestSync'>;
  log: Logger;
}

export async function runNotice(deps: NoticeDeps, job: NoticeJob): Promise<void> {
  const release = await deps.store.getRelease(job.teamId, job.releaseId);
  if (!release) return;
  // A slash command is answered where it was typed; a cancellation from a button (no-go) in the
  // release's channel.
  const replyUrl = await deps.store.messages.cancelReplyUrl(job.teamId, job.releaseId);
  await tellPerson(deps, release, job.userId, replyUrl, renderCancelledNotice(release), job.notice);
}

/**
 * A click that was read and lost with its process before it was saved: the person's Slack client
 * still shows the box as they clicked it, so the item's phase is redrawn as stored (new block ids
 * reset the box), and they are told.
 */
export async function runLostClick(deps: NoticeDeps, job: LostClickJob): Promise<void> {
  const release = await deps.store.getRelease(job.teamId, job.releaseId);
  if (!release) return;
  const found = findItem(release.template, job.itemId);
  if (!found) return;
  await deps.store.messages.bumpPhaseNonce(job.teamId, job.releaseId, found.phaseIndex);
  await deps.syncQueue.requestSync({ teamId: job.teamId, releaseId: job.releaseId });
  const storedDone = release.items[job.itemId]?.done === true;
  const notice = renderLostClickNotice(release, found.item.text, job.done, storedDone);
  await tellPerson(deps, release, job.userId, job.replyUrl, notice, 'lost-click');
}

async function tellPerson(
  deps: NoticeDeps,
  release: Release,
  userId: string,
  replyUrl: string | undefined,
  notice: Reply,
  kind: string,
): Promise<void> {
  const context = { teamId: release.teamId, releaseId: release.id, userId, notice: kind };
  if (replyUrl) {
    try {
      await deps.outbound.replyToCommand(replyUrl, notice.text);
      return void deps.log.info(context, 'notice sent');
    } catch (err) {
      // A response_url lives 30 minutes; a notice that comes later goes to the channel instead.
      deps.log.info(
        { ...context, err: { message: (err as Error).message } },
        'notice falls back to ephemeral',
      );
    }
  }
  try {
    await deps.outbound.postEphemeral({ channel: release.channelId, user: userId, ...notice });
  } catch (err) {
    // Retrying cannot put them back in the channel.
    if (!(err instanceof SlackPlatformError)) throw err;
    deps.log.warn({ ...context, slackError: err.slackError }, 'notice not delivered');
    return;
  }
  deps.log.info(context, 'notice sent');
}
