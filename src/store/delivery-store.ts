import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { defineScripts, SCRIPT_FILES, type ScriptedRedis } from './scripts.js';

// The Redis side of posting a message exactly once (src/slack-api/delivery.ts): a done marker, a
// lease and the first attempt's start per delivery, and the DM conversation ids those posts learn.

// Delivery markers outlive every job that could post the same message: scheduled jobs are kept a week.
const DELIVERY_TTL_SEC = 30 * 24 * 3600;

export type DeliveryAttempt =
  | { state: 'done'; ts: string }
  | { state: 'busy'; retryInMs: number }
  | { state: 'go'; earlierAttempt?: number };

export class DeliveryStore {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
  ) {
    this.redis = defineScripts(redis, SCRIPT_FILES);
  }

  /** Of these deliveries, the ones an attempt was begun for that is not recorded as done. */
  async unfinished(teamId: string, deliveryKeys: readonly string[]): Promise<Set<string>> {
    if (deliveryKeys.length === 0) return new Set();
    const pipeline = this.redis.pipeline();
    for (const key of deliveryKeys) {
      pipeline.exists(this.keys.deliveryAttempt(teamId, key));
      pipeline.exists(this.keys.deliveryDone(teamId, key));
    }
    const replies = (await pipeline.exec()) ?? [];
    return new Set(
      deliveryKeys.filter(
        (_key, index) => replies[2 * index]?.[1] === 1 && replies[2 * index + 1]?.[1] === 0,
      ),
    );
  }

  /**
   * Starts an attempt to post a delivery: done already (its ts), held by another instance (for how
   * much longer), or free to post, with the start of an earlier attempt if there was one (the message
   * may then be in Slack already). Takes the lease for `leaseMs` when free.
   */
  async begin(
    teamId: string,
    deliveryKey: string,
    holder: string,
    leaseMs: number,
    now: number,
  ): Promise<DeliveryAttempt> {
    const [state, value] = (await this.redis.beginDelivery(
      this.keys.deliveryDone(teamId, deliveryKey),
      this.keys.deliveryLease(teamId, deliveryKey),
      this.keys.deliveryAttempt(teamId, deliveryKey),
      holder,
      leaseMs,
      now,
      DELIVERY_TTL_SEC,
    )) as [string, string | number];
    if (state === 'done') return { state, ts: String(value) };
    if (state === 'busy') return { state, retryInMs: Math.max(Number(value), 100) };
    return value === '' ? { state: 'go' } : { state: 'go', earlierAttempt: Number(value) };
  }

  /** The ts recorded for a delivery, if it is done. */
  async doneTs(teamId: string, deliveryKey: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.deliveryDone(teamId, deliveryKey))) ?? undefined;
  }

  /** Extends the caller's lease on a delivery; resolves false if it is no longer theirs. */
  async renewLease(teamId: string, deliveryKey: string, holder: string, leaseMs: number): Promise<boolean> {
    return (await this.redis.renewLease(this.keys.deliveryLease(teamId, deliveryKey), holder, leaseMs)) === 1;
  }

  async dropLease(teamId: string, deliveryKey: string, holder: string): Promise<void> {
    await this.redis.dropLease(this.keys.deliveryLease(teamId, deliveryKey), holder);
  }

  /**
   * Records a posted message once, together with what it means for the release (merged into a JSON
   * field of a hash) and its audit events. Resolves with the ts recorded first.
   */
  async commit(input: {
    teamId: string;
    releaseId: string;
    deliveryKey: string;
    ts: string;
    record?: { hash: 'meta' | 'messages'; field: string; patch: Record<string, unknown> };
    audit?: Record<string, string | number>[];
    /** The lease holder; the lease is given back with the record. */
    holder?: string;
  }): Promise<string> {
    const { teamId, releaseId, record } = input;
    const hashKey =
      record?.hash === 'messages'
        ? this.keys.releaseMessages(teamId, releaseId)
        : this.keys.releaseMeta(teamId, releaseId);
    const events = (input.audit ?? []).map((event) =>
      Object.entries(event).flatMap(([name, value]) => [name, String(value)]),
    );
    return String(
      await this.redis.commitDelivery(
        this.keys.deliveryDone(teamId, input.deliveryKey),
        this.keys.releaseAudit(teamId, releaseId),
        hashKey,
        this.keys.deliveryLease(teamId, input.deliveryKey),
        this.keys.releaseMeta(teamId, releaseId),
        input.ts,
        DELIVERY_TTL_SEC,
        record?.field ?? '',
        JSON.stringify(record?.patch ?? {}),
        JSON.stringify(events),
        input.holder ?? '',
      ),
    );
  }

  async directMessageChannel(teamId: string, userId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.directMessageChannels(teamId), userId)) ?? undefined;
  }

  async saveDirectMessageChannel(teamId: string, userId: string, channelId: string): Promise<void> {
    await this.redis.hset(this.keys.directMessageChannels(teamId), userId, channelId);
  }
}
