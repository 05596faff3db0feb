import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTokenSecret } from '../../src/domain/pipeline-tokens.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { waitForHeader, waitForReply } from '../e2e/helpers.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { createPipelineToken } from '../support/pipelines.js';
import { TEST_REDIS_URL } from '../support/redis.js';

// The pipeline API under attack: every request without a valid token for the release's environment is
// turned away, a machine cannot tick a person's item, bad bodies get a 4xx and change nothing, an
// Idempotency-Key replays its first answer, and no token ever reaches a log line.

const TEMPLATE = `id: piped
name: Piped
phases:
  - id: build
    name: Build
    items:
      - id: build-green
        text: Build is green
        pipeline: true
        record:
          kind: text
          label: Commit SHA
          pattern: '[0-9a-f]{7,40}'
  - id: review
    name: Review
    items:
      - id: change-approved
        text: Change approved by a person
  - id: ship
    name: Ship
    deployment: true
    items:
      - id: deploy-succeeded
        text: Deploy succeeded
        pipeline: true
`;

const LEAD = 'U0LEAD';
const TEAM = 'T0001';

let checklistsDir: string;
let app: TestApp;
let redis: Redis;
let store: ReleaseStore;
const logLines: string[] = [];
const tokens: Record<'production' | 'staging' | 'revoked', string> = {
  production: '',
  staging: '',
  revoked: '',
};

const createToken = (name: string, envs: string) => createPipelineToken(app, name, envs, LEAD);

beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-api-security-'));
  await writeFile(path.join(checklistsDir, 'piped.yaml'), TEMPLATE);
  app = await startTestApp({
    logLines,
    env: {
      CHECKLISTS_DIR: checklistsDir,
      ROLES: `release_manager=${LEAD}`,
      CHECKIN_SCHEDULE: '1h',
      LOG_LEVEL: 'debug',
      API_REQUESTS_PER_MINUTE: '100000',
    },
  });
  redis = new Redis(TEST_REDIS_URL);
  store = new ReleaseStore(redis, app.prefix);
  tokens.production = await createToken('ci', 'production');
  tokens.staging = await createToken('staging-ci', 'staging');
  tokens.revoked = await createToken('old-ci', 'production');
  const revoked = await app.command('token revoke old-ci', { user_id: LEAD });
  await waitForReply(app, revoked.responseTag, /revoked/);
  await app.command('start v9.0 production piped', { user_id: LEAD });
  await waitForHeader(app, 'v9.0 → production');
});

afterAll(async () => {
  await app.stop();
  await redis.quit();
  await rm(checklistsDir, { recursive: true, force: true });
});

interface Sent {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function send(
  method: string,
  route: string,
  options: { token?: string | null; body?: string; headers?: Record<string, string> } = {},
): Promise<Sent> {
  const token = options.token === undefined ? tokens.production : options.token;
  const response = await fetch(`${app.baseUrl}/api/v1${route}`, {
    method,
    headers: {
      ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
}

async function release() {
  const [found] = await store.findByVersion(TEAM, 'v9.0');
  return found!;
}

describe('pipeline API access', () => {
  it('refuses a missing, malformed, unknown, wrong or revoked token with 401, the same way each time', async () => {
    const { tokenId } = parseTokenSecret(tokens.production)!;
    const wrongSecret = `shpk_${tokenId}_${'A'.repeat(43)}`;
    const unknownId = `shpk_${'Z'.repeat(12)}_${'A'.repeat(43)}`;
    for (const token of [null, 'abc', unknownId, wrongSecret, tokens.revoked]) {
      const answer = await send('GET', '/releases/v9.0', { token });
      expect(answer.status, String(token)).toBe(401);
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="shipcheck"');
      expect(answer.body).toMatchObject({ status: 401, code: 'unauthorized' });
    }
    // A token sent any other way than as a bearer token is not read.
    const inQuery = await send('GET', `/releases/v9.0?token=${tokens.production}`, { token: null });
    expect(inQuery.status).toBe(401);
  });

  it('keeps a token to its environments', async () => {
    const read = await send('GET', '/releases/v9.0?env=production', { token: tokens.staging });
    expect(read).toMatchObject({ status: 403, body: { code: 'pipeline_out_of_scope', env: 'production' } });
    const start = await send('POST', '/releases', {
      token: tokens.staging,
      body: JSON.stringify({ version: 'v9.9', env: 'production', template: 'piped' }),
    });
    expect(start).toMatchObject({ status: 403, body: { code: 'pipeline_out_of_scope' } });
    expect(await store.findByVersion(TEAM, 'v9.9')).toEqual([]);
  });

  it('never lets a pipeline tick a person’s item, and puts the attempt on the record', async () => {
    const before = await release();
    const answer = await send('POST', '/releases/v9.0/items/change-approved', {
      body: JSON.stringify({ summary: 'looks fine to me' }),
    });
    expect(answer).toMatchObject({ status: 403, body: { code: 'pipeline_item_refused' } });
    const after = await release();
    expect(after.rev).toBe(before.rev);
    expect(after.items['change-approved']).toBeUndefined();
    const audit = await store.readAudit(TEAM, after.id);
    expect(audit.at(-1)).toMatchObject({
      type: 'refused',
      user: 'pipeline:ci',
      action: 'tick',
      reason: 'pipeline_item',
      itemId: 'change-approved',
    });
  });
});

describe('pipeline API input', () => {
  it('answers oversized, malformed, mistyped and misshapen bodies with a 4xx and changes nothing', async () => {
    const before = await release();
    const route = '/releases/v9.0/items/build-green';
    const oversized = await send('POST', route, { body: JSON.stringify({ summary: 'x'.repeat(20_000) }) });
    expect(oversized).toMatchObject({ status: 413, body: { code: 'body_too_large' } });
    const malformed = await send('POST', route, { body: '{"value": "3f9c2e1",' });
    expect(malformed).toMatchObject({ status: 400, body: { code: 'json_invalid' } });
    const mistyped = await send('POST', route, {
      body: 'value=3f9c2e1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(mistyped).toMatchObject({ status: 415, body: { code: 'unsupported_media_type' } });
    const misshapen = await send('POST', route, { body: JSON.stringify({ value: 42, extra: true }) });
    expect(misshapen.status).toBe(422);
    expect(misshapen.body).toMatchObject({ code: 'request_invalid' });
    expect((misshapen.body.issues as { path: string }[]).map((issue) => issue.path)).toEqual(
      expect.arrayContaining(['body.value', 'body']),
    );
    const badValue = await send('POST', route, { body: JSON.stringify({ value: 'not a sha' }) });
    expect(badValue).toMatchObject({ status: 422, body: { code: 'value_invalid' } });
    const noValue = await send('POST', route, { body: JSON.stringify({}) });
    expect(noValue).toMatchObject({ status: 422, body: { code: 'value_required' } });
    const unknownItem = await send('POST', '/releases/v9.0/items/nope', { body: '{}' });
    expect(unknownItem).toMatchObject({ status: 404, body: { code: 'item_unknown' } });
    const badPath = await send('GET', '/releases/%E0%A4%A');
    expect(badPath).toMatchObject({ status: 400, body: { code: 'path_invalid' } });
    const wrongMethod = await send('DELETE', '/releases/v9.0');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    expect((await release()).rev).toBe(before.rev);
  });

  it('never answers fuzzed bodies with a 5xx, and they change nothing but the record of refusals', async () => {
    const before = await release();
    const auditBefore = (await store.readAudit(TEAM, before.id)).length;
    const routes = ['/releases/v9.0/items/change-approved', '/releases/v9.0/deployment', '/releases'];
    let refusalsAudited = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(
          fc.json(),
          fc.string(),
          fc
            .record(
              {
                status: fc.constantFrom('started', 'finished', 'failed', 42),
                summary: fc.string({ maxLength: 300 }),
                evidenceUrl: fc.oneof(fc.webUrl(), fc.string()),
                version: fc.string({ maxLength: 80 }),
                env: fc.constantFrom('staging', 'qa', ''),
              },
              { requiredKeys: [] },
            )
            .map((body) => JSON.stringify(body)),
        ),
        async (route, body) => {
          const answer = await send('POST', route, { body });
          expect(answer.status, `${route} ${body}`).toBeGreaterThanOrEqual(400);
          expect(answer.status, `${route} ${body}`).toBeLessThan(500);
          if (answer.body.code === 'pipeline_item_refused') refusalsAudited += 1;
        },
      ),
      { numRuns: 150, seed: 20261205 },
    );
    const after = await release();
    expect(after.rev).toBe(before.rev);
    expect(after.redFlag).toBeUndefined();
    const added = (await store.readAudit(TEAM, before.id)).slice(auditBefore);
    expect(added.every((event) => event.type === 'refused')).toBe(true);
    expect(added).toHaveLength(refusalsAudited);
    expect((await store.listActive(TEAM)).map((found) => found.version)).toEqual(['v9.0']);
  });
});

describe('Idempotency-Key', () => {
  it('answers a replayed state change as the first time and applies it once; another body is refused', async () => {
    const key = 'run-4711-tick-build';
    const body = JSON.stringify({ value: '3f9c2e1', summary: 'Build #4711 green' });
    const route = '/releases/v9.0/items/build-green';
    const first = await send('POST', route, { body, headers: { 'idempotency-key': key } });
    expect(first).toMatchObject({ status: 200, body: { changed: true } });
    const auditAfterFirst = (await store.readAudit(TEAM, (await release()).id)).length;
    const replay = await send('POST', route, { body, headers: { 'idempotency-key': key } });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await store.readAudit(TEAM, (await release()).id)).length).toBe(auditAfterFirst);
    const reused = await send('POST', route, {
      body: JSON.stringify({ value: 'abcdef1' }),
      headers: { 'idempotency-key': key },
    });
    expect(reused).toMatchObject({ status: 422, body: { code: 'idempotency_key_reused' } });
    expect((await release()).items['build-green']).toMatchObject({ done: true, value: '3f9c2e1' });
  });
});

describe('logs', () => {
  it('hold no token, in any request, accepted or refused', async () => {
    await send('GET', '/releases/v9.0?env=production');
    await send('GET', '/releases/v9.0', { token: tokens.revoked });
    await send('POST', '/releases/v9.0/items/change-approved', { body: '{}' });
    const joined = logLines.join('\n');
    expect(joined).toContain('"api request"');
    for (const token of Object.values(tokens)) {
      expect(joined).not.toContain(token);
      expect(joined).not.toContain(parseTokenSecret(token)!.secret);
    }
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once a token spent its requests for the minute', async () => {
    const limited = await startTestApp({
      prefix: app.prefix,
      signingSecret: app.signingSecret,
      env: { CHECKLISTS_DIR: checklistsDir, ROLES: `release_manager=${LEAD}`, API_REQUESTS_PER_MINUTE: '3' },
    });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let index = 0; index < 10; index++) {
        const response = await fetch(`${limited.baseUrl}/api/v1/releases/v9.0`, {
          headers: { authorization: `Bearer ${tokens.staging}` },
        });
        statuses.push(response.status);
        if (response.status === 429) retryAfter = response.headers.get('retry-after');
      }
      // The staging token's requests so far in this minute count too; after its 3, it is refused.
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(7);
      expect(Number(retryAfter)).toBeGreaterThan(0);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    } finally {
      await limited.shipcheck.stop();
      await limited.standIn.stop();
    }
  });
});
