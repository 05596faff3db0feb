import type { CriterionEntry, TemplateCriterion } from './criteria.js';
import type { ItemRecord } from './recorded-value.js';
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
  /** Criteria shown with the item: criterion ids, or a whole list (`success`, `go`, `rollback`, `redflags`). */
  criteria?: string[];
  /** The value a tick records (a backup id, a commit SHA), asked for when the item is ticked. */
  record?: ItemRecord;
  /** A pipeline (with a token, through the API) may tick this item; people still can too. */
  pipeline?: boolean;
}

export interface TemplatePhase {
  id: string;
  name: string;
  /** When the phase is due, relative to the deploy window: `T-7d`, `T-0`, `T+15m`. */
  due?: string;
  /** Ticking this phase's last required item marks the release deployed. */
  deployment?: boolean;
  /** This phase waits for a go/no-go call by the release manager once the phases before it are done. */
  go?: boolean;
  items: TemplateItem[];
}

export interface Template {
  id: string;
  name: string;
  description?: string;
  phases: TemplatePhase[];
  /** Post-deploy check-in offsets (`24h`, `48h`); when absent, CHECKIN_SCHEDULE applies. */
  checkins?: string[];
  /** Conditions under which anyone should stop the release (a red flag); the default list applies when absent. */
  redflags?: string[];
  /** What a successful release measures, each with its target. */
  success?: TemplateCriterion[];
  /** What the release manager checks before the go call, shown with the Go button. */
  go?: { criteria: CriterionEntry[] };
  /** What decides a rollback, and the checklist that carries it out. */
  rollback?: TemplateRollback;
  /** Channel IDs that hear about this template's releases; when absent, STAKEHOLDER_CHANNEL applies. */
  stakeholders?: string[];
  /** The wording of stakeholder announcements, by event; events left out keep the built-in wording. */
  announcements?: Partial<Record<AnnouncementEvent, string>>;
}

export interface TemplateRollback {
  /** Shown when someone asks to roll back: the conditions that justify it. */
  criteria: CriterionEntry[];
  /** Ticked while rolling back; when the required ones are done, the release is rolled back. */
  items: TemplateItem[];
}

/**
 * What stakeholders are told about. A release is `planned` (created without a deploy window) or
 * `scheduled` (with one); `started` means deploying: its deployment phase opened to ticks.
 */
export const ANNOUNCEMENT_EVENTS = [
  'planned',
  'scheduled',
  'started',
  'deployed',
  'issue_found',
  'rolled_back',
  'completed',
  'cancelled',
  'freeze_overridden',
  'rolling_back',
  'red_flag',
  'red_flag_cleared',
] as const;
export type AnnouncementEvent = (typeof ANNOUNCEMENT_EVENTS)[number];

export interface ItemLocation {
  item: TemplateItem;
  phaseIndex: number;
}

/**
 * Where an item is: its phase, or for a rollback item the index just after the last phase (the
 * rollback checklist is kept apart from the phases, and gated by the release's status instead).
 */
export function findItem(template: Template, itemId: string): ItemLocation | undefined {
  for (const [phaseIndex, phase] of template.phases.entries()) {
    const item = phase.items.find((candidate) => candidate.id === itemId);
    if (item) return { item, phaseIndex };
  }
  const rollbackItem = template.rollback?.items.find((candidate) => candidate.id === itemId);
  return rollbackItem ? { item: rollbackItem, phaseIndex: template.phases.length } : undefined;
}

/** Whether a pipeline may tick the item: the template marks it `pipeline: true`. Unknown ids are not. */
export function isPipelineItem(template: Template, itemId: string): boolean {
  return findItem(template, itemId)?.item.pipeline === true;
}

/** The phase that waits for the go/no-go call, if the template asks for one. */
export function goPhaseIndex(template: Template): number | undefined {
  const index = template.phases.findIndex((phase) => phase.go === true);
  return index === -1 ? undefined : index;
}

/** The index rollback items are filed under: one past the last phase. */
export function rollbackPhaseIndex(template: Template): number {
  return template.phases.length;
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
