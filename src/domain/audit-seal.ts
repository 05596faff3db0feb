import { createHmac } from 'node:crypto';
import { eventHash, type StoredAuditEntry, verifyAuditChain } from './audit-chain.js';
import type { ReleaseStatus } from './release.js';

// Keyed seals over the audit trail. The SHA-1 chain (audit-chain.ts) is unkeyed: anyone who can write
// to Redis can recompute it. The relay therefore seals each event it reads, in order, with
// HMAC-SHA256(key, previous seal, event id, event hash) under AUDIT_KEY, which never reaches Redis;
// the newest seal and its position are also kept on the release's header message in Slack, out of a
// Redis writer's reach. Each seal names its key id, so a trail sealed under a retired key still
// verifies while that key is listed in AUDIT_OLD_KEYS.

/** The keys seals are made and checked with: the current one's id, and every key by id. */
export interface AuditKeys {
  currentId: string;
  keys: ReadonlyMap<string, string>;
}

export interface StoredSeal {
  keyId: string;
  seal: string;
}

/** The newest seal and its 1-based position in the trail (kept in Redis and on the Slack header). */
export interface SealHead extends StoredSeal {
  position: number;
}

/** A keyed event's seal, chained to the one before. */
export function sealEvent(key: string, previousSeal: string, eventId: string, hash: string): string {
  return createHmac('sha256', key).update(`${previousSeal}\n${eventId}\n${hash}`).digest('hex');
}

/** "<key id>:<seal>", as the seals hash stores it. */
export function encodeSeal(seal: StoredSeal): string {
  return `${seal.keyId}:${seal.seal}`;
}

export function decodeSeal(text: string | undefined | null): StoredSeal | undefined {
  const match = /^([A-Za-z0-9_-]{1,16}):([0-9a-f]{64})$/.exec(text ?? '');
  return match ? { keyId: match[1]!, seal: match[2]! } : undefined;
}

/** "<position>:<key id>:<seal>", as the release meta stores its newest seal. */
export function encodeSealHead(head: SealHead): string {
  return `${head.position}:${encodeSeal(head)}`;
}

export function decodeSealHead(text: string | undefined | null): SealHead | undefined {
  const match = /^(\d{1,9}):(.*)$/.exec(text ?? '');
  const seal = match ? decodeSeal(match[2]) : undefined;
  return match && seal ? { position: Number(match[1]), ...seal } : undefined;
}

/**
 * Seals `events` in order after `previous` (the newest seal so far, if any). `hash` is each event's
 * stored chain hash. Returns the seals and the new head.
 */
export function sealBatch(
  keys: AuditKeys,
  previous: { position: number; seal: string },
  events: readonly { id: string; hash: string }[],
): { seals: { eventId: string; seal: StoredSeal }[]; head: SealHead | undefined } {
  const key = keys.keys.get(keys.currentId);
  if (!key || events.length === 0) return { seals: [], head: undefined };
  let last = previous.seal;
  const seals = events.map((event) => {
    last = sealEvent(key, last, event.id, event.hash);
    return { eventId: event.id, seal: { keyId: keys.currentId, seal: last } };
  });
  return { seals, head: { position: previous.position + events.length, keyId: keys.currentId, seal: last } };
}

/** AUDIT_OLD_KEYS: "id:key,id:key", retired keys kept to verify what they sealed. */
export function parseOldAuditKeys(
  text: string,
  currentId: string,
): { ok: true; value: [string, string][] } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const value: [string, string][] = [];
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    const key = colon > 0 ? entry.slice(colon + 1) : '';
    // Entries are named by place, never by content: the content is a secret.
    if (!/^[A-Za-z0-9_-]{1,16}$/.test(id)) problems.push(`entry ${index + 1}: write id:key`);
    else if (Buffer.byteLength(key) < 32)
      problems.push(`entry ${index + 1} (${id}): key must be at least 32 bytes`);
    else if (id === currentId || value.some(([known]) => known === id))
      problems.push(`entry ${index + 1} (${id}): key id used twice (AUDIT_KEY_ID is ${currentId})`);
    else value.push([id, key]);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}

export type TrailBreak =
  /** The event's fields do not match its own hash. */
  | 'edited'
  /** The event does not follow the one before it in the hash chain. */
  | 'out_of_order'
  /** The event carries no hash. */
  | 'unchained'
  /** Events were removed from the end (the stream is shorter than a head or anchor says). */
  | 'truncated'
  /** The stream is empty although the Slack anchor says events were sealed. */
  | 'wiped'
  /** The event's keyed seal does not match: changed, replaced or moved after it was sealed. */
  | 'seal_mismatch'
  /** An event that must have been sealed has no seal. */
  | 'seal_missing'
  /** A seal names a key that is not configured. */
  | 'unknown_key'
  /** Sequence numbers skip: events were deleted here. */
  | 'sequence_gap'
  /** A sequence number repeats or goes back: events were moved or copied here. */
  | 'sequence_order'
  /** The newest seal kept in Redis disagrees with the trail or with the Slack anchor. */
  | 'head_mismatch'
  /** The Slack anchor's seal is not the seal at its position. */
  | 'anchor_mismatch'
  /** The first event is not the release's start. */
  | 'not_started'
  /** An ended release's trail lacks the event that ended it. */
  | 'not_ended';

/** Each problem in words, for `verify`, the deployment log and `shipcheck verify-log`. */
export const TRAIL_BREAK_WORDS: Record<TrailBreak, string> = {
  edited: 'its content was changed after it was written',
  out_of_order: 'it does not follow the event before it: an event was removed or moved here',
  unchained: 'it carries no hash, so it was not written by shipcheck',
  truncated: 'events were removed from the end',
  wiped: 'the trail was wiped: Slack holds the anchor of a sealed trail, Redis holds no events',
  seal_mismatch:
    'its keyed seal does not match: it was changed, replaced or moved after it was sealed (its hash chain may have been recomputed)',
  seal_missing: 'its keyed seal was removed',
  unknown_key: 'it is sealed under a key id that is not configured (list retired keys in AUDIT_OLD_KEYS)',
  sequence_gap: 'sequence numbers skip here: events before it were deleted',
  sequence_order: 'its sequence number repeats or goes back: events were moved or copied',
  head_mismatch:
    'the newest seal kept in Redis disagrees with the trail or with the anchor in Slack: it was replaced',
  anchor_mismatch:
    'the anchor on the release header in Slack names another seal for this event: the trail was replaced',
  not_started: 'the trail does not begin with the release being started',
  not_ended: 'the release has ended but its trail lacks the event that ended it',
};

export interface TrailProblem {
  problem: TrailBreak;
  /** 1-based, in stored order; one past the last event for something missing at the end. */
  position: number;
  entryId: string | undefined;
}

export interface TrailReport {
  events: number;
  /** First problem first; empty when the trail verifies. */
  problems: TrailProblem[];
  /** Whether seals were checked (a key is configured). */
  sealsChecked: boolean;
  /** Position of the newest sealed event. */
  sealedThrough: number;
  /** Events newer than the newest seal: the relay seals them within about a second. */
  notSealedYet: number;
  /** Events written before sequence numbers and seals existed. */
  legacy: number;
  /** The Slack anchor, when the header carries one. */
  anchor: { position: number } | undefined;
}

export interface TrailEvidence {
  entries: readonly StoredAuditEntry[];
  /** The SHA chain's head as the release meta keeps it. */
  chainHead: string | undefined;
  seals: ReadonlyMap<string, StoredSeal>;
  /** The newest seal as the release meta keeps it. */
  sealHead: SealHead | undefined;
  /** The newest seal as the release's Slack header carries it. */
  anchor: { position: number; seal: string } | undefined;
  status: ReleaseStatus;
  keys: AuditKeys | undefined;
  now: number;
}

/** An event with a sequence number this long unsealed is not waiting for the relay: its seal was removed. */
export const SEAL_OVERDUE_MS = 10 * 60_000;

const ENDING_EVENT: Partial<Record<ReleaseStatus, string>> = {
  completed: 'completed',
  cancelled: 'cancelled',
  rolled_back: 'rolled_back',
};

function fieldOf(entry: StoredAuditEntry, name: string): string | undefined {
  for (let index = 0; index + 1 < entry.fields.length; index += 2) {
    if (entry.fields[index] === name) return entry.fields[index + 1];
  }
  return undefined;
}

/** The chain hash recomputed from the event's content (never the stored one). */
function contentHash(entry: StoredAuditEntry): string | undefined {
  const { fields } = entry;
  const n = fields.length;
  if (n < 4 || fields[n - 4] !== 'prev' || fields[n - 2] !== 'hash') return undefined;
  return eventHash(fields[n - 3]!, fields.slice(0, n - 4));
}

function appendedAt(entryId: string): number {
  return Number(entryId.slice(0, entryId.indexOf('-')));
}

/**
 * Checks a trail against its hash chain, its keyed seals, the seal head in Redis and the anchor on
 * the Slack header, and the basic invariants (the start comes first, an ended release holds its
 * ending event, sequence numbers have no gaps). Pure: the clock comes in as `now`.
 */
export function verifyAuditTrail(evidence: TrailEvidence): TrailReport {
  const { entries, seals, keys } = evidence;
  const problems: TrailProblem[] = [];
  const add = (problem: TrailBreak, position: number) =>
    problems.push({ problem, position, entryId: entries[position - 1]?.id });

  const chain = verifyAuditChain(entries, evidence.chainHead);
  if (!chain.intact) add(chain.problem, chain.position);

  // Sequence numbers: events from before them carry none and are numbered by position.
  let legacy = 0;
  let expected = 1;
  for (const [index, entry] of entries.entries()) {
    const seq = fieldOf(entry, 'seq');
    if (seq === undefined) {
      if (expected === index + 1) legacy++;
      expected++;
      continue;
    }
    const number = Number(seq);
    if (number > expected) add('sequence_gap', index + 1);
    else if (number < expected) add('sequence_order', index + 1);
    expected = number + 1;
  }

  if (entries.length > 0 && fieldOf(entries[0]!, 'type') !== 'started') add('not_started', 1);
  const ending = ENDING_EVENT[evidence.status];
  if (ending && !entries.some((entry) => fieldOf(entry, 'type') === ending))
    add('not_ended', entries.length + 1);

  // Seals, in stream order, each over the seal of the event before it.
  let sealedThrough = 0;
  let firstUnsealed: number | undefined;
  let previousSeal = '';
  for (const [index, entry] of entries.entries()) {
    const position = index + 1;
    const stored = seals.get(entry.id);
    if (!stored) {
      firstUnsealed ??= position;
      continue;
    }
    // Unsealed events before this sealed one were skipped or had their seals removed; only events
    // from before seals existed (no sequence number, at the start) may lack one.
    if (firstUnsealed !== undefined) {
      const gap = entries.slice(firstUnsealed - 1, index);
      if (sealedThrough > 0 || gap.some((skipped) => fieldOf(skipped, 'seq') !== undefined))
        add('seal_missing', firstUnsealed);
      firstUnsealed = undefined;
    }
    if (keys) {
      const key = keys.keys.get(stored.keyId);
      const hash = contentHash(entry);
      if (!key) add('unknown_key', position);
      else if (hash === undefined || sealEvent(key, previousSeal, entry.id, hash) !== stored.seal)
        add('seal_mismatch', position);
    }
    previousSeal = stored.seal;
    sealedThrough = position;
  }
  const tail = entries.slice(sealedThrough);
  const overdue = tail.findIndex(
    (entry) => fieldOf(entry, 'seq') !== undefined && evidence.now - appendedAt(entry.id) > SEAL_OVERDUE_MS,
  );
  if (keys && overdue >= 0) add('seal_missing', sealedThrough + overdue + 1);

  const sealAt = (position: number) => {
    const entry = entries[position - 1];
    return entry ? seals.get(entry.id)?.seal : undefined;
  };
  const { sealHead, anchor } = evidence;
  if (sealHead) {
    if (sealHead.position > entries.length) add('truncated', entries.length + 1);
    else if (sealAt(sealHead.position) !== sealHead.seal) add('head_mismatch', sealHead.position);
  } else if (sealedThrough > 0) {
    add('head_mismatch', sealedThrough);
  }
  if (anchor) {
    if (anchor.position > entries.length)
      add(entries.length === 0 ? 'wiped' : 'truncated', entries.length + 1);
    else if (sealAt(anchor.position) !== anchor.seal) add('anchor_mismatch', anchor.position);
    // Redis's head may run ahead of the anchor (the header is updated after it), never behind it.
    if (!sealHead || sealHead.position < anchor.position) add('head_mismatch', anchor.position);
  }

  const seen = new Set<string>();
  const unique = problems
    .sort((a, b) => a.position - b.position)
    .filter(({ problem, position }) => {
      const key = `${problem}@${position}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  return {
    events: entries.length,
    problems: unique,
    sealsChecked: keys !== undefined,
    sealedThrough,
    notSealedYet: tail.filter((entry) => fieldOf(entry, 'seq') !== undefined).length,
    legacy,
    anchor: anchor ? { position: anchor.position } : undefined,
  };
}

/** The anchor's fields in the release header's Slack message metadata (next to its delivery key). */
export function anchorPayload(head: SealHead): Record<string, string | number> {
  return { audit_sealed: head.position, audit_seal: head.seal, audit_key_id: head.keyId };
}

/** The anchor a header's metadata carries, if any. */
export function readAnchorPayload(
  payload: Readonly<Record<string, unknown>> | undefined,
): { position: number; seal: string } | undefined {
  const position = Number(payload?.audit_sealed);
  const seal = payload?.audit_seal;
  if (!Number.isInteger(position) || position < 1 || typeof seal !== 'string') return undefined;
  return { position, seal };
}
