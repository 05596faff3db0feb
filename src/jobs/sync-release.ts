import { anchorPayload, encodeSealHead } from '../domain/audit-seal.js';
import { SHIPCHECK_USER } from '../domain/follow-ups.js';
import type { Release } from '../domain/release.js';
import type { Logger } from '../log.js';
import type { HomeRefreshQueue } from '../queues/home-refresh-queue.js';
import type { SyncJobData } from '../queues/sync-queue.js';
import { DELIVERY_EVENT_TYPE, deliverOnce, messageDeliveryKey } from '../slack-api/delivery.js';
import { CHANNEL_UNUSABLE_ERRORS, type SlackOutbound, SlackPlatformError } from '../slack-api/outbound.js';
import type { MessageRef } from '../store/message-store.js';
import type { ReleaseStore } from '../store/release-store.js';
import { renderCheckin } from '../views/checkin-messages.js';
import { ADOPTED_HASH, checkinMessageKey, fingerprint, fingerprintMessage } from '../views/fingerprint.js';
import { phaseMessageKey, planReleaseMessages, renderPhaseParts } from '../views/release-messages.js';
import { type DirectMessageSyncDeps, syncDirectMessages } from './sync-direct-messages.js';

/** Errors after which one message can no longer be updated, while the release's others still can. */
const MESSAGE_GONE_ERRORS = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed']);

export interface SyncDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  log: Logger;
  /** Redraws the workspace's open Home tabs; absent where nobody looks at them (benchmarks of the sync alone). */
  home?: Pick<HomeRefreshQueue, 'request'>;
  /** Who holds the roles, for the reminder DMs' redraws. */
  roles?: DirectMessageSyncDeps['roles'];
}

/**
 * Brings the release's Slack messages in line with its state in Redis: posts the header and newly
 * unlocked phases, and updates every message whose render changed, its direct messages included.
 * Safe to run any number of times.
 */
export async function syncRelease(deps: SyncDeps, data: SyncJobData): Promise<void> {
  const { store, outbound } = deps;
  const log = deps.log.child({ teamId: data.teamId, releaseId: data.releaseId });
  // Everything committed before this moment is shown once the sync succeeds.
  const startedAt = Date.now();
  const release = await store.getRelease(data.teamId, data.releaseId);
  if (!release) {
    log.warn('sync requested for a release that does not exist');
    await store.messages.markShown(data.teamId, data.releaseId, startedAt);
    return;
  }
  const messages = await store.messages.get(data.teamId, data.releaseId);
  if (messages.unpostable) {
    // Abandoned: its channel never took its header, so nothing of it can be shown.
    await store.messages.markShown(data.teamId, data.releaseId, startedAt);
    return;
  }
  const shown = new Set([
    ...Object.keys(messages.refs),
    ...(await findUnrecordedPosts(deps, release, messages.refs)),
  ]);
  // The header's metadata anchors the audit trail's newest keyed seal outside Redis; a new seal is a
  // change of the header, so its hash takes the seal in.
  const sealHead = await store.readSealHead(data.teamId, data.releaseId);
  const headerMetadata = sealHead && {
    event_type: DELIVERY_EVENT_TYPE,
    event_payload: { key: messageDeliveryKey(data.releaseId, 'header'), ...anchorPayload(sealHead) },
  };
  const desired = planReleaseMessages(release, shown, messages.nonces).map((message) =>
    message.key === 'header' && sealHead
      ? { ...message, hash: fingerprint(`${message.hash}\u0000${encodeSealHead(sealHead)}`) }
      : message,
  );
  const channel = release.channelId;

  let headerTs = messages.refs.header?.ts;
  const toUpdate = [];
  for (const message of desired) {
    const ref = messages.refs[message.key];
    if (ref) {
      if (ref.hash !== message.hash) toUpdate.push({ message, ts: ref.ts });
      continue;
    }
    try {
      // Exactly once, even if this worker dies around the post: a retry must update this message,
      // never post a second one.
      const { ts, posted } = await deliverOnce(deps, {
        teamId: data.teamId,
        releaseId: data.releaseId,
        key: messageDeliveryKey(data.releaseId, message.key),
        channel,
        ...(message.key === 'header' ? {} : { threadTs: headerTs }),
        message: { text: message.text, blocks: message.blocks },
        record: { hash: 'messages', field: `msg:${message.key}`, patch: { hash: message.hash } },
        // Its content is unknown: the next sync updates it even if this one dies first.
        patchWhenFound: { hash: ADOPTED_HASH },
      });
      log.info({ messageKey: message.key, ts, posted }, 'message posted');
      // Found in Slack rather than posted here (a worker died after posting it): it shows whatever
      // was rendered then, so it is brought up to date like any other.
      // A header posted now carries only its delivery key: the update adds the anchor.
      if (!posted || (message.key === 'header' && headerMetadata)) toUpdate.push({ message, ts });
      if (message.key === 'header') {
        headerTs = ts;
        const permalink = await outbound.getPermalink(channel, ts).catch((err: unknown) => {
          log.warn({ err }, 'permalink unavailable');
          return undefined;
        });
        if (permalink) await store.messages.savePermalink(data.teamId, data.releaseId, permalink);
      }
    } catch (err) {
      if (
        message.key === 'header' &&
        err instanceof SlackPlatformError &&
        CHANNEL_UNUSABLE_ERRORS.has(err.slackError)
      ) {
        await abandonUnpostableRelease(deps, data, channel, err.slackError);
        await store.messages.markShown(data.teamId, data.releaseId, startedAt);
        await deps.home?.request(data.teamId);
        return;
      }
      throw err;
    }
  }
  // Phase checklists first: they carry the ticks people are waiting to see.
  toUpdate.sort((a, b) => Number(a.message.key === 'header') - Number(b.message.key === 'header'));
  for (const { message, ts } of toUpdate) {
    try {
      await outbound.updateMessage(data.teamId, {
        channel,
        ts,
        text: message.text,
        blocks: message.blocks,
        ...(message.key === 'header' && headerMetadata ? { metadata: headerMetadata } : {}),
      });
    } catch (err) {
      // A message someone deleted can never be updated; retrying it would hold up all the others.
      if (!(err instanceof SlackPlatformError && MESSAGE_GONE_ERRORS.has(err.slackError))) throw err;
      log.warn(
        { messageKey: message.key, ts, slackError: err.slackError },
        'message cannot be updated; skipped',
      );
    }
    await store.messages.saveRef(data.teamId, data.releaseId, message.key, { ts, hash: message.hash });
  }
  if (toUpdate.length > 0) log.debug({ updated: toUpdate.length, rev: release.rev }, 'messages updated');
  await syncCheckinMessages(deps, release, messages.refs);
  await syncDirectMessages(deps, release, messages);
  await store.messages.markShown(data.teamId, data.releaseId, startedAt);
  // Whatever changed here may change what someone's Home tab shows.
  await deps.home?.request(data.teamId);
}

/**
 * Messages of an ended release that a worker began to post but never recorded (it died around the
 * post). The plan leaves out phases that are not open, and an ended release opens none, so without
 * this such a message would keep its first render, live checkboxes included, for good.
 */
async function findUnrecordedPosts(
  deps: SyncDeps,
  release: Release,
  refs: Record<string, MessageRef>,
): Promise<string[]> {
  if (release.status === 'active') return [];
  const keys = release.template.phases.flatMap((_phase, phaseIndex) =>
    renderPhaseParts(release, phaseIndex)
      .map((_part, partIndex) => phaseMessageKey(phaseIndex, partIndex))
      .filter((key) => !refs[key]),
  );
  const deliveryKeyOf = (key: string) => messageDeliveryKey(release.id, key);
  const unfinished = await deps.store.deliveries.unfinished(release.teamId, keys.map(deliveryKeyOf));
  return keys.filter((key) => unfinished.has(deliveryKeyOf(key)));
}

/** Check-ins are posted by their jobs, at their time; here they are only kept up to date (answered, closed). */
async function syncCheckinMessages(deps: SyncDeps, release: Release, refs: Record<string, MessageRef>) {
  for (const checkin of release.checkins) {
    const key = checkinMessageKey(checkin.index);
    const ts = refs[key]?.ts ?? checkin.ts;
    if (!ts) continue;
    const message = renderCheckin(release, checkin.index);
    const hash = fingerprintMessage(message);
    if (refs[key]?.hash === hash) continue;
    try {
      await deps.outbound.updateMessage(release.teamId, { channel: release.channelId, ts, ...message });
    } catch (err) {
      if (!(err instanceof SlackPlatformError && MESSAGE_GONE_ERRORS.has(err.slackError))) throw err;
      deps.log.warn(
        { releaseId: release.id, checkinIndex: checkin.index },
        'check-in message cannot be updated',
      );
    }
    await deps.store.messages.saveRef(release.teamId, release.id, key, { ts, hash });
  }
}

/**
 * A release whose header Slack refuses to post would block its version forever; cancel it on the
 * record. What waits for its thread (announcements, the log) is dropped: nobody ever saw it start.
 */
async function abandonUnpostableRelease(
  deps: SyncDeps,
  data: SyncJobData,
  channel: string,
  slackError: string,
) {
  const reason = `shipcheck could not post in the channel (${slackError})`;
  await deps.store.messages.markUnpostable(data.teamId, data.releaseId, slackError);
  await deps.store.cancelRelease({
    teamId: data.teamId,
    releaseId: data.releaseId,
    userId: SHIPCHECK_USER,
    reason,
    requestId: `unpostable-${data.releaseId}`,
  });
  deps.log.warn(
    { teamId: data.teamId, releaseId: data.releaseId, channel, slackError },
    'release cancelled: channel unusable',
  );
  const responseUrl =
    data.responseUrl ?? (await deps.store.messages.startReplyUrl(data.teamId, data.releaseId));
  if (responseUrl) {
    const hint =
      slackError === 'not_in_channel'
        ? `Invite me first with \`/invite @shipcheck\` in <#${channel}>, then run the command again.`
        : 'Check that the channel exists, is not archived and that I am a member, then run the command again.';
    await deps.outbound.replyToCommand(
      responseUrl,
      `I could not post the release in <#${channel}> (${slackError}), so I cancelled it. ${hint}`,
    );
  }
}
