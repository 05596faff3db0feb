import type { Template } from './template.js';

// A release as stored: the template copy it runs on, who did what to which item, and the gate overrides.
// Gating is defined here once; the Redis scripts apply the same rule atomically and a property test
// checks that both agree.

export type ReleaseStatus = 'active' | 'completed' | 'cancelled';

export interface ItemState {
  done: boolean;
  /** Who made the latest change to the item, and when (ms since the epoch). */
  by: string;
  at: number;
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
  /** The planned deploy moment (phases' due offsets count from it) and the zone it was given in. */
  window?: DeployWindow;
  status: ReleaseStatus;
  finishedAt?: number;
  finishedBy?: string;
  cancelReason?: string;
  items: Record<string, ItemState>;
  overrides: GateOverride[];
  /** Bumped by every change; lets renderers and tests tell versions of the state apart. */
  rev: number;
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

/** Complete when the gate after the last phase is open: every phase is done or was passed by an override. */
export function isReleaseDone(release: Release): boolean {
  return findBlockingPhase(release, release.template.phases.length) === undefined;
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

/** Whether people can tick the phase's items now: the release is active and nothing before it blocks it. */
export function isPhaseUnlocked(release: Release, phaseIndex: number): boolean {
  return release.status === 'active' && findBlockingPhase(release, phaseIndex) === undefined;
}
