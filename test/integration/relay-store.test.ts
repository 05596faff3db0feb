import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Template } from '../../src/domain/template.js';
import { RelayStore } from '../../src/store/relay-store.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

// The relay's bookkeeping against real Redis: every script that appends an audit event marks the
// release unrelayed in the same step; the relay takes a lease, reads past its cursor, and lets the
// release go only when nothing newer came in.

const TEAM = 'T0RELAY';
const LEASE_MS = 5000;
const template: Template = {
  id: 'two',
  name: 'Two phases',
  phases: [
    { id: 'a', name: 'A', items: [{ id: 'a1', text: 'A one', required: true }] },
    { id: 'b', name: 'B', items: [{ id: 'b1', text: 'B one', required: true }] },
  ],
};

let redis: Redis;
let prefix: string;
let releases: ReleaseStore;
let relay: RelayStore;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});
beforeEach(() => {
  prefix = createTestPrefix('relay');
  releases = new ReleaseStore(redis, prefix);
  relay = new RelayStore(redis, releases.keys);
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

async function start(version = 'v1.0'): Promise<string> {
  const result = await releases.startRelease({
    teamId: TEAM,
    channelId: 'C0DEPLOY',
    version,
    env: 'staging',
    template,
    userId: 'U0LEAD',
    requestId: `start-${version}`,
  });
  return result.releaseId;
}

const tick = (releaseId: string, itemId: string) =>
  releases.setItem({
    teamId: TEAM,
    releaseId,
    itemId,
    done: true,
    userId: 'U0ALICE',
    requestId: `${itemId}-${Math.random()}`,
  });

describe('the unrelayed mark', () => {
  it('is written by the script that commits, with the oldest unrelayed event’s time', async () => {
    const releaseId = await start();
    const [pending] = await relay.unrelayed(TEAM, 10);
    const [started] = await releases.readAudit(TEAM, releaseId);
    expect(pending).toEqual({ releaseId, since: Number(started!.id.split('-')[0]) });
    // A later event keeps the first time: the relay starts there.
    await tick(releaseId, 'a1');
    expect((await relay.unrelayed(TEAM, 10))[0]).toEqual(pending);
  });
});

describe('relaying one release', () => {
  it('reads every event past the cursor, then lets the release go', async () => {
    const releaseId = await start();
    await tick(releaseId, 'a1');
    const batch = await relay.begin(TEAM, releaseId, 'me', LEASE_MS, 100);
    expect(batch?.events.map((event) => event.type)).toEqual(['started', 'ticked']);
    expect(await relay.advance(TEAM, releaseId, batch!.events.at(-1)!.id, 'me')).toBe(false);
    expect(await relay.unrelayed(TEAM, 10)).toEqual([]);
    // The lease went with it, and the next change is read from the cursor on.
    await tick(releaseId, 'b1');
    const next = await relay.begin(TEAM, releaseId, 'someone-else', LEASE_MS, 100);
    expect(next?.events.map((event) => [event.type, event.itemId])).toEqual([
      ['ticked', 'b1'],
      ['completed', undefined],
    ]);
  });

  it('keeps the release marked when an event came in after the batch was read', async () => {
    const releaseId = await start();
    const batch = await relay.begin(TEAM, releaseId, 'me', LEASE_MS, 100);
    await tick(releaseId, 'a1');
    expect(await relay.advance(TEAM, releaseId, batch!.events.at(-1)!.id, 'me')).toBe(true);
    expect((await relay.unrelayed(TEAM, 10)).map((pending) => pending.releaseId)).toEqual([releaseId]);
    // Still the holder's: it reads on without anyone else getting in between.
    expect(await relay.begin(TEAM, releaseId, 'someone-else', LEASE_MS, 100)).toBeUndefined();
    const rest = await relay.begin(TEAM, releaseId, 'me', LEASE_MS, 100);
    expect(rest?.events.map((event) => event.type)).toEqual(['ticked']);
  });

  it('gives nothing to a second relay while the first holds the release', async () => {
    const releaseId = await start();
    expect(await relay.begin(TEAM, releaseId, 'first', LEASE_MS, 100)).toBeDefined();
    expect(await relay.begin(TEAM, releaseId, 'second', LEASE_MS, 100)).toBeUndefined();
    await relay.dropLease(TEAM, releaseId, 'first');
    expect(await relay.begin(TEAM, releaseId, 'second', LEASE_MS, 100)).toBeDefined();
  });

  it('never moves the cursor back for a relay that lost its lease to a faster one', async () => {
    const releaseId = await start();
    await tick(releaseId, 'a1');
    const events = (await relay.begin(TEAM, releaseId, 'slow', LEASE_MS, 100))!.events;
    // The slow relay's lease lapsed; a faster one relayed everything.
    await relay.dropLease(TEAM, releaseId, 'slow');
    const fast = (await relay.begin(TEAM, releaseId, 'fast', LEASE_MS, 100))!.events;
    await relay.advance(TEAM, releaseId, fast.at(-1)!.id, 'fast');
    await relay.advance(TEAM, releaseId, events[0]!.id, 'slow');
    expect(await redis.hget(releases.keys.releaseMeta(TEAM, releaseId), 'relayed')).toBe(fast.at(-1)!.id);
    expect(await relay.unrelayed(TEAM, 10)).toEqual([]);
  });

  it('reads a long record in batches', async () => {
    const releaseId = await start();
    await tick(releaseId, 'a1');
    await tick(releaseId, 'b1');
    const first = await relay.begin(TEAM, releaseId, 'me', LEASE_MS, 2);
    expect(first).toMatchObject({ complete: false });
    expect(await relay.advance(TEAM, releaseId, first!.events.at(-1)!.id, 'me')).toBe(true);
    const second = await relay.begin(TEAM, releaseId, 'me', LEASE_MS, 2);
    expect(second?.events.map((event) => event.type)).toEqual(['ticked', 'completed']);
  });

  it('lets a release removed by retention go', async () => {
    const releaseId = await start();
    await releases.retention.removeRelease(TEAM, releaseId, 'v1.0');
    const batch = await relay.begin(TEAM, releaseId, 'me', LEASE_MS, 100);
    expect(batch?.events).toEqual([]);
    expect(await relay.advance(TEAM, releaseId, undefined, 'me')).toBe(false);
    expect(await relay.unrelayed(TEAM, 10)).toEqual([]);
  });
});

describe('releases whose messages may not show their committed state', () => {
  it('stay unsynced until a sync that started after the last ask succeeds', async () => {
    const releaseId = await start();
    const batch = await relay.begin(TEAM, releaseId, 'me', LEASE_MS, 100);
    const askedAt = Date.now();
    await relay.advance(TEAM, releaseId, batch!.events.at(-1)!.id, 'me', askedAt);
    expect(await relay.unsyncedSince(TEAM, askedAt, 10)).toEqual([releaseId]);
    // A sync that started before the ask cannot have shown what the ask was for.
    await releases.messages.markShown(TEAM, releaseId, askedAt - 1);
    expect(await relay.unsyncedSince(TEAM, askedAt, 10)).toEqual([releaseId]);
    await releases.messages.markShown(TEAM, releaseId, askedAt + 1);
    expect(await relay.unsyncedSince(TEAM, Date.now(), 10)).toEqual([]);
  });

  it('are asked for again only once per round', async () => {
    const releaseId = await start();
    const batch = await relay.begin(TEAM, releaseId, 'me', LEASE_MS, 100);
    await relay.advance(TEAM, releaseId, batch!.events.at(-1)!.id, 'me', 1000);
    expect(await relay.unsyncedSince(TEAM, 30_000, 10)).toEqual([releaseId]);
    await relay.noteSyncAsked(TEAM, releaseId, 60_000);
    expect(await relay.unsyncedSince(TEAM, 30_000, 10)).toEqual([]);
    // An older ask never moves the release back into an earlier round.
    await relay.noteSyncAsked(TEAM, releaseId, 2000);
    expect(await relay.unsyncedSince(TEAM, 30_000, 10)).toEqual([]);
  });
});
