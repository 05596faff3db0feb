import type { KnownBlock, ModalView } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuditEventType } from '../../src/domain/audit.js';
import type { PersonName } from '../../src/domain/people.js';
import type { Release } from '../../src/domain/release.js';
import { draftRetrospective, formatRetroDuration, peopleInRetro } from '../../src/domain/retrospective.js';
import type { Template } from '../../src/domain/template.js';
import { decodeReleaseIndexMetadata } from '../../src/views/ids.js';
import {
  RETRO_ACTION_ID,
  RETRO_CALLBACK_ID,
  RetroField,
  renderRetroDraft,
  renderRetroModal,
  renderRetroPrompt,
  renderRetroSaved,
} from '../../src/views/retrospective.js';
import { blockKitViolations } from './block-kit-limits.js';
import {
  HOSTILE_MARKUP,
  HOSTILE_TEXT,
  item,
  MINUTE,
  makeBigTemplate,
  makeRelease,
  OVERRIDER,
  STARTER,
  T0,
} from './factories.js';

const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const CAROL = 'U0CAROL';
/** The deploy window: two days after the start (T0). */
const W = T0 + 2 * DAY;
const ESCAPED_HOSTILE = '&lt;!channel&gt; &lt;@U1&gt; &lt;https://evil|x&gt; &amp; more';

type Json = Record<string, unknown>;

/**
 *   0 Prepare  T-1d   prep-backup, prep-notes required; prep-opt optional
 *   1 Approve  T-2h   ap-signoff, ap-security required
 *   2 Deploy   T-0    dp-ship required (the deployment)
 *   3 Verify   T+1h   vf-smoke required
 */
function makeRetroTemplate(): Template {
  return {
    id: 'retro',
    name: 'Retro release',
    phases: [
      {
        id: 'prepare',
        name: 'Prepare',
        due: 'T-1d',
        items: [
          item('prep-backup', { text: 'Backup taken' }),
          item('prep-notes', { text: 'Release notes written' }),
          item('prep-opt', { text: 'Nice to have', required: false }),
        ],
      },
      {
        id: 'approve',
        name: 'Approve',
        due: 'T-2h',
        items: [
          item('ap-signoff', { text: 'Product sign-off' }),
          item('ap-security', { text: 'Security review signed off' }),
        ],
      },
      {
        id: 'deploy',
        name: 'Deploy',
        due: 'T-0',
        deployment: true,
        items: [item('dp-ship', { text: 'Ship it' })],
      },
      { id: 'verify', name: 'Verify', due: 'T+1h', items: [item('vf-smoke', { text: 'Smoke tests pass' })] },
    ],
  };
}

/** Builds a trail with stream ids in order. */
function trail(entries: [AuditEventType, number, Partial<AuditEvent>?][]): AuditEvent[] {
  return entries.map(([type, at, extra], index) => ({
    id: `${at}-${index}`,
    type,
    user: STARTER,
    at,
    from: 'open',
    to: 'done',
    ...extra,
  }));
}

const OVERRIDE_REASON = 'Security review is waiting on the vendor';
const ROLLBACK_REASON = 'Checkout still slow for EU users';
const ISSUE_WHAT = 'Checkout takes 8 s';

/**
 * The scripted release: Prepare done 30 min late (its release notes ticked late, after two reminders
 * to Alice and one to Bob); the gate to Deploy overridden past an unticked security review; a red flag
 * raised and cleared; a refusal; check-in 1 escalated, then answered with an issue resolved 90 min later;
 * then rolled back.
 */
function scripted(): { release: Release; events: AuditEvent[] } {
  const release = makeRelease({
    version: 'v2.3',
    env: 'production',
    template: makeRetroTemplate(),
    window: { at: W, zone: 'Europe/Berlin' },
    status: 'rolled_back',
    items: {
      'prep-backup': { done: true, by: ALICE, at: W - DAY - HOUR },
      'prep-notes': { done: true, by: BOB, at: W - DAY + 30 * MINUTE },
      'ap-signoff': { done: true, by: CAROL, at: W - 3 * HOUR },
      'dp-ship': { done: true, by: ALICE, at: W - 10 * MINUTE },
      'vf-smoke': { done: true, by: BOB, at: W + 20 * MINUTE },
    },
    overrides: [{ phaseIndex: 2, by: OVERRIDER, at: W - HOUR, reason: OVERRIDE_REASON }],
    deployment: { at: W - 10 * MINUTE, by: ALICE },
    monitoring: { state: 'closed', closedAt: W + 29 * HOUR },
    checkins: [
      {
        index: 0,
        dueAt: W + 24 * HOUR,
        postedAt: W + 24 * HOUR,
        escalatedAt: W + 26 * HOUR,
        answer: { kind: 'issue', by: CAROL, at: W + 27 * HOUR, issue: 1 },
      },
      { index: 1, dueAt: W + 48 * HOUR },
    ],
    issues: [
      {
        id: 1,
        foundBy: CAROL,
        foundAt: W + 27 * HOUR,
        what: ISSUE_WHAT,
        severity: 'major',
        checkin: 0,
        resolvedBy: ALICE,
        resolvedAt: W + 27 * HOUR + 90 * MINUTE,
        resolution: 'Cache warmed',
      },
    ],
    rollback: { by: STARTER, at: W + 29 * HOUR },
    cancelReason: ROLLBACK_REASON,
    finishedAt: W + 29 * HOUR,
    finishedBy: STARTER,
  });
  const events = trail([
    ['started', T0, { from: 'none', to: 'active', windowAt: W, windowZone: 'Europe/Berlin' }],
    ['ticked', W - DAY - HOUR, { user: ALICE, itemId: 'prep-backup', phaseIndex: 0 }],
    ['reminder_sent', W - DAY - 10 * MINUTE, { user: 'shipcheck', recipient: ALICE, phaseIndex: 0 }],
    ['reminder_sent', W - DAY - 10 * MINUTE, { user: 'shipcheck', recipient: BOB, phaseIndex: 0 }],
    ['reminder_sent', W - DAY + 10 * MINUTE, { user: 'shipcheck', recipient: ALICE, phaseIndex: 0 }],
    ['ticked', W - DAY + 30 * MINUTE, { user: BOB, itemId: 'prep-notes', phaseIndex: 0 }],
    ['ticked', W - 3 * HOUR, { user: CAROL, itemId: 'ap-signoff', phaseIndex: 1 }],
    [
      'red_flag_raised',
      W - 70 * MINUTE,
      { user: CAROL, from: 'running', to: 'stopped', reason: 'A major component is down: payments 500s' },
    ],
    [
      'red_flag_cleared',
      W - 65 * MINUTE,
      { user: CAROL, from: 'stopped', to: 'running', reason: 'Vendor fixed it' },
    ],
    [
      'gate_overridden',
      W - HOUR,
      {
        user: OVERRIDER,
        phaseIndex: 2,
        blockingPhaseIndex: 1,
        from: 'locked',
        to: 'open',
        reason: OVERRIDE_REASON,
      },
    ],
    [
      'refused',
      W - 30 * MINUTE,
      { action: 'tick', itemId: 'dp-ship', phaseIndex: 2, reason: 'own_release', to: 'refused' },
    ],
    ['ticked', W - 10 * MINUTE, { user: ALICE, itemId: 'dp-ship', phaseIndex: 2 }],
    ['deployed', W - 10 * MINUTE, { user: ALICE, phaseIndex: 2, checkins: 2 }],
    ['ticked', W + 20 * MINUTE, { user: BOB, itemId: 'vf-smoke', phaseIndex: 3 }],
    ['checkin_posted', W + 24 * HOUR, { user: 'shipcheck', checkinIndex: 0, from: 'planned', to: 'posted' }],
    [
      'checkin_escalated',
      W + 26 * HOUR,
      { user: 'shipcheck', checkinIndex: 0, recipient: STARTER, from: 'posted', to: 'escalated' },
    ],
    ['checkin_answered', W + 27 * HOUR, { user: CAROL, checkinIndex: 0, from: 'posted', to: 'issue' }],
    [
      'issue_found',
      W + 27 * HOUR,
      {
        user: CAROL,
        checkinIndex: 0,
        issueId: 1,
        severity: 'major',
        reason: ISSUE_WHAT,
        from: 'none',
        to: 'open',
      },
    ],
    [
      'issue_resolved',
      W + 27 * HOUR + 90 * MINUTE,
      { user: ALICE, issueId: 1, reason: 'Cache warmed', from: 'open', to: 'resolved' },
    ],
    ['rolled_back', W + 29 * HOUR, { from: 'active', to: 'rolled_back', reason: ROLLBACK_REASON }],
  ]);
  return { release, events };
}

/** The same template, every required item ticked on time, completed, nothing else happening. */
function clean(): { release: Release; events: AuditEvent[] } {
  const ticks: [string, number, number][] = [
    ['prep-backup', 0, W - DAY - 2 * HOUR],
    ['prep-notes', 0, W - DAY - HOUR],
    ['ap-signoff', 1, W - 4 * HOUR],
    ['ap-security', 1, W - 3 * HOUR],
    ['dp-ship', 2, W - 5 * MINUTE],
    ['vf-smoke', 3, W + 30 * MINUTE],
  ];
  const release = makeRelease({
    version: 'v2.3',
    env: 'production',
    template: makeRetroTemplate(),
    window: { at: W, zone: 'UTC' },
    status: 'completed',
    items: Object.fromEntries(ticks.map(([itemId, , at]) => [itemId, { done: true, by: ALICE, at }])),
    deployment: { at: W - 5 * MINUTE, by: ALICE },
    finishedAt: W + 30 * MINUTE,
    finishedBy: ALICE,
  });
  const events = trail([
    ['started', T0, { from: 'none', to: 'active', windowAt: W }],
    ...ticks.map(([itemId, phaseIndex, at]): [AuditEventType, number, Partial<AuditEvent>] => [
      'ticked',
      at,
      { user: ALICE, itemId, phaseIndex },
    ]),
    ['completed', W + 30 * MINUTE, { user: ALICE, from: 'active', to: 'completed' }],
  ]);
  return { release, events };
}

/** Every string Slack reads as mrkdwn: everything but plain_text objects. */
function markupStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(markupStrings);
  if (typeof value !== 'object' || value === null) return [];
  if ((value as { type?: unknown }).type === 'plain_text') return [];
  return Object.values(value).flatMap(markupStrings);
}

function expectNoHostileMarkup(surface: unknown): void {
  for (const text of markupStrings(surface)) {
    for (const markup of HOSTILE_MARKUP) expect(text).not.toContain(markup);
  }
}

function sectionTexts(blocks: readonly KnownBlock[]): string[] {
  return blocks.flatMap((block) => (block.type === 'section' && block.text ? [block.text.text] : []));
}

/** The section whose text starts with the heading, e.g. "*🔔 Reminders sent*". */
function sectionNamed(blocks: readonly KnownBlock[], heading: string): string {
  const found = sectionTexts(blocks).find((text) => text.startsWith(heading));
  if (found === undefined) throw new Error(`no section ${heading}`);
  return found;
}

function expectRetroButton(blocks: readonly KnownBlock[], releaseId: string): void {
  const last = blocks.at(-1) as unknown as Json;
  expect(last.type).toBe('actions');
  expect(last.elements).toEqual([
    expect.objectContaining({
      type: 'button',
      action_id: RETRO_ACTION_ID,
      value: releaseId,
      text: { type: 'plain_text', text: 'Add what went well and wrong…' },
    }),
  ]);
}

describe('formatRetroDuration', () => {
  it('gives the two largest units, to the minute', () => {
    expect(formatRetroDuration(45_000)).toBe('45 s');
    expect(formatRetroDuration(25 * MINUTE)).toBe('25 min');
    expect(formatRetroDuration(5_400_000)).toBe('1 h 30 min');
    expect(formatRetroDuration(2 * HOUR)).toBe('2 h');
    expect(formatRetroDuration(DAY + 30 * MINUTE)).toBe('1 d 30 min');
    expect(formatRetroDuration(59_999)).toBe('1 min');
    expect(formatRetroDuration(2 * DAY + 3 * HOUR + 10 * MINUTE)).toBe('2 d 3 h');
    expect(formatRetroDuration(-5)).toBe('0 s');
  });
});

describe('draftRetrospective', () => {
  it('names the outcome, and each phase against its plan', () => {
    const { release, events } = scripted();
    const draft = draftRetrospective(release, events);
    expect(draft.outcome).toBe('rolled_back');
    expect(draft.phaseDurations).toEqual([
      // Opened at the start (T0 = W - 2d), done when the notes were ticked at W - 1d + 30 min.
      { phaseName: 'Prepare', actualMs: 88_200_000, late: true },
      // Never done: the override passed it. Planned: T-1d → T-2h.
      { phaseName: 'Approve', plannedMs: 79_200_000, late: false },
      // Opened by the override at W - 1h, done at W - 10 min; planned T-2h → T-0.
      { phaseName: 'Deploy', actualMs: 3_000_000, plannedMs: 7_200_000, late: false },
      // Opened at W - 10 min, done at W + 20 min; planned T-0 → T+1h.
      { phaseName: 'Verify', actualMs: 1_800_000, plannedMs: 3_600_000, late: false },
    ]);
    expect(draft.phaseDurations[0]).not.toHaveProperty('plannedMs');
    expect(draft.phaseDurations[1]).not.toHaveProperty('actualMs');
  });

  it('lists the late item, the override with what it skipped, and the reminders per person', () => {
    const { release, events } = scripted();
    const draft = draftRetrospective(release, events);
    expect(draft.lateItems).toEqual([
      {
        itemText: 'Release notes written',
        phaseName: 'Prepare',
        doneAt: W - DAY + 30 * MINUTE,
        dueAt: W - DAY,
        by: BOB,
      },
    ]);
    expect(draft.overrides).toEqual([
      {
        phaseName: 'Deploy',
        by: OVERRIDER,
        at: W - HOUR,
        reason: OVERRIDE_REASON,
        skippedItems: ['Security review signed off'],
      },
    ]);
    expect(draft.reminders).toEqual([
      { recipient: ALICE, count: 2 },
      { recipient: BOB, count: 1 },
    ]);
  });

  it('lists the check-ins, the issue with its time to resolve, and the rollback', () => {
    const { release, events } = scripted();
    const draft = draftRetrospective(release, events);
    // Check-in 2 was never posted: it is not listed.
    expect(draft.checkins).toEqual([{ index: 0, answer: 'issue', by: CAROL, escalated: true }]);
    expect(draft.issues).toEqual([
      {
        id: 1,
        what: ISSUE_WHAT,
        severity: 'major',
        foundAt: W + 27 * HOUR,
        resolvedAt: W + 27 * HOUR + 90 * MINUTE,
        timeToResolveMs: 5_400_000,
      },
    ]);
    expect(draft.rollback).toEqual({ by: STARTER, at: W + 29 * HOUR, reason: ROLLBACK_REASON });
  });

  it('states the findings in time order, as plain sentences with the people apart', () => {
    const { release, events } = scripted();
    const { findings } = draftRetrospective(release, events);
    expect(findings.map((finding) => finding.kind)).toEqual([
      'reminders', // Bob, last reminded at W - 1d - 10 min
      'reminders', // Alice, last reminded at W - 1d + 10 min
      'late_item',
      'late_phase',
      'red_flag',
      'override',
      'skipped',
      'refused',
      'checkin',
      'issue',
      'rollback',
    ]);
    const ats = findings.map((finding) => finding.at!);
    expect(ats).toEqual([...ats].sort((a, b) => a - b));
    expect(findings).toEqual([
      {
        kind: 'reminders',
        text: '1 reminder was sent about open items.',
        userIds: [BOB],
        at: W - DAY - 10 * MINUTE,
      },
      {
        kind: 'reminders',
        text: '2 reminders were sent about open items.',
        userIds: [ALICE],
        at: W - DAY + 10 * MINUTE,
      },
      {
        kind: 'late_item',
        text: '“Release notes written” in Prepare was ticked 30 min after the phase was due.',
        userIds: [BOB],
        at: W - DAY + 30 * MINUTE,
      },
      { kind: 'late_phase', text: 'Prepare was done 30 min after it was due.', at: W - DAY + 30 * MINUTE },
      {
        kind: 'red_flag',
        text: 'A red flag stopped the release: A major component is down: payments 500s. It was cleared after 5 min: Vendor fixed it.',
        userIds: [CAROL],
        at: W - 70 * MINUTE,
      },
      {
        kind: 'override',
        text: `The gate to Deploy was overridden: ${OVERRIDE_REASON}.`,
        userIds: [OVERRIDER],
        at: W - HOUR,
      },
      {
        kind: 'skipped',
        text: '1 required item was skipped on the way to Deploy: “Security review signed off”.',
        userIds: [OVERRIDER],
        at: W - HOUR,
      },
      {
        kind: 'refused',
        text: 'Refused: ticking “Ship it” (the two-person rule keeps people off their own release).',
        userIds: [STARTER],
        at: W - 30 * MINUTE,
      },
      {
        kind: 'checkin',
        text: 'Check-in 1 went unanswered and was escalated. It was answered 1 h after that.',
        userIds: [STARTER, CAROL],
        at: W + 26 * HOUR,
      },
      {
        kind: 'issue',
        text: `Issue #1 (major) was found: ${ISSUE_WHAT}. It was resolved 1 h 30 min later.`,
        userIds: [CAROL, ALICE],
        at: W + 27 * HOUR,
      },
      {
        kind: 'rollback',
        text: `The release was rolled back: ${ROLLBACK_REASON}.`,
        userIds: [STARTER],
        at: W + 29 * HOUR,
      },
    ]);
    for (const finding of findings) expect(finding.text).not.toMatch(/[<>]|U0[A-Z]/);
  });

  it('gives empty lists for a clean release', () => {
    const { release, events } = clean();
    const draft = draftRetrospective(release, events);
    expect(draft.outcome).toBe('completed');
    expect(draft.phaseDurations.map((phase) => phase.late)).toEqual([false, false, false, false]);
    expect(draft.phaseDurations.map((phase) => phase.actualMs)).toEqual([
      // T0 → W - 1d - 1h; → W - 3h; → W - 5 min; → W + 30 min.
      DAY - HOUR,
      DAY - 2 * HOUR,
      3 * HOUR - 5 * MINUTE,
      35 * MINUTE,
    ]);
    expect(draft).toMatchObject({
      lateItems: [],
      overrides: [],
      reminders: [],
      checkins: [],
      issues: [],
      findings: [],
    });
    expect(draft.rollback).toBeUndefined();
  });

  it('counts an item ticked in time, unticked and ticked again after the due as late', () => {
    const { release, events } = clean();
    const retick = trail([
      [
        'unticked',
        W - DAY + HOUR,
        { user: BOB, itemId: 'prep-notes', phaseIndex: 0, from: 'done', to: 'open' },
      ],
      ['ticked', W - DAY + 2 * HOUR, { user: BOB, itemId: 'prep-notes', phaseIndex: 0 }],
    ]);
    const later = {
      ...release,
      items: { ...release.items, 'prep-notes': { done: true, by: BOB, at: W - DAY + 2 * HOUR } },
    };
    const draft = draftRetrospective(later, [...events.slice(0, 3), ...retick, ...events.slice(3)]);
    expect(draft.lateItems).toEqual([
      {
        itemText: 'Release notes written',
        phaseName: 'Prepare',
        doneAt: W - DAY + 2 * HOUR,
        dueAt: W - DAY,
        by: BOB,
      },
    ]);
    // The phase was done the first time its items were all ticked, in time.
    expect(draft.phaseDurations[0]).toMatchObject({ actualMs: DAY - HOUR, late: false });
  });

  it('has no plan and nothing late without a window, and says cancelled for a cancelled release', () => {
    const { release, events } = scripted();
    const { window: _window, rollback: _rollback, ...rest } = release;
    const draft = draftRetrospective({ ...rest, status: 'cancelled' }, events);
    expect(draft.outcome).toBe('cancelled');
    expect(draft.phaseDurations.every((phase) => phase.plannedMs === undefined && !phase.late)).toBe(true);
    expect(draft.lateItems).toEqual([]);
    // The trail still records the rollback decision.
    expect(draft.rollback).toEqual({ by: STARTER, at: W + 29 * HOUR, reason: ROLLBACK_REASON });
  });
});

describe('renderRetroDraft', () => {
  it('heads the draft with the release and its outcome, and ends with the button', () => {
    const { release, events } = scripted();
    const message = renderRetroDraft(release, draftRetrospective(release, events));
    expect(blockKitViolations(message)).toEqual([]);
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '📝 Draft retrospective: v2.3 → production (rolled back)' },
    });
    expect(message.text).toBe('Draft retrospective: v2.3 → production (rolled back)');
    expectRetroButton(message.blocks, release.id);
  });

  it('shows each section of the scripted release', () => {
    const { release, events } = scripted();
    const { blocks } = renderRetroDraft(release, draftRetrospective(release, events));
    const phases = sectionNamed(blocks, '*⏱ Phases');
    expect(phases).toContain('• *Prepare*: 1 d 30 min ⚠️ done after it was due');
    expect(phases).toContain('• *Approve*: not done (planned 22 h)');
    expect(phases).toContain('• *Deploy*: 50 min (planned 2 h)');
    expect(phases).toContain('• *Verify*: 30 min (planned 1 h)');
    const late = sectionNamed(blocks, '*⏰ Items');
    expect(late).toContain('“Release notes written” (Prepare): ticked by <@U0BOB>');
    expect(late).toContain(`<!date^${(W - DAY + 30 * MINUTE) / 1000}^`);
    expect(late).toContain('30 min after it was due');
    const overrides = sectionNamed(blocks, '*🔓 Gate overrides*');
    expect(overrides).toContain(`Gate to *Deploy* opened by <@${OVERRIDER}>`);
    expect(overrides).toContain(`“${OVERRIDE_REASON}”`);
    expect(overrides).toContain('Skipped: “Security review signed off”');
    const reminders = sectionNamed(blocks, '*🔔 Reminders sent*');
    expect(reminders).toBe('*🔔 Reminders sent*\n• <@U0ALICE>: 2 reminders\n• <@U0BOB>: 1 reminder');
    expect(sectionNamed(blocks, '*🩺 Check-ins*')).toBe(
      '*🩺 Check-ins*\n• Check-in 1: issue found (<@U0CAROL>) — ⏰ escalated first',
    );
    const issues = sectionNamed(blocks, '*🚨 Issues*');
    expect(issues).toContain(`#1 (major) “${ISSUE_WHAT}”`);
    expect(issues).toContain('resolved after 1 h 30 min');
    expect(sectionNamed(blocks, '*↩️ Rollback*')).toContain(`Decided by <@${STARTER}>`);
    expect(sectionNamed(blocks, '*↩️ Rollback*')).toContain(`“${ROLLBACK_REASON}”`);
    const stops = sectionNamed(blocks, '*🚩 Red flags and refusals*');
    expect(stops).toContain('A red flag stopped the release');
    expect(stops).toContain('Refused: ticking “Ship it”');
    expect(JSON.stringify(blocks)).not.toContain('Nothing to note.');
  });

  it('names the people it mentions as the release recorded them, with their ids', () => {
    const { release, events } = scripted();
    const draft = draftRetrospective(release, events);
    // Starter, late ticker, overrider, the reminded, the check-in's answerer, then the findings' others.
    expect(peopleInRetro(release, draft).slice(0, 4)).toEqual([STARTER, BOB, OVERRIDER, ALICE]);
    expect(peopleInRetro(release, draft)).toContain(CAROL);
    const people = new Map<string, PersonName>([
      [BOB, { name: 'Bob <b>Builder</b>', at: T0 }],
      [CAROL, { name: 'Carol Jones', realName: 'Caroline Jones', at: T0 }],
      ['U0NOBODY', { name: 'Not in this retrospective', at: T0 }],
    ]);
    const message = renderRetroDraft(release, draft, people);
    expect(blockKitViolations(message)).toEqual([]);
    // Slack shows each mention with today's name; the line before the button keeps those of the time.
    const names = message.blocks.at(-2) as unknown as Json;
    expect(names).toEqual({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: 'Names at the time: Bob &lt;b&gt;Builder&lt;/b&gt; (U0BOB) · Carol Jones (U0CAROL)',
        },
      ],
    });
    expectRetroButton(message.blocks, release.id);
    // Nobody recorded: no such line, and the mentions stand alone.
    expect(JSON.stringify(renderRetroDraft(release, draft).blocks)).not.toContain('Names at the time');
  });

  it('says "Nothing to note." for each empty section of a clean release', () => {
    const { release, events } = clean();
    const message = renderRetroDraft(release, draftRetrospective(release, events));
    expect(blockKitViolations(message)).toEqual([]);
    expect(message.text).toBe('Draft retrospective: v2.3 → production (completed)');
    for (const heading of [
      '*⏰ Items',
      '*🔓 Gate overrides*',
      '*🔔 Reminders sent*',
      '*🩺 Check-ins*',
      '*🚨 Issues*',
      '*↩️ Rollback*',
      '*🚩 Red flags and refusals*',
    ]) {
      expect(sectionNamed(message.blocks, heading)).toMatch(/\n_Nothing to note\._$/);
    }
    expect(sectionNamed(message.blocks, '*⏱ Phases')).not.toContain('Nothing to note');
    expectRetroButton(message.blocks, release.id);
  });

  it('escapes every text people wrote', () => {
    const { release, events } = scripted();
    const hostileTemplate = makeRetroTemplate();
    for (const phase of hostileTemplate.phases) {
      phase.name = `${phase.name} ${HOSTILE_TEXT}`;
      for (const entry of phase.items) entry.text = `${entry.text} ${HOSTILE_TEXT}`;
    }
    const hostile: Release = {
      ...release,
      version: `v2.3 ${HOSTILE_TEXT}`,
      env: `prod ${HOSTILE_TEXT}`,
      template: hostileTemplate,
      cancelReason: HOSTILE_TEXT,
      overrides: release.overrides.map((entry) => ({ ...entry, reason: HOSTILE_TEXT })),
      issues: release.issues.map((issue) => ({ ...issue, what: HOSTILE_TEXT, severity: 'major' })),
    };
    const hostileEvents = events.map((event) =>
      event.type === 'red_flag_raised' || event.type === 'red_flag_cleared'
        ? { ...event, reason: HOSTILE_TEXT }
        : event.type === 'reminder_sent'
          ? { ...event, recipient: HOSTILE_TEXT }
          : event,
    );
    const draft = draftRetrospective(hostile, hostileEvents);
    const message = renderRetroDraft(hostile, draft);
    expect(blockKitViolations(message)).toEqual([]);
    expectNoHostileMarkup(message);
    const json = JSON.stringify(message.blocks);
    expect(json).toContain(ESCAPED_HOSTILE);
    // Not a user id: shown as escaped text, never as a mention.
    expect(sectionNamed(message.blocks, '*🔔 Reminders sent*')).toContain(
      `• ${ESCAPED_HOSTILE}: 3 reminders`,
    );
  });

  it('stays within Block Kit limits when every list is long and full of markup', () => {
    const big = makeBigTemplate(100, 7);
    const bigRelease = makeRelease({
      version: 'v'.repeat(200),
      env: 'production',
      template: { ...big, phases: big.phases.map((phase) => ({ ...phase, name: `${'<&>'.repeat(20)}` })) },
      window: { at: W, zone: 'UTC' },
      status: 'rolled_back',
      overrides: Array.from({ length: 40 }, (_unused, index) => ({
        phaseIndex: 1,
        by: OVERRIDER,
        at: W + index * MINUTE,
        reason: '<@U1>'.repeat(100),
      })),
      issues: Array.from({ length: 40 }, (_unused, index) => ({
        id: index + 1,
        foundBy: ALICE,
        foundAt: W + index * HOUR,
        what: '<&>'.repeat(166),
        severity: 'critical' as const,
      })),
      rollback: { by: STARTER, at: W + 50 * HOUR },
      cancelReason: '&'.repeat(500),
    });
    const events = trail([
      ...big.phases[0]!.items.map((entry, index): [AuditEventType, number, Partial<AuditEvent>] => [
        'ticked',
        W + index * MINUTE,
        { user: BOB, itemId: entry.id, phaseIndex: 0 },
      ]),
      ...Array.from({ length: 60 }, (_unused, index): [AuditEventType, number, Partial<AuditEvent>] => [
        'reminder_sent',
        W + index,
        { user: 'shipcheck', recipient: `U0P${index}`, phaseIndex: 0 },
      ]),
      ...Array.from({ length: 30 }, (_unused, index): [AuditEventType, number, Partial<AuditEvent>] => [
        'refused',
        W + 2 * DAY + index,
        { action: 'rollback', reason: `role:${'<!here>'.repeat(50)}` },
      ]),
    ]);
    const released: Release = {
      ...bigRelease,
      items: Object.fromEntries(
        big.phases[0]!.items.map((entry, index) => [
          entry.id,
          { done: true, by: BOB, at: W + index * MINUTE },
        ]),
      ),
    };
    const draft = draftRetrospective(released, events);
    expect(draft.lateItems.length).toBe(80);
    expect(draft.reminders.length).toBe(60);
    const message = renderRetroDraft(released, draft);
    expect(blockKitViolations(message)).toEqual([]);
    expectNoHostileMarkup(message);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    expect(sectionNamed(message.blocks, '*⏰ Items')).toMatch(/…and \d+ more$/);
    expect(sectionNamed(message.blocks, '*🔔 Reminders sent*')).toMatch(/\n…and 50 more$/);
    expect(sectionNamed(message.blocks, '*🚨 Issues*')).toMatch(/…and \d+ more$/);
    expect(sectionNamed(message.blocks, '*🔓 Gate overrides*')).toMatch(/…and \d+ more$/);
  });
});

describe('renderRetroPrompt', () => {
  it('asks again, with the same button', () => {
    const { release } = scripted();
    const message = renderRetroPrompt(release);
    expect(blockKitViolations(message)).toEqual([]);
    expect(message.text).toBe("How did v2.3 → production go? The team's retrospective is still open.");
    expect(sectionTexts(message.blocks)[0]).toContain('How did *v2.3 → production* go?');
    expectRetroButton(message.blocks, release.id);
  });

  it('escapes the version and the environment', () => {
    const message = renderRetroPrompt(makeRelease({ version: HOSTILE_TEXT, env: HOSTILE_TEXT }));
    expect(blockKitViolations(message)).toEqual([]);
    expectNoHostileMarkup(message);
    expect(message.text).toContain(ESCAPED_HOSTILE);
  });
});

describe('renderRetroModal', () => {
  const inputs = (view: ModalView) =>
    (view.blocks as unknown as Json[]).filter((block) => block.type === 'input');

  it('asks for what went well, what went wrong and the follow-ups', () => {
    const { release } = scripted();
    const view = renderRetroModal(release, 'T0TEAM');
    expect(blockKitViolations(view)).toEqual([]);
    expect(view.callback_id).toBe(RETRO_CALLBACK_ID);
    expect(decodeReleaseIndexMetadata(view.private_metadata)).toEqual({
      teamId: 'T0TEAM',
      releaseId: release.id,
      index: 0,
    });
    expect(view.title).toEqual({ type: 'plain_text', text: 'Retrospective' });
    expect(view.submit).toEqual({ type: 'plain_text', text: 'Save' });
    const fields = inputs(view);
    expect(
      fields.map((block) => [block.block_id, (block.element as Json).action_id, block.optional]),
    ).toEqual([
      [RetroField.wentWellBlock, RetroField.wentWellAction, false],
      [RetroField.wentWrongBlock, RetroField.wentWrongAction, false],
      [RetroField.followUpsBlock, RetroField.followUpsAction, true],
    ]);
    for (const block of fields) {
      expect(block.element).toMatchObject({ type: 'plain_text_input', multiline: true, max_length: 2000 });
      expect(block.element).not.toHaveProperty('initial_value');
    }
  });

  it('is filled in with the previous answers when revised', () => {
    const { release } = scripted();
    const previous = { wentWell: 'Fast rollback', wentWrong: `Slow checkout ${HOSTILE_TEXT}`, followUps: '' };
    const revised = { ...release, retro: { ...previous, by: CAROL, at: W + 30 * HOUR } };
    const view = renderRetroModal(revised, 'T0TEAM', previous);
    expect(blockKitViolations(view)).toEqual([]);
    // A prefilled input is plain text that round-trips as typed; everything else is escaped.
    expectNoHostileMarkup((view.blocks as unknown as Json[]).filter((block) => block.type !== 'input'));
    const elements = inputs(view).map((block) => block.element as Json);
    expect(elements[0]!.initial_value).toBe('Fast rollback');
    expect(elements[1]!.initial_value).toBe(`Slow checkout ${HOSTILE_TEXT}`);
    expect(elements[2]).not.toHaveProperty('initial_value');
    expect(JSON.stringify(view.blocks[0])).toContain('Last saved by <@U0CAROL>');
  });

  it('escapes the release in its context line', () => {
    const view = renderRetroModal(makeRelease({ version: HOSTILE_TEXT }), 'T0TEAM');
    expect(blockKitViolations(view)).toEqual([]);
    expectNoHostileMarkup(view);
  });
});

describe('renderRetroSaved', () => {
  it('shows the three answers and who saved them', () => {
    const { release } = scripted();
    const message = renderRetroSaved(release, {
      wentWell: 'The rollback took 12 minutes',
      wentWrong: `SSO was not in the smoke test ${HOSTILE_TEXT}`,
      followUps: '',
      by: CAROL,
      at: W + 30 * HOUR,
    });
    expect(blockKitViolations(message)).toEqual([]);
    expectNoHostileMarkup(message);
    const texts = sectionTexts(message.blocks);
    expect(texts[0]).toContain('*Retrospective of v2.3 → production*, saved by <@U0CAROL>');
    expect(texts[1]).toBe('*✅ What went well*\nThe rollback took 12 minutes');
    expect(texts[2]).toBe(`*⚠️ What went wrong*\nSSO was not in the smoke test ${ESCAPED_HOSTILE}`);
    expect(texts[3]).toBe('*➡️ Follow-ups*\n_None._');
    expect(message.text).toContain('<@U0CAROL>');
  });

  it('names who saved it as the release recorded them, beside the mention', () => {
    const { release } = scripted();
    const retro = { wentWell: 'Fast', wentWrong: 'Nothing', followUps: '', by: CAROL, at: W + 30 * HOUR };
    const people = new Map<string, PersonName>([[CAROL, { name: 'Carol Jones', at: T0 }]]);
    const message = renderRetroSaved(release, retro, people);
    expect(blockKitViolations(message)).toEqual([]);
    expect(sectionTexts(message.blocks)[0]).toContain('saved by <@U0CAROL>');
    expect(message.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'Names at the time: Carol Jones (U0CAROL)' }],
    });
    expect(JSON.stringify(renderRetroSaved(release, retro).blocks)).not.toContain('Names at the time');
  });

  it('shortens answers that escaping would push past Slack limits, and says so', () => {
    const message = renderRetroSaved(makeRelease({ version: HOSTILE_TEXT }), {
      wentWell: '<'.repeat(2000),
      wentWrong: '&'.repeat(2000),
      followUps: HOSTILE_TEXT.repeat(40).slice(0, 2000),
      by: HOSTILE_TEXT,
      at: W,
    });
    expect(blockKitViolations(message)).toEqual([]);
    expectNoHostileMarkup(message);
    const texts = sectionTexts(message.blocks);
    expect(texts[1]).toMatch(/(&lt;)+…$/);
    expect(texts[2]).toMatch(/(&amp;)+…$/);
    expect(JSON.stringify(message.blocks.at(-1))).toContain('the deployment log has the full text');
  });
});
