import { describe, expect, it } from 'vitest';
import { formatProblem, lintTemplateText } from '../../src/cli/lint.js';
import { parseTemplate } from '../../src/config/checklists.js';

// Metric settings on success criteria as templates write them: read into the template, and every
// misuse reported by `shipcheck lint` at its line.

const BASE = `id: measured
name: Measured
phases:
  - id: ship
    name: Ship
    deployment: true
    items:
      - id: shipped
        text: Shipped
success:
`;

const lint = (success: string) => {
  const linted = lintTemplateText('measured.yaml', BASE + success);
  return linted.problems.map((problem) => formatProblem(linted.file, problem));
};

describe('metric settings in templates', () => {
  it('reads a query with its condition, window, dashboard and watch', () => {
    const result = parseTemplate(
      'measured.yaml',
      `${BASE}  - id: error-rate
    name: HTTP error rate
    direction: below
    threshold: 1
    unit: '%'
    metric: 100 * sum(rate(errors_total{env="{env}"}[{window}])) / sum(rate(requests_total{env="{env}"}[{window}]))
    condition: '< 1.1 * baseline'
    window: 10m
    dashboard: https://grafana.example.com/d/http
    watch: { every: 2m, misses: 3 }
`,
    );
    if ('problems' in result) throw new Error(result.problems.join('\n'));
    expect(result.template.success?.[0]).toMatchObject({
      condition: '< 1.1 * baseline',
      window: '10m',
      dashboard: 'https://grafana.example.com/d/http',
      watch: { every: '2m', misses: 3 },
    });
  });

  it('lints an unreadable condition, window and watch, and unknown placeholders', () => {
    expect(
      lint(`  - id: error-rate
    name: HTTP error rate
    direction: below
    threshold: 1
    unit: '%'
    metric: errors{service="{service}"}
    condition: '== 1'
    window: 5 minutes
    watch: { every: often, misses: 0 }
`),
    ).toEqual([
      'measured.yaml:16:13 success[0].metric: unknown placeholder {service}: use {env}, {version} or {window}',
      'measured.yaml:17:16 success[0].condition: write a comparison like "< 0.01", ">= 0.99" or "< 1.1 * baseline"',
      'measured.yaml:18:13 success[0].window: write the window as a PromQL duration like 5m or 1h',
      'measured.yaml:19:21 success[0].watch.every: write how often like 1m or 5m',
      'measured.yaml:19:36 success[0].watch.misses: Too small: expected number to be >=1',
    ]);
  });

  it('lints a condition that disagrees with the direction, placeholders and settings without a query', () => {
    expect(
      lint(`  - id: error-rate
    name: HTTP error rate
    direction: below
    threshold: 1
    unit: '%'
    metric: errors{service="{service}"}
    condition: '> 0.5'
  - id: latency
    name: Latency
    direction: below
    threshold: 300
    unit: ms
    window: 5m
`),
    ).toEqual([
      'measured.yaml:16:13 success[0].metric: unknown placeholder {service}: use {env}, {version} or {window}',
      'measured.yaml:17:16 success[0].condition: the condition compares with > but the direction "below" means <',
      'measured.yaml:23:13 success[1].window: `window` goes with a `metric` query',
    ]);
  });
});
