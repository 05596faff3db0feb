import type { IncomingMessage } from 'node:http';
import type { StatusPagesConfig } from '../../config/env.js';
import { verifyStatusLink } from '../../domain/status-link.js';

// Who may see a page. A signed link (`?link=…`, from `/deploy status link`) is checked, then kept in
// an HttpOnly cookie and the visitor is redirected to the same page without it: the token leaves the
// address bar and history, and the pages' own links need not carry it. The cookie holds the token
// itself, so every request is checked again (signature and expiry) and nothing is stored server-side.

export const LINK_PARAMETER = 'link';
export const ACCESS_COOKIE = 'shipcheck_status';

export type Access =
  /** A valid link or cookie: every page of the workspace. */
  | { kind: 'signed_in'; teamId: string; expiresAt: number; token: string }
  /** STATUS_PUBLIC: /status of the configured workspace, read-only, without links to the other pages. */
  | { kind: 'public'; teamId: string }
  | { kind: 'denied'; problem: 'missing' | 'malformed' | 'forged' | 'expired' };

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

/** The access a request has: its link first, then its cookie, then public mode where the page allows it. */
export function decideAccess(
  config: StatusPagesConfig,
  req: IncomingMessage,
  url: URL,
  publicAllowed: boolean,
  now: number,
): Access {
  const token = url.searchParams.get(LINK_PARAMETER) ?? readCookie(req, ACCESS_COOKIE);
  if (token !== undefined && token !== null) {
    const check = verifyStatusLink(config.linkKey, token, now);
    if (check.ok) return { kind: 'signed_in', ...check.grant, token };
    // A bad link is refused even in public mode: whoever sent it should hear that it does not work.
    if (url.searchParams.has(LINK_PARAMETER) || !(publicAllowed && config.publicTeam))
      return { kind: 'denied', problem: check.problem };
  }
  if (publicAllowed && config.publicTeam) return { kind: 'public', teamId: config.publicTeam };
  return { kind: 'denied', problem: 'missing' };
}

/** The cookie that keeps a checked link for the rest of its life. */
export function accessCookie(
  config: StatusPagesConfig,
  token: string,
  expiresAt: number,
  now: number,
): string {
  const maxAgeSec = Math.max(0, Math.floor((expiresAt - now) / 1000));
  const secure = config.baseUrl.startsWith('https:') ? '; Secure' : '';
  return `${ACCESS_COOKIE}=${token}; Max-Age=${maxAgeSec}; Path=/; HttpOnly; SameSite=Lax${secure}`;
}
