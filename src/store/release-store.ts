import type { Redis } from 'ioredis';
import { AUDIT_EVENT_TYPES, type AuditEvent, type AuditEventType } from '../domain/audit.js';
import type { DeployWindow, GateOverride, ItemState, Release, ReleaseStatus } from '../domain/release.js';
import { countRequiredItems, type Template } from '../domain/template.js';
import { createKeys, type Keys } from './keys.js';
import { defineScripts, type ScriptedRedis } from './scripts.js';

// Applied-request markers outlive any retry Slack or a job queue would make.
const APPLIED_REQUEST_TTL_SEC = 3600;

export interface StartReleaseInput {
  teamId: string;
  channelId: string;
  version: string;
  env: string;
  template: Template;
  userId: string;
  window?: DeployWindow;
  /** Identifies the Slack request, so that a retry of it creates nothing new. */
  requestId: string;
}

export type StartReleaseResult =
  | { kind: 'created'; releaseId: string }
  | { kind: 'replayed'; releaseId: string }
  | { kind: 'exists'; releaseId: string };

export type ChangeResult =
  | { kind: 'applied'; rev: number; completed: boolean }
  | { kind: 'unchanged' }
  | { kind: 'replayed' }
  | { kind: 'not_found' }
  | { kind: 'closed'; status: Exclude<ReleaseStatus, 'active'> }
  | { kind: 'locked'; blockingPhaseIndex: number }
  | { kind: 'unknown_item' }
  | { kind: 'not_locked' }
  | { kind: 'unknown_phase' };

export interface MessageRef {
  ts: string;
  /** Fingerprint of what the message last showed; a different render means an update is due. */
  hash: string;
}

export interface ReleaseMessages {
  refs: Record<string, MessageRef>;
  nonces: Record<number, number>;
  permalink: string | undefined;
}

/** Maps a script's reply code to a result; one table for every script. */
function toChangeResult(reply: unknown): ChangeResult {
  const [code, first, second] = reply as [number, string | number | undefined, number | undefined];
  switch (code) {
    case 1:
      return { kind: 'applied', rev: Number(first), completed: second === 1 };
    case 0:
      return { kind: 'unchanged' };
    case -1:
      return { kind: 'replayed' };
    case -2:
      return { kind: 'not_found' };
    case -3:
      return { kind: 'closed', status: first as Exclude<ReleaseStatus, 'active'> };
    case -4:
      return { kind: 'locked', blockingPhaseIndex: Number(first) };
    case -5:
      return { kind: 'unknown_item' };
    case -6:
      return { kind: 'not_locked' };
    case -7:
      return { kind: 'unknown_phase' };
    default:
      throw new Error(`unexpected script reply ${JSON.stringify(reply)}`);
  }
}

function parseRelease(meta: Record<string, string>, items: Record<string, string>): Release {
  const overrides: GateOverride[] = [];
  for (const [field, value] of Object.entries(meta)) {
    if (!field.startsWith('ovr:')) continue;
    const parsed = JSON.parse(value) as { by: string; at: number; reason: string };
    overrides.push({ phaseIndex: Number(field.slice(4)), ...parsed });
  }
  overrides.sort((a, b) => a.at - b.at);
  const itemStates: Record<string, ItemState> = {};
  for (const [itemId, value] of Object.entries(items)) itemStates[itemId] = JSON.parse(value) as ItemState;
  const release: Release = {
    id: meta.id!,
    teamId: meta.team!,
    channelId: meta.channel!,
    version: meta.version!,
    env: meta.env!,
    template: JSON.parse(meta.template!) as Template,
    startedBy: meta.startedBy!,
    startedAt: Number(meta.startedAt),
    status: meta.status as ReleaseStatus,
    items: itemStates,
    overrides,
    rev: Number(meta.rev),
  };
  if (meta.windowAt && meta.windowZone) release.window = { at: Number(meta.windowAt), zone: meta.windowZone };
  if (meta.finishedAt) release.finishedAt = Number(meta.finishedAt);
  if (meta.finishedBy) release.finishedBy = meta.finishedBy;
  if (meta.cancelReason) release.cancelReason = meta.cancelReason;
  return release;
}

function parseAuditEntry(id: string, flat: string[]): AuditEvent {
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
  if (type === 'rescheduled') event.windowAt = Number(fields.to);
  return event;
}

export class ReleaseStore {
  readonly keys: Keys;
  private readonly redis: ScriptedRedis;

  constructor(redis: Redis, prefix: string) {
    this.redis = defineScripts(redis);
    this.keys = createKeys(prefix);
  }

  async startRelease(input: StartReleaseInput): Promise<StartReleaseResult> {
    const { teamId, template } = input;
    const sequence = await this.redis.incr(this.keys.releaseSequence(teamId));
    const releaseId = `r${sequence}`;
    const indexPairs: string[] = [];
    template.phases.forEach((phase, phaseIndex) => {
      for (const item of phase.items) indexPairs.push(item.id, `${phaseIndex}|${item.required ? 1 : 0}`);
    });
    const meta = {
      team: teamId,
      channel: input.channelId,
      version: input.version,
      env: input.env,
      templateId: template.id,
      template: JSON.stringify(template),
      startedBy: input.userId,
      ...(input.window ? { windowAt: String(input.window.at), windowZone: input.window.zone } : {}),
    };
    const reply = (await this.redis.createRelease(
      this.keys.releaseMeta(teamId, releaseId),
      this.keys.releaseIndex(teamId, releaseId),
      this.keys.releaseAudit(teamId, releaseId),
      this.keys.activeReleases(teamId),
      this.keys.allReleases(teamId),
      this.keys.versionReleases(teamId, input.version),
      this.keys.appliedRequest(teamId, `start:${input.requestId}`),
      releaseId,
      `${input.env}|${input.version}`,
      APPLIED_REQUEST_TTL_SEC,
      JSON.stringify(meta),
      JSON.stringify(indexPairs),
      JSON.stringify(template.phases.map(countRequiredItems)),
      input.userId,
    )) as [number, string];
    const [code, id] = reply;
    if (code === 1) return { kind: 'created', releaseId: id };
    if (code === 2) return { kind: 'replayed', releaseId: id };
    return { kind: 'exists', releaseId: id };
  }

  async setItem(input: {
    teamId: string;
    releaseId: string;
    itemId: string;
    done: boolean;
    userId: string;
    requestId: string;
  }): Promise<ChangeResult> {
    const { teamId, releaseId } = input;
    return toChangeResult(
      await this.redis.setItem(
        this.keys.releaseMeta(teamId, releaseId),
        this.keys.releaseIndex(teamId, releaseId),
        this.keys.releaseItems(teamId, releaseId),
        this.keys.releaseAudit(teamId, releaseId),
        this.keys.activeReleases(teamId),
        this.keys.appliedRequest(teamId, `click:${input.requestId}`),
        input.itemId,
        input.done ? '1' : '0',
        input.userId,
        APPLIED_REQUEST_TTL_SEC,
      ),
    );
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
  }): Promise<ChangeResult> {
    return this.runReleaseChange('cancelRelease', input, `cancel:${input.requestId}`, [
      input.userId,
      input.reason,
    ]);
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

  /** Runs a script that takes a release's meta, audit, the active index and an applied-request marker. */
  private async runReleaseChange(
    script: 'overrideGate' | 'cancelRelease' | 'rescheduleRelease',
    { teamId, releaseId }: { teamId: string; releaseId: string },
    appliedRequestId: string,
    args: (string | number)[],
  ): Promise<ChangeResult> {
    return toChangeResult(
      await this.redis[script](
        this.keys.releaseMeta(teamId, releaseId),
        this.keys.releaseAudit(teamId, releaseId),
        this.keys.activeReleases(teamId),
        this.keys.appliedRequest(teamId, appliedRequestId),
        ...args,
        APPLIED_REQUEST_TTL_SEC,
      ),
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
    return parseRelease(meta, items ?? {});
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

  async getMessages(teamId: string, releaseId: string): Promise<ReleaseMessages> {
    const fields = await this.redis.hgetall(this.keys.releaseMessages(teamId, releaseId));
    const messages: ReleaseMessages = { refs: {}, nonces: {}, permalink: fields.permalink };
    for (const [field, value] of Object.entries(fields)) {
      if (field.startsWith('msg:')) messages.refs[field.slice(4)] = JSON.parse(value) as MessageRef;
      else if (field.startsWith('nonce:')) messages.nonces[Number(field.slice(6))] = Number(value);
    }
    return messages;
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

  /**
   * Claims a one-time action (a reminder post) for whoever asks first, across instances and retries.
   * Resolves false when it was claimed already.
   */
  async claimOnce(teamId: string, actionId: string, ttlSec = 7 * 24 * 3600): Promise<boolean> {
    return (
      (await this.redis.set(this.keys.appliedRequest(teamId, actionId), '1', 'EX', ttlSec, 'NX')) === 'OK'
    );
  }

  /** Gives a claim back when the action failed, so that a retry can do it. */
  async releaseClaim(teamId: string, actionId: string): Promise<void> {
    await this.redis.del(this.keys.appliedRequest(teamId, actionId));
  }

  /** Appends an event that changes no release state (a reminder sent) to the audit trail. */
  async appendAudit(
    teamId: string,
    releaseId: string,
    event: {
      type: 'reminder_sent';
      user: string;
      from: string;
      to: string;
      phase: number;
      recipient: string;
    },
  ): Promise<void> {
    const { type, user, from, to, phase, recipient } = event;
    await this.redis.xadd(
      this.keys.releaseAudit(teamId, releaseId),
      '*',
      'type',
      type,
      'user',
      user,
      'at',
      Date.now(),
      'from',
      from,
      'to',
      to,
      'phase',
      phase,
      'recipient',
      recipient,
    );
  }

  async trackJob(teamId: string, releaseId: string, jobId: string): Promise<void> {
    await this.redis.sadd(this.keys.releaseJobs(teamId, releaseId), jobId);
  }

  async untrackJob(teamId: string, releaseId: string, jobId: string): Promise<void> {
    await this.redis.srem(this.keys.releaseJobs(teamId, releaseId), jobId);
  }

  /** Takes the release's tracked job ids, leaving the set empty. */
  async takeTrackedJobs(teamId: string, releaseId: string): Promise<string[]> {
    const key = this.keys.releaseJobs(teamId, releaseId);
    const [[, ids]] = (await this.redis.multi().smembers(key).del(key).exec()) as [[null, string[]], unknown];
    return ids;
  }

  /** Reserves a slot on a shared pacer; resolves with the wait in ms before the call may go. */
  async reserveSlot(pacerKey: string, intervalMs: number, pauseMs = 0): Promise<number> {
    return Number(await this.redis.reserveSlot(pacerKey, intervalMs, pauseMs));
  }
}
