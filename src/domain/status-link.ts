import { createHmac, timingSafeEqual } from 'node:crypto';

// The signed, expiring links that open the status pages: `<team id>.<expiry, epoch seconds>.<MAC>`.
// The MAC (HMAC-SHA256 with STATUS_LINK_KEY) covers the workspace and the expiry, so a link opens one
// workspace's pages until it expires and cannot be stretched to another workspace or a later time.
// Pure: the moment to check against is passed in.

/** Separates this use of the key from any other HMAC made with it. */
const MAC_CONTEXT = 'shipcheck-status-link/1';

/** Slack workspace ids (and the expiry) as they may appear in a link; anything else is malformed. */
const LINK_PATTERN = /^(T[A-Z0-9]{2,20})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

export interface StatusLinkGrant {
  teamId: string;
  /** Epoch ms. */
  expiresAt: number;
}

export type StatusLinkCheck =
  | { ok: true; grant: StatusLinkGrant }
  | { ok: false; problem: 'malformed' | 'forged' | 'expired' };

function macOf(key: string, teamId: string, expiresAtSec: string): Buffer {
  return createHmac('sha256', key).update(`${MAC_CONTEXT}|${teamId}|${expiresAtSec}`).digest();
}

/** The token of a link to `teamId`'s pages that opens them until `expiresAt` (epoch ms, whole seconds kept). */
export function signStatusLink(key: string, teamId: string, expiresAt: number): string {
  const expiresAtSec = String(Math.floor(expiresAt / 1000));
  return `${teamId}.${expiresAtSec}.${macOf(key, teamId, expiresAtSec).toString('base64url')}`;
}

/** Checks a token's form, its MAC (in constant time) and its expiry at `now`. */
export function verifyStatusLink(key: string, token: string, now: number): StatusLinkCheck {
  const match = LINK_PATTERN.exec(token);
  if (!match) return { ok: false, problem: 'malformed' };
  const [, teamId, expiresAtSec, macText] = match as unknown as [string, string, string, string];
  // Compared as text: decoding would let a link with other (ignored) padding bits in its last
  // character pass as the same MAC.
  const given = Buffer.from(macText, 'ascii');
  const expected = Buffer.from(macOf(key, teamId, expiresAtSec).toString('base64url'), 'ascii');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, problem: 'forged' };
  const expiresAt = Number(expiresAtSec) * 1000;
  if (now >= expiresAt) return { ok: false, problem: 'expired' };
  return { ok: true, grant: { teamId, expiresAt } };
}
