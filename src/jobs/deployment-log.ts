import { buildDeploymentLog } from '../domain/deployment-log.js';
import type { Logger } from '../log.js';
import type { SlackOutbound } from '../slack/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { RetryLaterError, releaseThread } from './delivery.js';

// The deployment log of a release, shared in its thread as two files: Markdown for people and JSON
// for machines. Built from the stored record (the release and its audit trail) at the moment it is
// asked for; a finished release gets it once, automatically.

export interface LogDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  log: Logger;
}

/** How long one upload may take before another instance may try it again. */
const LOG_LEASE_MS = 120_000;

/** Builds the log and shares it in the release thread; resolves false when the thread does not exist. */
export async function shareDeploymentLog(
  deps: LogDeps,
  teamId: string,
  releaseId: string,
  comment: string,
  now = Date.now(),
): Promise<boolean> {
  const release = await deps.store.getRelease(teamId, releaseId);
  const headerTs = (await deps.store.getMessages(teamId, releaseId)).refs.header?.ts;
  if (!release || !headerTs) return false;
  const log = buildDeploymentLog(release, await deps.store.readAudit(teamId, releaseId), now);
  await deps.outbound.uploadFiles({
    channel: release.channelId,
    threadTs: headerTs,
    comment,
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

/**
 * The automatic log of a finished release, once. Files carry no metadata to find them by after a
 * crash, so the delivery marker is the record: a worker that dies mid-upload is retried after its
 * lease, which can share the log a second time (said in the operator guide), never zero times.
 */
export async function runFinalLog(
  deps: LogDeps,
  teamId: string,
  releaseId: string,
  now = Date.now(),
): Promise<void> {
  const key = `log-${releaseId}`;
  if ((await releaseThread(deps.store, teamId, releaseId)) === 'unpostable') {
    return void deps.log.info({ teamId, releaseId }, 'deployment log dropped: the release was never posted');
  }
  const attempt = await deps.store.beginDelivery(teamId, key, `log-${process.pid}`, LOG_LEASE_MS, now);
  if (attempt.state === 'done') return;
  if (attempt.state === 'busy')
    throw new RetryLaterError(attempt.retryInMs, 'the log is being shared elsewhere');
  try {
    const shared = await shareDeploymentLog(
      deps,
      teamId,
      releaseId,
      'The release has ended; here is its deployment log.',
      now,
    );
    if (shared)
      await deps.store.commitDelivery({
        teamId,
        releaseId,
        deliveryKey: key,
        ts: String(now),
        holder: `log-${process.pid}`,
      });
  } catch (err) {
    await deps.store.dropDeliveryLease(teamId, key, `log-${process.pid}`).catch(() => undefined);
    throw err;
  }
}
