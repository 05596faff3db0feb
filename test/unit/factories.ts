import type { AuditEvent, AuditEventType } from '../../src/domain/audit.js';
import type { GateOverride, Release } from '../../src/domain/release.js';
import type { Template, TemplateItem, TemplatePhase } from '../../src/domain/template.js';

// Small builders shared by the unit tests. Times are fixed so that renders (and snapshots) are stable.

/** 2026-03-02 09:30:00 UTC */
export const T0 = Date.UTC(2026, 2, 2, 9, 30, 0);
export const MINUTE = 60_000;

export const STARTER = 'U0STARTER';
export const TICKER = 'U0TICKER';
export const OVERRIDER = 'U0OVERRIDE';

/** The text that must never reach Slack unescaped when it comes from a user. */
export const HOSTILE_TEXT = '<!channel> <@U1> <https://evil|x> & more';
export const HOSTILE_MARKUP = ['<!channel>', '<@U1>', '<https://evil'] as const;

export function item(id: string, overrides: Partial<TemplateItem> = {}): TemplateItem {
  return { id, text: `Item ${id}`, required: true, ...overrides };
}

/**
 * The tiny template most rule tests use:
 *   0 Prepare   p0-a, p0-b required; p0-opt optional
 *   1 Notes     p1-opt optional only
 *   2 Deploy    p2-a, p2-b required; p2-opt optional
 *   3 Verify    p3-a required
 */
export function makeTemplate(overrides: Partial<Template> = {}): Template {
  return {
    id: 'tiny',
    name: 'Tiny release',
    phases: [
      {
        id: 'prepare',
        name: 'Prepare',
        due: 'T-1d',
        items: [
          item('p0-a', { role: 'ops' }),
          item('p0-b'),
          item('p0-opt', { required: false, help: 'Only when it applies.' }),
        ],
      },
      { id: 'notes', name: 'Notes', items: [item('p1-opt', { required: false })] },
      {
        id: 'deploy',
        name: 'Deploy',
        due: 'T-0',
        items: [item('p2-a'), item('p2-b', { group: 'Rollout' }), item('p2-opt', { required: false })],
      },
      { id: 'verify', name: 'Verify', due: 'T+15m', items: [item('p3-a')] },
    ],
    ...overrides,
  };
}

export const PHASE = { prepare: 0, notes: 1, deploy: 2, verify: 3 } as const;

export const REQUIRED_ITEMS: Record<number, string[]> = {
  0: ['p0-a', 'p0-b'],
  1: [],
  2: ['p2-a', 'p2-b'],
  3: ['p3-a'],
};

/** A template with one very large phase (100 items, in groups) followed by a small one. */
export function makeBigTemplate(itemCount = 100, groupSize = 7): Template {
  const items: TemplateItem[] = Array.from({ length: itemCount }, (_unused, index) => {
    const number = String(index + 1).padStart(3, '0');
    return item(`big-${number}`, {
      text: `Big item ${number}: ${'check the thing carefully '.repeat(8).trim()}`,
      group: `Group ${Math.floor(index / groupSize) + 1}`,
      required: index % 5 !== 4,
      role: index % 3 === 0 ? 'ops' : undefined,
    });
  });
  const phases: TemplatePhase[] = [
    { id: 'huge', name: 'Huge phase', due: 'T-1d', items },
    { id: 'after', name: 'After', items: [item('after-a')] },
  ];
  return { id: 'big', name: 'Big release', phases };
}

export function makeRelease(overrides: Partial<Release> = {}): Release {
  return {
    id: 'r42',
    teamId: 'T0TEAM',
    channelId: 'C0DEPLOYS',
    version: 'v2.3.0',
    env: 'staging',
    template: makeTemplate(),
    startedBy: STARTER,
    startedAt: T0,
    status: 'active',
    items: {},
    overrides: [],
    owners: {},
    stakeholderChannels: [],
    snoozes: {},
    checkins: [],
    issues: [],
    rev: 1,
    ...overrides,
  };
}

/** A copy of the release with the items set to done (by TICKER, at fixed times unless `at` is given). */
export function tick(release: Release, itemIds: string[], at = T0 + 10 * MINUTE, by = TICKER): Release {
  const items = { ...release.items };
  for (const [offset, itemId] of itemIds.entries())
    items[itemId] = { done: true, by, at: at + offset * 1000 };
  return { ...release, items, rev: release.rev + itemIds.length };
}

export function untick(release: Release, itemIds: string[], at = T0 + 20 * MINUTE, by = TICKER): Release {
  const items = { ...release.items };
  for (const itemId of itemIds) items[itemId] = { done: false, by, at };
  return { ...release, items, rev: release.rev + itemIds.length };
}

/** Ticks every required item of the given phases. */
export function tickPhases(release: Release, phaseIndexes: number[], at?: number): Release {
  const ids = phaseIndexes.flatMap((index) =>
    (release.template.phases[index]?.items ?? []).filter((it) => it.required).map((it) => it.id),
  );
  return tick(release, ids, at);
}

export function tickEverything(release: Release, at?: number): Release {
  return tick(
    release,
    release.template.phases.flatMap((phase) => phase.items.map((it) => it.id)),
    at,
  );
}

export function override(release: Release, phaseIndex: number, extra: Partial<GateOverride> = {}): Release {
  const entry: GateOverride = {
    phaseIndex,
    by: OVERRIDER,
    at: T0 + 30 * MINUTE,
    reason: 'Vendor outage; verified manually',
    ...extra,
  };
  return { ...release, overrides: [...release.overrides, entry], rev: release.rev + 1 };
}

export function complete(release: Release, at = T0 + 60 * MINUTE): Release {
  return { ...release, status: 'completed', finishedAt: at, finishedBy: TICKER };
}

export function cancel(release: Release, reason: string, at = T0 + 45 * MINUTE): Release {
  return { ...release, status: 'cancelled', finishedAt: at, finishedBy: STARTER, cancelReason: reason };
}

export function makeAuditEvent(
  type: AuditEventType,
  index: number,
  extra: Partial<AuditEvent> = {},
): AuditEvent {
  return {
    id: `${T0 + index}-0`,
    type,
    user: index % 2 === 0 ? TICKER : STARTER,
    at: T0 + index * 1000,
    from: 'open',
    to: 'done',
    ...extra,
  };
}
