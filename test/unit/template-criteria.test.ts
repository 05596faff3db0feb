import { describe, expect, it } from 'vitest';
import { formatProblem, lintTemplateText } from '../../src/cli/lint.js';
import { parseTemplate } from '../../src/config/checklists.js';
import {
  DEFAULT_RED_FLAGS,
  describeCriterion,
  describeThreshold,
  listCriteria,
  redFlagsOf,
  resolveCriterionReferences,
} from '../../src/domain/criteria.js';
import { buildDeploymentLog } from '../../src/domain/deployment-log.js';
import type { Template } from '../../src/domain/template.js';
import { rememberTemplate, templateFingerprint } from '../../src/store/release-codec.js';
import { renderRollbackModal } from '../../src/views/checkin-messages.js';
import { renderHeader, renderPhaseParts } from '../../src/views/release-messages.js';
import { makeRelease, T0, tickPhases } from './factories.js';

// The template data for what a release measures: success, go and rollback criteria, red flags,
// check-ins, and items that refer to them. Lint reports each misuse at its file, line and column.

/** Two phases, the second the deployment and waiting for the go call; lines 1 to 15. */
const BASE = `id: measured
name: Measured
phases:
  - id: prepare
    name: Prepare
    items:
      - id: ready
        text: Ready
  - id: ship
    name: Ship
    deployment: true
    go: true
    items:
      - id: shipped
        text: Shipped
`;

const MEASURED = `${BASE}checkins: [24h, 48h]
success:
  - id: latency
    name: Response time slower than the baseline
    direction: below
    threshold: 10
    unit: '%'
    metric: histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[5m])) by (le))
  - id: satisfaction
    name: Stakeholder satisfaction
    direction: above
    threshold: 8
    unit: /10
go:
  criteria:
    - id: backup-verified
      name: Backup verified
    - Support on standby
redflags:
  - The store review failed
rollback:
  criteria:
    - id: errors
      name: Operations failing
      direction: above
      threshold: 10
      unit: '%'
    - Data looks wrong
  items:
    - id: rb-reverted
      text: Previous build deployed again
      criteria: [errors]
`;

function parsed(text: string): Template {
  const result = parseTemplate('measured.yaml', text);
  if ('problems' in result) throw new Error(result.problems.join('\n'));
  return result.template;
}

function lintLines(text: string): string[] {
  const linted = lintTemplateText('measured.yaml', text);
  return linted.problems.map((problem) => formatProblem(linted.file, problem));
}

describe('template criteria in the schema', () => {
  it('reads success, go and rollback criteria, red flags and check-ins', () => {
    const template = parsed(MEASURED);
    expect(template.checkins).toEqual(['24h', '48h']);
    expect(template.success).toEqual([
      {
        id: 'latency',
        name: 'Response time slower than the baseline',
        direction: 'below',
        threshold: 10,
        unit: '%',
        metric: 'histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[5m])) by (le))',
      },
      { id: 'satisfaction', name: 'Stakeholder satisfaction', direction: 'above', threshold: 8, unit: '/10' },
    ]);
    expect(template.go).toEqual({
      criteria: [{ id: 'backup-verified', name: 'Backup verified' }, 'Support on standby'],
    });
    expect(template.rollback?.criteria).toEqual([
      { id: 'errors', name: 'Operations failing', direction: 'above', threshold: 10, unit: '%' },
      'Data looks wrong',
    ]);
    expect(template.rollback?.items[0]?.criteria).toEqual(['errors']);
    expect(listCriteria(template).map((criterion) => criterion.id)).toEqual([
      'latency',
      'satisfaction',
      'backup-verified',
      'errors',
    ]);
  });

  it('lets an item show single criteria and whole lists', () => {
    const template = parsed(
      MEASURED.replace(
        '        text: Ready\n',
        '        text: Ready\n        criteria: [latency, redflags]\n',
      ),
    );
    const ready = template.phases[0]!.items[0]!;
    expect(resolveCriterionReferences(template, ready.criteria!)).toEqual([
      { lines: ['Response time slower than the baseline: less than 10 %'] },
      { title: 'Stop if', lines: ['The store review failed'] },
    ]);
  });

  it('keeps the built-in red flags for a template that sets none, and only for it', () => {
    expect(redFlagsOf(parsed(BASE))).toBe(DEFAULT_RED_FLAGS);
    expect(redFlagsOf(parsed(MEASURED))).toEqual(['The store review failed']);
  });

  it.each([
    [{ direction: 'below', threshold: 10, unit: '%' }, 'less than 10 %'],
    [{ direction: 'below', threshold: 3, unit: 'count' }, 'fewer than 3'],
    [{ direction: 'above', threshold: 8, unit: '/10' }, 'more than 8/10'],
    [{ direction: 'at most', threshold: 0, unit: 'min' }, 'none'],
    [{ direction: 'at most', threshold: 250, unit: 'ms' }, 'at most 250 ms'],
    [{ direction: 'at least', threshold: 99.5, unit: '%' }, 'at least 99.5 %'],
    [{ direction: 'below', threshold: 2 }, 'less than 2'],
    [{}, undefined],
  ] as const)('describes the target %j as "%s"', (target, words) => {
    expect(describeThreshold({ id: 'x', name: 'X', ...target })).toBe(words);
  });

  it('describes a criterion as its name and target, and a sentence as itself', () => {
    expect(
      describeCriterion({ id: 'x', name: 'Error rate', direction: 'below', threshold: 1, unit: '%' }),
    ).toBe('Error rate: less than 1 %');
    expect(describeCriterion({ id: 'x', name: 'Backup verified' })).toBe('Backup verified');
    expect(describeCriterion('Data looks wrong')).toBe('Data looks wrong');
  });
});

describe('shipcheck lint on criteria', () => {
  const success = (lines: string[]) => `${BASE}success:\n${lines.map((line) => `  ${line}`).join('\n')}\n`;
  const latency = (...extra: string[]) =>
    success(['- id: latency', '  name: Latency', ...extra.map((line) => `  ${line}`)]);

  it.each([
    {
      misuse: 'an unknown direction',
      text: latency('direction: under', 'threshold: 10', 'unit: ms'),
      expected: '19:16 success[0].direction: use one of "below", "above", "at most", "at least"',
    },
    {
      misuse: 'an unknown unit',
      text: latency('direction: below', 'threshold: 10', 'unit: percent'),
      expected: '21:11 success[0].unit: use one of "%", "ms", "s", "min", "h", "count", "/10"',
    },
    {
      misuse: 'a threshold that is not a number',
      text: latency('direction: below', 'threshold: 10 %', "unit: '%'"),
      expected:
        '20:16 success[0].threshold: write the threshold as a number, like 10; the unit goes in `unit`',
    },
    {
      misuse: 'a success criterion without a threshold',
      text: latency('direction: below', 'unit: ms'),
      expected: '17:5 success[0].threshold: required field is missing (expected number)',
    },
    {
      misuse: 'an unknown field in a criterion',
      text: latency('direction: below', 'threshold: 10', 'unit: ms', 'target: 10'),
      expected:
        '22:5 success[0].target: unknown field (allowed here: id, name, direction, threshold, unit, metric, condition, window, dashboard, watch)',
    },
    {
      misuse: 'a duplicate criterion id',
      text: `${latency('direction: below', 'threshold: 10', 'unit: ms')}rollback:\n  criteria:\n    - id: latency\n      name: Slow\n  items:\n    - id: rb\n      text: Reverted\n`,
      expected:
        '24:11 rollback.criteria[0].id: duplicate criterion id "latency" (criterion ids are unique across success, go and rollback criteria)',
    },
    {
      misuse: 'a criterion id that names a whole list',
      text: `${BASE}go:\n  criteria:\n    - id: rollback\n      name: Rollback rehearsed\n`,
      expected: '18:11 go.criteria[0].id: "rollback" names a whole list; pick another criterion id',
    },
    {
      misuse: 'a threshold without a direction',
      text: `${BASE}go:\n  criteria:\n    - id: findings\n      name: Open findings\n      threshold: 0\n`,
      expected:
        '20:18 go.criteria[0].threshold: a threshold needs a direction: below, above, at most or at least',
    },
    {
      misuse: 'a direction without a threshold',
      text: `${BASE}go:\n  criteria:\n    - id: findings\n      name: Open findings\n      direction: at most\n`,
      expected: '20:18 go.criteria[0].direction: a direction needs a threshold to compare with',
    },
    {
      misuse: 'a unit without a threshold',
      text: `${BASE}go:\n  criteria:\n    - id: findings\n      name: Open findings\n      unit: count\n`,
      expected: '20:13 go.criteria[0].unit: a unit needs a threshold to go with',
    },
    {
      misuse: 'a score out of 10 above 10',
      text: latency('direction: above', 'threshold: 80', 'unit: /10'),
      expected: '20:16 success[0].threshold: a score out of 10 lies between 0 and 10',
    },
    {
      misuse: 'a criterion that is neither a sentence nor a mapping',
      text: `${BASE}go:\n  criteria:\n    - 42\n`,
      expected: '18:7 go.criteria[0]: write a sentence, or a criterion with an id and a name',
    },
    {
      misuse: 'go criteria without a phase that waits for the go call',
      text: `${BASE.replace('    go: true\n', '')}go:\n  criteria:\n    - Backup verified\n`,
      expected: '16:3 go: go criteria are shown with the go/no-go call; mark a phase with `go: true`',
    },
    {
      misuse: 'an item referring to an unknown criterion',
      text: BASE.replace('        text: Ready\n', '        text: Ready\n        criteria: [latency]\n'),
      expected:
        '9:20 phases[0].items[0].criteria[0]: unknown criterion "latency": use the id of a success, go or rollback criterion, or a whole list (success, go, rollback, redflags)',
    },
    {
      misuse: 'an item showing a list the template does not have',
      text: BASE.replace('        text: Ready\n', '        text: Ready\n        criteria: [success]\n'),
      expected: '9:20 phases[0].items[0].criteria[0]: the template has no success criteria to show',
    },
    {
      misuse: 'an item naming a criterion twice',
      text: `${BASE.replace('        text: Ready\n', '        text: Ready\n        criteria: [go, go]\n')}go:\n  criteria:\n    - Backup verified\n`,
      expected: '9:24 phases[0].items[0].criteria[1]: "go" is listed twice',
    },
    {
      misuse: 'a rollback item referring to an unknown criterion',
      text: `${BASE}rollback:\n  criteria:\n    - It broke\n  items:\n    - id: rb\n      text: Reverted\n      criteria: [errors]\n`,
      expected:
        '22:18 rollback.items[0].criteria[0]: unknown criterion "errors": use the id of a success, go or rollback criterion, or a whole list (success, go, rollback, redflags)',
    },
    {
      misuse: 'a red flag listed twice',
      text: `${BASE}redflags:\n  - The backup failed\n  - The backup failed\n`,
      expected: '18:5 redflags[1]: duplicate red flag "The backup failed"',
    },
    {
      misuse: 'two check-ins at the same time',
      text: `${BASE}checkins: [24h, 1d]\n`,
      expected: '16:17 checkins[1]: duplicate check-in: "1d" is the same time as "24h"',
    },
  ])('reports $misuse at its file, line and column', ({ text, expected }) => {
    expect(lintLines(text)).toEqual([`measured.yaml:${expected}`]);
    // Lint refuses exactly what the bot refuses at start-up.
    expect(parseTemplate('measured.yaml', text)).toHaveProperty('problems');
  });

  it('passes a template that uses every field correctly', () => {
    expect(lintLines(MEASURED)).toEqual([]);
  });
});

describe('releases stored before templates had criteria', () => {
  // A template as an older release stored it: rollback criteria as sentences, no success, go or
  // check-ins, and no criteria on items.
  const OLD_TEMPLATE_JSON = JSON.stringify({
    id: 'old',
    name: 'Old',
    phases: [
      { id: 'prepare', name: 'Prepare', items: [{ id: 'ready', text: 'Ready', required: true }] },
      {
        id: 'ship',
        name: 'Ship',
        deployment: true,
        go: true,
        items: [{ id: 'shipped', text: 'Shipped', required: true }],
      },
    ],
    rollback: {
      criteria: ['Errors affect more than 10 % of operations'],
      items: [{ id: 'rb', text: 'Reverted', required: true }],
    },
  });

  it('still load and render, with the defaults for what they lack', () => {
    const template = rememberTemplate(templateFingerprint(OLD_TEMPLATE_JSON), OLD_TEMPLATE_JSON);
    const release = tickPhases(makeRelease({ template }), [0]);

    expect(redFlagsOf(template)).toBe(DEFAULT_RED_FLAGS);
    expect(listCriteria(template)).toEqual([]);
    const modal = JSON.stringify(renderRollbackModal(release, undefined, 'T0TEAM').blocks);
    expect(modal).toContain('Errors affect more than 10 % of operations');
    const header = JSON.stringify(renderHeader(release).blocks);
    expect(header).toContain('Go / no-go');
    expect(header).not.toContain('Go when');
    expect(renderPhaseParts(release, 0)).toHaveLength(1);
    const log = buildDeploymentLog(
      { ...release, rollback: { by: 'U0LEAD', at: T0 }, status: 'rolled_back' },
      [],
      T0,
    );
    expect(log.json.rollback?.criteria).toEqual(['Errors affect more than 10 % of operations']);
  });
});
