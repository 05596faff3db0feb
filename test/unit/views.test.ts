import path from 'node:path';
import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { loadTemplates } from '../../src/config/checklists.js';
import type { AuditEvent, AuditEventType } from '../../src/domain/audit.js';
import { MAX_REASON_LENGTH } from '../../src/domain/commands.js';
import { peopleNamedIn, type ReleasePeople } from '../../src/domain/people.js';
import { findBlockingPhase, type Release, type ReleaseIssue } from '../../src/domain/release.js';
import type { Template } from '../../src/domain/template.js';
import {
  renderAudit,
  renderGateOverrideModal,
  renderHelp,
  renderReleaseList,
  renderStatus,
} from '../../src/views/command-replies.js';
import {
  decodeGateOverrideMetadata,
  decodeItemActionId,
  decodeReleaseAction,
  ITEM_DONE_OPTION_VALUE,
  ReleaseRoute,
} from '../../src/views/ids.js';
import { BlockKitLimits } from '../../src/views/limits.js';
import {
  type DesiredMessage,
  phaseMessageKey,
  planReleaseMessages,
  type RenderedMessage,
  renderHeader,
  renderPhaseParts,
} from '../../src/views/release-messages.js';
import { blockKitViolations, SLACK_LIMITS, type Surface } from './block-kit-limits.js';
import {
  cancel,
  complete,
  HOSTILE_MARKUP,
  HOSTILE_TEXT,
  item,
  MINUTE,
  makeAuditEvent,
  makeBigTemplate,
  makeRelease,
  makeTemplate,
  OVERRIDER,
  override,
  PHASE,
  STARTER,
  T0,
  TICKER,
  tick,
  tickEverything,
  tickPhases,
  untick,
} from './factories.js';

const templates = await loadTemplates(path.resolve('checklists'));
const standard = templates.get('standard');
if (!standard) throw new Error('the standard template is missing');

const PERMALINK = 'https://acme.slack.com/archives/C0DEPLOYS/p1772443800000100';

// ---------------------------------------------------------------------------------------------------------
// Releases in every state worth rendering.

function requiredIds(template: Template, phaseIndex: number, count = Infinity): string[] {
  return (template.phases[phaseIndex]?.items ?? [])
    .filter((it) => it.required)
    .slice(0, count)
    .map((it) => it.id);
}

/**
 * A template whose item texts, help and groups are hostile, and its name too. With `phaseNames`, the
 * phase names are hostile as well.
 */
function makeHostileTemplate({ phaseNames = false } = {}): Template {
  return makeTemplate({
    name: `Tiny ${HOSTILE_TEXT}`,
    phases: makeTemplate().phases.map((phase) => ({
      ...phase,
      name: phaseNames ? `${phase.name} ${HOSTILE_TEXT}`.slice(0, 60) : phase.name,
      items: phase.items.map((it) => ({
        ...it,
        text: `${it.text} ${HOSTILE_TEXT}`,
        help: `Help ${HOSTILE_TEXT}`,
        group: `Group ${HOSTILE_TEXT}`,
      })),
    })),
  });
}

/** Twenty-nine overrides, each with the longest reason the modal allows. */
function manyOverrides(release: Release): Release {
  let result = release;
  for (let phaseIndex = 1; phaseIndex < release.template.phases.length; phaseIndex++) {
    result = override(result, phaseIndex, { reason: `${HOSTILE_TEXT} `.repeat(20).slice(0, 500) });
  }
  return result;
}

/** Thirty phases with names of the longest length templates allow. */
function makeWidestTemplate(): Template {
  return makeTemplate({
    id: 'widest',
    name: 'W'.repeat(60),
    phases: Array.from({ length: 30 }, (_unused, index) => ({
      id: `phase-${index}`,
      name: `${index + 1} ${'N'.repeat(60)}`.slice(0, 60),
      due: 'T-0',
      items: [item(`w${index}-a`, { text: 'T'.repeat(300), help: 'H'.repeat(500), role: 'release_manager' })],
    })),
  });
}

/** Deployed, in its monitoring window, with the given issues (id 1, 2, … in order). */
function withIssues(release: Release, issues: Partial<ReleaseIssue>[]): Release {
  return {
    ...release,
    deployment: { at: T0 + 120 * MINUTE, by: TICKER },
    monitoring: { state: 'open' },
    checkins: [
      { index: 0, dueAt: T0 + 180 * MINUTE, postedAt: T0 + 180 * MINUTE },
      { index: 1, dueAt: T0 + 240 * MINUTE },
    ],
    issues: issues.map((issue, index) => ({
      id: index + 1,
      foundBy: TICKER,
      foundAt: T0 + (200 + index) * MINUTE,
      what: 'Checkout is slow',
      severity: 'major',
      ...issue,
    })),
  };
}

/** Started inside the production freeze, overridden by its starter. */
function freezeOverridden(
  release: Release,
  reason: string,
  window = 'production: Fri 15:00 - Mon 08:00 Europe/Berlin',
): Release {
  return { ...release, freezeOverride: { reason, window, endsAt: T0 + 600 * MINUTE } };
}

function rollBack(release: Release, reason: string, at = T0 + 300 * MINUTE): Release {
  return { ...release, status: 'rolled_back', finishedAt: at, finishedBy: OVERRIDER, cancelReason: reason };
}

const base = makeRelease({ template: standard, version: '2026.11.1', env: 'production' });
const midway = tick(tickPhases(base, [0]), requiredIds(standard, 1, 5).concat(['scheduled-backups']));
const LONGEST_HOSTILE_REASON = '<&>'.repeat(MAX_REASON_LENGTH).slice(0, MAX_REASON_LENGTH);

const RELEASES: Record<string, Release> = {
  'standard, fresh': base,
  'standard, mid-way with ticks': midway,
  'standard, a later item ticked while locked': tick(midway, requiredIds(standard, 5, 3)),
  'standard, overridden with a hostile reason': override(midway, 4, { reason: HOSTILE_TEXT }),
  'standard, every gate overridden with long reasons': manyOverrides(base),
  'standard, completed': complete(tickEverything(base)),
  'standard, completed past an override': complete(tickPhases(override(midway, 9), [9, 10])),
  'standard, freeze overridden with a hostile reason': freezeOverridden(midway, HOSTILE_TEXT),
  'standard, freeze overridden with the longest hostile reason and window, every gate overridden':
    freezeOverridden(manyOverrides(base), LONGEST_HOSTILE_REASON, HOSTILE_TEXT.repeat(20)),
  'standard, cancelled with a hostile reason': cancel(midway, HOSTILE_TEXT),
  'standard, cancelled with the longest hostile reason': cancel(midway, LONGEST_HOSTILE_REASON),
  'standard, cancelled without a reason or who': { ...midway, status: 'cancelled' },
  'tiny, hostile texts, mid-way': tick(tickPhases(makeRelease({ template: makeHostileTemplate() }), [0]), [
    'p2-a',
  ]),
  'tiny, hostile texts, cancelled': cancel(
    tickPhases(makeRelease({ template: makeHostileTemplate() }), [0]),
    HOSTILE_TEXT,
  ),
  'standard, deployed with hostile issues, open and resolved': withIssues(midway, [
    { what: HOSTILE_TEXT },
    {
      what: LONGEST_HOSTILE_REASON,
      severity: 'critical',
      resolvedBy: STARTER,
      resolvedAt: T0 + 230 * MINUTE,
      resolution: HOSTILE_TEXT,
    },
    { what: LONGEST_HOSTILE_REASON, severity: 'minor' },
  ]),
  'standard, thirty issues with the longest hostile texts, every gate overridden': withIssues(
    manyOverrides(base),
    Array.from({ length: 30 }, (_unused, index) => ({
      what: LONGEST_HOSTILE_REASON,
      ...(index % 2 === 0 ? { resolvedBy: STARTER, resolvedAt: T0, resolution: LONGEST_HOSTILE_REASON } : {}),
    })),
  ),
  'standard, rolled back with a hostile reason': rollBack(
    withIssues(midway, [{ what: HOSTILE_TEXT }]),
    HOSTILE_TEXT,
  ),
  'standard, rolled back with the longest hostile reason': rollBack(midway, LONGEST_HOSTILE_REASON),
  'tiny, hostile texts, owners assigned': {
    ...tickPhases(makeRelease({ template: makeHostileTemplate() }), [0]),
    owners: { 'p0-a': TICKER, 'p2-a': OVERRIDER, 'p2-opt': 'not-a-user <!here>' },
  },
  'big, fresh': makeRelease({ template: makeBigTemplate() }),
  'big, mid-way': tick(makeRelease({ template: makeBigTemplate() }), ['big-001', 'big-002', 'big-050']),
  'big, cancelled': cancel(makeRelease({ template: makeBigTemplate() }), HOSTILE_TEXT),
  'widest, fresh': makeRelease({ template: makeWidestTemplate(), version: 'v'.repeat(64) }),
  'widest, overridden everywhere': manyOverrides(makeRelease({ template: makeWidestTemplate() })),
};

/** Every key a release's messages could be stored under, so that every phase is planned. */
function allKeys(release: Release): Set<string> {
  return new Set(
    release.template.phases.flatMap((_phase, phaseIndex) =>
      renderPhaseParts(release, phaseIndex).map((_part, partIndex) => phaseMessageKey(phaseIndex, partIndex)),
    ),
  );
}

const AUDIT_TYPES: AuditEventType[] = [
  'ticked',
  'unticked',
  'gate_overridden',
  'ticked',
  'cancelled',
  'completed',
];

function makeAuditTrail(
  release: Release,
  count: number,
  reason = `${HOSTILE_TEXT} `.repeat(12),
): AuditEvent[] {
  const itemIds = release.template.phases.flatMap((phase) => phase.items.map((it) => it.id));
  return Array.from({ length: count }, (_unused, index) => {
    if (index === 0)
      return makeAuditEvent('started', 0, {
        from: 'none',
        to: 'active',
        version: release.version,
        env: release.env,
        templateId: release.template.id,
      });
    const type = AUDIT_TYPES[index % AUDIT_TYPES.length]!;
    return makeAuditEvent(type, index, {
      itemId: itemIds[index % itemIds.length],
      phaseIndex: index % release.template.phases.length,
      blockingPhaseIndex: 0,
      reason: type === 'gate_overridden' || type === 'cancelled' ? reason : undefined,
    });
  });
}

function lockedPhases(release: Release): number[] {
  return release.template.phases
    .map((_phase, index) => index)
    .filter((index) => findBlockingPhase(release, index) !== undefined);
}

/** A name of the longest kind, full of markup, for everyone the events name. */
function hostilePeople(events: AuditEvent[]): ReleasePeople {
  const name = `${HOSTILE_TEXT} `.repeat(5).slice(0, 120);
  return new Map(peopleNamedIn(events).map((userId) => [userId, { name, realName: name, at: T0 }]));
}

/** Every message and modal the views produce for a release. */
function renderEverything(release: Release): [string, Surface][] {
  const surfaces: [string, Surface][] = [
    ['renderHeader', renderHeader(release)],
    ['renderStatus with a permalink', renderStatus(release, PERMALINK)],
    ['renderStatus without a permalink', renderStatus(release, undefined)],
    ['renderAudit of 500 events', renderAudit(release, makeAuditTrail(release, 500))],
    ['renderAudit of 3 events', renderAudit(release, makeAuditTrail(release, 3))],
    [
      'renderAudit of 500 events with the longest hostile reasons',
      renderAudit(release, makeAuditTrail(release, 500, LONGEST_HOSTILE_REASON)),
    ],
    [
      'renderAudit of 500 events with the longest hostile names',
      renderAudit(release, makeAuditTrail(release, 500), hostilePeople(makeAuditTrail(release, 500))),
    ],
    [
      'renderGateOverrideModal of every phase',
      renderGateOverrideModal(
        release,
        release.template.phases.map((_phase, index) => index),
      ),
    ],
  ];
  const locked = lockedPhases(release);
  if (locked.length > 0)
    surfaces.push(['renderGateOverrideModal of the locked phases', renderGateOverrideModal(release, locked)]);
  release.template.phases.forEach((_phase, phaseIndex) => {
    renderPhaseParts(release, phaseIndex).forEach((part, partIndex) => {
      surfaces.push([`renderPhaseParts phase ${phaseIndex} part ${partIndex}`, part]);
    });
  });
  for (const message of planReleaseMessages(release, allKeys(release), { 2: 3 })) {
    surfaces.push([`planReleaseMessages ${message.key}`, message]);
  }
  return surfaces;
}

const ALL_RELEASES = Object.values(RELEASES);
const LIST_SURFACES: [string, Surface][] = [
  ['renderHelp', renderHelp()],
  ['renderHelp of an unknown subcommand', renderHelp(HOSTILE_TEXT)],
  ['renderReleaseList, empty', renderReleaseList([], [], new Map())],
  [
    'renderReleaseList of every release',
    renderReleaseList(
      ALL_RELEASES.filter((release) => release.status === 'active'),
      ALL_RELEASES,
      new Map([[base.id, PERMALINK]]),
    ),
  ],
  [
    'renderReleaseList of 60 releases',
    renderReleaseList(
      Array.from({ length: 60 }, (_unused, index) => ({ ...midway, id: `r${index}`, version: `v${index}` })),
      Array.from({ length: 60 }, (_unused, index) => cancel({ ...midway, id: `r${100 + index}` }, 'x')),
      new Map(Array.from({ length: 200 }, (_unused, index) => [`r${index}`, `${PERMALINK}${index}`])),
    ),
  ],
];

const SURFACES: [string, Surface][] = [
  ...Object.entries(RELEASES).flatMap(([name, release]) =>
    renderEverything(release).map(([what, surface]): [string, Surface] => [`${name}: ${what}`, surface]),
  ),
  ...LIST_SURFACES,
];

// ---------------------------------------------------------------------------------------------------------

function itemBlocks(message: RenderedMessage | DesiredMessage): KnownBlock[] {
  return message.blocks.filter((block) => block.block_id?.startsWith('item:'));
}

function itemBlock(message: RenderedMessage | DesiredMessage, itemId: string): KnownBlock {
  const found = message.blocks.find(
    (block) => block.block_id === `item:${itemId}` || block.block_id?.startsWith(`item:${itemId}:`),
  );
  if (!found) throw new Error(`no block for item ${itemId}`);
  return found;
}

function checkboxCount(surface: unknown): number {
  return (JSON.stringify(surface).match(/"type":"checkboxes"/g) ?? []).length;
}

/** Every string in the JSON that Slack reads as mrkdwn: everything except plain_text objects. */
function markupStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(markupStrings);
  if (typeof value !== 'object' || value === null) return [];
  if ((value as { type?: unknown }).type === 'plain_text') return [];
  return Object.values(value).flatMap(markupStrings);
}

function plannedMessage(messages: DesiredMessage[], key: string): DesiredMessage {
  const message = messages.find((candidate) => candidate.key === key);
  if (!message) throw new Error(`no message ${key} in ${messages.map((m) => m.key).join(', ')}`);
  return message;
}

// ---------------------------------------------------------------------------------------------------------

describe("every rendered message respects Slack's limits", () => {
  it('renders a good number of surfaces', () => {
    expect(SURFACES.length).toBeGreaterThan(200);
  });

  it.each(SURFACES)('%s', (_name, surface) => {
    expect(blockKitViolations(surface)).toEqual([]);
  });
});

describe('the limits checker', () => {
  it('agrees with the limits the views are built to (src/views/limits.ts)', () => {
    expect(BlockKitLimits).toMatchObject({
      blocksPerMessage: SLACK_LIMITS.blocksPerMessage,
      blocksPerModal: SLACK_LIMITS.blocksPerModal,
      sectionText: SLACK_LIMITS.sectionText,
      headerText: SLACK_LIMITS.headerText,
      contextElements: SLACK_LIMITS.contextElements,
      checkboxOptions: SLACK_LIMITS.checkboxOptions,
      optionText: SLACK_LIMITS.optionText,
      optionValue: SLACK_LIMITS.optionValue,
      buttonText: SLACK_LIMITS.buttonText,
      buttonValue: SLACK_LIMITS.buttonValue,
      blockId: SLACK_LIMITS.blockId,
      actionId: SLACK_LIMITS.actionId,
      modalTitle: SLACK_LIMITS.modalTitle,
      privateMetadata: SLACK_LIMITS.privateMetadata,
      fallbackText: SLACK_LIMITS.fallbackText,
    });
  });

  it('finds the violations it is meant to find', () => {
    const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    const violations = blockKitViolations({
      text: '',
      blocks: [
        ...tooMany,
        { type: 'section', block_id: 'x', text: { type: 'mrkdwn', text: 'a'.repeat(3001) } },
        {
          type: 'section',
          block_id: 'x',
          fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })),
        },
        { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: 'ok' },
          accessory: {
            type: 'checkboxes',
            action_id: 'a'.repeat(256),
            options: Array.from({ length: 11 }, (_u, index) => ({
              text: { type: 'mrkdwn', text: 'o'.repeat(76) },
              value: `${index}${'v'.repeat(150)}`,
            })),
          },
        },
      ],
    });

    expect(violations).toEqual(
      expect.arrayContaining([
        'blocks: 55 > 50',
        'text: empty',
        'blocks[51].text: text of 3001 > 3000',
        'blocks[52].block_id: "x" is not unique',
        'blocks[52].fields: 11 > 10',
        'blocks[53].text: text of 151 > 150',
        'blocks[54].accessory.action_id: 256 > 255',
        'blocks[54].accessory.options: 11 > 10',
        'blocks[54].accessory.options[0].text: text of 76 > 75',
        'blocks[54].accessory.options[0].value: 151 > 150',
      ]),
    );
  });

  it('checks modal titles, buttons and metadata', () => {
    const violations = blockKitViolations({
      type: 'modal',
      title: { type: 'plain_text', text: 't'.repeat(25) },
      submit: { type: 'plain_text', text: 's'.repeat(25) },
      close: { type: 'plain_text', text: 'c'.repeat(25) },
      private_metadata: 'm'.repeat(3001),
      blocks: [],
    });

    expect(violations).toEqual([
      'title: text of 25 > 24',
      'submit: text of 25 > 24',
      'close: text of 25 > 24',
      'private_metadata: 3001 > 3000',
      'blocks: 0 < 1',
    ]);
  });
});

describe('a phase with 100 items', () => {
  const release = tick(makeRelease({ template: makeBigTemplate() }), ['big-001', 'big-099']);
  const itemIds = release.template.phases[0]!.items.map((it) => it.id);

  it('re-renders only the part that holds a ticked item, while the phase stays open', () => {
    const before = renderPhaseParts(release, 0);
    const lastItem = itemIds.at(-2)!;
    const after = renderPhaseParts(tick(release, [lastItem]), 0);

    const changed = after.map((part, index) => JSON.stringify(part) !== JSON.stringify(before[index]));
    expect(changed.filter(Boolean)).toHaveLength(1);
    expect(changed.at(-1)).toBe(true);
  });

  it.each([
    ['clickable', release],
    ['read-only', cancel(release, 'stopped')],
  ])('splits, %s, into parts that together hold every item exactly once', (_name, subject) => {
    const parts = renderPhaseParts(subject, 0);
    expect(parts.length).toBeGreaterThan(1);

    const ids = parts.flatMap((part) => itemBlocks(part).map((block) => block.block_id));
    expect(ids).toEqual(itemIds.map((id) => `item:${id}`));
    const json = JSON.stringify(parts);
    for (const it of release.template.phases[0]!.items) {
      expect(json.split(`${it.text.slice(0, 12)}:`).length - 1, it.id).toBe(1);
    }
  });

  it('labels each part and repeats the group heading at the top of a part', () => {
    const parts = renderPhaseParts(release, 0);

    parts.forEach((part, index) => {
      expect(part.text).toContain(`(part ${index + 1} of ${parts.length})`);
      const [header, context, divider, first] = part.blocks;
      expect(header).toMatchObject({ type: 'header', text: { text: expect.stringContaining('Huge phase') } });
      expect(context?.type).toBe('context');
      expect(divider?.type).toBe('divider');
      expect(first).toMatchObject({
        type: 'section',
        text: { text: expect.stringMatching(/^\*Group \d+\*$/) },
      });
    });
  });

  it('plans one message per part, with its own key', () => {
    const keys = planReleaseMessages(release, new Set(), {}).map((message) => message.key);

    expect(keys).toEqual([
      'header',
      ...renderPhaseParts(release, 0).map((_part, index) => `phase:0:${index}`),
    ]);
  });
});

describe('checkboxes', () => {
  it('are on every item of an unlocked phase of an active release', () => {
    const release = tickPhases(makeRelease(), [0]);
    const [deploy] = renderPhaseParts(release, PHASE.deploy);

    expect(checkboxCount(deploy)).toBe(3);
    const accessory = (itemBlock(deploy!, 'p2-a') as { accessory?: { action_id: string } }).accessory;
    expect(decodeItemActionId(accessory?.action_id)).toEqual({ releaseId: 'r42', itemId: 'p2-a' });
  });

  it('are on no item of a locked phase; ticked items there show a tick instead', () => {
    const release = tick(makeRelease(), ['p3-a']);
    const [verify] = renderPhaseParts(release, PHASE.verify);

    expect(checkboxCount(verify)).toBe(0);
    expect(JSON.stringify(itemBlock(verify!, 'p3-a'))).toContain('✅ Item p3-a');
    expect(verify!.blocks[1]).toMatchObject({
      type: 'context',
      elements: [{ text: expect.stringContaining('🔒 Locked until *Prepare* is done') }],
    });
  });

  it.each(Object.entries(RELEASES).filter(([, release]) => release.status !== 'active'))(
    'are nowhere in the messages of a closed release: %s',
    (_name, release) => {
      const messages = planReleaseMessages(release, allKeys(release), {});

      expect(messages.length).toBe(1 + allKeys(release).size);
      expect(checkboxCount(messages)).toBe(0);
      expect(JSON.stringify(renderHeader(release))).not.toContain('"type":"actions"');
      for (const message of messages.slice(1)) {
        expect(JSON.stringify(message.blocks[1])).toContain('read-only');
      }
    },
  );

  it('show who ticked an item and when, and start ticked', () => {
    const at = T0 + 17 * MINUTE;
    const release = tick(tickPhases(makeRelease(), [0]), ['p2-b'], at);
    const block = itemBlock(renderPhaseParts(release, PHASE.deploy)[0]!, 'p2-b') as {
      text?: { text: string };
      accessory?: { options: unknown[]; initial_options?: unknown[] };
    };

    expect(block.text?.text).toContain(`<@${TICKER}>`);
    expect(block.text?.text).toContain(`<!date^${Math.floor(at / 1000)}^`);
    expect(block.accessory?.initial_options).toEqual(block.accessory?.options);
    expect(block.accessory?.options).toEqual([
      { text: { type: 'mrkdwn', text: 'Done' }, value: ITEM_DONE_OPTION_VALUE },
    ]);
  });

  it('start unticked, with no name or time, for an open item or one that was unticked', () => {
    const release = untick(tick(tickPhases(makeRelease(), [0]), ['p2-b']), ['p2-b']);
    const [deploy] = renderPhaseParts(release, PHASE.deploy);

    for (const itemId of ['p2-a', 'p2-b']) {
      const block = itemBlock(deploy!, itemId) as { text?: { text: string }; accessory?: object };
      expect(block.accessory).not.toHaveProperty('initial_options');
      expect(block.text?.text).not.toMatch(/<@|<!date/);
    }
  });
});

describe('item block ids (fingerprints)', () => {
  const release = tick(tickPhases(makeRelease(), [0]), ['p2-a']);
  const plan = (subject: Release, nonces: Record<number, number> = {}) =>
    planReleaseMessages(subject, new Set(), nonces);
  const deployIds = (messages: DesiredMessage[]) =>
    itemBlocks(plannedMessage(messages, 'phase:2:0')).map((block) => block.block_id);

  it('are "item:<id>:<fingerprint of the message>"', () => {
    const message = plannedMessage(plan(release), 'phase:2:0');

    expect(deployIds(plan(release))).toEqual(
      ['p2-a', 'p2-b', 'p2-opt'].map((id) => `item:${id}:${message.hash}`),
    );
  });

  it('stay the same when nothing changed', () => {
    expect(deployIds(plan(release))).toEqual(deployIds(plan(structuredClone(release))));
    expect(plannedMessage(plan(release), 'phase:2:0').hash).toBe(
      plannedMessage(plan({ ...release, rev: 99 }), 'phase:2:0').hash,
    );
  });

  it("stay the same when only another phase's items change", () => {
    expect(deployIds(plan(tick(release, ['p0-opt', 'p3-a'])))).toEqual(deployIds(plan(release)));
  });

  it('change when the item is ticked or unticked', () => {
    const ticked = tick(release, ['p2-b']);
    const unticked = untick(release, ['p2-a']);

    expect(deployIds(plan(ticked))[1]).not.toBe(deployIds(plan(release))[1]);
    expect(deployIds(plan(unticked))[0]).not.toBe(deployIds(plan(release))[0]);
    expect(deployIds(plan(untick(ticked, ['p2-b'])))).toEqual(deployIds(plan(release)));
  });

  it('change when the phase nonce changes, and only in that phase', () => {
    const before = plan(release, { 2: 1 });
    const after = plan(release, { 2: 2 });

    expect(deployIds(after)).not.toEqual(deployIds(before));
    expect(deployIds(after).every((id, index) => id !== deployIds(before)[index])).toBe(true);
    expect(plannedMessage(after, 'phase:0:0')).toEqual(plannedMessage(before, 'phase:0:0'));
    expect(plannedMessage(after, 'header')).toEqual(plannedMessage(before, 'header'));
  });

  it('are unique within each message', () => {
    for (const message of plan(makeRelease({ template: standard }))) {
      const ids = message.blocks.map((block) => block.block_id).filter(Boolean);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });
});

describe('user text is escaped', () => {
  const hostileRelease = RELEASES['tiny, hostile texts, mid-way']!;
  const hostileSurfaces = SURFACES.filter(([name]) =>
    /hostile|renderHelp|every release|overridden|cancelled/.test(name),
  );

  it('has hostile surfaces to search', () => {
    expect(hostileSurfaces.length).toBeGreaterThan(50);
    expect(JSON.stringify(hostileSurfaces)).toContain('&lt;!channel&gt;');
  });

  it.each(hostileSurfaces)('no ping, mention or link made of user text survives in %s', (_name, surface) => {
    for (const text of markupStrings(surface)) {
      for (const markup of HOSTILE_MARKUP) expect(text).not.toContain(markup);
    }
  });

  it('shows the cancel reason escaped, in the header and the status reply', () => {
    const release = RELEASES['standard, cancelled with a hostile reason']!;
    const escaped = '&lt;!channel&gt; &lt;@U1&gt; &lt;https://evil|x&gt; &amp; more';

    expect(JSON.stringify(renderHeader(release).blocks)).toContain(escaped);
    expect(renderStatus(release, undefined).text).toContain(escaped);
  });

  it('shows item text, help and group escaped in the phase message', () => {
    const json = JSON.stringify(renderPhaseParts(hostileRelease, PHASE.deploy));

    expect(json).toContain('Item p2-a &lt;!channel&gt;');
    expect(json).toContain('Help &lt;!channel&gt;');
    expect(json).toContain('*Group &lt;!channel&gt;');
  });

  it('escapes the version and the phase name in the fallback text (Slack reads it as mrkdwn)', () => {
    const release = makeRelease({
      template: makeHostileTemplate({ phaseNames: true }),
      version: '<!channel>',
      env: 'staging',
    });
    const fallbacks = [
      ...planReleaseMessages(release, allKeys(release), {}).map((message) => message.text),
      renderStatus(release, PERMALINK).text,
      renderReleaseList([release], [cancel(release, 'x')], new Map()).text,
      renderAudit(release, makeAuditTrail(release, 5)).text,
      renderAudit(release, makeAuditTrail(release, 5), hostilePeople(makeAuditTrail(release, 5))).text,
    ];

    for (const text of fallbacks) {
      for (const markup of HOSTILE_MARKUP) expect(text).not.toContain(markup);
    }
  });
});

describe('renderAudit with the names of the time', () => {
  const release = makeRelease({ version: 'v1.0', env: 'staging' });
  const trail = makeAuditTrail(release, 3);
  const [first] = peopleNamedIn(trail);

  it('keeps the mentions, and names each recorded person in a closing line and the fallback, escaped', () => {
    const people: ReleasePeople = new Map([[first!, { name: 'Bob <!here> & *Co*', at: T0 }]]);
    const reply = renderAudit(release, trail, people);
    const blocks = JSON.stringify(reply.blocks);
    expect(blocks).toContain(`<@${first}>`);
    expect(blocks).toContain(`Names at the time: Bob &lt;!here&gt; &amp; *Co* (${first})`);
    expect(reply.text).toContain(`people: Bob &lt;!here&gt; &amp; *Co* (${first})`);
    expect(reply.text).not.toContain('<!here>');
  });

  it('adds nothing when the release recorded no names', () => {
    const reply = renderAudit(release, trail, new Map());
    expect(reply).toEqual(renderAudit(release, trail));
    expect(JSON.stringify(reply.blocks)).not.toContain('Names at the time');
  });
});

describe('planReleaseMessages', () => {
  const keys = (release: Release, posted: string[] = []) =>
    planReleaseMessages(release, new Set(posted), {}).map((message) => message.key);

  it('given a fresh release, plans the header first, then only the first phase', () => {
    expect(keys(makeRelease())).toEqual(['header', 'phase:0:0']);
  });

  it('given the first phase done, adds the phases it unlocked, in order, but not the locked one', () => {
    expect(keys(tickPhases(makeRelease(), [0]))).toEqual(['header', 'phase:0:0', 'phase:1:0', 'phase:2:0']);
  });

  it('keeps a phase that was posted and is locked again', () => {
    const relocked = untick(tickPhases(makeRelease(), [0]), ['p0-a']);

    expect(keys(relocked)).toEqual(['header', 'phase:0:0']);
    expect(keys(relocked, ['phase:0:0', 'phase:2:0'])).toEqual(['header', 'phase:0:0', 'phase:2:0']);
  });

  it('adds the phase an override unlocked', () => {
    expect(keys(override(makeRelease(), PHASE.verify))).toEqual(['header', 'phase:0:0', 'phase:3:0']);
  });

  it('given a closed release, plans only the header and the phases already posted', () => {
    const cancelled = cancel(tickPhases(makeRelease(), [0]), 'stop');

    expect(keys(cancelled)).toEqual(['header']);
    expect(keys(cancelled, ['phase:0:0', 'phase:2:0'])).toEqual(['header', 'phase:0:0', 'phase:2:0']);
    expect(keys(complete(tickEverything(makeRelease())), ['phase:3:0'])).toEqual(['header', 'phase:3:0']);
  });

  it('gives every planned message a hash and a fallback text', () => {
    for (const message of planReleaseMessages(midway, allKeys(midway), {})) {
      expect(message.hash).toMatch(/^[0-9a-z]{7}$/);
      expect(message.text.trim()).not.toBe('');
    }
  });
});

describe('renderHeader', () => {
  it('shows the current phase, progress by phases and who started it', () => {
    const release = tick(tickPhases(makeRelease(), [0]), ['p2-a']);
    const json = JSON.stringify(renderHeader(release));

    expect(renderHeader(release).text).toBe('Release v2.3.0 → staging: in progress, 2/4 phases done');
    expect(json).toContain('phase 3 of 4, *Deploy*');
    expect(json).toContain('▰▰▰▰▰▱▱▱▱▱ 2/4 phases done');
    expect(json).toContain(`<@${STARTER}> <!date^${T0 / 1000}^`);
    expect(json).toContain('▶️ 3. Deploy');
    expect(json).toContain('🔒 4. Verify');
  });

  it('stays the same when an item is ticked inside a phase, and changes when the phase is done', () => {
    const before = tick(makeRelease(), ['p0-a']);
    const after = tick(before, ['p0-b']);

    expect(renderHeader(tick(makeRelease(), []))).toEqual(renderHeader(before));
    expect(JSON.stringify(renderHeader(after))).not.toEqual(JSON.stringify(renderHeader(before)));
  });

  it('offers the override button only while a phase is locked in an active release', () => {
    const hasButton = (release: Release) =>
      JSON.stringify(renderHeader(release)).includes('gate.override.open');

    expect(hasButton(makeRelease())).toBe(true);
    expect(hasButton(tickPhases(makeRelease(), [0, 2]))).toBe(false);
    expect(hasButton(cancel(makeRelease(), 'no'))).toBe(false);
  });

  it('names each override and, once completed, how many required items it passed', () => {
    const release = complete(tickPhases(override(makeRelease(), PHASE.verify, { reason: 'ok by CTO' }), [3]));
    const json = JSON.stringify(renderHeader(release));

    expect(json).toContain(`⚠️ *Verify* unlocked early by <@U0OVERRIDE>`);
    expect(json).toContain('_ok by CTO_');
    expect(json).toContain('⚠️ 4 required items were passed by an override');
    expect(renderHeader(release).text).toMatch(/: completed, 1\/4 phases done$/);
    expect(json).toContain('⏭️ 1. Prepare');
    expect(json).toContain('✅ 4. Verify');
  });
});

describe('renderHeader of a release started inside a freeze', () => {
  const FREEZE_LINE = `❄️ Freeze on *production* (\`production: Fri 15:00 - Mon 08:00 Europe/Berlin\`) until <!date^${(T0 + 600 * MINUTE) / 1000}^`;

  it('names the freeze, until when, who overrode it and when, and why, escaped', () => {
    const json = JSON.stringify(renderHeader(freezeOverridden(midway, HOSTILE_TEXT)));

    expect(json).toContain('*Freeze override*');
    expect(json).toContain(FREEZE_LINE);
    expect(json).toContain(`overridden by <@${STARTER}> <!date^${T0 / 1000}^`);
    expect(json).toContain('_&lt;!channel&gt; &lt;@U1&gt; &lt;https://evil|x&gt; &amp; more_');
  });

  it('keeps showing it once the release is closed, next to the gate overrides', () => {
    const release = cancel(override(freezeOverridden(midway, 'hotfix'), 4, { reason: 'ok by CTO' }), 'stop');
    const texts = renderHeader(release).blocks.map((block) => JSON.stringify(block));
    const freezeAt = texts.findIndex((text) => text.includes('*Freeze override*'));

    expect(freezeAt).toBeGreaterThan(0);
    expect(texts[freezeAt]).toContain('_hotfix_');
    expect(texts[freezeAt + 1]).toContain('*Gate overrides*');
  });

  it('has no freeze section for a release started outside a freeze', () => {
    expect(JSON.stringify(renderHeader(midway))).not.toContain('Freeze');
  });
});

describe('renderHeader after the deploy', () => {
  const deployed = withIssues(tickPhases(makeRelease(), [0, 2]), []);
  const fields = (release: Release) =>
    ((renderHeader(release).blocks[1] as { fields: { text: string }[] }).fields ?? []).map(
      (field) => field.text,
    );
  const fieldNamed = (release: Release, name: string) =>
    fields(release).find((text) => text.startsWith(`*${name}*\n`));
  const sectionTexts = (release: Release) =>
    renderHeader(release).blocks.flatMap((block) => {
      const text = (block as { text?: { type: string; text: string } }).text;
      return block.type === 'section' && text ? [text.text] : [];
    });
  const actionButtons = (release: Release) =>
    renderHeader(release)
      .blocks.filter((block) => block.block_id === 'release-actions')
      .flatMap((block) => (block as { elements: { action_id: string; text: { text: string } }[] }).elements);

  it('shows when it was deployed and by whom', () => {
    expect(fieldNamed(deployed, 'Deployed')).toBe(
      `*Deployed*\n<!date^${(T0 + 120 * MINUTE) / 1000}^{date_short_pretty} {time}|2026-03-02 11:30 UTC> by <@${TICKER}>`,
    );
    expect(fieldNamed(makeRelease(), 'Deployed')).toBeUndefined();
    expect(fieldNamed(makeRelease(), 'Monitoring')).toBeUndefined();
  });

  it('shows the check-in waiting for an answer, else the next one, else the window state', () => {
    const waiting = deployed;
    const answeredFirst: Release = {
      ...deployed,
      checkins: [
        { ...deployed.checkins[0]!, answer: { kind: 'healthy', by: TICKER, at: T0 + 190 * MINUTE } },
        deployed.checkins[1]!,
      ],
    };
    const allAnswered: Release = {
      ...answeredFirst,
      checkins: answeredFirst.checkins.map((checkin) => ({
        ...checkin,
        postedAt: checkin.dueAt,
        answer: { kind: 'healthy' as const, by: TICKER, at: checkin.dueAt },
      })),
    };
    const closed: Release = { ...allAnswered, monitoring: { state: 'closed', closedAt: T0 + 300 * MINUTE } };

    expect(fieldNamed(waiting, 'Monitoring')).toBe('*Monitoring*\nCheck-in 1 of 2 waiting for an answer');
    expect(fieldNamed(answeredFirst, 'Monitoring')).toBe(
      `*Monitoring*\nNext check-in <!date^${(T0 + 240 * MINUTE) / 1000}^{date_short_pretty} {time}|2026-03-02 13:30 UTC>`,
    );
    expect(fieldNamed(allAnswered, 'Monitoring')).toBe('*Monitoring*\nOpen');
    expect(fieldNamed(closed, 'Monitoring')).toBe(
      `*Monitoring*\nClosed <!date^${(T0 + 300 * MINUTE) / 1000}^{date_short_pretty} {time}|2026-03-02 14:30 UTC>`,
    );
  });

  it('lists open and resolved issues, escaped, with a resolve button for each open one', () => {
    // Verify is still locked behind Deploy, so the override button stays.
    const release = withIssues(tickPhases(makeRelease(), [0]), [
      { what: HOSTILE_TEXT, severity: 'critical' },
      { resolvedBy: STARTER, resolvedAt: T0 + 230 * MINUTE, resolution: 'Cache <@U1> warmed' },
      { what: 'Logo blurry', severity: 'minor' },
    ]);
    const issues = sectionTexts(release).find((text) => text.startsWith('*Issues*'));

    expect(issues?.split('\n')).toEqual([
      '*Issues*',
      `🚨 #1 (critical) found by <@${TICKER}> <!date^${(T0 + 200 * MINUTE) / 1000}^{date_short_pretty} {time}|2026-03-02 12:50 UTC>: _&lt;!channel&gt; &lt;@U1&gt; &lt;https://evil|x&gt; &amp; more_`,
      `✅ #2 (major) resolved by <@${STARTER}> <!date^${(T0 + 230 * MINUTE) / 1000}^{date_short_pretty} {time}|2026-03-02 13:20 UTC>: _Cache &lt;@U1&gt; warmed_`,
      `🚨 #3 (minor) found by <@${TICKER}> <!date^${(T0 + 202 * MINUTE) / 1000}^{date_short_pretty} {time}|2026-03-02 12:52 UTC>: _Logo blurry_`,
    ]);
    const buttons = actionButtons(release);
    expect(buttons.map((button) => button.text.text)).toEqual([
      'Override a gate…',
      'Resolve #1…',
      'Resolve #3…',
      'Stop: red flag…',
      'Roll back…',
    ]);
    expect(
      buttons.slice(1, 3).map((button) => decodeReleaseAction(ReleaseRoute.resolveIssue, button.action_id)),
    ).toEqual([
      { releaseId: 'r42', index: 1 },
      { releaseId: 'r42', index: 3 },
    ]);
    expect(blockKitViolations(renderHeader(release))).toEqual([]);
  });

  it('creates the actions block with resolve buttons, the red flag and roll back when no gate is locked', () => {
    const release = withIssues(tickEverything(makeRelease()), [{}]);

    expect(actionButtons(release).map((button) => button.text.text)).toEqual([
      'Resolve #1…',
      'Stop: red flag…',
      'Roll back…',
    ]);
  });

  it('keeps the actions block to five buttons and the issues to five sections', () => {
    const release =
      RELEASES['standard, thirty issues with the longest hostile texts, every gate overridden']!;
    const header = renderHeader(release);
    const issueSections = sectionTexts(release).filter((text) => /^(\*Issues\*|🚨|✅)/.test(text));
    const buttons = actionButtons(release).map((button) => button.text.text);

    // Three issues at most: the last two of the five buttons are the red flag and "Roll back…".
    expect(buttons).toEqual(['Resolve #2…', 'Resolve #4…', 'Resolve #6…', 'Stop: red flag…', 'Roll back…']);
    expect(issueSections).toHaveLength(5);
    expect(issueSections.at(-1)).toMatch(/\n…and \d+ more; `\/deploy audit` shows them all$/);
    expect(blockKitViolations(header)).toEqual([]);
  });

  it('offers no resolve button once the release is closed', () => {
    const release = rollBack(withIssues(tickPhases(makeRelease(), [0, 2]), [{}]), 'bad');

    expect(actionButtons(release)).toEqual([]);
    expect(sectionTexts(release).some((text) => text.includes('🚨 #1 (major)'))).toBe(true);
  });
});

describe('renderHeader of a rolled-back release', () => {
  const release = rollBack(tickPhases(override(makeRelease(), PHASE.deploy), [2]), HOSTILE_TEXT);
  const header = renderHeader(release);
  const json = JSON.stringify(header);

  it('says who rolled it back, when and why, escaped', () => {
    expect(json).toContain(
      `↩️ Rolled back by <@${OVERRIDER}> <!date^${(T0 + 300 * MINUTE) / 1000}^{date_short_pretty} {time}|2026-03-02 14:30 UTC>\\n_&lt;!channel&gt; &lt;@U1&gt; &lt;https://evil|x&gt; &amp; more_`,
    );
    for (const markup of HOSTILE_MARKUP) expect(json).not.toContain(markup);
  });

  it('keeps only the start of a long reason', () => {
    const long = renderHeader(rollBack(makeRelease(), 'x'.repeat(1000)));

    expect(JSON.stringify(long)).toContain(`_${'x'.repeat(299)}…_`);
    expect(blockKitViolations(long)).toEqual([]);
  });

  it('marks the phases left undone like a cancelled release, and has no buttons', () => {
    expect(json).toContain('⬜ 1. Prepare');
    expect(json).toContain('✅ 3. Deploy');
    expect(json).not.toContain('"type":"actions"');
    expect(json).toContain('This release is closed');
  });

  it('says "rolled back" in the fallback text and the read-only phase messages', () => {
    expect(header.text).toBe('Release v2.3.0 → staging: rolled back, 1/4 phases done');
    expect(JSON.stringify(renderPhaseParts(release, PHASE.deploy))).toContain(
      'Release rolled back; read-only',
    );
  });
});

describe('owners in the phase messages', () => {
  const release = tickPhases(makeRelease({ owners: { 'p2-a': OVERRIDER, 'p0-a': TICKER } }), [0]);
  const itemText = (subject: Release, phaseIndex: number, itemId: string) =>
    (itemBlock(renderPhaseParts(subject, phaseIndex)[0]!, itemId) as { text: { text: string } }).text.text;

  it("adds the owner to an item's tags", () => {
    expect(itemText(release, PHASE.deploy, 'p2-a')).toBe(`Item p2-a  owner <@${OVERRIDER}>`);
    expect(itemText(release, PHASE.prepare, 'p0-a').split('\n')[0]).toBe(
      `Item p0-a  _ops_ · owner <@${TICKER}>`,
    );
    expect(itemText(release, PHASE.deploy, 'p2-b')).toBe('Item p2-b');
  });

  it('escapes an owner that is not a user id', () => {
    const odd = { ...release, owners: { 'p2-a': '<!channel>' } };

    expect(itemText(odd, PHASE.deploy, 'p2-a')).toBe('Item p2-a  owner &lt;!channel&gt;');
  });
});

describe('the "Assign owners…" button', () => {
  const assignButtons = (parts: RenderedMessage[]) =>
    parts.map((part) =>
      part.blocks.filter((block) => block.type === 'actions' && block.block_id?.startsWith('phase-actions:')),
    );

  it('ends the last part of each phase of an active release, locked or not', () => {
    for (const phaseIndex of [PHASE.prepare, PHASE.verify]) {
      const [blocks] = assignButtons(renderPhaseParts(makeRelease(), phaseIndex));
      expect(blocks).toEqual([
        {
          type: 'actions',
          block_id: `phase-actions:${phaseIndex}`,
          elements: [
            {
              type: 'button',
              action_id: `owners.open|r42|${phaseIndex}`,
              text: { type: 'plain_text', text: 'Assign owners…' },
            },
          ],
        },
      ]);
      const part = renderPhaseParts(makeRelease(), phaseIndex)[0]!;
      expect(part.blocks.at(-1)?.block_id).toBe(`phase-actions:${phaseIndex}`);
      const action = (blocks![0] as { elements: { action_id: string }[] }).elements[0]!.action_id;
      expect(decodeReleaseAction(ReleaseRoute.assignOwners, action)).toEqual({
        releaseId: 'r42',
        index: phaseIndex,
      });
    }
  });

  it('is only on the last part of a split phase', () => {
    const found = assignButtons(renderPhaseParts(makeRelease({ template: makeBigTemplate() }), 0));

    expect(found.length).toBeGreaterThan(1);
    expect(found.map((blocks) => blocks.length)).toEqual([...found.slice(1).map(() => 0), 1]);
  });

  it.each([
    ['cancelled', cancel(makeRelease(), 'no')],
    ['completed', complete(tickEverything(makeRelease()))],
    ['rolled back', rollBack(makeRelease(), 'no')],
  ])('is gone once the release is %s', (_name, release) => {
    for (const phaseIndex of release.template.phases.keys()) {
      expect(assignButtons(renderPhaseParts(release, phaseIndex)).flat()).toEqual([]);
    }
  });

  it.each([
    [46, 1],
    [47, 2],
  ])(
    'fits with a phase of %i items without groups in %i message(s) of at most 50 blocks',
    (count, partCount) => {
      const template = makeTemplate({
        phases: [
          {
            id: 'flat',
            name: 'Flat',
            items: Array.from({ length: count }, (_unused, index) => item(`f-${index}`)),
          },
        ],
      });
      const parts = renderPhaseParts(makeRelease({ template }), 0);

      expect(parts).toHaveLength(partCount);
      expect(parts[0]!.blocks.length).toBe(count === 46 ? 50 : 49);
      for (const part of parts) expect(blockKitViolations(part)).toEqual([]);
    },
  );
});

describe('command replies', () => {
  it('renderHelp names an unknown subcommand, escaped, and lists every subcommand', () => {
    const reply = renderHelp('<!here>');

    expect(reply.text).toContain('`/deploy &lt;!here&gt;`');
    for (const subcommand of ['start', 'status', 'list', 'cancel', 'audit', 'help']) {
      expect(reply.text).toContain(`/deploy ${subcommand}`);
    }
  });

  it('renderStatus lists at most ten open items of the current phase', () => {
    const reply = renderStatus(makeRelease({ template: makeBigTemplate() }), PERMALINK);

    expect(reply.text).toContain(`<${PERMALINK}|`);
    expect(reply.text.match(/^• /gm)).toHaveLength(10);
    expect(reply.text).toContain('…and 70 more');
  });

  it('renderStatus names a freeze override under the summary: which freeze, who and why, escaped', () => {
    const lines = renderStatus(freezeOverridden(midway, HOSTILE_TEXT), PERMALINK).text.split('\n');

    expect(lines[1]).toContain(
      '❄️ Freeze on *production* (`production: Fri 15:00 - Mon 08:00 Europe/Berlin`) until <!date^',
    );
    expect(lines[1]).toContain(`overridden by <@${STARTER}> <!date^${T0 / 1000}^`);
    expect(lines[1]).toMatch(/: _&lt;!channel&gt; &lt;@U1&gt; &lt;https:\/\/evil\|x&gt; &amp; more_$/);
    expect(renderStatus(midway, PERMALINK).text).not.toContain('Freeze');
  });

  it('renderReleaseList separates active releases from finished ones', () => {
    const reply = renderReleaseList(
      [midway],
      [midway, cancel({ ...midway, id: 'r7', version: 'v1' }, 'no')],
      new Map([['r7', PERMALINK]]),
    );

    expect(reply.text).toMatch(/^\*Active releases\*\n• \*2026\.11\.1 → production\*/);
    expect(reply.text).toContain(`*Recently finished*\n• <${PERMALINK}|v1 → production> · cancelled`);
  });

  it('renderAudit keeps the newest events when the trail does not fit, oldest first', () => {
    const events = makeAuditTrail(midway, 500);
    const reply = renderAudit(midway, events);
    const heading = JSON.stringify(reply.blocks?.[0]);
    const shown = Number(/the latest (\d+) shown/.exec(heading)?.[1]);
    const lines = (reply.blocks ?? [])
      .slice(1)
      .flatMap((block) => ((block as { text?: { text: string } }).text?.text ?? '').split('\n'));

    expect(heading).toContain('(500 events; the latest');
    expect(lines).toHaveLength(shown);
    const seconds = lines.map((line) => Number(/^<!date\^(\d+)\^/.exec(line)?.[1]));
    const expected = events.slice(-shown).map((event) => Math.floor(event.at / 1000));
    expect(seconds).toEqual(expected);
  });

  it('renderAudit shows every event when they fit, each described', () => {
    const events = [
      makeAuditEvent('started', 0, {
        from: 'none',
        to: 'active',
        version: '2026.11.1',
        env: 'production',
        templateId: 'standard',
      }),
      makeAuditEvent('ticked', 1, { itemId: 'scope-defined', phaseIndex: 0 }),
      makeAuditEvent('unticked', 2, { itemId: 'no-such-item', phaseIndex: 0, from: 'done', to: 'open' }),
      makeAuditEvent('gate_overridden', 3, {
        phaseIndex: 3,
        blockingPhaseIndex: 0,
        reason: 'ok <b>',
        from: 'locked',
        to: 'open',
      }),
      makeAuditEvent('cancelled', 4, { reason: 'stop & think', from: 'active', to: 'cancelled' }),
      makeAuditEvent('completed', 5, { from: 'active', to: 'completed' }),
    ];
    const reply = renderAudit(midway, events);
    const text =
      reply.blocks?.map((block) => (block as { text?: { text: string } }).text?.text).join('\n') ?? '';

    expect(text).toContain('(6 events)');
    expect(text).not.toContain('shown');
    expect(text).toContain(
      `<@${TICKER}> started 2026.11.1 → production with template \`standard\` (none → active)`,
    );
    expect(text).toContain('ticked “Release scope decided and written down” in Planning (open → done)');
    expect(text).toContain('unticked “no-such-item” in Planning (done → open)');
    expect(text).toContain(
      'overrode the gate to *Deploy day* while Planning had open items (locked → open): _ok &lt;b&gt;_',
    );
    expect(text).toContain('cancelled the release (active → cancelled): _stop &amp; think_');
    expect(text).toContain('The release completed (active → completed); last change by');
    expect(text.indexOf('started')).toBeLessThan(text.indexOf('The release completed'));
  });

  it('renderGateOverrideModal offers the locked phases and carries team and release', () => {
    const release = tickPhases(makeRelease(), [0]);
    const view = renderGateOverrideModal(release, lockedPhases(release));

    expect(decodeGateOverrideMetadata(view.private_metadata)).toEqual({ teamId: 'T0TEAM', releaseId: 'r42' });
    expect(JSON.stringify(view.blocks)).toContain(
      '"options":[{"text":{"type":"plain_text","text":"4. Verify"},"value":"3"}]',
    );
  });
});

describe('snapshots of a mid-way release', () => {
  const release = tick(tickPhases(makeRelease(), [0], T0 + 5 * MINUTE), ['p2-b', 'p2-opt'], T0 + 25 * MINUTE);
  const messages = planReleaseMessages(release, new Set(['phase:0:0']), { 2: 1 });

  it('renders the header', () => {
    expect(plannedMessage(messages, 'header')).toMatchSnapshot();
  });

  it('renders the deploy phase message', () => {
    expect(plannedMessage(messages, 'phase:2:0')).toMatchSnapshot();
  });
});
