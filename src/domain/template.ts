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
  items: TemplateItem[];
}

export interface Template {
  id: string;
  name: string;
  description?: string;
  phases: TemplatePhase[];
}

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
