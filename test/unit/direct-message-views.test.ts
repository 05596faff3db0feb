import { describe, expect, it } from 'vitest';
import type { RoleHolders } from '../../src/domain/access.js';
import {
  compareSlackTs,
  type DirectMessage,
  findSupersededReminders,
} from '../../src/domain/direct-messages.js';
import type { CheckIn, Release } from '../../src/domain/release.js';
import { type DirectMessageContext, renderDirectMessage } from '../../src/views/direct-messages.js';
import { fingerprintMessage } from '../../src/views/fingerprint.js';
import type { RenderedMessage } from '../../src/views/release-messages.js';
import { renderSupersededReminder } from '../../src/views/reminder-message.js';
import { blockKitViolations } from './block-kit-limits.js';
import {
  cancel,
  complete,
  HOSTILE_MARKUP,
  HOSTILE_TEXT,
  MINUTE,
  makeRelease,
  makeTemplate,
  PHASE,
  STARTER,
  T0,
  TICKER,
  tick,
  tickEverything,
  tickPhases,
  untick,
} from './factories.js';

// What each recorded direct message shows as the release changes: the latest reminder per person and
// phase follows the items, an older one says it was superseded, an escalation shows its answer.

const OWNER = 'U0OWNER';
const PERMALINK = 'https://acme.slack.com/archives/C0DEPLOYS/p1772443800000100';
const NOW = T0 + 90 * MINUTE;
const noHolders: RoleHolders = () => undefined;

type Json = Record<string, unknown>;

function textsOf(message: RenderedMessage): string[] {
  return message.blocks.flatMap((block) => {
    const json = block as unknown as Json;
    const texts: string[] = [];
    const text = json.text as { text?: string } | undefined;
    if (text?.text) texts.push(text.text);
    for (const element of (json.elements as { text?: unknown }[] | undefined) ?? []) {
      if (typeof element.text === 'string') texts.push(element.text);
    }
    return texts;
  });
}

function buttonLabels(message: RenderedMessage): string[] {
  return message.blocks.flatMap((block) => {
    const json = block as unknown as Json;
    const elements = json.type === 'actions' ? (json.elements as Json[]) : [];
    const accessory = json.accessory as Json | undefined;
    return [...elements, ...(accessory?.type === 'button' ? [accessory] : [])].map(
      (button) => (button.text as { text: string }).text,
    );
  });
}

const reminderTo = (userId: string, ts: string, phaseIndex: number = PHASE.deploy): DirectMessage => ({
  kind: 'reminder',
  userId,
  phaseIndex,
  ts,
  hash: 'h',
});

const context = (overrides: Partial<DirectMessageContext> = {}): DirectMessageContext => ({
  superseded: false,
  holders: noHolders,
  threadPermalink: PERMALINK,
  now: NOW,
  ...overrides,
});

function render(release: Release, message: DirectMessage, overrides: Partial<DirectMessageContext> = {}) {
  const rendered = renderDirectMessage(release, message, context(overrides));
  if (!rendered) throw new Error('nothing rendered');
  expect(blockKitViolations(rendered)).toEqual([]);
  return rendered;
}

/** Prepare done, so that Deploy is unlocked; the owner has p2-a, the starter p2-b. */
const deployable = tickPhases(makeRelease({ owners: { 'p2-a': OWNER } }), [PHASE.prepare]);
const ownersReminder = reminderTo(OWNER, '1772443800.000100');

describe('compareSlackTs', () => {
  it('orders timestamps by seconds, then microseconds, without losing digits to floats', () => {
    expect(compareSlackTs('1772443800.000100', '1772443800.000099')).toBe(1);
    expect(compareSlackTs('1772443800.000100', '1772443801.000000')).toBe(-1);
    expect(compareSlackTs('9.5', '10.000001')).toBe(-1);
    expect(compareSlackTs('1772443800.123456', '1772443800.123456')).toBe(0);
    expect(compareSlackTs('1772443800.9999991', '1772443800.9999992')).toBe(-1);
  });
});

describe('findSupersededReminders', () => {
  it('keeps the latest reminder per person and phase, whatever order they were recorded in', () => {
    const recorded = new Map<string, DirectMessage>([
      ['second', reminderTo(OWNER, '100.000200')],
      ['first', reminderTo(OWNER, '100.000100')],
      ['third', reminderTo(OWNER, '100.000300')],
      ['other-person', reminderTo(STARTER, '100.000050')],
      ['other-phase', reminderTo(OWNER, '100.000010', PHASE.verify)],
      ['escalation', { kind: 'checkin', userId: OWNER, checkinIndex: 0, ts: '100.000001', hash: 'h' }],
    ]);

    expect([...findSupersededReminders(recorded)].sort()).toEqual(['first', 'second']);
  });

  it('supersedes nothing when each person has one reminder per phase', () => {
    const recorded = new Map([
      ['a', reminderTo(OWNER, '1.1')],
      ['b', reminderTo(STARTER, '1.2')],
    ]);

    expect(findSupersededReminders(recorded).size).toBe(0);
  });
});

describe('renderDirectMessage for the latest reminder', () => {
  it('shows the open item with Done, and snoozes, while something is open', () => {
    const message = render(deployable, ownersReminder);

    expect(textsOf(message)).toContain('⬜ Item p2-a');
    expect(buttonLabels(message)).toEqual([
      'Done',
      'Snooze 30 min',
      'Snooze 1 h',
      'Snooze 2 h',
      'Open the checklist',
    ]);
  });

  it('shows an item ticked in the thread as done by whom, with no Done button left', () => {
    const at = T0 + 70 * MINUTE;
    const both = { ...deployable, owners: { 'p2-a': OWNER, 'p2-b': OWNER } };
    const message = render(tick(both, ['p2-a'], at, TICKER), ownersReminder);

    expect(textsOf(message)).toContain(
      `✅ Item p2-a · done by <@${TICKER}> <!date^${at / 1000}^{date_short_pretty} {time}|2026-03-02 10:40 UTC>`,
    );
    expect(textsOf(message)).toContain('⬜ Item p2-b');
    expect(buttonLabels(message)).toEqual([
      'Done',
      'Snooze 30 min',
      'Snooze 1 h',
      'Snooze 2 h',
      'Open the checklist',
    ]);
  });

  it('thanks the person once their items are done, without buttons, while others’ are open', () => {
    const message = render(tick(deployable, ['p2-a']), ownersReminder);

    expect(textsOf(message).at(-1)).toBe('✅ All your items in *Deploy* are done. Thank you!');
    expect(buttonLabels(message)).toEqual([]);
  });

  it('says the phase is done, without buttons, once every required item is ticked', () => {
    const done = tickPhases(deployable, [PHASE.deploy]);
    const owners = render(done, ownersReminder);
    const starters = render(done, reminderTo(STARTER, '2.0'));

    for (const message of [owners, starters]) {
      expect(textsOf(message).at(-1)).toBe('✅ *Deploy* is done: every required item is ticked.');
      expect(message.text).toBe('Every required item of Deploy in v2.3.0 → staging is done');
      expect(buttonLabels(message)).toEqual([]);
    }
    expect(textsOf(owners)).toContain(
      `✅ Item p2-a · done by <@${TICKER}> <!date^${(T0 + 10 * MINUTE) / 1000}^{date_short_pretty} {time}|2026-03-02 09:40 UTC>`,
    );
  });

  it('offers Done again when a done phase is reopened', () => {
    const reopened = untick(tickPhases(deployable, [PHASE.deploy]), ['p2-a']);

    expect(buttonLabels(render(reopened, ownersReminder))).toContain('Done');
  });

  it.each([
    ['cancelled', cancel(deployable, 'not today')],
    ['completed', complete(tickEverything(deployable))],
    ['rolled back', { ...deployable, status: 'rolled_back' as const }],
    ['rolling back', { ...deployable, status: 'rolling_back' as const }],
  ])('says the release is %s, without buttons', (word, release) => {
    const message = render(release, ownersReminder);

    expect(textsOf(message).at(-1)).toBe(`This release is ${word}; nothing left to do.`);
    expect(message.text).toBe(`v2.3.0 → staging is ${word}; nothing left to do`);
    expect(buttonLabels(message)).toEqual([]);
  });

  it('renders the same until something changes, so the sync leaves it alone', () => {
    const first = fingerprintMessage(render(deployable, ownersReminder));

    expect(
      fingerprintMessage(render({ ...deployable, rev: 99 }, ownersReminder, { now: NOW + MINUTE })),
    ).toBe(first);
    expect(fingerprintMessage(render(tick(deployable, ['p2-a']), ownersReminder))).not.toBe(first);
  });

  it('renders nothing for a phase the release does not have', () => {
    expect(renderDirectMessage(deployable, reminderTo(OWNER, '1.0', 9), context())).toBeUndefined();
  });
});

describe('renderDirectMessage for a superseded reminder', () => {
  it('says a newer reminder replaced it, lists nothing and offers no buttons', () => {
    const message = render(deployable, ownersReminder, { superseded: true });

    expect(textsOf(message)).toEqual([
      '⏰ This reminder about *Deploy* in *v2.3.0 → staging* was superseded by a newer one further down.',
    ]);
    expect(message.text).toBe('Superseded: an older reminder of Deploy in v2.3.0 → staging');
    expect(buttonLabels(message)).toEqual([]);
  });

  it('shows the same whatever the release does next, so it is updated once', () => {
    const first = render(deployable, ownersReminder, { superseded: true });

    for (const later of [tickEverything(deployable), cancel(deployable, 'x')]) {
      expect(render(later, ownersReminder, { superseded: true })).toEqual(first);
    }
  });

  it('escapes hostile phase names and versions', () => {
    const hostile = makeRelease({
      version: HOSTILE_TEXT.slice(0, 60),
      template: makeTemplate({
        phases: makeTemplate().phases.map((phase) => ({ ...phase, name: HOSTILE_TEXT })),
      }),
    });
    const message = renderSupersededReminder(hostile, PHASE.deploy);

    for (const markup of HOSTILE_MARKUP) expect(JSON.stringify(message)).not.toContain(markup);
    expect(blockKitViolations(message)).toEqual([]);
  });
});

describe('renderDirectMessage for an escalation', () => {
  const DEPLOYED_AT = T0 + 2 * 60 * MINUTE;
  const escalation: DirectMessage = {
    kind: 'checkin',
    userId: STARTER,
    checkinIndex: 0,
    ts: '1.000300',
    hash: 'h',
    permalink: PERMALINK,
  };
  const monitored = (checkin: Partial<CheckIn> = {}): Release => ({
    ...tickEverything(makeRelease()),
    deployment: { at: DEPLOYED_AT, by: TICKER },
    monitoring: { state: 'open' },
    checkins: [
      {
        index: 0,
        dueAt: DEPLOYED_AT + MINUTE,
        postedAt: DEPLOYED_AT + MINUTE,
        escalatedAt: DEPLOYED_AT + 3 * MINUTE,
        ...checkin,
      },
    ],
  });
  const answeredAt = DEPLOYED_AT + 5 * MINUTE;
  const answerLine = `✅ Healthy — <@${TICKER}> <!date^${answeredAt / 1000}^{date_short_pretty} {time}|2026-03-02 11:35 UTC>`;

  it('asks for an answer while the check-in waits for one', () => {
    const message = render(monitored(), escalation);

    expect(message.text).toBe('Check-in 1 of v2.3.0 → staging is waiting for your answer');
    expect(buttonLabels(message)).toEqual(['Healthy', 'Issue found…', 'Roll back…', 'Open the thread']);
  });

  it('shows who answered what and when, without the answers, once answered', () => {
    const message = render(
      monitored({ answer: { kind: 'healthy', by: TICKER, at: answeredAt } }),
      escalation,
    );

    expect(textsOf(message)).toContain(answerLine);
    expect(message.text).toBe('Check-in 1 of v2.3.0 → staging is answered');
    expect(buttonLabels(message)).toEqual(['Open the thread']);
  });

  it('says the release ended when the answer ended it', () => {
    const release = complete(monitored({ answer: { kind: 'healthy', by: TICKER, at: answeredAt } }));
    const message = render({ ...release, monitoring: { state: 'closed' } }, escalation);

    expect(textsOf(message)).toEqual(expect.arrayContaining([answerLine, 'The release is completed.']));
    expect(buttonLabels(message)).toEqual(['Open the thread']);
  });

  it('says no answer is needed once the release ended unanswered', () => {
    const message = render(cancel(monitored(), 'stop'), escalation);

    expect(textsOf(message)).toContain('No answer needed any more: the release is cancelled');
    expect(message.text).toBe('Check-in 1 of v2.3.0 → staging needs no answer any more');
    expect(buttonLabels(message)).toEqual(['Open the thread']);
  });

  it('renders nothing for a check-in the release does not have', () => {
    expect(renderDirectMessage(monitored(), { ...escalation, checkinIndex: 3 }, context())).toBeUndefined();
  });
});
