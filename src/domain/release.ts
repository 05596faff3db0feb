import type { CheckinMetrics } from './metric-checks.js';
import type { Observation } from './observations.js';
import { goPhaseIndex, type Template } from './template.js';

// A release as stored: the template copy it runs on, who did what to which item, and the gate overrides.
// Gating is defined here once; the Redis scripts apply the same rule atomically and a property test
// checks that both agree.

/** rolling_back: a rollback was decided and its checklist is being worked through. */
export type ReleaseStatus = 'active' | 'completed' | 'cancelled' | 'rolling_back' | 'rolled_back';

export interface ItemState {
  done: boolean;
  /** Who made the latest change to the item, and when (ms since the epoch). */
  by: string;
  at: number;
  /** The value recorded with the tick, for an item that records one; an untick clears it. */
  value?: string;
  /** A pipeline's link to its proof (a CI run, a test report), kept with the change it came with. */
  evidenceUrl?: string;
  /** A pipeline's one-line account of the change. */
  summary?: string;
}

/** What a pipeline's start deploys: the commit and the pipeline run that started the release. */
export interface ReleaseSource {
  commit?: string;
  runUrl?: string;
}

/** What a pipeline sends with a change: where to see the proof, and a line saying what it shows. */
export interface ItemEvidence {
  url?: string;
  summary?: string;
}

export interface GateOverride {
  /** The phase that was unlocked: every phase before it stops gating it and the phases after it. */
  phaseIndex: number;
  by: string;
  at: number;
  reason: string;
}

export interface Release {
  id: string;
  teamId: string;
  channelId: string;
  version: string;
  env: string;
  template: Template;
  startedBy: string;
  startedAt: number;
  /**
   * Which release of this version and environment it is (1 for the first), recorded at the start.
   * Absent on releases started before attempts were recorded; numberAttempts derives theirs.
   */
  attempt?: number;
  /** The planned deploy moment (phases' due offsets count from it) and the zone it was given in. */
  window?: DeployWindow;
  /** What the release changes, for stakeholders (the start modal's release notes). */
  notes?: string;
  /** For a release a pipeline started: the commit it deploys and the run that started it. */
  source?: ReleaseSource;
  /** Expected downtime as people wrote it ("none", "about 10 minutes"). */
  downtime?: string;
  /**
   * Deploying inside a freeze window by an override: why, the window as configured, and its end. Given
   * at the start by the starter, or later by a release manager (`by`, `at`) when the freeze began
   * after the start.
   */
  freezeOverride?: { reason: string; window: string; endsAt: number; by?: string; at?: number };
  /** Where stakeholder announcements go: chosen at the start, else the template's, else the configured ones. */
  stakeholderChannels: string[];
  status: ReleaseStatus;
  finishedAt?: number;
  finishedBy?: string;
  /** Why it was cancelled or rolled back. */
  cancelReason?: string;
  items: Record<string, ItemState>;
  overrides: GateOverride[];
  /** Item id → the person reminded about it; items without one go to whoever started the release. */
  owners: Record<string, string>;
  /** "<phase index>:<user id>" → until when that person's reminders for that phase are snoozed. */
  snoozes: Record<string, number>;
  /** The team's retrospective, once written. */
  retro?: Retrospective;
  /** The red flag stopping the release, if one is up. */
  redFlag?: RedFlag;
  /** The last red flag that was cleared, with how. */
  lastRedFlag?: RedFlag;
  /** The go decision, where the template asks for one (a no-go cancels the release). */
  go?: { by: string; at: number };
  /** Who decided to roll back, and when (the reason is cancelReason). */
  rollback?: { by: string; at: number };
  /** When the release took its environment's lock (its first tick in the deployment phase). */
  lockedAt?: number;
  /** Set when the deployment phase was first done. */
  deployment?: { at: number; by: string };
  /** The post-deploy monitoring window, opened at the deploy when check-ins are planned. */
  monitoring?: { state: 'open' | 'closed'; closedAt?: number };
  /** Check-ins planned at the deploy (and follow-ups after an issue is resolved), by index. */
  checkins: CheckIn[];
  /** Issues reported at check-ins, by id (1-based, in order). */
  issues: ReleaseIssue[];
  /** Bumped by every change; lets renderers and tests tell versions of the state apart. */
  rev: number;
}

export type CheckInAnswerKind = 'healthy' | 'issue' | 'rollback';

export interface CheckIn {
  index: number;
  dueAt: number;
  /** A follow-up planned when an issue was resolved after the last check-in. */
  followUp?: boolean;
  postedAt?: number;
  /** The check-in message in the release thread. */
  ts?: string;
  escalatedAt?: number;
  /** The escalation nudge in the thread, kept apart from the question's own ts. */
  escalationTs?: string;
  answer?: { kind: CheckInAnswerKind; by: string; at: number; issue?: number };
  /** Values observed for the template's success criteria, by criterion id (recorded while active). */
  observed?: Record<string, Observation>;
  /** What the metrics server said about the measured criteria, evaluated just before the post. */
  metrics?: CheckinMetrics;
}

export interface Retrospective {
  wentWell: string;
  wentWrong: string;
  followUps: string;
  by: string;
  at: number;
}

export interface RedFlag {
  /** 1 for the release's first red flag, and so on. */
  number: number;
  by: string;
  at: number;
  condition: string;
  note: string;
  clearedBy?: string;
  clearedAt?: number;
  clearNote?: string;
}

export type IssueSeverity = 'critical' | 'major' | 'minor';
export const ISSUE_SEVERITIES: readonly IssueSeverity[] = ['critical', 'major', 'minor'];

export interface ReleaseIssue {
  id: number;
  foundBy: string;
  foundAt: number;
  what: string;
  severity: IssueSeverity;
  /** The check-in it was reported at. */
  checkin?: number;
  resolvedBy?: string;
  resolvedAt?: number;
  resolution?: string;
}

/** A release deploying to an environment holds it; a second release waits. */
export interface EnvLock {
  env: string;
  releaseId: string;
  version: string;
  /** Who made the tick that took the lock, and when. */
  by: string;
  since: number;
}

export interface DeployWindow {
  at: number;
  zone: string;
}

export type PhaseState = 'done' | 'open' | 'locked';

export function isItemDone(release: Release, itemId: string): boolean {
  return release.items[itemId]?.done === true;
}

export function countOpenRequired(release: Release, phaseIndex: number): number {
  const phase = release.template.phases[phaseIndex];
  if (!phase) return 0;
  return phase.items.filter((item) => item.required && !isItemDone(release, item.id)).length;
}

/** The latest override that unlocked `phaseIndex` or a phase before it; phases before it no longer gate. */
export function gateFloor(release: Release, phaseIndex: number): number {
  let floor = 0;
  for (const override of release.overrides) {
    if (override.phaseIndex <= phaseIndex && override.phaseIndex > floor) floor = override.phaseIndex;
  }
  return floor;
}

/**
 * The first earlier phase whose open required items keep `phaseIndex` locked, or undefined when it is
 * unlocked. `phaseIndex` may equal the number of phases: that asks whether the whole release is done.
 */
export function findBlockingPhase(release: Release, phaseIndex: number): number | undefined {
  for (let earlier = gateFloor(release, phaseIndex); earlier < phaseIndex; earlier++) {
    if (countOpenRequired(release, earlier) > 0) return earlier;
  }
  return undefined;
}

export function phaseState(release: Release, phaseIndex: number): PhaseState {
  if (findBlockingPhase(release, phaseIndex) !== undefined) return 'locked';
  return countOpenRequired(release, phaseIndex) === 0 ? 'done' : 'open';
}

/**
 * Complete when the gate after the last phase is open (every phase is done or was passed by an
 * override) and no post-deploy monitoring window is open.
 */
export function isReleaseDone(release: Release): boolean {
  return (
    findBlockingPhase(release, release.template.phases.length) === undefined &&
    release.monitoring?.state !== 'open'
  );
}

export function openIssues(release: Release): ReleaseIssue[] {
  return release.issues.filter((issue) => issue.resolvedAt === undefined);
}

/** The check-in people are asked to answer now: the latest posted one without an answer. */
export function pendingCheckin(release: Release): CheckIn | undefined {
  return release.checkins.findLast((checkin) => checkin.postedAt !== undefined && !checkin.answer);
}

/** Until when a person's reminders for a phase are snoozed (0 when they are not). */
export function snoozedUntil(release: Release, phaseIndex: number, userId: string): number {
  return release.snoozes[`${phaseIndex}:${userId}`] ?? 0;
}

/** The phase people should work on now: the first unlocked phase that is not done. */
export function currentPhaseIndex(release: Release): number | undefined {
  const count = release.template.phases.length;
  for (let index = 0; index < count; index++) {
    if (phaseState(release, index) === 'open') return index;
  }
  return undefined;
}

/** Required items left open in phases that an override let the release pass. */
export function listSkippedItems(release: Release): { phaseIndex: number; itemId: string }[] {
  const floor = gateFloor(release, release.template.phases.length);
  const skipped: { phaseIndex: number; itemId: string }[] = [];
  release.template.phases.slice(0, floor).forEach((phase, phaseIndex) => {
    for (const item of phase.items) {
      if (item.required && !isItemDone(release, item.id)) skipped.push({ phaseIndex, itemId: item.id });
    }
  });
  return skipped;
}

export interface Progress {
  requiredDone: number;
  requiredTotal: number;
  itemsDone: number;
  itemsTotal: number;
  phasesDone: number;
  phasesTotal: number;
}

export function computeProgress(release: Release): Progress {
  const progress: Progress = {
    requiredDone: 0,
    requiredTotal: 0,
    itemsDone: 0,
    itemsTotal: 0,
    phasesDone: 0,
    phasesTotal: release.template.phases.length,
  };
  release.template.phases.forEach((phase, phaseIndex) => {
    for (const item of phase.items) {
      const done = isItemDone(release, item.id);
      progress.itemsTotal++;
      if (done) progress.itemsDone++;
      if (item.required) {
        progress.requiredTotal++;
        if (done) progress.requiredDone++;
      }
    }
    if (phaseState(release, phaseIndex) === 'done') progress.phasesDone++;
  });
  return progress;
}

/**
 * Whether people can tick the phase's items now: the release is active, no red flag is up, nothing
 * before it blocks it, and the go call was made if the phase (or one before it) waits for it.
 */
export function isPhaseUnlocked(release: Release, phaseIndex: number): boolean {
  return (
    release.status === 'active' &&
    !release.redFlag &&
    findBlockingPhase(release, phaseIndex) === undefined &&
    !waitsForGo(release, phaseIndex)
  );
}

/** Whether the phase is held back by a go/no-go call not made yet. */
export function waitsForGo(release: Release, phaseIndex: number): boolean {
  const goPhase = goPhaseIndex(release.template);
  return goPhase !== undefined && phaseIndex >= goPhase && !release.go;
}

/** Whether the go/no-go call is due now: the phases before it are done and nobody has made it. */
export function isGoDecisionDue(release: Release): boolean {
  const goPhase = goPhaseIndex(release.template);
  return (
    release.status === 'active' &&
    goPhase !== undefined &&
    !release.go &&
    findBlockingPhase(release, goPhase) === undefined
  );
}
