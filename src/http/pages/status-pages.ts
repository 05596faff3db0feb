import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  readReleasePage,
  readStatsPage,
  readStatusPage,
  type StatusPageDeps,
} from '../../app/status-page.js';
import type { StatusPagesConfig } from '../../config/env.js';
import { DEFAULT_STATS_DAYS, parseStatsArguments } from '../../domain/stats.js';
import type { StatusPage } from '../../domain/status-board.js';
import type { Logger } from '../../log.js';
import { LIVE_SCRIPT, STYLESHEET } from '../../views/html/assets.js';
import { ASSET_PATHS, renderMessagePage } from '../../views/html/layout.js';
import { renderReleasePage } from '../../views/html/release.js';
import { renderStatsPage } from '../../views/html/stats.js';
import { renderStatusBoard, renderStatusPage } from '../../views/html/status.js';
import type { Mount } from '../server.js';
import { type Access, accessCookie, decideAccess, LINK_PARAMETER } from './access.js';
import { LiveBoards } from './live-board.js';

// The status pages on shipcheck's own server: /status, /releases/{id} (with its log files) and /stats.
// Read-only: GET and HEAD. Every page is private to the workspace a signed link names; /status alone
// may be public (STATUS_PUBLIC) for a wall display.

export const LIVE_PATH = '/status/live';
/** Without script, /status reloads itself this often. */
const META_REFRESH_SECONDS = 60;
const STATS_DAY_CHOICES = [7, 30, 90, 180, 365];

/** The page may not be framed, and runs only our own script: a value that slipped past escaping could not run. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export interface StatusPagesDeps {
  app: StatusPageDeps;
  config: StatusPagesConfig;
  environments: readonly string[];
  liveIntervalMs: number;
  maxLiveStreams?: number;
  log: Logger;
}

export interface StatusPages {
  mounts: Mount[];
  live: LiveBoards;
  /** Ends the live streams, so that the server can close. */
  close(): void;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...PAGE_HEADERS, ...headers });
  res.end(body);
}

function sendDenied(res: ServerResponse, access: Extract<Access, { kind: 'denied' }>): void {
  const why =
    access.problem === 'expired'
      ? 'This link has expired.'
      : access.problem === 'missing'
        ? 'These pages open with a link from shipcheck.'
        : 'This link is not valid.';
  send(
    res,
    403,
    renderMessagePage('No access', `${why} Type /deploy status link in Slack to get a new one.`, false),
  );
}

export function createStatusPages(deps: StatusPagesDeps): StatusPages {
  // Requests for a workspace's board that arrive while it is being read share that read: a wall of
  // tabs reloading at once (the meta refresh) costs one read, not one each.
  const reading = new Map<string, Promise<StatusPage>>();
  const readBoard = (teamId: string): Promise<StatusPage> => {
    const pending = reading.get(teamId);
    if (pending) return pending;
    const read = readStatusPage(deps.app, teamId, Date.now()).finally(() => reading.delete(teamId));
    reading.set(teamId, read);
    return read;
  };
  const live = new LiveBoards({
    readPage: (teamId) => readBoard(teamId),
    renderBoard: (page, signedIn) => renderStatusBoard(page, signedIn).text,
    intervalMs: deps.liveIntervalMs,
    maxStreams: deps.maxLiveStreams ?? 5000,
    log: deps.log.child({ component: 'status-live' }),
  });

  /**
   * Checks access and answers what it can itself (405, 403, the redirect that moves a link into the
   * cookie); returns the access when the page should be served.
   */
  const admit = (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    publicAllowed: boolean,
  ): Extract<Access, { kind: 'signed_in' | 'public' }> | undefined => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return undefined;
    }
    const now = Date.now();
    const access = decideAccess(deps.config, req, url, publicAllowed, now);
    if (access.kind === 'denied') {
      sendDenied(res, access);
      return undefined;
    }
    if (access.kind === 'signed_in' && url.searchParams.has(LINK_PARAMETER)) {
      url.searchParams.delete(LINK_PARAMETER);
      res.writeHead(303, {
        location: `${url.pathname}${url.search}`,
        'set-cookie': accessCookie(deps.config, access.token, access.expiresAt, now),
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      });
      res.end();
      return undefined;
    }
    return access;
  };

  const notFound = (res: ServerResponse, signedIn: boolean) =>
    send(res, 404, renderMessagePage('Not found', 'There is no such page.', signedIn));

  const handleStatus = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://status.invalid');
    if (url.pathname === ASSET_PATHS.stylesheet || url.pathname === ASSET_PATHS.liveScript) {
      const css = url.pathname === ASSET_PATHS.stylesheet;
      res.writeHead(200, {
        'content-type': css ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
        'cache-control': 'public, max-age=3600',
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : css ? STYLESHEET : LIVE_SCRIPT);
      return;
    }
    if (url.pathname !== '/status' && url.pathname !== LIVE_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return void admit(req, res, url, true);
      return notFound(res, false);
    }
    const access = admit(req, res, url, true);
    if (!access) return;
    const signedIn = access.kind === 'signed_in';
    if (url.pathname === LIVE_PATH) return live.subscribe(access.teamId, signedIn, res);
    const page = await readBoard(access.teamId);
    send(
      res,
      200,
      renderStatusPage(page, { signedIn, eventsUrl: LIVE_PATH, refreshSeconds: META_REFRESH_SECONDS }),
    );
  };

  const handleRelease = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://status.invalid');
    const access = admit(req, res, url, false);
    if (!access) return;
    const match = /^\/releases\/([^/]+)(?:\/(log\.md|log\.json))?$/.exec(url.pathname);
    if (!match) return notFound(res, true);
    const now = Date.now();
    const page = await readReleasePage(deps.app, access.teamId, decodeURIComponent(match[1]!), now);
    if (!page) return notFound(res, true);
    const file = match[2];
    if (file === 'log.md' || file === 'log.json') {
      const markdown = file === 'log.md';
      res.writeHead(200, {
        'content-type': markdown ? 'text/markdown; charset=utf-8' : 'application/json; charset=utf-8',
        // The stem is built from version and environment, both limited to safe characters.
        'content-disposition': `attachment; filename="${page.log.fileStem}.${markdown ? 'md' : 'json'}"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      res.end(markdown ? page.log.markdown : `${JSON.stringify(page.log.json, null, 2)}\n`);
      return;
    }
    send(res, 200, renderReleasePage(page, true));
  };

  const handleStats = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://status.invalid');
    const access = admit(req, res, url, false);
    if (!access) return;
    if (url.pathname !== '/stats') return notFound(res, true);
    const days = url.searchParams.get('days')?.trim() || String(DEFAULT_STATS_DAYS);
    const env = url.searchParams.get('env')?.trim() ?? '';
    const args = parseStatsArguments(`${days} ${env}`, deps.environments);
    if (!args.ok) return send(res, 400, renderMessagePage('Not understood', args.problem, true));
    const page = await readStatsPage(deps.app, access.teamId, { days: args.days, env: args.env }, Date.now());
    const dayChoices = [...new Set([...STATS_DAY_CHOICES, args.days])].sort((a, b) => a - b);
    send(res, 200, renderStatsPage(page, { environments: deps.environments, dayChoices }));
  };

  return {
    mounts: [
      { prefix: '/status', handle: handleStatus },
      { prefix: '/releases', handle: handleRelease },
      { prefix: '/stats', handle: handleStats },
    ],
    live,
    close: () => live.close(),
  };
}
