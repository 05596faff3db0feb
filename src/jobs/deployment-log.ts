import { type LogDeps, shareDeploymentLog } from '../app/share-log.js';
import type { Release } from '../domain/release.js';
import { deliverOnce, RetryLaterError, releaseThread } from '../slack-api/delivery.js';
import { SlackPlatformError } from '../slack-api/outbound.js';
import { sharedLogField } from '../store/message-store.js';
import { renderFinalLogShared, renderLogSuperseded, renderRetroLogShared } from '../views/log-messages.js';
import type { RenderedMessage } from '../views/release-messages.js';

// The automatic deployment log of a finished release (src/app/share-log.ts builds the files). Each
// version shared in the thread is a message of shipcheck's own followed by its two files: the final
// log when the release ends, and a new version each time the team saves the retrospective after that.
// The message is what can change later: an earlier version's says it was superseded, with a link.

/** How long one upload may take before another instance may try it again. */
const LOG_LEASE_MS = 120_000;
const LOG_HOLDER = `log-${process.pid}`;
/** The id of the version shared when the release ends; later ones are named by their retro_saved event. */
const FINAL_LOG = 'final';
/** Slack errors that say an earlier version's message cannot be edited any more. */
const MESSAGE_GONE_ERRORS = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed']);

const finalLogKey = (releaseId: string) => `log-${releaseId}`;

interface LogVersion {
  /** Where it is recorded in the release's messages (sharedLogField). */
  id: string;
  /** Its delivery key; its message's is this with "-message". */
  key: string;
  intro: (release: Release) => RenderedMessage;
}

/**
 * Shares one version of the log, once. Files carry no metadata to find them by after a crash, so the
 * delivery marker is the record: a worker that dies mid-upload is retried after its lease, which can
 * share the files a second time (said in the operator guide), never zero times. The message before
 * them is posted exactly once (deliverOnce).
 */
async function shareLogVersion(
  deps: LogDeps,
  teamId: string,
  releaseId: string,
  version: LogVersion,
  now: number,
): Promise<'shared' | 'unpostable' | 'gone'> {
  const thread = await releaseThread(deps.store, teamId, releaseId);
  if (thread === 'unpostable') return 'unpostable';
  const attempt = await deps.store.deliveries.begin(teamId, version.key, LOG_HOLDER, LOG_LEASE_MS, now);
  if (attempt.state === 'done') return 'shared';
  if (attempt.state === 'busy')
    throw new RetryLaterError(attempt.retryInMs, 'the log is being shared elsewhere');
  try {
    const release = await deps.store.getRelease(teamId, releaseId);
    const intro = release
      ? await deliverOnce(deps, {
          teamId,
          releaseId,
          key: `${version.key}-message`,
          channel: release.channelId,
          threadTs: thread.headerTs,
          message: version.intro(release),
        })
      : undefined;
    if (!intro || !(await shareDeploymentLog(deps, teamId, releaseId, undefined, now))) {
      await deps.store.deliveries.dropLease(teamId, version.key, LOG_HOLDER);
      return 'gone';
    }
    await deps.store.deliveries.commit({
      teamId,
      releaseId,
      deliveryKey: version.key,
      ts: intro.ts,
      holder: LOG_HOLDER,
      record: { hash: 'messages', field: sharedLogField(version.id), patch: { ts: intro.ts } },
    });
    return 'shared';
  } catch (err) {
    await deps.store.deliveries.dropLease(teamId, version.key, LOG_HOLDER).catch(() => undefined);
    throw err;
  }
}

/** The automatic log of a finished release, once. */
export async function runFinalLog(
  deps: LogDeps,
  teamId: string,
  releaseId: string,
  now = Date.now(),
): Promise<void> {
  const version = { id: FINAL_LOG, key: finalLogKey(releaseId), intro: renderFinalLogShared };
  if ((await shareLogVersion(deps, teamId, releaseId, version, now)) === 'unpostable')
    deps.log.info({ teamId, releaseId }, 'deployment log dropped: the release was never posted');
}

/**
 * A new version of the log after a retrospective save (the retro_saved event `eventId`), once per
 * save, when the final log is in the thread already; the earlier versions are then marked superseded.
 * Before the final log is shared there is nothing to do: it is built from the record when it goes
 * out, retrospective included.
 */
export async function runLogVersion(
  deps: LogDeps,
  teamId: string,
  releaseId: string,
  eventId: string,
  now = Date.now(),
): Promise<void> {
  const retro = (await deps.store.getRelease(teamId, releaseId))?.retro;
  if (!retro) return;
  if (!(await isFinalLogShared(deps, teamId, releaseId)))
    return void deps.log.info({ teamId, releaseId, eventId }, 'log version not needed: no final log yet');
  const version = {
    id: eventId,
    key: `log-${releaseId}-retro-${eventId}`,
    // The log holds the latest retrospective when it is built, and so does its message.
    intro: (current: Release) => renderRetroLogShared(current, current.retro ?? retro),
  };
  if ((await shareLogVersion(deps, teamId, releaseId, version, now)) !== 'shared') return;
  await markEarlierLogsSuperseded(deps, teamId, releaseId);
  deps.log.info({ teamId, releaseId, eventId }, 'deployment log shared again with the retrospective');
}

/**
 * Whether the thread has the final log. One being shared right now may have read the record before
 * the retrospective was saved, so the new version waits for it (a failed attempt, retried with
 * backoff) rather than trusting it.
 */
async function isFinalLogShared(deps: LogDeps, teamId: string, releaseId: string): Promise<boolean> {
  const key = finalLogKey(releaseId);
  const { logs } = await deps.store.messages.get(teamId, releaseId);
  // A log shared before versions were recorded has only its delivery marker (kept 30 days).
  if (logs.has(FINAL_LOG) || (await deps.store.deliveries.doneTs(teamId, key)) !== undefined) return true;
  if ((await deps.store.deliveries.unfinished(teamId, [key])).size > 0)
    throw new Error('the final log is being shared; its new version waits for it');
  return false;
}

/**
 * Points every earlier version's message at the newest one (the last posted: each is built from the
 * whole record when it is shared, so it holds at least what the others do). A message already
 * pointing there is left alone, so a retried job edits nothing twice.
 */
async function markEarlierLogsSuperseded(deps: LogDeps, teamId: string, releaseId: string): Promise<void> {
  const release = await deps.store.getRelease(teamId, releaseId);
  if (!release) return;
  const versions = [...(await deps.store.messages.get(teamId, releaseId)).logs].sort(([, a], [, b]) =>
    compareTs(a.ts, b.ts),
  );
  const newest = versions.pop();
  if (!newest) return;
  const [newestId, { ts: newestTs }] = newest;
  const stale = versions.filter(([, log]) => log.supersededBy !== newestId);
  if (stale.length === 0) return;
  const permalink = await deps.outbound.getPermalink(release.channelId, newestTs);
  const message = renderLogSuperseded(release, permalink);
  for (const [id, log] of stale) {
    try {
      await deps.outbound.updateMessage(teamId, { channel: release.channelId, ts: log.ts, ...message });
    } catch (err) {
      if (!(err instanceof SlackPlatformError) || !MESSAGE_GONE_ERRORS.has(err.slackError)) throw err;
      deps.log.info({ teamId, releaseId, id, slackError: err.slackError }, 'superseded log message gone');
    }
    await deps.store.messages.markLogSuperseded(teamId, releaseId, id, {
      ts: log.ts,
      supersededBy: newestId,
    });
  }
}

/** Orders Slack timestamps ("<seconds>.<microseconds>") by time. */
function compareTs(a: string, b: string): number {
  const [secondsA = '0', microsA = ''] = a.split('.');
  const [secondsB = '0', microsB = ''] = b.split('.');
  return Number(secondsA) - Number(secondsB) || microsA.padEnd(6, '0').localeCompare(microsB.padEnd(6, '0'));
}
