import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { createPipelineToken } from '../support/pipelines.js';

// The OpenAPI document is valid OpenAPI 3.1, and what the API really answers, on every route, for
// success and refusal alike, fits the schema the document gives for that route and status.

const TEMPLATE = `id: piped
name: Piped
phases:
  - id: build
    name: Build
    items:
      - id: build-green
        text: Build is green
        pipeline: true
  - id: ship
    name: Ship
    deployment: true
    items:
      - id: deploy-succeeded
        text: Deploy succeeded
        pipeline: true
      - id: watched
        text: Dashboards watched by a person
`;

type Operation = {
  responses: Record<string, { content: Record<string, { schema: object }> }>;
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: object };

let checklistsDir: string;
let app: TestApp;
let token: string;
let document: Document;

beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-openapi-'));
  await writeFile(path.join(checklistsDir, 'piped.yaml'), TEMPLATE);
  app = await startTestApp({
    env: { CHECKLISTS_DIR: checklistsDir, ROLES: 'release_manager=U0LEAD', CHECKIN_SCHEDULE: '1h' },
  });
  token = await createPipelineToken(app, 'ci', 'production');
  document = (await (await fetch(`${app.baseUrl}/api/v1/openapi.json`)).json()) as Document;
});

afterAll(async () => {
  await app.stop();
  await rm(checklistsDir, { recursive: true, force: true });
});

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 and describes every route', async () => {
    const result = await validate(structuredClone(document) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual([
      '/releases',
      '/releases/{version}',
      '/releases/{version}/deployment',
      '/releases/{version}/gate',
      '/releases/{version}/items/{item}',
    ]);
  });

  it('matches what every route really answers', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ ...document, $id: 'api' });
    const checked: string[] = [];
    const call = async (method: string, pathTemplate: string, url: string, body?: unknown) => {
      const response = await fetch(`${app.baseUrl}/api/v1${url}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const status = String(response.status);
      const operation = document.paths[pathTemplate]?.[method.toLowerCase()];
      const described = operation?.responses[status];
      expect(described, `${method} ${pathTemplate} ${status} is documented`).toBeDefined();
      const [mediaType] = (response.headers.get('content-type') ?? '').split(';');
      const schema = described!.content[mediaType!]?.schema;
      expect(schema, `${method} ${pathTemplate} ${status} ${mediaType}`).toBeDefined();
      const pointer = `api#/paths/${pathTemplate.replace(/\//g, '~1')}/${method.toLowerCase()}/responses/${status}/content/${mediaType!.replace(/\//g, '~1')}/schema`;
      const validateBody = ajv.getSchema(pointer)!;
      const json = await response.json();
      expect(validateBody(json), `${method} ${url} → ${status}: ${ajv.errorsText(validateBody.errors)}`).toBe(
        true,
      );
      checked.push(`${method} ${pathTemplate} ${status}`);
      return json;
    };
    await call('POST', '/releases', '/releases', {
      version: 'v1.0',
      env: 'production',
      template: 'piped',
      commit: 'abcdef1',
    });
    await call('POST', '/releases', '/releases', { version: 'v1.0', env: 'production', template: 'piped' });
    await call('POST', '/releases', '/releases', { version: 'v1.1', env: 'staging', template: 'piped' });
    await call('POST', '/releases', '/releases', { version: 'bad version', env: 'production' });
    await call('GET', '/releases/{version}', '/releases/v1.0?env=production');
    await call('GET', '/releases/{version}', '/releases/v4.4');
    await call('GET', '/releases/{version}/gate', '/releases/v1.0/gate?wait=0');
    await call('POST', '/releases/{version}/items/{item}', '/releases/v1.0/items/build-green', {
      evidenceUrl: 'https://ci.example.com/1',
    });
    await call('POST', '/releases/{version}/items/{item}', '/releases/v1.0/items/watched', {});
    await call('POST', '/releases/{version}/deployment', '/releases/v1.0/deployment', {
      status: 'succeeded',
    });
    await call('POST', '/releases/{version}/deployment', '/releases/v1.0/deployment', { status: 'sideways' });
    await call('GET', '/releases/{version}/gate', '/releases/v1.0/gate');
    expect(checked).toEqual([
      'POST /releases 201',
      'POST /releases 200',
      'POST /releases 403',
      'POST /releases 422',
      'GET /releases/{version} 200',
      'GET /releases/{version} 404',
      'GET /releases/{version}/gate 200',
      'POST /releases/{version}/items/{item} 200',
      'POST /releases/{version}/items/{item} 403',
      'POST /releases/{version}/deployment 200',
      'POST /releases/{version}/deployment 422',
      'GET /releases/{version}/gate 200',
    ]);
  });
});
