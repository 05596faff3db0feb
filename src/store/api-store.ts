import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { createKeys } from './keys.js';

// What the pipeline API keeps between requests: each Idempotency-Key's request and response, so a
// retried state change answers as the first did and changes nothing; and each token's request count
// per minute, shared by every instance.

/** How long a key is remembered: longer than any pipeline run retries one step. */
export const IDEMPOTENCY_TTL_SEC = 24 * 3600;
/** A request still marked in progress after this long was lost with its process; it may run again. */
export const IDEMPOTENCY_PENDING_SEC = 60;
export const RATE_WINDOW_MS = 60_000;

export interface StoredResponse {
  status: number;
  body: unknown;
}

export type IdempotencyClaim =
  /** First use of the key: go ahead, then `remember` the answer. */
  | { kind: 'claimed' }
  /** The same request was answered already: answer the same again. */
  | { kind: 'replay'; response: StoredResponse }
  /** The same key is being answered right now. */
  | { kind: 'in_progress' }
  /** The key was used for a different request. */
  | { kind: 'mismatch' };

interface Record {
  fingerprint: string;
  response?: StoredResponse;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export class ApiStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ReturnType<typeof createKeys>,
  ) {}

  /** `request` identifies what was asked (method, path, body): a key reused for another request is refused. */
  async claim(teamId: string, tokenId: string, key: string, request: string): Promise<IdempotencyClaim> {
    const redisKey = this.keys.apiIdempotency(teamId, tokenId, sha256(key));
    const fingerprint = sha256(request);
    const pending: Record = { fingerprint };
    const set = await this.redis.set(redisKey, JSON.stringify(pending), 'EX', IDEMPOTENCY_PENDING_SEC, 'NX');
    if (set === 'OK') return { kind: 'claimed' };
    const raw = await this.redis.get(redisKey);
    // Expired between the two calls: the key is free again.
    if (raw === null) return this.claim(teamId, tokenId, key, request);
    const stored = JSON.parse(raw) as Record;
    if (stored.fingerprint !== fingerprint) return { kind: 'mismatch' };
    return stored.response ? { kind: 'replay', response: stored.response } : { kind: 'in_progress' };
  }

  async remember(
    teamId: string,
    tokenId: string,
    key: string,
    request: string,
    response: StoredResponse,
  ): Promise<void> {
    const record: Record = { fingerprint: sha256(request), response };
    await this.redis.set(
      this.keys.apiIdempotency(teamId, tokenId, sha256(key)),
      JSON.stringify(record),
      'EX',
      IDEMPOTENCY_TTL_SEC,
    );
  }

  /** Lets the key be used again: the request failed in a way a retry may not (a 5xx). */
  async release(teamId: string, tokenId: string, key: string): Promise<void> {
    await this.redis.del(this.keys.apiIdempotency(teamId, tokenId, sha256(key)));
  }

  /**
   * Counts a request against the token's limit per minute; the ms until the window ends when the
   * limit is spent, else undefined.
   */
  async overLimit(
    teamId: string,
    tokenId: string,
    limitPerMinute: number,
    now: number,
  ): Promise<number | undefined> {
    const window = Math.floor(now / RATE_WINDOW_MS);
    const key = this.keys.apiRate(teamId, tokenId, window);
    const [[, count]] = (await this.redis
      .multi()
      .incr(key)
      .pexpire(key, RATE_WINDOW_MS * 2)
      .exec()) as [[Error | null, number], [Error | null, number]];
    return count > limitPerMinute ? (window + 1) * RATE_WINDOW_MS - now : undefined;
  }
}
