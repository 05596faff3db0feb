import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChecklistError, loadTemplates, parseTemplate } from '../../src/config/checklists.js';
import { ANNOUNCEMENT_EVENTS, checkinPlan, type Template } from '../../src/domain/template.js';

const STANDARD_PHASES = [
  ['planning', 'T-7d'],
  ['testing', 'T-3d'],
  ['security', 'T-1d'],
  ['deploy-day', 'T-0'],
  ['execution', 'T-0'],
  ['verification', 'T+15m'],
  ['communication', 'T+15m'],
  ['extended-monitoring', 'T+48h'],
  ['documentation', 'T+48h'],
  ['sign-off', 'T+48h'],
  ['retrospective', 'T+48h'],
] as const;

const KNOWN_ROLES = new Set(['release_manager', 'qa', 'ops', 'security', 'dba', 'product', 'support']);

function itemIds(template: Template): string[] {
  return template.phases.flatMap((phase) => phase.items.map((item) => item.id));
}

function getTemplate(templates: Map<string, Template>, id: string): Template {
  const template = templates.get(id);
  if (!template) throw new Error(`template "${id}" is missing`);
  return template;
}

/** Ids in backticks in the last column of every table row of the coverage document. */
function coverageIds(markdown: string): string[] {
  const ids: string[] = [];
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|') || /^\|[\s|:-]+\|$/.test(line.trim())) continue;
    const cells = line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|');
    const last = cells[cells.length - 1] ?? '';
    for (const match of last.matchAll(/`([^`]+)`/g)) ids.push(match[1]!);
  }
  return ids;
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

  it('has every item named in docs/checklist-coverage.md in the standard template', async () => {
    const markdown = await readFile(path.resolve('docs/checklist-coverage.md'), 'utf8');
    const referenced = new Set(coverageIds(markdown));
    expect(referenced.size).toBeGreaterThan(50);
    const standardIds = new Set(itemIds(getTemplate(templates, 'standard')));
    const missing = [...referenced].filter((id) => !standardIds.has(id));
    expect(missing).toEqual([]);
  });

  it('maps all five source files in the coverage document', async () => {
    const markdown = await readFile(path.resolve('docs/checklist-coverage.md'), 'utf8');
    for (const source of ['000', '001', '002', '003', '004']) {
      expect(markdown).toMatch(new RegExp(`^## ${source}:`, 'm'));
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
    expect(hotfix.phases.find((phase) => phase.id === 'verify')?.due).toBe('T+15m');
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

  it('ends the minimal template with the three sign-off roles', () => {
    const minimal = getTemplate(templates, 'minimal');
    const signOff = minimal.phases[minimal.phases.length - 1]!;
    expect(signOff.id).toBe('sign-off');
    const roles = signOff.items.filter((item) => item.id.startsWith('signoff-')).map((item) => item.role);
    expect(roles).toEqual(['release_manager', 'qa', 'ops']);
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
