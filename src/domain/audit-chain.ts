import { createHash } from 'node:crypto';

// Checks a release's audit trail against its hash chain. Each stored event ends with the hash of the
// event before it ("prev") and a hash over its own fields and that ("hash"), written by the Lua
// scripts (src/store/lua/includes/release.lua, appendAudit) with the same rule as `eventHash` below;
// the release keeps the latest hash. An edited event no longer matches its hash, a deleted or moved
// one breaks the next event's "prev", and a removed tail no longer reaches the kept head.

/** One stored entry: its stream id and its fields as stored, in order. */
export interface StoredAuditEntry {
  id: string;
  fields: string[];
}

export type ChainBreak =
  /** The event's fields do not match its hash: it was changed after it was written. */
  | 'edited'
  /** The event does not follow the one before it: an event was removed or moved here. */
  | 'out_of_order'
  /** The event carries no hash: it was not written by shipcheck's scripts. */
  | 'unchained'
  /** The last event is not the one the release last wrote: events were removed from the end. */
  | 'truncated';

export type ChainVerdict =
  | { intact: true; events: number }
  | { intact: false; events: number; position: number; entryId: string | undefined; problem: ChainBreak };

/** The hash the scripts store for an event: over the previous hash and each field, length-prefixed. */
export function eventHash(prev: string, fields: readonly string[]): string {
  const parts: string[] = [];
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const name = fields[index]!;
    const value = fields[index + 1]!;
    parts.push(`${Buffer.byteLength(name)}:${name}=${Buffer.byteLength(value)}:${value}`);
  }
  return createHash('sha1')
    .update(`${prev}\n${parts.join('\n')}`)
    .digest('hex');
}

/**
 * Walks the chain from the first event. `position` in a break is 1-based, in stored order; for a
 * truncated trail it is one past the last event.
 */
export function verifyAuditChain(
  entries: readonly StoredAuditEntry[],
  head: string | undefined,
): ChainVerdict {
  let prev = '';
  for (const [index, entry] of entries.entries()) {
    const position = index + 1;
    const broken = (problem: ChainBreak): ChainVerdict => ({
      intact: false,
      events: entries.length,
      position,
      entryId: entry.id,
      problem,
    });
    const { fields } = entry;
    const n = fields.length;
    if (n < 4 || fields[n - 4] !== 'prev' || fields[n - 2] !== 'hash') return broken('unchained');
    const storedPrev = fields[n - 3]!;
    const storedHash = fields[n - 1]!;
    if (storedPrev !== prev) return broken('out_of_order');
    if (eventHash(storedPrev, fields.slice(0, n - 4)) !== storedHash) return broken('edited');
    prev = storedHash;
  }
  if ((head ?? '') !== prev) {
    return {
      intact: false,
      events: entries.length,
      position: entries.length + 1,
      entryId: undefined,
      problem: 'truncated',
    };
  }
  return { intact: true, events: entries.length };
}
