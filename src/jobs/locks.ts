import type { Logger } from '../log.js';
import type { LockFreedJob } from '../queues/scheduler.js';
import { deliverOnce, directMessageTarget } from '../slack-api/delivery.js';
import { type SlackOutbound, SlackPlatformError } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { formatSlackDate, mentionChannel } from '../views/mrkdwn.js';

// When a release that held an environment ends, everyone who asked to be told gets one DM. Each
// person is taken off the list only after their DM is in Slack, so a retry tells only the rest.

export interface LockDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  log: Logger;
}

const STATUS_WORDS: Record<string, string> = {
  completed: 'completed',
  cancelled: 'was cancelled',
  rolled_back: 'was rolled back',
};

export async function runLockFreed(deps: LockDeps, job: LockFreedJob): Promise<void> {
  const { store } = deps;
  const log = deps.log.child({ teamId: job.teamId, releaseId: job.releaseId, env: job.env });
  const release = await store.getRelease(job.teamId, job.releaseId);
  if (!release || release.status === 'active' || release.status === 'rolling_back') {
    return void log.info('lock not freed; nobody told');
  }
  const waiters = await store.locks.waiters(job.teamId, job.env);
  const when = release.finishedAt ? ` ${formatSlackDate(release.finishedAt)}` : '';
  const text = `🔓 ${job.env} is free again: ${release.version} ${STATUS_WORDS[release.status] ?? release.status}${when}. Releases are in ${mentionChannel(release.channelId)}.`;
  for (const userId of waiters) {
    try {
      await deliverOnce(deps, {
        teamId: job.teamId,
        releaseId: job.releaseId,
        key: `lockfree-${job.releaseId}-${userId}`,
        channel: await directMessageTarget(deps, job.teamId, userId),
        message: { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] },
      });
    } catch (err) {
      if (!(err instanceof SlackPlatformError)) throw err;
      log.warn(
        { userId, slackError: err.slackError },
        'could not tell a waiter that the environment is free',
      );
    }
    await store.locks.removeWaiter(job.teamId, job.env, userId);
  }
  log.info({ told: waiters.length }, 'environment freed');
}
