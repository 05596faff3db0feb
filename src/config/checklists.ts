import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import {
  CRITERION_DIRECTIONS,
  CRITERION_LISTS,
  CRITERION_UNITS,
  type CriterionEntry,
  isCriterionList,
  listEntries,
  type TemplateCriterion,
} from '../domain/criteria.js';
import {
  conditionOf,
  isMetricWindow,
  parseMetricCondition,
  unknownPlaceholders,
} from '../domain/metric-checks.js';
import { checkRecordedValue, compilePattern, RECORD_KINDS } from '../domain/recorded-value.js';
import { ANNOUNCEMENT_EVENTS, type Template, type TemplateItem } from '../domain/template.js';
import { parseDuration } from '../domain/time.js';

const slug = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'use lowercase letters, digits and dashes');

// T-7d, T-3d, T-1d, T-0, T+15m, T+24h, T+48h: an offset from the deploy window.
export const DueOffset = z
  .string()
  .regex(/^T(?:[+-]0|[+-][1-9][0-9]*[smhdw])?$/, 'write the due offset like T-7d, T-0, T+15m or T+24h');

const choices = (values: readonly string[]) => values.map((value) => `"${value}"`).join(', ');

// What a tick of the item records: `record: { kind: text, label: Backup id }`.
export const ItemRecordSchema = z
  .strictObject({
    kind: z.enum(RECORD_KINDS, { error: `use one of ${choices(RECORD_KINDS)}` }),
    label: z.string().trim().min(1).max(40),
    // Checked against the whole value; YAML needs it quoted ('^[0-9a-f]{7,40}$').
    pattern: z.string().min(1).max(200).optional(),
    example: z.string().trim().min(1).max(100).optional(),
    optional: z.boolean().optional(),
  })
  .superRefine((record, ctx) => {
    if (record.pattern === undefined) {
      if (record.example === undefined) return;
    } else if (record.kind !== 'text') {
      ctx.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: `a pattern checks text values; a ${record.kind} is checked by its kind`,
      });
      return;
    } else if (!compilePattern(record.pattern)) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'not a valid regular expression' });
      return;
    }
    if (record.example === undefined) return;
    // Checked without the example itself, which the message for a wrong value quotes.
    const checked = checkRecordedValue(
      { kind: record.kind, label: record.label, pattern: record.pattern },
      record.example,
    );
    if (!checked.ok) {
      ctx.addIssue({
        code: 'custom',
        path: ['example'],
        message: `the example is not a value the item accepts: ${checked.problem}`,
      });
    }
  });

export const TemplateItemSchema = z.strictObject({
  id: slug(48),
  text: z.string().trim().min(1).max(300),
  help: z.string().trim().min(1).max(500).optional(),
  required: z.boolean().default(true),
  role: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,31}$/, 'use lowercase letters, digits and underscores')
    .optional(),
  group: z.string().trim().min(1).max(60).optional(),
  // Criterion ids or whole lists shown with the item; checked against the template below.
  criteria: z.array(z.string()).min(1).max(10).optional(),
  record: ItemRecordSchema.optional(),
  // A pipeline may tick it (build, tests, deploy); never a sign-off or the go call, see shipcheck lint.
  pipeline: z.boolean().optional(),
});

export const TemplatePhaseSchema = z.strictObject({
  id: slug(32),
  name: z.string().trim().min(1).max(60),
  due: DueOffset.optional(),
  /** Marks the phase whose completion means "deployed": post-deploy check-ins count from it. */
  deployment: z.boolean().optional(),
  /** The phase waits for a go/no-go call once the phases before it are done. */
  go: z.boolean().optional(),
  items: z.array(TemplateItemSchema).min(1).max(100),
});

export const TemplateCriterionSchema = z.strictObject({
  id: slug(48),
  name: z.string().trim().min(1).max(150),
  direction: z
    .enum(CRITERION_DIRECTIONS, { error: `use one of ${choices(CRITERION_DIRECTIONS)}` })
    .optional(),
  // `threshold: 10 %` reads as a string in YAML; the unit has a field of its own.
  threshold: z
    .number({ error: 'write the threshold as a number, like 10; the unit goes in `unit`' })
    .optional(),
  unit: z.enum(CRITERION_UNITS, { error: `use one of ${choices(CRITERION_UNITS)}` }).optional(),
  // A PromQL query in the criterion's unit, measured at each check-in when PROMETHEUS_URL is set.
  metric: z.string().trim().min(1).max(1000).optional(),
  // `< 0.01`, `>= 0.99`, `< 1.1 * baseline`; without it, direction and threshold decide.
  condition: z
    .string()
    .trim()
    .max(60)
    .refine((text) => parseMetricCondition(text).ok, {
      error: 'write a comparison like "< 0.01", ">= 0.99" or "< 1.1 * baseline"',
    })
    .optional(),
  window: z
    .string()
    .trim()
    .refine(isMetricWindow, 'write the window as a PromQL duration like 5m or 1h')
    .optional(),
  dashboard: z.url({ protocol: /^https?$/, error: 'write the dashboard as an http(s) URL' }).optional(),
  watch: z
    .strictObject({
      every: z.string().trim().refine(isMetricWindow, 'write how often like 1m or 5m'),
      misses: z.number().int().min(1).max(20),
    })
    .optional(),
});

// A success criterion is always measurable.
const SuccessCriterionSchema = TemplateCriterionSchema.extend({
  direction: TemplateCriterionSchema.shape.direction.unwrap(),
  threshold: TemplateCriterionSchema.shape.threshold.unwrap(),
  unit: TemplateCriterionSchema.shape.unit.unwrap(),
});

// A plain sentence is how rollback criteria were written before they had ids; it still works, unreferenced.
const CriterionEntrySchema = z.union([z.string().trim().min(1).max(200), TemplateCriterionSchema]);

// 24h, 48h: check-ins after the deploy; a template's own list replaces CHECKIN_SCHEDULE.
const CheckinOffset = z
  .string()
  .refine((text) => parseDuration(text).ok, 'write a check-in offset like 30s, 15m, 24h or 2d');

export const TemplateSchema = z
  .strictObject({
    id: slug(32),
    name: z.string().trim().min(1).max(60),
    description: z.string().trim().max(300).optional(),
    phases: z.array(TemplatePhaseSchema).min(1).max(30),
    checkins: z.array(CheckinOffset).max(10).optional(),
    // Stop conditions offered when someone raises a red flag.
    redflags: z.array(z.string().trim().min(1).max(150)).min(1).max(15).optional(),
    success: z.array(SuccessCriterionSchema).min(1).max(20).optional(),
    // Shown with the Go button of the phase marked `go: true`.
    go: z.strictObject({ criteria: z.array(CriterionEntrySchema).min(1).max(10) }).optional(),
    rollback: z
      .strictObject({
        criteria: z.array(CriterionEntrySchema).min(1).max(10),
        items: z.array(TemplateItemSchema).min(1).max(30),
      })
      .optional(),
    // Channel IDs where stakeholders hear about this template's releases.
    stakeholders: z
      .array(z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'use channel IDs such as C0123456789 (not #names)'))
      .min(1)
      .max(5)
      .optional(),
    announcements: z
      .partialRecord(z.enum(ANNOUNCEMENT_EVENTS), z.string().trim().min(1).max(1500))
      .optional(),
  })
  .superRefine((template, ctx) => {
    const deploymentPhases = template.phases.flatMap((phase, index) => (phase.deployment ? [index] : []));
    for (const index of deploymentPhases.slice(1)) {
      ctx.addIssue({
        code: 'custom',
        path: ['phases', index, 'deployment'],
        message: `only one phase can be the deployment; "${template.phases[deploymentPhases[0]!]!.id}" is already`,
      });
    }
    for (const index of deploymentPhases) {
      if (!template.phases[index]!.items.some((item) => item.required)) {
        ctx.addIssue({
          code: 'custom',
          path: ['phases', index, 'items'],
          message:
            'the deployment phase needs a required item: ticking the last one marks the release deployed',
        });
      }
    }
    const goPhases = template.phases.flatMap((phase, index) => (phase.go ? [index] : []));
    for (const index of goPhases.slice(1)) {
      ctx.addIssue({
        code: 'custom',
        path: ['phases', index, 'go'],
        message: 'only one phase can wait for the go/no-go call',
      });
    }
    if (goPhases[0] === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['phases', 0, 'go'],
        message: 'the go/no-go call comes after a phase; the first phase cannot wait for it',
      });
    }
    if (template.checkins && deploymentPhases.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['checkins'],
        message: 'check-ins count from the deployment; mark one phase with `deployment: true`',
      });
    }
    const phaseIds = new Set<string>();
    const itemIds = new Set<string>();
    template.phases.forEach((phase, phaseIndex) => {
      if (phaseIds.has(phase.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['phases', phaseIndex, 'id'],
          message: `duplicate phase id "${phase.id}"`,
        });
      }
      phaseIds.add(phase.id);
      phase.items.forEach((item, itemIndex) => {
        if (itemIds.has(item.id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['phases', phaseIndex, 'items', itemIndex, 'id'],
            message: `duplicate item id "${item.id}" (item ids are unique across the whole template)`,
          });
        }
        itemIds.add(item.id);
      });
    });
    template.rollback?.items.forEach((item, itemIndex) => {
      if (itemIds.has(item.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['rollback', 'items', itemIndex, 'id'],
          message: `duplicate item id "${item.id}" (item ids are unique across the whole template)`,
        });
      }
      itemIds.add(item.id);
    });
    checkMeasures(template, ctx);
    checkPipelineItems(template, ctx);
  }) satisfies z.ZodType<Template, unknown>;

/** A criterion's metric settings go with a query, and its condition agrees with its direction. */
function checkMetric(
  entry: TemplateCriterion,
  at: PropertyKey[],
  problem: (path: PropertyKey[], message: string) => void,
): void {
  for (const field of ['condition', 'window', 'dashboard', 'watch'] as const) {
    if (entry[field] !== undefined && entry.metric === undefined) {
      problem([...at, field], `\`${field}\` goes with a \`metric\` query`);
    }
  }
  if (entry.metric === undefined) return;
  for (const name of unknownPlaceholders(entry.metric)) {
    problem([...at, 'metric'], `unknown placeholder {${name}}: use {env}, {version} or {window}`);
  }
  const condition = conditionOf(entry);
  if (!condition) {
    problem([...at, 'metric'], 'a measured criterion needs a condition, or a direction and a threshold');
  } else if (entry.direction !== undefined && entry.condition !== undefined) {
    const expected = conditionOf({ ...entry, condition: undefined });
    if (expected && expected.operator !== condition.operator) {
      problem(
        [...at, 'condition'],
        `the condition compares with ${condition.operator} but the direction "${entry.direction}" means ${expected.operator}`,
      );
    }
  }
}

type RefinementContext = Parameters<Parameters<z.ZodType['superRefine']>[0]>[1];

const LIST_PATHS = {
  success: ['success'],
  go: ['go', 'criteria'],
  rollback: ['rollback', 'criteria'],
} as const;

/** Criteria, red flags, check-ins and the items' references to them. */
function checkMeasures(template: Template, ctx: RefinementContext): void {
  const problem = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const criterionIds = new Set<string>();
  for (const [list, listPath] of Object.entries(LIST_PATHS)) {
    listEntries(template, list as keyof typeof LIST_PATHS).forEach((entry: CriterionEntry, index) => {
      if (typeof entry === 'string') return;
      const at = [...listPath, index];
      if (isCriterionList(entry.id)) {
        problem([...at, 'id'], `"${entry.id}" names a whole list; pick another criterion id`);
      } else if (criterionIds.has(entry.id)) {
        problem(
          [...at, 'id'],
          `duplicate criterion id "${entry.id}" (criterion ids are unique across success, go and rollback criteria)`,
        );
      }
      criterionIds.add(entry.id);
      if (entry.threshold !== undefined && entry.direction === undefined) {
        problem([...at, 'threshold'], 'a threshold needs a direction: below, above, at most or at least');
      }
      if (entry.direction !== undefined && entry.threshold === undefined) {
        problem([...at, 'direction'], 'a direction needs a threshold to compare with');
      }
      checkMetric(entry, at, problem);
      if (entry.unit !== undefined && entry.threshold === undefined) {
        problem([...at, 'unit'], 'a unit needs a threshold to go with');
      }
      if (
        entry.unit === '/10' &&
        entry.threshold !== undefined &&
        (entry.threshold < 0 || entry.threshold > 10)
      ) {
        problem([...at, 'threshold'], 'a score out of 10 lies between 0 and 10');
      }
    });
  }
  if (template.go && !template.phases.some((phase) => phase.go)) {
    problem(['go'], 'go criteria are shown with the go/no-go call; mark a phase with `go: true`');
  }
  const seenFlags = new Set<string>();
  template.redflags?.forEach((flag, index) => {
    if (seenFlags.has(flag)) problem(['redflags', index], `duplicate red flag "${flag}"`);
    seenFlags.add(flag);
  });
  const seenOffsets = new Map<number, string>();
  template.checkins?.forEach((text, index) => {
    const parsed = parseDuration(text);
    if (!parsed.ok) return;
    const first = seenOffsets.get(parsed.value);
    if (first !== undefined)
      problem(['checkins', index], `duplicate check-in: "${text}" is the same time as "${first}"`);
    else seenOffsets.set(parsed.value, text);
  });
  const checkReferences = (references: readonly string[] | undefined, itemPath: PropertyKey[]) => {
    const seen = new Set<string>();
    references?.forEach((reference, index) => {
      const at = [...itemPath, 'criteria', index];
      if (seen.has(reference)) {
        problem(at, `"${reference}" is listed twice`);
      } else if (isCriterionList(reference)) {
        if (listEntries(template, reference).length === 0) {
          problem(at, `the template has no ${reference} criteria to show`);
        }
      } else if (!criterionIds.has(reference)) {
        problem(
          at,
          `unknown criterion "${reference}": use the id of a success, go or rollback criterion, or a whole list (${CRITERION_LISTS.join(', ')})`,
        );
      }
      seen.add(reference);
    });
  };
  template.phases.forEach((phase, phaseIndex) => {
    phase.items.forEach((item, itemIndex) => {
      checkReferences(item.criteria, ['phases', phaseIndex, 'items', itemIndex]);
    });
  });
  template.rollback?.items.forEach((item, itemIndex) => {
    checkReferences(item.criteria, ['rollback', 'items', itemIndex]);
  });
}

// What only a person does: a sign-off, an approval. Read from ids and wording, since templates have no
// field for it; `shipcheck lint` explains the refusal.
const SIGN_OFF_ID = /(^|-)(sign-?off|approv)/;
const SIGN_OFF_TEXT = /\b(signs? off|sign-off|approves?|approved|approval)\b/i;

/** Why a pipeline may not tick the item, or undefined when it may. */
export function pipelineItemProblem(phaseId: string | undefined, item: TemplateItem): string | undefined {
  if (item.criteria?.includes('go')) {
    return 'the item shows the go criteria: the go/no-go call is a person’s, never a pipeline’s';
  }
  if (SIGN_OFF_ID.test(item.id) || (phaseId !== undefined && SIGN_OFF_ID.test(phaseId))) {
    return 'a sign-off is a person’s: a pipeline never signs off';
  }
  if (SIGN_OFF_TEXT.test(item.text)) {
    return 'the item asks for an approval or a sign-off, which is a person’s: split the machine check into an item of its own';
  }
  return undefined;
}

/** `pipeline: true` only on items a machine can check. */
function checkPipelineItems(template: Template, ctx: RefinementContext): void {
  template.phases.forEach((phase, phaseIndex) => {
    phase.items.forEach((item, itemIndex) => {
      const problem = item.pipeline ? pipelineItemProblem(phase.id, item) : undefined;
      if (problem)
        ctx.addIssue({
          code: 'custom',
          path: ['phases', phaseIndex, 'items', itemIndex, 'pipeline'],
          message: problem,
        });
    });
  });
  template.rollback?.items.forEach((item, itemIndex) => {
    const problem = item.pipeline ? pipelineItemProblem(undefined, item) : undefined;
    if (problem)
      ctx.addIssue({ code: 'custom', path: ['rollback', 'items', itemIndex, 'pipeline'], message: problem });
  });
}

type SchemaIssue = z.core.$ZodIssue;

/**
 * A go or rollback criterion may be a sentence or a mapping, and zod reports a bad one as "matches
 * neither". Report instead what is wrong with the form that was written: the branch that got past
 * the type check.
 */
export function explainIssues(issues: readonly SchemaIssue[]): SchemaIssue[] {
  return issues.flatMap((issue): SchemaIssue[] => {
    if (issue.code !== 'invalid_union') return [issue];
    const written = issue.errors.filter(
      (branch) => !branch.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0),
    );
    if (written.length !== 1) {
      return [{ ...issue, message: 'write a sentence, or a criterion with an id and a name' }];
    }
    return explainIssues(written[0]!.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] })));
  });
}

export class ChecklistError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid checklist templates:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ChecklistError';
  }
}

function formatPath(issuePath: readonly PropertyKey[]): string {
  if (issuePath.length === 0) return '(top level)';
  return issuePath
    .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
    .join('')
    .replace(/^\./, '');
}

/** Parses one template file's text. Returns the template or the problems, each naming file, path and reason. */
export function parseTemplate(
  fileName: string,
  text: string,
): { template: Template } | { problems: string[] } {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const reason = err instanceof YAMLParseError ? err.message.split('\n')[0] : String(err);
    return { problems: [`${fileName}: not valid YAML: ${reason}`] };
  }
  const result = TemplateSchema.safeParse(raw);
  if (!result.success) {
    return {
      problems: explainIssues(result.error.issues).map(
        (issue) => `${fileName}: ${formatPath(issue.path)}: ${issue.message}`,
      ),
    };
  }
  const expectedId = path.basename(fileName).replace(/\.ya?ml$/, '');
  if (result.data.id !== expectedId) {
    return { problems: [`${fileName}: id: "${result.data.id}" must match the file name "${expectedId}"`] };
  }
  return { template: result.data };
}

/** Loads and validates every *.yaml / *.yml file in a folder; throws one error listing every problem. */
export async function loadTemplates(dir: string): Promise<Map<string, Template>> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => /\.ya?ml$/.test(name)).sort();
  } catch (err) {
    throw new ChecklistError([`${dir}: cannot read the checklist folder (${(err as Error).message})`]);
  }
  if (names.length === 0) throw new ChecklistError([`${dir}: no checklist templates (*.yaml) found`]);
  const templates = new Map<string, Template>();
  const fileOfTemplate = new Map<string, string>();
  const problems: string[] = [];
  for (const name of names) {
    const result = parseTemplate(name, await readFile(path.join(dir, name), 'utf8'));
    if ('problems' in result) {
      problems.push(...result.problems);
    } else if (fileOfTemplate.has(result.template.id)) {
      // twin.yaml beside twin.yml: refuse rather than silently keep one of them.
      problems.push(
        `${name}: id: duplicate template id "${result.template.id}": ${fileOfTemplate.get(result.template.id)} declares it too`,
      );
    } else {
      templates.set(result.template.id, result.template);
      fileOfTemplate.set(result.template.id, name);
    }
  }
  if (problems.length > 0) throw new ChecklistError(problems);
  return templates;
}

/** An issue path the way the problems above print it: `phases[2].items[4].id`, or `(top level)`. */
export function formatIssuePath(issuePath: readonly PropertyKey[]): string {
  return formatPath(issuePath);
}

/** The template id a file must declare: its name without the folder and the .yaml / .yml ending. */
export function templateIdForFile(fileName: string): string {
  return path.basename(fileName).replace(/\.ya?ml$/, '');
}
