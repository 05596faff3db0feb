import type { Template } from './template.js';

// What a template measures: success criteria, go criteria, rollback criteria (each a name, and for a
// measurable one a direction, threshold and unit) and red flags. Items refer to them by id, or to a whole
// list by its name, so a number is written once in a template and shown wherever it matters.

export const CRITERION_DIRECTIONS = ['below', 'above', 'at most', 'at least'] as const;
export type CriterionDirection = (typeof CRITERION_DIRECTIONS)[number];

/** `count` is a plain number of things; `/10` a score out of ten. */
export const CRITERION_UNITS = ['%', 'ms', 's', 'min', 'h', 'count', '/10'] as const;
export type CriterionUnit = (typeof CRITERION_UNITS)[number];

export interface TemplateCriterion {
  /** Items refer to it by this id; unique among all of a template's criteria. */
  id: string;
  name: string;
  /** Which side of the threshold is good (success, go) or calls for action (rollback). */
  direction?: CriterionDirection;
  threshold?: number;
  unit?: CriterionUnit;
  /**
   * A PromQL query that measures it, in its unit, evaluated at each check-in when a metrics server is
   * configured (src/domain/metric-checks.ts); `{env}`, `{version}` and `{window}` are filled in.
   */
  metric?: string;
  /** What a reading must meet (`< 0.01`, `< 1.1 * baseline`); without it, direction and threshold. */
  condition?: string;
  /** The range the query looks back over (`{window}`), a PromQL duration such as `5m`. */
  window?: string;
  /** A dashboard to look at next to the numbers. */
  dashboard?: string;
  /** Evaluated between check-ins too; `misses` in a row raise a red flag. */
  watch?: { every: string; misses: number };
}

/**
 * A go or rollback criterion: an object, or a plain sentence (how rollback criteria were written before
 * criteria had ids, and how older releases still store them). A sentence cannot be referred to.
 */
export type CriterionEntry = TemplateCriterion | string;

/** Names an item may use to show a whole list rather than one criterion. */
export const CRITERION_LISTS = ['success', 'go', 'rollback', 'redflags'] as const;
export type CriterionList = (typeof CRITERION_LISTS)[number];

export const CRITERION_LIST_TITLES: Record<CriterionList, string> = {
  success: 'Success criteria',
  go: 'Go criteria',
  rollback: 'Roll back when',
  redflags: 'Stop if',
};

/** Stop conditions offered when a template names none. */
export const DEFAULT_RED_FLAGS: readonly string[] = [
  'The backup failed or is corrupt',
  'A security vulnerability was found',
  'A major component is down',
  'Data integrity is in doubt',
  'Performance is more than 50 % worse than the baseline',
  'A critical dependency is unavailable',
  'The rollback procedure is untested or unavailable',
];

export function isCriterionList(reference: string): reference is CriterionList {
  return (CRITERION_LISTS as readonly string[]).includes(reference);
}

/** The stop conditions a red flag is raised for: the template's own list, else the built-in one. */
export function redFlagsOf(template: Template): readonly string[] {
  return template.redflags ?? DEFAULT_RED_FLAGS;
}

export function successCriteriaOf(template: Template): readonly TemplateCriterion[] {
  return template.success ?? [];
}

export function goCriteriaOf(template: Template): readonly CriterionEntry[] {
  return template.go?.criteria ?? [];
}

export function rollbackCriteriaOf(template: Template): readonly CriterionEntry[] {
  return template.rollback?.criteria ?? [];
}

/** Every criterion that can be referred to, in the order the template lists them. */
export function listCriteria(template: Template): TemplateCriterion[] {
  return [...successCriteriaOf(template), ...goCriteriaOf(template), ...rollbackCriteriaOf(template)].filter(
    (entry): entry is TemplateCriterion => typeof entry !== 'string',
  );
}

/** An amount in a unit: "10 %", "8/10", "3" (a count). */
export function formatAmount(threshold: number, unit: CriterionUnit | undefined): string {
  switch (unit) {
    case undefined:
    case 'count':
      return String(threshold);
    case '/10':
      return `${threshold}/10`;
    default:
      return `${threshold} ${unit}`;
  }
}

/** The target in words: "less than 10 %", "at least 8/10", "none". */
export function describeThreshold(criterion: TemplateCriterion): string | undefined {
  const { direction, threshold, unit } = criterion;
  if (direction === undefined || threshold === undefined) return undefined;
  if (direction === 'at most' && threshold === 0) return 'none';
  const amount = formatAmount(threshold, unit);
  switch (direction) {
    case 'below':
      return `${unit === 'count' ? 'fewer than' : 'less than'} ${amount}`;
    case 'above':
      return `more than ${amount}`;
    case 'at most':
    case 'at least':
      return `${direction} ${amount}`;
    default: {
      const unknown: never = direction;
      return String(unknown);
    }
  }
}

/** One line of plain text: the name, and the target when there is one. */
export function describeCriterion(entry: CriterionEntry): string {
  if (typeof entry === 'string') return entry;
  const target = describeThreshold(entry);
  return target ? `${entry.name}: ${target}` : entry.name;
}

export interface ResolvedReference {
  /** The list's title for a whole list; undefined for single criteria. */
  title?: string;
  lines: string[];
}

/**
 * What an item's `criteria` references show, in its order: a whole list under its title, or single
 * criteria. References that resolve to nothing (checked by lint, but a stored template is trusted) are
 * left out.
 */
export function resolveCriterionReferences(
  template: Template,
  references: readonly string[],
): ResolvedReference[] {
  const byId = new Map(listCriteria(template).map((criterion) => [criterion.id, criterion]));
  const resolved: ResolvedReference[] = [];
  for (const reference of references) {
    if (isCriterionList(reference)) {
      const lines = listEntries(template, reference).map(describeCriterion);
      if (lines.length > 0) resolved.push({ title: CRITERION_LIST_TITLES[reference], lines });
      continue;
    }
    const criterion = byId.get(reference);
    if (!criterion) continue;
    const last = resolved.at(-1);
    // Consecutive single criteria share one block.
    if (last && last.title === undefined) last.lines.push(describeCriterion(criterion));
    else resolved.push({ lines: [describeCriterion(criterion)] });
  }
  return resolved;
}

export function listEntries(template: Template, list: CriterionList): readonly CriterionEntry[] {
  switch (list) {
    case 'success':
      return successCriteriaOf(template);
    case 'go':
      return goCriteriaOf(template);
    case 'rollback':
      return rollbackCriteriaOf(template);
    case 'redflags':
      return redFlagsOf(template);
    default: {
      const unknown: never = list;
      return unknown;
    }
  }
}
