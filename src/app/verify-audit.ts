import type { AuditEvent } from '../domain/audit.js';
import {
  type AuditKeys,
  readAnchorPayload,
  type TrailReport,
  verifyAuditTrail,
} from '../domain/audit-seal.js';
import type { LogEvidence } from '../domain/deployment-log.js';
import type { Release } from '../domain/release.js';
import type { Logger } from '../log.js';
import { messageDeliveryKey } from '../slack-api/delivery.js';
import type { SlackOutbound } from '../slack-api/outbound.js';
import { parseAuditEntry } from '../store/release-codec.js';
import type { ReleaseStore } from '../store/release-store.js';
import type { AppDeps } from './deps.js';

// `/deploy audit <version> verify`: the trail as Redis holds it, checked against its hash chain, the
// relay's keyed seals, the newest seal kept in Redis, and the anchor the release's Slack header
// carries. The deployment log carries the same check and what it was made against.

/** What the header's anchor said: read, absent, unreadable (Slack failed), or not asked (no Slack). */
export type AnchorReading =
  | { state: 'read'; position: number; seal: string }
  | { state: 'none' }
  | { state: 'unavailable' }
  | { state: 'not_read' };

export async function verifyReleaseAudit(
  deps: Pick<AppDeps, 'store' | 'config'>,
  release: Release,
  anchor: AnchorReading,
  now: number,
): Promise<TrailReport> {
  return (await readLogEvidence(deps.store, deps.config.auditKeys, release, anchor, now)).evidence.report;
}

/**
 * The trail as stored, read once: its events for the log, and the entries, seals and anchors with the
 * check of them, which the log carries as evidence.
 */
export async function readLogEvidence(
  store: ReleaseStore,
  keys: AuditKeys | undefined,
  release: Release,
  anchor: AnchorReading,
  now: number,
): Promise<{ events: AuditEvent[]; evidence: LogEvidence }> {
  const { entries, head, seals, sealHead } = await store.readAuditChain(release.teamId, release.id);
  const slack = anchor.state === 'read' ? { position: anchor.position, seal: anchor.seal } : undefined;
  const report = verifyAuditTrail({
    entries,
    chainHead: head,
    seals,
    sealHead,
    anchor: slack,
    status: release.status,
    keys,
    now,
  });
  return {
    events: entries.map((entry) => parseAuditEntry(entry.id, entry.fields)),
    evidence: { entries, chainHead: head, seals, sealHead, anchor, report },
  };
}

/**
 * The audit anchor on the release's header, read from Slack: a Redis writer can change what shipcheck
 * keeps, not what Slack shows. A header whose metadata names another delivery is no anchor.
 */
export async function readHeaderAnchor(
  deps: { store: ReleaseStore; outbound: SlackOutbound; log: Logger },
  release: Release,
): Promise<Exclude<AnchorReading, { state: 'not_read' }>> {
  const headerTs = (await deps.store.messages.get(release.teamId, release.id)).refs.header?.ts;
  if (!headerTs) return { state: 'none' };
  try {
    const metadata = await deps.outbound.readMessageMetadata(release.channelId, headerTs);
    const anchor = readAnchorPayload(metadata?.event_payload);
    if (!anchor || metadata?.event_payload.key !== messageDeliveryKey(release.id, 'header'))
      return { state: 'none' };
    return { state: 'read', ...anchor };
  } catch (err) {
    deps.log.warn({ err, releaseId: release.id }, 'audit anchor unreadable in slack');
    return { state: 'unavailable' };
  }
}
