import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PERSON_CACHE_MS, type PeopleDeps, recordMissingPeople, recordPerson } from '../../src/app/people.js';
import type { AuditEvent } from '../../src/domain/audit.js';
import type { PersonName } from '../../src/domain/people.js';
import type { Template } from '../../src/domain/template.js';
import { runRecordPerson } from '../../src/jobs/people.js';
import { SlackHttpError, SlackPlatformError } from '../../src/slack-api/web-api.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

// Each release's people record against real Redis: the names a person had when first named in the
// release, kept however they change later; looked up once per workspace (a cache), never recorded for
// a release that is gone, and removed with the release.

const TEAM = 'T0PEOPLE';
const NOW = Date.UTC(2026, 2, 2, 9, 30);
const template: Template = {
  id: 'one',
  name: 'One phase',
  phases: [{ id: 'a', name: 'A', items: [{ id: 'a1', text: 'A one', required: true }] }],
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
beforeEach(() => {
  prefix = createTestPrefix('people');
  store = new ReleaseStore(redis, prefix);
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

async function start(version: string): Promise<string> {
  const result = await store.startRelease({
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

/** users.info as Slack would answer it now: names can be changed between calls; `failWith` fails it. */
function slackDirectory(names: Record<string, string>) {
  const lookups: string[] = [];
  const directory = {
    names,
    failWith: undefined as Error | undefined,
    lookups,
    async getUserName(userId: string, now = Date.now()): Promise<PersonName | undefined> {
      lookups.push(userId);
      if (directory.failWith) throw directory.failWith;
      const name = directory.names[userId];
      return name ? { name, realName: `${name} Real`, at: now } : undefined;
    },
  };
  return directory;
}

const log = pino({ level: 'silent' });
const event = (user: string, extra: Partial<AuditEvent> = {}): AuditEvent => ({
  id: `${NOW}-0`,
  type: 'ticked',
  user,
  at: NOW,
  from: 'open',
  to: 'done',
  ...extra,
});

describe('the people record of a release', () => {
  it('keeps the names of the first appearance, and looks each person up once per workspace', async () => {
    const first = await start('v1.0');
    const second = await start('v2.0');
    const slack = slackDirectory({ U0BOB: 'Bob' });
    const deps: PeopleDeps = { store, outbound: slack, log };

    expect(await store.people.missing(TEAM, first, ['U0BOB', 'U0ANN'])).toEqual(['U0BOB', 'U0ANN']);
    expect(await recordPerson(deps, TEAM, first, 'U0BOB', NOW)).toBe('recorded');
    expect(await store.people.missing(TEAM, first, ['U0BOB', 'U0ANN'])).toEqual(['U0ANN']);

    // Renamed in Slack: the release keeps the name of the time, and the cache serves the next release.
    slack.names.U0BOB = 'Robert';
    expect(await recordPerson(deps, TEAM, first, 'U0BOB', NOW + 1000)).toBe('known');
    expect(await recordPerson(deps, TEAM, second, 'U0BOB', NOW + 2000)).toBe('recorded');
    expect(slack.lookups).toEqual(['U0BOB']);
    expect((await store.people.forRelease(TEAM, first)).get('U0BOB')).toEqual({
      name: 'Bob',
      realName: 'Bob Real',
      at: NOW,
    });

    // A day later the cache is stale: a third release gets the name Slack gives then.
    const third = await start('v3.0');
    expect(await recordPerson(deps, TEAM, third, 'U0BOB', NOW + PERSON_CACHE_MS)).toBe('recorded');
    expect(slack.lookups).toEqual(['U0BOB', 'U0BOB']);
    expect((await store.people.forRelease(TEAM, third)).get('U0BOB')?.name).toBe('Robert');
    expect((await store.people.forRelease(TEAM, first)).get('U0BOB')?.name).toBe('Bob');
  });

  it('records nothing for a release that is gone, and retention removes the record with the release', async () => {
    const releaseId = await start('v1.0');
    const deps: PeopleDeps = { store, outbound: slackDirectory({ U0BOB: 'Bob' }), log };
    expect(await recordPerson(deps, TEAM, releaseId, 'U0BOB', NOW)).toBe('recorded');
    const peopleKey = store.keys.releasePeople(TEAM, releaseId);
    expect(await redis.exists(peopleKey)).toBe(1);

    await store.retention.removeRelease(TEAM, releaseId, 'v1.0');
    expect(await redis.exists(peopleKey)).toBe(0);
    expect(await recordPerson(deps, TEAM, releaseId, 'U0BOB', NOW)).toBe('no_release');
    expect(await redis.exists(peopleKey)).toBe(0);
  });

  it('leaves the id alone when Slack fails, and records the person on a later try', async () => {
    const releaseId = await start('v1.0');
    const slack = slackDirectory({ U0BOB: 'Bob', U0ANN: 'Ann' });
    const deps: PeopleDeps = { store, outbound: slack, log };
    slack.failWith = new SlackHttpError('users.info', 503);

    // Before a log: one try, none after Slack fails once; the log is built with ids.
    await recordMissingPeople(
      deps,
      TEAM,
      releaseId,
      [event('U0BOB'), event('shipcheck'), event('U0ANN')],
      NOW,
    );
    expect(slack.lookups).toEqual(['U0BOB']);
    expect((await store.people.forRelease(TEAM, releaseId)).size).toBe(0);
    // The job throws, so its queue retries it with backoff.
    await expect(
      runRecordPerson(deps, { kind: 'record-person', teamId: TEAM, releaseId, userId: 'U0BOB' }, NOW),
    ).rejects.toThrow(/HTTP 503/);

    slack.failWith = undefined;
    await runRecordPerson(deps, { kind: 'record-person', teamId: TEAM, releaseId, userId: 'U0BOB' }, NOW);
    await recordMissingPeople(deps, TEAM, releaseId, [event('U0BOB'), event('U0ANN')], NOW);
    expect([...(await store.people.forRelease(TEAM, releaseId)).keys()].sort()).toEqual(['U0ANN', 'U0BOB']);
  });

  it('gives up on a person Slack does not know, without failing the job', async () => {
    const releaseId = await start('v1.0');
    const slack = slackDirectory({});
    slack.failWith = new SlackPlatformError('users.info', 'user_not_found');
    const deps: PeopleDeps = { store, outbound: slack, log };
    await runRecordPerson(deps, { kind: 'record-person', teamId: TEAM, releaseId, userId: 'U0GONE' }, NOW);
    expect(await store.people.missing(TEAM, releaseId, ['U0GONE'])).toEqual(['U0GONE']);
  });
});
