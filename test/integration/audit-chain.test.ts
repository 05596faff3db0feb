import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/domain/audit-chain.js';
import type { Template } from '../../src/domain/template.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

// The scripts' hash chain against the TypeScript check: every script's events verify, and a trail
// rewritten in Redis (an event edited, removed or moved) is caught where it breaks.

const TEAM = 'T0CHAIN';
const template: Template = {
  id: 'tiny',
  name: 'Tiny',
  phases: [
    {
      id: 'one',
      name: 'One',
      items: [
        { id: 'a', text: 'A', required: true },
        { id: 'b', text: 'B', required: true },
      ],
    },
    { id: 'two', name: 'Two', deployment: true, items: [{ id: 'c', text: 'C', required: true }] },
  ],
  rollback: { criteria: ['It broke'], items: [{ id: 'r', text: 'Reverted', required: true }] },
};

let redis: Redis;
let prefix: string;
let store: ReleaseStore;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

/** A release whose trail has events from many scripts, reasons with characters outside ASCII included. */
async function busyRelease(): Promise<string> {
  prefix = createTestPrefix('chain');
  store = new ReleaseStore(redis, prefix);
  const { releaseId } = await store.startRelease({
    teamId: TEAM,
    channelId: 'C0DEPLOY',
    version: 'v1.0',
    env: 'staging',
    template,
    userId: 'U0LEAD',
    checkinPlanMs: [60_000],
    requestId: 'start',
  });
  const tick = (itemId: string, done = true, n = 0) =>
    store.setItem({
      teamId: TEAM,
      releaseId,
      itemId,
      done,
      userId: 'U0BOB',
      requestId: `${itemId}-${done}-${n}`,
    });
  await tick('a');
  await tick('a', false, 1);
  await tick('a', true, 2);
  await store.overrideGate({
    teamId: TEAM,
    releaseId,
    phaseIndex: 1,
    userId: 'U0LEAD',
    reason: 'Zoë’s ✓ fix < 5 €',
    requestId: 'o',
  });
  await store.assignOwners({
    teamId: TEAM,
    releaseId,
    userId: 'U0LEAD',
    owners: [{ itemId: 'b', ownerId: 'U0ANN' }],
    requestId: 'own',
  });
  await store.appendAudit(TEAM, releaseId, {
    type: 'refused',
    user: 'U0EVE',
    action: 'tick',
    reason: 'role:qa',
    item: 'b',
  });
  await tick('c');
  await store.startRollback({
    teamId: TEAM,
    releaseId,
    userId: 'U0LEAD',
    reason: 'It broke',
    requestId: 'rb',
  });
  await tick('r');
  return releaseId;
}

/** Rewrites the trail as someone with Redis access could: same ids, changed entries. */
async function rewrite(releaseId: string, change: (entries: [string, string[]][]) => [string, string[]][]) {
  const key = store.keys.releaseAudit(TEAM, releaseId);
  const entries = change(await redis.xrange(key, '-', '+'));
  await redis.del(key);
  for (const [id, fields] of entries) await redis.xadd(key, id, ...fields);
}

async function verdict(releaseId: string) {
  const { entries, head } = await store.readAuditChain(TEAM, releaseId);
  return verifyAuditChain(entries, head);
}

describe('the audit hash chain', () => {
  it('verifies a trail written by every kind of script', async () => {
    const releaseId = await busyRelease();
    const types = (await store.readAudit(TEAM, releaseId)).map((event) => event.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'started',
        'ticked',
        'unticked',
        'gate_overridden',
        'assigned',
        'refused',
        'locked',
        'deployed',
        'rollback_started',
        'rolled_back',
      ]),
    );
    expect(await verdict(releaseId)).toEqual({ intact: true, events: types.length });
  });

  it('catches an edited event, and points at it', async () => {
    const releaseId = await busyRelease();
    await rewrite(releaseId, (entries) =>
      entries.map(([id, fields], index) => [
        id,
        index === 4 ? fields.map((value) => (value === 'U0LEAD' ? 'U0MALLORY' : value)) : fields,
      ]),
    );
    expect(await verdict(releaseId)).toMatchObject({ intact: false, position: 5, problem: 'edited' });
  });

  it('catches a deleted event and a reordered one', async () => {
    const deleted = await busyRelease();
    await rewrite(deleted, (entries) => entries.filter((_entry, index) => index !== 2));
    expect(await verdict(deleted)).toMatchObject({ intact: false, position: 3, problem: 'out_of_order' });
    await deleteKeysWithPrefix(prefix);

    const reordered = await busyRelease();
    // Keep the ids in order (a stream demands it) but swap what two entries say.
    await rewrite(reordered, (entries) => {
      const swapped = entries.map(([id, fields]) => [id, [...fields]] as [string, string[]]);
      [swapped[3]![1], swapped[4]![1]] = [swapped[4]![1], swapped[3]![1]];
      return swapped;
    });
    expect(await verdict(reordered)).toMatchObject({ intact: false, position: 4, problem: 'out_of_order' });
  });

  it('catches events removed from the end', async () => {
    const releaseId = await busyRelease();
    await rewrite(releaseId, (entries) => entries.slice(0, -2));
    expect(await verdict(releaseId)).toMatchObject({ intact: false, problem: 'truncated' });
  });
});
