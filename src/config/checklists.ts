import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ANNOUNCEMENT_EVENTS, type Template } from '../domain/template.js';
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
    rollback: z
      .strictObject({
        criteria: z.array(z.string().trim().min(1).max(200)).min(1).max(10),
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
  }) satisfies z.ZodType<Template, unknown>;

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
      problems: result.error.issues.map(
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
