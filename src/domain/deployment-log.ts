import { type AuditEvent, type AuditEventType, describeRefusalReason } from './audit.js';
import type { StoredAuditEntry } from './audit-chain.js';
import {
  type SealHead,
  type StoredSeal,
  TRAIL_BREAK_WORDS,
  type TrailBreak,
  type TrailReport,
} from './audit-seal.js';
import {
  type CriterionDirection,
  type CriterionUnit,
  describeCriterion,
  describeThreshold,
  rollbackCriteriaOf,
  successCriteriaOf,
} from './criteria.js';
import {
  formatReading,
  METRIC_VERDICT_WORDS,
  type MetricSuggestion,
  type MetricVerdict,
} from './metric-checks.js';
import {
  type CriterionReport,
  type CriterionVerdict,
  describeRecording,
  formatObservedValue,
  type Observation,
  reportCriteria,
} from './observations.js';
import { NO_PEOPLE, type ReleasePeople } from './people.js';
import { type RecordKind, typedValue } from './recorded-value.js';
import {
  type CheckInAnswerKind,
  type IssueSeverity,
  type ItemState,
  listSkippedItems,
  type PhaseState,
  phaseState,
  type RedFlag,
  type Release,
  type ReleaseStatus,
} from './release.js';
import { findItem, goPhaseIndex, type TemplateItem } from './template.js';
import { parseDueOffset } from './time.js';

// The deployment log of a release: one record of what was planned, what was done, by whom and when,
// written from the stored release and its audit trail. Two renderings of the same facts: Markdown for
// people (plain CommonMark/GFM, not Slack mrkdwn) and JSON for machines. Pure: the moment the log is
// generated is passed in, and the same inputs always give the same output.

/** Names the JSON shape below; a breaking change to it gets a new number. */
// 2: events carry their stored fields, sequence number, hashes and seal; `verification` and `anchors`.
export const DEPLOYMENT_LOG_SCHEMA = 'shipcheck.deployment-log/2';

export interface DeploymentLog {
  markdown: string;
  json: DeploymentLogJson;
  /** A file name without extension, safe on any file system: `deployment-log-v2.3-production-r12`. */
  fileStem: string;
}

/**
 * The machine-readable log. Times are ISO 8601 strings in UTC (`2026-11-22T14:05:09.000Z`); user ids
 * are Slack ids as stored (system actions carry `shipcheck`), named in `people`. Optional fields are left out, never null;
 * lists are always present, empty when there is nothing to list.
 */
export interface DeploymentLogJson {
  schema: typeof DEPLOYMENT_LOG_SCHEMA;
  generatedAt: string;
  release: DeploymentLogRelease;
  /** The release notes: what the release changes. */
  notes?: string;
  /** Expected downtime, as people wrote it. */
  downtime?: string;
  phases: DeploymentLogPhase[];
  /** Present once a rollback was decided. */
  rollback?: DeploymentLogRollback;
  overrides: DeploymentLogOverride[];
  checkins: DeploymentLogCheckin[];
  issues: DeploymentLogIssue[];
  /** Each success criterion of the template, judged on the latest value recorded across check-ins. */
  criteria: DeploymentLogCriterion[];
  /** Every red flag raised, in order, whether cleared or still up. */
  redFlags: DeploymentLogRedFlag[];
  /** The go/no-go call, when one was made. */
  go?: DeploymentLogGo;
  /** Present when the release was started inside a freeze window by an override. */
  freezeOverride?: DeploymentLogFreezeOverride;
  /** The team's retrospective, once written. */
  retrospective?: { wentWell: string; wentWrong: string; followUps: string; by: string; at: string };
  /**
   * The names of the people the log names by id, as Slack gave them when the release first named them
   * (a person whose lookup has not succeeded yet is left out: their id stands alone).
   */
  people: Record<string, DeploymentLogPerson>;
  /** The audit trail, in stream order. */
  events: DeploymentLogEvent[];
  /** Whether the trail verified when the log was built (absent when it was not checked). */
  verification?: DeploymentLogVerification;
  /** What the trail was checked against, so a reader can check it again offline. */
  anchors?: DeploymentLogAnchors;
}

export interface DeploymentLogVerification {
  intact: boolean;
  events: number;
  /** Whether the keyed seals were checked (the key was configured). */
  sealsChecked: boolean;
  sealedThrough: number;
  notSealedYet: number;
  /** Events from before sequence numbers and seals existed. */
  legacy: number;
  /** Whether the anchor on the Slack header was read and compared. */
  slackAnchor: AnchorState;
  problems: DeploymentLogProblem[];
}

export interface DeploymentLogProblem {
  problem: TrailBreak;
  /** 1-based position in the trail; one past the last event for something missing at the end. */
  position: number;
  eventId?: string;
  seq?: number;
  type?: string;
}

export interface DeploymentLogAnchors {
  /** The hash chain's head as the release kept it. */
  chainHead?: string;
  /** The newest keyed seal as the release kept it in Redis. */
  sealHead?: SealHead;
  /** The newest seal as the release's Slack header carried it. */
  slack?: { position: number; seal: string };
}

/** `not_read`: the log was built without asking Slack (the archive). */
export type AnchorState = 'read' | 'none' | 'unavailable' | 'not_read';

/**
 * The trail as stored, with its seals and anchors and the result of checking it: what makes the log
 * evidence. `entries` are the stream entries `events` were read from.
 */
export interface LogEvidence {
  entries: readonly StoredAuditEntry[];
  chainHead: string | undefined;
  seals: ReadonlyMap<string, StoredSeal>;
  sealHead: SealHead | undefined;
  anchor: { state: 'read'; position: number; seal: string } | { state: Exclude<AnchorState, 'read'> };
  report: TrailReport;
}

export interface DeploymentLogPerson {
  /** The display name (or the real name when none is set). */
  name: string;
  /** Present when it differs from `name`. */
  realName?: string;
  /** When Slack gave these names. */
  recordedAt: string;
}

export interface DeploymentLogRelease {
  id: string;
  version: string;
  env: string;
  /** Which release of the version and environment (1 for the first); absent for releases started before numbers were recorded. */
  attempt?: number;
  template: { id: string; name: string };
  status: ReleaseStatus;
  startedBy: string;
  startedAt: string;
  /** The planned deploy moment and the time zone it was given in. */
  window?: { at: string; zone: string };
  deployedAt?: string;
  deployedBy?: string;
  /** When the release took its environment's lock. */
  lockedAt?: string;
  finishedAt?: string;
  finishedBy?: string;
  /** Why the release was cancelled or rolled back. */
  reason?: string;
  monitoring?: { state: 'open' | 'closed'; closedAt?: string };
}

export interface DeploymentLogItem {
  id: string;
  text: string;
  required: boolean;
  group?: string;
  role?: string;
  /** Who the item was assigned to, when someone was. */
  owner?: string;
  done: boolean;
  /** Who made the latest change to the item (a tick or an untick), and when. */
  by?: string;
  at?: string;
  /** Required, left open, and passed by a gate override. */
  skipped?: true;
  /** For an item that records a value: what it records, and the value once ticked (a number for `number`). */
  record?: { label: string; kind: RecordKind; value?: string | number };
}

export interface DeploymentLogPhase {
  index: number;
  id: string;
  name: string;
  /** The template's offset from the deploy window (`T-1d`, `T+15m`). */
  due?: string;
  /** That offset placed on the deploy window, when the release has one. */
  dueAt?: string;
  /** Finishing this phase marks the release deployed. */
  deployment?: true;
  /** This phase waits for the go/no-go call. */
  go?: true;
  state: DeploymentLogPhaseState;
  items: DeploymentLogItem[];
}

/** `skipped`: the release ended past the phase by a gate override, with required items left open. */
export type DeploymentLogPhaseState = PhaseState | 'skipped';

export interface DeploymentLogRollback {
  decidedBy: string;
  decidedAt: string;
  reason: string;
  /** The template's conditions that justify a rollback. */
  criteria: string[];
  items: DeploymentLogItem[];
}

export interface DeploymentLogOverride {
  phaseIndex: number;
  phase: string;
  by: string;
  at: string;
  reason: string;
}

export interface DeploymentLogCheckin {
  index: number;
  dueAt: string;
  followUp?: true;
  postedAt?: string;
  escalatedAt?: string;
  /** Who the escalation named, as the audit trail recorded it. */
  escalatedTo?: string;
  answer?: { kind: CheckInAnswerKind; by: string; at: string; issue?: number };
  /** Values observed for success criteria at this check-in, by criterion id. */
  observed?: Record<string, { value: number; by: string; at: string }>;
  /** What the metrics server said just before the check-in was posted. */
  metrics?: {
    at: string;
    suggestion: MetricSuggestion;
    results: {
      criterionId: string;
      verdict: MetricVerdict;
      query: string;
      value?: number;
      baseline?: number;
      threshold?: number;
      problem?: string;
    }[];
  };
}

export interface DeploymentLogIssue {
  id: number;
  foundBy: string;
  foundAt: string;
  what: string;
  severity: IssueSeverity;
  /** The check-in (0-based) it was reported at. */
  checkin?: number;
  resolvedBy?: string;
  resolvedAt?: string;
  resolution?: string;
}

export interface DeploymentLogCriterion {
  id: string;
  name: string;
  direction: CriterionDirection;
  threshold: number;
  unit?: CriterionUnit;
  /** met / missed on the latest value recorded; not_recorded when no check-in recorded one. */
  verdict: CriterionVerdict;
  observed?: { value: number; checkin: number; by: string; at: string };
}

export interface DeploymentLogRedFlag {
  number: number;
  raisedBy: string;
  raisedAt: string;
  /** The stop condition; absent when only the audit trail remembers the flag (its note holds both). */
  condition?: string;
  note: string;
  clearedBy?: string;
  clearedAt?: string;
  clearNote?: string;
}

export interface DeploymentLogGo {
  decision: 'go' | 'no-go';
  by: string;
  at: string;
  reason?: string;
}

export interface DeploymentLogFreezeOverride {
  reason: string;
  /** The freeze window as configured. */
  window: string;
  endsAt: string;
  by?: string;
  at?: string;
}

/** One audit event: every field the event carries, with its times as ISO strings. */
export type DeploymentLogEvent = Omit<AuditEvent, 'at' | 'windowAt'> & {
  at: string;
  windowAt?: string;
  /** Its sequence number in the release (absent for events from before sequence numbers). */
  seq?: number;
  /** The hash chain: the event before's hash, and this event's over `prevHash` and `stored`. */
  prevHash?: string;
  hash?: string;
  /** The relay's keyed seal and the id of the key it was made with. */
  seal?: StoredSeal;
  /** The event's fields as stored, name then value, in order, without prev and hash: what `hash` covers. */
  stored?: string[];
};

// ---------------------------------------------------------------------------------------------------
// Text helpers

/**
 * Escapes user-written text for Markdown so that it shows as written and cannot change the document's
 * structure: inline markup (`*`, `_`, backticks, `~`, links, raw HTML, table pipes, backslashes) is
 * backslash-escaped, and so are block markers at the start of a line (headings, quotes, list markers,
 * setext underlines). Line breaks are kept; use {@link escapeMarkdownInline} inside one line.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[\\`*_[\]<>|~]/g, '\\$&')
    .replace(/^([ \t]*)([#=+-])/gm, '$1\\$2')
    .replace(/^([ \t]*\d+)([.)])/gm, '$1\\$2');
}

/** {@link escapeMarkdown} for one line, such as a table cell or a list item: whitespace runs become one space. */
export function escapeMarkdownInline(text: string): string {
  return escapeMarkdown(text.replace(/\s+/g, ' ').trim());
}

/** A time in ISO 8601, UTC; `unknown` for a value that is not a time. */
function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isFinite(ms) && !Number.isNaN(date.getTime()) ? date.toISOString() : 'unknown';
}

/** A time for people: `2026-11-22 14:05:09 UTC`. */
function humanTime(ms: number): string {
  const iso = isoTime(ms);
  return iso === 'unknown' ? 'an unknown time' : `${iso.slice(0, 19).replace('T', ' ')} UTC`;
}

/** Names a person in Markdown; see {@link namePeople}. */
type Who = (userId: string) => string;

/**
 * A Slack user as `Bob Smith (U0BOB)` with the name the release recorded (escaped: people choose their
 * names), or `@U0BOB` when it has none; other actors (`shipcheck`) by name. Markdown-safe.
 */
function namePeople(people: ReleasePeople): Who {
  return (userId) => {
    if (!/^[UW][A-Z0-9]+$/.test(userId)) return escapeMarkdownInline(userId || 'someone');
    const person = people.get(userId);
    return person ? `${escapeMarkdownInline(person.name)} (${userId})` : `@${userId}`;
  };
}

const quoted = (text: string) => `“${escapeMarkdownInline(text)}”`;

/** A file-name part: letters, digits, dots, dashes and underscores only, never empty. */
function fileSafe(text: string, maxLength = 60): string {
  const safe = text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/-{2,}/g, '-')
    .slice(0, maxLength)
    .replace(/^[.-]+|[.-]+$/g, '');
  return safe || 'x';
}

/** Drops the keys whose value is undefined, so that the JSON has no holes and compares cleanly. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

const isoOrUndefined = (ms: number | undefined) => (ms === undefined ? undefined : isoTime(ms));

const STATUS_WORDS: Record<ReleaseStatus, string> = {
  active: 'Active',
  completed: 'Completed',
  cancelled: 'Cancelled',
  rolling_back: 'Rolling back',
  rolled_back: 'Rolled back',
};

const ANSWER_WORDS: Record<CheckInAnswerKind, string> = {
  healthy: 'healthy',
  issue: 'issue found',
  rollback: 'roll back',
};

const EVENT_LABELS: Record<AuditEventType, string> = {
  started: 'Started',
  ticked: 'Ticked',
  unticked: 'Unticked',
  gate_overridden: 'Gate overridden',
  rescheduled: 'Rescheduled',
  reminder_sent: 'Reminder sent',
  reminder_snoozed: 'Reminders snoozed',
  assigned: 'Assigned',
  deployed: 'Deployed',
  checkin_posted: 'Check-in posted',
  checkin_answered: 'Check-in answered',
  checkin_escalated: 'Check-in escalated',
  criterion_recorded: 'Value recorded',
  issue_found: 'Issue found',
  issue_resolved: 'Issue resolved',
  monitoring_closed: 'Monitoring closed',
  rollback_started: 'Rollback started',
  rolled_back: 'Rolled back',
  refused: 'Refused',
  locked: 'Environment locked',
  freeze_overridden: 'Freeze overridden',
  red_flag_raised: 'Red flag raised',
  red_flag_cleared: 'Red flag cleared',
  go_decided: 'Go / no-go',
  retro_saved: 'Retrospective saved',
  deployment_reported: 'Deploy reported',
  cancelled: 'Cancelled',
  completed: 'Completed',
};

const REFUSED_ACTIONS: Record<string, string> = {
  tick: 'tick',
  untick: 'untick',
  start: 'starting a release',
  cancel: 'cancelling',
  reschedule: 'rescheduling',
  override: 'overriding a gate',
  rollback: 'rolling back',
  go: 'the go/no-go call',
  freeze_override: 'overriding a freeze',
  red_flag: 'raising a red flag',
  red_flag_resolve: 'clearing a red flag',
};

// ---------------------------------------------------------------------------------------------------
// Facts gathered once, shared by both renderings

interface Facts {
  release: Release;
  events: readonly AuditEvent[];
  skipped: Set<string>;
  people: ReleasePeople;
  evidence: LogEvidence | undefined;
}

/** A phase as Markdown: `phase 2 “Deploy”`, or `the rollback checklist`. */
function phaseLabel(release: Release, index: number | undefined): string {
  if (index === undefined) return 'an unknown phase';
  const phase = release.template.phases[index];
  if (phase) return `phase ${index + 1} ${quoted(phase.name)}`;
  if (index === release.template.phases.length) return 'the rollback checklist';
  return `phase ${index + 1}`;
}

function itemJson(facts: Facts, item: TemplateItem): DeploymentLogItem {
  const state: ItemState | undefined = facts.release.items[item.id];
  return compact({
    id: item.id,
    text: item.text,
    required: item.required,
    group: item.group,
    role: item.role,
    owner: facts.release.owners[item.id],
    done: state?.done === true,
    by: state?.by,
    at: isoOrUndefined(state?.at),
    skipped: facts.skipped.has(item.id) ? (true as const) : undefined,
    record: item.record
      ? compact({
          label: item.record.label,
          kind: item.record.kind,
          value: state?.done && state.value !== undefined ? typedValue(item.record, state.value) : undefined,
        })
      : undefined,
  });
}

// While the release is active a passed phase can still be ticked, so it stays open; once it is not,
// the phase was skipped, as its items say (and a completed release's header, with ⏭️).
function logPhaseState(facts: Facts, phaseIndex: number): DeploymentLogPhaseState {
  const { release, skipped } = facts;
  const state = phaseState(release, phaseIndex);
  if (state === 'done' || release.status === 'active') return state;
  const items = release.template.phases[phaseIndex]?.items ?? [];
  return items.some((item) => skipped.has(item.id)) ? 'skipped' : state;
}

function phaseDueAt(release: Release, due: string | undefined): number | undefined {
  if (!due || !release.window) return undefined;
  const offset = parseDueOffset(due);
  return offset.ok ? release.window.at + offset.value : undefined;
}

/** Every red flag: numbered from the audit trail, with the release's own record laid over it. */
function collectRedFlags(release: Release, events: readonly AuditEvent[]): RedFlag[] {
  const flags = new Map<number, RedFlag>();
  let raised = 0;
  for (const event of events) {
    if (event.type === 'red_flag_raised') {
      raised++;
      flags.set(raised, {
        number: raised,
        by: event.user,
        at: event.at,
        condition: '',
        note: event.reason ?? '',
      });
    } else if (event.type === 'red_flag_cleared') {
      const open = [...flags.values()].findLast((flag) => flag.clearedAt === undefined);
      if (open)
        Object.assign(open, { clearedBy: event.user, clearedAt: event.at, clearNote: event.reason ?? '' });
    }
  }
  for (const flag of [release.lastRedFlag, release.redFlag]) {
    if (flag) flags.set(flag.number, flag);
  }
  return [...flags.values()].sort((a, b) => a.number - b.number);
}

function redFlagJson(flag: RedFlag): DeploymentLogRedFlag {
  return compact({
    number: flag.number,
    raisedBy: flag.by,
    raisedAt: isoTime(flag.at),
    condition: flag.condition || undefined,
    note: flag.note,
    clearedBy: flag.clearedBy,
    clearedAt: isoOrUndefined(flag.clearedAt),
    clearNote: flag.clearNote,
  });
}

function goDecision(release: Release, events: readonly AuditEvent[]): DeploymentLogGo | undefined {
  if (release.go) return { decision: 'go', by: release.go.by, at: isoTime(release.go.at) };
  const noGo = events.findLast((event) => event.type === 'go_decided' && event.to !== 'go');
  if (!noGo) return undefined;
  return compact({ decision: 'no-go' as const, by: noGo.user, at: isoTime(noGo.at), reason: noGo.reason });
}

function freezeOverrideJson(
  release: Release,
  events: readonly AuditEvent[],
): DeploymentLogFreezeOverride | undefined {
  const freeze = release.freezeOverride;
  if (!freeze) return undefined;
  const event = events.find((candidate) => candidate.type === 'freeze_overridden');
  return compact({
    reason: freeze.reason,
    window: freeze.window,
    endsAt: isoTime(freeze.endsAt),
    by: event?.user ?? release.startedBy,
    at: isoTime(event?.at ?? release.startedAt),
  });
}

/** By id, in id order, so that the same record always gives the same file. */
function peopleJson(people: ReleasePeople): Record<string, DeploymentLogPerson> {
  return Object.fromEntries(
    [...people]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([userId, person]) => [
        userId,
        compact({ name: person.name, realName: person.realName, recordedAt: isoTime(person.at) }),
      ]),
  );
}

/** The stored entry split into what its hash covers and the chain fields (see audit-chain.ts). */
function splitStoredEntry(fields: readonly string[]): {
  content: string[];
  prevHash?: string;
  hash?: string;
} {
  const n = fields.length;
  if (n >= 4 && fields[n - 4] === 'prev' && fields[n - 2] === 'hash')
    return { content: fields.slice(0, n - 4), prevHash: fields[n - 3]!, hash: fields[n - 1]! };
  return { content: [...fields] };
}

function storedField(fields: readonly string[], name: string): string | undefined {
  for (let index = 0; index + 1 < fields.length; index += 2)
    if (fields[index] === name) return fields[index + 1];
  return undefined;
}

function chainJson(evidence: LogEvidence | undefined, eventId: string): Partial<DeploymentLogEvent> {
  const entry = evidence?.entries.find((candidate) => candidate.id === eventId);
  if (!entry || !evidence) return {};
  const { content, prevHash, hash } = splitStoredEntry(entry.fields);
  const seq = storedField(content, 'seq');
  return compact({
    seq: seq === undefined ? undefined : Number(seq),
    prevHash,
    hash,
    seal: evidence.seals.get(eventId),
    stored: content,
  });
}

function eventJson(event: AuditEvent, evidence?: LogEvidence): DeploymentLogEvent {
  // Listed field by field, so that the key order never depends on how the event was built.
  return compact({
    id: event.id,
    at: isoTime(event.at),
    type: event.type,
    user: event.user,
    from: event.from,
    to: event.to,
    itemId: event.itemId,
    phaseIndex: event.phaseIndex,
    reason: event.reason,
    version: event.version,
    env: event.env,
    templateId: event.templateId,
    windowAt: isoOrUndefined(event.windowAt),
    windowZone: event.windowZone,
    recipient: event.recipient,
    checkinIndex: event.checkinIndex,
    criterionId: event.criterionId,
    issueId: event.issueId,
    severity: event.severity,
    action: event.action,
    checkins: event.checkins,
    blockingPhaseIndex: event.blockingPhaseIndex,
    value: event.value,
    clearedValue: event.clearedValue,
    commit: event.commit,
    runUrl: event.runUrl,
    evidenceUrl: event.evidenceUrl,
    summary: event.summary,
    ...chainJson(evidence, event.id),
  });
}

function verificationJson(evidence: LogEvidence): DeploymentLogVerification {
  const { report, entries } = evidence;
  return {
    intact: report.problems.length === 0,
    events: report.events,
    sealsChecked: report.sealsChecked,
    sealedThrough: report.sealedThrough,
    notSealedYet: report.notSealedYet,
    legacy: report.legacy,
    slackAnchor: evidence.anchor.state,
    problems: report.problems.map(({ problem, position }) => {
      const fields = entries[position - 1]?.fields ?? [];
      const seq = storedField(fields, 'seq');
      return compact({
        problem,
        position,
        eventId: entries[position - 1]?.id,
        seq: seq === undefined ? undefined : Number(seq),
        type: storedField(fields, 'type'),
      });
    }),
  };
}

function anchorsJson(evidence: LogEvidence): DeploymentLogAnchors {
  const { anchor } = evidence;
  return compact({
    chainHead: evidence.chainHead,
    sealHead: evidence.sealHead,
    slack: anchor.state === 'read' ? { position: anchor.position, seal: anchor.seal } : undefined,
  });
}

function observedJson(
  observed: Record<string, Observation> | undefined,
): DeploymentLogCheckin['observed'] | undefined {
  const entries = Object.entries(observed ?? {});
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map(([criterionId, { value, by, at }]) => [criterionId, { value, by, at: isoTime(at) }]),
  );
}

function criterionJson(report: CriterionReport): DeploymentLogCriterion {
  const observed = report.observed;
  return compact({
    id: report.id,
    name: report.name,
    direction: report.direction,
    threshold: report.threshold,
    unit: report.unit,
    verdict: report.verdict,
    observed: observed
      ? { value: observed.value, checkin: observed.checkinIndex, by: observed.by, at: isoTime(observed.at) }
      : undefined,
  });
}

function buildJson(facts: Facts, generatedAt: number): DeploymentLogJson {
  const { evidence } = facts;
  const { release, events } = facts;
  const escalations = new Map<number, string>();
  for (const event of events) {
    if (event.type === 'checkin_escalated' && event.checkinIndex !== undefined && event.recipient)
      escalations.set(event.checkinIndex, event.recipient);
  }
  return compact({
    schema: DEPLOYMENT_LOG_SCHEMA,
    generatedAt: isoTime(generatedAt),
    release: compact({
      id: release.id,
      version: release.version,
      env: release.env,
      attempt: release.attempt,
      template: { id: release.template.id, name: release.template.name },
      status: release.status,
      startedBy: release.startedBy,
      startedAt: isoTime(release.startedAt),
      window: release.window ? { at: isoTime(release.window.at), zone: release.window.zone } : undefined,
      deployedAt: isoOrUndefined(release.deployment?.at),
      deployedBy: release.deployment?.by,
      lockedAt: isoOrUndefined(release.lockedAt),
      finishedAt: isoOrUndefined(release.finishedAt),
      finishedBy: release.finishedBy,
      reason: release.cancelReason,
      monitoring: release.monitoring
        ? compact({ state: release.monitoring.state, closedAt: isoOrUndefined(release.monitoring.closedAt) })
        : undefined,
    }),
    notes: release.notes,
    downtime: release.downtime,
    phases: release.template.phases.map((phase, index) =>
      compact({
        index,
        id: phase.id,
        name: phase.name,
        due: phase.due,
        dueAt: isoOrUndefined(phaseDueAt(release, phase.due)),
        deployment: phase.deployment ? (true as const) : undefined,
        go: phase.go ? (true as const) : undefined,
        state: logPhaseState(facts, index),
        items: phase.items.map((item) => itemJson(facts, item)),
      }),
    ),
    rollback: release.rollback
      ? {
          decidedBy: release.rollback.by,
          decidedAt: isoTime(release.rollback.at),
          reason: release.cancelReason ?? '',
          criteria: rollbackCriteriaOf(release.template).map(describeCriterion),
          items: (release.template.rollback?.items ?? []).map((item) => itemJson(facts, item)),
        }
      : undefined,
    overrides: release.overrides.map((entry) => ({
      phaseIndex: entry.phaseIndex,
      phase: release.template.phases[entry.phaseIndex]?.name ?? `phase ${entry.phaseIndex + 1}`,
      by: entry.by,
      at: isoTime(entry.at),
      reason: entry.reason,
    })),
    checkins: release.checkins.map((checkin) =>
      compact({
        index: checkin.index,
        dueAt: isoTime(checkin.dueAt),
        followUp: checkin.followUp ? (true as const) : undefined,
        postedAt: isoOrUndefined(checkin.postedAt),
        escalatedAt: isoOrUndefined(checkin.escalatedAt),
        escalatedTo: checkin.escalatedAt === undefined ? undefined : escalations.get(checkin.index),
        answer: checkin.answer
          ? compact({
              kind: checkin.answer.kind,
              by: checkin.answer.by,
              at: isoTime(checkin.answer.at),
              issue: checkin.answer.issue,
            })
          : undefined,
        observed: observedJson(checkin.observed),
        metrics: checkin.metrics
          ? {
              at: isoTime(checkin.metrics.at),
              suggestion: checkin.metrics.suggestion,
              results: checkin.metrics.results.map((result) =>
                compact({
                  criterionId: result.criterionId,
                  verdict: result.verdict,
                  query: result.query,
                  value: result.value,
                  baseline: result.baseline,
                  threshold: result.threshold,
                  problem: result.problem,
                }),
              ),
            }
          : undefined,
      }),
    ),
    issues: release.issues.map((issue) =>
      compact({
        id: issue.id,
        foundBy: issue.foundBy,
        foundAt: isoTime(issue.foundAt),
        what: issue.what,
        severity: issue.severity,
        checkin: issue.checkin,
        resolvedBy: issue.resolvedBy,
        resolvedAt: isoOrUndefined(issue.resolvedAt),
        resolution: issue.resolution,
      }),
    ),
    criteria: reportCriteria(release).map(criterionJson),
    redFlags: collectRedFlags(release, events).map(redFlagJson),
    go: goDecision(release, events),
    freezeOverride: freezeOverrideJson(release, events),
    retrospective: release.retro ? { ...release.retro, at: isoTime(release.retro.at) } : undefined,
    people: peopleJson(facts.people),
    events: events.map((event) => eventJson(event, evidence)),
    verification: evidence ? verificationJson(evidence) : undefined,
    anchors: evidence ? anchorsJson(evidence) : undefined,
  });
}

// ---------------------------------------------------------------------------------------------------
// Markdown

function itemLine(item: DeploymentLogItem, who: Who): string {
  const parts = [escapeMarkdownInline(item.text)];
  if (!item.required) parts.push('(optional)');
  if (item.skipped) parts.push('(skipped by a gate override)');
  const tags: string[] = [];
  if (item.role) tags.push(`role: ${escapeMarkdownInline(item.role)}`);
  if (item.owner) tags.push(`owner: ${who(item.owner)}`);
  const tagText = tags.length > 0 ? ` · ${tags.join(' · ')}` : '';
  let change = '';
  if (item.by !== undefined && item.at !== undefined) {
    const when = humanTime(Date.parse(item.at));
    change = item.done ? ` — ${who(item.by)} at ${when}` : ` — unticked by ${who(item.by)} at ${when}`;
  }
  const value =
    item.record?.value !== undefined
      ? ` — ${escapeMarkdownInline(item.record.label)}: ${escapeMarkdownInline(String(item.record.value))}`
      : '';
  return `- [${item.done ? 'x' : ' '}] ${parts.join(' ')}${tagText}${value}${change}`;
}

/** A checklist, with a subheading wherever the items' group changes. */
function checklistLines(items: DeploymentLogItem[], who: Who): string[] {
  if (items.length === 0) return ['No items.'];
  const lines: string[] = [];
  let group: string | undefined;
  for (const item of items) {
    if (item.group !== group) {
      if (lines.length > 0) lines.push('');
      lines.push(`#### ${item.group ? escapeMarkdownInline(item.group) : 'Other items'}`, '');
      group = item.group;
    }
    lines.push(itemLine(item, who));
  }
  return lines;
}

/** Release notes as a list, one entry per line people wrote (their own bullets are replaced by ours). */
function notesLines(notes: string | undefined): string[] {
  const lines = (notes ?? '')
    .split(/\r\n?|\n/)
    .map((line) => line.trim().replace(/^(?:[-*+•]\s+)/, ''))
    .filter((line) => line.length > 0);
  return lines.length > 0 ? lines.map((line) => `- ${escapeMarkdownInline(line)}`) : ['None given.'];
}

function eventDetails(release: Release, event: AuditEvent, who: Who): string {
  const phase = (index: number | undefined) => phaseLabel(release, index);
  const item = (itemId: string | undefined) => {
    const found = itemId ? findItem(release.template, itemId) : undefined;
    return found ? quoted(found.item.text) : quoted(itemId ?? 'an unknown item');
  };
  const reason = event.reason ? `: ${escapeMarkdownInline(event.reason)}` : '';
  const change = `${escapeMarkdownInline(event.from)} → ${escapeMarkdownInline(event.to)}`;
  const checkin = `check-in ${event.checkinIndex === undefined ? '?' : event.checkinIndex + 1}`;
  switch (event.type) {
    case 'started': {
      const window = event.windowAt
        ? `, window ${humanTime(event.windowAt)}${event.windowZone ? ` (${escapeMarkdownInline(event.windowZone)})` : ''}`
        : '';
      return `${escapeMarkdownInline(event.version ?? release.version)} → ${escapeMarkdownInline(event.env ?? release.env)}, template ${escapeMarkdownInline(event.templateId ?? release.template.id)}${window}`;
    }
    case 'rescheduled': {
      const from = /^\d+$/.test(event.from) ? humanTime(Number(event.from)) : 'no window';
      const to = event.windowAt ?? (/^\d+$/.test(event.to) ? Number(event.to) : undefined);
      const zone = event.windowZone ? ` (${escapeMarkdownInline(event.windowZone)})` : '';
      return `deploy window moved from ${from} to ${to === undefined ? 'no window' : humanTime(to)}${zone}`;
    }
    case 'ticked':
    case 'unticked': {
      const label = escapeMarkdownInline(recordLabel(release, event.itemId));
      const value =
        event.value !== undefined
          ? `; ${label}: ${escapeMarkdownInline(event.value)}`
          : event.clearedValue !== undefined
            ? `; cleared ${label}: ${escapeMarkdownInline(event.clearedValue)}`
            : '';
      const proof = [
        event.summary ? `: ${escapeMarkdownInline(event.summary)}` : '',
        event.evidenceUrl ? ` (evidence: <${event.evidenceUrl.replace(/[<>\s]/g, encodeURIComponent)}>)` : '',
      ].join('');
      return `${item(event.itemId)} in ${phase(event.phaseIndex)} (${change})${value}${proof}`;
    }
    case 'gate_overridden':
      return `unlocked ${phase(event.phaseIndex)} while ${phase(event.blockingPhaseIndex)} had open items${reason}`;
    case 'reminder_sent':
      return `reminded ${who(event.recipient ?? '')} of the open items in ${phase(event.phaseIndex)}`;
    case 'reminder_snoozed':
      return `reminders for ${phase(event.phaseIndex)} snoozed until ${/^\d+$/.test(event.to) ? humanTime(Number(event.to)) : escapeMarkdownInline(event.to)}`;
    case 'assigned': {
      const owner = event.to === 'none' ? 'nobody' : who(event.to);
      const previous = event.from === 'none' ? '' : ` (before: ${who(event.from)})`;
      return `${item(event.itemId)} assigned to ${owner}${previous}`;
    }
    case 'deployed': {
      const planned = event.checkins
        ? `; ${event.checkins} check-in${event.checkins === 1 ? '' : 's'} planned`
        : '';
      return `${phase(event.phaseIndex)} done${planned}`;
    }
    case 'checkin_posted':
      return checkin;
    case 'checkin_answered': {
      const answer = ANSWER_WORDS[event.to as CheckInAnswerKind] ?? escapeMarkdownInline(event.to);
      return `${checkin}: ${answer}`;
    }
    case 'checkin_escalated':
      return `${checkin} went unanswered; escalated to ${who(event.recipient ?? '')}`;
    case 'criterion_recorded': {
      const recording = describeRecording(release.template, event);
      // The values are numbers written in their unit, never people's text.
      return `${quoted(recording.criterion)} at ${checkin}: ${recording.from} → ${recording.to}`;
    }
    case 'issue_found': {
      const at = event.checkinIndex === undefined ? '' : ` at ${checkin}`;
      return `issue #${event.issueId ?? '?'} (${escapeMarkdownInline(event.severity ?? 'unknown severity')})${at}${reason}`;
    }
    case 'issue_resolved': {
      const followUp =
        event.checkinIndex === undefined ? '' : `; follow-up check-in ${event.checkinIndex + 1} planned`;
      return `issue #${event.issueId ?? '?'}${reason}${followUp}`;
    }
    case 'refused': {
      const action = event.action ?? '?';
      const what =
        action === 'tick' || action === 'untick'
          ? `${action} ${item(event.itemId)}`
          : escapeMarkdownInline(REFUSED_ACTIONS[action] ?? action);
      return `${what} (${escapeMarkdownInline(describeRefusalReason(event.reason ?? ''))})`;
    }
    case 'locked': {
      const previous = event.from === 'free' ? '' : '; its previous holder had ended';
      return `the release holds ${escapeMarkdownInline(event.env ?? release.env)}${previous}`;
    }
    case 'freeze_overridden': {
      const until = event.windowAt ? ` (frozen until ${humanTime(event.windowAt)})` : '';
      return `${escapeMarkdownInline(event.env ?? release.env)}${until}${reason}`;
    }
    case 'go_decided':
      return event.to === 'go' ? 'go' : `no-go${reason}`;
    case 'deployment_reported': {
      const summary = event.summary ? `: ${escapeMarkdownInline(event.summary)}` : '';
      const proof = event.evidenceUrl
        ? ` (evidence: <${event.evidenceUrl.replace(/[<>\s]/g, encodeURIComponent)}>)`
        : '';
      return `the deploy ${escapeMarkdownInline(event.to)}${summary}${proof}`;
    }
    case 'monitoring_closed':
    case 'completed':
      return change;
    case 'rollback_started':
    case 'rolled_back':
    case 'cancelled':
      return `${change}${reason}`;
    case 'red_flag_raised':
    case 'red_flag_cleared':
      return event.reason ? escapeMarkdownInline(event.reason) : change;
    default:
      return `${change}${reason}`;
  }
}

/** What an item records, as its template calls it. */
function recordLabel(release: Release, itemId: string | undefined): string {
  const found = itemId ? findItem(release.template, itemId) : undefined;
  return found?.item.record?.label ?? 'value';
}

/** The values ticked items recorded (backup id, commit SHA, …), in checklist order, as a table. */
function recordedValueLines(json: DeploymentLogJson, who: Who): string[] {
  const items = [...json.phases.flatMap((phase) => phase.items), ...(json.rollback?.items ?? [])];
  const rows = items.flatMap((item) => {
    const value = item.record?.value;
    if (!item.record || value === undefined) return [];
    const when = item.by && item.at ? `${who(item.by)} at ${humanTime(Date.parse(item.at))}` : '';
    return [
      `| ${escapeMarkdownInline(item.record.label)} | ${escapeMarkdownInline(String(value))} | ${escapeMarkdownInline(item.text)} | ${when} |`,
    ];
  });
  return rows.length > 0 ? ['| Value | Recorded | Item | By |', '| --- | --- | --- | --- |', ...rows] : [];
}

function auditLines(release: Release, events: readonly AuditEvent[], who: Who): string[] {
  if (events.length === 0) return [];
  return [
    '| Time | Who | Event | Details |',
    '| --- | --- | --- | --- |',
    ...events.map((event) => {
      const label = EVENT_LABELS[event.type] ?? escapeMarkdownInline(String(event.type));
      return `| ${humanTime(event.at)} | ${who(event.user)} | ${label} | ${eventDetails(release, event, who)} |`;
    }),
  ];
}

const SUGGESTION_WORDS: Record<MetricSuggestion, string> = {
  healthy: 'suggested “Healthy”',
  issue: 'suggested “Issue found”',
  inconclusive: 'were inconclusive',
};

/** "  - Metrics at …: suggested “Issue found”: Error rate 4.5 % missed (< 1 %); …" */
function metricsLine(release: Release, metrics: NonNullable<DeploymentLogCheckin['metrics']>): string {
  const criteria = new Map(successCriteriaOf(release.template).map((criterion) => [criterion.id, criterion]));
  const results = metrics.results.map((result) => {
    const criterion = criteria.get(result.criterionId);
    const name = escapeMarkdownInline(criterion?.name ?? result.criterionId);
    const value = result.value !== undefined ? ` ${formatReading(result.value, criterion?.unit)}` : '';
    const threshold =
      result.threshold !== undefined
        ? ` (threshold ${formatReading(result.threshold, criterion?.unit)})`
        : '';
    const problem = result.problem ? `: ${escapeMarkdownInline(result.problem)}` : '';
    return `${name}${value} ${METRIC_VERDICT_WORDS[result.verdict]}${threshold}${problem}`;
  });
  return `  - Metrics at ${humanTime(Date.parse(metrics.at))} ${SUGGESTION_WORDS[metrics.suggestion]}: ${results.join('; ')}.`;
}

const VERDICT_WORDS: Record<CriterionVerdict, string> = {
  met: 'Met',
  missed: 'Missed',
  not_recorded: 'Not recorded',
};

/** `- **Missed**: Error rate, 1.4 % at check-in 2 (target: less than 1 %), recorded by @U0 at …` */
function criterionLine(criterion: DeploymentLogCriterion, who: Who): string {
  const target = describeThreshold(criterion) ?? '';
  const head = `- **${VERDICT_WORDS[criterion.verdict]}**: ${escapeMarkdownInline(criterion.name)}`;
  const observed = criterion.observed;
  if (!observed) return `${head} (target: ${escapeMarkdownInline(target)}).`;
  const value = formatObservedValue(observed.value, criterion.unit);
  return `${head}, ${value} at check-in ${observed.checkin + 1} (target: ${escapeMarkdownInline(target)}), recorded by ${who(observed.by)} at ${humanTime(Date.parse(observed.at))}.`;
}

/** Who is who: each person's names when the release first named them. */
function peopleLines(people: DeploymentLogJson['people']): string[] {
  const lines = Object.entries(people).map(([userId, person]) => {
    const realName = person.realName ? `, real name ${escapeMarkdownInline(person.realName)}` : '';
    return `- ${escapeMarkdownInline(person.name)} (${userId})${realName}; as of ${humanTime(Date.parse(person.recordedAt))}`;
  });
  return lines.length > 0
    ? ['Names as they were when the release first named each person.', '', ...lines]
    : ['No names recorded: people are shown by their Slack ids.'];
}

const ANCHOR_NOTES: Record<AnchorState, string> = {
  read: 'It matches the anchor on the release header in Slack.',
  none: 'The release header in Slack carried no anchor to compare with.',
  unavailable: 'The anchor on the release header could not be read from Slack; it was not compared.',
  not_read: 'The anchor on the release header in Slack was not read for this log; compare it by hand.',
};

/** What checking the trail found, first in the file: a broken trail must not read like a good one. */
export function verificationLines(verification: DeploymentLogVerification): string[] {
  const count = (n: number) => `${n} event${n === 1 ? '' : 's'}`;
  if (verification.problems.length > 0) {
    return [
      '> ## ⚠️ The audit trail does NOT verify',
      '>',
      '> This log was built from an audit trail that was changed after it was written. Do not rely on it',
      '> before the problems below are explained.',
      '>',
      ...verification.problems.map((problem) => {
        const details = [
          problem.seq === undefined ? undefined : `seq ${problem.seq}`,
          problem.type === undefined ? undefined : escapeMarkdownInline(problem.type),
          problem.eventId === undefined ? undefined : `id ${problem.eventId}`,
        ].filter((part) => part !== undefined);
        const where =
          problem.position > verification.events
            ? `After event ${verification.events}`
            : `Event ${problem.position}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
        return `> - **${where}**: ${TRAIL_BREAK_WORDS[problem.problem]}.`;
      }),
    ];
  }
  const notes: string[] = [];
  if (!verification.sealsChecked) notes.push('Keyed seals were not checked: no key was configured.');
  else if (verification.slackAnchor !== 'read' || verification.sealedThrough > 0)
    notes.push(ANCHOR_NOTES[verification.slackAnchor]);
  if (verification.notSealedYet > 0)
    notes.push(`${count(verification.notSealedYet)} at the end had not been sealed yet.`);
  if (verification.legacy > 0)
    notes.push(`${count(verification.legacy)} from before seals existed carry only the hash chain.`);
  const sealed = verification.sealsChecked ? `, sealed up to event ${verification.sealedThrough}` : '';
  return [
    `> ✅ **Audit trail verified**: ${count(verification.events)}, intact${sealed}. ${notes.join(' ')}`.trimEnd(),
  ];
}

/** How a reader checks the log themselves: the JSON file carries everything verify-log needs. */
export const VERIFY_OFFLINE_LINE =
  '> Check it offline: `npx shipcheck verify-log <file.json>` on the JSON file of this log; with `AUDIT_KEY` set it checks the keyed seals too.';

function buildMarkdown(facts: Facts, json: DeploymentLogJson, generatedAt: number): string {
  const { release, events } = facts;
  const who = namePeople(facts.people);
  const out: string[] = [];
  const section = (title: string, body: string[]) => {
    out.push('', `## ${title}`, '', ...(body.length > 0 ? body : ['None.']));
  };
  const inline = escapeMarkdownInline;

  const attempt = release.attempt !== undefined && release.attempt > 1 ? ` #${release.attempt}` : '';
  out.push(`# Deployment log: ${inline(release.version)} → ${inline(release.env)}${attempt}`, '');
  if (json.verification) out.push(...verificationLines(json.verification), '>');
  out.push(VERIFY_OFFLINE_LINE, '');

  const finishedWord =
    release.status === 'cancelled' ? 'Cancelled' : release.status === 'rolled_back' ? 'Rolled back' : 'Done';
  const finished =
    release.finishedAt !== undefined
      ? `${finishedWord} by ${who(release.finishedBy ?? '')} at ${humanTime(release.finishedAt)}${
          release.cancelReason && release.status !== 'completed' ? `: ${inline(release.cancelReason)}` : ''
        }`
      : 'Not yet';
  const status = `${STATUS_WORDS[release.status] ?? inline(release.status)}${release.redFlag ? ' (stopped by a red flag)' : ''}`;
  const rows: [string, string][] = [
    ['Version', inline(release.version)],
    ['Environment', inline(release.env)],
    ['Template', `${inline(release.template.name)} (${inline(release.template.id)})`],
    ['Status', status],
    ['Started', `${who(release.startedBy)} at ${humanTime(release.startedAt)}`],
    [
      'Deploy window',
      release.window ? `${humanTime(release.window.at)} (set in ${inline(release.window.zone)})` : 'Not set',
    ],
    [
      'Deployed at',
      release.deployment
        ? `${humanTime(release.deployment.at)} by ${who(release.deployment.by)}`
        : 'Not deployed',
    ],
    ['Finished', finished],
    ['Generated at', humanTime(generatedAt)],
  ];
  out.push('| Field | Value |', '| --- | --- |', ...rows.map(([field, value]) => `| ${field} | ${value} |`));

  section('Changes', notesLines(release.notes));
  section('Expected downtime', release.downtime?.trim() ? [inline(release.downtime)] : []);
  const recordsValues = [
    ...json.phases.flatMap((phase) => phase.items),
    ...(json.rollback?.items ?? []),
  ].some((item) => item.record);
  if (recordsValues) section('Recorded values', recordedValueLines(json, who));

  const phaseLines: string[] = [];
  for (const phase of json.phases) {
    const due = phase.due
      ? ` (due ${inline(phase.due)}${phase.dueAt ? `, ${humanTime(Date.parse(phase.dueAt))}` : ''})`
      : '';
    if (phaseLines.length > 0) phaseLines.push('');
    phaseLines.push(`### ${phase.index + 1}. ${inline(phase.name)}${due}`, '');
    const notes: string[] = [];
    if (phase.go) notes.push('It waits for the go/no-go call.');
    if (phase.deployment) notes.push('Finishing it marks the release deployed.');
    if (notes.length > 0) phaseLines.push(notes.join(' '), '');
    phaseLines.push(...checklistLines(phase.items, who));
  }
  section('Phases', phaseLines.length > 0 ? phaseLines : ['The template has no phases.']);

  section(
    'Gate overrides',
    json.overrides.map(
      (entry) =>
        `- Gate to ${phaseLabel(release, entry.phaseIndex)} opened by ${who(entry.by)} at ${humanTime(Date.parse(entry.at))}: ${inline(entry.reason)}`,
    ),
  );

  const goLines: string[] = [];
  if (json.go) {
    const when = `${who(json.go.by)} at ${humanTime(Date.parse(json.go.at))}`;
    goLines.push(
      json.go.decision === 'go'
        ? `Go, called by ${when}.`
        : `No-go, called by ${when}${json.go.reason ? `: ${inline(json.go.reason)}` : '.'}`,
    );
  } else {
    const goPhase = goPhaseIndex(release.template);
    if (goPhase !== undefined && release.status === 'active')
      goLines.push(`Not called yet; ${phaseLabel(release, goPhase)} waits for it.`);
  }
  section('Go / no-go', goLines);

  const checkinLines: string[] = [];
  if (release.monitoring) {
    checkinLines.push(
      release.monitoring.state === 'open'
        ? 'The monitoring window is open.'
        : `The monitoring window closed${release.monitoring.closedAt !== undefined ? ` at ${humanTime(release.monitoring.closedAt)}` : ''}.`,
      '',
    );
  }
  for (const checkin of json.checkins) {
    const parts = [
      `- Check-in ${checkin.index + 1}${checkin.followUp ? ' (follow-up)' : ''}, due ${humanTime(Date.parse(checkin.dueAt))}`,
    ];
    parts.push(checkin.postedAt ? `posted ${humanTime(Date.parse(checkin.postedAt))}` : 'not posted yet');
    if (checkin.answer) {
      const issue = checkin.answer.issue !== undefined ? ` (issue #${checkin.answer.issue})` : '';
      parts.push(
        `answered “${ANSWER_WORDS[checkin.answer.kind] ?? inline(checkin.answer.kind)}”${issue} by ${who(checkin.answer.by)} at ${humanTime(Date.parse(checkin.answer.at))}`,
      );
    } else if (checkin.postedAt) {
      parts.push('not answered');
    }
    if (checkin.escalatedAt) {
      parts.push(
        `escalated ${humanTime(Date.parse(checkin.escalatedAt))}${checkin.escalatedTo ? ` to ${who(checkin.escalatedTo)}` : ''}`,
      );
    }
    checkinLines.push(`${parts.join('; ')}.`);
    if (checkin.metrics) checkinLines.push(metricsLine(release, checkin.metrics));
  }
  section('Post-deploy check-ins', json.checkins.length > 0 ? checkinLines : []);

  section(
    'Success criteria',
    json.criteria.length > 0
      ? json.criteria.map((criterion) => criterionLine(criterion, who))
      : ['The template sets no success criteria.'],
  );

  section(
    'Issues',
    json.issues.map((issue) => {
      const at = issue.checkin !== undefined ? ` at check-in ${issue.checkin + 1}` : '';
      const found = `- #${issue.id} (${inline(issue.severity)}), found by ${who(issue.foundBy)} at ${humanTime(Date.parse(issue.foundAt))}${at}: ${inline(issue.what)}`;
      const resolved =
        issue.resolvedAt !== undefined
          ? `Resolved by ${who(issue.resolvedBy ?? '')} at ${humanTime(Date.parse(issue.resolvedAt))}${issue.resolution ? `: ${inline(issue.resolution)}` : '.'}`
          : 'Still open.';
      return `${found}. ${resolved}`;
    }),
  );

  section(
    'Red flags',
    json.redFlags.map((flag) => {
      const what = flag.condition ? `**${inline(flag.condition)}**: ${inline(flag.note)}` : inline(flag.note);
      const raised = `- #${flag.number}, raised by ${who(flag.raisedBy)} at ${humanTime(Date.parse(flag.raisedAt))}: ${what}`;
      const cleared =
        flag.clearedAt !== undefined
          ? `Cleared by ${who(flag.clearedBy ?? '')} at ${humanTime(Date.parse(flag.clearedAt))}${flag.clearNote ? `: ${inline(flag.clearNote)}` : '.'}`
          : 'Still up: the release is stopped.';
      return `${raised}. ${cleared}`;
    }),
  );

  const rollbackLines: string[] = [];
  if (json.rollback) {
    rollbackLines.push(
      `Decided by ${who(json.rollback.decidedBy)} at ${humanTime(Date.parse(json.rollback.decidedAt))}${json.rollback.reason ? `: ${inline(json.rollback.reason)}` : '.'}`,
    );
    if (release.status === 'rolled_back' && release.finishedAt !== undefined)
      rollbackLines.push('', `Rolled back at ${humanTime(release.finishedAt)}.`);
    if (json.rollback.criteria.length > 0) {
      rollbackLines.push(
        '',
        'Rollback criteria:',
        '',
        ...json.rollback.criteria.map((text) => `- ${inline(text)}`),
      );
    }
    rollbackLines.push('', '### Rollback checklist', '', ...checklistLines(json.rollback.items, who));
  }
  section('Rollback', rollbackLines);

  const freeze = json.freezeOverride;
  section(
    'Freeze override',
    freeze
      ? [
          `Started inside the freeze ${quoted(freeze.window)} (until ${humanTime(Date.parse(freeze.endsAt))}) by ${who(freeze.by ?? release.startedBy)}${freeze.at ? ` at ${humanTime(Date.parse(freeze.at))}` : ''}: ${inline(freeze.reason)}`,
        ]
      : [],
  );

  const retro = json.retrospective;
  section(
    'Retrospective',
    retro
      ? [
          `Written by ${who(retro.by)} at ${humanTime(Date.parse(retro.at))}.`,
          '',
          '### What went well',
          '',
          escapeMarkdown(retro.wentWell),
          '',
          '### What went wrong',
          '',
          escapeMarkdown(retro.wentWrong),
          '',
          '### Follow-ups',
          '',
          retro.followUps ? escapeMarkdown(retro.followUps) : 'None.',
        ]
      : [],
  );

  section('People', peopleLines(json.people));
  section('Audit trail', auditLines(release, events, who));
  return `${out.join('\n')}\n`;
}

/**
 * The deployment log of a release, from the release as stored and its audit trail (in stream order,
 * as read). `generatedAt` is the moment the log is made (ms since the epoch); `people` the release's
 * record of names; `evidence` the trail as stored and whether it verified, which the log then carries.
 */
export function buildDeploymentLog(
  release: Release,
  events: readonly AuditEvent[],
  generatedAt: number,
  people: ReleasePeople = NO_PEOPLE,
  evidence?: LogEvidence,
): DeploymentLog {
  const facts: Facts = {
    release,
    events,
    skipped: new Set(listSkippedItems(release).map((entry) => entry.itemId)),
    people,
    evidence,
  };
  const json = buildJson(facts, generatedAt);
  return {
    markdown: buildMarkdown(facts, json, generatedAt),
    json,
    fileStem: `deployment-log-${fileSafe(release.version)}-${fileSafe(release.env)}-${fileSafe(release.id, 40)}`,
  };
}
