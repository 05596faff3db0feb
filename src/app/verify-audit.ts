import { type TrailReport, verifyAuditTrail } from '../domain/audit-seal.js';
import type { Release } from '../domain/release.js';
import type { AppDeps } from './deps.js';

// `/deploy audit <version> verify`: the trail as Redis holds it, checked against its hash chain, the
// relay's keyed seals, the newest seal kept in Redis, and the anchor the release's Slack header
// carries (read by the caller, which talks to Slack).

/** What the header's anchor said: read, absent, or unreadable (Slack failed). */
export type AnchorReading =
  | { state: 'read'; position: number; seal: string }
  | { state: 'none' }
  | { state: 'unavailable' };

export async function verifyReleaseAudit(
  deps: Pick<AppDeps, 'store' | 'config'>,
  release: Release,
  anchor: AnchorReading,
  now: number,
): Promise<TrailReport> {
  const { entries, head, seals, sealHead } = await deps.store.readAuditChain(release.teamId, release.id);
  return verifyAuditTrail({
    entries,
    chainHead: head,
    seals,
    sealHead,
    anchor: anchor.state === 'read' ? { position: anchor.position, seal: anchor.seal } : undefined,
    status: release.status,
    keys: deps.config.auditKeys,
    now,
  });
}
