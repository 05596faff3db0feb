import type { Button, KnownBlock, SectionBlock } from '@slack/types';
import type { RoleHolders } from '../domain/access.js';
import {
  countOpenRequired,
  findBlockingPhase,
  isItemDone,
  type Release,
  type ReleaseStatus,
  snoozedUntil,
} from '../domain/release.js';
import { type HeldReminder, openRequiredItems, requiredItemsOf } from '../domain/reminders.js';
import type { TemplateItem } from '../domain/template.js';
import {
  ActionId,
  encodeItemDoneActionId,
  encodeItemRecordActionId,
  encodeReleaseAction,
  ReleaseRoute,
} from './ids.js';
import { BlockKitLimits } from './limits.js';
import { escapeMrkdwn, formatSlackDate, mentionUser, truncate } from './mrkdwn.js';
import { type RenderedMessage, releaseTitle } from './release-messages.js';

// Phase reminders as pure renders: one message in the release thread naming everyone reminded in a
// round, and a direct message to each of them with their own items, a Done button on each and snoozes
// (and what that DM says once a newer reminder superseded it).

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export type SnoozeChoice = '30m' | '1h' | '2h';

/** How long each snooze button silences a person's reminders for a phase (ms). */
export const SNOOZE_CHOICES: Record<SnoozeChoice, number> = {
  '30m': 30 * MINUTE,
  '1h': HOUR,
  '2h': 2 * HOUR,
};

const SNOOZE_LABELS: Record<SnoozeChoice, string> = {
  '30m': 'Snooze 30 min',
  '1h': 'Snooze 1 h',
  '2h': 'Snooze 2 h',
};

/** Owners named in one thread reminder; the rest are counted in a last line. */
const MAX_OWNER_SECTIONS = 40;
/** Items listed under one owner in the thread reminder. */
const ITEMS_PER_OWNER = 10;
/** How the thread reminder says why a person's reminder waits. */
const HOLD_LABELS: Record<HeldReminder['reason'], string> = {
  snoozed: '💤 Snoozed until',
  quiet_hours: '🌙 Quiet hours until',
};
/** Items in one person's direct message: one block each. */
const MAX_DIRECT_ITEMS = 40;
/** Item texts are at most 300 characters; this leaves room for the escaping and the "done by" line. */
const DIRECT_ITEM_TEXT = 300;

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function describeStatus(status: ReleaseStatus): string {
  return status.replace('_', ' ');
}

/** "was due <date>", "is due <date>" or just "is due" when the release has no deploy window. */
function describeDue(dueAt: number | undefined, now: number): string {
  if (dueAt === undefined) return 'is due';
  return `${dueAt <= now ? 'was' : 'is'} due ${formatSlackDate(dueAt)}`;
}

/**
 * Bullet lines of item texts, as many of the first `maxShown` as fit in `budget` characters, then a line
 * counting the ones left out. Each line is kept whole, so that no escape sequence is ever cut in half.
 */
function bulletList(items: readonly TemplateItem[], maxShown: number, budget: number): string {
  const lines: string[] = [];
  let used = 0;
  // Room for the "…and N more" line, so that it always fits after the last line shown.
  const reserve = 24;
  for (const item of items.slice(0, maxShown)) {
    const line = `• ${escapeMrkdwn(item.text)}`;
    if (used + line.length + 1 > budget - reserve) break;
    lines.push(line);
    used += line.length + 1;
  }
  const left = items.length - lines.length;
  if (left > 0) lines.push(`…and ${left} more`);
  return lines.join('\n');
}

/** As many whole lines as fit in `budget` characters, then a line counting the ones left out. */
function joinWholeLines(lines: readonly string[], budget: number): string {
  const kept: string[] = [];
  let used = 0;
  const reserve = 24;
  for (const line of lines) {
    if (used + line.length + 1 > budget - reserve) break;
    kept.push(line);
    used += line.length + 1;
  }
  const left = lines.length - kept.length;
  if (left > 0) kept.push(`…and ${left} more`);
  return kept.join('\n');
}

/**
 * The held reminders, grouped by why and until when, each item once. Nobody held is mentioned: a
 * mention would notify the very person whose snooze or quiet hours the round respects.
 */
function describeHeld(held: readonly HeldReminder[]): string {
  const groups = new Map<string, Map<string, TemplateItem>>();
  for (const hold of held) {
    const label = `${HOLD_LABELS[hold.reason]} ${formatSlackDate(hold.until)}:`;
    const items = groups.get(label) ?? new Map<string, TemplateItem>();
    groups.set(label, items);
    for (const item of hold.items) items.set(item.id, item);
  }
  const lines = [...groups].flatMap(([label, items]) => [
    label,
    ...[...items.values()].map((item) => `• ${escapeMrkdwn(item.text)}`),
  ]);
  return joinWholeLines(lines, BlockKitLimits.sectionText);
}

/**
 * The reminder in the release thread: the phase is due, how many required items are open (all of
 * them, whoever is reminded now), who is reminded now of which, and whose reminders wait.
 */
export function renderThreadReminder(
  release: Release,
  phaseIndex: number,
  dueAt: number | undefined,
  owners: ReadonlyMap<string, readonly TemplateItem[]>,
  held: readonly HeldReminder[],
  now: number,
): RenderedMessage {
  const phase = release.template.phases[phaseIndex]!;
  const phaseName = escapeMrkdwn(phase.name);
  const title = escapeMrkdwn(releaseTitle(release));
  const open = openRequiredItems(release, phaseIndex);
  const openCount = open.length;
  const count = `${plural(openCount, 'required item is', 'required items are')} open`;
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `⏰ *${phaseName}* of *${title}* ${describeDue(dueAt, now)}; ${count}:`,
          BlockKitLimits.sectionText,
        ),
      },
    },
  ];
  const entries = [...owners.entries()];
  for (const [owner, items] of entries.slice(0, MAX_OWNER_SECTIONS)) {
    const mention = `${mentionUser(owner)}:`;
    const list = bulletList(items, ITEMS_PER_OWNER, BlockKitLimits.sectionText - mention.length - 1);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `${mention}\n${list}` } });
  }
  if (entries.length > MAX_OWNER_SECTIONS) {
    const left = entries.length - MAX_OWNER_SECTIONS;
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `…and ${plural(left, 'more person', 'more people')}` }],
    });
  }
  if (held.length > 0) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: describeHeld(held) } });
  }
  // A person's own round (after their snooze or quiet hours) names only them; the rest still count.
  const named = new Set(
    [...owners.values(), ...held.map((hold) => hold.items)].flat().map((item) => item.id),
  );
  const unnamed = open.filter((item) => !named.has(item.id)).length;
  if (unnamed > 0) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `…and ${plural(unnamed, 'more open item', 'more open items')} in the checklist`,
        },
      ],
    });
  }
  return {
    // The benchmark and the end-to-end tests find thread reminders by this prefix.
    text: truncate(`Reminder: ${phaseName} of ${title}, ${count}`, BlockKitLimits.fallbackText),
    blocks,
  };
}

function renderDirectItem(release: Release, item: TemplateItem, withButton: boolean): SectionBlock {
  const state = release.items[item.id];
  const text = escapeMrkdwn(truncate(item.text, DIRECT_ITEM_TEXT));
  if (state?.done) {
    return {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `✅ ${text} · done by ${mentionUser(state.by)} ${formatSlackDate(state.at)}`,
          BlockKitLimits.sectionText,
        ),
      },
    };
  }
  const block: SectionBlock = {
    type: 'section',
    text: { type: 'mrkdwn', text: truncate(`⬜ ${text}`, BlockKitLimits.sectionText) },
  };
  if (withButton) {
    // An item that records a value asks for it first, as its checkbox in the thread does.
    block.accessory = {
      type: 'button',
      action_id: item.record
        ? encodeItemRecordActionId(release.id, item.id)
        : encodeItemDoneActionId(release.id, item.id),
      text: { type: 'plain_text', text: item.record ? 'Done…' : 'Done' },
      value: item.id,
    };
  }
  return block;
}

/**
 * The direct message to one owner: the required items of the phase they are responsible for (the
 * same rule as the thread reminder's, see responsibleFor), each with a Done button while open, snooze
 * buttons, and a link to the checklist. The sync re-renders it as the release changes: once their
 * items, the phase or the release are done with, it says so and has no buttons left.
 */
export function renderOwnerReminder(
  release: Release,
  phaseIndex: number,
  ownerId: string,
  holders: RoleHolders,
  dueAt: number | undefined,
  permalink: string | undefined,
  now: number,
): RenderedMessage {
  const phase = release.template.phases[phaseIndex]!;
  const phaseName = escapeMrkdwn(phase.name);
  const title = escapeMrkdwn(releaseTitle(release));
  const mine = requiredItemsOf(release, phaseIndex, ownerId, holders);
  const shown = mine.slice(0, MAX_DIRECT_ITEMS);
  const openCount = mine.filter((item) => !isItemDone(release, item.id)).length;
  const active = release.status === 'active';
  const blocking = active ? findBlockingPhase(release, phaseIndex) : undefined;
  // A Done click on a locked phase would only be refused; the lock is explained instead.
  const tickable = active && blocking === undefined;

  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `⏰ Reminder: these required items of *${phaseName}* in *${title}* are yours; the phase ${describeDue(dueAt, now)}.`,
      },
    },
    ...shown.map((item) => renderDirectItem(release, item, tickable)),
  ];
  if (mine.length > shown.length) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `…and ${mine.length - shown.length} more in the checklist` }],
    });
  }

  if (!active) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `This release is ${describeStatus(release.status)}; nothing left to do.`,
      },
    });
    return { text: `${title} is ${describeStatus(release.status)}; nothing left to do`, blocks };
  }
  if (countOpenRequired(release, phaseIndex) === 0) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `✅ *${phaseName}* is done: every required item is ticked.` },
    });
    return { text: `Every required item of ${phaseName} in ${title} is done`, blocks };
  }
  if (mine.length === 0) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `None of the required items of *${phaseName}* is yours any more.` },
    });
    return { text: `Nothing of ${phaseName} in ${title} is yours any more`, blocks };
  }
  if (openCount === 0) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `✅ All your items in *${phaseName}* are done. Thank you!` },
    });
    return { text: `All your items in ${phaseName} of ${title} are done`, blocks };
  }

  if (blocking !== undefined) {
    const blockingName = escapeMrkdwn(release.template.phases[blocking]!.name);
    blocks.push({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: `🔒 These can be ticked once *${blockingName}* is done; it is still open.` },
      ],
    });
  }
  const snoozed = snoozedUntil(release, phaseIndex, ownerId);
  if (snoozed > now) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `💤 Snoozed until ${formatSlackDate(snoozed)}` }],
    });
  }
  const buttons: Button[] = (Object.keys(SNOOZE_CHOICES) as SnoozeChoice[]).map((choice) => ({
    type: 'button',
    action_id: encodeReleaseAction(ReleaseRoute.snooze, release.id, phaseIndex, choice),
    text: { type: 'plain_text', text: SNOOZE_LABELS[choice] },
  }));
  if (permalink) {
    buttons.push({
      type: 'button',
      action_id: ActionId.openLink,
      text: { type: 'plain_text', text: 'Open the checklist' },
      url: permalink,
    });
  }
  blocks.push({ type: 'actions', elements: buttons });
  return {
    // The notification preview: what is asked of this reader, not the thread's wording.
    text: truncate(
      `Your open items: ${plural(openCount, 'required item', 'required items')} of ${phaseName} in ${title}`,
      BlockKitLimits.fallbackText,
    ),
    blocks,
  };
}

/**
 * An older reminder DM once a newer one reached the same person about the same phase: it no longer
 * lists items or offers buttons, so only the latest one speaks for the phase. It depends on nothing
 * that changes, so it is shown once.
 */
export function renderSupersededReminder(release: Release, phaseIndex: number): RenderedMessage {
  const phaseName = escapeMrkdwn(release.template.phases[phaseIndex]?.name ?? `phase ${phaseIndex + 1}`);
  const title = escapeMrkdwn(releaseTitle(release));
  return {
    text: truncate(`Superseded: an older reminder of ${phaseName} in ${title}`, BlockKitLimits.fallbackText),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `⏰ This reminder about *${phaseName}* in *${title}* was superseded by a newer one further down.`,
        },
      },
    ],
  };
}
