import { parseDuration } from './time.js';

// A checklist template: ordered phases of items. Loaded from checklists/*.yaml at start-up
// and copied into each release, so editing a file never changes a release in flight.

export interface TemplateItem {
  id: string;
  text: string;
  help?: string;
  required: boolean;
  role?: string;
  /** Subheading the item is shown under inside its phase. */
  group?: string;
}

export interface TemplatePhase {
  id: string;
  name: string;
  /** When the phase is due, relative to the deploy window: `T-7d`, `T-0`, `T+15m`. */
  due?: string;
  /** Ticking this phase's last required item marks the release deployed. */
  deployment?: boolean;
  items: TemplateItem[];
}

export interface Template {
  id: string;
  name: string;
  description?: string;
  phases: TemplatePhase[];
  /** Post-deploy check-in offsets (`24h`, `48h`); when absent, CHECKIN_SCHEDULE applies. */
  checkins?: string[];
  /** Channel IDs that hear about this template's releases; when absent, STAKEHOLDER_CHANNEL applies. */
  stakeholders?: string[];
  /** The wording of stakeholder announcements, by event; events left out keep the built-in wording. */
  announcements?: Partial<Record<AnnouncementEvent, string>>;
}

/** What stakeholders are told about. */
export const ANNOUNCEMENT_EVENTS = [
  'scheduled',
  'started',
  'deployed',
  'issue_found',
  'rolled_back',
  'completed',
  'cancelled',
  'freeze_overridden',
] as const;
export type AnnouncementEvent = (typeof ANNOUNCEMENT_EVENTS)[number];

export interface ItemLocation {
  item: TemplateItem;
  phaseIndex: number;
}

export function findItem(template: Template, itemId: string): ItemLocation | undefined {
  for (const [phaseIndex, phase] of template.phases.entries()) {
    const item = phase.items.find((candidate) => candidate.id === itemId);
    if (item) return { item, phaseIndex };
  }
  return undefined;
}

export function countRequiredItems(phase: TemplatePhase): number {
  return phase.items.filter((item) => item.required).length;
}

/**
 * The check-in offsets (ms after the deploy) a release of this template gets: the template's own, or the
 * configured default; none without a deployment phase to count from.
 */
export function checkinPlan(template: Template, defaultScheduleMs: readonly number[]): number[] {
  if (deploymentPhaseIndex(template) === undefined) return [];
  if (!template.checkins) return [...defaultScheduleMs];
  const offsets = template.checkins
    .map((text) => parseDuration(text))
    .flatMap((parsed) => (parsed.ok ? [parsed.value] : []));
  return [...new Set(offsets)].sort((a, b) => a - b);
}

/** The index of the phase marked as the deployment, if any. */
export function deploymentPhaseIndex(template: Template): number | undefined {
  const index = template.phases.findIndex((phase) => phase.deployment === true);
  return index === -1 ? undefined : index;
}
