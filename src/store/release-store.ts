import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AUDIT_EVENT_TYPES, type AuditEvent, type AuditEventType } from '../domain/audit.js';
import type { StoredAuditEntry } from '../domain/audit-chain.js';
import type {
  CheckIn,
  CheckInAnswerKind,
  DeployWindow,
  EnvLock,
  GateOverride,
  IssueSeverity,
  ItemState,
  RedFlag,
  Release,
  ReleaseIssue,
  ReleaseStatus,
  Retrospective,
} from '../domain/release.js';
import {
  countRequiredItems,
  deploymentPhaseIndex,
  goPhaseIndex,
  rollbackPhaseIndex,
  type Template,
} from '../domain/template.js';
import { createKeys, type Keys } from './keys.js';
import { decodeCreateReply, decodeReply, unhandledReply } from './reply-codes.js';
import { defineScripts, SCRIPT_FILES, type ScriptedRedis } from './scripts.js';

// Applied-request markers outlive any retry Slack or a job queue would make.
const APPLIED_REQUEST_TTL_SEC = 3600;
// Delivery markers outlive every job that could post the same message: scheduled jobs are kept a week.
const DELIVERY_TTL_SEC = 30 * 24 * 3600;

export interface StartReleaseInput {
  teamId: string;
  channelId: string;
  version: string;
  env: string;
  template: Template;
  userId: string;
  window?: DeployWindow;
  /** Post-deploy check-in offsets (ms after the deploy), fixed for the release when it starts. */
  checkinPlanMs?: number[];
  notes?: string;
  downtime?: string;
  /** Channel IDs for stakeholder announcements. */
  stakeholderChannels?: string[];
  /** Started inside a freeze window, on the record: why, which window, and when it ends. */
  freezeOverride?: { reason: string; window: string; endsAt: number };
  /** Identifies the Slack request, so that a retry of it creates nothing new. */
  requestId: string;
  /** Where to tell the starter if the release cannot be posted (a slash command's response_url). */
  replyUrl?: string;
}

export type StartReleaseResult =
  | { kind: 'created'; releaseId: string }
  | { kind: 'replayed'; releaseId: string }
  | { kind: 'exists'; releaseId: string };

export type ChangeResult =
  | {
      kind: 'applied';
      rev: number;
      completed: boolean;
      /** A tick: it did the deployment phase's last required item. */
      deployed?: boolean;
      /** A tick: it did its phase's last required item. */
      phaseDone?: boolean;
      /** An untick: its phase was done and is open again. */
      phaseReopened?: boolean;
      /** A check-in answer or an issue resolution: it closed the monitoring window. */
      monitoringClosed?: boolean;
      /** An "issue found" answer: the new issue's id. */
      issueId?: number;
      /** An issue resolution: the follow-up check-in it planned. */
      followUpCheckin?: number;
      /** Owner assignments: how many items changed hands. */
      changed?: number;
      /** A red flag raised or cleared: its number in the release. */
      redFlagNumber?: number;
    }
  | { kind: 'unchanged' }
  | { kind: 'replayed' }
  | { kind: 'not_found' }
  | { kind: 'closed'; status: Exclude<ReleaseStatus, 'active'> }
  | { kind: 'locked'; blockingPhaseIndex: number }
  | { kind: 'unknown_item' }
  | { kind: 'not_locked' }
  | { kind: 'unknown_phase' }
  | { kind: 'unknown_checkin' }
  | { kind: 'checkin_answered'; answer: CheckInAnswerKind; by: string }
  | { kind: 'monitoring_closed' }
  | { kind: 'unknown_issue' }
  | { kind: 'issue_resolved'; by: string }
  | { kind: 'env_locked'; holderReleaseId: string }
  | { kind: 'red_flag'; by: string }
  | { kind: 'awaiting_go' }
  | { kind: 'red_flag_up'; by: string }
  | { kind: 'no_red_flag' }
  | { kind: 'go_decided'; by: string }
  | { kind: 'no_go_step' };

/** What set-item.lua can answer: a switch over it needs no default. */
export type SetItemResult = Extract<
  ChangeResult,
  {
    kind:
      | 'applied'
      | 'unchanged'
      | 'replayed'
      | 'not_found'
      | 'closed'
      | 'locked'
      | 'unknown_item'
      | 'env_locked'
      | 'red_flag'
      | 'awaiting_go';
  }
>;
const SET_ITEM_KINDS: ReadonlySet<ChangeResult['kind']> = new Set<SetItemResult['kind']>([
  'applied',
  'unchanged',
  'replayed',
  'not_found',
  'closed',
  'locked',
  'unknown_item',
  'env_locked',
  'red_flag',
  'awaiting_go',
]);

/** What snooze-reminder.lua can answer. */
export type SnoozeResult = Extract<ChangeResult, { kind: 'applied' | 'replayed' | 'not_found' | 'closed' }>;
const SNOOZE_KINDS: ReadonlySet<ChangeResult['kind']> = new Set<SnoozeResult['kind']>([
  'applied',
  'replayed',
  'not_found',
  'closed',
]);

/** Narrows a result to what its script can answer; anything else is a broken script, not a refusal. */
function narrowResult<Narrowed extends ChangeResult>(
  result: ChangeResult,
  kinds: ReadonlySet<ChangeResult['kind']>,
  script: string,
): Narrowed {
  if (!kinds.has(result.kind)) throw new Error(`${script} answered ${result.kind}, which it never should`);
  return result as Narrowed;
}

type AppliedExtras = Omit<Extract<ChangeResult, { kind: 'applied' }>, 'kind' | 'rev' | 'completed'>;

export interface MessageRef {
  ts: string;
  /** Fingerprint of what the message last showed; a different render means an update is due. */
  hash: string;
}

export interface ReleaseMessages {
  refs: Record<string, MessageRef>;
  nonces: Record<number, number>;
  permalink: string | undefined;
  /** Set when the release's header can never be posted: the Slack error that said so. */
  unpostable?: string;
  /** Stakeholder announcements in the order their events happened (noteAnnouncement). */
  announcements: NotedAnnouncement[];
}

export interface NotedAnnouncement {
  event: string;
  occurrence: number;
  /** Place in the release's order of announcements: 1, 2, … */
  seq: number;
}

/**
 * Maps a release script's reply to a result; one table for every script. `extras` reads what follows
 * {APPLIED, rev, completed}. The code is decoded first, so an unknown one throws before the switch.
 */
function toChangeResult(reply: unknown, extras?: (rest: number[]) => AppliedExtras): ChangeResult {
  const name = decodeReply(reply);
  const [, first, second, ...rest] = reply as [
    number,
    string | number | undefined,
    string | number | undefined,
    ...number[],
  ];
  switch (name) {
    case 'APPLIED':
      return {
        kind: 'applied',
        rev: Number(first),
        completed: second === 1,
        ...extras?.(rest.map(Number)),
      };
    case 'UNCHANGED':
      return { kind: 'unchanged' };
    case 'REPLAYED':
      return { kind: 'replayed' };
    case 'NOT_FOUND':
      return { kind: 'not_found' };
    case 'CLOSED':
      return { kind: 'closed', status: first as Exclude<ReleaseStatus, 'active'> };
    case 'LOCKED':
      return { kind: 'locked', blockingPhaseIndex: Number(first) };
    case 'UNKNOWN_ITEM':
      return { kind: 'unknown_item' };
    case 'NOT_LOCKED':
      return { kind: 'not_locked' };
    case 'UNKNOWN_PHASE':
      return { kind: 'unknown_phase' };
    case 'UNKNOWN_CHECKIN':
      return { kind: 'unknown_checkin' };
    case 'CHECKIN_ANSWERED':
      return { kind: 'checkin_answered', answer: first as CheckInAnswerKind, by: String(second) };
    case 'MONITORING_CLOSED':
      return { kind: 'monitoring_closed' };
    case 'UNKNOWN_ISSUE':
      return { kind: 'unknown_issue' };
    case 'ISSUE_RESOLVED':
      return { kind: 'issue_resolved', by: String(first) };
    case 'ENV_LOCKED':
      return { kind: 'env_locked', holderReleaseId: String(first) };
    case 'RED_FLAG':
      return { kind: 'red_flag', by: String(first) };
    case 'AWAITING_GO':
      return { kind: 'awaiting_go' };
    case 'RED_FLAG_UP':
      return { kind: 'red_flag_up', by: String(first) };
    case 'NO_RED_FLAG':
      return { kind: 'no_red_flag' };
    case 'GO_DECIDED':
      return { kind: 'go_decided', by: String(first) };
    case 'NO_GO_STEP':
      return { kind: 'no_go_step' };
  }
  return unhandledReply(name);
}

// A release keeps its own copy of its template under its own key; the meta hash names it by a
// fingerprint of its JSON. Most releases share a few templates, so each distinct one is read and
// parsed once per process: a click, a sync or a reminder reads only the small meta hash.
const TEMPLATE_CACHE_SIZE = 64;
const parsedTemplates = new Map<string, Template>();

function templateFingerprint(json: string): string {
  return createHash('sha256').update(json).digest('base64url').slice(0, 22);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/** Remembers a parsed template; shared and frozen, so no reader can change another's copy. */
function rememberTemplate(fingerprint: string, json: string): Template {
  const template = deepFreeze(JSON.parse(json) as Template);
  if (parsedTemplates.size >= TEMPLATE_CACHE_SIZE) {
    parsedTemplates.delete(parsedTemplates.keys().next().value!);
  }
  parsedTemplates.set(fingerprint, template);
  return template;
}

function parseRelease(
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
  if (meta.notes) release.notes = meta.notes;
  if (meta.freezeReason) {
    release.freezeOverride = {
      reason: meta.freezeReason,
      window: meta.freezeWindow ?? '',
      endsAt: Number(meta.freezeEndsAt),
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
  if (fields.issue !== undefined) event.issueId = Number(fields.issue);
  if (fields.severity) event.severity = fields.severity;
  if (fields.checkins !== undefined) event.checkins = Number(fields.checkins);
  if (fields.action) event.action = fields.action;
  if (fields.phaseState === 'done' || fields.phaseState === 'reopened') event.phaseState = fields.phaseState;
  if (fields.flag !== undefined) event.redFlagNumber = Number(fields.flag);
  if (type === 'rescheduled') event.windowAt = Number(fields.to);
  return event;
}

function deploymentFields(template: Template, checkinPlanMs: number[]): Record<string, string> {
  const deployPhase = deploymentPhaseIndex(template);
  if (deployPhase === undefined) return {};
  return { deployPhase: String(deployPhase), checkinPlan: JSON.stringify(checkinPlanMs) };
}

export class ReleaseStore {
  readonly keys: Keys;
  private readonly redis: ScriptedRedis;

  constructor(redis: Redis, prefix: string) {
    this.redis = defineScripts(redis, SCRIPT_FILES);
    this.keys = createKeys(prefix);
  }

  async startRelease(input: StartReleaseInput): Promise<StartReleaseResult> {
    const { teamId, template } = input;
    const templateJson = JSON.stringify(template);
    const sequence = await this.redis.incr(this.keys.releaseSequence(teamId));
    const releaseId = `r${sequence}`;
    const indexPairs: string[] = [];
    template.phases.forEach((phase, phaseIndex) => {
      for (const item of phase.items) indexPairs.push(item.id, `${phaseIndex}|${item.required ? 1 : 0}`);
    });
    // The rollback checklist is filed after the last phase (see set-item.lua).
    const rollbackPhase = rollbackPhaseIndex(template);
    for (const item of template.rollback?.items ?? []) {
      indexPairs.push(item.id, `${rollbackPhase}|${item.required ? 1 : 0}`);
    }
    const meta = {
      team: teamId,
      channel: input.channelId,
      version: input.version,
      env: input.env,
      templateId: template.id,
      templateHash: templateFingerprint(templateJson),
      startedBy: input.userId,
      ...(input.window ? { windowAt: String(input.window.at), windowZone: input.window.zone } : {}),
      ...deploymentFields(template, input.checkinPlanMs ?? []),
      ...(goPhaseIndex(template) !== undefined ? { goPhase: String(goPhaseIndex(template)) } : {}),
      ...(template.rollback
        ? {
            rollbackPhase: String(rollbackPhase),
            [`open:${rollbackPhase}`]: String(template.rollback.items.filter((item) => item.required).length),
          }
        : {}),
      ...(input.notes ? { notes: input.notes } : {}),
      ...(input.replyUrl ? { replyUrl: input.replyUrl } : {}),
      ...(input.downtime ? { downtime: input.downtime } : {}),
      ...(input.stakeholderChannels?.length ? { stakeholders: input.stakeholderChannels.join(',') } : {}),
      ...(input.freezeOverride
        ? {
            freezeReason: input.freezeOverride.reason,
            freezeWindow: input.freezeOverride.window,
            freezeEndsAt: String(input.freezeOverride.endsAt),
          }
        : {}),
    };
    const reply = (await this.redis.createRelease(
      this.keys.releaseMeta(teamId, releaseId),
      this.keys.releaseIndex(teamId, releaseId),
      this.keys.releaseAudit(teamId, releaseId),
      this.keys.activeReleases(teamId),
      this.keys.allReleases(teamId),
      this.keys.versionReleases(teamId, input.version),
      this.keys.appliedRequest(teamId, `start:${input.requestId}`),
      this.keys.releaseTemplate(teamId, releaseId),
      releaseId,
      `${input.env}|${input.version}`,
      APPLIED_REQUEST_TTL_SEC,
      JSON.stringify(meta),
      JSON.stringify(indexPairs),
      JSON.stringify(template.phases.map(countRequiredItems)),
      input.userId,
      templateJson,
    )) as [number, string];
    const name = decodeCreateReply(reply);
    const [, id] = reply;
    switch (name) {
      case 'CREATED':
        return { kind: 'created', releaseId: id };
      case 'REPLAYED':
        return { kind: 'replayed', releaseId: id };
      case 'EXISTS':
        return { kind: 'exists', releaseId: id };
    }
    return unhandledReply(name);
  }

  async setItem(input: {
    teamId: string;
    releaseId: string;
    itemId: string;
    done: boolean;
    userId: string;
    requestId: string;
  }): Promise<SetItemResult> {
    const { teamId, releaseId } = input;
    const result = toChangeResult(
      await this.redis.setItem(
        this.keys.releaseMeta(teamId, releaseId),
        this.keys.releaseIndex(teamId, releaseId),
        this.keys.releaseItems(teamId, releaseId),
        this.keys.releaseAudit(teamId, releaseId),
        this.keys.activeReleases(teamId),
        this.keys.appliedRequest(teamId, `click:${input.requestId}`),
        this.keys.envLocks(teamId),
        input.itemId,
        input.done ? '1' : '0',
        input.userId,
        APPLIED_REQUEST_TTL_SEC,
      ),
      ([deployed, phaseDone, reopened]) => ({
        deployed: deployed === 1,
        phaseDone: phaseDone === 1,
        phaseReopened: reopened === 1,
      }),
    );
    return narrowResult<SetItemResult>(result, SET_ITEM_KINDS, 'set-item.lua');
  }

  async overrideGate(input: {
    teamId: string;
    releaseId: string;
    phaseIndex: number;
    userId: string;
    reason: string;
    requestId: string;
  }): Promise<ChangeResult> {
    return this.runReleaseChange('overrideGate', input, `override:${input.requestId}`, [
      input.phaseIndex,
      input.userId,
      input.reason,
    ]);
  }

  async cancelRelease(input: {
    teamId: string;
    releaseId: string;
    userId: string;
    reason: string;
    requestId: string;
    /** Where the confirmation goes (a slash command's response_url); else it is an ephemeral. */
    replyUrl?: string;
  }): Promise<ChangeResult> {
    return this.runReleaseChange(
      'cancelRelease',
      input,
      `cancel:${input.requestId}`,
      [input.userId, input.reason],
      [input.replyUrl ?? ''],
    );
  }

  /** Where the cancellation's author asked from (a response_url), if they used a slash command. */
  async cancelReplyUrl(teamId: string, releaseId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.releaseMeta(teamId, releaseId), 'cancelReplyUrl')) ?? undefined;
  }

  async rescheduleRelease(input: {
    teamId: string;
    releaseId: string;
    userId: string;
    window: DeployWindow;
    requestId: string;
  }): Promise<ChangeResult> {
    return this.runReleaseChange('rescheduleRelease', input, `reschedule:${input.requestId}`, [
      input.userId,
      input.window.at,
      input.window.zone,
    ]);
  }

  /** Answers a posted check-in: healthy, issue found (what and how severe) or roll back (why). */
  async answerCheckin(input: {
    teamId: string;
    releaseId: string;
    checkinIndex: number;
    answer: CheckInAnswerKind;
    userId: string;
    /** The issue found, or the rollback's reason. */
    note?: string;
    severity?: IssueSeverity;
    requestId: string;
  }): Promise<ChangeResult> {
    return this.runReleaseChange(
      'answerCheckin',
      input,
      `checkin:${input.requestId}`,
      [input.checkinIndex, input.answer, input.userId],
      [input.note ?? '', input.severity ?? ''],
      ([closed, issueId]) => ({
        monitoringClosed: closed === 1,
        ...(issueId ? { issueId } : {}),
      }),
    );
  }

  async resolveIssue(input: {
    teamId: string;
    releaseId: string;
    issueId: number;
    userId: string;
    resolution: string;
    requestId: string;
  }): Promise<ChangeResult> {
    return this.runReleaseChange(
      'resolveIssue',
      input,
      `resolve:${input.requestId}`,
      [input.issueId, input.userId, input.resolution],
      [],
      ([closed, followUp]) => ({
        monitoringClosed: closed === 1,
        ...(followUp !== undefined && followUp >= 0 ? { followUpCheckin: followUp } : {}),
      }),
    );
  }

  /** Starts rolling an active release back; `completed` says whether it is rolled back already. */
  async startRollback(input: {
    teamId: string;
    releaseId: string;
    userId: string;
    reason: string;
    requestId: string;
  }): Promise<ChangeResult> {
    return this.runReleaseChange('startRollback', input, `rollback:${input.requestId}`, [
      input.userId,
      input.reason,
    ]);
  }

  async raiseRedFlag(input: {
    teamId: string;
    releaseId: string;
    userId: string;
    condition: string;
    note: string;
    requestId: string;
  }): Promise<ChangeResult> {
    return this.runReleaseChange(
      'raiseRedFlag',
      input,
      `redflag:${input.requestId}`,
      [input.userId, input.condition, input.note],
      [],
      ([number]) => ({ redFlagNumber: number }),
    );
  }

  async clearRedFlag(input: {
    teamId: string;
    releaseId: string;
    userId: string;
    note: string;
    requestId: string;
  }): Promise<ChangeResult> {
    return this.runReleaseChange(
      'clearRedFlag',
      input,
      `clearflag:${input.requestId}`,
      [input.userId, input.note],
      [],
      ([number]) => ({ redFlagNumber: number }),
    );
  }

  async saveRetro(input: {
    teamId: string;
    releaseId: string;
    userId: string;
    retro: { wentWell: string; wentWrong: string; followUps: string };
    requestId: string;
  }): Promise<ChangeResult> {
    const { teamId, releaseId } = input;
    return toChangeResult(
      await this.redis.saveRetro(
        this.keys.releaseMeta(teamId, releaseId),
        this.keys.releaseAudit(teamId, releaseId),
        this.keys.appliedRequest(teamId, `retro:${input.requestId}`),
        input.userId,
        JSON.stringify(input.retro),
        APPLIED_REQUEST_TTL_SEC,
      ),
    );
  }

  /** The go/no-go call; no-go cancels the release with the reason. */
  async decideGo(input: {
    teamId: string;
    releaseId: string;
    userId: string;
    decision: 'go' | 'no_go';
    reason: string;
    requestId: string;
  }): Promise<ChangeResult> {
    return this.runReleaseChange('decideGo', input, `go:${input.requestId}`, [
      input.userId,
      input.decision,
      input.reason,
    ]);
  }

  /** Sets (or, with an empty owner, clears) the owners of items; one audit event per change. */
  async assignOwners(input: {
    teamId: string;
    releaseId: string;
    userId: string;
    owners: { itemId: string; ownerId: string | undefined }[];
    requestId: string;
  }): Promise<ChangeResult> {
    const { teamId, releaseId } = input;
    return toChangeResult(
      await this.redis.assignOwners(
        this.keys.releaseMeta(teamId, releaseId),
        this.keys.releaseIndex(teamId, releaseId),
        this.keys.releaseAudit(teamId, releaseId),
        this.keys.appliedRequest(teamId, `assign:${input.requestId}`),
        input.userId,
        APPLIED_REQUEST_TTL_SEC,
        JSON.stringify(input.owners.map(({ itemId, ownerId }) => [itemId, ownerId ?? ''])),
      ),
      ([changed]) => ({ changed }),
    );
  }

  async snoozeReminders(input: {
    teamId: string;
    releaseId: string;
    phaseIndex: number;
    userId: string;
    until: number;
    requestId: string;
  }): Promise<SnoozeResult> {
    const { teamId, releaseId } = input;
    const result = toChangeResult(
      await this.redis.snoozeReminder(
        this.keys.releaseMeta(teamId, releaseId),
        this.keys.releaseAudit(teamId, releaseId),
        this.keys.appliedRequest(teamId, `snooze:${input.requestId}`),
        input.phaseIndex,
        input.userId,
        input.until,
        APPLIED_REQUEST_TTL_SEC,
      ),
    );
    return narrowResult<SnoozeResult>(result, SNOOZE_KINDS, 'snooze-reminder.lua');
  }

  /** Runs a script that takes a release's meta, audit, the active index and an applied-request marker. */
  private async runReleaseChange(
    script:
      | 'overrideGate'
      | 'cancelRelease'
      | 'rescheduleRelease'
      | 'answerCheckin'
      | 'resolveIssue'
      | 'startRollback'
      | 'raiseRedFlag'
      | 'clearRedFlag'
      | 'decideGo',
    { teamId, releaseId }: { teamId: string; releaseId: string },
    appliedRequestId: string,
    args: (string | number)[],
    argsAfterTtl: (string | number)[] = [],
    extras?: (rest: number[]) => AppliedExtras,
  ): Promise<ChangeResult> {
    return toChangeResult(
      await this.redis[script](
        this.keys.releaseMeta(teamId, releaseId),
        this.keys.releaseAudit(teamId, releaseId),
        this.keys.activeReleases(teamId),
        this.keys.appliedRequest(teamId, appliedRequestId),
        this.keys.envLocks(teamId),
        ...args,
        APPLIED_REQUEST_TTL_SEC,
        ...argsAfterTtl,
      ),
      extras,
    );
  }

  async getRelease(teamId: string, releaseId: string): Promise<Release | undefined> {
    const replies = await this.redis
      .multi()
      .hgetall(this.keys.releaseMeta(teamId, releaseId))
      .hgetall(this.keys.releaseItems(teamId, releaseId))
      .exec();
    const meta = replies?.[0]?.[1] as Record<string, string> | undefined;
    const items = replies?.[1]?.[1] as Record<string, string> | undefined;
    if (!meta?.id) return undefined;
    return parseRelease(meta, items ?? {}, await this.readTemplate(teamId, releaseId, meta));
  }

  private async readTemplate(
    teamId: string,
    releaseId: string,
    meta: Record<string, string>,
  ): Promise<Template> {
    const fingerprint = meta.templateHash;
    if (!fingerprint) throw new Error(`release ${releaseId} has no template fingerprint`);
    const cached = parsedTemplates.get(fingerprint);
    if (cached) return cached;
    const json = await this.redis.get(this.keys.releaseTemplate(teamId, releaseId));
    if (json === null) throw new Error(`release ${releaseId} has lost its template`);
    return rememberTemplate(fingerprint, json);
  }

  private async getReleases(teamId: string, releaseIds: string[]): Promise<Release[]> {
    const releases = await Promise.all(releaseIds.map((id) => this.getRelease(teamId, id)));
    return releases.filter((release): release is Release => release !== undefined);
  }

  /** Active releases of a workspace, oldest first. */
  async listActive(teamId: string): Promise<Release[]> {
    const ids = Object.values(await this.redis.hgetall(this.keys.activeReleases(teamId)));
    const releases = await this.getReleases(teamId, ids);
    return releases.sort((a, b) => a.startedAt - b.startedAt);
  }

  /** The most recent releases of a workspace, newest first. */
  async listRecent(teamId: string, count: number): Promise<Release[]> {
    const ids = await this.redis.zrevrange(this.keys.allReleases(teamId), 0, count - 1);
    return this.getReleases(teamId, ids);
  }

  /** Releases of one version, newest first (at most `count`). */
  async findByVersion(teamId: string, version: string, count = 20): Promise<Release[]> {
    const ids = await this.redis.zrevrange(this.keys.versionReleases(teamId, version), 0, count - 1);
    return this.getReleases(teamId, ids);
  }

  // ---- retention ----------------------------------------------------------------------------

  /** Every workspace with releases under this prefix; a SCAN, for the daily sweep. */
  async listTeams(): Promise<string[]> {
    const teams = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        this.keys.allReleasesPattern(),
        'COUNT',
        500,
      );
      cursor = next;
      for (const key of keys) {
        const match = /:\{([^}]+)\}:releases$/.exec(key);
        if (match) teams.add(match[1]!);
      }
    } while (cursor !== '0');
    return [...teams];
  }

  /** Releases that started in [from, to), oldest first. */
  async releasesStartedBetween(teamId: string, from: number, to: number): Promise<Release[]> {
    const ids = await this.redis.zrangebyscore(this.keys.allReleases(teamId), from, `(${to}`);
    return this.getReleases(teamId, ids);
  }

  async releasesStartedBefore(teamId: string, before: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.allReleases(teamId), '-inf', `(${before}`);
  }

  /** Removes a release and its records (audit trail, messages, template copy) for good. */
  async removeRelease(teamId: string, releaseId: string, version: string | undefined): Promise<void> {
    const transaction = this.redis
      .multi()
      .del(
        this.keys.releaseMeta(teamId, releaseId),
        this.keys.releaseItems(teamId, releaseId),
        this.keys.releaseIndex(teamId, releaseId),
        this.keys.releaseAudit(teamId, releaseId),
        this.keys.releaseMessages(teamId, releaseId),
        this.keys.releaseJobs(teamId, releaseId),
        this.keys.releaseTemplate(teamId, releaseId),
      )
      .zrem(this.keys.allReleases(teamId), releaseId);
    if (version) transaction.zrem(this.keys.versionReleases(teamId, version), releaseId);
    await transaction.exec();
  }

  async markRetentionCutoff(teamId: string, cutoff: number): Promise<void> {
    await this.redis.set(this.keys.retentionCutoff(teamId), String(cutoff));
  }

  /** Records of releases that ended before this moment were removed (undefined: nothing removed yet). */
  async retentionCutoff(teamId: string): Promise<number | undefined> {
    const value = await this.redis.get(this.keys.retentionCutoff(teamId));
    return value === null ? undefined : Number(value);
  }

  /** Active releases across every workspace under this prefix; a SCAN, for metrics scrapes, not request paths. */
  async countActiveReleases(): Promise<number> {
    let total = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        this.keys.activeReleasesPattern(),
        'COUNT',
        500,
      );
      cursor = next;
      for (const key of keys) total += await this.redis.hlen(key);
    } while (cursor !== '0');
    return total;
  }

  async readAudit(teamId: string, releaseId: string): Promise<AuditEvent[]> {
    const entries = await this.redis.xrange(this.keys.releaseAudit(teamId, releaseId), '-', '+');
    return entries.map(([id, fields]) => parseAuditEntry(id, fields));
  }

  /** The audit trail as stored (fields in order, hashes included) and the chain's head, for verification. */
  async readAuditChain(
    teamId: string,
    releaseId: string,
  ): Promise<{ entries: StoredAuditEntry[]; head: string | undefined }> {
    const [entries, head] = await Promise.all([
      this.redis.xrange(this.keys.releaseAudit(teamId, releaseId), '-', '+'),
      this.redis.hget(this.keys.releaseMeta(teamId, releaseId), 'auditHead'),
    ]);
    return { entries: entries.map(([id, fields]) => ({ id, fields })), head: head ?? undefined };
  }

  async getMessages(teamId: string, releaseId: string): Promise<ReleaseMessages> {
    const fields = await this.redis.hgetall(this.keys.releaseMessages(teamId, releaseId));
    const messages: ReleaseMessages = {
      refs: {},
      nonces: {},
      permalink: fields.permalink,
      ...(fields.unpostable ? { unpostable: fields.unpostable } : {}),
      announcements: [],
    };
    for (const [field, value] of Object.entries(fields)) {
      if (field.startsWith('msg:')) messages.refs[field.slice(4)] = JSON.parse(value) as MessageRef;
      else if (field.startsWith('nonce:')) messages.nonces[Number(field.slice(6))] = Number(value);
      else if (field.startsWith('announce:')) {
        const [event = '', occurrence = ''] = field.slice('announce:'.length).split('|');
        messages.announcements.push({ event, occurrence: Number(occurrence), seq: Number(value) });
      }
    }
    messages.announcements.sort((a, b) => a.seq - b.seq);
    return messages;
  }

  /**
   * Notes a stakeholder announcement in the release's order of announcements, once: noting the same
   * event again keeps its first place.
   */
  async noteAnnouncement(
    teamId: string,
    releaseId: string,
    event: string,
    occurrence: number,
  ): Promise<void> {
    await this.redis.noteAnnouncement(
      this.keys.releaseMessages(teamId, releaseId),
      `announce:${event}|${occurrence}`,
    );
  }

  async saveMessageRef(
    teamId: string,
    releaseId: string,
    messageKey: string,
    ref: MessageRef,
  ): Promise<void> {
    await this.redis.hset(
      this.keys.releaseMessages(teamId, releaseId),
      `msg:${messageKey}`,
      JSON.stringify(ref),
    );
  }

  /** The response_url of the command that started the release, if it came from one. */
  async startReplyUrl(teamId: string, releaseId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.releaseMeta(teamId, releaseId), 'replyUrl')) ?? undefined;
  }

  /** Notes that the release's header can never be posted, so nothing waits for its thread any more. */
  async markUnpostable(teamId: string, releaseId: string, slackError: string): Promise<void> {
    await this.redis.hset(this.keys.releaseMessages(teamId, releaseId), 'unpostable', slackError);
  }

  async savePermalink(teamId: string, releaseId: string, permalink: string): Promise<void> {
    await this.redis.hset(this.keys.releaseMessages(teamId, releaseId), 'permalink', permalink);
  }

  /**
   * Forces the next sync to re-send a phase's messages. A refused click leaves the box ticked in that
   * user's Slack client; only a re-render with new block ids puts it back.
   */
  async bumpPhaseNonce(teamId: string, releaseId: string, phaseIndex: number): Promise<void> {
    await this.redis.hincrby(this.keys.releaseMessages(teamId, releaseId), `nonce:${phaseIndex}`, 1);
  }

  // ---- deliveries: messages posted exactly once --------------------------------------------

  /**
   * Starts an attempt to post a delivery: done already (its ts), held by another instance (for how
   * much longer), or free to post, with the start of an earlier attempt if there was one (the message
   * may then be in Slack already). Takes the lease for `leaseMs` when free.
   */
  async beginDelivery(
    teamId: string,
    deliveryKey: string,
    holder: string,
    leaseMs: number,
    now: number,
  ): Promise<
    | { state: 'done'; ts: string }
    | { state: 'busy'; retryInMs: number }
    | { state: 'go'; earlierAttempt?: number }
  > {
    const [state, value] = (await this.redis.beginDelivery(
      this.keys.deliveryDone(teamId, deliveryKey),
      this.keys.deliveryLease(teamId, deliveryKey),
      this.keys.deliveryAttempt(teamId, deliveryKey),
      holder,
      leaseMs,
      now,
      DELIVERY_TTL_SEC,
    )) as [string, string | number];
    if (state === 'done') return { state, ts: String(value) };
    if (state === 'busy') return { state, retryInMs: Math.max(Number(value), 100) };
    return value === '' ? { state: 'go' } : { state: 'go', earlierAttempt: Number(value) };
  }

  /** The ts recorded for a delivery, if it is done. */
  async deliveryDone(teamId: string, deliveryKey: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.deliveryDone(teamId, deliveryKey))) ?? undefined;
  }

  /** Extends the caller's lease on a delivery; resolves false if it is no longer theirs. */
  async renewDeliveryLease(
    teamId: string,
    deliveryKey: string,
    holder: string,
    leaseMs: number,
  ): Promise<boolean> {
    return (await this.redis.renewLease(this.keys.deliveryLease(teamId, deliveryKey), holder, leaseMs)) === 1;
  }

  async dropDeliveryLease(teamId: string, deliveryKey: string, holder: string): Promise<void> {
    await this.redis.dropLease(this.keys.deliveryLease(teamId, deliveryKey), holder);
  }

  /**
   * Records a posted message once, together with what it means for the release (merged into a JSON
   * field of a hash) and its audit events. Resolves with the ts recorded first.
   */
  async commitDelivery(input: {
    teamId: string;
    releaseId: string;
    deliveryKey: string;
    ts: string;
    record?: { hash: 'meta' | 'messages'; field: string; patch: Record<string, unknown> };
    audit?: Record<string, string | number>[];
    /** The lease holder; the lease is given back with the record. */
    holder?: string;
  }): Promise<string> {
    const { teamId, releaseId, record } = input;
    const hashKey =
      record?.hash === 'messages'
        ? this.keys.releaseMessages(teamId, releaseId)
        : this.keys.releaseMeta(teamId, releaseId);
    const events = (input.audit ?? []).map((event) =>
      Object.entries(event).flatMap(([name, value]) => [name, String(value)]),
    );
    return String(
      await this.redis.commitDelivery(
        this.keys.deliveryDone(teamId, input.deliveryKey),
        this.keys.releaseAudit(teamId, releaseId),
        hashKey,
        this.keys.deliveryLease(teamId, input.deliveryKey),
        this.keys.releaseMeta(teamId, releaseId),
        input.ts,
        DELIVERY_TTL_SEC,
        record?.field ?? '',
        JSON.stringify(record?.patch ?? {}),
        JSON.stringify(events),
        input.holder ?? '',
      ),
    );
  }

  // ---- environment locks ----------------------------------------------------------------------

  /** Every environment lock of a workspace (the holder may have ended since: callers check). */
  async listEnvLocks(teamId: string): Promise<EnvLock[]> {
    const fields = await this.redis.hgetall(this.keys.envLocks(teamId));
    return Object.entries(fields)
      .map(([env, value]) => ({ env, ...(JSON.parse(value) as Omit<EnvLock, 'env'>) }))
      .sort((a, b) => a.env.localeCompare(b.env));
  }

  /** Adds someone to be told by DM when an environment is free again; false if they were already. */
  async addLockWaiter(teamId: string, env: string, userId: string): Promise<boolean> {
    return (await this.redis.sadd(this.keys.lockWaiters(teamId, env), userId)) === 1;
  }

  async lockWaiters(teamId: string, env: string): Promise<string[]> {
    return this.redis.smembers(this.keys.lockWaiters(teamId, env));
  }

  async removeLockWaiter(teamId: string, env: string, userId: string): Promise<void> {
    await this.redis.srem(this.keys.lockWaiters(teamId, env), userId);
  }

  async getDirectMessageChannel(teamId: string, userId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.directMessageChannels(teamId), userId)) ?? undefined;
  }

  async saveDirectMessageChannel(teamId: string, userId: string, channelId: string): Promise<void> {
    await this.redis.hset(this.keys.directMessageChannels(teamId), userId, channelId);
  }

  /**
   * Appends an event that changes no release state (an attempt that was refused) to the audit trail.
   * The time is the server's, as for every other event.
   */
  async appendAudit(
    teamId: string,
    releaseId: string,
    event: { type: 'refused'; user: string; action: string; reason: string; item?: string; phase?: number },
  ): Promise<void> {
    const fields = Object.entries({ ...event, from: 'none', to: 'refused' }).flatMap(([name, value]) =>
      value === undefined ? [] : [name, String(value)],
    );
    await this.redis.appendEvent(
      this.keys.releaseMeta(teamId, releaseId),
      this.keys.releaseAudit(teamId, releaseId),
      ...fields,
    );
  }

  /** Notes an Events API event as handled; false when it was already (Slack redelivers for 5 minutes). */
  async claimEvent(teamId: string, eventId: string): Promise<boolean> {
    const key = this.keys.appliedRequest(teamId, `event:${eventId}`);
    return (await this.redis.set(key, '1', 'EX', 600, 'NX')) === 'OK';
  }

  /** Notes that the person opened their Home tab and what it now shows. */
  async noteHomeDrawn(teamId: string, userId: string, at: number, rendered: string): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.keys.homeViewers(teamId), at, userId)
      .hset(this.keys.homeRendered(teamId), userId, rendered)
      .exec();
  }

  /**
   * People who opened their Home tab since `since`, with the fingerprint of what it last showed them.
   * Those who have not looked since are forgotten here, so their Home is redrawn only on their next visit.
   */
  async homeViewers(teamId: string, since: number): Promise<Map<string, string | undefined>> {
    const viewersKey = this.keys.homeViewers(teamId);
    const renderedKey = this.keys.homeRendered(teamId);
    const gone = await this.redis.zrangebyscore(viewersKey, '-inf', `(${since}`);
    if (gone.length > 0) {
      await this.redis
        .multi()
        .zrem(viewersKey, ...gone)
        .hdel(renderedKey, ...gone)
        .exec();
    }
    const users = await this.redis.zrangebyscore(viewersKey, since, '+inf');
    if (users.length === 0) return new Map();
    const rendered = await this.redis.hmget(renderedKey, ...users);
    return new Map(users.map((user, index) => [user, rendered[index] ?? undefined]));
  }

  /** Records what a refresh published, unless the person stopped counting as a viewer meanwhile. */
  async noteHomeRefreshed(teamId: string, userId: string, rendered: string): Promise<void> {
    if ((await this.redis.zscore(this.keys.homeViewers(teamId), userId)) === null) return;
    await this.redis.hset(this.keys.homeRendered(teamId), userId, rendered);
  }

  async trackJob(teamId: string, releaseId: string, jobId: string): Promise<void> {
    await this.redis.sadd(this.keys.releaseJobs(teamId, releaseId), jobId);
  }

  async untrackJob(teamId: string, releaseId: string, jobId: string): Promise<void> {
    await this.redis.srem(this.keys.releaseJobs(teamId, releaseId), jobId);
  }

  /** Takes the release's tracked job ids that match, leaving the others tracked. */
  async takeTrackedJobs(
    teamId: string,
    releaseId: string,
    matches: (jobId: string) => boolean = () => true,
  ): Promise<string[]> {
    const key = this.keys.releaseJobs(teamId, releaseId);
    const taken = (await this.redis.smembers(key)).filter(matches);
    if (taken.length > 0) await this.redis.srem(key, ...taken);
    return taken;
  }
}
