import { type RoleDirectory, resolvePhaseHolders } from '../app/access.js';
import type { RoleHolders } from '../domain/access.js';
import { type DirectMessage, findSupersededReminders } from '../domain/direct-messages.js';
import type { Release } from '../domain/release.js';
import type { Logger } from '../log.js';
import { type DeliveryDeps, deliverOnce, directMessageChannel } from '../slack-api/delivery.js';
import { type SlackOutbound, SlackPlatformError } from '../slack-api/outbound.js';
import { directMessageField, type ReleaseMessages } from '../store/message-store.js';
import type { ReleaseStore } from '../store/release-store.js';
import { renderDirectMessage } from '../views/direct-messages.js';
import { ADOPTED_HASH, fingerprintMessage } from '../views/fingerprint.js';
import type { RenderedMessage } from '../views/release-messages.js';

// The release's direct messages, kept true by the sync like its thread: each recorded reminder or
// escalation DM is rendered from the current state and updated only when that differs from what it
// last showed. A reminder that a newer one superseded is told so once and then forgotten, so the
// record stays at one DM per person per phase (and one per escalation). Nothing is posted here.

export interface DirectMessageSyncDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  log: Logger;
  /** Without a directory nobody holds a role (their items are the starter's), as in the reminders. */
  roles?: Pick<RoleDirectory, 'resolve'>;
}

/**
 * Posts a person's DM once and records it with the release, so that every later sync keeps it true.
 * One a dead worker posted and this one found in Slack is recorded as showing something unknown.
 */
export async function deliverDirectMessage(
  deps: DeliveryDeps,
  delivery: {
    teamId: string;
    releaseId: string;
    key: string;
    channel: string;
    message: RenderedMessage;
    /** What the DM is about: its kind, its person, and its phase or check-in. */
    about: Record<string, unknown>;
  },
): Promise<{ ts: string; posted: boolean }> {
  const { about, message, key } = delivery;
  return deliverOnce(deps, {
    teamId: delivery.teamId,
    releaseId: delivery.releaseId,
    key,
    channel: delivery.channel,
    message,
    record: {
      hash: 'messages',
      field: directMessageField(key),
      patch: { ...about, hash: fingerprintMessage(message) },
    },
    patchWhenFound: { ...about, hash: ADOPTED_HASH },
  });
}

export async function syncDirectMessages(
  deps: DirectMessageSyncDeps,
  release: Release,
  messages: Pick<ReleaseMessages, 'directMessages' | 'permalink'>,
  now = Date.now(),
): Promise<void> {
  const recorded = messages.directMessages;
  if (recorded.size === 0) return;
  const superseded = findSupersededReminders(recorded);
  const holdersOfPhase = new Map<number, Promise<RoleHolders>>();
  const holders = (phaseIndex: number) => {
    let found = holdersOfPhase.get(phaseIndex);
    if (!found) {
      found = deps.roles
        ? resolvePhaseHolders({ roles: deps.roles, log: deps.log }, release, phaseIndex)
        : Promise.resolve(() => undefined);
      holdersOfPhase.set(phaseIndex, found);
    }
    return found;
  };
  // Latest ones first: they carry the state people act on.
  const ordered = [...recorded].sort(([a], [b]) => Number(superseded.has(a)) - Number(superseded.has(b)));
  for (const [id, message] of ordered) {
    const isSuperseded = superseded.has(id);
    const rendered = renderDirectMessage(release, message, {
      superseded: isSuperseded,
      holders: message.kind === 'reminder' ? await holders(message.phaseIndex) : () => undefined,
      threadPermalink: messages.permalink,
      now,
    });
    const hash = rendered ? fingerprintMessage(rendered) : message.hash;
    if (rendered && hash !== message.hash) {
      await updateDirectMessage(deps, release, id, message, rendered);
    }
    if (isSuperseded) await deps.store.messages.forgetDirectMessage(release.teamId, release.id, id);
    else if (hash !== message.hash) {
      await deps.store.messages.saveDirectMessage(release.teamId, release.id, id, { ...message, hash });
    }
  }
}

async function updateDirectMessage(
  deps: DirectMessageSyncDeps,
  release: Release,
  id: string,
  message: DirectMessage,
  rendered: RenderedMessage,
): Promise<void> {
  try {
    const channel = await directMessageChannel(deps, release.teamId, message.userId);
    await deps.outbound.updateMessage(release.teamId, { channel, ts: message.ts, ...rendered });
  } catch (err) {
    // A DM Slack refuses to change (deleted, the person deactivated) must not hold up the others, nor
    // the next syncs: it keeps what it showed, and is recorded as shown.
    if (!(err instanceof SlackPlatformError)) throw err;
    deps.log.warn(
      { releaseId: release.id, directMessage: id, userId: message.userId, slackError: err.slackError },
      'direct message cannot be updated; skipped',
    );
  }
}
