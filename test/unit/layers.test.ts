import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The folders of src/ are layers, and imports point one way: the edges (Slack listeners, job workers,
// the HTTP server) call the application layer, which calls the store, the queues and the Slack Web API
// client, all of which rest on the pure domain. Views are pure renders any edge may use. This test
// reads every import in src/ and fails on one that points the wrong way.

const ROOT = path.resolve('src');

/** What each folder (or top-level module) may import besides itself. */
const ALLOWED: Record<string, readonly string[]> = {
  domain: [],
  config: ['domain'],
  store: ['domain'],
  views: ['domain'],
  queues: ['domain', 'store', 'config'],
  'slack-api': ['domain', 'store', 'log', 'metrics'],
  // The metrics server shipcheck reads success criteria from (Prometheus's HTTP API).
  'metrics-source': ['domain'],
  app: ['domain', 'store', 'queues', 'slack-api', 'views', 'config', 'log', 'metrics', 'metrics-source'],
  slack: ['app', 'domain', 'store', 'queues', 'slack-api', 'views', 'config', 'log'],
  jobs: [
    'app',
    'domain',
    'store',
    'queues',
    'slack-api',
    'views',
    'config',
    'log',
    'metrics',
    'metrics-source',
  ],
  // The pipeline API (src/http/api) and the status pages (src/http/pages) call the application layer
  // and render with the views.
  http: ['app', 'domain', 'views', 'config', 'log'],
  cli: ['domain', 'config', 'views', 'cli'],
  log: [],
  metrics: [],
  // The composition root and the CLI's entry wire everything together.
  main: ['*'],
  'cli.ts': ['*'],
};

/** Packages only the edges may use: the pure core must not know Slack's SDK, Redis, queues or logging. */
const FORBIDDEN_IN_CORE = ['@slack/bolt', 'ioredis', 'bullmq', 'pino', 'undici'];

async function listSources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return listSources(full);
      return Promise.resolve(entry.name.endsWith('.ts') ? [full] : []);
    }),
  );
  return nested.flat();
}

/** The layer of a file: its top folder under src/, or the name of a top-level module. */
function layerOf(file: string): string {
  const [first = '', second] = path.relative(ROOT, file).split(path.sep);
  if (second !== undefined) return first;
  return first === 'cli.ts' ? 'cli.ts' : first.replace(/\.ts$/, '');
}

const sources = await listSources(ROOT);
const imports = await Promise.all(
  sources.map(async (file) => {
    const text = await readFile(file, 'utf8');
    const specifiers = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map(
      (match) => match[1]!,
    );
    return { file, specifiers };
  }),
);

describe('layers', () => {
  it('knows every folder of src/', () => {
    const layers = new Set(sources.map(layerOf));
    for (const layer of layers) expect(Object.keys(ALLOWED), `src/${layer}`).toContain(layer);
  });

  it('points every import one way', () => {
    const wrong: string[] = [];
    for (const { file, specifiers } of imports) {
      const from = layerOf(file);
      const allowed = ALLOWED[from] ?? [];
      for (const specifier of specifiers) {
        if (!specifier.startsWith('.')) continue;
        const to = layerOf(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')));
        if (to === from || allowed.includes('*') || allowed.includes(to)) continue;
        wrong.push(`${path.relative(ROOT, file)} → ${specifier} (${from} may not import ${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps Slack’s SDK, Redis, queues and logging out of the domain and the views', () => {
    const wrong: string[] = [];
    for (const { file, specifiers } of imports) {
      if (!['domain', 'views'].includes(layerOf(file))) continue;
      for (const specifier of specifiers) {
        if (FORBIDDEN_IN_CORE.some((name) => specifier === name || specifier.startsWith(`${name}/`)))
          wrong.push(`${path.relative(ROOT, file)} imports ${specifier}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
