import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/domain/audit-chain.js';
import type { Template } from '../../src/domain/template.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

// Values observed at check-ins for the template's success criteria, against the real Lua script: each
// change with its audit event in one step, a later value replacing an earlier one on the record.

const TEAM = 'T0001';

const template: Template = {
  id: 'measured',
  name: 'Measured',
  phases: [
    {
      id: 'deploy',
      name: 'Deploy',
      deployment: true,
      items: [{ id: 'd1', text: 'Deployed', required: true }],
    },
    { id: 'after', name: 'After', items: [{ id: 'a1', text: 'Signed off', required: true }] },
  ],
  success: [
    { id: 'error-rate', name: 'Error rate', direction: 'below', threshold: 1, unit: '%' },
    { id: 'satisfaction', name: 'Satisfaction', direction: 'above', threshold: 8, unit: '/10' },
  ],
};

let redis: Redis;
let store: ReleaseStore;
let prefix: string;
let counter = 0;
const nextRequest = (label: string) => `${label}-${++counter}`;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});
beforeEach(() => {
  prefix = createTestPrefix('observations');
  store = new ReleaseStore(redis, prefix);
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

/** A deployed release with two planned check-ins, the first one posted. */
async function deployedRelease(): Promise<string> {
  const started = await store.startRelease({
    teamId: TEAM,
    channelId: 'C0DEPLOY',
    version: 'v1.0',
    env: 'production',
    template,
    userId: 'U0ALICE',
    checkinPlanMs: [60_000, 120_000],
    requestId: nextRequest('start'),
  });
  const releaseId = started.releaseId;
  const tick = await store.setItem({
    teamId: TEAM,
    releaseId,
    itemId: 'd1',
    done: true,
    userId: 'U0ALICE',
    requestId: nextRequest('click'),
  });
  expect(tick).toMatchObject({ kind: 'applied', deployed: true });
  await store.deliveries.commit({
    teamId: TEAM,
    releaseId,
    deliveryKey: `checkin-${releaseId}-k0`,
    ts: '1700000000.000100',
    record: { hash: 'meta', field: 'checkin:0', patch: { postedAt: Date.now(), ts: '1700000000.000100' } },
    audit: [{ type: 'checkin_posted', user: 'shipcheck', from: 'planned', to: 'posted', checkin: 0 }],
  });
  return releaseId;
}

function record(
  releaseId: string,
  values: { criterionId: string; value?: number }[],
  options: { checkinIndex?: number; userId?: string; requestId?: string } = {},
) {
  return store.recordObservations({
    teamId: TEAM,
    releaseId,
    checkinIndex: options.checkinIndex ?? 0,
    userId: options.userId ?? 'U0BOB',
    values,
    requestId: options.requestId ?? nextRequest('observe'),
  });
}

async function recordings(releaseId: string) {
  return (await store.readAudit(TEAM, releaseId))
    .filter((event) => event.type === 'criterion_recorded')
    .map(({ user, checkinIndex, criterionId, from, to }) => ({ user, checkinIndex, criterionId, from, to }));
}

describe('recording observed values at a check-in', () => {
  it('commits each value with its audit event, and reads them back on the check-in', async () => {
    const releaseId = await deployedRelease();
    const before = await store.getRelease(TEAM, releaseId);
    const result = await record(releaseId, [
      { criterionId: 'error-rate', value: 0.4 },
      { criterionId: 'satisfaction', value: 7.5 },
    ]);
    expect(result).toEqual({ kind: 'applied', rev: before!.rev + 1, completed: false, changed: 2 });

    const release = await store.getRelease(TEAM, releaseId);
    const observed = release!.checkins[0]!.observed!;
    expect(observed).toEqual({
      'error-rate': { value: 0.4, by: 'U0BOB', at: expect.any(Number) },
      satisfaction: { value: 7.5, by: 'U0BOB', at: expect.any(Number) },
    });
    expect(release!.checkins[1]!.observed).toBeUndefined();
    expect(await recordings(releaseId)).toEqual([
      { user: 'U0BOB', checkinIndex: 0, criterionId: 'error-rate', from: 'none', to: '0.4' },
      { user: 'U0BOB', checkinIndex: 0, criterionId: 'satisfaction', from: 'none', to: '7.5' },
    ]);
    // Recorded events are timed by the script, like the value itself.
    const events = await store.readAudit(TEAM, releaseId);
    expect(events.at(-1)!.at).toBe(observed.satisfaction!.at);
    const chain = await store.readAuditChain(TEAM, releaseId);
    expect(verifyAuditChain(chain.entries, chain.head)).toMatchObject({ intact: true });
  });

  it('replaces an earlier value on the record, skips unchanged ones, and clears a value left out', async () => {
    const releaseId = await deployedRelease();
    await record(releaseId, [
      { criterionId: 'error-rate', value: 0.4 },
      { criterionId: 'satisfaction', value: 9 },
    ]);
    const replaced = await record(
      releaseId,
      [
        { criterionId: 'error-rate', value: 1.2 },
        { criterionId: 'satisfaction', value: 9 },
      ],
      { userId: 'U0CAROL' },
    );
    expect(replaced).toMatchObject({ kind: 'applied', changed: 1 });
    let release = await store.getRelease(TEAM, releaseId);
    expect(release!.checkins[0]!.observed).toMatchObject({
      'error-rate': { value: 1.2, by: 'U0CAROL' },
      satisfaction: { value: 9, by: 'U0BOB' },
    });

    expect(await record(releaseId, [{ criterionId: 'error-rate', value: 1.2 }])).toEqual({
      kind: 'unchanged',
    });

    expect(
      await record(releaseId, [{ criterionId: 'satisfaction' }, { criterionId: 'error-rate' }]),
    ).toMatchObject({
      kind: 'applied',
      changed: 2,
    });
    release = await store.getRelease(TEAM, releaseId);
    // A check-in left with no values looks like one from before values existed.
    expect(release!.checkins[0]!.observed).toBeUndefined();
    expect((await recordings(releaseId)).slice(2)).toEqual([
      { user: 'U0CAROL', checkinIndex: 0, criterionId: 'error-rate', from: '0.4', to: '1.2' },
      { user: 'U0BOB', checkinIndex: 0, criterionId: 'satisfaction', from: '9', to: 'none' },
      { user: 'U0BOB', checkinIndex: 0, criterionId: 'error-rate', from: '1.2', to: 'none' },
    ]);
    expect(await record(releaseId, [{ criterionId: 'error-rate' }])).toEqual({ kind: 'unchanged' });
  });

  it('applies a retried request once', async () => {
    const releaseId = await deployedRelease();
    const values = [{ criterionId: 'error-rate', value: 0.4 }];
    expect(await record(releaseId, values, { requestId: 'view-1' })).toMatchObject({ kind: 'applied' });
    expect(
      await record(releaseId, [{ criterionId: 'error-rate', value: 3 }], { requestId: 'view-1' }),
    ).toEqual({
      kind: 'replayed',
    });
    expect(await recordings(releaseId)).toHaveLength(1);
  });

  it('refuses a check-in not posted yet, and a release that is no longer active', async () => {
    const releaseId = await deployedRelease();
    expect(await record(releaseId, [{ criterionId: 'error-rate', value: 1 }], { checkinIndex: 1 })).toEqual({
      kind: 'unknown_checkin',
    });
    expect(await record(releaseId, [{ criterionId: 'error-rate', value: 1 }], { checkinIndex: 7 })).toEqual({
      kind: 'unknown_checkin',
    });
    await store.cancelRelease({
      teamId: TEAM,
      releaseId,
      userId: 'U0ALICE',
      reason: 'changed our minds',
      requestId: nextRequest('cancel'),
    });
    expect(await record(releaseId, [{ criterionId: 'error-rate', value: 1 }])).toEqual({
      kind: 'closed',
      status: 'cancelled',
    });
    expect(await recordings(releaseId)).toEqual([]);
  });

  it('keeps the values when the check-in is escalated and answered afterwards', async () => {
    const releaseId = await deployedRelease();
    await record(releaseId, [{ criterionId: 'error-rate', value: 0.4 }]);
    await store.deliveries.commit({
      teamId: TEAM,
      releaseId,
      deliveryKey: `checkin-${releaseId}-k0-escalate`,
      ts: '1700000000.000200',
      record: { hash: 'meta', field: 'checkin:0', patch: { escalatedAt: Date.now(), escalationTs: '1.2' } },
    });
    const answered = await store.answerCheckin({
      teamId: TEAM,
      releaseId,
      checkinIndex: 0,
      answer: 'healthy',
      userId: 'U0CAROL',
      requestId: nextRequest('answer'),
    });
    expect(answered).toMatchObject({ kind: 'applied' });
    const release = await store.getRelease(TEAM, releaseId);
    expect(release!.checkins[0]).toMatchObject({
      answer: { kind: 'healthy', by: 'U0CAROL' },
      escalationTs: '1.2',
      observed: { 'error-rate': { value: 0.4, by: 'U0BOB' } },
    });
  });
});
