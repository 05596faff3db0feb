import type { ActiveFreeze } from './freeze.js';
import {
  countOpenRequired,
  type EnvLock,
  findBlockingPhase,
  isItemDone,
  type Release,
  waitsForGo,
} from './release.js';
import { deploymentPhaseIndex, goPhaseIndex } from './template.js';

// The deploy gate: may the release's deployment start now? One rule for every door: a pipeline asks
// it before deploying, and the same conditions keep the deployment phase's checkboxes shut in Slack.
// Pure: what Redis and the clock know is passed in.

export const GATE_BLOCKER_KINDS = ['phase', 'go', 'freeze', 'lock', 'red_flag', 'closed'] as const;
export type GateBlockerKind = (typeof GATE_BLOCKER_KINDS)[number];

export interface GateBlocker {
  kind: GateBlockerKind;
  /** One line a person reads in a pipeline's log. */
  detail: string;
  /** For `phase`: the phase whose required items are open, and which. */
  phase?: string;
  openItems?: string[];
  /** For `freeze`: when it ends (ms since the epoch). */
  until?: number;
  /** For `lock`: the release holding the environment. */
  holder?: string;
}

export interface GateAnswer {
  allowed: boolean;
  blockers: GateBlocker[];
  /** The answer can no longer become yes: the release is over (cancelled, rolled back, completed). */
  final: boolean;
}

export interface GateContext {
  /** The freeze that forbids deploying the release now (freezeBlockingDeployment: overrides counted). */
  freeze: ActiveFreeze | undefined;
  /** Who holds the environment now, if anyone. */
  lock: EnvLock | undefined;
}

/** The phase the gate stands before: the deployment phase, else the go phase, else the last one. */
export function gatedPhaseIndex(release: Release): number {
  const { template } = release;
  return deploymentPhaseIndex(template) ?? goPhaseIndex(template) ?? Math.max(0, template.phases.length - 1);
}

export function decideGate(release: Release, context: GateContext): GateAnswer {
  if (release.status !== 'active') {
    return {
      allowed: false,
      final: true,
      blockers: [{ kind: 'closed', detail: `${release.version} is ${release.status.replace('_', ' ')}` }],
    };
  }
  const blockers: GateBlocker[] = [];
  const gated = gatedPhaseIndex(release);
  const blocking = findBlockingPhase(release, gated);
  if (blocking !== undefined) {
    const phase = release.template.phases[blocking]!;
    const openItems = phase.items
      .filter((item) => item.required && !isItemDone(release, item.id))
      .map((item) => item.id);
    const open = countOpenRequired(release, blocking);
    blockers.push({
      kind: 'phase',
      detail: `${phase.name} has ${open} open required item${open === 1 ? '' : 's'}`,
      phase: phase.id,
      openItems,
    });
  }
  if (waitsForGo(release, gated)) {
    blockers.push({ kind: 'go', detail: 'the go/no-go call has not been made' });
  }
  if (release.redFlag) {
    blockers.push({
      kind: 'red_flag',
      detail: `red flag #${release.redFlag.number} is up: ${release.redFlag.condition}`,
    });
  }
  if (context.freeze) {
    blockers.push({
      kind: 'freeze',
      detail: `${release.env} is frozen (${context.freeze.window.text})`,
      until: context.freeze.endsAt,
    });
  }
  if (context.lock && context.lock.releaseId !== release.id) {
    blockers.push({
      kind: 'lock',
      detail: `${release.env} is held by ${context.lock.version}`,
      holder: context.lock.version,
    });
  }
  return { allowed: blockers.length === 0, blockers, final: false };
}

/** Whether two answers would tell a waiting pipeline the same thing. */
export function sameGateAnswer(a: GateAnswer, b: GateAnswer): boolean {
  if (a.allowed !== b.allowed || a.blockers.length !== b.blockers.length) return false;
  return a.blockers.every((blocker, index) => {
    const other = b.blockers[index]!;
    return blocker.kind === other.kind && blocker.detail === other.detail;
  });
}
