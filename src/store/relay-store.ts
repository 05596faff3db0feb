import type { Redis } from 'ioredis';
import type { AuditEvent } from '../domain/audit.js';
import {
  decodeSealHead,
  encodeSeal,
  encodeSealHead,
  type SealHead,
  type StoredSeal,
} from '../domain/audit-seal.js';
import type { Keys } from './keys.js';
import { parseAuditEntry } from './release-codec.js';
import { scanTeams } from './retention-store.js';
import { defineScripts, SCRIPT_FILES, type ScriptedRedis } from './scripts.js';

// What the relay (src/app/relay.ts) keeps in Redis: which releases have events whose follow-ups are
// not queued yet, how far each release's events have been relayed (the "relayed" field of its meta
// hash), and who is relaying a release right now.

export interface UnrelayedBatch {
  /** Events past the release's cursor, oldest first. */
  events: AuditEvent[];
  /** False when the batch stopped at its size limit and more events wait behind it. */
  complete: boolean;
  /** Each event's stored chain hash, in order: what the relay seals. */
  hashes: string[];
  /** Where the keyed seals stand: the newest seal, or the events ahead of this batch when none. */
  sealedFrom: { head: SealHead | undefined; position: number; seal: string };
}

/** A batch's keyed seals, written with the cursor. */
export interface BatchSeals {
  /** The newest seal the batch continued from (undefined when none). */
  from: SealHead | undefined;
  head: SealHead;
  seals: { eventId: string; seal: StoredSeal }[];
}

/** The stored chain hash of an entry: the value after its last field name, "hash". */
function storedHash(fields: readonly string[]): string {
  return fields.at(-2) === 'hash' ? fields.at(-1)! : '';
}

export class RelayStore {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
  ) {
    this.redis = defineScripts(redis, SCRIPT_FILES);
  }

  /** Notes a workspace that has releases, for the relay's periodic sweep. */
  async noteTeam(teamId: string): Promise<void> {
    await this.redis.sadd(this.keys.teams(), teamId);
  }

  /**
   * Every workspace with releases. The set is written before each start; a SCAN for releases made
   * before it existed runs once per process, at the first sweep.
   */
  async listTeams(scanLegacy: boolean): Promise<string[]> {
    const teams = new Set(await this.redis.smembers(this.keys.teams()));
    if (!scanLegacy) return [...teams];
    const found = (await scanTeams(this.redis, this.keys)).filter((teamId) => !teams.has(teamId));
    if (found.length > 0) await this.redis.sadd(this.keys.teams(), ...found);
    return [...teams, ...found];
  }

  /** Releases of a workspace with unrelayed events, oldest first, with when the oldest was appended. */
  async unrelayed(teamId: string, limit: number): Promise<{ releaseId: string; since: number }[]> {
    const flat = await this.redis.zrange(this.keys.unrelayed(teamId), 0, limit - 1, 'WITHSCORES');
    const pending: { releaseId: string; since: number }[] = [];
    for (let index = 0; index + 1 < flat.length; index += 2) {
      pending.push({ releaseId: flat[index]!, since: Number(flat[index + 1]) });
    }
    return pending;
  }

  /**
   * Takes the right to relay one release for `leaseMs` and reads at most `count` events past its
   * cursor, in one round trip; undefined while another instance holds it. A release without a cursor
   * (its first relay, or one from before the relay existed) starts at its oldest unrelayed event's time.
   */
  async begin(
    teamId: string,
    releaseId: string,
    holder: string,
    leaseMs: number,
    count: number,
  ): Promise<UnrelayedBatch | undefined> {
    const [state, entries, sealed, before] = (await this.redis.beginRelay(
      this.keys.releaseMeta(teamId, releaseId),
      this.keys.releaseAudit(teamId, releaseId),
      this.keys.unrelayed(teamId),
      this.keys.relayLease(teamId, releaseId),
      releaseId,
      holder,
      leaseMs,
      count,
    )) as unknown as [string, [string, string[]][] | undefined, string | undefined, number | undefined];
    if (state !== 'leased') return undefined;
    const events = (entries ?? []).map(([id, fields]) => parseAuditEntry(id, fields));
    const head = decodeSealHead(sealed);
    return {
      events,
      complete: events.length < count,
      hashes: (entries ?? []).map(([, fields]) => storedHash(fields)),
      sealedFrom: { head, position: head?.position ?? Number(before ?? 0), seal: head?.seal ?? '' },
    };
  }

  /** Gives the lease back early (a relay that failed half-way). */
  async dropLease(teamId: string, releaseId: string, holder: string): Promise<void> {
    await this.redis.dropLease(this.keys.relayLease(teamId, releaseId), holder);
  }

  /**
   * Moves the cursor to `lastEventId` (when given) and takes the release off the unrelayed set unless
   * newer events came in; resolves true when they did (the lease is then still the holder's), else
   * gives the lease back. `syncAskedAt`: the batch asked for a message sync then, and the release
   * counts as unsynced until a sync started after it succeeds. `seals`: the batch's keyed seals,
   * written in the same step.
   */
  async advance(
    teamId: string,
    releaseId: string,
    lastEventId: string | undefined,
    holder: string,
    syncAskedAt?: number,
    seals?: BatchSeals,
  ): Promise<boolean> {
    const more = await this.redis.advanceRelay(
      this.keys.releaseMeta(teamId, releaseId),
      this.keys.releaseAudit(teamId, releaseId),
      this.keys.unrelayed(teamId),
      this.keys.relayLease(teamId, releaseId),
      this.keys.unsynced(teamId),
      this.keys.releaseSeals(teamId, releaseId),
      releaseId,
      lastEventId ?? '',
      holder,
      syncAskedAt ?? '',
      seals?.from ? encodeSealHead(seals.from) : '',
      seals ? encodeSealHead(seals.head) : '',
      ...(seals?.seals.flatMap(({ eventId, seal }) => [eventId, encodeSeal(seal)]) ?? []),
    );
    return more === 1;
  }

  /** Releases whose last sync was asked for before `askedBefore` and has not succeeded since. */
  async unsyncedSince(teamId: string, askedBefore: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.unsynced(teamId), '-inf', askedBefore, 'LIMIT', 0, limit);
  }

  /** Notes that a sync was asked for again; the release waits another round before the next ask. */
  async noteSyncAsked(teamId: string, releaseId: string, at: number): Promise<void> {
    await this.redis.zadd(this.keys.unsynced(teamId), 'GT', at, releaseId);
  }
}
