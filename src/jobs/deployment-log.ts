import { type LogDeps, shareDeploymentLog } from '../app/share-log.js';
import { RetryLaterError, releaseThread } from '../slack-api/delivery.js';

// The automatic deployment log of a finished release (src/app/share-log.ts builds and shares it).

/** How long one upload may take before another instance may try it again. */
const LOG_LEASE_MS = 120_000;

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
  const attempt = await deps.store.deliveries.begin(teamId, key, `log-${process.pid}`, LOG_LEASE_MS, now);
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
      await deps.store.deliveries.commit({
        teamId,
        releaseId,
        deliveryKey: key,
        ts: String(now),
        holder: `log-${process.pid}`,
      });
  } catch (err) {
    await deps.store.deliveries.dropLease(teamId, key, `log-${process.pid}`).catch(() => undefined);
    throw err;
  }
}
