import type { Redis } from 'ioredis';
import type { AuditEvent } from '../domain/audit.js';
import type { StoredAuditEntry } from '../domain/audit-chain.js';
import { decodeSeal, decodeSealHead, type SealHead, type StoredSeal } from '../domain/audit-seal.js';
import { needsValue } from '../domain/recorded-value.js';
import type {
  CheckInAnswerKind,
  DeployWindow,
  IssueSeverity,
  ItemEvidence,
  Release,
  ReleaseSource,
} from '../domain/release.js';
import {
  countRequiredItems,
  deploymentPhaseIndex,
  goPhaseIndex,
  rollbackPhaseIndex,
  type Template,
  type TemplateItem,
} from '../domain/template.js';
import { ApiStore } from './api-store.js';
import {
  type AppliedExtras,
  type ChangeResult,
  narrowResult,
  SET_ITEM_KINDS,
  type SetItemResult,
  SNOOZE_KINDS,
  type SnoozeResult,
  type StartReleaseResult,
  toChangeResult,
  toStartReleaseResult,
} from './change-results.js';
import { ClickStore } from './click-store.js';
import { DeliveryStore } from './delivery-store.js';
import { HomeStore } from './home-store.js';
import { JobIndex } from './job-index.js';
import { APPLIED_REQUEST_TTL_SEC, createKeys, type Keys } from './keys.js';
import { LockStore } from './lock-store.js';
import { MessageStore } from './message-store.js';
import { MetricStore } from './metric-store.js';
import { PeopleStore } from './people-store.js';
import { PipelineTokenStore } from './pipeline-token-store.js';
import {
  cachedTemplate,
  parseAuditEntry,
  parseRelease,
  rememberTemplate,
  templateFingerprint,
} from './release-codec.js';
import { RetentionStore } from './retention-store.js';
import { defineScripts, SCRIPT_FILES, type ScriptedRedis } from './scripts.js';

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
  /** What a pipeline's start deploys: the commit, and the run that started it. */
  source?: ReleaseSource;
}

function deploymentFields(template: Template, checkinPlanMs: number[]): Record<string, string> {
  const deployPhase = deploymentPhaseIndex(template);
  if (deployPhase === undefined) return {};
  return { deployPhase: String(deployPhase), checkinPlan: JSON.stringify(checkinPlanMs) };
}

/**
 * The release record: the commands that change a release (one script each, with its audit event)
 * and the queries that read it. What else shipcheck keeps about a release or a workspace is in the
 * smaller stores below, over the same connection and keys.
 */
export class ReleaseStore {
  readonly keys: Keys;
  /** Where the release's Slack messages are and what they last showed. */
  readonly messages: MessageStore;
  /** Messages posted exactly once, and people's DM conversation ids. */
  readonly deliveries: DeliveryStore;
  /** Environment locks and who waits for them. */
  readonly locks: LockStore;
  /** Home tab viewers, and the events that open the tab. */
  readonly home: HomeStore;
  /** Each release's pending scheduled jobs. */
  readonly jobs: JobIndex;
  /** Clicks read and not committed yet, so one lost with its process is told. */
  readonly clicks: ClickStore;
  /** The retention sweep, and the SCANs over every workspace. */
  readonly retention: RetentionStore;
  /** The names of the people each release names, and the workspace's cache of them. */
  readonly people: PeopleStore;
  readonly metrics: MetricStore;
  /** The workspace's pipeline tokens (hashed) and who created or revoked them. */
  readonly tokens: PipelineTokenStore;
  readonly api: ApiStore;
  private readonly redis: ScriptedRedis;

  constructor(redis: Redis, prefix: string) {
    this.redis = defineScripts(redis, SCRIPT_FILES);
    this.keys = createKeys(prefix);
    this.messages = new MessageStore(redis, this.keys);
    this.deliveries = new DeliveryStore(redis, this.keys);
    this.locks = new LockStore(redis, this.keys);
    this.home = new HomeStore(redis, this.keys);
    this.jobs = new JobIndex(redis, this.keys);
    this.clicks = new ClickStore(redis, this.keys);
    this.retention = new RetentionStore(redis, this.keys);
    this.people = new PeopleStore(redis, this.keys);
    this.metrics = new MetricStore(redis, this.keys);
    this.tokens = new PipelineTokenStore(redis, this.keys);
    this.api = new ApiStore(redis, this.keys);
  }

  async startRelease(input: StartReleaseInput): Promise<StartReleaseResult> {
    const { teamId, template } = input;
    const templateJson = JSON.stringify(template);
    const sequence = await this.redis.incr(this.keys.releaseSequence(teamId));
    const releaseId = `r${sequence}`;
    const indexPairs: string[] = [];
    // "<phase>|<required>", and "|v" where a tick must carry a value, so set-item.lua can refuse a bare one.
    const location = (phaseIndex: number, item: TemplateItem) =>
      `${phaseIndex}|${item.required ? 1 : 0}${needsValue(item) ? '|v' : ''}`;
    template.phases.forEach((phase, phaseIndex) => {
      for (const item of phase.items) indexPairs.push(item.id, location(phaseIndex, item));
    });
    // The rollback checklist is filed after the last phase (see set-item.lua).
    const rollbackPhase = rollbackPhaseIndex(template);
    for (const item of template.rollback?.items ?? [])
      indexPairs.push(item.id, location(rollbackPhase, item));
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
      ...(input.source?.commit ? { commit: input.source.commit } : {}),
      ...(input.source?.runUrl ? { runUrl: input.source.runUrl } : {}),
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
    return toStartReleaseResult(reply);
  }

  async setItem(input: {
    teamId: string;
    releaseId: string;
    itemId: string;
    done: boolean;
    userId: string;
    requestId: string;
    /** Recorded with a tick; checked against the template before it gets here. */
    value?: string;
    /** A pipeline's proof of the change: a link and a one-line summary, checked before it gets here. */
    evidence?: ItemEvidence;
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
        this.keys.pendingClicks(teamId),
        this.keys.pendingClickDetails(teamId),
        input.itemId,
        input.done ? '1' : '0',
        input.userId,
        APPLIED_REQUEST_TTL_SEC,
        input.requestId,
        input.done ? (input.value ?? '') : '',
        input.evidence?.url ?? '',
        input.evidence?.summary ?? '',
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

  /** Lets an active release deploy inside the freeze in force, on the record (override-freeze-5.lua). */
  async overrideFreeze(input: {
    teamId: string;
    releaseId: string;
    userId: string;
    reason: string;
    /** The freeze window as configured, and the end of the occurrence overridden. */
    window: string;
    endsAt: number;
    requestId: string;
  }): Promise<ChangeResult> {
    return this.runReleaseChange('overrideFreeze', input, `unfreeze:${input.requestId}`, [
      input.userId,
      input.reason,
      input.window,
      input.endsAt,
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

  /**
   * Records values observed at a posted check-in, by success criterion; a value left out (undefined)
   * clears the one recorded before. Values are written as decimal text, as people read them.
   */
  async recordObservations(input: {
    teamId: string;
    releaseId: string;
    checkinIndex: number;
    userId: string;
    values: { criterionId: string; value?: number }[];
    requestId: string;
  }): Promise<ChangeResult> {
    const { teamId, releaseId } = input;
    const pairs = input.values.map(({ criterionId, value }) => [
      criterionId,
      value === undefined ? '' : String(value),
    ]);
    return toChangeResult(
      await this.redis.recordObservations(
        this.keys.releaseMeta(teamId, releaseId),
        this.keys.releaseAudit(teamId, releaseId),
        this.keys.appliedRequest(teamId, `observe:${input.requestId}`),
        input.checkinIndex,
        input.userId,
        APPLIED_REQUEST_TTL_SEC,
        JSON.stringify(pairs),
      ),
      ([changed]) => ({ changed }),
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
      | 'overrideFreeze'
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

  /** The release's revision, which every committed change moves; undefined when it does not exist. */
  async readRev(teamId: string, releaseId: string): Promise<number | undefined> {
    const rev = await this.redis.hget(this.keys.releaseMeta(teamId, releaseId), 'rev');
    return rev === null ? undefined : Number(rev);
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
    const cached = cachedTemplate(fingerprint);
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

  /** Releases that started in [from, to), oldest first. */
  async releasesStartedBetween(teamId: string, from: number, to: number): Promise<Release[]> {
    const ids = await this.redis.zrangebyscore(this.keys.allReleases(teamId), from, `(${to}`);
    return this.getReleases(teamId, ids);
  }

  async readAudit(teamId: string, releaseId: string): Promise<AuditEvent[]> {
    const entries = await this.redis.xrange(this.keys.releaseAudit(teamId, releaseId), '-', '+');
    return entries.map(([id, fields]) => parseAuditEntry(id, fields));
  }

  /**
   * The audit trail as stored (fields in order, hashes included), the chain's head, and the relay's
   * keyed seals with the newest of them, for verification.
   */
  async readAuditChain(
    teamId: string,
    releaseId: string,
  ): Promise<{
    entries: StoredAuditEntry[];
    head: string | undefined;
    seals: Map<string, StoredSeal>;
    sealHead: SealHead | undefined;
  }> {
    const [entries, [head, sealed], stored] = await Promise.all([
      this.redis.xrange(this.keys.releaseAudit(teamId, releaseId), '-', '+'),
      this.redis.hmget(this.keys.releaseMeta(teamId, releaseId), 'auditHead', 'sealed'),
      this.redis.hgetall(this.keys.releaseSeals(teamId, releaseId)),
    ]);
    const seals = new Map<string, StoredSeal>();
    for (const [eventId, text] of Object.entries(stored)) {
      const seal = decodeSeal(text);
      if (seal) seals.set(eventId, seal);
    }
    return {
      entries: entries.map(([id, fields]) => ({ id, fields })),
      head: head ?? undefined,
      seals,
      sealHead: decodeSealHead(sealed),
    };
  }

  /** The newest keyed seal of a release's trail: what its Slack header anchors. */
  async readSealHead(teamId: string, releaseId: string): Promise<SealHead | undefined> {
    return decodeSealHead(await this.redis.hget(this.keys.releaseMeta(teamId, releaseId), 'sealed'));
  }

  /**
   * Appends an event that changes no release state (an attempt that was refused) to the audit trail.
   * The time is the server's, as for every other event.
   */
  async appendAudit(
    teamId: string,
    releaseId: string,
    event:
      | { type: 'refused'; user: string; action: string; reason: string; item?: string; phase?: number }
      | {
          type: 'deployment_reported';
          user: string;
          to: 'started' | 'succeeded' | 'failed';
          summary?: string;
          evidence?: string;
        },
  ): Promise<void> {
    const state = event.type === 'refused' ? { from: 'none', to: 'refused' } : { from: 'none' };
    const fields = Object.entries({ ...event, ...state }).flatMap(([name, value]) =>
      value === undefined ? [] : [name, String(value)],
    );
    await this.redis.appendEvent(
      this.keys.releaseMeta(teamId, releaseId),
      this.keys.releaseAudit(teamId, releaseId),
      ...fields,
    );
  }
}
