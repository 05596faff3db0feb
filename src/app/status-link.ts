import type { StatusPagesConfig } from '../config/env.js';
import { signStatusLink } from '../domain/status-link.js';

// A link that opens the status pages of one workspace for STATUS_LINK_TTL, for the person who asked.

export interface StatusLink {
  url: string;
  expiresAt: number;
}

/** The link to /status, or to one release's page when `releaseId` is given. */
export function createStatusLink(
  config: StatusPagesConfig,
  teamId: string,
  now: number,
  releaseId?: string,
): StatusLink {
  const expiresAt = now + config.linkTtlMs;
  const token = signStatusLink(config.linkKey, teamId, expiresAt);
  const path = releaseId === undefined ? '/status' : `/releases/${encodeURIComponent(releaseId)}`;
  return { url: `${config.baseUrl}${path}?link=${encodeURIComponent(token)}`, expiresAt };
}
