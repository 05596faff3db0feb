import { describe, expect, it } from 'vitest';
import type { RoleHolders } from '../../src/domain/access.js';
import type { Release } from '../../src/domain/release.js';
import { groupOpenItemsByOwner, type HeldReminder } from '../../src/domain/reminders.js';
import type { Template, TemplateItem } from '../../src/domain/template.js';
import {
  ActionId,
  CallbackId,
  decodeItemDoneActionId,
  decodeReleaseAction,
  decodeReleaseIndexMetadata,
  OwnerField,
  ReleaseRoute,
} from '../../src/views/ids.js';
import { escapeMrkdwn } from '../../src/views/mrkdwn.js';
import { renderOwnersModal } from '../../src/views/owners-modal.js';
import {
  renderOwnerReminder,
  renderThreadReminder,
  SNOOZE_CHOICES,
} from '../../src/views/reminder-message.js';
import { blockKitViolations, type Surface } from './block-kit-limits.js';
import {
  cancel,
  HOSTILE_MARKUP,
  HOSTILE_TEXT,
  item,
  MINUTE,
  makeBigTemplate,
  makeRelease,
  makeTemplate,
  PHASE,
  STARTER,
  T0,
  TICKER,
  tick,
  tickPhases,
} from './factories.js';

const OWNER = 'U0OWNER';
const OTHER = 'U0OTHER';
const PERMALINK = 'https://acme.slack.com/archives/C0DEPLOYS/p1772443800000100';
const NOW = T0 + 90 * MINUTE;
const noHolders: RoleHolders = () => undefined;

type Json = Record<string, unknown>;

/** Every mrkdwn text of the message, in order: what a reader sees. */
function textsOf(blocks: readonly unknown[]): string[] {
  return blocks.flatMap((block) => {
    const json = block as Json;
    const texts: string[] = [];
    const text = json.text as { text?: string } | undefined;
    if (text?.text) texts.push(text.text);
    for (const element of (json.elements as { text?: unknown }[] | undefined) ?? []) {
      if (typeof element.text === 'string') texts.push(element.text);
    }
    return texts;
  });
}

function buttonsOf(blocks: readonly unknown[]): Json[] {
  return blocks.flatMap((block) => {
    const json = block as Json;
    const elements = json.type === 'actions' ? (json.elements as Json[]) : [];
    const accessory = json.accessory as Json | undefined;
    return [...elements, ...(accessory?.type === 'button' ? [accessory] : [])];
  });
}

const buttonLabels = (blocks: readonly unknown[]) =>
  buttonsOf(blocks).map((button) => (button.text as { text: string }).text);

/** Every string Slack reads as mrkdwn: everything except plain_text objects. */
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

/** A template whose phase names and item texts are all hostile and as long as templates allow. */
function makeHostileTemplate(): Template {
  return makeTemplate({
    phases: makeTemplate().phases.map((phase) => ({
      ...phase,
      name: `${phase.name} ${HOSTILE_TEXT}`.slice(0, 60),
      items: phase.items.map((it) => ({ ...it, text: `${it.text} ${'<&>'.repeat(100)}`.slice(0, 300) })),
    })),
  });
}

/** The deploy phase has p2-a and p2-b required; the prepare phase done so that it is unlocked. */
const deployable = tickPhases(makeRelease({ owners: { 'p2-a': OWNER } }), [PHASE.prepare]);

describe('SNOOZE_CHOICES', () => {
  it('gives the three snoozes in milliseconds', () => {
    expect(SNOOZE_CHOICES).toEqual({ '30m': 30 * MINUTE, '1h': 60 * MINUTE, '2h': 120 * MINUTE });
  });
});

describe('renderThreadReminder', () => {
  const owners = new Map<string, TemplateItem[]>([
    [OWNER, [item('p2-a')]],
    [STARTER, [item('p2-b', { text: 'Flip <!channel> & go' })]],
  ]);

  it('says which phase is due and lists the open items under each owner', () => {
    const message = renderThreadReminder(deployable, PHASE.deploy, T0, owners, [], NOW);
    const texts = textsOf(message.blocks);

    expect(texts[0]).toBe(
      `⏰ *Deploy* of *v2.3.0 → staging* was due <!date^${T0 / 1000}^{date_short_pretty} {time}|2026-03-02 09:30 UTC>; 2 required items are open:`,
    );
    expect(texts.slice(1)).toEqual([
      `<@${OWNER}>:\n• Item p2-a`,
      `<@${STARTER}>:\n• Flip &lt;!channel&gt; &amp; go`,
    ]);
    expect(blockKitViolations(message)).toEqual([]);
  });

  it('has a fallback text the benchmark counts by its prefix', () => {
    const message = renderThreadReminder(deployable, PHASE.deploy, T0, owners, [], NOW);

    expect(message.text.startsWith('Reminder: Deploy of v2.3.0 → staging')).toBe(true);
    expect(message.text).toBe('Reminder: Deploy of v2.3.0 → staging, 2 required items are open');
  });

  it('says "is due" with the date when the due time is ahead, and without one when there is none', () => {
    const single = new Map([[OWNER, [item('p2-a')]]]);
    const oneOpen = tick(deployable, ['p2-b']);
    const ahead = textsOf(
      renderThreadReminder(oneOpen, PHASE.deploy, NOW + MINUTE, single, [], NOW).blocks,
    )[0];
    const none = textsOf(renderThreadReminder(oneOpen, PHASE.deploy, undefined, single, [], NOW).blocks)[0];

    expect(ahead).toContain(`is due <!date^${(NOW + MINUTE) / 1000}^`);
    expect(ahead).toContain('1 required item is open:');
    expect(none).toBe('⏰ *Deploy* of *v2.3.0 → staging* is due; 1 required item is open:');
  });

  it('lists at most ten items per owner and counts the rest', () => {
    const items = Array.from({ length: 14 }, (_unused, index) => item(`x-${index}`));
    const release = makeRelease({
      template: makeTemplate({ phases: [{ id: 'deploy', name: 'Deploy', items }] }),
    });
    const message = renderThreadReminder(release, 0, T0, new Map([[OWNER, items]]), [], NOW);
    const section = textsOf(message.blocks)[1]!;

    expect(section.match(/^• /gm)).toHaveLength(10);
    expect(section.endsWith('\n…and 4 more')).toBe(true);
    expect(textsOf(message.blocks)[0]).toContain('14 required items are open');
  });

  it('names at most forty owners, then counts the people left', () => {
    const many = new Map(
      Array.from(
        { length: 45 },
        (_unused, index) => [`U0P${index}`, [item('p2-a')]] as [string, TemplateItem[]],
      ),
    );
    const message = renderThreadReminder(tick(deployable, ['p2-b']), PHASE.deploy, T0, many, [], NOW);

    expect(message.blocks).toHaveLength(42);
    expect(message.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '…and 5 more people' }],
    });
    expect(blockKitViolations(message)).toEqual([]);
  });

  it('escapes hostile phase names, versions and item texts, and stays within the limits', () => {
    const release = makeRelease({ template: makeHostileTemplate(), version: '<!channel>' });
    const items = release.template.phases[PHASE.deploy]!.items;
    const tenLong = Array.from({ length: 12 }, (_unused, index) => ({ ...items[0]!, id: `h-${index}` }));
    const message = renderThreadReminder(release, PHASE.deploy, T0, new Map([[OWNER, tenLong]]), [], NOW);

    expect(blockKitViolations(message)).toEqual([]);
    expectNoHostileMarkup(message);
    expect(message.text.startsWith('Reminder: Deploy &lt;!channel&gt;')).toBe(true);
    expect(message.text).toContain('of &lt;!channel&gt; → staging');
    // Whole lines only: the list stops early rather than cutting an item's text.
    const section = textsOf(message.blocks)[1]!;
    expect(section).toMatch(/\n…and \d+ more$/);
    const whole = `• ${escapeMrkdwn(items[0]!.text)}`;
    for (const line of section.split('\n').slice(1, -1)) expect(line).toBe(whole);
  });
});

describe('renderThreadReminder with people held', () => {
  const SLEEPER = 'U0SLEEPER';
  // One phase of three required items: one with the starter, one owned by someone who snoozed, one
  // owned by someone in their quiet hours.
  const trio = makeRelease({
    template: makeTemplate({
      phases: [{ id: 'prepare', name: 'Prepare', items: [item('a'), item('b'), item('c')] }],
    }),
    owners: { b: OTHER, c: SLEEPER },
  });
  const snoozedAt = NOW + 30 * MINUTE;
  const morning = NOW + 8 * 60 * MINUTE;
  const held: HeldReminder[] = [
    { userId: OTHER, reason: 'snoozed', until: snoozedAt, items: [item('b')] },
    { userId: SLEEPER, reason: 'quiet_hours', until: morning, items: [item('c')] },
  ];

  it('given an owner snoozed and one in quiet hours, counts all three open items and says whose wait', () => {
    const message = renderThreadReminder(trio, 0, T0, new Map([[STARTER, [item('a')]]]), held, NOW);
    const texts = textsOf(message.blocks);

    expect(texts[0]).toContain('; 3 required items are open:');
    expect(message.text).toBe('Reminder: Prepare of v2.3.0 → staging, 3 required items are open');
    expect(texts.slice(1)).toEqual([
      `<@${STARTER}>:\n• Item a`,
      [
        `💤 Snoozed until <!date^${snoozedAt / 1000}^{date_short_pretty} {time}|2026-03-02 11:30 UTC>:`,
        '• Item b',
        `🌙 Quiet hours until <!date^${morning / 1000}^{date_short_pretty} {time}|2026-03-02 19:00 UTC>:`,
        '• Item c',
      ].join('\n'),
    ]);
    expect(blockKitViolations(message)).toEqual([]);
  });

  it('given people held, does not mention them, so that the message does not notify them', () => {
    const message = renderThreadReminder(trio, 0, T0, new Map([[STARTER, [item('a')]]]), held, NOW);

    expect(JSON.stringify(message)).not.toContain(`<@${OTHER}>`);
    expect(JSON.stringify(message)).not.toContain(`<@${SLEEPER}>`);
  });

  it('given a person’s own round, names only them and still counts the others’ open items', () => {
    const message = renderThreadReminder(trio, 0, T0, new Map([[OTHER, [item('b')]]]), [], NOW);
    const texts = textsOf(message.blocks);

    expect(texts[0]).toContain('; 3 required items are open:');
    expect(texts.slice(1)).toEqual([`<@${OTHER}>:\n• Item b`, '…and 2 more open items in the checklist']);
  });

  it('given a role item reminded to two holders, counts it once', () => {
    const holders: RoleHolders = (role) => (role === 'ops' ? new Set([OWNER, OTHER]) : undefined);
    const release = makeRelease();
    const owners = groupOpenItemsByOwner(release, PHASE.prepare, holders);
    const message = renderThreadReminder(release, PHASE.prepare, T0, owners, [], NOW);

    expect(owners.size).toBe(3);
    expect(textsOf(message.blocks)[0]).toContain('; 2 required items are open:');
  });
});

describe('renderOwnerReminder', () => {
  const render = (release: Release, ownerId = OWNER, permalink: string | undefined = PERMALINK, now = NOW) =>
    renderOwnerReminder(release, PHASE.deploy, ownerId, noHolders, T0, permalink, now);

  it("shows only the owner's required items, each open one with a Done button", () => {
    const message = render(deployable);
    const texts = textsOf(message.blocks);

    expect(texts[0]).toBe(
      `⏰ Reminder: these required items of *Deploy* in *v2.3.0 → staging* are yours; the phase was due <!date^${T0 / 1000}^{date_short_pretty} {time}|2026-03-02 09:30 UTC>.`,
    );
    expect(texts[1]).toBe('⬜ Item p2-a');
    expect(texts).not.toContain('⬜ Item p2-b');
    expect(message.blocks[1]).toMatchObject({
      accessory: { type: 'button', text: { text: 'Done' }, value: 'p2-a' },
    });
    const done = buttonsOf(message.blocks).find((button) => button.value === 'p2-a');
    expect(decodeItemDoneActionId(done?.action_id)).toEqual({ releaseId: 'r42', itemId: 'p2-a' });
    expect(blockKitViolations(message)).toEqual([]);
  });

  it('gives the starter the items without an owner', () => {
    const texts = textsOf(render(deployable, STARTER).blocks);

    expect(texts).toContain('⬜ Item p2-b');
    expect(texts).not.toContain('⬜ Item p2-a');
  });

  it('given role holders, shows each person the items the thread reminder names them for, and counts them alike', () => {
    // a: owned; b: held by the qa role; c: neither, so the starter's.
    const release = makeRelease({
      template: makeTemplate({
        phases: [
          { id: 'prepare', name: 'Prepare', items: [item('a'), item('b', { role: 'qa' }), item('c')] },
        ],
      }),
      owners: { a: OWNER },
    });
    const holders: RoleHolders = (role) => (role === 'qa' ? new Set([OTHER]) : undefined);
    const grouped = groupOpenItemsByOwner(release, 0, holders);

    expect([...grouped.keys()]).toEqual([OWNER, OTHER, STARTER]);
    for (const [person, items] of grouped) {
      const message = renderOwnerReminder(release, 0, person, holders, T0, PERMALINK, NOW);
      const listed = textsOf(message.blocks).filter((text) => text.startsWith('⬜ '));

      expect(listed).toEqual(items.map((entry) => `⬜ ${entry.text}`));
      expect(message.text).toBe(
        `Your open items: ${items.length} required item of Prepare in v2.3.0 → staging`,
      );
    }
  });

  it('offers three snoozes and a link to the checklist', () => {
    const message = render(deployable);
    const buttons = buttonsOf(message.blocks).filter((button) => button.value === undefined);

    expect(buttonLabels(message.blocks)).toEqual([
      'Done',
      'Snooze 30 min',
      'Snooze 1 h',
      'Snooze 2 h',
      'Open the checklist',
    ]);
    expect(
      buttons.slice(0, 3).map((button) => decodeReleaseAction(ReleaseRoute.snooze, button.action_id)),
    ).toEqual([
      { releaseId: 'r42', index: PHASE.deploy, extra: '30m' },
      { releaseId: 'r42', index: PHASE.deploy, extra: '1h' },
      { releaseId: 'r42', index: PHASE.deploy, extra: '2h' },
    ]);
    expect(buttons[3]).toMatchObject({ action_id: ActionId.openLink, url: PERMALINK });
  });

  it('has no link button without a permalink', () => {
    const message = renderOwnerReminder(deployable, PHASE.deploy, OWNER, noHolders, T0, undefined, NOW);

    expect(buttonLabels(message.blocks)).toEqual(['Done', 'Snooze 30 min', 'Snooze 1 h', 'Snooze 2 h']);
  });

  it('has a fallback text that is not counted as a thread reminder', () => {
    const { text } = render(deployable);

    expect(text.startsWith('Your open items: ')).toBe(true);
    expect(text).toBe('Your open items: 1 required item of Deploy in v2.3.0 → staging');
  });

  it('says until when the reminders are snoozed, only while the snooze lasts', () => {
    const snoozedAt = NOW + 30 * MINUTE;
    const snoozed = { ...deployable, snoozes: { [`${PHASE.deploy}:${OWNER}`]: snoozedAt } };

    expect(textsOf(render(snoozed).blocks)).toContain(
      `💤 Snoozed until <!date^${snoozedAt / 1000}^{date_short_pretty} {time}|2026-03-02 11:30 UTC>`,
    );
    expect(JSON.stringify(render(snoozed, OWNER, PERMALINK, snoozedAt + 1))).not.toContain('Snoozed');
    expect(JSON.stringify(render(snoozed, OTHER))).not.toContain('Snoozed');
  });

  it('shows who ticked a done item, without a button', () => {
    const at = T0 + 70 * MINUTE;
    const release = tick({ ...deployable, owners: { 'p2-a': OWNER, 'p2-b': OWNER } }, ['p2-b'], at);
    const message = render(release);

    expect(textsOf(message.blocks)).toContain(
      `✅ Item p2-b · done by <@${TICKER}> <!date^${at / 1000}^{date_short_pretty} {time}|2026-03-02 10:40 UTC>`,
    );
    expect(buttonLabels(message.blocks).filter((label) => label === 'Done')).toHaveLength(1);
  });

  it('thanks the owner once all their items are done, with no buttons left', () => {
    const message = render(tick(deployable, ['p2-a']));
    const texts = textsOf(message.blocks);

    expect(texts.at(-1)).toBe('✅ All your items in *Deploy* are done. Thank you!');
    expect(buttonsOf(message.blocks)).toEqual([]);
    expect(message.text.startsWith('Your open items')).toBe(false);
    expect(message.text.startsWith('Reminder: ')).toBe(false);
    expect(blockKitViolations(message)).toEqual([]);
  });

  it.each([
    ['rolled back', { ...deployable, status: 'rolled_back' as const, cancelReason: 'broken' }],
    ['cancelled', cancel(deployable, 'stop')],
  ])('says there is nothing left to do once the release is %s', (word, release) => {
    const message = render(release);

    expect(textsOf(message.blocks).at(-1)).toBe(`This release is ${word}; nothing left to do.`);
    expect(textsOf(message.blocks)).toContain('⬜ Item p2-a');
    expect(buttonsOf(message.blocks)).toEqual([]);
    expect(message.text.startsWith('Your open items')).toBe(false);
    expect(blockKitViolations(message)).toEqual([]);
  });

  it('explains a locked phase instead of offering Done buttons that would be refused', () => {
    const locked = makeRelease({ owners: { 'p2-a': OWNER } });
    const message = render(locked);

    expect(textsOf(message.blocks)).toContain(
      '🔒 These can be ticked once *Prepare* is done; it is still open.',
    );
    expect(buttonLabels(message.blocks)).toEqual([
      'Snooze 30 min',
      'Snooze 1 h',
      'Snooze 2 h',
      'Open the checklist',
    ]);
  });

  it('says so when none of the items is theirs any more', () => {
    const message = render(deployable, OTHER);

    expect(textsOf(message.blocks).at(-1)).toBe('None of the required items of *Deploy* is yours any more.');
    expect(buttonsOf(message.blocks)).toEqual([]);
  });

  it('shows at most forty items and stays within the limits for a phase of 100', () => {
    const release = makeRelease({ template: makeBigTemplate() });
    const message = renderOwnerReminder(release, 0, STARTER, noHolders, T0, PERMALINK, NOW);
    const items = textsOf(message.blocks).filter((text) => text.startsWith('⬜ '));

    expect(items).toHaveLength(40);
    expect(textsOf(message.blocks)).toContain('…and 40 more in the checklist');
    expect(blockKitViolations(message)).toEqual([]);
  });

  it('escapes hostile phase names, versions and item texts', () => {
    const release = tickPhases(makeRelease({ template: makeHostileTemplate(), version: '<@U1>' }), [0]);
    const surfaces: Surface[] = [
      renderOwnerReminder(release, PHASE.deploy, STARTER, noHolders, T0, PERMALINK, NOW),
      renderOwnerReminder(tickPhases(release, [2]), PHASE.deploy, STARTER, noHolders, T0, PERMALINK, NOW),
      renderOwnerReminder(cancel(release, 'x'), PHASE.deploy, STARTER, noHolders, undefined, undefined, NOW),
    ];

    for (const surface of surfaces) {
      expect(blockKitViolations(surface)).toEqual([]);
      expectNoHostileMarkup(surface);
    }
  });
});

describe('renderOwnersModal', () => {
  const violations = (surface: Surface) => blockKitViolations(surface);

  it('has one optional user picker per item, starting at the current owner', () => {
    const release = makeRelease({ owners: { 'p2-b': OWNER } });
    const view = renderOwnersModal(release, PHASE.deploy, 'T0TEAM');
    const inputs = view.blocks.filter((block) => block.type === 'input');

    expect(view).toMatchObject({
      type: 'modal',
      callback_id: CallbackId.assignOwners,
      title: { type: 'plain_text', text: 'Assign owners' },
      submit: { type: 'plain_text', text: 'Save' },
    });
    expect(decodeReleaseIndexMetadata(view.private_metadata)).toEqual({
      teamId: 'T0TEAM',
      releaseId: 'r42',
      index: PHASE.deploy,
    });
    expect(inputs).toEqual(
      ['p2-a', 'p2-b', 'p2-opt'].map((id) => ({
        type: 'input',
        block_id: `${OwnerField.blockPrefix}${id}`,
        optional: true,
        label: { type: 'plain_text', text: `Item ${id}` },
        element: {
          type: 'users_select',
          action_id: OwnerField.action,
          placeholder: { type: 'plain_text', text: 'Choose an owner' },
          ...(id === 'p2-b' ? { initial_user: OWNER } : {}),
        },
      })),
    );
    expect(violations(view)).toEqual([]);
  });

  it('says who gets the reminders about items without an owner', () => {
    const view = renderOwnersModal(makeRelease(), PHASE.deploy, 'T0TEAM');

    expect(textsOf(view.blocks)[0]).toBe(
      `*Deploy* of *v2.3.0 → staging*. Reminders about an item go to its owner; items without one go to <@${STARTER}>.`,
    );
  });

  it('shows at most 95 items, with labels cut to 150 characters and left unescaped (plain_text)', () => {
    const template = makeBigTemplate(100);
    template.phases[0]!.items[0]!.text = `<!channel> ${'x'.repeat(290)}`;
    const view = renderOwnersModal(makeRelease({ template }), 0, 'T0TEAM');
    const inputs = view.blocks.filter((block) => block.type === 'input') as { label: { text: string } }[];

    expect(inputs).toHaveLength(95);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(inputs[0]!.label.text).toHaveLength(150);
    expect(inputs[0]!.label.text.startsWith('<!channel> xxx')).toBe(true);
    expect(textsOf(view.blocks).at(-1)).toBe('The last 5 items of the phase do not fit here.');
    expect(violations(view)).toEqual([]);
    expectNoHostileMarkup(view);
  });

  it('escapes a hostile phase name and version in its mrkdwn', () => {
    const release = makeRelease({ template: makeHostileTemplate(), version: '<!here>' });
    const view = renderOwnersModal(release, PHASE.deploy, 'T0TEAM');

    expectNoHostileMarkup(view);
    expect(JSON.stringify(markupStrings(view))).not.toContain('<!here>');
    expect(violations(view)).toEqual([]);
  });
});
