import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findBlockingPhase, isReleaseDone, type Release } from '../../src/domain/release.js';
import type { Template } from '../../src/domain/template.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

const TEAM = 'T0001';

const template: Template = {
  id: 'three',
  name: 'Three phases',
  phases: [
    {
      id: 'plan',
      name: 'Plan',
      items: [
        { id: 'p1', text: 'Plan one', required: true },
        { id: 'p2', text: 'Plan two', required: true },
        { id: 'p3', text: 'Plan extra', required: false },
      ],
    },
    { id: 'test', name: 'Test', items: [{ id: 't1', text: 'Test one', required: true }] },
    {
      id: 'ship',
      name: 'Ship',
      items: [
        { id: 's1', text: 'Ship one', required: true },
        { id: 's2', text: 'Ship two', required: true },
      ],
    },
  ],
};

let redis: Redis;
let store: ReleaseStore;
let prefix: string;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

function freshStore(): ReleaseStore {
  prefix = createTestPrefix('store');
  store = new ReleaseStore(redis, prefix);
  return store;
}

async function start(version = 'v2.3', env = 'production', requestId = `trigger-${Math.random()}`) {
  const result = await store.startRelease({
    teamId: TEAM,
    channelId: 'C0DEPLOY',
    version,
    env,
    template,
    userId: 'U0ALICE',
    requestId,
  });
  return result;
}

let clickCounter = 0;
function setItem(releaseId: string, itemId: string, done: boolean, userId = 'U0BOB', requestId?: string) {
  return store.setItem({
    teamId: TEAM,
    releaseId,
    itemId,
    done,
    userId,
    requestId: requestId ?? `click-${++clickCounter}`,
  });
}

describe('starting a release', () => {
  it('creates the release, its audit start event and its active entry together', async () => {
    freshStore();
    const result = await start();
    expect(result.kind).toBe('created');
    const release = (await store.getRelease(TEAM, result.releaseId))!;
    expect(release).toMatchObject({
      version: 'v2.3',
      env: 'production',
      status: 'active',
      startedBy: 'U0ALICE',
      rev: 1,
    });
    expect(release.template).toEqual(template);
    const audit = await store.readAudit(TEAM, result.releaseId);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      type: 'started',
      user: 'U0ALICE',
      from: 'none',
      to: 'active',
      version: 'v2.3',
    });
    expect((await store.listActive(TEAM)).map((r) => r.id)).toEqual([result.releaseId]);
  });

  it('refuses a second active release of the same version and environment, but not another environment', async () => {
    freshStore();
    const first = await start('v2.3', 'production');
    const duplicate = await start('v2.3', 'production');
    expect(duplicate).toEqual({ kind: 'exists', releaseId: first.releaseId });
    expect((await start('v2.3', 'staging')).kind).toBe('created');
    expect(await store.getRelease(TEAM, 'r2')).toBeUndefined();
  });

  it('treats a retried request as the same start, not a duplicate', async () => {
    freshStore();
    const first = await start('v2.3', 'production', 'trigger-1');
    const retry = await start('v2.3', 'production', 'trigger-1');
    expect(retry).toEqual({ kind: 'replayed', releaseId: first.releaseId });
    expect(await store.listActive(TEAM)).toHaveLength(1);
  });

  it('frees the version once the release is cancelled', async () => {
    freshStore();
    const first = await start();
    const cancelled = await store.cancelRelease({
      teamId: TEAM,
      releaseId: first.releaseId,
      userId: 'U0ALICE',
      reason: 'bad build',
      requestId: 'x',
    });
    expect(cancelled.kind).toBe('applied');
    expect((await start()).kind).toBe('created');
    const audit = await store.readAudit(TEAM, first.releaseId);
    expect(audit.at(-1)).toMatchObject({
      type: 'cancelled',
      reason: 'bad build',
      from: 'active',
      to: 'cancelled',
    });
  });
});

describe('ticking items', () => {
  it('changes the item and appends exactly one audit event, atomically', async () => {
    freshStore();
    const { releaseId } = await start();
    const result = await setItem(releaseId, 'p1', true);
    expect(result).toEqual({
      kind: 'applied',
      rev: 2,
      completed: false,
      deployed: false,
      phaseDone: false,
      phaseReopened: false,
    });
    const release = (await store.getRelease(TEAM, releaseId))!;
    expect(release.items.p1).toMatchObject({ done: true, by: 'U0BOB' });
    const audit = await store.readAudit(TEAM, releaseId);
    expect(audit.map((event) => event.type)).toEqual(['started', 'ticked']);
    expect(audit[1]).toMatchObject({ itemId: 'p1', phaseIndex: 0, from: 'open', to: 'done', user: 'U0BOB' });
    expect(audit[1]!.at).toBe(release.items.p1!.at);
  });

  it('sets rather than toggles: a repeated tick changes nothing and writes no event', async () => {
    freshStore();
    const { releaseId } = await start();
    await setItem(releaseId, 'p1', true);
    expect(await setItem(releaseId, 'p1', true)).toEqual({ kind: 'unchanged' });
    expect(await store.readAudit(TEAM, releaseId)).toHaveLength(2);
  });

  it('applies a retried click once, even when the item changed in between', async () => {
    freshStore();
    const { releaseId } = await start();
    expect((await setItem(releaseId, 'p1', true, 'U0BOB', 'same-click')).kind).toBe('applied');
    expect((await setItem(releaseId, 'p1', false, 'U0CAROL', 'other-click')).kind).toBe('applied');
    expect(await setItem(releaseId, 'p1', true, 'U0BOB', 'same-click')).toEqual({ kind: 'replayed' });
    expect((await store.getRelease(TEAM, releaseId))!.items.p1!.done).toBe(false);
  });

  it('refuses items of a locked phase, naming the phase that blocks it, and writes nothing', async () => {
    freshStore();
    const { releaseId } = await start();
    expect(await setItem(releaseId, 's1', true)).toEqual({ kind: 'locked', blockingPhaseIndex: 0 });
    await setItem(releaseId, 'p1', true);
    await setItem(releaseId, 'p2', true);
    expect(await setItem(releaseId, 's1', true)).toEqual({ kind: 'locked', blockingPhaseIndex: 1 });
    expect((await store.readAudit(TEAM, releaseId)).map((event) => event.type)).toEqual([
      'started',
      'ticked',
      'ticked',
    ]);
  });

  it('does not let optional items gate later phases', async () => {
    freshStore();
    const { releaseId } = await start();
    await setItem(releaseId, 'p1', true);
    await setItem(releaseId, 'p2', true);
    expect((await setItem(releaseId, 't1', true)).kind).toBe('applied');
  });

  it('completes the release with the last required tick, once, and then refuses changes', async () => {
    freshStore();
    const { releaseId } = await start();
    for (const itemId of ['p1', 'p2', 't1', 's1'])
      expect((await setItem(releaseId, itemId, true)).kind).toBe('applied');
    expect(await setItem(releaseId, 's2', true)).toMatchObject({ kind: 'applied', completed: true });
    expect(await setItem(releaseId, 'p3', true)).toEqual({ kind: 'closed', status: 'completed' });
    const audit = await store.readAudit(TEAM, releaseId);
    expect(audit.filter((event) => event.type === 'completed')).toHaveLength(1);
    expect(await store.listActive(TEAM)).toHaveLength(0);
  });

  it('refuses unknown items and unknown releases', async () => {
    freshStore();
    const { releaseId } = await start();
    expect(await setItem(releaseId, 'nope', true)).toEqual({ kind: 'unknown_item' });
    expect(await setItem('r999', 'p1', true)).toEqual({ kind: 'not_found' });
  });

  it('keeps every one of many parallel clicks from many people', async () => {
    freshStore();
    // A release with one phase of 60 items, ticked in parallel by 20 people.
    const wide: Template = {
      id: 'wide',
      name: 'Wide',
      phases: [
        {
          id: 'all',
          name: 'All',
          items: Array.from({ length: 60 }, (_, i) => ({ id: `i${i}`, text: `Item ${i}`, required: true })),
        },
      ],
    };
    const created = await store.startRelease({
      teamId: TEAM,
      channelId: 'C1',
      version: 'v9',
      env: 'production',
      template: wide,
      userId: 'U0ALICE',
      requestId: 'wide',
    });
    const clients = Array.from({ length: 4 }, () => new Redis(TEST_REDIS_URL));
    const stores = clients.map((client) => new ReleaseStore(client, prefix));
    try {
      const results = await Promise.all(
        wide.phases[0]!.items.map((item, index) =>
          stores[index % stores.length]!.setItem({
            teamId: TEAM,
            releaseId: created.releaseId,
            itemId: item.id,
            done: true,
            userId: `U${index % 20}`,
            requestId: `parallel-${index}`,
          }),
        ),
      );
      expect(results.every((result) => result.kind === 'applied')).toBe(true);
      expect(results.filter((result) => result.kind === 'applied' && result.completed)).toHaveLength(1);
      const release = (await store.getRelease(TEAM, created.releaseId))!;
      expect(Object.values(release.items).filter((item) => item.done)).toHaveLength(60);
      const audit = await store.readAudit(TEAM, created.releaseId);
      expect(audit.filter((event) => event.type === 'ticked')).toHaveLength(60);
      expect(release.rev).toBe(61);
    } finally {
      await Promise.all(clients.map((client) => client.quit()));
    }
  });
});

describe('gate overrides', () => {
  it('unlocks a locked phase with a reason on the record, and only a locked one', async () => {
    freshStore();
    const { releaseId } = await start();
    const override = await store.overrideGate({
      teamId: TEAM,
      releaseId,
      phaseIndex: 2,
      userId: 'U0ALICE',
      reason: 'hotfix',
      requestId: 'o1',
    });
    expect(override.kind).toBe('applied');
    expect((await setItem(releaseId, 's1', true)).kind).toBe('applied');
    // Phase 1 is still locked behind phase 0: the override only unlocked phase 2 onwards.
    expect(await setItem(releaseId, 't1', true)).toEqual({ kind: 'locked', blockingPhaseIndex: 0 });
    expect(
      await store.overrideGate({
        teamId: TEAM,
        releaseId,
        phaseIndex: 2,
        userId: 'U0ALICE',
        reason: 'again',
        requestId: 'o2',
      }),
    ).toEqual({ kind: 'not_locked' });
    const release = (await store.getRelease(TEAM, releaseId))!;
    expect(release.overrides).toEqual([
      expect.objectContaining({ phaseIndex: 2, by: 'U0ALICE', reason: 'hotfix' }),
    ]);
    const audit = await store.readAudit(TEAM, releaseId);
    expect(audit.find((event) => event.type === 'gate_overridden')).toMatchObject({
      phaseIndex: 2,
      reason: 'hotfix',
      blockingPhaseIndex: 0,
    });
  });

  it('refuses the first phase and phases that do not exist', async () => {
    freshStore();
    const { releaseId } = await start();
    const attempt = (phaseIndex: number) =>
      store.overrideGate({
        teamId: TEAM,
        releaseId,
        phaseIndex,
        userId: 'U0ALICE',
        reason: 'x',
        requestId: `o${phaseIndex}`,
      });
    expect(await attempt(0)).toEqual({ kind: 'unknown_phase' });
    expect(await attempt(3)).toEqual({ kind: 'unknown_phase' });
  });
});

describe('deploy windows', () => {
  it('keeps the window given at start and records it in the start event', async () => {
    freshStore();
    const window = { at: Date.UTC(2030, 0, 15, 13, 0), zone: 'Europe/Berlin' };
    const { releaseId } = await store.startRelease({
      teamId: TEAM,
      channelId: 'C0DEPLOY',
      version: 'v3.0',
      env: 'production',
      template,
      userId: 'U0ALICE',
      window,
      requestId: 'windowed',
    });
    expect((await store.getRelease(TEAM, releaseId))!.window).toEqual(window);
    expect((await store.readAudit(TEAM, releaseId))[0]).toMatchObject({
      type: 'started',
      windowAt: window.at,
      windowZone: 'Europe/Berlin',
    });
  });

  it('moves the window on the record, once per request, and only while the release is active', async () => {
    freshStore();
    const { releaseId } = await start();
    const window = { at: Date.UTC(2030, 1, 3, 8, 30), zone: 'UTC' };
    const move = (requestId: string) =>
      store.rescheduleRelease({ teamId: TEAM, releaseId, userId: 'U0LEAD', window, requestId });
    expect((await move('m1')).kind).toBe('applied');
    expect(await move('m1')).toEqual({ kind: 'replayed' });
    expect(await move('m2')).toEqual({ kind: 'unchanged' });
    expect((await store.getRelease(TEAM, releaseId))!.window).toEqual(window);
    const rescheduled = (await store.readAudit(TEAM, releaseId)).filter(
      (event) => event.type === 'rescheduled',
    );
    expect(rescheduled).toEqual([
      expect.objectContaining({ user: 'U0LEAD', from: 'none', windowAt: window.at, windowZone: 'UTC' }),
    ]);

    await store.cancelRelease({ teamId: TEAM, releaseId, userId: 'U0LEAD', reason: 'stop', requestId: 'c' });
    expect(await move('m3')).toEqual({ kind: 'closed', status: 'cancelled' });
  });
});

describe('Lua gating agrees with the pure rule', () => {
  // A seeded generator, so a failure can be replayed.
  function random(seed: number) {
    let state = seed;
    return () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
  }

  it('for random histories of ticks, unticks and overrides', async () => {
    freshStore();
    const itemIds = template.phases.flatMap((phase) => phase.items.map((item) => item.id));
    for (let seed = 1; seed <= 25; seed++) {
      const next = random(seed);
      const { releaseId } = await start(`v${seed}`);
      for (let step = 0; step < 30; step++) {
        const before = (await store.getRelease(TEAM, releaseId))!;
        if (before.status !== 'active') break;
        if (next() < 0.1) {
          const phaseIndex = 1 + Math.floor(next() * 2);
          const expectedLocked = findBlockingPhase(before, phaseIndex) !== undefined;
          const result = await store.overrideGate({
            teamId: TEAM,
            releaseId,
            phaseIndex,
            userId: 'U1',
            reason: 'r',
            requestId: `${seed}-${step}`,
          });
          expect(result.kind, `seed ${seed} step ${step}`).toBe(expectedLocked ? 'applied' : 'not_locked');
          continue;
        }
        const itemId = itemIds[Math.floor(next() * itemIds.length)]!;
        const done = next() < 0.7;
        const phaseIndex = template.phases.findIndex((phase) =>
          phase.items.some((item) => item.id === itemId),
        );
        const blocking = findBlockingPhase(before, phaseIndex);
        const result = await setItem(releaseId, itemId, done);
        if (blocking !== undefined) {
          expect(result, `seed ${seed} step ${step}`).toEqual({
            kind: 'locked',
            blockingPhaseIndex: blocking,
          });
        } else if ((before.items[itemId]?.done ?? false) === done) {
          expect(result.kind).toBe('unchanged');
        } else {
          const after: Release = {
            ...before,
            items: { ...before.items, [itemId]: { done, by: 'U0BOB', at: 0 } },
          };
          expect(result, `seed ${seed} step ${step}`).toMatchObject({
            kind: 'applied',
            completed: done && isReleaseDone(after),
          });
        }
      }
    }
  });
});
