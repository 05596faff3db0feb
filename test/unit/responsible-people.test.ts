import { describe, expect, it } from 'vitest';
import type { RoleHolders } from '../../src/domain/access.js';
import { findBlockingPhase, isItemDone, type Release } from '../../src/domain/release.js';
import { groupOpenItemsByOwner, type HeldReminder, responsibleFor } from '../../src/domain/reminders.js';
import type { TemplateItem } from '../../src/domain/template.js';
import { renderDirectMessage } from '../../src/views/direct-messages.js';
import { renderHome } from '../../src/views/home.js';
import { decodeItemDoneActionId } from '../../src/views/ids.js';
import { escapeMrkdwn } from '../../src/views/mrkdwn.js';
import type { RenderedMessage } from '../../src/views/release-messages.js';
import { renderOwnerReminder, renderThreadReminder } from '../../src/views/reminder-message.js';
import { item, MINUTE, makeRelease, makeTemplate, STARTER, T0, tick } from './factories.js';

// Issue 14: one rule (responsibleFor) decides who is responsible for an item, and every place that
// names responsible people must agree with it. Each place is read the way a person reads it (the
// mrkdwn texts, the Done buttons' action ids, the counts stated) and compared with a table built
// from responsibleFor alone, so a place that used any other rule shows up as a differing table.

const OWNER = 'U0OWNER';
const OWNER2 = 'U0OWNER2';
const QA1 = 'U0QA1';
const QA2 = 'U0QA2';
const OUTSIDER = 'U0OUTSIDER';
const PEOPLE = [STARTER, OWNER, OWNER2, QA1, QA2, OUTSIDER];
const NOW = T0 + 90 * MINUTE;

// qa is held by two people; "empty" is configured to a user group nobody is in; "security" is not
// configured at all (its holders are unknown), so both fall back to the starter.
const holders: RoleHolders = (role) =>
  role === 'qa' ? new Set([QA1, QA2]) : role === 'empty' ? new Set<string>() : undefined;

/** Release A: a phase mixing every kind of item, then a phase locked behind it. */
const releaseA = makeRelease({
  id: 'r42',
  version: 'v2.3.0',
  template: makeTemplate({
    phases: [
      {
        id: 'prepare',
        name: 'Prepare',
        due: 'T-1d',
        items: [
          item('owned'),
          item('owned-role', { role: 'qa' }),
          item('qa-check', { role: 'qa' }),
          item('qa-done', { role: 'qa' }),
          item('sec-review', { role: 'security' }),
          item('empty-role', { role: 'empty' }),
          item('plain'),
          item('plain-done'),
          item('optional', { required: false, role: 'qa' }),
        ],
      },
      {
        id: 'ship',
        name: 'Ship',
        due: 'T-0',
        items: [item('ship-qa', { role: 'qa' }), item('ship-owned'), item('ship-plain')],
      },
    ],
  }),
  owners: { owned: OWNER, 'owned-role': OWNER2, 'ship-owned': QA1 },
  items: {
    'qa-done': { done: true, by: QA2, at: T0 + 5 * MINUTE },
    'plain-done': { done: true, by: STARTER, at: T0 + 6 * MINUTE },
  },
});

/** Release B, started by a qa holder: the starter fallback lands on them, and STARTER owns an item. */
const releaseB = makeRelease({
  id: 'r43',
  version: 'v2.4.0',
  startedBy: QA1,
  template: makeTemplate({
    phases: [
      {
        id: 'check',
        name: 'Check',
        items: [
          item('b-sec', { role: 'security' }),
          item('b-qa', { role: 'qa' }),
          item('b-own', { role: 'qa' }),
          item('b-plain'),
          item('b-done'),
        ],
      },
    ],
  }),
  owners: { 'b-own': STARTER },
  items: { 'b-done': { done: true, by: QA1, at: T0 + 7 * MINUTE } },
});

const permalinkOf = (release: Release) => `https://acme.slack.com/archives/C0DEPLOYS/p${release.id}`;

type Json = Record<string, unknown>;

/** Every mrkdwn text of a surface, in order, and its buttons. */
function textsOf(blocks: readonly unknown[]): string[] {
  return blocks.flatMap((block) => {
    const json = block as Json;
    const texts: string[] = [];
    const text = json.text as { type?: string; text?: string } | undefined;
    if (text?.text && text.type === 'mrkdwn') texts.push(text.text);
    for (const element of (json.elements as { type?: string; text?: unknown }[] | undefined) ?? []) {
      if (element.type === 'mrkdwn' && typeof element.text === 'string') texts.push(element.text);
    }
    return texts;
  });
}

function actionIdsOf(blocks: readonly unknown[]): string[] {
  return blocks.flatMap((block) => {
    const json = block as Json;
    const elements = json.type === 'actions' ? (json.elements as Json[]) : [];
    const accessory = json.accessory as Json | undefined;
    return [...elements, ...(accessory?.type === 'button' ? [accessory] : [])].map((button) =>
      String(button.action_id),
    );
  });
}

/** The item an item's shown text stands for; a text no item has fails the test. */
function itemByText(release: Release, shown: string): TemplateItem {
  const found = release.template.phases
    .flatMap((phase) => phase.items)
    .find((candidate) => escapeMrkdwn(candidate.text) === shown);
  if (!found) throw new Error(`no item of ${release.id} reads "${shown}"`);
  return found;
}

/** "N required item(s) is/are open" in a thread reminder's heading or fallback. */
function statedOpen(text: string): number {
  const match = text.match(/(\d+) required items? (?:is|are) open/);
  if (!match) throw new Error(`no open count in "${text}"`);
  return Number(match[1]);
}

// A row per (person, item) a place names: "<person> <release> p<phase> <item>", with the item's state
// where the place shows it.
type Row = string;
const row = (person: string, release: Release, phaseIndex: number, itemId: string, state = '') =>
  `${person} ${release.id} p${phaseIndex} ${itemId}${state ? ` ${state}` : ''}`;
const sorted = (rows: Iterable<Row>) => [...rows].sort();

/** What responsibleFor says about one phase: each required item with each person responsible. */
function ruleOf(release: Release, phaseIndex: number) {
  const items = release.template.phases[phaseIndex]!.items.filter((candidate) => candidate.required);
  return items.flatMap((candidate) =>
    responsibleFor(release, candidate, holders).map((person) => ({
      person,
      item: candidate,
      done: isItemDone(release, candidate.id),
    })),
  );
}

interface ThreadSeen {
  /** Who the message names for which open item. */
  named: Row[];
  /** Items listed as waiting (snoozed or quiet hours), without a name. */
  held: string[];
  /** Per person named, how many items the message gives them (listed plus "…and N more"). */
  perPerson: Map<string, number>;
  /** The open count in the heading, the fallback, and the "…and N more open items" line. */
  heading: number;
  fallback: number;
  unnamed: number;
}

/**
 * One round's thread reminder, put together as runPhaseReminder and runOwnerReminder do: the open items
 * grouped by person, minus the people held (`held`) or only the people of an own round (`only`). The
 * job itself needs Redis; test/e2e/responsible.test.ts reads what it posts.
 */
function readThread(
  release: Release,
  phaseIndex: number,
  options: { held?: string[]; only?: string } = {},
): ThreadSeen {
  const byPerson = groupOpenItemsByOwner(release, phaseIndex, holders);
  const owners = new Map<string, TemplateItem[]>();
  const held: HeldReminder[] = [];
  for (const [person, items] of byPerson) {
    if (options.only !== undefined && person !== options.only) continue;
    if (options.held?.includes(person))
      held.push({ userId: person, reason: 'snoozed', until: NOW + 30 * MINUTE, items });
    else owners.set(person, items);
  }
  const message = renderThreadReminder(release, phaseIndex, undefined, owners, held, NOW);
  const [heading, ...rest] = textsOf(message.blocks);
  const seen: ThreadSeen = {
    named: [],
    held: [],
    perPerson: new Map(),
    heading: statedOpen(heading!),
    fallback: statedOpen(message.text),
    unnamed: 0,
  };
  for (const text of rest) {
    const [first, ...lines] = text.split('\n');
    const mention = first!.match(/^<@([A-Z0-9]+)>:$/);
    const unnamed = first!.match(/^…and (\d+) more open items? in the checklist$/);
    if (unnamed) {
      seen.unnamed = Number(unnamed[1]);
      continue;
    }
    const bullets = lines.filter((line) => line.startsWith('• ')).map((line) => line.slice(2));
    const more = Number(lines.find((line) => line.startsWith('…and '))?.match(/\d+/)?.[0] ?? 0);
    if (mention) {
      const person = mention[1]!;
      for (const shown of bullets)
        seen.named.push(row(person, release, phaseIndex, itemByText(release, shown).id));
      seen.perPerson.set(person, bullets.length + more);
    } else if (/^(💤|🌙) /.test(first!)) {
      // Held groups: a heading line per reason and time, then its items.
      for (const line of text.split('\n').filter((candidate) => candidate.startsWith('• ')))
        seen.held.push(itemByText(release, line.slice(2)).id);
    } else {
      throw new Error(`unexpected thread reminder text "${text}"`);
    }
  }
  return seen;
}

interface DirectSeen {
  /** Every item listed, with its state: "open" or "done". */
  listed: Row[];
  /** Items with a Done button. */
  doneButtons: Row[];
  /** "Your open items: N required items …", when the DM asks for something. */
  openCount: number | undefined;
}

function readDirect(release: Release, phaseIndex: number, person: string, message: RenderedMessage) {
  const seen: DirectSeen = { listed: [], doneButtons: [], openCount: undefined };
  for (const text of textsOf(message.blocks)) {
    const line = text.match(/^(⬜|✅) (.+?)(?: · done by .*)?$/s);
    if (!line) continue;
    // "✅ *Prepare* is done…" and "✅ All your items…" are not items.
    if (/^✅ (\*.+\* is done|All your items)/.test(text)) continue;
    const shown = itemByText(release, line[2]!);
    seen.listed.push(row(person, release, phaseIndex, shown.id, line[1] === '⬜' ? 'open' : 'done'));
  }
  for (const actionId of actionIdsOf(message.blocks)) {
    const target = decodeItemDoneActionId(actionId);
    if (!target) continue;
    expect(target.releaseId).toBe(release.id);
    seen.doneButtons.push(row(person, release, phaseIndex, target.itemId));
  }
  const count = message.text.match(/^Your open items: (\d+) required items? of /);
  if (count) seen.openCount = Number(count[1]);
  return seen;
}

/** The DM places: the reminder as posted (and as redrawn after a Done or Snooze click), and as the sync redraws it. */
function directPlaces(release: Release, phaseIndex: number, person: string) {
  const posted = renderOwnerReminder(
    release,
    phaseIndex,
    person,
    holders,
    undefined,
    permalinkOf(release),
    NOW,
  );
  const synced = renderDirectMessage(
    release,
    { kind: 'reminder', userId: person, phaseIndex, ts: '1772443800.000100', hash: 'h' },
    { superseded: false, holders, threadPermalink: permalinkOf(release), now: NOW },
  );
  if (!synced) throw new Error('the sync rendered nothing');
  return { 'reminder DM': posted, 'DM as the sync redraws it': synced };
}

/** The Home tab's "Waiting on you" rows for a person, and how many it says there are. */
function readHome(releases: readonly Release[], person: string): { rows: Row[]; count: number } {
  const view = renderHome({
    userId: person,
    active: releases,
    recent: [],
    permalinks: new Map(releases.map((release) => [release.id, permalinkOf(release)])),
    holders,
    statsBlocks: [],
    now: NOW,
  });
  const waiting = textsOf(view.blocks).find((text) => text.startsWith('*Waiting on you*\n'));
  if (!waiting) throw new Error('no "Waiting on you" section');
  const rows: Row[] = [];
  let more = 0;
  for (const line of waiting.split('\n').slice(1)) {
    if (line === 'Nothing is waiting on you.') continue;
    const andMore = line.match(/^…and (\d+) more$/);
    if (andMore) {
      more = Number(andMore[1]);
      continue;
    }
    const match = line.match(/^⬜ <([^|>]+)\|[^>]*> · (.+?): (.+)$/);
    if (!match) throw new Error(`unexpected Home line "${line}"`);
    const release = releases.find((candidate) => permalinkOf(candidate) === match[1]);
    if (!release) throw new Error(`Home links to no release: ${line}`);
    const phaseIndex = release.template.phases.findIndex((phase) => escapeMrkdwn(phase.name) === match[2]);
    rows.push(row(person, release, phaseIndex, itemByText(release, match[3]!).id));
  }
  return { rows, count: rows.length + more };
}

/**
 * Walks every place for every person and phase, and checks each shows exactly what responsibleFor
 * says, in its own projection: the thread the open items, a DM all of the person's items with their
 * state (Done only while tickable), the Home tab the open items of unlocked phases. Counts too.
 */
function expectEveryPlaceAgrees(releases: readonly Release[]) {
  const expected = { thread: [] as Row[], dm: [] as Row[], done: [] as Row[], home: [] as Row[] };
  const seen = new Map<string, Row[]>();
  const add = (place: string, rows: Row[]) => seen.set(place, [...(seen.get(place) ?? []), ...rows]);

  for (const release of releases) {
    release.template.phases.forEach((phase, phaseIndex) => {
      const rule = ruleOf(release, phaseIndex);
      if (rule.length === 0) return;
      const unlocked = findBlockingPhase(release, phaseIndex) === undefined;
      const openItems = new Set(rule.filter((entry) => !entry.done).map((entry) => entry.item.id));
      for (const entry of rule) {
        const at = [entry.person, release, phaseIndex, entry.item.id] as const;
        expected.dm.push(row(...at, entry.done ? 'done' : 'open'));
        if (entry.done) continue;
        expected.thread.push(row(...at));
        if (!unlocked) continue;
        expected.done.push(row(...at));
        expected.home.push(row(...at));
      }

      // A phase with nothing open gets no reminder round (the job drops it).
      if (openItems.size > 0) {
        const thread = readThread(release, phaseIndex);
        add('thread reminder', thread.named);
        const where = `${release.id} ${phase.name}`;
        expect(thread.heading, `thread heading count, ${where}`).toBe(openItems.size);
        expect(thread.fallback, `thread fallback count, ${where}`).toBe(openItems.size);
        expect(thread.unnamed, `thread unnamed count, ${where}`).toBe(0);
        for (const person of PEOPLE) {
          const mine = rule.filter((entry) => entry.person === person && !entry.done).length;
          expect(thread.perPerson.get(person) ?? 0, `thread count for ${person}, ${where}`).toBe(mine);
        }
      }

      for (const person of PEOPLE) {
        const mineOpen = rule.filter((entry) => entry.person === person && !entry.done).length;
        for (const [place, message] of Object.entries(directPlaces(release, phaseIndex, person))) {
          const dm = readDirect(release, phaseIndex, person, message);
          add(place, dm.listed);
          add(`${place}: Done buttons`, dm.doneButtons);
          // The count is stated while the person has something open in a phase still open.
          expect(dm.openCount, `${place} count for ${person}, ${release.id} ${phase.name}`).toBe(
            mineOpen > 0 ? mineOpen : undefined,
          );
        }
      }
    });
  }
  for (const person of PEOPLE) {
    const home = readHome(releases, person);
    add('Home tab', home.rows);
    expect(home.count, `Home count for ${person}`).toBe(
      expected.home.filter((entry) => entry.startsWith(`${person} `)).length,
    );
  }

  // Each projection has rows, so no place passes by showing nothing.
  for (const rows of Object.values(expected)) expect(rows.length).toBeGreaterThan(0);
  expect(sorted(seen.get('thread reminder') ?? []), 'thread reminder').toEqual(sorted(expected.thread));
  for (const place of ['reminder DM', 'DM as the sync redraws it']) {
    expect(sorted(seen.get(place) ?? []), place).toEqual(sorted(expected.dm));
    expect(sorted(seen.get(`${place}: Done buttons`) ?? []), `${place}: Done buttons`).toEqual(
      sorted(expected.done),
    );
  }
  expect(sorted(seen.get('Home tab') ?? []), 'Home tab').toEqual(sorted(expected.home));
}

describe('every place that names responsible people agrees with responsibleFor', () => {
  it('gives each kind of item to the people the rule names', () => {
    // The table the places are checked against, spelled out once for the first phase of release A.
    expect(
      ruleOf(releaseA, 0).map((entry) => `${entry.item.id}: ${entry.person}${entry.done ? ' (done)' : ''}`),
    ).toEqual([
      `owned: ${OWNER}`,
      `owned-role: ${OWNER2}`,
      `qa-check: ${QA1}`,
      `qa-check: ${QA2}`,
      `qa-done: ${QA1} (done)`,
      `qa-done: ${QA2} (done)`,
      `sec-review: ${STARTER}`,
      `empty-role: ${STARTER}`,
      `plain: ${STARTER}`,
      `plain-done: ${STARTER} (done)`,
    ]);
  });

  it('with owned, role-held, unheld-role and unowned items, some done, and a locked phase', () => {
    expectEveryPlaceAgrees([releaseA, releaseB]);
  });

  it('after Done clicks from the DMs of a holder and an owner (QA2 then has nothing open in B)', () => {
    const clicked = tick(tick(releaseA, ['qa-check'], NOW, QA1), ['owned'], NOW + MINUTE, OWNER);
    expectEveryPlaceAgrees([clicked, tick(releaseB, ['b-qa'], NOW, QA2)]);
  });

  it('once the first phase is done and the next one opens', () => {
    const prepared = tick(releaseA, ['owned', 'owned-role', 'qa-check', 'sec-review', 'empty-role', 'plain']);
    expectEveryPlaceAgrees([prepared, releaseB]);
  });
});

describe('the issue’s case: an unowned qa item in a release the lead started', () => {
  const LEAD = 'U0LEAD';
  const QA = 'U0QA';
  const rolesOfIssue: RoleHolders = (role) => (role === 'qa' ? new Set([QA]) : undefined);
  const release = makeRelease({
    startedBy: LEAD,
    template: makeTemplate({
      phases: [
        {
          id: 'prepare',
          name: 'Prepare',
          items: [item('backup'), item('notes'), item('signoff', { role: 'qa' })],
        },
      ],
    }),
  });
  const dmOf = (person: string, of: Release = release) =>
    renderOwnerReminder(of, 0, person, rolesOfIssue, undefined, undefined, NOW);
  const doneButtons = (message: RenderedMessage) =>
    actionIdsOf(message.blocks).flatMap((id) => decodeItemDoneActionId(id)?.itemId ?? []);

  it('names the holder, not the lead, for the qa item, everywhere, with counts that add up', () => {
    const owners = groupOpenItemsByOwner(release, 0, rolesOfIssue);
    const thread = renderThreadReminder(release, 0, undefined, owners, [], NOW);

    expect(textsOf(thread.blocks)).toEqual([
      '⏰ *Prepare* of *v2.3.0 → staging* is due; 3 required items are open:',
      `<@${LEAD}>:\n• Item backup\n• Item notes`,
      `<@${QA}>:\n• Item signoff`,
    ]);
    expect(dmOf(LEAD).text).toBe('Your open items: 2 required items of Prepare in v2.3.0 → staging');
    expect(doneButtons(dmOf(LEAD))).toEqual(['backup', 'notes']);
    expect(textsOf(dmOf(LEAD).blocks).join('\n')).not.toContain('Item signoff');
    expect(dmOf(QA).text).toBe('Your open items: 1 required item of Prepare in v2.3.0 → staging');
    expect(textsOf(dmOf(QA).blocks)).toContain('⬜ Item signoff');
    expect(doneButtons(dmOf(QA))).toEqual(['signoff']);
  });

  it('shows the holder their item done after their click, and the lead still nothing of it', () => {
    const ticked = tick(release, ['signoff'], NOW, QA);

    expect(textsOf(dmOf(QA, ticked).blocks).at(-1)).toBe(
      '✅ All your items in *Prepare* are done. Thank you!',
    );
    expect(doneButtons(dmOf(QA, ticked))).toEqual([]);
    expect(dmOf(LEAD, ticked).text).toBe('Your open items: 2 required items of Prepare in v2.3.0 → staging');
    expect(textsOf(dmOf(LEAD, ticked).blocks).join('\n')).not.toContain('Item signoff');
  });
});

describe('the thread reminder counts every open item whoever is named', () => {
  const openCount = new Set(
    ruleOf(releaseA, 0)
      .filter((entry) => !entry.done)
      .map((entry) => entry.item.id),
  ).size;

  it('lists the items of people snoozed as held, names the rest, and counts them all', () => {
    // The starter's items are theirs alone, so leaving them out changes what is named.
    const away = [STARTER, QA1];
    const thread = readThread(releaseA, 0, { held: away });
    const open = ruleOf(releaseA, 0).filter((entry) => !entry.done);
    const named = open.filter((entry) => !away.includes(entry.person));

    expect(thread.heading).toBe(openCount);
    expect(thread.fallback).toBe(openCount);
    expect(sorted(thread.named)).toEqual(
      sorted(named.map((entry) => row(entry.person, releaseA, 0, entry.item.id))),
    );
    expect(sorted(thread.held)).toEqual(
      sorted(new Set(open.filter((entry) => away.includes(entry.person)).map((entry) => entry.item.id))),
    );
    expect(thread.unnamed).toBe(0);
  });

  it.each(PEOPLE.filter((person) => person !== OUTSIDER))(
    'in the own round of %s, names only them and counts the rest',
    (person) => {
      const thread = readThread(releaseA, 0, { only: person });
      const mine = ruleOf(releaseA, 0).filter((entry) => entry.person === person && !entry.done);

      expect(sorted(thread.named)).toEqual(
        sorted(mine.map((entry) => row(person, releaseA, 0, entry.item.id))),
      );
      expect(thread.heading).toBe(openCount);
      expect(thread.named.length + thread.unnamed).toBe(openCount);
    },
  );
});

describe('the Home tab’s count of what waits', () => {
  it('counts every item a holder is responsible for, beyond the lines it shows', () => {
    const items = Array.from({ length: 30 }, (_unused, index) => item(`qa-${index}`, { role: 'qa' }));
    const many = makeRelease({
      template: makeTemplate({ phases: [{ id: 'check', name: 'Check', items }] }),
      owners: { 'qa-0': OWNER },
    });
    const dm = readDirect(
      many,
      0,
      QA1,
      renderOwnerReminder(many, 0, QA1, holders, undefined, undefined, NOW),
    );

    expect(readHome([many], QA1).count).toBe(29);
    expect(dm.openCount).toBe(29);
    expect(readThread(many, 0).perPerson.get(QA1)).toBe(29);
    expect(readHome([many], OWNER).count).toBe(1);
    expect(readHome([many], STARTER).count).toBe(0);
  });
});
