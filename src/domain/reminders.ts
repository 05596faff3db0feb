import type { RoleHolders } from './access.js';
import { isItemDone, itemOwner, type Release } from './release.js';
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
 * The phase's open required items by the person to remind, in the template's order; people in
 * first-seen order. An item goes to its owner; else, when its role is held by someone, to each
 * holder; else to whoever started the release.
 */
export function groupOpenItemsByOwner(
  release: Release,
  phaseIndex: number,
  holders: RoleHolders = () => undefined,
): Map<string, TemplateItem[]> {
  const byOwner = new Map<string, TemplateItem[]>();
  const give = (person: string, item: TemplateItem) => {
    const items = byOwner.get(person);
    if (items) items.push(item);
    else byOwner.set(person, [item]);
  };
  for (const item of openRequiredItems(release, phaseIndex)) {
    const owner = release.owners[item.id];
    const roleHolders = !owner && item.role ? holders(item.role) : undefined;
    if (roleHolders && roleHolders.size > 0) {
      for (const person of roleHolders) give(person, item);
    } else {
      give(owner ?? itemOwner(release, item.id), item);
    }
  }
  return byOwner;
}
