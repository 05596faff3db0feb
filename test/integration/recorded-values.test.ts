import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/domain/audit-chain.js';
import type { Template } from '../../src/domain/template.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

// set-item-9.lua with a value: the tick and its value commit with one audit event that carries the
// value; an untick clears it and says which value it cleared; a retried request changes nothing; and
// a tick without the value an item needs is refused before it takes anything (the environment's lock).

const TEAM = 'T0VALUES';

const template: Template = {
  id: 'values',
  name: 'Values',
  phases: [
    {
      id: 'deploy',
      name: 'Deploy',
      deployment: true,
      items: [
        { id: 'backup', text: 'Backup taken', required: true, record: { kind: 'text', label: 'Backup id' } },
        {
          id: 'rows',
          text: 'Rows counted',
          required: false,
          record: { kind: 'number', label: 'Rows', optional: true },
        },
        { id: 'shipped', text: 'Shipped', required: true },
      ],
    },
  ],
};

let redis: Redis;
let store: ReleaseStore;
let prefix: string;
let releaseId: string;
let requests = 0;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

async function startRelease(): Promise<void> {
  prefix = createTestPrefix('values');
  store = new ReleaseStore(redis, prefix);
  const started = await store.startRelease({
    teamId: TEAM,
    channelId: 'C0DEPLOY',
    version: 'v1.0',
    env: 'production',
    template,
    userId: 'U0ALICE',
    requestId: `start-${Math.random()}`,
  });
  releaseId = started.releaseId;
}

function setItem(itemId: string, done: boolean, value?: string, requestId = `request-${++requests}`) {
  return store.setItem({ teamId: TEAM, releaseId, itemId, done, userId: 'U0BOB', requestId, value });
}

async function itemEvents() {
  return (await store.readAudit(TEAM, releaseId)).filter((event) => event.itemId !== undefined);
}

describe('a value recorded with a tick', () => {
  it('is committed with the tick, and its audit event carries it', async () => {
    await startRelease();
    expect(await setItem('backup', true, 'bk-2026-01-05')).toMatchObject({ kind: 'applied' });

    const release = await store.getRelease(TEAM, releaseId);
    expect(release!.items.backup).toEqual({
      done: true,
      by: 'U0BOB',
      at: expect.any(Number),
      value: 'bk-2026-01-05',
    });
    const [ticked] = await itemEvents();
    expect(ticked).toMatchObject({
      type: 'ticked',
      itemId: 'backup',
      from: 'open',
      to: 'done',
      value: 'bk-2026-01-05',
    });
    expect(ticked!.at).toBe(release!.items.backup!.at);
    // The value is part of the hash chain like every other field.
    const chain = await store.readAuditChain(TEAM, releaseId);
    expect(verifyAuditChain(chain.entries, chain.head)).toMatchObject({ intact: true });
  });

  it('is cleared by an untick, whose event says which value it cleared', async () => {
    await startRelease();
    await setItem('backup', true, 'bk-1');
    expect(await setItem('backup', false)).toMatchObject({ kind: 'applied', phaseReopened: false });

    const release = await store.getRelease(TEAM, releaseId);
    expect(release!.items.backup).toEqual({ done: false, by: 'U0BOB', at: expect.any(Number) });
    const events = await itemEvents();
    expect(events.map((event) => [event.type, event.value, event.clearedValue])).toEqual([
      ['ticked', 'bk-1', undefined],
      ['unticked', undefined, 'bk-1'],
    ]);

    // Ticked again, it holds the new value only.
    await setItem('backup', true, 'bk-2');
    expect((await store.getRelease(TEAM, releaseId))!.items.backup!.value).toBe('bk-2');
  });

  it('is applied once for a retried request, even when the item changed in between', async () => {
    await startRelease();
    expect(await setItem('backup', true, 'bk-1', 'form-V1')).toMatchObject({ kind: 'applied' });
    expect(await setItem('backup', true, 'bk-1', 'form-V1')).toEqual({ kind: 'replayed' });
    await setItem('backup', false);
    expect(await setItem('backup', true, 'bk-1', 'form-V1')).toEqual({ kind: 'replayed' });

    expect((await store.getRelease(TEAM, releaseId))!.items.backup!.done).toBe(false);
    expect((await itemEvents()).map((event) => event.type)).toEqual(['ticked', 'unticked']);
  });

  it('does not replace the value of an item that is done already', async () => {
    await startRelease();
    await setItem('backup', true, 'bk-1');
    expect(await setItem('backup', true, 'bk-other')).toEqual({ kind: 'unchanged' });
    expect((await store.getRelease(TEAM, releaseId))!.items.backup!.value).toBe('bk-1');
    expect(await itemEvents()).toHaveLength(1);
  });
});

describe('a tick without the value its item needs', () => {
  it('is refused, writes nothing and takes no lock', async () => {
    await startRelease();
    const before = await store.readAudit(TEAM, releaseId);
    expect(await setItem('backup', true)).toEqual({ kind: 'value_required' });
    expect(await setItem('backup', true, '')).toEqual({ kind: 'value_required' });

    const release = await store.getRelease(TEAM, releaseId);
    expect(release!.items.backup).toBeUndefined();
    expect(release!.lockedAt).toBeUndefined();
    expect(await store.readAudit(TEAM, releaseId)).toEqual(before);
  });

  it('is accepted where the value is optional, and an untick of an item without a value clears nothing', async () => {
    await startRelease();
    expect(await setItem('rows', true)).toMatchObject({ kind: 'applied' });
    expect(await setItem('rows', false)).toMatchObject({ kind: 'applied' });
    expect(await setItem('shipped', true)).toMatchObject({ kind: 'applied' });
    const events = await itemEvents();
    expect(events.map((event) => [event.itemId, event.value, event.clearedValue])).toEqual([
      ['rows', undefined, undefined],
      ['rows', undefined, undefined],
      ['shipped', undefined, undefined],
    ]);
  });

  it('is still refused for an item done already: an untick comes first', async () => {
    await startRelease();
    await setItem('backup', true, 'bk-1');
    expect(await setItem('backup', true)).toEqual({ kind: 'unchanged' });
  });
});
