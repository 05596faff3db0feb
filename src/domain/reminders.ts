import type { RoleHolders } from './access.js';
import { isItemDone, type Release } from './release.js';
import type { TemplateItem } from './template.js';
import { phaseDueAt } from './time.js';

// When phase reminders fire. A phase with a due offset gets its first reminder when it is due; one
// already overdue when it is planned gets it one interval later, so a release started late is not
// greeted by a burst of reminders.

export interface PlannedReminder {
  phaseIndex: number;
  at: number;
}

export function openRequiredItems(release: Release, phaseIndex: number): TemplateItem[] {
  const phase = release.template.phases[phaseIndex];
  return phase ? phase.items.filter((item) => item.required && !isItemDone(release, item.id)) : [];
}

export function planFirstReminders(release: Release, now: number, intervalMs: number): PlannedReminder[] {
  if (release.status !== 'active' || !release.window) return [];
  const windowAt = release.window.at;
  return release.template.phases.flatMap((phase, phaseIndex) => {
    const dueAt = phaseDueAt(windowAt, phase.due);
    if (dueAt === undefined || openRequiredItems(release, phaseIndex).length === 0) return [];
    return [{ phaseIndex, at: dueAt > now ? dueAt : now + intervalMs }];
  });
}

/**
 * Who is responsible for an item, and so reminded of it and shown it as theirs: its owner; else,
 * when its role is held by someone, each holder; else whoever started the release. The thread
 * reminder, the direct messages and the Home tab all ask this, so they name the same people.
 */
export function responsibleFor(
  release: Release,
  item: TemplateItem,
  holders: RoleHolders = () => undefined,
): string[] {
  const owner = release.owners[item.id];
  if (owner) return [owner];
  const roleHolders = item.role ? holders(item.role) : undefined;
  if (roleHolders && roleHolders.size > 0) return [...roleHolders];
  return [release.startedBy];
}

/** The phase's required items (open or done) that `userId` is responsible for, in the template's order. */
export function requiredItemsOf(
  release: Release,
  phaseIndex: number,
  userId: string,
  holders: RoleHolders = () => undefined,
): TemplateItem[] {
  const phase = release.template.phases[phaseIndex];
  return phase
    ? phase.items.filter((item) => item.required && responsibleFor(release, item, holders).includes(userId))
    : [];
}

/**
 * The phase's open required items by the person to remind, in the template's order; people in
 * first-seen order (see responsibleFor).
 */
export function groupOpenItemsByOwner(
  release: Release,
  phaseIndex: number,
  holders: RoleHolders = () => undefined,
): Map<string, TemplateItem[]> {
  const byOwner = new Map<string, TemplateItem[]>();
  for (const item of openRequiredItems(release, phaseIndex)) {
    for (const person of responsibleFor(release, item, holders)) {
      const items = byOwner.get(person);
      if (items) items.push(item);
      else byOwner.set(person, [item]);
    }
  }
  return byOwner;
}

/**
 * A person left out of a reminder round, why and until when. Their items are still open and still
 * counted; their own reminder comes at `until`.
 */
export interface HeldReminder {
  userId: string;
  reason: 'snoozed' | 'quiet_hours';
  until: number;
  items: readonly TemplateItem[];
}
