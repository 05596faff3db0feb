import { hostname } from 'node:os';
import type { AuditEvent } from '../domain/audit.js';
import { type AuditKeys, sealBatch } from '../domain/audit-seal.js';
import {
  type FollowUp,
  type FollowUpSettings,
  followUpsNeedRelease,
  planFollowUps,
  planSyncOnly,
} from '../domain/follow-ups.js';
import { peopleNamedIn } from '../domain/people.js';
import type { Release } from '../domain/release.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { coalesceByKey } from '../queues/coalesce.js';
import type { Scheduler } from '../queues/scheduler.js';
import type { SyncQueue } from '../queues/sync-queue.js';
import type { PeopleStore } from '../store/people-store.js';
import type { BatchSeals, RelayStore, UnrelayedBatch } from '../store/relay-store.js';
import type { ReleaseStore } from '../store/release-store.js';
import { type CommittedChange, seams } from './seams.js';

// The relay turns committed changes into their consequences. Every script that changes a release
// appends its audit event and marks the release unrelayed, in one step; the relay reads the events
// past the release's cursor, queues what follows from them (src/domain/follow-ups.ts) and only then
// moves the cursor. A process that dies between the commit and its follow-ups leaves the release
// marked, and any instance's next sweep finishes the work; every follow-up has a deterministic job
// id, so an event relayed twice adds nothing.
//
// It runs in three ways: right after this process commits a change (no extra round trip on the
// request path: the commit itself marked the release), at start-up, and every RELAY_INTERVAL_MS over
// every workspace's unrelayed releases (changes other instances did not finish, and events that jobs
// append).

/** Events read per round; a release with more is relayed in several rounds under one lease. */
const BATCH_SIZE = 200;
const MAX_ROUNDS = 50;
/**
 * Far longer than a batch takes; a relay that dies keeps others out only this long. One that outlives
 * it harms nothing: follow-ups are idempotent and the cursor never moves back.
 */
const LEASE_MS = 5000;
/** How often a kick tries again for a lease another instance holds, before leaving it to that one. */
const LEASE_TRIES = 5;
/** Releases relayed at once by a sweep. */
const SWEEP_CONCURRENCY = 8;
/** How long a release may wait for its messages to show its committed state before its sync is asked again. */
const RESYNC_AFTER_MS = 30_000;
/**
 * A click read this long ago and still not committed was lost with its process: far longer than a
 * commit takes, and than Slack waits for its acknowledgement.
 */
const LOST_CLICK_AFTER_MS = 10_000;
/** People remembered as looked after before the memory starts again (it only saves reads). */
const PEOPLE_SEEN_LIMIT = 10_000;
/** Releases read per workspace per sweep; the rest wait for the next one. */
const SWEEP_LIMIT = 2000;

export interface RelayDeps {
  relayStore: RelayStore;
  store: Pick<ReleaseStore, 'getRelease' | 'clicks' | 'locks'>;
  scheduler: Pick<
    Scheduler,
    | 'schedule'
    | 'announce'
    | 'scheduleRelease'
    | 'scheduleReopenedPhase'
    | 'scheduleCheckins'
    | 'scheduleWatch'
    | 'cancelRelease'
    | 'cancelReminders'
    | 'cancelCheckins'
    | 'cancelPhaseReminders'
  >;
  syncQueue: Pick<SyncQueue, 'requestSync'>;
  /** The releases' people records: a person an event names for the first time is looked up. */
  people?: Pick<PeopleStore, 'missing'>;
  log: Logger;
  settings: FollowUpSettings & { sweepIntervalMs: number };
  metrics?: Pick<Metrics, 'relayLag'>;
  /** Seals each relayed event (AUDIT_KEY); undefined leaves the trail unsealed (development). */
  auditKeys?: AuditKeys | undefined;
}

interface Target {
  teamId: string;
  releaseId: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The commit time of an event, from its stream id ("<ms>-<seq>"). */
function committedAt(event: AuditEvent): number {
  return Number(event.id.slice(0, event.id.indexOf('-')));
}

export class Relay {
  private readonly holder = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** People this process already found recorded or queued a lookup for, per release: read once. */
  private readonly peopleSeen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private legacyTeamsScanned = false;
  private stopped = false;

  constructor(private readonly deps: RelayDeps) {}

  /**
   * Called by the application layer once a change is committed: its follow-ups start now, in the
   * background. Nothing here can lose them; it only saves waiting for the next sweep.
   */
  committed(change: CommittedChange): void {
    seams.afterCommit?.(change);
    this.kick(change.teamId, change.releaseId);
  }

  /** Relays one release's new events soon (a job appended some, or a commit did). */
  kick(teamId: string, releaseId: string): void {
    if (this.stopped) return;
    this.track(this.relayOnce({ teamId, releaseId }));
  }

  /**
   * Asks for a sync of a release whose messages changed without an audit event (a job recorded a
   * direct message). The release stays marked until a sync started after this succeeds, so a sync
   * that gives up is asked for again by the sweep.
   */
  async requestSync(teamId: string, releaseId: string): Promise<void> {
    await this.deps.relayStore.noteSyncAsked(teamId, releaseId, Date.now());
    await this.deps.syncQueue.requestSync({ teamId, releaseId });
  }

  /** Sweeps at once, then every interval, until stopped. */
  start(): void {
    this.startSweep();
    this.timer = setInterval(() => this.startSweep(), this.deps.settings.sweepIntervalMs);
    this.timer.unref();
  }

  /** Stops sweeping and waits for the relays under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Relays every unrelayed release of every workspace once; resolves when all are done. */
  async sweep(): Promise<void> {
    const teams = await this.deps.relayStore.listTeams(!this.legacyTeamsScanned);
    this.legacyTeamsScanned = true;
    for (const teamId of teams) {
      await this.tellLostClicks(teamId);
      await this.resyncStale(teamId);
      const pending = await this.deps.relayStore.unrelayed(teamId, SWEEP_LIMIT);
      for (let index = 0; index < pending.length; index += SWEEP_CONCURRENCY) {
        if (this.stopped) return;
        await Promise.allSettled(
          pending
            .slice(index, index + SWEEP_CONCURRENCY)
            .map(({ releaseId }) => this.relayOnce({ teamId, releaseId })),
        );
      }
    }
  }

  /**
   * Asks again for the sync of every release whose messages have not shown its committed state for
   * RESYNC_AFTER_MS: its sync jobs gave up (Slack failed for minutes), or a worker died with them.
   * However long Slack fails, a release still shown wrong is asked for again every round; the
   * outbound pacers keep the catch-up within Slack's rate limits.
   */
  private async resyncStale(teamId: string): Promise<void> {
    const now = Date.now();
    const stale = await this.deps.relayStore.unsyncedSince(teamId, now - RESYNC_AFTER_MS, SWEEP_LIMIT);
    for (const releaseId of stale) {
      await this.deps.syncQueue.requestSync({ teamId, releaseId });
      await this.deps.relayStore.noteSyncAsked(teamId, releaseId, now);
    }
    if (stale.length > 0) this.deps.log.info({ teamId, releases: stale.length }, 'syncs asked for again');
  }

  /**
   * Clicks read by a process that died before committing them: each person's box is put back and
   * they are told (a notice job with a deterministic id). A click is forgotten only once its notice
   * is queued; a sweeper that dies before that leaves it to the next sweep.
   */
  private async tellLostClicks(teamId: string): Promise<void> {
    const { clicks } = this.deps.store;
    const lost = await clicks.claimLost(teamId, Date.now() - LOST_CLICK_AFTER_MS, SWEEP_LIMIT);
    for (const click of lost) {
      const { clickId, releaseId, itemId, userId, done, replyUrl } = click;
      await this.deps.scheduler.schedule(
        {
          kind: 'lost-click',
          teamId,
          releaseId,
          clickId,
          itemId,
          userId,
          done,
          ...(replyUrl ? { replyUrl } : {}),
        },
        Date.now(),
      );
      await clicks.forget(teamId, clickId);
      this.deps.log.warn(
        { teamId, releaseId, itemId, userId, readAt: click.at },
        'click lost before its commit; its person is told',
      );
    }
  }

  private startSweep(): void {
    if (this.sweeping || this.stopped) return;
    this.sweeping = this.sweep()
      .catch((err: unknown) => this.deps.log.warn({ err }, 'relay sweep failed; the next one retries'))
      .finally(() => {
        this.sweeping = undefined;
      });
    this.track(this.sweeping);
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
  }

  /** One relay per release at a time in this process; a kick while it runs gets one more round. */
  private readonly relayOnce = coalesceByKey<Target>(
    (target) =>
      this.relayRelease(target).catch((err: unknown) => {
        // The release stays marked; the next sweep (or kick) picks it up where the cursor is.
        this.deps.log.warn({ err, ...target }, 'relay failed; the next sweep retries');
      }),
    (target) => `${target.teamId}|${target.releaseId}`,
  );

  private async relayRelease({ teamId, releaseId }: Target): Promise<void> {
    const { relayStore } = this.deps;
    let finished = false;
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const batch = await this.takeBatch(teamId, releaseId, round === 0 ? LEASE_TRIES : 1);
        // Another instance holds the release; it reads past its own batch before letting go.
        if (!batch) {
          finished = true;
          return;
        }
        const { events } = batch;
        let syncAskedAt = events.length > 0 ? await this.carryOut({ teamId, releaseId }, events) : undefined;
        const seals = this.seal(batch);
        // The header carries the newest seal: a sync that read the release before these seals were
        // written must not count as showing them, so the sweep asks again if it was that one.
        if (seals && syncAskedAt !== undefined) syncAskedAt = Date.now();
        const more = await relayStore.advance(
          teamId,
          releaseId,
          events.at(-1)?.id,
          this.holder,
          syncAskedAt,
          seals,
        );
        // A sync already running may have read the seal head before this batch's: ask once more so
        // the header's anchor shows it (deduplicated with any sync still waiting).
        if (seals && syncAskedAt !== undefined) await this.deps.syncQueue.requestSync({ teamId, releaseId });
        const now = Date.now();
        for (const event of events) this.deps.metrics?.relayLag.observe((now - committedAt(event)) / 1000);
        if (!more) {
          finished = true;
          return;
        }
      }
      this.deps.log.warn(
        { teamId, releaseId },
        'relay stopped after its round limit; the next sweep goes on',
      );
    } finally {
      // Cut short (an error, the round limit): the next relay must not wait out the lease.
      if (!finished) await relayStore.dropLease(teamId, releaseId, this.holder).catch(() => undefined);
    }
  }

  /** The batch's keyed seals, continuing from the newest one; none without a key. */
  private seal(batch: UnrelayedBatch): BatchSeals | undefined {
    const { auditKeys } = this.deps;
    if (!auditKeys || batch.events.length === 0) return undefined;
    const sealed = sealBatch(
      auditKeys,
      batch.sealedFrom,
      batch.events.map((event, index) => ({ id: event.id, hash: batch.hashes[index]! })),
    );
    return sealed.head ? { from: batch.sealedFrom.head, head: sealed.head, seals: sealed.seals } : undefined;
  }

  /** The lease and the next events in one round trip, trying a few times while another holds it. */
  private async takeBatch(teamId: string, releaseId: string, tries: number) {
    for (let attempt = 1; ; attempt++) {
      const batch = await this.deps.relayStore.begin(teamId, releaseId, this.holder, LEASE_MS, BATCH_SIZE);
      if (batch || attempt >= tries) return batch;
      await sleep(20 * attempt);
    }
  }

  /**
   * Queues the follow-ups of a batch; resolves with when a message sync was asked for, if one was. A
   * plain tick needs only the sync, so the release is read only when a follow-up depends on it.
   */
  private async carryOut(target: Target, events: AuditEvent[]): Promise<number | undefined> {
    let release: Release | undefined;
    if (followUpsNeedRelease(events)) {
      release = await this.deps.store.getRelease(target.teamId, target.releaseId);
      // Removed by retention meanwhile: nothing of it is left to follow up.
      if (!release) return undefined;
    }
    const followUps = release ? planFollowUps(events, release, this.deps.settings) : planSyncOnly(events);
    let syncAskedAt: number | undefined;
    for (const followUp of followUps) {
      if (followUp.kind === 'sync') {
        syncAskedAt = Date.now();
        await this.deps.syncQueue.requestSync(target);
      } else if (release) {
        await this.queue(release, followUp);
      }
    }
    await this.queuePeopleLookups(target, events);
    this.deps.log.debug(
      {
        ...target,
        events: events.length,
        followUps: followUps.map((followUp) => followUp.kind),
      },
      'events relayed',
    );
    return syncAskedAt;
  }

  /** A job per person the events name whose names the release's record lacks (its id is deterministic). */
  private async queuePeopleLookups(target: Target, events: AuditEvent[]): Promise<void> {
    if (!this.deps.people) return;
    // A burst of ticks names the same people again and again: only new ones cost a read.
    const seenKey = (userId: string) => `${target.teamId}|${target.releaseId}|${userId}`;
    const unseen = peopleNamedIn(events).filter((userId) => !this.peopleSeen.has(seenKey(userId)));
    if (unseen.length === 0) return;
    const missing = await this.deps.people.missing(target.teamId, target.releaseId, unseen);
    for (const userId of missing)
      await this.deps.scheduler.schedule({ kind: 'record-person', ...target, userId }, Date.now());
    if (this.peopleSeen.size > PEOPLE_SEEN_LIMIT) this.peopleSeen.clear();
    for (const userId of unseen) this.peopleSeen.add(seenKey(userId));
  }

  /**
   * Whether another release holds the release's environment, the way the tick script decides it: a
   * lock whose holder is still active or rolling back.
   */
  private async envHeldByAnother(release: Release): Promise<boolean> {
    if (release.lockedAt !== undefined) return false;
    const lock = (await this.deps.store.locks.list(release.teamId)).find((held) => held.env === release.env);
    if (!lock || lock.releaseId === release.id) return false;
    const holder = await this.deps.store.getRelease(release.teamId, lock.releaseId);
    return holder?.status === 'active' || holder?.status === 'rolling_back';
  }

  /** Queues one follow-up that depends on the release (the sync is asked for by carryOut). */
  private async queue(release: Release, followUp: Exclude<FollowUp, { kind: 'sync' }>): Promise<void> {
    const { scheduler } = this.deps;
    const target = { teamId: release.teamId, releaseId: release.id };
    const now = Date.now();
    switch (followUp.kind) {
      case 'announce':
        if (followUp.unlessEnvHeld && (await this.envHeldByAnother(release))) {
          this.deps.log.info(
            { ...target, event: followUp.event, env: release.env },
            'announcement left to the first deployment tick: another release holds the environment',
          );
          return;
        }
        return scheduler.announce(release, followUp.event, followUp.occurrence);
      case 'plan-reminders':
        await scheduler.scheduleRelease(release, now);
        return;
      case 'drop-reminders':
        await scheduler.cancelReminders(release.teamId, release.id);
        return;
      case 'drop-phase-reminders':
        await scheduler.cancelPhaseReminders(release.teamId, release.id, followUp.phaseIndex);
        return;
      case 'plan-reopened-phase':
        await scheduler.scheduleReopenedPhase(release, followUp.phaseIndex, followUp.series, now);
        return;
      case 'plan-owner-reminder':
        if (!release.window || release.status !== 'active') return;
        return scheduler.schedule(
          {
            kind: 'owner-reminder',
            ...target,
            phaseIndex: followUp.phaseIndex,
            windowAt: release.window.at,
            userId: followUp.userId,
            at: followUp.at,
          },
          followUp.at,
        );
      case 'plan-checkins': {
        const planned = await scheduler.scheduleCheckins(release);
        if (planned > 0) this.deps.log.info({ ...target, checkins: planned }, 'check-ins planned');
        return;
      }
      case 'plan-watch': {
        const planned = await scheduler.scheduleWatch(release);
        if (planned > 0) this.deps.log.info({ ...target, watched: planned }, 'metric watch planned');
        return;
      }
      case 'drop-checkins':
        await scheduler.cancelCheckins(release.teamId, release.id);
        return;
      case 'plan-escalation':
        if (release.status !== 'active') return;
        return scheduler.schedule(
          { kind: 'checkin-escalation', ...target, checkinIndex: followUp.checkinIndex },
          followUp.at,
        );
      case 'drop-timed-jobs':
        await scheduler.cancelRelease(release.teamId, release.id);
        return;
      case 'tell-lock-waiters':
        return scheduler.schedule({ kind: 'lock-freed', ...target, env: release.env }, now);
      case 'share-final-log':
        return scheduler.schedule({ kind: 'final-log', ...target }, now);
      case 'draft-retrospective':
        return scheduler.schedule({ kind: 'retro-draft', ...target }, now);
      case 'share-retrospective':
        return scheduler.schedule({ kind: 'retro-saved', ...target, eventId: followUp.eventId }, now);
      case 'share-log-version':
        return scheduler.schedule({ kind: 'log-version', ...target, eventId: followUp.eventId }, now);
      case 'notice':
        return scheduler.schedule(
          {
            kind: 'notice',
            ...target,
            notice: followUp.notice,
            userId: followUp.userId,
            eventId: followUp.eventId,
          },
          now,
        );
    }
  }
}
