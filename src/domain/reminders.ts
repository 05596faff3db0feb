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

/** The phase's open required items by the person to remind, in the template's order; owners in first-seen order. */
export function groupOpenItemsByOwner(release: Release, phaseIndex: number): Map<string, TemplateItem[]> {
  const byOwner = new Map<string, TemplateItem[]>();
  for (const item of openRequiredItems(release, phaseIndex)) {
    const owner = itemOwner(release, item.id);
    const items = byOwner.get(owner);
    if (items) items.push(item);
    else byOwner.set(owner, [item]);
  }
  return byOwner;
}
