import { type FreezeWindow, findActiveFreeze } from './freeze.js';
import {
  computeProgress,
  currentPhaseIndex,
  type EnvLock,
  isGoDecisionDue,
  openIssues,
  type Release,
  type ReleaseStatus,
} from './release.js';
import { phaseDueAt } from './time.js';

// What the status page shows, per environment: the release that is deployed there, the ones in flight,
// the lock, the freeze in force and the next one, and the red flags up. Pure: the releases, locks and
// freeze windows are read by the caller, and the moment is passed in.

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** How far ahead the next freeze is looked for. */
export const NEXT_FREEZE_HORIZON_MS = 35 * DAY;
/** Freeze windows are written to the minute; probing every 15 minutes then narrowing finds their start. */
const FREEZE_PROBE_MS = 15 * MINUTE;

export interface DeployedRelease {
  releaseId: string;
  version: string;
  attempt?: number;
  at: number;
  by: string;
  status: ReleaseStatus;
}

export interface InFlightRelease {
  releaseId: string;
  version: string;
  attempt?: number;
  status: ReleaseStatus;
  startedBy: string;
  startedAt: number;
  /** The phase people work on now; undefined once every phase is done (monitoring, say). */
  phase?: { index: number; name: string };
  requiredDone: number;
  requiredTotal: number;
  phasesDone: number;
  phasesTotal: number;
  /** What comes due next: the current phase's due moment, or the next check-in after the deploy. */
  nextDue?: { at: number; what: string };
  window?: { at: number; zone: string };
  deployedAt?: number;
  openIssues: number;
  waitsForGo: boolean;
}

export interface RedFlagUp {
  releaseId: string;
  version: string;
  number: number;
  condition: string;
  note: string;
  by: string;
  at: number;
}

export interface FreezeSpan {
  text: string;
  startsAt: number;
  endsAt: number;
}

export interface EnvironmentStatus {
  env: string;
  deployed?: DeployedRelease;
  inFlight: InFlightRelease[];
  lock?: { releaseId: string; version: string; by: string; since: number };
  activeFreeze?: FreezeSpan;
  nextFreeze?: FreezeSpan;
  redFlags: RedFlagUp[];
}

export interface UpcomingWindow {
  releaseId: string;
  version: string;
  env: string;
  at: number;
  zone: string;
}

export interface StatusBoard {
  at: number;
  environments: EnvironmentStatus[];
  upcoming: UpcomingWindow[];
}

/** Slack user id → the name Slack last gave for them (people without one are left out). */
export type PeopleNames = ReadonlyMap<string, string>;

/** The status page: the board and the names of the people it mentions. */
export interface StatusPage {
  board: StatusBoard;
  names: PeopleNames;
}

export interface StatusBoardInput {
  environments: readonly string[];
  /** Every active release of the workspace. */
  active: readonly Release[];
  /** Recent releases, newest first: where the deployed version of each environment is found. */
  recent: readonly Release[];
  locks: readonly EnvLock[];
  freezeWindows: readonly FreezeWindow[];
  now: number;
}

/** A release whose deploy still stands: deployed, and neither rolled back nor being rolled back. */
function isStandingDeploy(release: Release): boolean {
  return (
    release.deployment !== undefined &&
    release.status !== 'rolled_back' &&
    release.status !== 'rolling_back' &&
    release.status !== 'cancelled'
  );
}

function describeInFlight(release: Release): InFlightRelease {
  const progress = computeProgress(release);
  const phaseIndex = currentPhaseIndex(release);
  const phase = phaseIndex === undefined ? undefined : release.template.phases[phaseIndex];
  let nextDue: InFlightRelease['nextDue'];
  if (release.deployment) {
    const checkin = release.checkins.find((planned) => !planned.answer);
    if (checkin) nextDue = { at: checkin.dueAt, what: `check-in ${checkin.index + 1}` };
  } else if (phase && release.window) {
    const at = phaseDueAt(release.window.at, phase.due);
    if (at !== undefined) nextDue = { at, what: phase.name };
  }
  return {
    releaseId: release.id,
    version: release.version,
    ...(release.attempt !== undefined ? { attempt: release.attempt } : {}),
    status: release.status,
    startedBy: release.startedBy,
    startedAt: release.startedAt,
    ...(phase && phaseIndex !== undefined ? { phase: { index: phaseIndex, name: phase.name } } : {}),
    requiredDone: progress.requiredDone,
    requiredTotal: progress.requiredTotal,
    phasesDone: progress.phasesDone,
    phasesTotal: progress.phasesTotal,
    ...(nextDue ? { nextDue } : {}),
    ...(release.window ? { window: { ...release.window } } : {}),
    ...(release.deployment ? { deployedAt: release.deployment.at } : {}),
    openIssues: openIssues(release).length,
    waitsForGo: isGoDecisionDue(release),
  };
}

/**
 * The next freeze of `env` that starts after `now` (within the horizon): probed every 15 minutes, then
 * narrowed to the minute, since windows are weekly or dated wall-clock spans in their own zones.
 */
export function findNextFreeze(
  windows: readonly FreezeWindow[],
  env: string,
  now: number,
  horizonMs = NEXT_FREEZE_HORIZON_MS,
): FreezeSpan | undefined {
  if (!windows.some((window) => window.env === env)) return undefined;
  // Past the freeze in force, if any: the next one is the one after it.
  let from = now;
  const current = findActiveFreeze(windows, env, now);
  if (current) from = current.endsAt;
  const start = Math.ceil(from / MINUTE) * MINUTE;
  for (let probe = start; probe <= now + horizonMs; probe += FREEZE_PROBE_MS) {
    if (!findActiveFreeze(windows, env, probe)) continue;
    let low = Math.max(start, probe - FREEZE_PROBE_MS);
    let high = probe;
    while (high - low > MINUTE) {
      const middle = low + Math.floor((high - low) / 2 / MINUTE) * MINUTE;
      if (findActiveFreeze(windows, env, middle)) high = middle;
      else low = middle;
    }
    const found = findActiveFreeze(windows, env, high);
    if (found) return { text: found.window.text, startsAt: found.startsAt, endsAt: found.endsAt };
  }
  return undefined;
}

export function buildStatusBoard(input: StatusBoardInput): StatusBoard {
  const { now } = input;
  const environments = input.environments.map((env): EnvironmentStatus => {
    const deployedRelease = input.recent
      .filter((release) => release.env === env && isStandingDeploy(release))
      .sort((a, b) => b.deployment!.at - a.deployment!.at)[0];
    const inFlight = input.active.filter((release) => release.env === env);
    const lock = input.locks.find((held) => held.env === env);
    const activeFreeze = findActiveFreeze(input.freezeWindows, env, now);
    const nextFreeze = findNextFreeze(input.freezeWindows, env, now);
    const status: EnvironmentStatus = {
      env,
      inFlight: inFlight.map(describeInFlight),
      redFlags: inFlight.flatMap((release) =>
        release.redFlag
          ? [
              {
                releaseId: release.id,
                version: release.version,
                number: release.redFlag.number,
                condition: release.redFlag.condition,
                note: release.redFlag.note,
                by: release.redFlag.by,
                at: release.redFlag.at,
              },
            ]
          : [],
      ),
    };
    if (deployedRelease)
      status.deployed = {
        releaseId: deployedRelease.id,
        version: deployedRelease.version,
        ...(deployedRelease.attempt !== undefined ? { attempt: deployedRelease.attempt } : {}),
        at: deployedRelease.deployment!.at,
        by: deployedRelease.deployment!.by,
        status: deployedRelease.status,
      };
    // A lock whose holder has ended is stale (the store leaves checking that to its readers).
    if (lock && inFlight.some((release) => release.id === lock.releaseId))
      status.lock = { releaseId: lock.releaseId, version: lock.version, by: lock.by, since: lock.since };
    if (activeFreeze)
      status.activeFreeze = {
        text: activeFreeze.window.text,
        startsAt: activeFreeze.startsAt,
        endsAt: activeFreeze.endsAt,
      };
    if (nextFreeze) status.nextFreeze = nextFreeze;
    return status;
  });
  const upcoming = input.active
    .filter((release) => release.window !== undefined && !release.deployment && release.window.at >= now)
    .map((release) => ({
      releaseId: release.id,
      version: release.version,
      env: release.env,
      at: release.window!.at,
      zone: release.window!.zone,
    }))
    .sort((a, b) => a.at - b.at);
  return { at: now, environments, upcoming };
}
