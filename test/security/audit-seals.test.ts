import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { eventHash } from '../../src/domain/audit-chain.js';
import { createKeys } from '../../src/store/keys.js';
import {
  current,
  requiredItemIds,
  tickAll,
  waitForHeader,
  waitForPhase,
  waitForReply,
} from '../e2e/helpers.js';
import { createTestPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';
import { expectNoSecretsLeaked, type SecurityApp, startSecurityApp, TEAM_ID } from './support.js';

// An attacker with write access to Redis, who knows the published hash-chain rule but not AUDIT_KEY:
// each way of rewriting the trail is named by `/deploy audit … verify`, with its position. The keyed
// seals are the relay's (no key in Redis); the anchor is the release header's metadata in Slack.

const apps: SecurityApp[] = [];
const standIns: SlackStandIn[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
  await Promise.all(standIns.splice(0).map((standIn) => standIn.stop()));
});

const newKey = () => randomBytes(48).toString('base64');

type Entry = [string, string[]];

/** The trail with its SHA-1 chain recomputed by the published rule, as an attacker can. */
function rechain(entries: Entry[]): Entry[] {
  let prev = '';
  return entries.map(([id, fields]) => {
    const content = fields.slice(0, -4);
    const hash = eventHash(prev, content);
    const rechained: Entry = [id, [...content, 'prev', prev, 'hash', hash]];
    prev = hash;
    return rechained;
  });
}

function withField(fields: string[], name: string, value: string): string[] {
  return fields.map((field, index) =>
    index > 0 && fields[index - 1] === name && index % 2 === 1 ? value : field,
  );
}

async function rewrite(
  redis: Redis,
  prefix: string,
  releaseId: string,
  change: (entries: Entry[]) => Entry[],
) {
  const keys = createKeys(prefix);
  const key = keys.releaseAudit(TEAM_ID, releaseId);
  const entries = rechain(change((await redis.xrange(key, '-', '+')) as Entry[]));
  await redis.del(key);
  for (const [id, fields] of entries) await redis.xadd(key, id, ...fields);
  await redis.hset(keys.releaseMeta(TEAM_ID, releaseId), 'auditHead', entries.at(-1)?.[1].at(-1) ?? '');
}

interface Started {
  releaseId: string;
  version: string;
  header: StoredMessage;
  events: number;
}

/** A release with a few events, sealed by the relay and anchored on its header. */
async function startSealed(app: SecurityApp, redis: Redis, n: number): Promise<Started> {
  const version = `v${n}.0`;
  await app.command(`start ${version} staging minimal`, { user_id: 'U0LEAD' });
  const header = await waitForHeader(app, `${version} → staging`);
  await tickAll(app, await waitForPhase(app, header, 'Before the deploy'), requiredItemIds('minimal', 0));
  const releaseId = `r${n}`;
  const keys = createKeys(app.prefix);
  expect(await redis.hget(keys.releaseMeta(TEAM_ID, releaseId), 'version')).toBe(version);
  const events = await redis.xlen(keys.releaseAudit(TEAM_ID, releaseId));
  await app.standIn.waitFor(
    () => Number(current(app, header).metadata?.event_payload.audit_sealed) === events,
    10_000,
    'the header anchoring every event',
  );
  return { releaseId, version, header, events };
}

async function verify(app: SecurityApp, version: string): Promise<string> {
  const reply = await app.command(`audit ${version} verify`);
  return waitForReply(app, reply.responseTag, /audit trail/);
}

describe('keyed seals and the Slack anchor', () => {
  it('name each rewrite of the trail with its position; an untouched trail verifies; the key leaks nowhere', async () => {
    const auditKey = newKey();
    const app = await startSecurityApp({
      prefix: createTestPrefix('seals'),
      env: { AUDIT_KEY: auditKey, AUDIT_KEY_ID: 'k1', LOG_LEVEL: 'debug' },
    });
    apps.push(app);
    app.secrets.push(auditKey);
    const redis = new Redis(TEST_REDIS_URL);
    const keys = createKeys(app.prefix);
    try {
      const untouched = await startSealed(app, redis, 1);
      expect(await verify(app, untouched.version)).toMatch(
        new RegExp(
          `is intact: ${untouched.events} events.*sealed with the audit key[\\s\\S]*Anchored in Slack through event ${untouched.events}`,
        ),
      );

      // Edited, the SHA chain recomputed: only the keyed seal tells.
      const edited = await startSealed(app, redis, 2);
      await rewrite(redis, app.prefix, edited.releaseId, (entries) =>
        entries.map(([id, fields], index) => [
          id,
          index === 1 ? withField(fields, 'user', 'U0MALLORY') : fields,
        ]),
      );
      expect(await verify(app, edited.version)).toMatch(
        new RegExp(`broken at event 2 of ${edited.events} .*keyed seal does not match`),
      );

      // A middle event deleted, the chain recomputed.
      const deleted = await startSealed(app, redis, 3);
      await rewrite(redis, app.prefix, deleted.releaseId, (entries) =>
        entries.filter((_entry, index) => index !== 1),
      );
      expect(await verify(app, deleted.version)).toMatch(
        new RegExp(`broken at event 2 of ${deleted.events - 1} .*events before it were deleted`),
      );

      // Two events swapped, renumbered and rechained so that sequence and chain look right.
      const reordered = await startSealed(app, redis, 4);
      await rewrite(redis, app.prefix, reordered.releaseId, (entries) => {
        const swapped = [...entries];
        [swapped[1], swapped[2]] = [
          [entries[1]![0], withField(entries[2]![1], 'seq', '2')],
          [entries[2]![0], withField(entries[1]![1], 'seq', '3')],
        ];
        return swapped;
      });
      expect(await verify(app, reordered.version)).toMatch(
        new RegExp(`broken at event 2 of ${reordered.events} .*changed, replaced or moved`),
      );

      // The last event removed, the chain head and the seal head in Redis set to match.
      const truncated = await startSealed(app, redis, 5);
      const truncatedAudit = keys.releaseAudit(TEAM_ID, truncated.releaseId);
      const tail = (await redis.xrevrange(truncatedAudit, '+', '-', 'COUNT', 2)) as Entry[];
      const lastId = tail[0]![0];
      const newLast = tail[1]![1];
      await redis.xdel(truncatedAudit, lastId);
      const truncatedMeta = keys.releaseMeta(TEAM_ID, truncated.releaseId);
      const newLastId = (await redis.xrevrange(truncatedAudit, '+', '-', 'COUNT', 1))[0]![0];
      const newLastSeal = await redis.hget(keys.releaseSeals(TEAM_ID, truncated.releaseId), newLastId);
      await redis.hset(
        truncatedMeta,
        'auditHead',
        newLast!.at(-1)!,
        'sealed',
        `${truncated.events - 1}:${newLastSeal}`,
      );
      expect(await verify(app, truncated.version)).toMatch(
        new RegExp(`broken after event ${truncated.events - 1}: events were removed from the end`),
      );

      // Everything in Redis wiped: stream, chain head, seals and seal head.
      const wiped = await startSealed(app, redis, 6);
      await redis.del(
        keys.releaseAudit(TEAM_ID, wiped.releaseId),
        keys.releaseSeals(TEAM_ID, wiped.releaseId),
      );
      await redis.hdel(keys.releaseMeta(TEAM_ID, wiped.releaseId), 'auditHead', 'sealed');
      expect(await verify(app, wiped.version)).toMatch(/broken after event 0: the trail was wiped/);

      // The seal head in Redis replaced by an older one.
      const replaced = await startSealed(app, redis, 7);
      const firstId = (
        await redis.xrange(keys.releaseAudit(TEAM_ID, replaced.releaseId), '-', '+', 'COUNT', 1)
      )[0]![0];
      const firstSeal = await redis.hget(keys.releaseSeals(TEAM_ID, replaced.releaseId), firstId);
      await redis.hset(keys.releaseMeta(TEAM_ID, replaced.releaseId), 'sealed', `1:${firstSeal}`);
      expect(await verify(app, replaced.version)).toMatch(
        new RegExp(
          `broken at event ${replaced.events} of ${replaced.events} .*newest seal kept in Redis disagrees`,
        ),
      );

      // The key is nowhere in Redis, keys or values.
      const everything: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${app.prefix}:*`, 'COUNT', 1000);
        cursor = next;
        for (const key of found) {
          everything.push(key, JSON.stringify(await redis.dump(key)));
          const type = await redis.type(key);
          if (type === 'hash') everything.push(JSON.stringify(await redis.hgetall(key)));
          if (type === 'stream') everything.push(JSON.stringify(await redis.xrange(key, '-', '+')));
          if (type === 'string') everything.push(String(await redis.get(key)));
        }
      } while (cursor !== '0');
      expect(everything.length).toBeGreaterThan(10);
      expect(everything.some((text) => text.includes(auditKey))).toBe(false);
    } finally {
      redis.disconnect();
    }
    expectNoSecretsLeaked(app);
  });

  it('verifies a trail sealed under a key since retired (AUDIT_OLD_KEYS)', async () => {
    const oldKey = newKey();
    const prefix = createTestPrefix('rotation');
    const standIn = await SlackStandIn.start();
    standIns.push(standIn);
    const before = await startSecurityApp({
      prefix,
      standIn,
      env: { AUDIT_KEY: oldKey, AUDIT_KEY_ID: 'k1' },
    });
    apps.push(before);
    const redis = new Redis(TEST_REDIS_URL);
    let sealed: Started;
    try {
      sealed = await startSealed(before, redis, 1);
    } finally {
      redis.disconnect();
    }
    // The rotated instance runs beside the first (the harness removes a prefix's data when its first app stops).
    const newer = newKey();
    const after = await startSecurityApp({
      prefix,
      standIn,
      env: { AUDIT_KEY: newer, AUDIT_KEY_ID: 'k2', AUDIT_OLD_KEYS: `k1:${oldKey}` },
    });
    apps.push(after);
    after.secrets.push(oldKey, newer);
    expect(await verify(after, sealed.version)).toMatch(/is intact: .*sealed with the audit key/);

    // Without the retired key listed, its seals cannot be checked and verify says so.
    const forgetful = await startSecurityApp({
      prefix,
      standIn,
      env: { AUDIT_KEY: newer, AUDIT_KEY_ID: 'k2' },
    });
    apps.push(forgetful);
    expect(await verify(forgetful, sealed.version)).toMatch(
      /broken at event 1 of .*key id that is not configured/,
    );
    expectNoSecretsLeaked(after);
  });

  it('says that seals cannot be checked without a key', async () => {
    const app = await startSecurityApp({ prefix: createTestPrefix('unkeyed') });
    apps.push(app);
    await app.command('start v1.0 staging minimal', { user_id: 'U0LEAD' });
    await waitForHeader(app, 'v1.0 → staging');
    expect(await verify(app, 'v1.0')).toMatch(/is intact[\s\S]*Seals cannot be checked: no AUDIT_KEY/);
  });
});
