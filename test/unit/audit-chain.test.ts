import { describe, expect, it } from 'vitest';
import { eventHash, type StoredAuditEntry, verifyAuditChain } from '../../src/domain/audit-chain.js';

// The chain as the scripts write it, built here with the same rule.
function chain(events: string[][]): { entries: StoredAuditEntry[]; head: string } {
  let prev = '';
  const entries = events.map((fields, index) => {
    const hash = eventHash(prev, fields);
    const entry = { id: `${1000 + index}-0`, fields: [...fields, 'prev', prev, 'hash', hash] };
    prev = hash;
    return entry;
  });
  return { entries, head: prev };
}

const EVENTS = [
  ['type', 'started', 'user', 'U0LEAD', 'at', '1700000000000'],
  ['type', 'ticked', 'user', 'U0BOB', 'at', '1700000001000', 'item', 'backup'],
  ['type', 'gate_overridden', 'user', 'U0LEAD', 'at', '1700000002000', 'reason', 'Zoë’s ✓ fix: 5 € < 10 €'],
  ['type', 'cancelled', 'user', 'U0LEAD', 'at', '1700000003000', 'reason', 'done'],
];

describe('verifyAuditChain', () => {
  it('given an untouched trail, then it is intact', () => {
    const { entries, head } = chain(EVENTS);
    expect(verifyAuditChain(entries, head)).toEqual({ intact: true, events: 4 });
    expect(verifyAuditChain([], undefined)).toEqual({ intact: true, events: 0 });
  });

  it('given an event whose content was changed, then it points at that event', () => {
    const { entries, head } = chain(EVENTS);
    entries[2]!.fields[7] = 'no reason at all';
    expect(verifyAuditChain(entries, head)).toMatchObject({
      intact: false,
      position: 3,
      entryId: '1002-0',
      problem: 'edited',
    });
  });

  it('given a deleted event, then it points at the event after the gap', () => {
    const { entries, head } = chain(EVENTS);
    entries.splice(1, 1);
    expect(verifyAuditChain(entries, head)).toMatchObject({
      intact: false,
      position: 2,
      entryId: '1002-0',
      problem: 'out_of_order',
    });
  });

  it('given two events swapped, then it points at the first one out of place', () => {
    const { entries, head } = chain(EVENTS);
    [entries[1], entries[2]] = [entries[2]!, entries[1]!];
    expect(verifyAuditChain(entries, head)).toMatchObject({
      intact: false,
      position: 2,
      problem: 'out_of_order',
    });
  });

  it('given the last events removed, then it says the trail was cut', () => {
    const { entries, head } = chain(EVENTS);
    expect(verifyAuditChain(entries.slice(0, 3), head)).toMatchObject({
      intact: false,
      position: 4,
      problem: 'truncated',
    });
  });

  it('given an event with its hash recomputed after an edit, then the next one breaks', () => {
    const { entries, head } = chain(EVENTS);
    const edited = [...EVENTS[1]!.slice(0, 5), '1700000009999', 'item', 'backup'];
    entries[1] = {
      id: '1001-0',
      fields: [
        ...edited,
        'prev',
        entries[0]!.fields.at(-1)!,
        'hash',
        eventHash(entries[0]!.fields.at(-1)!, edited),
      ],
    };
    expect(verifyAuditChain(entries, head)).toMatchObject({
      intact: false,
      position: 3,
      problem: 'out_of_order',
    });
  });

  it('given an event without a hash, then it is not chained', () => {
    const { entries, head } = chain(EVENTS);
    entries[0] = { id: '1000-0', fields: EVENTS[0]! };
    expect(verifyAuditChain(entries, head)).toMatchObject({
      intact: false,
      position: 1,
      problem: 'unchained',
    });
  });
});
