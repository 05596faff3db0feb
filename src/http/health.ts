import type { Registry } from 'prom-client';
import type { RouteHandler } from './server.js';

export interface ReadinessCheck {
  name: string;
  /** Resolves true when the dependency is usable; a rejection or false means not ready. */
  check: () => Promise<boolean>;
}

const CHECK_TIMEOUT_MS = 1000;

async function runCheck({ name, check }: ReadinessCheck): Promise<[string, boolean]> {
  const timeout = new Promise<boolean>((resolve) =>
    setTimeout(() => resolve(false), CHECK_TIMEOUT_MS).unref(),
  );
  const ok = await Promise.race([check().catch(() => false), timeout]);
  return [name, ok];
}

function sendJson(res: Parameters<RouteHandler>[1], status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * /healthz: liveness; the process runs and serves (a restart would not help while Redis is away).
 * /readyz: readiness; Redis answers, the queues are open and the instance is not shutting down.
 * /metrics: Prometheus text format.
 */
export function createOperationalRoutes(options: {
  checks: ReadinessCheck[];
  isDraining: () => boolean;
  registry?: Registry;
}): Record<string, RouteHandler> {
  const routes: Record<string, RouteHandler> = {
    '/healthz': (_req, res) => {
      sendJson(res, 200, { ok: true, status: options.isDraining() ? 'draining' : 'live' });
    },
    '/readyz': async (_req, res) => {
      const results = Object.fromEntries(await Promise.all(options.checks.map(runCheck)));
      const draining = options.isDraining();
      const ready = !draining && Object.values(results).every(Boolean);
      sendJson(res, ready ? 200 : 503, {
        ok: ready,
        ...(draining ? { status: 'draining' } : {}),
        checks: Object.fromEntries(Object.entries(results).map(([name, ok]) => [name, ok ? 'up' : 'down'])),
      });
    },
  };
  const registry = options.registry;
  if (registry) {
    routes['/metrics'] = async (_req, res) => {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(body);
    };
  }
  return routes;
}
