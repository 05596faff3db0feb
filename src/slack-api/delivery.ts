import { randomUUID } from 'node:crypto';
import type { ReleaseMessages } from '../store/message-store.js';
import type { ReleaseStore } from '../store/release-store.js';
import type { MessageContent, SlackOutbound } from './outbound.js';

// Posting a message exactly once, across retries, several instances and a worker killed mid-post.
// Slack's chat.postMessage has no idempotency key, so a post is bracketed by Redis and marked in Slack:
//   1. a delivery already recorded is done;
//   2. a short lease, renewed while the attempt runs, keeps two live instances from posting it at the
//      same time, and lets another take over soon after the holder died;
//   3. the first attempt notes when it began; a later attempt (the earlier one died somewhere around
//      the post) first looks in Slack for a message carrying the delivery's key in its metadata;
//   4. the post carries that key; the ts, what the message means for the release and its audit
//      event are then recorded in one script.
// A worker that dies after the post and before step 4 is covered by step 3; one that dies before
// the post leaves nothing in Slack, and the retry posts.

export const DELIVERY_EVENT_TYPE = 'shipcheck_delivery';

/** The delivery key of one of a release's own messages ("header", "phase:<n>:<part>"). */
export function messageDeliveryKey(releaseId: string, messageKey: string): string {
  return `msg-${releaseId}-${messageKey.replaceAll(':', '-')}`;
}

/**
 * Where a job posts in a release's thread: the header's ts, or 'unpostable' when the header can never
 * be posted (the release was abandoned). While the header is still on its way (the sync has not run
 * yet, or Slack is failing), the job waits without spending an attempt.
 */
export async function releaseThread(
  store: Pick<ReleaseStore, 'messages'>,
  teamId: string,
  releaseId: string,
): Promise<{ headerTs: string; messages: ReleaseMessages } | 'unpostable'> {
  const messages = await store.messages.get(teamId, releaseId);
  const headerTs = messages.refs.header?.ts;
  if (headerTs) return { headerTs, messages };
  if (messages.unpostable) return 'unpostable';
  throw new RetryLaterError(THREAD_WAIT_MS, 'the release header is not posted yet');
}

/** How long a job that needs the release thread waits before it looks again. */
const THREAD_WAIT_MS = 2000;

/** A job that must wait (another instance holds the delivery) rather than spend one of its attempts. */
export class RetryLaterError extends Error {
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'RetryLaterError';
  }
}

export interface Delivery {
  teamId: string;
  releaseId: string;
  /** Unique for the message's meaning, e.g. "checkin-r12-k0"; goes into the message's metadata. */
  key: string;
  /**
   * A conversation id (C…, G… or D…), or a user id for the person's DM with the app (see
   * directMessageTarget); the conversation is opened only when a lookup needs its id.
   */
  channel: string;
  threadTs?: string;
  message: MessageContent;
  /**
   * What the message means for the release, merged into a JSON field when it is recorded, with the
   * message's ts under `tsAs` ("ts" unless named: a second message about the same thing, like a
   * check-in's escalation, must not take the first one's place).
   */
  record?: { hash: 'meta' | 'messages'; field: string; patch: Record<string, unknown>; tsAs?: string };
  /**
   * Recorded instead of `record.patch` when the message is found in Slack rather than posted here: it
   * shows what was rendered when a worker that died posted it, not `message`.
   */
  patchWhenFound?: Record<string, unknown>;
  /** Audit events recorded with it (the time is added). */
  audit?: Record<string, string | number>[];
}

export interface DeliveryDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  /** How long a hold outlives its last renewal: how soon another instance takes over from a dead one. */
  leaseMs?: number;
}

/** Time a clock may be off between this instance and Slack, when reading messages since an attempt. */
const CLOCK_SKEW_MS = 5 * 60_000;
// As long as a job's lock (src/jobs/instrumented-worker.ts): a worker that takes over a dead one's
// job finds its hold on the post lapsed too.
const DEFAULT_LEASE_MS = 5000;
/** Renewals per lease period: two can be missed (a long GC pause, a slow Redis) before the hold lapses. */
const RENEWALS_PER_LEASE = 3;
const holder = randomUUID();

/** Posts the delivery's message unless it exists already. Resolves with its ts and whether this call posted it. */
export async function deliverOnce(
  deps: DeliveryDeps,
  delivery: Delivery,
  now = Date.now(),
): Promise<{ ts: string; posted: boolean }> {
  const { store, outbound } = deps;
  const { teamId, key } = delivery;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const attempt = await store.deliveries.begin(teamId, key, holder, leaseMs, now);
  if (attempt.state === 'done') return { ts: attempt.ts, posted: false };
  if (attempt.state === 'busy')
    throw new RetryLaterError(attempt.retryInMs, `delivery ${key} is being posted elsewhere`);
  // The post may wait long (pacing, Retry-After): the hold lasts as long as this attempt is alive.
  const renewal = setInterval(() => {
    store.deliveries.renewLease(teamId, key, holder, leaseMs).catch(() => undefined);
  }, leaseMs / RENEWALS_PER_LEASE);
  renewal.unref();
  try {
    const metadata = { event_type: DELIVERY_EVENT_TYPE, event_payload: { key } };
    let channel = delivery.channel;
    if (attempt.earlierAttempt !== undefined) {
      // The lookup reads a conversation, so a person's DM needs its id now.
      if (isUserId(channel)) channel = await directMessageChannel(deps, teamId, channel);
      const found = await outbound.findMessageByMetadata({
        channel,
        ...(delivery.threadTs ? { threadTs: delivery.threadTs } : {}),
        oldestMs: attempt.earlierAttempt - CLOCK_SKEW_MS,
        metadata,
      });
      if (found) return { ts: await commit(store, delivery, found, true), posted: false };
    }
    const posted = await outbound.postMessage(teamId, {
      channel,
      ...(delivery.threadTs ? { threadTs: delivery.threadTs } : {}),
      ...delivery.message,
      metadata,
    });
    const { ts } = posted;
    // Slack answers a post to a user id with the DM's id: remembered, so a later lookup needs no open.
    if (isUserId(channel) && posted.channel !== channel) {
      await store.deliveries.saveDirectMessageChannel(teamId, channel, posted.channel);
    }
    const first = await commit(store, delivery, ts);
    return { ts: first, posted: first === ts };
  } catch (err) {
    // The next attempt may start at once; it looks in Slack first, since this one may have posted.
    await store.deliveries.dropLease(teamId, key, holder).catch(() => undefined);
    throw err;
  } finally {
    clearInterval(renewal);
  }
}

function commit(store: ReleaseStore, delivery: Delivery, ts: string, found = false): Promise<string> {
  const patch = found && delivery.patchWhenFound ? delivery.patchWhenFound : delivery.record?.patch;
  return store.deliveries.commit({
    teamId: delivery.teamId,
    releaseId: delivery.releaseId,
    deliveryKey: delivery.key,
    ts,
    holder,
    ...(delivery.record ? { record: recordWithTs(delivery.record, patch, ts) } : {}),
    ...(delivery.audit ? { audit: delivery.audit } : {}),
  });
}

function recordWithTs(
  record: NonNullable<Delivery['record']>,
  patch: Record<string, unknown> | undefined,
  ts: string,
): { hash: 'meta' | 'messages'; field: string; patch: Record<string, unknown> } {
  const { tsAs = 'ts', ...where } = record;
  return { ...where, patch: { ...patch, [tsAs]: ts } };
}

const isUserId = (channel: string) => /^[UW][A-Z0-9]+$/.test(channel);

/**
 * Where to post a person's direct message: their DM conversation with the app when its id is known,
 * else their user id, which chat.postMessage accepts and answers with the DM's id. The first message
 * to each person then costs no conversations.open, a Tier 3 method (about 50 a minute): the first
 * reminders of many owners at once would otherwise queue behind it.
 */
export async function directMessageTarget(
  deps: Pick<DeliveryDeps, 'store'>,
  teamId: string,
  userId: string,
): Promise<string> {
  return (await deps.store.deliveries.directMessageChannel(teamId, userId)) ?? userId;
}

/** The user's direct-message conversation with the app, opened once and remembered. */
export async function directMessageChannel(
  deps: Pick<DeliveryDeps, 'store' | 'outbound'>,
  teamId: string,
  userId: string,
): Promise<string> {
  const known = await deps.store.deliveries.directMessageChannel(teamId, userId);
  if (known) return known;
  const channel = await deps.outbound.openDirectMessage(userId);
  await deps.store.deliveries.saveDirectMessageChannel(teamId, userId, channel);
  return channel;
}
