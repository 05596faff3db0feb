import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuditEventType } from '../../src/domain/audit.js';
import type { Release, ReleaseIssue } from '../../src/domain/release.js';
import {
  computeDeliveryStats,
  type DeliveryStats,
  isInsideWindow,
  measurePhases,
  parseStatsArguments,
  percentile,
  type ReleaseRecord,
  type StatsQuery,
} from '../../src/domain/stats.js';
import { formatElapsed, formatRate, renderDeliveryStats } from '../../src/views/stats-message.js';
import { blockKitViolations } from './block-kit-limits.js';
import { HOSTILE_MARKUP, HOSTILE_TEXT, MINUTE, makeAuditEvent, makeRelease, TICKER } from './factories.js';

const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 2026-03-01 00:00 UTC; the default period is four weeks from it. */
const FROM = Date.UTC(2026, 2, 1);
const TO = FROM + 28 * DAY;
const ALL: StatsQuery = { from: FROM, to: TO };

function release(id: string, overrides: Partial<Release> & { deployedAt?: number } = {}): Release {
  const { deployedAt, ...rest } = overrides;
  return makeRelease({
    id,
    env: 'production',
    startedAt: FROM + DAY,
    status: deployedAt === undefined ? 'active' : 'completed',
    ...(deployedAt === undefined ? {} : { deployment: { at: deployedAt, by: TICKER } }),
    ...rest,
  });
}

function records(...releases: Release[]): ReleaseRecord[] {
  return releases.map((entry) => ({ release: entry, events: [] }));
}

function issue(id: number, foundAt: number, resolvedAt?: number): ReleaseIssue {
  return {
    id,
    foundBy: TICKER,
    foundAt,
    what: 'Error rate up',
    severity: 'major',
    ...(resolvedAt === undefined ? {} : { resolvedBy: TICKER, resolvedAt, resolution: 'Fixed' }),
  };
}

/** `count` deployed releases, the first `rolledBack` of them rolled back. */
function deployedMany(count: number, rolledBack: number): Release[] {
  return Array.from({ length: count }, (_unused, index) =>
    release(`d${index}`, {
      deployedAt: FROM + 2 * DAY,
      ...(index < rolledBack ? { status: 'rolled_back' as const } : {}),
    }),
  );
}

describe('percentile (nearest rank)', () => {
  const tens = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];

  it('picks the value at rank ceil(fraction × n)', () => {
    expect(percentile(tens, 0.5)).toBe(50); // ceil(0.5 × 10) = 5th → 50
    expect(percentile(tens, 0.9)).toBe(90); // ceil(0.9 × 10) = 9th → 90
    expect(percentile(tens, 1)).toBe(100); // 10th
    expect(percentile(tens, 0)).toBe(10); // rank at least 1
    expect(percentile(tens, 0.91)).toBe(100); // ceil(9.1) = 10th
    const fib = [3, 5, 8, 13, 21, 34, 55];
    expect(percentile(fib, 0.5)).toBe(13); // ceil(3.5) = 4th → 13
    expect(percentile(fib, 0.9)).toBe(55); // ceil(6.3) = 7th → 55
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2); // ceil(2) = 2nd: the lower middle, a value that occurred
    expect(percentile([42], 0.9)).toBe(42);
  });

  it('is not pushed up a rank by float noise', () => {
    // 0.07 × 100 = 7.000000000000001 in floating point; the rank is still 7, not 8.
    const hundred = Array.from({ length: 100 }, (_unused, index) => index + 1);
    expect(percentile(hundred, 0.07)).toBe(7);
    expect(percentile(hundred, 0.55)).toBe(55); // 55.00000000000001 → 55th
  });

  it('has no value for no values or a fraction outside [0, 1]', () => {
    expect(percentile([], 0.5)).toBeUndefined();
    expect(percentile(tens, 1.5)).toBeUndefined();
    expect(percentile(tens, -0.1)).toBeUndefined();
    expect(percentile(tens, Number.NaN)).toBeUndefined();
  });
});

describe('computeDeliveryStats: period and environment', () => {
  const set = records(
    release('a', { startedAt: FROM + DAY, deployedAt: FROM + 2 * DAY }),
    // Started before the period, deployed in it: a deployment but not a start.
    release('b', { env: 'staging', startedAt: FROM - 2 * DAY, deployedAt: FROM + HOUR }),
    // Started in the period, never deployed.
    release('c', { startedAt: FROM + 10 * DAY }),
    // Started in the period, deployed exactly at its end, which is outside [from, to).
    release('d', { startedAt: TO - HOUR, deployedAt: TO }),
    release('e', { env: 'staging', startedAt: FROM + 3 * DAY, deployedAt: FROM + 3 * DAY + 6 * HOUR }),
    // Started exactly at the period's start: inside.
    release('f', { startedAt: FROM }),
    // Started and deployed a millisecond before the period.
    release('g', { startedAt: FROM - DAY, deployedAt: FROM - 1 }),
  );

  it('counts starts and deployments inside [from, to) across environments', () => {
    const stats = computeDeliveryStats(set, ALL);
    expect(stats.period).toEqual({ from: FROM, to: TO });
    expect(stats.releasesStarted).toBe(5); // a, c, d, e, f
    expect(stats.deployments).toBe(3); // a, b, e
    // 28 days = 4 weeks: production 1 / 4 = 0.25, staging 2 / 4 = 0.5; sorted by env.
    expect(stats.deploymentsPerWeek).toEqual([
      { env: 'production', perWeek: 0.25 },
      { env: 'staging', perWeek: 0.5 },
    ]);
  });

  it('keeps to one environment, matched case-insensitively', () => {
    const stats = computeDeliveryStats(set, { ...ALL, env: 'PRODUCTION' });
    expect(stats.period).toEqual({ from: FROM, to: TO, env: 'production' });
    expect(stats.releasesStarted).toBe(4); // a, c, d, f
    expect(stats.deployments).toBe(1); // a
    expect(stats.deploymentsPerWeek).toEqual([{ env: 'production', perWeek: 0.25 }]); // 1 / 4 weeks
  });

  it('lists the asked environment at zero when it had no deployments', () => {
    const stats = computeDeliveryStats(set, { ...ALL, env: 'qa' });
    expect(stats.releasesStarted).toBe(0);
    expect(stats.deployments).toBe(0);
    expect(stats.deploymentsPerWeek).toEqual([{ env: 'qa', perWeek: 0 }]);
  });

  it('scales per week by the period length', () => {
    const thirtyDays = { from: FROM, to: FROM + 30 * DAY };
    const six = Array.from({ length: 6 }, (_unused, index) =>
      release(`p${index}`, { deployedAt: FROM + (index + 1) * DAY }),
    );
    // 6 deployments / (30 days / 7) = 6 × 7 / 30 = 1.4
    expect(computeDeliveryStats(records(...six), thirtyDays).deploymentsPerWeek).toEqual([
      { env: 'production', perWeek: 1.4 },
    ]);
  });

  it('has nothing to compute without releases', () => {
    const stats = computeDeliveryStats([], ALL);
    expect(stats).toEqual({
      period: { from: FROM, to: TO },
      releasesStarted: 0,
      deployments: 0,
      deploymentsPerWeek: [],
      startToDeployed: { median: undefined, p90: undefined, count: 0 },
      phaseTimes: [],
      changeFailureRate: { failed: 0, of: 0, rate: undefined },
      rollbackRate: { rolledBack: 0, of: 0, rate: undefined, goal: 0.05, met: undefined },
      timeToResolve: { median: undefined, count: 0, goalMs: 7_200_000, met: undefined },
      insideWindow: { inside: 0, of: 0, rate: undefined },
      criteria: [],
    });
  });
});

describe('computeDeliveryStats: start → deployed', () => {
  it('gives the median and p90 of the lead times of releases deployed in the period', () => {
    // Lead times 1 h … 10 h, given out of order; one more deployed after the period is left out.
    const hours = [7, 3, 10, 1, 5, 9, 2, 8, 4, 6];
    const set = records(
      ...hours.map((lead, index) =>
        release(`l${index}`, { startedAt: FROM + DAY, deployedAt: FROM + DAY + lead * HOUR }),
      ),
      release('late', { startedAt: TO - HOUR, deployedAt: TO + 100 * HOUR }),
    );
    const stats = computeDeliveryStats(set, ALL);
    // Sorted 1..10 h: median = 5th = 5 h = 18,000,000 ms; p90 = 9th = 9 h = 32,400,000 ms.
    expect(stats.startToDeployed).toEqual({ median: 18_000_000, p90: 32_400_000, count: 10 });
  });

  it('counts the lead time of a release started before the period', () => {
    const set = records(release('old', { startedAt: FROM - 2 * DAY, deployedAt: FROM + DAY }));
    // 3 days = 259,200,000 ms
    expect(computeDeliveryStats(set, ALL).startToDeployed).toEqual({
      median: 259_200_000,
      p90: 259_200_000,
      count: 1,
    });
  });
});

describe('computeDeliveryStats: change failure rate', () => {
  it('counts deployed releases with an issue or a rollback once each', () => {
    const at = FROM + 2 * DAY;
    const set = records(
      release('issue', { deployedAt: at, issues: [issue(1, at + HOUR)] }),
      release('rolled', { deployedAt: at, status: 'rolled_back' }),
      release('rolling', { deployedAt: at, status: 'rolling_back' }),
      // An issue and a rollback: one failed release.
      release('both', { deployedAt: at, status: 'rolled_back', issues: [issue(1, at + HOUR)] }),
      release('clean', { deployedAt: at }),
      // Not deployed: neither failed nor counted.
      release('undeployed', { issues: [issue(1, at)] }),
    );
    // failed = issue, rolled, rolling, both = 4; of = 5 deployed; 4 / 5 = 0.8
    expect(computeDeliveryStats(set, ALL).changeFailureRate).toEqual({ failed: 4, of: 5, rate: 0.8 });
  });

  it('is zero for clean deployments and undefined without any', () => {
    const clean = records(release('x', { deployedAt: FROM + DAY }), release('y', { deployedAt: FROM + DAY }));
    expect(computeDeliveryStats(clean, ALL).changeFailureRate).toEqual({ failed: 0, of: 2, rate: 0 });
    expect(computeDeliveryStats(records(release('z')), ALL).changeFailureRate).toEqual({
      failed: 0,
      of: 0,
      rate: undefined,
    });
  });
});

describe('computeDeliveryStats: rollback rate and its 5 % goal', () => {
  it('meets the goal at exactly 5 %', () => {
    // 1 rolled back of 20 deployed = 0.05 ≤ 0.05
    expect(computeDeliveryStats(records(...deployedMany(20, 1)), ALL).rollbackRate).toEqual({
      rolledBack: 1,
      of: 20,
      rate: 0.05,
      goal: 0.05,
      met: true,
    });
  });

  it('misses the goal above 5 %, counting releases still rolling back', () => {
    const set = [
      ...deployedMany(19, 1),
      release('rolling', { deployedAt: FROM + DAY, status: 'rolling_back' }),
    ];
    // 2 of 20 = 0.1 > 0.05
    expect(computeDeliveryStats(records(...set), ALL).rollbackRate).toEqual({
      rolledBack: 2,
      of: 20,
      rate: 0.1,
      goal: 0.05,
      met: false,
    });
  });

  it('ignores rollbacks of releases deployed outside the period', () => {
    const set = [...deployedMany(4, 0), release('old', { deployedAt: FROM - DAY, status: 'rolled_back' })];
    // 0 of 4 = 0
    expect(computeDeliveryStats(records(...set), ALL).rollbackRate).toMatchObject({
      rolledBack: 0,
      of: 4,
      rate: 0,
      met: true,
    });
  });

  it('has no rate and no verdict without deployments', () => {
    expect(computeDeliveryStats([], ALL).rollbackRate).toEqual({
      rolledBack: 0,
      of: 0,
      rate: undefined,
      goal: 0.05,
      met: undefined,
    });
  });
});

describe('computeDeliveryStats: time to resolve and its 2 h goal', () => {
  const at = FROM + 5 * DAY;

  it('meets the goal when the median is under 2 h', () => {
    const set = records(
      release('one', {
        deployedAt: at,
        issues: [
          issue(1, at, at + 30 * MINUTE),
          issue(2, at + HOUR, at + 4 * HOUR), // 3 h
          issue(3, at + 5 * HOUR), // unresolved: not counted
        ],
      }),
      release('two', { issues: [issue(1, at, at + HOUR)] }), // not deployed, but the issue still counts
      release('old', { issues: [issue(1, FROM - HOUR, FROM + 10 * HOUR)] }), // found before the period
    );
    // 30 min, 1 h, 3 h → median 2nd = 1 h = 3,600,000 ms < 7,200,000
    expect(computeDeliveryStats(set, ALL).timeToResolve).toEqual({
      median: 3_600_000,
      count: 3,
      goalMs: 7_200_000,
      met: true,
    });
  });

  it('misses the goal when the median is exactly 2 h', () => {
    const set = records(
      release('one', {
        issues: [issue(1, at, at + 90 * MINUTE), issue(2, at, at + 2 * HOUR), issue(3, at, at + 5 * HOUR)],
      }),
    );
    // 90 min, 2 h, 5 h → median 2nd = 2 h = 7,200,000 ms, not < 7,200,000
    expect(computeDeliveryStats(set, ALL).timeToResolve).toEqual({
      median: 7_200_000,
      count: 3,
      goalMs: 7_200_000,
      met: false,
    });
  });

  it('keeps to the environment asked for', () => {
    const set = records(
      release('prod', { issues: [issue(1, at, at + 10 * MINUTE)] }),
      release('stage', { env: 'staging', issues: [issue(1, at, at + 10 * HOUR)] }),
    );
    // staging only: 10 h = 36,000,000 ms
    expect(computeDeliveryStats(set, { ...ALL, env: 'staging' }).timeToResolve).toMatchObject({
      median: 36_000_000,
      count: 1,
      met: false,
    });
  });

  it('has no median and no verdict without resolved issues', () => {
    const set = records(release('open', { issues: [issue(1, at)] }));
    expect(computeDeliveryStats(set, ALL).timeToResolve).toEqual({
      median: undefined,
      count: 0,
      goalMs: 7_200_000,
      met: undefined,
    });
  });
});

describe('computeDeliveryStats: inside the deploy window', () => {
  const windowAt = FROM + 10 * DAY;
  const window = { at: windowAt, zone: 'Europe/Berlin' };

  it('includes both tolerance edges: 1 h early and 4 h late', () => {
    expect(isInsideWindow(windowAt - HOUR, windowAt)).toBe(true);
    expect(isInsideWindow(windowAt - HOUR - 1, windowAt)).toBe(false);
    expect(isInsideWindow(windowAt + 4 * HOUR, windowAt)).toBe(true);
    expect(isInsideWindow(windowAt + 4 * HOUR + 1, windowAt)).toBe(false);
  });

  it('counts deployed releases that had a window', () => {
    const set = records(
      release('early-edge', { window, deployedAt: windowAt - HOUR }),
      release('too-early', { window, deployedAt: windowAt - HOUR - 1 }),
      release('on-time', { window, deployedAt: windowAt }),
      release('late-edge', { window, deployedAt: windowAt + 4 * HOUR }),
      release('too-late', { window, deployedAt: windowAt + 4 * HOUR + 1 }),
      release('no-window', { deployedAt: windowAt + 3 * DAY }),
      release('not-deployed', { window }),
    );
    // inside: early-edge, on-time, late-edge = 3; of: 5 with a window; 3 / 5 = 0.6
    expect(computeDeliveryStats(set, ALL).insideWindow).toEqual({ inside: 3, of: 5, rate: 0.6 });
  });

  it('has no rate when no deployment had a window', () => {
    const set = records(release('no-window', { deployedAt: windowAt }));
    expect(computeDeliveryStats(set, ALL).insideWindow).toEqual({ inside: 0, of: 0, rate: undefined });
  });
});

describe('phase times from the audit trail', () => {
  // makeTemplate: 0 Prepare (p0-a, p0-b required), 1 Notes (optional only), 2 Deploy (p2-a, p2-b),
  // 3 Verify (p3-a).
  let sequence = 0;
  const event = (type: AuditEventType, at: number, extra: Partial<AuditEvent> = {}): AuditEvent =>
    makeAuditEvent(type, ++sequence, { at, ...extra });
  const tick = (itemId: string, at: number) => event('ticked', at, { itemId, from: 'open', to: 'done' });
  const untick = (itemId: string, at: number) => event('unticked', at, { itemId, from: 'done', to: 'open' });

  const s1 = FROM + DAY;
  const first: ReleaseRecord = {
    release: release('first', { startedAt: s1 }),
    events: [
      event('started', s1, { from: 'none', to: 'active' }),
      tick('p0-opt', s1 + 5 * MINUTE), // optional: no effect
      tick('p0-a', s1 + 10 * MINUTE),
      tick('p0-b', s1 + 40 * MINUTE), // Prepare done after 40 min; Notes has nothing required, so Deploy opens
      tick('p2-a', s1 + 50 * MINUTE),
      untick('p2-a', s1 + 55 * MINUTE),
      tick('p2-a', s1 + 60 * MINUTE),
      tick('p2-b', s1 + 100 * MINUTE), // Deploy done: 100 − 40 = 60 min; Verify opens
      untick('p0-b', s1 + 105 * MINUTE), // reopening Prepare later moves nothing already measured
      tick('p0-b', s1 + 106 * MINUTE),
      tick('p3-a', s1 + 115 * MINUTE), // Verify done: 115 − 100 = 15 min
      untick('p3-a', s1 + 120 * MINUTE), // done moments are the first ones
      tick('p3-a', s1 + 130 * MINUTE),
    ],
  };

  const s2 = FROM + 3 * DAY;
  const second: ReleaseRecord = {
    release: release('second', { startedAt: s2 }),
    events: [
      event('started', s2, { from: 'none', to: 'active' }),
      tick('p0-a', s2 + 10 * MINUTE), // p0-b never ticked: Prepare is never done
      event('gate_overridden', s2 + 30 * MINUTE, {
        phaseIndex: 2,
        blockingPhaseIndex: 0,
        from: 'locked',
        to: 'open',
      }), // Deploy opens at +30 min
      tick('p2-a', s2 + 40 * MINUTE),
      tick('p2-b', s2 + 50 * MINUTE), // Deploy done: 50 − 30 = 20 min
      event('deployed', s2 + 50 * MINUTE, { phaseIndex: 2 }),
      tick('p3-a', s2 + 80 * MINUTE), // Verify done: 80 − 50 = 30 min
      event('completed', s2 + 80 * MINUTE, { from: 'active', to: 'completed' }),
    ],
  };

  it('replays when each phase opened and was done', () => {
    expect(measurePhases(first.release, first.events)).toEqual([
      { phaseIndex: 0, openedAt: s1, doneAt: s1 + 40 * MINUTE },
      { phaseIndex: 2, openedAt: s1 + 40 * MINUTE, doneAt: s1 + 100 * MINUTE },
      { phaseIndex: 3, openedAt: s1 + 100 * MINUTE, doneAt: s1 + 115 * MINUTE },
    ]);
    expect(measurePhases(second.release, second.events)).toEqual([
      { phaseIndex: 2, openedAt: s2 + 30 * MINUTE, doneAt: s2 + 50 * MINUTE },
      { phaseIndex: 3, openedAt: s2 + 50 * MINUTE, doneAt: s2 + 80 * MINUTE },
    ]);
  });

  it('gives the median per phase name, in template order, skipping phases never done', () => {
    const stats = computeDeliveryStats([first, second], ALL);
    expect(stats.phaseTimes).toEqual([
      { phaseName: 'Prepare', median: 2_400_000, count: 1 }, // 40 min
      { phaseName: 'Deploy', median: 1_200_000, count: 2 }, // [20, 60] min → 1st = 20 min
      { phaseName: 'Verify', median: 900_000, count: 2 }, // [15, 30] min → 1st = 15 min
    ]);
  });

  it('counts a phase in the period it was done in', () => {
    // Period ends between the first release's Deploy done (+100 min) and its Verify done (+115 min).
    const stats = computeDeliveryStats([first], { from: FROM, to: s1 + 110 * MINUTE });
    expect(stats.phaseTimes).toEqual([
      { phaseName: 'Prepare', median: 2_400_000, count: 1 }, // 40 min
      { phaseName: 'Deploy', median: 3_600_000, count: 1 }, // 60 min
    ]);
  });

  it('measures nothing without events', () => {
    expect(computeDeliveryStats(records(release('bare')), ALL).phaseTimes).toEqual([]);
  });
});

describe('parseStatsArguments', () => {
  const environments = ['production', 'staging'];

  it.each([
    ['', { ok: true, days: 30 }],
    ['30', { ok: true, days: 30 }],
    ['1', { ok: true, days: 1 }],
    ['400', { ok: true, days: 400 }],
    ['90 production', { ok: true, days: 90, env: 'production' }],
    ['production', { ok: true, days: 30, env: 'production' }],
    ['production 14', { ok: true, days: 14, env: 'production' }],
    ['  7   Staging ', { ok: true, days: 7, env: 'staging' }],
  ])('reads %j', (text, expected) => {
    expect(parseStatsArguments(text, environments)).toEqual(expected);
  });

  it.each([
    ['0', 'from 1 to 400'],
    ['401', 'from 1 to 400'],
    ['99999999999999999999', 'from 1 to 400'],
    ['30 60', 'only once'],
    ['production staging', 'one environment'],
    ['qa', 'Known environments: production, staging'],
    ['3.5', "don't know"],
    ['-5', "don't know"],
  ])('refuses %j', (text, problem) => {
    const parsed = parseStatsArguments(text, environments);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(problem);
  });

  it('never echoes markup back', () => {
    const parsed = parseStatsArguments(HOSTILE_TEXT, environments);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).not.toMatch(/[<>&]/);
  });
});

describe('renderDeliveryStats', () => {
  const now = FROM + 30 * DAY;

  it('formats durations and rates for people', () => {
    expect(formatElapsed(45_000)).toBe('45 s');
    expect(formatElapsed(35 * MINUTE)).toBe('35 min');
    expect(formatElapsed(2 * HOUR)).toBe('2 h');
    expect(formatElapsed(3 * HOUR + 10 * MINUTE)).toBe('3 h 10 min');
    expect(formatElapsed(2 * DAY + 4 * HOUR)).toBe('2 d 4 h');
    expect(formatElapsed(DAY)).toBe('1 d');
    expect(formatRate(0.05)).toBe('5 %');
    expect(formatRate(1 / 12)).toBe('8.3 %'); // 8.333… → 8.3
  });

  it('says n/a and no data when there is nothing to compute', () => {
    const stats = computeDeliveryStats([], { from: FROM, to: FROM + 30 * DAY });
    const message = renderDeliveryStats(stats, now);
    expect(blockKitViolations(message)).toEqual([]);
    const all = JSON.stringify(message.blocks);
    expect(all).toContain('Delivery figures, last 30 days (all environments)');
    expect(all).toContain('n/a (no deployments)');
    expect(all).toContain('n/a (no resolved issues)');
    expect(all).toContain('no data');
    expect(all).not.toContain('✅');
    expect(all).not.toContain('⚠️');
    expect(message.text).toContain('no deployments');
  });

  it('shows the key figures of a full period within Block Kit limits', () => {
    const phaseTimes = Array.from({ length: 12 }, (_unused, index) => ({
      phaseName: index === 0 ? HOSTILE_TEXT : `Phase ${index + 1}`,
      median: (index + 1) * HOUR,
      count: 5,
    }));
    const stats: DeliveryStats = {
      period: { from: FROM, to: FROM + 30 * DAY, env: 'production' },
      releasesStarted: 14,
      deployments: 12,
      deploymentsPerWeek: [{ env: 'production', perWeek: 2.8 }], // 12 × 7 / 30
      startToDeployed: { median: 187_200_000, p90: 432_000_000, count: 12 }, // 2 d 4 h, 5 d
      phaseTimes,
      changeFailureRate: { failed: 3, of: 12, rate: 0.25 },
      rollbackRate: { rolledBack: 1, of: 12, rate: 1 / 12, goal: 0.05, met: false },
      timeToResolve: { median: 2_100_000, count: 4, goalMs: 7_200_000, met: true }, // 35 min
      insideWindow: { inside: 9, of: 10, rate: 0.9 },
      criteria: [],
    };
    const message = renderDeliveryStats(stats, now);
    expect(blockKitViolations(message)).toEqual([]);
    const all = JSON.stringify(message.blocks);
    expect(all).toContain('Delivery figures, last 30 days (production)');
    expect(all).toContain(`<!date^${FROM / 1000}^`);
    expect(all).toContain('Releases started*\\n14');
    expect(all).toContain('12 (2.8 per week)');
    expect(all).toContain('production: 2.8');
    expect(all).toContain('median 2 d 4 h · p90 5 d (12 releases)');
    expect(all).toContain('25 % (3 of 12)');
    expect(all).toContain('⚠️ 8.3 % (1 of 12)');
    expect(all).toContain('goal ≤ 5 %');
    expect(all).toContain('✅ median 35 min (4 issues)');
    expect(all).toContain('goal < 2 h');
    expect(all).toContain('90 % (9 of 10)');
    // The ten slowest phases, slowest first: Phase 12 (12 h) … Phase 3 (3 h); Phase 2 and the first are cut.
    expect(all).toContain('Phase 12: 12 h');
    expect(all.indexOf('Phase 12')).toBeLessThan(all.indexOf('Phase 11'));
    expect(all).toContain('Phase 3: 3 h');
    expect(all).not.toContain('Phase 2:');
    for (const markup of HOSTILE_MARKUP) expect(all).not.toContain(markup);
    expect(message.text).toContain('12 deployments');
  });

  it('escapes environment and phase names', () => {
    const stats = computeDeliveryStats([], { from: FROM, to: FROM + 7 * DAY });
    const hostile: DeliveryStats = {
      ...stats,
      period: { ...stats.period, env: HOSTILE_TEXT },
      deploymentsPerWeek: [{ env: HOSTILE_TEXT, perWeek: 1 }],
      phaseTimes: [{ phaseName: HOSTILE_TEXT, median: MINUTE, count: 1 }],
    };
    const message = renderDeliveryStats(hostile, now);
    expect(blockKitViolations(message)).toEqual([]);
    const all = JSON.stringify(message);
    for (const markup of HOSTILE_MARKUP) expect(all).not.toContain(markup);
    expect(all).toContain('last 7 days (&lt;!channel&gt;');
  });
});
