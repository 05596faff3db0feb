import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer, type Mount } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';

const log = createLogger('silent');
let server: HttpServer | undefined;

afterEach(async () => {
  await server?.close(1000);
  server = undefined;
});

async function serve(mounts: Mount[]): Promise<string> {
  server = new HttpServer({ '/healthz': (_req, res) => void res.end('ok') }, log, undefined, mounts);
  await server.listen(0);
  return `http://127.0.0.1:${server.port}`;
}

describe('HttpServer mounts', () => {
  it('hands every method and path under a prefix to its mount, and nothing outside it', async () => {
    const seen: string[] = [];
    const base = await serve([
      {
        prefix: '/api/v1',
        handle: (req, res) => {
          seen.push(`${req.method} ${req.url}`);
          res.writeHead(201).end();
        },
      },
    ]);
    expect((await fetch(`${base}/api/v1/releases?env=prod`, { method: 'POST' })).status).toBe(201);
    expect((await fetch(`${base}/api/v1`, { method: 'DELETE' })).status).toBe(201);
    expect((await fetch(`${base}/api/v10`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(seen).toEqual(['POST /api/v1/releases?env=prod', 'DELETE /api/v1']);
  });

  it('answers 500 when a mount throws, and keeps serving', async () => {
    const base = await serve([
      {
        prefix: '/status',
        handle: () => {
          throw new Error('boom');
        },
      },
    ]);
    expect((await fetch(`${base}/status`)).status).toBe(500);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
