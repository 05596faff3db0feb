import { describe, expect, it } from 'vitest';
import type { RoleHolders } from '../../src/domain/access.js';
import { type Release, snoozedUntil } from '../../src/domain/release.js';
import {
  groupOpenItemsByOwner,
  openRequiredItems,
  planFirstReminders,
  requiredItemsOf,
  responsibleFor,
} from '../../src/domain/reminders.js';
import { cancel, item, makeRelease, makeTemplate, STARTER, T0, tick } from './factories.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

function withDues(release: Release, dues: (string | undefined)[]): Release {
  const phases = release.template.phases.map((phase, index) => ({ ...phase, due: dues[index] }));
  return { ...release, template: makeTemplate({ phases }) };
}

describe('planFirstReminders', () => {
  const windowAt = T0 + 10 * DAY;
  const release = withDues(makeRelease({ window: { at: windowAt, zone: 'Europe/Berlin' } }), [
    'T-7d',
    'T-1d',
    'T-0',
    'T+24h',
  ]);

  it('given a window, reminds each phase with required items when it is due', () => {
    expect(planFirstReminders(release, T0, 4 * HOUR)).toEqual([
      { phaseIndex: 0, at: windowAt - 7 * DAY },
      // Phase 1 has only optional items: nothing to remind.
      { phaseIndex: 2, at: windowAt },
      { phaseIndex: 3, at: windowAt + DAY },
    ]);
  });

  it('given a phase already overdue, reminds one interval from now, not at once', () => {
    const now = windowAt - 3 * DAY;
    expect(planFirstReminders(release, now, 4 * HOUR)[0]).toEqual({ phaseIndex: 0, at: now + 4 * HOUR });
  });

  it('given no window, a closed release or a done phase, plans nothing for it', () => {
    expect(planFirstReminders(makeRelease(), T0, HOUR)).toEqual([]);
    expect(planFirstReminders(cancel(release, 'no'), T0, HOUR)).toEqual([]);
    const prepared = tick(release, ['p0-a', 'p0-b']);
    expect(planFirstReminders(prepared, T0, HOUR).map((plan) => plan.phaseIndex)).toEqual([2, 3]);
  });

  it('given a phase without a due offset, leaves it out', () => {
    const partial = withDues(makeRelease({ window: { at: windowAt, zone: 'UTC' } }), [
      'T-7d',
      undefined,
      undefined,
      undefined,
    ]);
    expect(planFirstReminders(partial, T0, HOUR).map((plan) => plan.phaseIndex)).toEqual([0]);
  });
});

describe('openRequiredItems', () => {
  it('lists the required items not done yet, in template order', () => {
    expect(openRequiredItems(tick(makeRelease(), ['p0-a']), 0).map((item) => item.id)).toEqual(['p0-b']);
    expect(openRequiredItems(makeRelease(), 1)).toEqual([]);
  });
});

describe('groupOpenItemsByOwner', () => {
  it('gives each open required item to its owner, and the rest to whoever started the release', () => {
    const release = makeRelease({ owners: { 'p0-b': 'U0BOB' } });
    const groups = groupOpenItemsByOwner(release, 0);
    expect([...groups.keys()]).toEqual([STARTER, 'U0BOB']);
    expect(groups.get(STARTER)?.map((entry) => entry.id)).toEqual(['p0-a']);
    expect(groups.get('U0BOB')?.map((entry) => entry.id)).toEqual(['p0-b']);
  });

  it('leaves out done items, and owners with nothing open', () => {
    const release = tick(makeRelease({ owners: { 'p0-b': 'U0BOB' } }), ['p0-b']);
    expect([...groupOpenItemsByOwner(release, 0).keys()]).toEqual([STARTER]);
    expect(groupOpenItemsByOwner(tick(release, ['p0-a']), 0).size).toBe(0);
  });
});

describe('responsibleFor', () => {
  // Phase 0 of the tiny template: p0-a (role ops), p0-b (no role).
  const [roleItem, plainItem] = makeRelease().template.phases[0]!.items;
  const opsHeldBy =
    (...people: string[]): RoleHolders =>
    (role) =>
      role === 'ops' ? new Set(people) : undefined;

  it('given an owner, is the owner, even of a role item whose role is held', () => {
    const release = makeRelease({ owners: { 'p0-a': 'U0BOB' } });
    expect(responsibleFor(release, roleItem!, opsHeldBy('U0QA'))).toEqual(['U0BOB']);
  });

  it('given no owner and a role held, is every holder', () => {
    expect(responsibleFor(makeRelease(), roleItem!, opsHeldBy('U0QA', 'U0QB'))).toEqual(['U0QA', 'U0QB']);
  });

  it('given no owner and a role held by nobody or not configured, is whoever started the release', () => {
    expect(responsibleFor(makeRelease(), roleItem!, opsHeldBy())).toEqual([STARTER]);
    expect(responsibleFor(makeRelease(), roleItem!)).toEqual([STARTER]);
    expect(responsibleFor(makeRelease(), plainItem!, opsHeldBy('U0QA'))).toEqual([STARTER]);
  });
});

describe('requiredItemsOf', () => {
  const holders: RoleHolders = (role) => (role === 'qa' ? new Set(['U0QA']) : undefined);
  const release = makeRelease({
    template: makeTemplate({
      phases: [
        {
          id: 'prepare',
          name: 'Prepare',
          items: [item('a'), item('b', { role: 'qa' }), item('c'), item('d', { required: false })],
        },
      ],
    }),
    owners: { a: 'U0BOB' },
  });

  it('gives the starter neither the owned item nor the role item held by someone', () => {
    expect(requiredItemsOf(release, 0, STARTER, holders).map((entry) => entry.id)).toEqual(['c']);
    expect(requiredItemsOf(release, 0, 'U0QA', holders).map((entry) => entry.id)).toEqual(['b']);
    expect(requiredItemsOf(release, 0, 'U0BOB', holders).map((entry) => entry.id)).toEqual(['a']);
  });

  it('keeps done items, and agrees with the grouping on the open ones for everyone', () => {
    const partly = tick(release, ['b']);
    expect(requiredItemsOf(partly, 0, 'U0QA', holders).map((entry) => entry.id)).toEqual(['b']);
    const grouped = groupOpenItemsByOwner(partly, 0, holders);
    for (const person of [STARTER, 'U0QA', 'U0BOB']) {
      const open = requiredItemsOf(partly, 0, person, holders).filter(
        (entry) => !partly.items[entry.id]?.done,
      );
      expect(open, person).toEqual(grouped.get(person) ?? []);
    }
  });
});

describe('snoozedUntil', () => {
  it('is the end of that person’s snooze for that phase, else 0', () => {
    const release = makeRelease({ snoozes: { '0:U0BOB': T0 + HOUR } });
    expect(snoozedUntil(release, 0, 'U0BOB')).toBe(T0 + HOUR);
    expect(snoozedUntil(release, 1, 'U0BOB')).toBe(0);
    expect(snoozedUntil(release, 0, STARTER)).toBe(0);
  });
});
