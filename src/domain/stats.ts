import type { AuditEvent } from './audit.js';
import { reportCriteria } from './observations.js';
import type { Release } from './release.js';

// Delivery figures over a period, computed from the releases and their audit trails on every ask:
// nothing here is stored, so the figures can never drift from the record they are read from.
//
// Every figure counts the thing that happened inside the period [from, to): releases by their start,
// deployments by their deploy moment, issues by when they were found, phases by when they were done.
// Medians and the 90th percentile use the nearest-rank method, so each one is a value that occurred.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** The rollback-rate goal: at most 5 % of deployments rolled back. */
export const ROLLBACK_RATE_GOAL = 0.05;
/** The time-to-resolve goal: the median issue resolved in under 2 hours. */
export const TIME_TO_RESOLVE_GOAL_MS = 7_200_000; // 2 h
/** A deploy this long before its window still counts as inside it. */
export const WINDOW_EARLY_TOLERANCE_MS = 1 * HOUR;
/** A deploy this long after its window starts still counts as inside it. */
export const WINDOW_LATE_TOLERANCE_MS = 4 * HOUR;

export const DEFAULT_STATS_DAYS = 30;
export const MAX_STATS_DAYS = 400;

export interface ReleaseRecord {
  release: Release;
  /** The release's audit trail, oldest first. */
  events: AuditEvent[];
}

/** Epoch ms; the period is [from, to). Without env, every environment counts. */
export interface StatsQuery {
  from: number;
  to: number;
  env?: string;
}

export interface DeliveryStats {
  period: { from: number; to: number; env?: string };
  /** Releases started in the period. */
  releasesStarted: number;
  /** Releases deployed in the period (their deployment moment falls in it). */
  deployments: number;
  /** Deployments per 7 days of the period, per environment, sorted by environment. */
  deploymentsPerWeek: { env: string; perWeek: number }[];
  /** From the start to the deploy, in ms, for the releases deployed in the period. */
  startToDeployed: { median?: number; p90?: number; count: number };
  /** How long each phase took (see measurePhases), by phase name, in order of first appearance. */
  phaseTimes: { phaseName: string; median?: number; count: number }[];
  /** Deployed releases that later had an issue reported or were rolled back, of all deployed. */
  changeFailureRate: { failed: number; of: number; rate?: number };
  /** Deployed releases rolled back (or being rolled back), of all deployed; met when at most the goal. */
  rollbackRate: { rolledBack: number; of: number; rate?: number; goal: 0.05; met?: boolean };
  /** Issues found in the period and resolved: the median time from report to resolution, in ms. */
  timeToResolve: { median?: number; count: number; goalMs: 7_200_000; met?: boolean };
  /** Deployed releases that had a window, and how many deployed within its tolerance. */
  insideWindow: { inside: number; of: number; rate?: number };
  /** Per success criterion, over the releases deployed in the period whose template sets it. */
  criteria: CriterionStats[];
}

export interface CriterionStats {
  id: string;
  /** Name and target in words, as the latest deployed release's template gives them. */
  name: string;
  target: string;
  /** Deployed releases whose template sets the criterion. */
  releases: number;
  /** Of those, how many recorded a value at a check-in. */
  recorded: number;
  /** Of those, how many met it on the latest value recorded. */
  met: number;
  /** recorded / releases. */
  recordedRate?: number;
  /** met / recorded: a release that recorded nothing cannot say whether it met the criterion. */
  metRate?: number;
}

/**
 * The nearest-rank percentile of values sorted ascending: the smallest value with at least
 * `fraction` of the values at or below it. Undefined for no values or a fraction outside [0, 1].
 */
export function percentile(sortedValues: readonly number[], fraction: number): number | undefined {
  if (sortedValues.length === 0 || !(fraction >= 0 && fraction <= 1)) return undefined;
  // The epsilon keeps float noise (0.07 * 100 = 7.000000000000001) from moving the rank up by one.
  const rank = Math.max(1, Math.ceil(fraction * sortedValues.length - 1e-9));
  return sortedValues[rank - 1];
}

function median(values: readonly number[]): number | undefined {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

const ratio = (part: number, whole: number): number | undefined => (whole > 0 ? part / whole : undefined);

/** Whether a deploy at `at` is inside its window, with the tolerances above (both edges included). */
export function isInsideWindow(deployedAt: number, windowAt: number): boolean {
  return (
    deployedAt >= windowAt - WINDOW_EARLY_TOLERANCE_MS && deployedAt <= windowAt + WINDOW_LATE_TOLERANCE_MS
  );
}

export interface PhaseSpan {
  phaseIndex: number;
  openedAt: number;
  doneAt: number;
}

/**
 * When each phase became workable and when it was done, replayed from the audit trail.
 *
 * - A phase opens when nothing before it gates it any more: phase 0 at the release's start, a later
 *   phase at the tick that finished the required items ahead of it, or at a gate override that
 *   unlocked it. Only the first opening counts.
 * - It is done at the first tick that leaves it open with no required item left undone; an untick
 *   and a re-tick later do not move that moment.
 * - Phases without required items are not measured (nothing marks them done), nor are phases that
 *   were never done. Rollback items, go decisions and red flags are not taken into account.
 */
export function measurePhases(release: Release, events: readonly AuditEvent[]): PhaseSpan[] {
  const phases = release.template.phases;
  const phaseOfRequired = new Map<string, number>();
  const requiredCount = phases.map((phase, phaseIndex) => {
    const required = phase.items.filter((item) => item.required);
    for (const item of required) phaseOfRequired.set(item.id, phaseIndex);
    return required.length;
  });
  const openRequired = [...requiredCount];
  const done = new Set<string>();
  const overrides: number[] = [];
  const openedAt: (number | undefined)[] = phases.map(() => undefined);
  const doneAt: (number | undefined)[] = phases.map(() => undefined);

  const isUnlocked = (phaseIndex: number): boolean => {
    const floor = Math.max(0, ...overrides.filter((unlocked) => unlocked <= phaseIndex));
    for (let earlier = floor; earlier < phaseIndex; earlier++) {
      if (openRequired[earlier]! > 0) return false;
    }
    return true;
  };
  const settle = (at: number): void => {
    for (let phaseIndex = 0; phaseIndex < phases.length; phaseIndex++) {
      if (openedAt[phaseIndex] === undefined && isUnlocked(phaseIndex)) openedAt[phaseIndex] = at;
      if (
        openedAt[phaseIndex] !== undefined &&
        doneAt[phaseIndex] === undefined &&
        requiredCount[phaseIndex]! > 0 &&
        openRequired[phaseIndex] === 0
      ) {
        doneAt[phaseIndex] = at;
      }
    }
  };

  const startedAt = events.find((event) => event.type === 'started')?.at ?? release.startedAt;
  openedAt[0] = startedAt;
  for (const event of events) {
    const phaseIndex = event.itemId === undefined ? undefined : phaseOfRequired.get(event.itemId);
    if (event.type === 'ticked' && phaseIndex !== undefined && !done.has(event.itemId!)) {
      done.add(event.itemId!);
      openRequired[phaseIndex]!--;
      settle(event.at);
    } else if (event.type === 'unticked' && phaseIndex !== undefined && done.has(event.itemId!)) {
      done.delete(event.itemId!);
      openRequired[phaseIndex]!++;
    } else if (event.type === 'gate_overridden' && event.phaseIndex !== undefined) {
      overrides.push(event.phaseIndex);
      settle(event.at);
    }
  }

  const spans: PhaseSpan[] = [];
  phases.forEach((_phase, phaseIndex) => {
    const opened = openedAt[phaseIndex];
    const finished = doneAt[phaseIndex];
    if (opened !== undefined && finished !== undefined && finished >= opened) {
      spans.push({ phaseIndex, openedAt: opened, doneAt: finished });
    }
  });
  return spans;
}

export function computeDeliveryStats(records: readonly ReleaseRecord[], query: StatsQuery): DeliveryStats {
  const { from, to } = query;
  const env = query.env?.toLowerCase();
  const inPeriod = (at: number | undefined): at is number => at !== undefined && at >= from && at < to;
  const inScope = records.filter(({ release }) => env === undefined || release.env.toLowerCase() === env);

  const started = inScope.filter(({ release }) => inPeriod(release.startedAt));
  const deployed = inScope.filter(({ release }) => inPeriod(release.deployment?.at));

  // Per week: deployments × (7 days / period length), so a 30-day period with 6 deployments gives 1.4.
  const periodMs = to - from;
  const perEnv = new Map<string, number>();
  if (env !== undefined) perEnv.set(env, 0);
  for (const { release } of deployed) {
    const name = release.env.toLowerCase();
    perEnv.set(name, (perEnv.get(name) ?? 0) + 1);
  }
  const deploymentsPerWeek = [...perEnv.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, count]) => ({ env: name, perWeek: periodMs > 0 ? (count * WEEK) / periodMs : 0 }));

  const leadTimes = deployed
    .map(({ release }) => release.deployment!.at - release.startedAt)
    .sort((a, b) => a - b);

  const phaseNames: string[] = [];
  const phaseDurations = new Map<string, number[]>();
  for (const { release, events } of inScope) {
    for (const phase of release.template.phases) {
      if (!phaseDurations.has(phase.name)) {
        phaseNames.push(phase.name);
        phaseDurations.set(phase.name, []);
      }
    }
    for (const span of measurePhases(release, events)) {
      if (!inPeriod(span.doneAt)) continue;
      const name = release.template.phases[span.phaseIndex]!.name;
      phaseDurations.get(name)!.push(span.doneAt - span.openedAt);
    }
  }
  const phaseTimes = phaseNames
    .map((phaseName) => {
      const durations = phaseDurations.get(phaseName)!;
      return { phaseName, median: median(durations), count: durations.length };
    })
    .filter((phase) => phase.count > 0);

  const isRolledBack = (release: Release) =>
    release.status === 'rolled_back' || release.status === 'rolling_back';
  const failed = deployed.filter(({ release }) => release.issues.length > 0 || isRolledBack(release)).length;
  const rolledBack = deployed.filter(({ release }) => isRolledBack(release)).length;
  const rollbackRate = ratio(rolledBack, deployed.length);

  const resolveTimes = inScope.flatMap(({ release }) =>
    release.issues
      .filter((issue) => inPeriod(issue.foundAt) && issue.resolvedAt !== undefined)
      .map((issue) => issue.resolvedAt! - issue.foundAt),
  );
  const resolveMedian = median(resolveTimes);

  const windowed = deployed.filter(({ release }) => release.window !== undefined);
  const inside = windowed.filter(({ release }) =>
    isInsideWindow(release.deployment!.at, release.window!.at),
  ).length;

  return {
    period: env === undefined ? { from, to } : { from, to, env },
    releasesStarted: started.length,
    deployments: deployed.length,
    deploymentsPerWeek,
    startToDeployed: {
      median: percentile(leadTimes, 0.5),
      p90: percentile(leadTimes, 0.9),
      count: leadTimes.length,
    },
    phaseTimes,
    changeFailureRate: { failed, of: deployed.length, rate: ratio(failed, deployed.length) },
    rollbackRate: {
      rolledBack,
      of: deployed.length,
      rate: rollbackRate,
      goal: ROLLBACK_RATE_GOAL,
      met: rollbackRate === undefined ? undefined : rollbackRate <= ROLLBACK_RATE_GOAL,
    },
    timeToResolve: {
      median: resolveMedian,
      count: resolveTimes.length,
      goalMs: TIME_TO_RESOLVE_GOAL_MS,
      met: resolveMedian === undefined ? undefined : resolveMedian < TIME_TO_RESOLVE_GOAL_MS,
    },
    insideWindow: { inside, of: windowed.length, rate: ratio(inside, windowed.length) },
    criteria: criteriaStats(deployed),
  };
}

/** Each criterion by id, in order of first appearance; a later deploy's template names it. */
function criteriaStats(deployed: readonly ReleaseRecord[]): CriterionStats[] {
  const byId = new Map<string, CriterionStats>();
  const byDeploy = [...deployed].sort((a, b) => a.release.deployment!.at - b.release.deployment!.at);
  for (const { release } of byDeploy) {
    for (const report of reportCriteria(release)) {
      const entry = byId.get(report.id) ?? {
        id: report.id,
        name: '',
        target: '',
        releases: 0,
        recorded: 0,
        met: 0,
      };
      entry.name = report.name;
      entry.target = report.target;
      entry.releases++;
      if (report.verdict !== 'not_recorded') entry.recorded++;
      if (report.verdict === 'met') entry.met++;
      byId.set(report.id, entry);
    }
  }
  return [...byId.values()].map((entry) => ({
    ...entry,
    recordedRate: ratio(entry.recorded, entry.releases),
    metRate: ratio(entry.met, entry.recorded),
  }));
}

export type StatsArguments = { ok: true; days: number; env?: string } | { ok: false; problem: string };

/** A token shown back in a problem only when it cannot carry markup; otherwise it is described. */
function quoted(token: string): string {
  return /^[\w.-]{1,40}$/.test(token) ? `"${token}"` : 'that';
}

/**
 * `/deploy stats [days] [env]`, in either order: "", "30", "90 production", "production 14".
 * Days default to 30 and must be a whole number from 1 to 400; the environment must be a known one
 * (matched case-insensitively, returned in lower case). Problems are plain sentences without markup.
 */
export function parseStatsArguments(text: string, environments: readonly string[]): StatsArguments {
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  const known = environments.map((name) => name.toLowerCase());
  let days: number | undefined;
  let env: string | undefined;
  for (const token of tokens) {
    if (/^\d+$/.test(token)) {
      if (days !== undefined) return { ok: false, problem: 'Give the number of days only once.' };
      days = Number(token);
      if (!Number.isSafeInteger(days) || days < 1 || days > MAX_STATS_DAYS) {
        return {
          ok: false,
          problem: `The number of days must be from 1 to ${MAX_STATS_DAYS}; ${quoted(token)} is not.`,
        };
      }
    } else if (known.includes(token.toLowerCase())) {
      if (env !== undefined) return { ok: false, problem: 'Give one environment at most.' };
      env = token.toLowerCase();
    } else {
      const list = known.length > 0 ? ` Known environments: ${known.join(', ')}.` : '';
      return {
        ok: false,
        problem: `I don't know ${quoted(token)}: expected a number of days or an environment.${list}`,
      };
    }
  }
  const result: StatsArguments = { ok: true, days: days ?? DEFAULT_STATS_DAYS };
  if (env !== undefined) result.env = env;
  return result;
}
