import type { StoredAuditEntry } from './audit-chain.js';
import {
  type AuditKeys,
  type SealHead,
  type StoredSeal,
  type TrailBreak,
  type TrailReport,
  verifyAuditTrail,
} from './audit-seal.js';
import { DEPLOYMENT_LOG_SCHEMA, type DeploymentLogVerification } from './deployment-log.js';
import type { ReleaseStatus } from './release.js';

// Checks an exported deployment log (schema 2) offline, as `shipcheck verify-log` does: the trail is
// rebuilt from each event's stored fields and checked by the same rules as `/deploy audit … verify`
// (hash chain, sequence numbers, the start and ending events, and with a key the seals and the seal
// head), against the anchors the file carries. The readable fields of each event must agree with
// its stored ones, since the hash covers only the stored ones. Without the key a writer of the file
// can rebuild a consistent chain: only the seals make the file tamper-evident.

export type LogBreak =
  | TrailBreak
  /** The event's readable fields say something its stored (hashed) fields do not. */
  | 'readable_mismatch';

export const LOG_BREAK_WORDS: Record<'readable_mismatch', string> = {
  readable_mismatch: 'its readable fields differ from its stored fields, which the hash covers',
};

export interface LogProblem {
  problem: LogBreak;
  /** 1-based, in file order; one past the last event for something missing at the end. */
  position: number;
  eventId?: string;
  seq?: number;
  type?: string;
}

export type LogCheck =
  | { readable: false; why: string }
  | {
      readable: true;
      release: { id: string; version: string; env: string; status: string };
      report: TrailReport;
      /** Every problem found now, in order of position. */
      problems: LogProblem[];
      /** What the log said about its trail when it was built. */
      recorded: DeploymentLogVerification | undefined;
      anchors: { chainHead?: string; sealHead?: SealHead; slack?: { position: number; seal: string } };
    };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string';

/** Readable event fields and the stored field each comes from (as src/store/release-codec.ts reads them). */
const READABLE_FIELDS: [readable: string, stored: string][] = [
  ['type', 'type'],
  ['user', 'user'],
  ['from', 'from'],
  ['to', 'to'],
  ['itemId', 'item'],
  ['phaseIndex', 'phase'],
  ['reason', 'reason'],
  ['version', 'version'],
  ['env', 'env'],
  ['templateId', 'template'],
  ['windowZone', 'zone'],
  ['recipient', 'recipient'],
  ['checkinIndex', 'checkin'],
  ['criterionId', 'criterion'],
  ['issueId', 'issue'],
  ['severity', 'severity'],
  ['action', 'action'],
  ['checkins', 'checkins'],
  ['blockingPhaseIndex', 'blocking'],
  ['value', 'value'],
  ['clearedValue', 'cleared'],
  ['commit', 'commit'],
  ['runUrl', 'run'],
  ['evidenceUrl', 'evidence'],
  ['summary', 'summary'],
];

function storedValue(fields: readonly string[], name: string): string | undefined {
  for (let index = 0; index + 1 < fields.length; index += 2)
    if (fields[index] === name) return fields[index + 1];
  return undefined;
}

function readableAgrees(event: Json, stored: readonly string[]): boolean {
  const at = storedValue(stored, 'at');
  if (at === undefined || Date.parse(String(event.at)) !== Number(at)) return false;
  return READABLE_FIELDS.every(([readable, name]) => {
    const shown = event[readable];
    const kept = storedValue(stored, name);
    if (shown === undefined) return kept === undefined || kept === '';
    return String(shown) === (kept ?? '');
  });
}

function readSeal(value: unknown): StoredSeal | undefined {
  return isObject(value) && isText(value.keyId) && isText(value.seal)
    ? { keyId: value.keyId, seal: value.seal }
    : undefined;
}

function readPosition(value: Json): number | undefined {
  const { position } = value;
  return typeof position === 'number' && Number.isInteger(position) && position >= 1 ? position : undefined;
}

/** Checks a parsed deployment log; `keys` are the audit keys, when the reader has them. */
export function verifyDeploymentLog(data: unknown, keys: AuditKeys | undefined): LogCheck {
  if (!isObject(data)) return { readable: false, why: 'it is not a JSON object' };
  if (data.schema !== DEPLOYMENT_LOG_SCHEMA)
    return {
      readable: false,
      why: `its schema is ${JSON.stringify(data.schema)}, not ${DEPLOYMENT_LOG_SCHEMA} (logs before schema 2 carry no hashes)`,
    };
  const { release, events } = data;
  const generatedAt = Date.parse(String(data.generatedAt));
  if (!isObject(release) || !isText(release.status) || !isText(release.id))
    return { readable: false, why: 'it has no release with an id and a status' };
  if (!Array.isArray(events) || !events.every(isObject))
    return { readable: false, why: 'its events are not a list of objects' };
  if (Number.isNaN(generatedAt)) return { readable: false, why: 'its generatedAt is not a time' };

  const entries: StoredAuditEntry[] = [];
  const seals = new Map<string, StoredSeal>();
  const mismatches: number[] = [];
  for (const [index, event] of events.entries()) {
    const { stored, prevHash, hash } = event;
    if (!isText(event.id)) return { readable: false, why: `event ${index + 1} has no id` };
    if (stored !== undefined && !(Array.isArray(stored) && stored.every(isText)))
      return { readable: false, why: `event ${index + 1}: its stored fields are not a list of strings` };
    const content = stored ?? [];
    const chained = isText(prevHash) && isText(hash);
    entries.push({ id: event.id, fields: chained ? [...content, 'prev', prevHash, 'hash', hash] : content });
    const seal = readSeal(event.seal);
    if (seal) seals.set(event.id, seal);
    if (!readableAgrees(event, content)) mismatches.push(index + 1);
  }

  const given = isObject(data.anchors) ? data.anchors : {};
  const sealHeadJson = isObject(given.sealHead) ? given.sealHead : undefined;
  const sealHeadSeal = readSeal(sealHeadJson);
  const sealHeadPosition = sealHeadJson ? readPosition(sealHeadJson) : undefined;
  const slackJson = isObject(given.slack) ? given.slack : undefined;
  const slackPosition = slackJson ? readPosition(slackJson) : undefined;
  const anchors = {
    ...(isText(given.chainHead) ? { chainHead: given.chainHead } : {}),
    ...(sealHeadSeal && sealHeadPosition
      ? { sealHead: { position: sealHeadPosition, ...sealHeadSeal } }
      : {}),
    ...(slackJson && slackPosition && isText(slackJson.seal)
      ? { slack: { position: slackPosition, seal: slackJson.seal } }
      : {}),
  };

  const report = verifyAuditTrail({
    entries,
    chainHead: anchors.chainHead,
    seals,
    sealHead: anchors.sealHead,
    anchor: anchors.slack,
    status: release.status as ReleaseStatus,
    keys,
    // Seals overdue are judged at the moment the log was built, not today.
    now: generatedAt,
  });
  const describe = (problem: LogBreak, position: number): LogProblem => {
    const event = events[position - 1] as Json | undefined;
    const fields = entries[position - 1]?.fields ?? [];
    const seq = storedValue(fields, 'seq');
    const type = storedValue(fields, 'type') ?? (isText(event?.type) ? event.type : undefined);
    return {
      problem,
      position,
      ...(event && isText(event.id) ? { eventId: event.id } : {}),
      ...(seq !== undefined ? { seq: Number(seq) } : {}),
      ...(type !== undefined ? { type } : {}),
    };
  };
  const problems = [
    ...report.problems.map(({ problem, position }) => describe(problem, position)),
    ...mismatches.map((position) => describe('readable_mismatch', position)),
  ].sort((a, b) => a.position - b.position);

  return {
    readable: true,
    release: {
      id: release.id,
      version: String(release.version ?? ''),
      env: String(release.env ?? ''),
      status: release.status,
    },
    report,
    problems,
    recorded: isObject(data.verification)
      ? (data.verification as unknown as DeploymentLogVerification)
      : undefined,
    anchors,
  };
}
