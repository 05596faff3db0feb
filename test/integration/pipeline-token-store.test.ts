import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatToken, parseTokenSecret } from '../../src/domain/pipeline-tokens.js';
import { LAST_USED_INTERVAL_MS } from '../../src/store/pipeline-token-store.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

// Pipeline tokens against real Redis: created once per name, found by the id in the token text,
// proven by the secret (kept only as its SHA-256), scoped, revoked, and every change on the
// workspace's token audit stream, which never holds a secret or its hash.

const TEAM = 'T0TOKENS';
const OTHER_TEAM = 'T0OTHER';
const NOW = Date.UTC(2026, 10, 20, 9, 0);

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
  prefix = createTestPrefix('tokens');
  store = new ReleaseStore(redis, prefix);
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

async function create(name: string, environments: readonly string[] | 'all' = 'all', teamId = TEAM) {
  const created = await store.tokens.create({ teamId, name, environments, createdBy: 'U0LEAD', now: NOW });
  if (!created.ok) throw new Error(`token ${name} not created: ${created.reason}`);
  return { ...created, text: formatToken(created.token.tokenId, created.secret) };
}

/** Every key and value under the test's prefix, as one text. */
async function everythingStored(): Promise<string> {
  const keys = await redis.keys(`${prefix}:*`);
  const parts: string[] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === 'string') parts.push(key, (await redis.get(key)) ?? '');
    else if (type === 'hash') parts.push(key, JSON.stringify(await redis.hgetall(key)));
    else if (type === 'stream') parts.push(key, JSON.stringify(await redis.xrange(key, '-', '+')));
    else parts.push(key, type);
  }
  return parts.join('\n');
}

describe('PipelineTokenStore', () => {
  it('given a new name, when created, then the token text authenticates as its workspace, name and scope', async () => {
    const { token, secret, text } = await create('github-actions', ['staging', 'production']);
    expect(token).toEqual({
      tokenId: expect.stringMatching(/^[A-Za-z0-9]{12}$/),
      teamId: TEAM,
      name: 'github-actions',
      environments: ['staging', 'production'],
      createdBy: 'U0LEAD',
      createdAt: NOW,
    });
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(parseTokenSecret(text)).toEqual({ tokenId: token.tokenId, secret });
    await expect(store.tokens.authenticate(text, NOW + 1000)).resolves.toEqual({
      teamId: TEAM,
      tokenId: token.tokenId,
      name: 'github-actions',
      environments: ['staging', 'production'],
    });
  });

  it('keeps only the SHA-256 of the secret, anywhere in Redis', async () => {
    const { secret, token } = await create('ci');
    const stored = await everythingStored();
    expect(stored).not.toContain(secret);
    const hash = createHash('sha256').update(secret).digest('hex');
    expect(await redis.hget(`${prefix}:{${TEAM}}:token:${token.tokenId}`, 'secretHash')).toBe(hash);
  });

  it('refuses a second token of the same name in a workspace, but not in another workspace', async () => {
    await create('ci');
    await expect(
      store.tokens.create({ teamId: TEAM, name: 'ci', environments: 'all', createdBy: 'U0OTHER', now: NOW }),
    ).resolves.toEqual({ ok: false, reason: 'name_taken' });
    await create('ci', 'all', OTHER_TEAM);
    expect((await store.tokens.list(TEAM)).map((token) => token.createdBy)).toEqual(['U0LEAD']);
    // The refused attempt leaves no id pointing anywhere.
    expect(await redis.keys(`${prefix}:pipeline-token:*`)).toHaveLength(2);
  });

  it('treats a wrong secret, an unknown id, a malformed text and a revoked token alike: undefined', async () => {
    const { token, secret, text } = await create('ci');
    const wrongSecret = formatToken(
      token.tokenId,
      `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`,
    );
    const unknownId = formatToken('ZZZZZZZZZZZZ', secret);
    for (const attempt of [wrongSecret, unknownId, 'shpk_nonsense', '', `${text}x`.repeat(3)]) {
      await expect(store.tokens.authenticate(attempt, NOW), attempt).resolves.toBeUndefined();
    }
    await expect(store.tokens.authenticate(text, NOW)).resolves.toBeDefined();
    await expect(store.tokens.revoke(TEAM, 'ci', 'U0LEAD', NOW + 5)).resolves.toBe(true);
    await expect(store.tokens.authenticate(text, NOW + 10)).resolves.toBeUndefined();
    await expect(store.tokens.revoke(TEAM, 'ci', 'U0LEAD', NOW + 20)).resolves.toBe(false);
    expect(await store.tokens.list(TEAM)).toEqual([]);
    // The name is free again, for a new token with a new secret.
    const again = await create('ci');
    expect(again.token.tokenId).not.toBe(token.tokenId);
    await expect(store.tokens.authenticate(text, NOW + 30)).resolves.toBeUndefined();
    await expect(store.tokens.authenticate(again.text, NOW + 30)).resolves.toMatchObject({ name: 'ci' });
  });

  it('goes through the same hash and comparison for an unknown id as for a known one', async () => {
    // Not a timing measurement: both paths must reach the constant-time comparison, which throws on
    // buffers of different lengths, so an unknown id compares against a hash of the same length.
    const { secret } = await create('ci');
    await expect(
      store.tokens.authenticate(formatToken('AAAAAAAAAAAA', secret), NOW),
    ).resolves.toBeUndefined();
  });

  it('notes the last use at most once a minute, and never brings back a revoked token', async () => {
    const { text } = await create('ci');
    await store.tokens.authenticate(text, NOW + 1000);
    await store.tokens.authenticate(text, NOW + 2000);
    expect((await store.tokens.list(TEAM))[0]?.lastUsedAt).toBe(NOW + 1000);
    await store.tokens.authenticate(text, NOW + 1000 + LAST_USED_INTERVAL_MS);
    expect((await store.tokens.list(TEAM))[0]?.lastUsedAt).toBe(NOW + 1000 + LAST_USED_INTERVAL_MS);
    await store.tokens.revoke(TEAM, 'ci', 'U0LEAD', NOW);
    await store.tokens.authenticate(text, NOW + 10 * LAST_USED_INTERVAL_MS);
    expect(await redis.keys(`${prefix}:{${TEAM}}:token:*`)).toEqual([]);
  });

  it('keeps the channel a token was created in, and records each use on the workspace stream', async () => {
    const created = await store.tokens.create({
      teamId: TEAM,
      name: 'ci',
      environments: 'all',
      createdBy: 'U0LEAD',
      now: NOW,
      channelId: 'C0DEPLOY',
    });
    if (!created.ok) throw new Error('not created');
    const identity = await store.tokens.authenticate(formatToken(created.token.tokenId, created.secret), NOW);
    expect(identity).toMatchObject({ name: 'ci', channelId: 'C0DEPLOY' });
    expect((await store.tokens.list(TEAM))[0]).toMatchObject({ channelId: 'C0DEPLOY' });
    await store.tokens.noteUse(TEAM, {
      tokenId: created.token.tokenId,
      name: 'ci',
      action: 'POST /releases/{version}/items/{item}',
      status: 200,
      now: NOW + 1,
    });
    const [latest] = await store.tokens.audit(TEAM, 1);
    expect(latest).toMatchObject({
      type: 'used',
      name: 'ci',
      action: 'POST /releases/{version}/items/{item}',
    });
    expect(JSON.stringify(await redis.xrange(`${prefix}:{${TEAM}}:token-audit`, '-', '+'))).not.toContain(
      created.secret,
    );
  });

  it('lists the workspace tokens by name, without secrets or hashes', async () => {
    await create('zeta', ['staging']);
    await create('alpha');
    const listed = await store.tokens.list(TEAM);
    expect(listed.map((token) => [token.name, token.environments])).toEqual([
      ['alpha', 'all'],
      ['zeta', ['staging']],
    ]);
    for (const token of listed) expect(Object.keys(token)).not.toContain('secretHash');
  });

  it('audits creation, revocation and refusals in the workspace stream, newest first, without the secret', async () => {
    const { secret, token } = await create('ci', ['production']);
    await store.tokens.noteRefusal(TEAM, {
      user: 'U0DEV',
      action: 'revoke',
      reason: 'role:release_manager',
      name: 'ci',
      now: NOW + 1,
    });
    await store.tokens.revoke(TEAM, 'ci', 'U0LEAD', NOW + 2);
    const audit = await store.tokens.audit(TEAM, 10);
    expect(audit).toEqual([
      expect.objectContaining({
        type: 'token_revoked',
        user: 'U0LEAD',
        at: NOW + 2,
        name: 'ci',
        tokenId: token.tokenId,
      }),
      expect.objectContaining({
        type: 'refused',
        user: 'U0DEV',
        action: 'revoke',
        reason: 'role:release_manager',
      }),
      expect.objectContaining({
        type: 'token_created',
        user: 'U0LEAD',
        at: NOW,
        name: 'ci',
        tokenId: token.tokenId,
        environments: '["production"]',
      }),
    ]);
    const raw = JSON.stringify(await redis.xrange(`${prefix}:{${TEAM}}:token-audit`, '-', '+'));
    expect(raw).not.toContain(secret);
    expect(raw).not.toContain(createHash('sha256').update(secret).digest('hex'));
    expect(await store.tokens.audit(TEAM, 1)).toHaveLength(1);
    expect(await store.tokens.audit(OTHER_TEAM, 10)).toEqual([]);
  });
});
