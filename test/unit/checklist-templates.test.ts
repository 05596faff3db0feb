import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChecklistError, loadTemplates, parseTemplate } from '../../src/config/checklists.js';
import type { DeploymentLogJson } from '../../src/domain/deployment-log.js';
import {
  ANNOUNCEMENT_EVENTS,
  checkinPlan,
  deploymentPhaseIndex,
  findItem,
  type Template,
  type TemplateItem,
} from '../../src/domain/template.js';
import { parseDueOffset, parseDuration } from '../../src/domain/time.js';

// Each phase is due after the phase it waits for, so a team that works on time meets every due time.
const STANDARD_PHASES = [
  ['planning', 'T-7d'],
  ['testing', 'T-3d'],
  ['security', 'T-1d'],
  ['deploy-day', 'T-0'],
  ['execution', 'T+1h'],
  ['verification', 'T+75m'],
  ['communication', 'T+2h'],
  ['extended-monitoring', 'T+3d'],
  ['documentation', 'T+4d'],
  ['sign-off', 'T+5d'],
  ['retrospective', 'T+7d'],
] as const;

/** Required ticks of a standard release: 128 before the templates were reworked (issue 15). */
const STANDARD_REQUIRED_TICKS_AT_MOST = 109;

const KNOWN_ROLES = new Set(['release_manager', 'qa', 'ops', 'security', 'dba', 'product', 'support']);

function itemIds(template: Template): string[] {
  return template.phases.flatMap((phase) => phase.items.map((item) => item.id));
}

function getTemplate(templates: Map<string, Template>, id: string): Template {
  const template = templates.get(id);
  if (!template) throw new Error(`template "${id}" is missing`);
  return template;
}

function getItem(template: Template, id: string): TemplateItem {
  const found = findItem(template, id);
  if (!found) throw new Error(`item "${id}" is missing from ${template.id}`);
  return found.item;
}

function requiredTicks(template: Template): number {
  return template.phases.flatMap((phase) => phase.items).filter((item) => item.required).length;
}

function dueOffsetMs(due: string | undefined): number {
  const parsed = parseDueOffset(due ?? '');
  if (!parsed.ok) throw new Error(`unreadable due "${due}"`);
  return parsed.value;
}

describe('shipped checklist templates', () => {
  let templates: Map<string, Template>;

  beforeAll(async () => {
    templates = await loadTemplates(path.resolve('checklists'));
  });

  it('loads the standard, hotfix and minimal templates', () => {
    expect([...templates.keys()]).toEqual(expect.arrayContaining(['standard', 'hotfix', 'minimal']));
  });

  it('gives the standard template its phases in order, with their due offsets', () => {
    const standard = getTemplate(templates, 'standard');
    expect(standard.phases.map((phase) => [phase.id, phase.due])).toEqual(STANDARD_PHASES.map((p) => [...p]));
  });

  it('keeps every phase of the standard template to 40 items or fewer', () => {
    for (const phase of getTemplate(templates, 'standard').phases) {
      expect(phase.items.length, phase.id).toBeLessThanOrEqual(40);
    }
  });

  it(`asks at most ${STANDARD_REQUIRED_TICKS_AT_MOST} required ticks of a standard release`, () => {
    expect(requiredTicks(getTemplate(templates, 'standard'))).toBeLessThanOrEqual(
      STANDARD_REQUIRED_TICKS_AT_MOST,
    );
  });

  it('makes each phase due after the one it waits for, and the deploy due after the window opens', () => {
    for (const template of templates.values()) {
      const offsets = template.phases.map((phase) => dueOffsetMs(phase.due));
      for (let index = 1; index < offsets.length; index++) {
        const at = `${template.id}/${template.phases[index]!.id}`;
        expect(offsets[index], at).toBeGreaterThan(offsets[index - 1]!);
      }
      const deployment = deploymentPhaseIndex(template);
      if (deployment !== undefined) expect(offsets[deployment], template.id).toBeGreaterThan(0);
    }
  });

  it('makes extended monitoring due after the last check-in of a deploy that finished on time', () => {
    const standard = getTemplate(templates, 'standard');
    const lastCheckinMs = Math.max(
      ...(standard.checkins ?? []).map((text) => {
        const parsed = parseDuration(text);
        if (!parsed.ok) throw new Error(text);
        return parsed.value;
      }),
    );
    const watch = standard.phases.findIndex((phase) => phase.id === 'extended-monitoring');
    // Check-ins count from the deploy, which may finish as late as the execution phase is due.
    const executionDueMs = dueOffsetMs(standard.phases[deploymentPhaseIndex(standard)!]!.due);
    expect(dueOffsetMs(standard.phases[watch]!.due)).toBeGreaterThan(executionDueMs + lastCheckinMs);
  });

  it('watches error rate and response time against the baseline right after the deploy', () => {
    for (const template of templates.values()) {
      const deployment = deploymentPhaseIndex(template);
      if (deployment === undefined) continue;
      const shown = template.phases[deployment + 1]!.items.flatMap((item) => item.criteria ?? []);
      expect(shown, template.id).toEqual(expect.arrayContaining(['error-rate', 'response-time']));
    }
    const standard = getTemplate(templates, 'standard');
    expect(getItem(standard, 'baseline-captured').criteria).toEqual(['response-time', 'error-rate']);
  });

  it('sets monitoring up in one place before the deploy, and only checks it afterwards', () => {
    const standard = getTemplate(templates, 'standard');
    const setUp = standard.phases.flatMap((phase, phaseIndex) =>
      phase.items.filter((item) => item.group === 'Monitoring set-up').map(() => phaseIndex),
    );
    expect(setUp.length).toBeGreaterThanOrEqual(4);
    expect(new Set(setUp).size).toBe(1);
    expect(setUp[0]!).toBeLessThan(deploymentPhaseIndex(standard)!);
    const after = standard.phases.slice(deploymentPhaseIndex(standard)! + 1).flatMap((phase) => phase.items);
    for (const item of after) expect(item.text, item.id).not.toMatch(/\b(alerts? set|set up|configured)\b/i);
  });

  it('has no item that restates what shipcheck records itself', () => {
    for (const template of templates.values()) {
      for (const item of template.phases.flatMap((phase) => phase.items)) {
        const at = `${template.id}/${item.id}`;
        expect(item.id, at).not.toMatch(/^log-/);
        expect(item.text, at).not.toMatch(/deployment log|audit trail|every required item/i);
      }
      for (const item of template.rollback?.items ?? []) {
        expect(item.text, `${template.id}/${item.id}`).not.toMatch(/rollback decided/i);
      }
    }
  });

  it('joins at most two checks in one item', () => {
    for (const template of templates.values()) {
      const items = [...template.phases.flatMap((phase) => phase.items), ...(template.rollback?.items ?? [])];
      for (const item of items) {
        expect(item.text.split(';').length, `${template.id}/${item.id}`).toBeLessThanOrEqual(2);
      }
    }
  });

  it('keeps <, > and & out of item text and help (Slack mrkdwn would mangle them)', () => {
    for (const template of templates.values()) {
      for (const phase of template.phases) {
        for (const item of phase.items) {
          expect(item.text, `${template.id}/${item.id}`).not.toMatch(/[<>&]/);
          if (item.help) expect(item.help, `${template.id}/${item.id} help`).not.toMatch(/[<>&]/);
        }
      }
    }
  });

  it('uses only the known roles', () => {
    for (const template of templates.values()) {
      for (const phase of template.phases) {
        for (const item of phase.items) {
          if (item.role)
            expect(KNOWN_ROLES.has(item.role), `${template.id}/${item.id}: ${item.role}`).toBe(true);
        }
      }
    }
  });

  it('keeps the safety-critical steps in the hotfix template', () => {
    const hotfix = getTemplate(templates, 'hotfix');
    const ids = itemIds(hotfix);
    expect(ids).toEqual(
      expect.arrayContaining(['backup-taken', 'rollback-plan', 'smoke-test', 'post-mortem']),
    );
    const due = (id: string) => dueOffsetMs(hotfix.phases.find((phase) => phase.id === id)?.due);
    expect(due('verify') - due('deploy')).toBe(15 * 60_000);
  });

  it('fits the hotfix to an urgent fix: a backup only for data, the fix built from its tag, nothing waiting for QA', () => {
    const hotfix = getTemplate(templates, 'hotfix');
    expect(getItem(hotfix, 'backup-taken').required).toBe(false);
    expect(hotfix.go?.criteria).toContainEqual(expect.objectContaining({ id: 'data-backed-up' }));
    expect(getItem(hotfix, 'release-tagged').text).toMatch(/tag/);
    expect(getItem(hotfix, 'hotfix-deployed').text).toMatch(/tag/);
    for (const id of ['tests-pass', 'staging-verified', 'smoke-test']) {
      expect(getItem(hotfix, id).role, id).toBeUndefined();
    }
  });

  it('fits the minimal template to a small team: backup on the deploy day, the tag deployed, optional migrations', () => {
    const minimal = getTemplate(templates, 'minimal');
    const deploy = minimal.phases[deploymentPhaseIndex(minimal)!]!;
    expect(deploy.items.map((item) => item.id)).toContain('backup-taken');
    expect(getItem(minimal, 'backup-taken').required).toBe(true);
    expect(getItem(minimal, 'code-deployed').text).toMatch(/tag/);
    expect(getItem(minimal, 'code-deployed').text).not.toMatch(/^latest code/i);
    expect(getItem(minimal, 'migrations-ready').required).toBe(false);
    expect(getItem(minimal, 'migrations-run').required).toBe(false);
  });

  it('marks one deployment phase in every template, which check-ins count from', () => {
    const deployment = (id: string) =>
      getTemplate(templates, id)
        .phases.filter((phase) => phase.deployment)
        .map((phase) => phase.id);
    expect(deployment('standard')).toEqual(['execution']);
    expect(deployment('hotfix')).toEqual(['deploy']);
    expect(deployment('minimal')).toEqual(['deploy']);
    expect(checkinPlan(getTemplate(templates, 'hotfix'), [1, 2])).toEqual([2 * 3600_000, 24 * 3600_000]);
    expect(checkinPlan(getTemplate(templates, 'standard'), [86_400_000, 172_800_000])).toEqual([
      86_400_000, 172_800_000,
    ]);
  });

  it("carries the sources' success metrics in the standard template, with their numbers", () => {
    const targets = (getTemplate(templates, 'standard').success ?? []).map((criterion) => [
      criterion.id,
      criterion.direction,
      criterion.threshold,
      criterion.unit,
    ]);
    // 001's key indicators and quality metrics.
    expect(targets).toEqual([
      ['no-unplanned-downtime', 'at most', 0, 'min'],
      ['within-window', 'at most', 0, 'min'],
      ['response-time', 'below', 10, '%'],
      ['error-rate', 'below', 1, '%'],
      ['user-complaints', 'below', 5, '%'],
      ['critical-issues', 'below', 3, 'count'],
      ['time-to-resolution', 'below', 2, 'h'],
      ['satisfaction', 'above', 8, '/10'],
      ['deploys-rolled-back', 'below', 5, '%'],
    ]);
  });

  it("gives the standard template 001's rollback thresholds and its own check-ins", () => {
    const standard = getTemplate(templates, 'standard');
    const thresholds = (standard.rollback?.criteria ?? []).flatMap((criterion) =>
      typeof criterion === 'string' || criterion.threshold === undefined
        ? []
        : [[criterion.direction, criterion.threshold, criterion.unit]],
    );
    expect(thresholds).toEqual([
      ['above', 50, '%'],
      ['above', 10, '%'],
    ]);
    expect(standard.checkins).toEqual(['24h', '48h']);
  });

  it('writes no threshold in a help text: items refer to the criteria instead', () => {
    for (const template of templates.values()) {
      const items = [...template.phases.flatMap((phase) => phase.items), ...(template.rollback?.items ?? [])];
      for (const entry of items) {
        if (entry.help)
          expect(entry.help, `${template.id}/${entry.id}`).not.toMatch(/\d\s*%|\d+ hours|out of 10/);
      }
    }
  });

  it('gives the hotfix its own red flags, none of which fits a security fix badly', () => {
    const redflags = getTemplate(templates, 'hotfix').redflags ?? [];
    expect(redflags.length).toBeGreaterThan(3);
    for (const flag of redflags) {
      expect(flag).not.toMatch(/security vulnerability/i);
      expect(flag).not.toMatch(/rollback.*untested/i);
    }
  });

  it('shows go criteria with the go call of each template that waits for one', () => {
    for (const template of templates.values()) {
      if (template.phases.some((phase) => phase.go)) {
        expect(template.go?.criteria.length, template.id).toBeGreaterThan(0);
      }
    }
  });

  it('marks the items a pipeline owns: build, artifact, automated tests, smoke tests and the deploy, with their values', () => {
    const marked = (id: string) =>
      [...getTemplate(templates, id).phases.flatMap((phase) => phase.items)]
        .filter((item) => item.pipeline)
        .map((item) => [item.id, item.record?.label ?? null]);
    expect(marked('standard')).toEqual([
      ['staging-deployed', null],
      ['staging-smoke-tests', null],
      ['regression-suite', 'Test run id or link'],
      ['static-analysis', null],
      ['test-coverage', null],
      ['release-tagged', 'Commit SHA'],
      ['code-deployed', 'Commit SHA'],
      ['dependencies-built', null],
      ['static-files-deployed', null],
      ['app-loads', null],
      ['api-endpoints', null],
      ['prod-test-suite', null],
    ]);
    expect(marked('hotfix')).toEqual([
      ['tests-pass', 'Test run id or link'],
      ['release-tagged', 'Commit SHA'],
      ['hotfix-deployed', 'Commit SHA'],
      ['smoke-test', null],
    ]);
    expect(marked('minimal')).toEqual([
      ['tests-pass', 'Test run id or link'],
      ['release-tagged', 'Commit SHA'],
      ['code-deployed', 'Commit SHA'],
      ['dependencies-built', null],
      ['smoke-test', null],
    ]);
    // The approval the minimal template's tests item used to carry is a person's item of its own.
    expect(getItem(getTemplate(templates, 'minimal'), 'release-approved').pipeline).toBeUndefined();
    for (const template of templates.values()) {
      const deployment = template.phases[deploymentPhaseIndex(template)!]!;
      expect(
        deployment.items.some((item) => item.pipeline),
        `${template.id}: a pipeline can report the deploy`,
      ).toBe(true);
      for (const item of template.phases.flatMap((phase) => phase.items)) {
        if (item.pipeline) expect(item.criteria ?? [], `${template.id}/${item.id}`).not.toContain('go');
      }
    }
  });

  it('ends the minimal template with one sign-off, by the deployment lead', () => {
    const minimal = getTemplate(templates, 'minimal');
    const signOff = minimal.phases[minimal.phases.length - 1]!;
    expect(signOff.id).toBe('sign-off');
    const roles = signOff.items.filter((item) => item.id.startsWith('signoff-')).map((item) => item.role);
    expect(roles).toEqual(['release_manager']);
  });
});

// ---------------------------------------------------------------------------------------------------------
// docs/checklist-coverage.md: every item of the five source checklists, and its home in standard.yaml.

/** Rows per source table: one per source item, so a deleted row fails. */
const SOURCE_ROWS = { '000': 28, '001': 241, '002': 33, '003': 59, '004': 84 } as const;

/** Source items the document lists as not covered (`not covered: reason`): none today. */
const NOT_COVERED: string[] = [];

/** Sections whose steps happen during a rollback, when the release's phases can no longer be ticked. */
const ROLLBACK_STEP_SECTIONS =
  /^(Rollback execution|Post-rollback|Rollback steps|Rollback: (execute|verify|post-mortem))$/;

/** Every path into an object type, through arrays: `release.version`, `issues.severity`. */
type FieldPath<T, Prefix extends string = ''> = T extends readonly (infer Element)[]
  ? FieldPath<Element, Prefix>
  : T extends object
    ? {
        [Key in keyof T & string]: `${Prefix}${Key}` | FieldPath<NonNullable<T[Key]>, `${Prefix}${Key}.`>;
      }[keyof T & string]
    : never;

/**
 * What shipcheck records by itself that the document names as a home (`log:path`). The compiler checks
 * that each path exists in the deployment log (npm run typecheck).
 */
const RECORDED_FIELDS: readonly FieldPath<DeploymentLogJson>[] = [
  'release.version',
  'release.env',
  'release.window',
  'release.deployedAt',
  'release.deployedBy',
  'notes',
  'downtime',
  'phases.state',
  'checkins.answer',
  'issues',
  'issues.severity',
  'issues.resolution',
  'issues.resolvedAt',
  'rollback.decidedBy',
  'rollback.reason',
  'go',
  'retrospective',
  'retrospective.wentWrong',
  'retrospective.followUps',
  'events',
];

type HomeKind = 'item' | 'rollback item' | 'recorded value' | 'criterion' | 'red flag' | 'recorded field';

interface CoverageRow {
  source: string;
  section: string;
  summary: string;
  homes: string[];
  notCovered: boolean;
}

/** The rows of the `## 000:` … `## 004:` tables, without their header and separator lines. */
function readCoverage(markdown: string): CoverageRow[] {
  const rows: CoverageRow[] = [];
  let source: string | undefined;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('## ')) {
      source = /^## (\d{3}):/.exec(line)?.[1];
      continue;
    }
    if (!source || !line.startsWith('|')) continue;
    const cells = line
      .trim()
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split('|')
      .map((cell) => cell.trim());
    const [section = '', summary = '', home = ''] = cells;
    if (section === 'Source section' || /^[-:]+$/.test(section)) continue;
    rows.push({
      source,
      section,
      summary,
      homes: [...home.matchAll(/`([^`]+)`/g)].map((match) => match[1]!),
      notCovered: /^not covered:/i.test(home),
    });
  }
  return rows;
}

/** What a home names in the template, or undefined when the template has no such thing. */
function resolveHome(template: Template, home: string): HomeKind | undefined {
  const colon = home.indexOf(':');
  const [kind, name] = colon === -1 ? [undefined, home] : [home.slice(0, colon), home.slice(colon + 1)];
  switch (kind) {
    case undefined: {
      const found = findItem(template, name);
      if (!found) return undefined;
      return found.phaseIndex === template.phases.length ? 'rollback item' : 'item';
    }
    case 'record': {
      const found = findItem(template, name);
      return (found?.item as { record?: unknown } | undefined)?.record === undefined
        ? undefined
        : 'recorded value';
    }
    case 'success':
    case 'go':
    case 'rollback': {
      const list =
        (kind === 'success'
          ? template.success
          : kind === 'go'
            ? template.go?.criteria
            : template.rollback?.criteria) ?? [];
      if (name === '*') return list.length > 0 ? 'criterion' : undefined;
      return list.some((entry) => typeof entry !== 'string' && entry.id === name) ? 'criterion' : undefined;
    }
    case 'redflag':
      return template.redflags?.includes(name) ? 'red flag' : undefined;
    case 'log':
      return (RECORDED_FIELDS as readonly string[]).includes(name) ? 'recorded field' : undefined;
    default:
      return undefined;
  }
}

/** Every row that lost its home, or points a rollback step where nobody can tick it during a rollback. */
function coverageProblems(template: Template, rows: readonly CoverageRow[]): string[] {
  const problems: string[] = [];
  for (const row of rows) {
    const at = `${row.source} ${row.section}: ${row.summary}`;
    if (row.notCovered) continue;
    if (row.homes.length === 0) problems.push(`${at}: no home`);
    for (const home of row.homes) {
      const kind = resolveHome(template, home);
      if (!kind) problems.push(`${at}: ${home} is not in ${template.id}.yaml`);
      else if (
        ROLLBACK_STEP_SECTIONS.test(row.section) &&
        kind !== 'rollback item' &&
        kind !== 'recorded field'
      )
        problems.push(`${at}: a rollback step, pointed at the ${kind} ${home}`);
    }
  }
  return problems;
}

describe('docs/checklist-coverage.md', () => {
  let standard: Template;
  let rows: CoverageRow[];

  beforeAll(async () => {
    standard = getTemplate(await loadTemplates(path.resolve('checklists')), 'standard');
    rows = readCoverage(await readFile(path.resolve('docs/checklist-coverage.md'), 'utf8'));
  });

  it('has a row for every item of each of the five sources', () => {
    const counts: Record<string, number> = {};
    for (const row of rows) counts[row.source] = (counts[row.source] ?? 0) + 1;
    expect(counts).toEqual(SOURCE_ROWS);
  });

  it('gives every source item a home that standard.yaml has', () => {
    expect(coverageProblems(standard, rows)).toEqual([]);
  });

  it('lists no source item as not covered beyond the pinned list', () => {
    const notCovered = rows.filter((row) => row.notCovered).map((row) => `${row.source} ${row.summary}`);
    expect(notCovered).toEqual(NOT_COVERED);
  });

  it('names items, rollback items, recorded values, criteria, red flags and recorded fields', () => {
    const kinds = new Set(rows.flatMap((row) => row.homes.map((home) => resolveHome(standard, home))));
    expect([...kinds].sort()).toEqual(
      ['criterion', 'item', 'recorded field', 'recorded value', 'red flag', 'rollback item'].sort(),
    );
  });

  it('is the home of every item, criterion and red flag of standard.yaml', () => {
    const named = new Set(rows.flatMap((row) => row.homes));
    const wholeList = (list: string) => named.has(`${list}:*`);
    const expected = [
      ...standard.phases.flatMap((phase) => phase.items.map((item) => item.id)),
      ...(standard.rollback?.items ?? []).map((item) => item.id),
      ...(standard.success ?? []).map((criterion) => `success:${criterion.id}`),
      ...(wholeList('go')
        ? []
        : (standard.go?.criteria ?? []).map((entry) => `go:${(entry as { id: string }).id}`)),
      ...(wholeList('rollback')
        ? []
        : (standard.rollback?.criteria ?? []).map((entry) => `rollback:${(entry as { id: string }).id}`)),
      ...(standard.redflags ?? []).map((flag) => `redflag:${flag}`),
    ];
    const unnamed = expected.filter((home) => !named.has(home) && !named.has(`record:${home}`));
    expect(unnamed).toEqual([]);
  });

  it('fails when a source item loses its home', () => {
    const without = (template: Template, itemId: string): Template => ({
      ...template,
      phases: template.phases.map((phase) => ({
        ...phase,
        items: phase.items.filter((item) => item.id !== itemId),
      })),
      rollback: template.rollback && {
        ...template.rollback,
        items: template.rollback.items.filter((item) => item.id !== itemId),
      },
    });
    expect(coverageProblems(without(standard, 'rb-watched'), rows)).toEqual([
      '004 Rollback: verify: Watch for further issues: rb-watched is not in standard.yaml',
    ]);
    expect(coverageProblems(without(standard, 'db-backup-taken'), rows)).toEqual(
      expect.arrayContaining([
        '000 Backup: Back up the production database: db-backup-taken is not in standard.yaml',
        '004 Log template: Backup ID: record:db-backup-taken is not in standard.yaml',
      ]),
    );
    const noFlags = { ...standard, redflags: standard.redflags?.slice(1) };
    expect(coverageProblems(noFlags, rows)).toEqual([
      '001 Red flags (stop): Backup failed or corrupt: redflag:The backup failed or is corrupt is not in standard.yaml',
    ]);
    const moved: CoverageRow = {
      source: '001',
      section: 'Rollback execution',
      summary: 'Code reverted',
      homes: ['code-deployed'],
      notCovered: false,
    };
    expect(coverageProblems(standard, [moved])).toEqual([
      '001 Rollback execution: Code reverted: a rollback step, pointed at the item code-deployed',
    ]);
    const homeless: CoverageRow = { ...moved, homes: [] };
    expect(coverageProblems(standard, [homeless])).toEqual([
      '001 Rollback execution: Code reverted: no home',
    ]);
  });
});

describe('parseTemplate on broken templates', () => {
  const good = ['id: bad', 'name: Bad', 'phases:', '  - id: one', '    name: One'].join('\n');

  function problemsOf(text: string): string[] {
    const result = parseTemplate('bad.yaml', text);
    if (!('problems' in result)) throw new Error('expected the template to be rejected');
    return result.problems;
  }

  it('accepts the base template used below', () => {
    expect(parseTemplate('bad.yaml', `${good}\n    items:\n      - id: a\n        text: A\n`)).toHaveProperty(
      'template.id',
      'bad',
    );
  });

  it('accepts the team’s own wording of every announcement, a planned release’s included', () => {
    const wording = ANNOUNCEMENT_EVENTS.map((event) => `  ${event}: "{version} ${event}"`).join('\n');
    const text = `${good}\n    items:\n      - id: a\n        text: A\nannouncements:\n${wording}\n`;
    const result = parseTemplate('bad.yaml', text);
    expect(result).toHaveProperty('template.announcements.planned', '{version} planned');
    expect(problemsOf(text.replace('  planned:', '  preparing:'))).toEqual([
      expect.stringMatching(/^bad\.yaml: announcements/),
    ]);
  });

  it.each([
    {
      name: 'duplicate item id',
      text: `${good}\n    items:\n      - id: a\n        text: A\n      - id: a\n        text: B\n`,
      where: 'phases[0].items[1].id',
      reason: /duplicate item id "a"/,
    },
    {
      name: 'missing text',
      text: `${good}\n    items:\n      - id: a\n`,
      where: 'phases[0].items[0].text',
      reason: /expected string/,
    },
    {
      name: 'bad due offset',
      text: `${good}\n    due: T-7x\n    items:\n      - id: a\n        text: A\n`,
      where: 'phases[0].due',
      reason: /due offset like T-7d/,
    },
    {
      name: 'unknown field',
      text: `${good}\n    items:\n      - id: a\n        text: A\n        owner: bob\n`,
      where: 'phases[0].items[0]',
      reason: /Unrecognized key: "owner"/,
    },
    {
      name: 'two deployment phases',
      text: `${good}\n    deployment: true\n    items:\n      - id: a\n        text: A\n  - id: two\n    name: Two\n    deployment: true\n    items:\n      - id: b\n        text: B\n`,
      where: 'phases[1].deployment',
      reason: /only one phase can be the deployment; "one" is already/,
    },
    {
      name: 'a deployment phase without a required item',
      text: `${good}\n    deployment: true\n    items:\n      - id: a\n        text: A\n        required: false\n`,
      where: 'phases[0].items',
      reason: /needs a required item/,
    },
    {
      name: 'check-ins without a deployment phase',
      text: `${good}\n    items:\n      - id: a\n        text: A\ncheckins: [24h]\n`,
      where: 'checkins',
      reason: /mark one phase with `deployment: true`/,
    },
    {
      name: 'an unreadable check-in offset',
      text: `${good}\n    deployment: true\n    items:\n      - id: a\n        text: A\ncheckins: [24h, soon]\n`,
      where: 'checkins[1]',
      reason: /check-in offset like 30s/,
    },
    {
      name: 'id not matching the file name',
      text: `${good.replace('id: bad', 'id: other')}\n    items:\n      - id: a\n        text: A\n`,
      where: 'id',
      reason: /"other" must match the file name "bad"/,
    },
  ])('reports $name with file, path and reason', ({ text, where, reason }) => {
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    const [problem] = problems;
    expect(problem?.startsWith(`bad.yaml: ${where}: `), problem).toBe(true);
    expect(problem).toMatch(reason);
  });

  it('reports invalid YAML syntax with the file name and the parser reason', () => {
    const problems = problemsOf('id: bad\nname: [unclosed\nphases: {\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^bad\.yaml: not valid YAML: \S.*line \d+/);
  });
});

describe('loadTemplates on a folder with a broken file', () => {
  let dir: string | undefined;

  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('throws a ChecklistError that lists the broken file and its problem', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'shipcheck-templates-'));
    await writeFile(
      path.join(dir, 'good.yaml'),
      'id: good\nname: Good\nphases:\n  - id: one\n    name: One\n    items:\n      - id: a\n        text: A\n',
    );
    await writeFile(
      path.join(dir, 'broken.yaml'),
      'id: broken\nname: Broken\nphases:\n  - id: one\n    name: One\n    items:\n      - id: a\n',
    );

    const error = await loadTemplates(dir).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ChecklistError);
    const checklistError = error as ChecklistError;
    expect(checklistError.problems).toHaveLength(1);
    expect(checklistError.problems[0]).toMatch(/^broken\.yaml: phases\[0\]\.items\[0\]\.text: /);
    expect(checklistError.message).toContain('broken.yaml: phases[0].items[0].text');
    expect(checklistError.message).not.toContain('good.yaml');
  });

  it('refuses two files that declare the same template', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'shipcheck-templates-'));
    const twin =
      'id: twin\nname: Twin\nphases:\n  - id: one\n    name: One\n    items:\n      - id: a\n        text: A\n';
    await writeFile(path.join(dir, 'twin.yaml'), twin);
    await writeFile(path.join(dir, 'twin.yml'), twin);

    const error = (await loadTemplates(dir).then(
      () => undefined,
      (err: unknown) => err,
    )) as ChecklistError;
    expect(error).toBeInstanceOf(ChecklistError);
    expect(error.problems).toEqual(['twin.yml: id: duplicate template id "twin": twin.yaml declares it too']);
  });
});
