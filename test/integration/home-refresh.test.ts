import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { drawHome, loadHomeContext } from '../../src/app/home.js';
import type { Template } from '../../src/domain/template.js';
import { type HomeRefreshDeps, refreshHomes } from '../../src/jobs/home-refresh.js';
import { HOME_VIEWER_IDLE_MS } from '../../src/queues/home-refresh-queue.js';
import { SlackOutbound } from '../../src/slack-api/outbound.js';
import { Pacer } from '../../src/store/pacer.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { SlackStandIn } from '../support/slack-stand-in.js';

// Home refreshes (src/jobs/home-refresh.ts) against real Redis and the Slack stand-in: a viewer's tab
// is published again only when what it shows changed, and people who stopped looking are left alone.

const TEAM = 'T0001';
const template: Template = {
  id: 'tiny',
  name: 'Tiny',
  phases: [
    {
      id: 'check',
      name: 'Check',
      items: [
        { id: 'smoke', text: 'Smoke test passes', required: true },
        { id: 'notes', text: 'Release notes written', required: true },
      ],
    },
  ],
};

let standIn: SlackStandIn;
let redis: Redis;
let prefix: string;
let store: ReleaseStore;
let deps: HomeRefreshDeps;
let logLines: Record<string, unknown>[];
let releaseId: string;

beforeAll(async () => {
  standIn = await SlackStandIn.start();
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await standIn.stop();
  await redis.quit();
});
beforeEach(async () => {
  standIn.reset();
  prefix = createTestPrefix('home');
  store = new ReleaseStore(redis, prefix);
  logLines = [];
  const outbound = new SlackOutbound(
    {
      token: 'xoxb-test-token',
      apiUrl: standIn.apiUrl,
      postIntervalMs: 0,
      updateIntervalMs: 0,
      homeIntervalMs: 0,
    },
    new Pacer(redis, store.keys),
    pino({ level: 'silent' }),
  );
  deps = {
    store,
    outbound,
    roles: { resolve: async () => () => undefined },
    log: pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) }),
  };
  ({ releaseId } = await store.startRelease({
    teamId: TEAM,
    channelId: 'C0DEPLOY',
    version: 'v2.3',
    env: 'production',
    template,
    userId: 'U0LEAD',
    requestId: 'start',
  }));
  await store.assignOwners({
    teamId: TEAM,
    releaseId,
    userId: 'U0LEAD',
    owners: [
      { itemId: 'smoke', ownerId: 'U0BOB' },
      { itemId: 'notes', ownerId: 'U0CAROL' },
    ],
    requestId: 'owners',
  });
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

/** Someone opened their Home at `at` and saw what it showed then. */
async function opened(userId: string, at = Date.now()) {
  const home = drawHome(await loadHomeContext(deps, TEAM, at), userId, at);
  await store.home.noteDrawn(TEAM, userId, at, home.rendered);
}

const publishedFor = (userId: string) =>
  standIn.callsTo('views.publish').filter((call) => call.args.user_id === userId);

const tick = (itemId: string, userId: string) =>
  store.setItem({ teamId: TEAM, releaseId, itemId, done: true, userId, requestId: `tick-${itemId}` });

describe('refreshHomes', () => {
  it('publishes nothing while nothing on anyone’s tab has changed', async () => {
    await opened('U0BOB');
    await opened('U0CAROL');
    expect(await refreshHomes(deps, TEAM)).toBe(0);
    expect(standIn.callsTo('views.publish')).toHaveLength(0);
  });

  it('redraws every viewer whose tab changed, once, with what it now shows', async () => {
    await opened('U0BOB');
    await opened('U0CAROL');
    await tick('smoke', 'U0BOB');

    expect(await refreshHomes(deps, TEAM)).toBe(2);
    const bobs = JSON.stringify(publishedFor('U0BOB').at(-1)!.args.view);
    expect(bobs).toContain('Nothing is waiting on you.');
    expect(bobs).toContain('1/2 required done');
    const carols = JSON.stringify(publishedFor('U0CAROL').at(-1)!.args.view);
    expect(carols).toContain('Release notes written');
    expect(carols).toContain('1/2 required done');

    // Drawn once: a second refresh with no change in between publishes nothing.
    expect(await refreshHomes(deps, TEAM)).toBe(0);
    expect(standIn.callsTo('views.publish')).toHaveLength(2);
  });

  it('forgets people who have not opened their Home for a while, and never draws for others', async () => {
    await opened('U0BOB', Date.now() - HOME_VIEWER_IDLE_MS - 60_000);
    await opened('U0CAROL');
    await tick('notes', 'U0CAROL');

    expect(await refreshHomes(deps, TEAM)).toBe(1);
    expect(publishedFor('U0BOB')).toHaveLength(0);
    expect(publishedFor('U0CAROL')).toHaveLength(1);
    expect(publishedFor('U0LEAD')).toHaveLength(0);
    expect(await redis.zrange(store.keys.homeViewers(TEAM), 0, -1)).toEqual(['U0CAROL']);
    expect(await redis.hkeys(store.keys.homeRendered(TEAM))).toEqual(['U0CAROL']);
  });

  it('goes on with everyone else when Slack refuses one person’s tab, and tries that one again next time', async () => {
    await opened('U0BOB');
    await opened('U0CAROL');
    await tick('smoke', 'U0BOB');
    standIn.misbehave('views.publish', { kind: 'error', error: 'not_enabled' }, 1);

    expect(await refreshHomes(deps, TEAM)).toBe(1);
    expect(logLines.filter((line) => line.msg === 'home tab not refreshed')).toHaveLength(1);
    expect(await refreshHomes(deps, TEAM)).toBe(1);
    expect(await refreshHomes(deps, TEAM)).toBe(0);
  });
});
