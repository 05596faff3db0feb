import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { askGate } from '../../app/deploy-gate.js';
import type { AppDeps } from '../../app/deps.js';
import { startFromPipeline } from '../../app/pipeline-start.js';
import { tickFromPipeline } from '../../app/pipeline-tick.js';
import { describeRelease, reportRelease } from '../../app/release-report.js';
import { reportDeployment } from '../../app/report-deployment.js';
import type { Result } from '../../domain/errors.js';
import type { PipelineIdentity } from '../../domain/pipeline-tokens.js';
import { findItem } from '../../domain/template.js';
import { isKnownZone } from '../../domain/time.js';
import { createErrorId } from '../../views/user-errors.js';
import type { Mount } from '../server.js';
import { buildOpenApiDocument } from './openapi.js';
import { PROBLEM_CONTENT_TYPE, type Problem, problem, problemFor } from './problems.js';
import { gateJson, itemJson, releaseJson } from './release-json.js';
import {
  DeploymentBody,
  EnvQuery,
  GateQuery,
  ItemParam,
  StartReleaseBody,
  TickItemBody,
  VersionParam,
} from './schemas.js';

// The pipeline API, /api/v1: the second front door to the same commands Slack calls. This file only
// reads requests and writes answers: who is asking (a pipeline token), how often (a limit per token),
// whether a state change was asked before (Idempotency-Key), what the body says (the zod schemas that
// also make the OpenAPI document), and how a refusal reads (problem details).

export const API_PREFIX = '/api/v1';
export const MAX_BODY_BYTES = 16 * 1024;
const DEFAULT_TEMPLATE = 'standard';

export interface ApiSettings {
  /** Requests per minute one token may make. */
  requestsPerMinute: number;
}

export interface PipelineApi extends Mount {
  /** Answers every waiting gate question at once (the server is stopping). */
  close(): void;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface Call {
  identity: PipelineIdentity;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  requestId: string;
  signal: AbortSignal;
}

interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  /** Parameter names, in the order of the pattern's groups. */
  names: string[];
  /** The OpenAPI path, for logs and the token's audit. */
  path: string;
  handle: (call: Call) => Promise<Answer | Problem>;
}

const isProblem = (answer: Answer | Problem): answer is Problem => 'code' in answer && 'type' in answer;

class BadRequest extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

function parse<Schema extends z.ZodType>(schema: Schema, input: unknown, where: string): z.infer<Schema> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw new BadRequest(
    problem(
      422,
      'request_invalid',
      `The request does not fit the API: ${issues[0]!.path}: ${issues[0]!.message}`,
      {
        issues,
      },
    ),
  );
}

function fromResult<T>(result: Result<T>, answer: (value: T) => Answer | Promise<Answer>) {
  return result.ok ? answer(result.value) : problemFor(result.error);
}

export function createPipelineApi(deps: AppDeps, settings: ApiSettings): PipelineApi {
  const waiting = new Set<AbortController>();
  let openApi: string | undefined;

  const routes: Route[] = [
    {
      method: 'POST',
      path: '/releases',
      pattern: /^\/releases$/,
      names: [],
      handle: async (call) => {
        const body = parse(StartReleaseBody, call.body, 'body');
        const zone = body.window?.zone ?? 'UTC';
        if (body.window && !isKnownZone(zone)) {
          return problem(
            422,
            'request_invalid',
            `Unknown time zone ${zone}; use an IANA name such as Europe/Berlin.`,
          );
        }
        const channelId = deps.config.deployChannel ?? call.identity.channelId;
        if (!channelId) {
          return problem(
            409,
            'no_channel',
            'No channel to post the release in: set DEPLOY_CHANNEL, or create the token in the deploy channel.',
          );
        }
        const started = await startFromPipeline(deps, {
          identity: call.identity,
          version: body.version,
          env: body.env,
          templateId: body.template ?? DEFAULT_TEMPLATE,
          channelId,
          requestId: call.requestId,
          ...(body.window ? { window: { at: Date.parse(body.window.at), zone } } : {}),
          ...(body.notes ? { notes: body.notes } : {}),
          ...(body.commit || body.runUrl
            ? {
                source: {
                  ...(body.commit ? { commit: body.commit.toLowerCase() } : {}),
                  ...(body.runUrl ? { runUrl: body.runUrl } : {}),
                },
              }
            : {}),
        });
        return fromResult(started, async ({ releaseId, created }) => {
          const release = await deps.store.getRelease(call.identity.teamId, releaseId);
          const report = await describeRelease(deps, release!);
          return {
            status: created ? 201 : 200,
            body: {
              created,
              release: releaseJson(report.release, report.gate, report.people, report.permalink),
            },
            headers: {
              location: `${API_PREFIX}/releases/${encodeURIComponent(report.release.version)}?env=${encodeURIComponent(report.release.env)}`,
            },
          };
        });
      },
    },
    {
      method: 'GET',
      path: '/releases/{version}',
      pattern: /^\/releases\/([^/]+)$/,
      names: ['version'],
      handle: async (call) => {
        const { env } = parse(EnvQuery, Object.fromEntries(call.query), 'query');
        const version = parse(VersionParam, call.params.version, 'path.version');
        const report = await reportRelease(deps, call.identity, version, env);
        return fromResult(report, (found) => ({
          status: 200,
          body: releaseJson(found.release, found.gate, found.people, found.permalink),
        }));
      },
    },
    {
      method: 'POST',
      path: '/releases/{version}/items/{item}',
      pattern: /^\/releases\/([^/]+)\/items\/([^/]+)$/,
      names: ['version', 'item'],
      handle: async (call) => {
        const { env } = parse(EnvQuery, Object.fromEntries(call.query), 'query');
        const version = parse(VersionParam, call.params.version, 'path.version');
        const itemId = parse(ItemParam, call.params.item, 'path.item');
        const body = parse(TickItemBody, call.body ?? {}, 'body');
        const ticked = await tickFromPipeline(deps, {
          identity: call.identity,
          version,
          env,
          itemId,
          done: body.done,
          requestId: call.requestId,
          ...(body.value !== undefined ? { value: body.value } : {}),
          ...(body.evidenceUrl || body.summary
            ? {
                evidence: {
                  ...(body.evidenceUrl ? { url: body.evidenceUrl } : {}),
                  ...(body.summary ? { summary: body.summary } : {}),
                },
              }
            : {}),
        });
        return fromResult(ticked, async ({ release, changed, deployed }) => {
          const [stored, people] = await Promise.all([
            deps.store.getRelease(release.teamId, release.id),
            deps.store.people.forRelease(release.teamId, release.id),
          ]);
          const now = stored ?? release;
          const item = findItem(now.template, itemId)!.item;
          return {
            status: 200,
            body: { changed, deployed, item: itemJson(item, now.items[itemId], people) },
          };
        });
      },
    },
    {
      method: 'GET',
      path: '/releases/{version}/gate',
      pattern: /^\/releases\/([^/]+)\/gate$/,
      names: ['version'],
      handle: async (call) => {
        const { env, wait } = parse(GateQuery, Object.fromEntries(call.query), 'query');
        const version = parse(VersionParam, call.params.version, 'path.version');
        const answered = await askGate(deps, {
          identity: call.identity,
          version,
          env,
          waitMs: (wait ?? 0) * 1000,
          signal: call.signal,
        });
        return fromResult(answered, ({ release, answer }) => ({
          status: 200,
          body: gateJson(release, answer),
        }));
      },
    },
    {
      method: 'POST',
      path: '/releases/{version}/deployment',
      pattern: /^\/releases\/([^/]+)\/deployment$/,
      names: ['version'],
      handle: async (call) => {
        const { env } = parse(EnvQuery, Object.fromEntries(call.query), 'query');
        const version = parse(VersionParam, call.params.version, 'path.version');
        const body = parse(DeploymentBody, call.body, 'body');
        const reported = await reportDeployment(deps, {
          identity: call.identity,
          version,
          env,
          status: body.status,
          requestId: call.requestId,
          ...(body.summary ? { summary: body.summary } : {}),
          ...(body.evidenceUrl ? { evidenceUrl: body.evidenceUrl } : {}),
          ...(body.values ? { values: body.values } : {}),
        });
        return fromResult(reported, async (outcome) => {
          const report = await describeRelease(deps, outcome.release);
          return {
            status: 200,
            body: {
              deployed: outcome.deployed,
              ticked: outcome.ticked,
              openItems: outcome.openItems,
              ...(outcome.redFlag !== undefined ? { redFlag: outcome.redFlag } : {}),
              release: releaseJson(report.release, report.gate, report.people, report.permalink),
            },
          };
        });
      },
    },
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.slice(API_PREFIX.length) || '/';
    const method = req.method ?? 'GET';
    let identity: PipelineIdentity | undefined;
    let route: Route | undefined;
    let answer: Answer | Problem;
    try {
      if (path === '/openapi.json' && (method === 'GET' || method === 'HEAD')) {
        openApi ??= JSON.stringify(buildOpenApiDocument());
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
        res.end(method === 'HEAD' ? undefined : openApi);
        return;
      }
      const matching = routes.filter((candidate) => candidate.pattern.test(path));
      route = matching.find((candidate) => candidate.method === method);
      if (!route) {
        answer = matching.length
          ? {
              ...problem(405, 'method_not_allowed', `${method} is not allowed here.`),
              headers: { allow: matching.map((candidate) => candidate.method).join(', ') },
            }
          : problem(404, 'route_not_found', `No API route ${method} ${url.pathname}.`);
      } else {
        identity = await authenticate(req);
        answer = identity ? await serve(req, route, identity, url) : unauthorized();
      }
    } catch (err) {
      answer = err instanceof BadRequest ? err.problem : unexpected(err, method, url.pathname);
    }
    send(res, answer);
    const status = answer.status;
    deps.log.info(
      {
        method,
        route: route ? `${API_PREFIX}${route.path}` : url.pathname.slice(0, 200),
        status,
        ...(identity ? { teamId: identity.teamId, token: identity.name } : {}),
        ms: Date.now() - started,
      },
      'api request',
    );
    if (identity && route && (method !== 'GET' || status >= 400)) {
      await deps.store.tokens
        .noteUse(identity.teamId, {
          tokenId: identity.tokenId,
          name: identity.name,
          action: `${method} ${route.path}`,
          status,
          now: Date.now(),
        })
        .catch((err: unknown) => deps.log.warn({ err }, 'token use not recorded'));
    }
  }

  async function authenticate(req: IncomingMessage): Promise<PipelineIdentity | undefined> {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match ? deps.store.tokens.authenticate(match[1]!, Date.now()) : undefined;
  }

  async function serve(req: IncomingMessage, route: Route, identity: PipelineIdentity, url: URL) {
    const wait = await deps.store.api.overLimit(
      identity.teamId,
      identity.tokenId,
      settings.requestsPerMinute,
      Date.now(),
    );
    if (wait !== undefined) {
      return {
        ...problem(
          429,
          'rate_limited',
          `More than ${settings.requestsPerMinute} requests a minute with this token; wait and retry.`,
        ),
        headers: { 'retry-after': String(Math.ceil(wait / 1000)) },
      };
    }
    const body = route.method === 'POST' ? await readJson(req) : undefined;
    const params = Object.fromEntries(
      route.names.map((name, index) => [
        name,
        safeDecode(route.pattern.exec(url.pathname.slice(API_PREFIX.length))![index + 1]!),
      ]),
    );
    const key = req.headers['idempotency-key'];
    const controller = new AbortController();
    const abort = () => controller.abort();
    req.once('close', abort);
    waiting.add(controller);
    const call = (requestId: string) =>
      route.handle({ identity, params, query: url.searchParams, body, requestId, signal: controller.signal });
    try {
      if (route.method !== 'POST' || typeof key !== 'string') return await call(randomUUID());
      if (key.length === 0 || key.length > 255) {
        return problem(422, 'idempotency_key_invalid', 'An Idempotency-Key has 1 to 255 characters.');
      }
      return await once(
        identity,
        key,
        `${route.method} ${url.pathname}${url.search} ${JSON.stringify(body)}`,
        call,
      );
    } finally {
      req.off('close', abort);
      waiting.delete(controller);
    }
  }

  /** Runs a state change at most once per Idempotency-Key; a retry gets the first answer again. */
  async function once(
    identity: PipelineIdentity,
    key: string,
    request: string,
    call: (requestId: string) => Promise<Answer | Problem>,
  ): Promise<Answer | Problem> {
    const claim = await deps.store.api.claim(identity.teamId, identity.tokenId, key, request);
    switch (claim.kind) {
      case 'replay':
        return {
          status: claim.response.status,
          body: claim.response.body,
          headers: { 'idempotent-replayed': 'true' },
        };
      case 'in_progress':
        return problem(
          409,
          'request_in_progress',
          'A request with this Idempotency-Key is being answered; retry shortly.',
        );
      case 'mismatch':
        return problem(
          422,
          'idempotency_key_reused',
          'This Idempotency-Key was used for a different request.',
        );
      case 'claimed':
        break;
    }
    // The same key makes the same command id, so even a retry after a lost answer changes nothing twice.
    const requestId = `api:${identity.tokenId}:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
    try {
      const answer = await call(requestId);
      const { headers: _headers, ...stored } = answer as Answer;
      if (answer.status < 500) {
        await deps.store.api.remember(identity.teamId, identity.tokenId, key, request, {
          status: answer.status,
          body: isProblem(answer) ? answer : stored.body,
        });
      } else await deps.store.api.release(identity.teamId, identity.tokenId, key);
      return answer;
    } catch (err) {
      await deps.store.api.release(identity.teamId, identity.tokenId, key).catch(() => undefined);
      throw err;
    }
  }

  function unexpected(err: unknown, method: string, path: string): Problem {
    const errorId = createErrorId();
    deps.log.error({ err, errorId, method, path: path.slice(0, 200) }, 'api request failed');
    return problem(500, 'internal_error', `Something went wrong on our side (error id ${errorId}).`, {
      errorId,
    });
  }

  return {
    prefix: API_PREFIX,
    handle,
    close() {
      for (const controller of waiting) controller.abort();
    },
  };
}

function unauthorized(): Problem {
  return {
    ...problem(
      401,
      'unauthorized',
      'Send a pipeline token as "Authorization: Bearer shpk_…"; /deploy token create makes one.',
    ),
    headers: { 'www-authenticate': 'Bearer realm="shipcheck"' },
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequest(problem(400, 'path_invalid', 'The path is not valid percent-encoding.'));
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  if (type !== 'application/json') {
    throw new BadRequest(problem(415, 'unsupported_media_type', 'Send the body as application/json.'));
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequest(problem(400, 'json_invalid', 'The body is not valid JSON.'));
  }
}

function tooLarge(): BadRequest {
  return new BadRequest(
    problem(413, 'body_too_large', `A request body has at most ${MAX_BODY_BYTES} bytes.`),
  );
}

function send(res: ServerResponse, answer: Answer | Problem): void {
  if (res.headersSent) return;
  const headers = 'headers' in answer && answer.headers ? (answer.headers as Record<string, string>) : {};
  const { headers: _omit, ...rest } = answer as Answer & { headers?: unknown };
  const body = isProblem(answer) ? rest : (answer as Answer).body;
  res.writeHead(answer.status, {
    'content-type': isProblem(answer) ? PROBLEM_CONTENT_TYPE : 'application/json',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(JSON.stringify(body));
}
