import { describe, expect, it } from 'vitest';
import { eventHash, type StoredAuditEntry } from '../../src/domain/audit-chain.js';
import {
  type AuditKeys,
  type SealHead,
  type StoredSeal,
  sealEvent,
  verifyAuditTrail,
} from '../../src/domain/audit-seal.js';
import {
  buildDeploymentLog,
  DEPLOYMENT_LOG_SCHEMA,
  type DeploymentLogJson,
} from '../../src/domain/deployment-log.js';
import { verifyDeploymentLog } from '../../src/domain/log-verification.js';
import { parseAuditEntry } from '../../src/store/release-codec.js';
import { complete, MINUTE, makeRelease, STARTER, T0, TICKER } from './factories.js';

// The evidence an exported deployment log carries, and `verify-log`'s offline check of it.

const KEYS: AuditKeys = { currentId: 'k2', keys: new Map([['k2', 'k'.repeat(40)]]) };
const GENERATED_AT = T0 + 90 * MINUTE;

/** A completed release's trail as the Lua scripts store it: fields with seq, then prev and hash; sealed. */
function storedTrail() {
  const release = complete(makeRelease({ id: 'r7', version: 'v3.1', env: 'production' }));
  const contents: string[][] = [
    ['type', 'started', 'user', STARTER, 'at', String(T0), 'from', 'none', 'to', 'active', 'version', 'v3.1'],
    [
      'type',
      'ticked',
      'user',
      TICKER,
      'at',
      String(T0 + MINUTE),
      'from',
      'open',
      'to',
      'done',
      'item',
      'backup',
    ],
    [
      'type',
      'ticked',
      'user',
      TICKER,
      'at',
      String(T0 + 2 * MINUTE),
      'from',
      'open',
      'to',
      'done',
      'item',
      'ship',
    ],
    [
      'type',
      'completed',
      'user',
      STARTER,
      'at',
      String(T0 + 60 * MINUTE),
      'from',
      'active',
      'to',
      'completed',
    ],
  ];
  const entries: StoredAuditEntry[] = [];
  const seals = new Map<string, StoredSeal>();
  let prev = '';
  let previousSeal = '';
  for (const [index, content] of contents.entries()) {
    const id = `${T0 + index * MINUTE}-0`;
    const fields = [...content, 'seq', String(index + 1)];
    const hash = eventHash(prev, fields);
    entries.push({ id, fields: [...fields, 'prev', prev, 'hash', hash] });
    previousSeal = sealEvent(KEYS.keys.get('k2')!, previousSeal, id, hash);
    seals.set(id, { keyId: 'k2', seal: previousSeal });
    prev = hash;
  }
  const sealHead: SealHead = { position: entries.length, keyId: 'k2', seal: previousSeal };
  return { release, entries, seals, sealHead, chainHead: prev };
}

function exportedLog(): DeploymentLogJson {
  const { release, entries, seals, sealHead, chainHead } = storedTrail();
  const anchor = { state: 'read' as const, position: sealHead.position, seal: sealHead.seal };
  const report = verifyAuditTrail({
    entries,
    chainHead,
    seals,
    sealHead,
    anchor,
    status: release.status,
    keys: KEYS,
    now: GENERATED_AT,
  });
  const events = entries.map((entry) => parseAuditEntry(entry.id, entry.fields));
  const log = buildDeploymentLog(release, events, GENERATED_AT, undefined, {
    entries,
    chainHead,
    seals,
    sealHead,
    anchor,
    report,
  });
  // What verify-log reads: the file as written.
  return JSON.parse(JSON.stringify(log.json)) as DeploymentLogJson;
}

function problemsOf(json: unknown, withKey = true) {
  const check = verifyDeploymentLog(json, withKey ? KEYS : undefined);
  if (!check.readable) throw new Error(check.why);
  return check.problems.map(({ problem, position, seq, type }) => ({ problem, position, seq, type }));
}

describe('the exported log as evidence', () => {
  it('carries each event with its sequence number, hashes, seal and stored fields, the result and the anchors', () => {
    const json = exportedLog();
    expect(json.schema).toBe(DEPLOYMENT_LOG_SCHEMA);
    expect(DEPLOYMENT_LOG_SCHEMA).toBe('shipcheck.deployment-log/2');
    const [first, second] = json.events;
    expect(first).toMatchObject({ type: 'started', seq: 1, prevHash: '', seal: { keyId: 'k2' } });
    expect(second!.prevHash).toBe(first!.hash);
    expect(second!.stored).toEqual([
      ...['type', 'ticked', 'user', TICKER, 'at', String(T0 + MINUTE), 'from', 'open', 'to', 'done'],
      ...['item', 'backup', 'seq', '2'],
    ]);
    expect(json.verification).toMatchObject({
      intact: true,
      events: 4,
      sealsChecked: true,
      sealedThrough: 4,
    });
    expect(json.anchors).toMatchObject({ sealHead: { position: 4, keyId: 'k2' }, slack: { position: 4 } });
  });

  it('states the result at the top of the Markdown, prominently when the trail is broken', () => {
    const { release, entries, seals, sealHead, chainHead } = storedTrail();
    const events = entries.map((entry) => parseAuditEntry(entry.id, entry.fields));
    const build = (kept: StoredAuditEntry[]) => {
      const report = verifyAuditTrail({
        entries: kept,
        chainHead,
        seals,
        sealHead,
        anchor: undefined,
        status: release.status,
        keys: KEYS,
        now: GENERATED_AT,
      });
      const anchor = { state: 'none' as const };
      return buildDeploymentLog(release, events, GENERATED_AT, undefined, {
        entries: kept,
        chainHead,
        seals,
        sealHead,
        anchor,
        report,
      }).markdown;
    };
    const good = build(entries).split('\n');
    expect(good[2]).toMatch(/^> ✅ \*\*Audit trail verified\*\*: 4 events, intact, sealed up to event 4\./);
    // Right below the result, in the same quote: how the reader checks the JSON file themselves.
    expect(good.slice(3, 5)).toEqual([
      '>',
      '> Check it offline: `npx shipcheck verify-log <file.json>` on the JSON file of this log; with `AUDIT_KEY` set it checks the keyed seals too.',
    ]);

    const broken = build([entries[0]!, entries[2]!, entries[3]!]);
    const top = broken.slice(0, broken.indexOf('| Field |'));
    expect(top).toContain('> ## ⚠️ The audit trail does NOT verify');
    expect(top).toMatch(/Event 2 \(seq 3, ticked, id \S+\)\*\*: sequence numbers skip here/);
    expect(top).toContain('> Check it offline: `npx shipcheck verify-log <file.json>`');
  });
});

describe('verifying an exported log offline', () => {
  it('finds nothing wrong in an untouched log, with or without the key', () => {
    expect(problemsOf(exportedLog())).toEqual([]);
    const withoutKey = verifyDeploymentLog(exportedLog(), undefined);
    expect(withoutKey).toMatchObject({ readable: true, problems: [], report: { sealsChecked: false } });
  });

  it('names the event whose stored fields changed by one byte', () => {
    const json = exportedLog();
    const stored = json.events[2]!.stored!;
    stored[stored.indexOf('ship')] = 'shiq';
    expect(problemsOf(json)).toContainEqual({ problem: 'edited', position: 3, seq: 3, type: 'ticked' });
  });

  it('names an event whose readable fields no longer match what its hash covers', () => {
    const json = exportedLog();
    json.events[1]!.user = 'U0MALLORY';
    expect(problemsOf(json)).toEqual([{ problem: 'readable_mismatch', position: 2, seq: 2, type: 'ticked' }]);
  });

  it('with the key, catches a chain recomputed after an edit; without it, it cannot', () => {
    const json = exportedLog();
    const edited = json.events[1]!;
    edited.stored![edited.stored!.indexOf('backup')] = 'backuq';
    edited.itemId = 'backuq';
    // Recompute the unkeyed chain from the edit on, as anyone with the published rule can.
    let prev = json.events[0]!.hash!;
    for (const event of json.events.slice(1)) {
      event.prevHash = prev;
      event.hash = eventHash(prev, event.stored!);
      prev = event.hash;
    }
    json.anchors!.chainHead = prev;
    expect(problemsOf(json, false)).toEqual([]);
    expect(problemsOf(json)).toContainEqual({
      problem: 'seal_mismatch',
      position: 2,
      seq: 2,
      type: 'ticked',
    });
  });

  it('names an event removed from the middle', () => {
    const json = exportedLog();
    json.events.splice(1, 1);
    const problems = problemsOf(json, false);
    expect(problems).toContainEqual({ problem: 'out_of_order', position: 2, seq: 3, type: 'ticked' });
    expect(problems).toContainEqual({ problem: 'sequence_gap', position: 2, seq: 3, type: 'ticked' });
  });

  it('names events that were reordered', () => {
    const json = exportedLog();
    json.events.splice(1, 2, json.events[2]!, json.events[1]!);
    expect(problemsOf(json)).toContainEqual({
      problem: 'sequence_order',
      position: 3,
      seq: 2,
      type: 'ticked',
    });
    expect(problemsOf(json)).toContainEqual({ problem: 'out_of_order', position: 2, seq: 3, type: 'ticked' });
  });

  it('notices the ending event removed, and the trail cut short of its anchors', () => {
    const json = exportedLog();
    json.events.pop();
    const problems = problemsOf(json).map(({ problem }) => problem);
    expect(problems).toEqual(expect.arrayContaining(['not_ended', 'truncated']));
  });

  it('says what is unreadable instead of guessing', () => {
    expect(verifyDeploymentLog([], KEYS)).toMatchObject({ readable: false });
    expect(
      verifyDeploymentLog({ ...exportedLog(), schema: 'shipcheck.deployment-log/1' }, KEYS),
    ).toMatchObject({
      readable: false,
      why: expect.stringContaining('no hashes'),
    });
  });
});
