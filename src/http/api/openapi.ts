import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  DeploymentBody,
  DeploymentResponse,
  EnvQuery,
  GateQuery,
  GateView,
  ItemParam,
  ProblemView,
  ReleaseView,
  StartReleaseBody,
  StartReleaseResponse,
  TickItemBody,
  TickItemResponse,
  VersionParam,
} from './schemas.js';

// The OpenAPI 3.1 document of /api/v1, generated from the schemas that validate the requests.

const json = <Schema extends z.ZodType>(schema: Schema, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: PROBLEM_DESCRIPTIONS[status] ?? 'Refused',
        content: { 'application/problem+json': { schema: ProblemView } },
      },
    ]),
  );

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The body is not JSON, or the path is not valid',
  401: 'No token, or not a valid one',
  403: 'The token may not do this (its environments, or an item kept for people)',
  404: 'No such release or item',
  405: 'Not allowed on this route',
  409: 'The release is not in a state that allows it (closed, locked, frozen, stopped by a red flag)',
  413: 'The body is too large',
  415: 'The body is not application/json',
  422: 'The request does not fit the schema, or the value does not fit the item',
  429: 'Too many requests with this token; see Retry-After',
  503: 'shipcheck cannot reach its store right now; retry',
};

const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: 'Makes a retried state change answer as the first did, and change nothing more' }),
});
const withVersion = z.object({ version: VersionParam });
const STATE_CHANGE_PROBLEMS = [400, 401, 403, 404, 409, 413, 415, 422, 429, 503];

export function buildOpenApiDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'pipelineToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'A pipeline token from `/deploy token create` (shpk_…)',
  });
  registry.registerPath({
    method: 'post',
    path: '/releases',
    operationId: 'startRelease',
    summary: 'Start a release',
    description:
      'The same checks as `/deploy start`. Starting a version already active in the environment answers 200 with that release.',
    request: {
      headers: IdempotencyHeader,
      body: { content: { 'application/json': { schema: StartReleaseBody } } },
    },
    responses: {
      200: json(StartReleaseResponse, 'The version was already active in the environment'),
      201: json(StartReleaseResponse, 'Started'),
      ...problems(...STATE_CHANGE_PROBLEMS),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/releases/{version}',
    operationId: 'getRelease',
    summary: 'Where a release stands',
    request: { params: withVersion, query: EnvQuery },
    responses: { 200: json(ReleaseView, 'The release'), ...problems(401, 403, 404, 409, 422, 429, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/releases/{version}/items/{item}',
    operationId: 'tickItem',
    summary: 'Tick or untick an item the template marks for pipelines',
    request: {
      params: withVersion.extend({ item: ItemParam }),
      query: EnvQuery,
      headers: IdempotencyHeader,
      body: { content: { 'application/json': { schema: TickItemBody } } },
    },
    responses: {
      200: json(TickItemResponse, 'Applied, or already so'),
      ...problems(...STATE_CHANGE_PROBLEMS),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/releases/{version}/gate',
    operationId: 'getGate',
    summary: 'May the deploy start now?',
    description: 'With `wait`, answers as soon as the answer changes, or when the wait is over.',
    request: { params: withVersion, query: GateQuery },
    responses: { 200: json(GateView, 'The answer'), ...problems(401, 403, 404, 409, 422, 429, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/releases/{version}/deployment',
    operationId: 'reportDeployment',
    summary: 'Report the deploy: started, succeeded or failed',
    request: {
      params: withVersion,
      query: EnvQuery,
      headers: IdempotencyHeader,
      body: { content: { 'application/json': { schema: DeploymentBody } } },
    },
    responses: { 200: json(DeploymentResponse, 'Recorded'), ...problems(...STATE_CHANGE_PROBLEMS) },
  });
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'shipcheck pipeline API',
      version: '1.0.0',
      description:
        'How CI/CD starts releases, ticks what machines can check, waits at the gate and reports the deploy.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ pipelineToken: [] }],
  });
}
