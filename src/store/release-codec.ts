import { createHash } from 'node:crypto';
import { AUDIT_EVENT_TYPES, type AuditEvent, type AuditEventType } from '../domain/audit.js';
import type {
  CheckIn,
  GateOverride,
  ItemState,
  RedFlag,
  Release,
  ReleaseIssue,
  ReleaseStatus,
  Retrospective,
} from '../domain/release.js';
import type { Template } from '../domain/template.js';

// How a release and its audit entries are read back from their Redis hashes and stream.

// A release keeps its own copy of its template under its own key; the meta hash names it by a
// fingerprint of its JSON. Most releases share a few templates, so each distinct one is read and
// parsed once per process: a click, a sync or a reminder reads only the small meta hash.
const TEMPLATE_CACHE_SIZE = 64;
const parsedTemplates = new Map<string, Template>();

export function templateFingerprint(json: string): string {
  return createHash('sha256').update(json).digest('base64url').slice(0, 22);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/** The parsed template with this fingerprint, if this process has read it already. */
export function cachedTemplate(fingerprint: string): Template | undefined {
  return parsedTemplates.get(fingerprint);
}

/** Remembers a parsed template; shared and frozen, so no reader can change another's copy. */
export function rememberTemplate(fingerprint: string, json: string): Template {
  const template = deepFreeze(JSON.parse(json) as Template);
  if (parsedTemplates.size >= TEMPLATE_CACHE_SIZE) {
    parsedTemplates.delete(parsedTemplates.keys().next().value!);
  }
  parsedTemplates.set(fingerprint, template);
  return template;
}

export function parseRelease(
  meta: Record<string, string>,
  items: Record<string, string>,
  template: Template,
): Release {
  const overrides: GateOverride[] = [];
  const owners: Record<string, string> = {};
  const snoozes: Record<string, number> = {};
  const checkins: CheckIn[] = [];
  const issues: ReleaseIssue[] = [];
  for (const [field, value] of Object.entries(meta)) {
    const colon = field.indexOf(':');
    if (colon === -1) continue;
    const name = field.slice(colon + 1);
    switch (field.slice(0, colon)) {
      case 'ovr': {
        const parsed = JSON.parse(value) as { by: string; at: number; reason: string };
        overrides.push({ phaseIndex: Number(name), ...parsed });
        break;
      }
      case 'owner':
        owners[name] = value;
        break;
      case 'snooze':
        snoozes[name] = Number(value);
        break;
      case 'checkin':
        checkins.push({ index: Number(name), ...(JSON.parse(value) as Omit<CheckIn, 'index'>) });
        break;
      case 'issue':
        issues.push({ id: Number(name), ...(JSON.parse(value) as Omit<ReleaseIssue, 'id'>) });
        break;
      default:
        break;
    }
  }
  overrides.sort((a, b) => a.at - b.at);
  checkins.sort((a, b) => a.index - b.index);
  issues.sort((a, b) => a.id - b.id);
  const itemStates: Record<string, ItemState> = {};
  for (const [itemId, value] of Object.entries(items)) itemStates[itemId] = JSON.parse(value) as ItemState;
  const release: Release = {
    id: meta.id!,
    teamId: meta.team!,
    channelId: meta.channel!,
    version: meta.version!,
    env: meta.env!,
    template,
    startedBy: meta.startedBy!,
    startedAt: Number(meta.startedAt),
    status: meta.status as ReleaseStatus,
    items: itemStates,
    overrides,
    owners,
    snoozes,
    checkins,
    issues,
    stakeholderChannels: meta.stakeholders ? meta.stakeholders.split(',') : [],
    rev: Number(meta.rev),
  };
  if (meta.attempt) release.attempt = Number(meta.attempt);
  if (meta.notes) release.notes = meta.notes;
  if (meta.commit || meta.runUrl)
    release.source = {
      ...(meta.commit ? { commit: meta.commit } : {}),
      ...(meta.runUrl ? { runUrl: meta.runUrl } : {}),
    };
  if (meta.freezeReason) {
    release.freezeOverride = {
      reason: meta.freezeReason,
      window: meta.freezeWindow ?? '',
      endsAt: Number(meta.freezeEndsAt),
      ...(meta.freezeBy ? { by: meta.freezeBy, at: Number(meta.freezeAt) } : {}),
    };
  }
  if (meta.downtime) release.downtime = meta.downtime;
  if (meta.lockedAt) release.lockedAt = Number(meta.lockedAt);
  if (meta.retro) release.retro = JSON.parse(meta.retro) as Retrospective;
  if (meta.redFlag) release.redFlag = JSON.parse(meta.redFlag) as RedFlag;
  if (meta.lastRedFlag) release.lastRedFlag = JSON.parse(meta.lastRedFlag) as RedFlag;
  if (meta.goAt) release.go = { by: meta.goBy ?? '', at: Number(meta.goAt) };
  if (meta.rollbackBy) release.rollback = { by: meta.rollbackBy, at: Number(meta.rollbackAt) };
  if (meta.deployedAt) release.deployment = { at: Number(meta.deployedAt), by: meta.deployedBy ?? '' };
  if (meta.monitoring === 'open' || meta.monitoring === 'closed') {
    release.monitoring = { state: meta.monitoring };
    if (meta.monitoringClosedAt) release.monitoring.closedAt = Number(meta.monitoringClosedAt);
  }
  if (meta.windowAt && meta.windowZone) release.window = { at: Number(meta.windowAt), zone: meta.windowZone };
  if (meta.finishedAt) release.finishedAt = Number(meta.finishedAt);
  if (meta.finishedBy) release.finishedBy = meta.finishedBy;
  if (meta.cancelReason) release.cancelReason = meta.cancelReason;
  return release;
}

export function parseAuditEntry(id: string, flat: string[]): AuditEvent {
  const fields: Record<string, string> = {};
  for (let index = 0; index + 1 < flat.length; index += 2) fields[flat[index]!] = flat[index + 1]!;
  const type = fields.type as AuditEventType;
  if (!AUDIT_EVENT_TYPES.includes(type)) throw new Error(`unknown audit event type ${fields.type} in ${id}`);
  const event: AuditEvent = {
    id,
    type,
    user: fields.user ?? '',
    at: Number(fields.at),
    from: fields.from ?? '',
    to: fields.to ?? '',
  };
  if (fields.item) event.itemId = fields.item;
  if (fields.phase !== undefined) event.phaseIndex = Number(fields.phase);
  if (fields.reason) event.reason = fields.reason;
  if (fields.version) event.version = fields.version;
  if (fields.env) event.env = fields.env;
  if (fields.template) event.templateId = fields.template;
  if (fields.blocking !== undefined) event.blockingPhaseIndex = Number(fields.blocking);
  if (fields.zone) event.windowZone = fields.zone;
  if (fields.recipient) event.recipient = fields.recipient;
  if (fields.window) event.windowAt = Number(fields.window);
  if (fields.checkin !== undefined) event.checkinIndex = Number(fields.checkin);
  if (fields.criterion) event.criterionId = fields.criterion;
  if (fields.issue !== undefined) event.issueId = Number(fields.issue);
  if (fields.severity) event.severity = fields.severity;
  if (fields.checkins !== undefined) event.checkins = Number(fields.checkins);
  if (fields.action) event.action = fields.action;
  if (fields.phaseState === 'done' || fields.phaseState === 'reopened') event.phaseState = fields.phaseState;
  if (fields.flag !== undefined) event.redFlagNumber = Number(fields.flag);
  if (fields.value !== undefined) event.value = fields.value;
  if (fields.cleared !== undefined) event.clearedValue = fields.cleared;
  if (fields.commit) event.commit = fields.commit;
  if (fields.run) event.runUrl = fields.run;
  if (fields.evidence) event.evidenceUrl = fields.evidence;
  if (fields.summary) event.summary = fields.summary;
  if (type === 'rescheduled') event.windowAt = Number(fields.to);
  return event;
}
