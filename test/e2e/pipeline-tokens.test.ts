import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseTokenSecret } from '../../src/domain/pipeline-tokens.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { repliesTo, waitForReply } from './helpers.js';

// Pipeline tokens managed from Slack: a release manager creates one and sees its secret once, in an
// ephemeral answer; anyone else is refused (and the refusal is on the workspace's token record); the
// list never shows a secret; a revoked token stops working. No log line ever holds a secret.

const apps: TestApp[] = [];
let redis: Redis;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

const TOKEN_TEXT = /shpk_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43,}/;

describe('/deploy token', () => {
  it('creates, lists and revokes pipeline tokens for release managers only, the secret shown once and never logged', async () => {
    const logLines: string[] = [];
    const app = await startTestApp({
      logLines,
      env: { ROLES: 'release_manager=U0LEAD', LOG_LEVEL: 'debug' },
    });
    apps.push(app);
    const store = new ReleaseStore(redis, app.prefix);
    const teamId = 'T0001';

    // A release manager creates a token for staging and production: the secret comes once, ephemerally.
    const created = await app.command('token create github-actions staging,production', {
      user_id: 'U0LEAD',
    });
    const answer = await waitForReply(app, created.responseTag, /Pipeline token \*github-actions\* created/);
    const [response] = app.standIn.responsesTo(created.responseTag);
    expect(response?.body).toMatchObject({ response_type: 'ephemeral' });
    expect(answer).toContain('staging, production');
    expect(answer).toContain('SHIPCHECK_URL');
    expect(answer).toContain('SHIPCHECK_TOKEN');
    const tokenText = TOKEN_TEXT.exec(answer)?.[0];
    expect(tokenText).toBeDefined();
    const secret = parseTokenSecret(tokenText!)!.secret;
    const identity = await store.tokens.authenticate(tokenText!, Date.now());
    expect(identity).toEqual({
      teamId,
      tokenId: expect.any(String),
      name: 'github-actions',
      environments: ['staging', 'production'],
      // Releases the pipeline starts are posted in the channel the token was made in.
      channelId: 'C0DEPLOY',
    });

    // The same name again is refused; so is someone who is not a release manager, on the record.
    const twice = await app.command('token create github-actions', { user_id: 'U0LEAD' });
    expect(await waitForReply(app, twice.responseTag, /exists already/)).toContain('github-actions');
    const byAlice = await app.command('token create alices-ci', { user_id: 'U0ALICE' });
    await waitForReply(app, byAlice.responseTag, /Only @release_manager can manage pipeline tokens/);
    const listByAlice = await app.command('token list', { user_id: 'U0ALICE' });
    await waitForReply(app, listByAlice.responseTag, /Only @release_manager/);
    expect((await store.tokens.list(teamId)).map((token) => token.name)).toEqual(['github-actions']);

    // The list shows name, scope, creator and use; never a secret.
    const listed = await app.command('token list', { user_id: 'U0LEAD' });
    const list = await waitForReply(app, listed.responseTag, /Pipeline tokens \(1\)/);
    expect(list).toMatch(/\*github-actions\* · staging, production · created by <@U0LEAD> <!date\^\d+\^/);
    expect(list).toMatch(/last used <!date\^\d+\^/);
    expect(list).not.toMatch(TOKEN_TEXT);
    expect(list).not.toContain(secret);

    // Revoked: the token no longer authenticates, and the name can be revoked only once.
    const revokeByAlice = await app.command('token revoke github-actions', { user_id: 'U0ALICE' });
    await waitForReply(app, revokeByAlice.responseTag, /Only @release_manager/);
    await expect(store.tokens.authenticate(tokenText!, Date.now())).resolves.toBeDefined();
    const revoked = await app.command('token revoke github-actions', { user_id: 'U0LEAD' });
    expect(await waitForReply(app, revoked.responseTag, /revoked/)).toContain('github-actions');
    await expect(store.tokens.authenticate(tokenText!, Date.now())).resolves.toBeUndefined();
    const revokedAgain = await app.command('token revoke github-actions', { user_id: 'U0LEAD' });
    await waitForReply(app, revokedAgain.responseTag, /No pipeline token is named/);
    const empty = await app.command('token list', { user_id: 'U0LEAD' });
    await waitForReply(app, empty.responseTag, /No pipeline tokens yet/);

    // The workspace's token record: who created, who was refused, who revoked. No secret in it.
    const audit = await store.tokens.audit(teamId, 20);
    expect(audit.map((entry) => [entry.type, entry.user, entry.action ?? entry.name])).toEqual([
      ['token_revoked', 'U0LEAD', 'github-actions'],
      ['refused', 'U0ALICE', 'revoke'],
      ['refused', 'U0ALICE', 'list'],
      ['refused', 'U0ALICE', 'create'],
      ['token_created', 'U0LEAD', 'github-actions'],
    ]);
    expect(JSON.stringify(audit)).not.toContain(secret);

    // The secret was in exactly one answer, and in no log line (debug level included).
    const answers = app.standIn.responses.map((posted) => JSON.stringify(posted.body));
    expect(answers.filter((text) => text.includes(secret))).toHaveLength(1);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((line) => line.includes(secret))).toEqual([]);
    expect(logLines.some((line) => line.includes('"pipeline token created"'))).toBe(true);
    expect(repliesTo(app, created.responseTag)).toHaveLength(1);
  });
});
