import { describe, expect, it } from 'vitest';
import {
  computeProgress,
  countOpenRequired,
  currentPhaseIndex,
  findBlockingPhase,
  gateFloor,
  isItemDone,
  isPhaseUnlocked,
  isReleaseDone,
  listSkippedItems,
  openIssues,
  type PhaseState,
  pendingCheckin,
  phaseState,
  type Release,
  type ReleaseStatus,
} from '../../src/domain/release.js';
import { findItem } from '../../src/domain/template.js';
import {
  cancel,
  complete,
  item,
  makeRelease,
  makeTemplate,
  override,
  PHASE,
  T0,
  TICKER,
  tick,
  tickEverything,
  tickPhases,
  untick,
} from './factories.js';

const states = (release: Release): PhaseState[] =>
  release.template.phases.map((_phase, index) => phaseState(release, index));

describe('phases run in order', () => {
  it('given a fresh release, when nothing is ticked, then only the first phase is open', () => {
    const release = makeRelease();

    expect(states(release)).toEqual(['open', 'locked', 'locked', 'locked']);
    expect(currentPhaseIndex(release)).toBe(PHASE.prepare);
    expect(findBlockingPhase(release, PHASE.notes)).toBe(PHASE.prepare);
    expect(findBlockingPhase(release, PHASE.verify)).toBe(PHASE.prepare);
    expect(isReleaseDone(release)).toBe(false);
  });

  it('given a release, then the first phase is never blocked', () => {
    expect(findBlockingPhase(makeRelease(), 0)).toBeUndefined();
  });

  it('given part of the first phase ticked, then the next phases stay locked', () => {
    const release = tick(makeRelease(), ['p0-a']);

    expect(countOpenRequired(release, PHASE.prepare)).toBe(1);
    expect(states(release)).toEqual(['open', 'locked', 'locked', 'locked']);
  });

  it('given a later phase ticked out of order, then it stays locked and its ticks do not unlock anything', () => {
    const release = tick(makeRelease(), ['p2-a', 'p2-b', 'p3-a']);

    expect(states(release)).toEqual(['open', 'locked', 'locked', 'locked']);
    expect(findBlockingPhase(release, PHASE.verify)).toBe(PHASE.prepare);
    expect(isReleaseDone(release)).toBe(false);
  });

  it('given the first phase done, when the gate opens, then the phase after the optional-only phase is current', () => {
    const release = tickPhases(makeRelease(), [PHASE.prepare]);

    expect(states(release)).toEqual(['done', 'done', 'open', 'locked']);
    expect(currentPhaseIndex(release)).toBe(PHASE.deploy);
    expect(findBlockingPhase(release, PHASE.verify)).toBe(PHASE.deploy);
  });

  it('given every required item done, then every phase is done and there is no current phase', () => {
    const release = tickPhases(makeRelease(), [0, 1, 2, 3]);

    expect(states(release)).toEqual(['done', 'done', 'done', 'done']);
    expect(currentPhaseIndex(release)).toBeUndefined();
  });

  it('treats an item whose state says done: false as open', () => {
    const release = untick(tick(makeRelease(), ['p0-a', 'p0-b']), ['p0-b']);

    expect(isItemDone(release, 'p0-a')).toBe(true);
    expect(isItemDone(release, 'p0-b')).toBe(false);
    expect(isItemDone(release, 'no-such-item')).toBe(false);
    expect(phaseState(release, PHASE.prepare)).toBe('open');
  });
});

describe('optional items never gate', () => {
  it('given only the required items of a phase ticked, then the phase is done and the next unlocks', () => {
    const release = tick(makeRelease(), ['p0-a', 'p0-b']);

    expect(isItemDone(release, 'p0-opt')).toBe(false);
    expect(phaseState(release, PHASE.prepare)).toBe('done');
    expect(findBlockingPhase(release, PHASE.deploy)).toBeUndefined();
  });

  it('given only the optional items ticked, then the phase is still open', () => {
    const release = tick(makeRelease(), ['p0-opt']);

    expect(phaseState(release, PHASE.prepare)).toBe('open');
    expect(countOpenRequired(release, PHASE.prepare)).toBe(2);
  });

  it('given every required item done but optional items left open, then the release is done', () => {
    const release = tickPhases(makeRelease(), [0, 1, 2, 3]);

    expect(isItemDone(release, 'p2-opt')).toBe(false);
    expect(isReleaseDone(release)).toBe(true);
  });
});

describe('a phase with only optional items', () => {
  it('is done at once when it unlocks, with nothing ticked in it', () => {
    const release = tickPhases(makeRelease(), [PHASE.prepare]);

    expect(countOpenRequired(release, PHASE.notes)).toBe(0);
    expect(phaseState(release, PHASE.notes)).toBe('done');
  });

  it('is locked, not done, while a phase before it is open', () => {
    expect(phaseState(makeRelease(), PHASE.notes)).toBe('locked');
  });

  it('as the first phase, is done from the start and lets the second phase open', () => {
    const template = makeTemplate({
      phases: [
        { id: 'fyi', name: 'FYI', items: [item('fyi-1', { required: false })] },
        { id: 'work', name: 'Work', items: [item('work-1')] },
      ],
    });
    const release = makeRelease({ template });

    expect(states(release)).toEqual(['done', 'open']);
    expect(currentPhaseIndex(release)).toBe(1);
  });

  it('as the only phase, makes the release done with nothing ticked', () => {
    const template = makeTemplate({
      phases: [{ id: 'fyi', name: 'FYI', items: [item('fyi-1', { required: false })] }],
    });

    expect(isReleaseDone(makeRelease({ template }))).toBe(true);
  });
});

describe('unticking an earlier required item', () => {
  it('re-locks every later phase, blocked by the phase that is open again', () => {
    const midway = tickPhases(makeRelease(), [PHASE.prepare, PHASE.deploy]);
    expect(states(midway)).toEqual(['done', 'done', 'done', 'open']);

    const release = untick(midway, ['p0-b']);

    expect(states(release)).toEqual(['open', 'locked', 'locked', 'locked']);
    expect(findBlockingPhase(release, PHASE.verify)).toBe(PHASE.prepare);
    expect(currentPhaseIndex(release)).toBe(PHASE.prepare);
  });

  it('keeps the later items ticked: they count again once the phase is redone', () => {
    const release = tick(untick(tickPhases(makeRelease(), [0, 2]), ['p0-b']), ['p0-b']);

    expect(states(release)).toEqual(['done', 'done', 'done', 'open']);
  });

  it('makes a release that was done no longer done', () => {
    const done = tickPhases(makeRelease(), [0, 1, 2, 3]);
    expect(isReleaseDone(done)).toBe(true);

    expect(isReleaseDone(untick(done, ['p2-a']))).toBe(false);
  });

  it('does not re-lock anything when the item is optional', () => {
    const release = untick(tick(tickPhases(makeRelease(), [0]), ['p0-opt']), ['p0-opt']);

    expect(states(release)).toEqual(['done', 'done', 'open', 'locked']);
  });
});

describe('gateFloor', () => {
  it('is 0 for every phase when there is no override', () => {
    const release = makeRelease();
    expect([0, 1, 2, 3, 4].map((index) => gateFloor(release, index))).toEqual([0, 0, 0, 0, 0]);
  });

  it('is the overridden phase for that phase and every later one, and 0 before it', () => {
    const release = override(makeRelease(), PHASE.deploy);
    expect([0, 1, 2, 3, 4].map((index) => gateFloor(release, index))).toEqual([0, 0, 2, 2, 2]);
  });

  it('is the highest override at or before the phase, whatever order the overrides were made in', () => {
    const later = override(override(makeRelease(), 3, { at: 1 }), 1, { at: 2 });
    const earlier = override(override(makeRelease(), 1, { at: 1 }), 3, { at: 2 });

    for (const release of [later, earlier]) {
      expect([0, 1, 2, 3, 4].map((index) => gateFloor(release, index))).toEqual([0, 1, 1, 3, 3]);
    }
  });

  it('ignores an override of the first phase (there is nothing before it)', () => {
    expect(gateFloor(override(makeRelease(), 0), 3)).toBe(0);
  });
});

describe('an override of phase P', () => {
  it('given the first phase open, when the deploy phase is overridden, then it opens but the phases before it stay as they were', () => {
    const release = override(tick(makeRelease(), ['p0-a']), PHASE.deploy);

    expect(states(release)).toEqual(['open', 'locked', 'open', 'locked']);
    expect(findBlockingPhase(release, PHASE.deploy)).toBeUndefined();
  });

  it('lets later phases ignore the phases before P, while P itself still gates them', () => {
    const release = override(makeRelease(), PHASE.deploy);

    expect(findBlockingPhase(release, PHASE.verify)).toBe(PHASE.deploy);
    expect(phaseState(release, PHASE.verify)).toBe('locked');

    const deployDone = tickPhases(release, [PHASE.deploy]);
    expect(findBlockingPhase(deployDone, PHASE.verify)).toBeUndefined();
    expect(states(deployDone)).toEqual(['open', 'locked', 'done', 'open']);
  });

  it('given an override of phase 1, then phase 2 between it and phase 3 still gates phase 3', () => {
    const release = override(makeRelease(), PHASE.notes);

    // Phase 1 has nothing required, so phase 2 opens too; phase 2's open items then gate phase 3.
    expect(states(release)).toEqual(['open', 'done', 'open', 'locked']);
    expect(findBlockingPhase(release, PHASE.verify)).toBe(PHASE.deploy);
  });

  it('does not stop an unticked item after P from re-locking the phases after it', () => {
    const release = untick(tickPhases(override(makeRelease(), PHASE.deploy), [PHASE.deploy]), ['p2-a']);

    expect(findBlockingPhase(release, PHASE.verify)).toBe(PHASE.deploy);
  });

  it('makes the current phase the first open one, which can be before P', () => {
    const release = override(makeRelease(), PHASE.verify);

    expect(states(release)).toEqual(['open', 'locked', 'locked', 'open']);
    expect(currentPhaseIndex(release)).toBe(PHASE.prepare);
  });
});

describe('completion: the gate after the last phase is open', () => {
  it('is not reached while the last phase has open required items', () => {
    const release = tickPhases(makeRelease(), [0, 1, 2]);

    expect(findBlockingPhase(release, release.template.phases.length)).toBe(PHASE.verify);
    expect(isReleaseDone(release)).toBe(false);
  });

  it('is reached when every required item is done', () => {
    const release = tickPhases(makeRelease(), [0, 1, 2, 3]);

    expect(findBlockingPhase(release, release.template.phases.length)).toBeUndefined();
    expect(isReleaseDone(release)).toBe(true);
  });

  it('is reached when the last phase was overridden and is done, even with earlier phases open', () => {
    const release = tickPhases(override(makeRelease(), PHASE.verify), [PHASE.verify]);

    expect(isReleaseDone(release)).toBe(true);
    expect(phaseState(release, PHASE.prepare)).toBe('open');
  });

  it('is not reached when an override was made but the phases after it are not done', () => {
    const release = tickPhases(override(makeRelease(), PHASE.deploy), [PHASE.verify]);

    expect(findBlockingPhase(release, release.template.phases.length)).toBe(PHASE.deploy);
    expect(isReleaseDone(release)).toBe(false);
  });
});

describe('listSkippedItems', () => {
  it('is empty without an override, however much is open', () => {
    expect(listSkippedItems(makeRelease())).toEqual([]);
  });

  it('lists the open required items of every phase before the latest override, in order', () => {
    const release = override(tick(makeRelease(), ['p0-b', 'p2-a']), PHASE.verify);

    expect(listSkippedItems(release)).toEqual([
      { phaseIndex: 0, itemId: 'p0-a' },
      { phaseIndex: 2, itemId: 'p2-b' },
    ]);
  });

  it('leaves out optional items, ticked items and the phases from the override on', () => {
    const release = override(tick(makeRelease(), ['p0-a']), PHASE.deploy);

    expect(listSkippedItems(release)).toEqual([{ phaseIndex: 0, itemId: 'p0-b' }]);
  });

  it('is empty when the skipped items were ticked after the override', () => {
    const release = tickPhases(override(makeRelease(), PHASE.deploy), [PHASE.prepare]);

    expect(listSkippedItems(release)).toEqual([]);
  });
});

describe('computeProgress', () => {
  it('counts nothing done on a fresh release', () => {
    expect(computeProgress(makeRelease())).toEqual({
      requiredDone: 0,
      requiredTotal: 5,
      itemsDone: 0,
      itemsTotal: 8,
      phasesDone: 0,
      phasesTotal: 4,
    });
  });

  it('counts required and optional ticks apart, and phases that are done (an optional-only one included)', () => {
    const release = tick(tickPhases(makeRelease(), [PHASE.prepare]), ['p0-opt', 'p2-a']);

    expect(computeProgress(release)).toEqual({
      requiredDone: 3,
      requiredTotal: 5,
      itemsDone: 4,
      itemsTotal: 8,
      phasesDone: 2,
      phasesTotal: 4,
    });
  });

  it('does not count a locked phase as done even when its items are ticked', () => {
    const release = tickPhases(makeRelease(), [PHASE.verify]);

    expect(computeProgress(release)).toMatchObject({ requiredDone: 1, phasesDone: 0 });
  });

  it('counts everything when everything is ticked', () => {
    expect(computeProgress(tickEverything(makeRelease()))).toEqual({
      requiredDone: 5,
      requiredTotal: 5,
      itemsDone: 8,
      itemsTotal: 8,
      phasesDone: 4,
      phasesTotal: 4,
    });
  });
});

describe('isPhaseUnlocked', () => {
  it('unlocks exactly the phases that are not locked, while the release is active', () => {
    const release = override(tick(makeRelease(), ['p0-a']), PHASE.deploy);

    expect(release.template.phases.map((_phase, index) => isPhaseUnlocked(release, index))).toEqual([
      true,
      false,
      true,
      false,
    ]);
  });

  it('unlocks nothing once the release is closed', () => {
    const release = cancel(makeRelease(), 'called off');

    expect(release.template.phases.map((_phase, index) => isPhaseUnlocked(release, index))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Walk every pair: release status × state of the phase acted on × action.
//
// The store applies these actions atomically in Lua; this is the same rule, written with the domain
// functions, so the table pins down what the domain functions must say for every combination.

type Action = 'tick required' | 'untick required' | 'tick optional' | 'override gate';
type Outcome = 'applied' | 'unchanged' | 'closed' | 'locked' | 'not_locked';

const STATUSES: ReleaseStatus[] = ['active', 'completed', 'cancelled'];
const PHASE_STATES: PhaseState[] = ['done', 'open', 'locked'];
const ACTIONS: Action[] = ['tick required', 'untick required', 'tick optional', 'override gate'];

/** The deploy phase (index 2) is acted on: p2-a and p2-b are required, p2-opt is optional. */
const TARGET = PHASE.deploy;

/**
 * A release with the given status whose deploy phase is in the given state. A completed release is
 * built so that it really is done (the verify phase was overridden and finished when the deploy phase
 * is not done), and an active one so that it is not.
 */
function scenario(status: ReleaseStatus, state: PhaseState): Release {
  let release = makeRelease();
  if (state === 'done') release = tickPhases(release, [PHASE.prepare, PHASE.deploy]);
  if (state === 'open') release = tick(tickPhases(release, [PHASE.prepare]), ['p2-a']);
  if (status === 'completed') {
    if (state !== 'done') release = override(release, PHASE.verify);
    release = complete(tickPhases(release, [PHASE.verify]));
  }
  if (status === 'cancelled') release = cancel(release, 'Rolled back upstream');
  return release;
}

/** What the store does with one action, in terms of the domain rules. */
function apply(release: Release, action: Action): { outcome: Outcome; release: Release } {
  if (release.status !== 'active') return { outcome: 'closed', release };
  if (action === 'override gate') {
    if (findBlockingPhase(release, TARGET) === undefined) return { outcome: 'not_locked', release };
    return { outcome: 'applied', release: override(release, TARGET) };
  }
  const itemId = { 'tick required': 'p2-b', 'untick required': 'p2-a', 'tick optional': 'p2-opt' }[action];
  const location = findItem(release.template, itemId);
  if (!location) throw new Error(`no item ${itemId}`);
  if (findBlockingPhase(release, location.phaseIndex) !== undefined) return { outcome: 'locked', release };
  const wantDone = action !== 'untick required';
  if (isItemDone(release, itemId) === wantDone) return { outcome: 'unchanged', release };
  return { outcome: 'applied', release: wantDone ? tick(release, [itemId]) : untick(release, [itemId]) };
}

/** For an active release: the outcome and the deploy phase's state afterwards. */
const ACTIVE_TABLE: Record<PhaseState, Record<Action, [Outcome, PhaseState]>> = {
  done: {
    'tick required': ['unchanged', 'done'],
    'untick required': ['applied', 'open'],
    'tick optional': ['applied', 'done'],
    'override gate': ['not_locked', 'done'],
  },
  open: {
    'tick required': ['applied', 'done'],
    'untick required': ['applied', 'open'],
    'tick optional': ['applied', 'open'],
    'override gate': ['not_locked', 'open'],
  },
  locked: {
    'tick required': ['locked', 'locked'],
    'untick required': ['locked', 'locked'],
    'tick optional': ['locked', 'locked'],
    'override gate': ['applied', 'open'],
  },
};

const PAIRS = STATUSES.flatMap((status) =>
  PHASE_STATES.flatMap((state) => ACTIONS.map((action) => ({ status, state, action }))),
);

describe('every status × phase state × action', () => {
  it('covers 3 statuses × 3 phase states × 4 actions', () => {
    expect(PAIRS).toHaveLength(36);
  });

  it.each(PAIRS)(
    'given a $status release whose phase is $state, when "$action"',
    ({ status, state, action }) => {
      const before = scenario(status, state);
      // The scenario is what it claims to be.
      expect(before.status).toBe(status);
      expect(phaseState(before, TARGET)).toBe(state);
      expect(isReleaseDone(before)).toBe(status === 'completed');

      const { outcome, release: after } = apply(before, action);

      const [expectedOutcome, expectedState] =
        status === 'active' ? ACTIVE_TABLE[state][action] : (['closed', state] as const);
      expect(outcome).toBe(expectedOutcome);
      expect(phaseState(after, TARGET)).toBe(expectedState);
      if (outcome !== 'applied') expect(after).toBe(before);
      // No single action on the deploy phase can finish the release: the verify phase is still open.
      if (status === 'active') expect(isReleaseDone(after)).toBe(false);
      // Without an override past it, the verify phase is unlocked exactly when the deploy phase lets it through.
      if (status !== 'completed')
        expect(findBlockingPhase(after, PHASE.verify) === undefined).toBe(
          phaseState(after, TARGET) === 'done' && findBlockingPhase(after, TARGET) === undefined,
        );
    },
  );
});

describe('post-deploy monitoring', () => {
  const deployed = (release: Release): Release => ({
    ...release,
    deployment: { at: T0, by: TICKER },
    monitoring: { state: 'open' },
    checkins: [
      {
        index: 0,
        dueAt: T0 + 1000,
        postedAt: T0 + 1000,
        answer: { kind: 'healthy', by: TICKER, at: T0 + 2000 },
      },
      { index: 1, dueAt: T0 + 5000, postedAt: T0 + 5000 },
      { index: 2, dueAt: T0 + 9000 },
    ],
  });

  it('given every phase done, when the monitoring window is still open, then the release is not done', () => {
    const release = deployed(tickEverything(makeRelease()));
    expect(isReleaseDone(release)).toBe(false);
    expect(isReleaseDone({ ...release, monitoring: { state: 'closed', closedAt: T0 + 9000 } })).toBe(true);
  });

  it('asks for the latest posted check-in without an answer', () => {
    const release = deployed(makeRelease());
    expect(pendingCheckin(release)?.index).toBe(1);
    expect(pendingCheckin({ ...release, checkins: release.checkins.slice(0, 1) })).toBeUndefined();
  });

  it('lists the issues still open', () => {
    const found = { foundBy: TICKER, foundAt: T0, what: 'slow', severity: 'major' as const };
    const release = {
      ...deployed(makeRelease()),
      issues: [
        { id: 1, ...found, resolvedBy: TICKER, resolvedAt: T0 + 1, resolution: 'fixed' },
        { id: 2, ...found },
      ],
    };
    expect(openIssues(release).map((issue) => issue.id)).toEqual([2]);
  });
});
