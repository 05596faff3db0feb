import { describe, expect, it } from 'vitest';
import type { TemplateCriterion } from '../../src/domain/criteria.js';
import {
  conditionOf,
  countMisses,
  describeCondition,
  escapePromqlString,
  fillQuery,
  judgeMetric,
  type MetricResult,
  parseMetricCondition,
  queryLink,
  suggestAnswer,
  unknownPlaceholders,
} from '../../src/domain/metric-checks.js';

// The pure rules of metric checks: conditions as templates write them, the verdict on a reading, the
// suggestion a check-in's readings add up to, and queries with their placeholders filled safely.

describe('parseMetricCondition', () => {
  it.each([
    ['< 0.01', { operator: '<', against: 'value', value: 0.01 }],
    ['>= 0.99', { operator: '>=', against: 'value', value: 0.99 }],
    ['<=5', { operator: '<=', against: 'value', value: 5 }],
    ['> -3', { operator: '>', against: 'value', value: -3 }],
    ['< 1e-3', { operator: '<', against: 'value', value: 0.001 }],
    ['< 1.1 * baseline', { operator: '<', against: 'baseline', factor: 1.1 }],
    ['< baseline * 1.2', { operator: '<', against: 'baseline', factor: 1.2 }],
    ['<= baseline', { operator: '<=', against: 'baseline', factor: 1 }],
    ['>= 0.9*Baseline', { operator: '>=', against: 'baseline', factor: 0.9 }],
  ])('reads %s', (text, value) => {
    expect(parseMetricCondition(text)).toEqual({ ok: true, value });
  });

  it.each(['', '0.01', '== 1', '< ', '< abc', '< 1 + baseline', '< 1.1 * baseline * 2', '<< 1'])(
    'refuses %j',
    (text) => {
      expect(parseMetricCondition(text)).toMatchObject({ ok: false });
    },
  );

  it('refuses a baseline factor of zero or less', () => {
    expect(parseMetricCondition('< 0 * baseline')).toEqual({
      ok: false,
      problem: 'the baseline factor must be more than 0',
    });
  });
});

const criterion: TemplateCriterion = {
  id: 'error-rate',
  name: 'Error rate',
  direction: 'below',
  threshold: 1,
  unit: '%',
  metric: 'x',
};

describe('conditionOf', () => {
  it('takes the direction and threshold when the criterion names no condition', () => {
    expect(conditionOf(criterion)).toEqual({ operator: '<', against: 'value', value: 1 });
    expect(conditionOf({ ...criterion, direction: 'at least', threshold: 99 })).toEqual({
      operator: '>=',
      against: 'value',
      value: 99,
    });
  });

  it('prefers its own condition', () => {
    expect(conditionOf({ ...criterion, condition: '< 1.1 * baseline' })).toEqual({
      operator: '<',
      against: 'baseline',
      factor: 1.1,
    });
  });
});

describe('judgeMetric', () => {
  const below = { operator: '<', against: 'value', value: 1 } as const;
  const baseline = { operator: '<', against: 'baseline', factor: 1.1 } as const;

  it('meets and misses a fixed threshold, the threshold itself excluded by <', () => {
    expect(judgeMetric(below, { kind: 'value', value: 0.4 }, undefined)).toMatchObject({
      verdict: 'met',
      value: 0.4,
      threshold: 1,
      direction: 'below',
    });
    expect(judgeMetric(below, { kind: 'value', value: 1 }, undefined).verdict).toBe('missed');
    expect(judgeMetric({ ...below, operator: '<=' }, { kind: 'value', value: 1 }, undefined).verdict).toBe(
      'met',
    );
  });

  it('compares with factor × baseline', () => {
    expect(judgeMetric(baseline, { kind: 'value', value: 215 }, { kind: 'value', value: 200 })).toMatchObject(
      { verdict: 'met', baseline: 200, threshold: 220.00000000000003 },
    );
    expect(judgeMetric(baseline, { kind: 'value', value: 250 }, { kind: 'value', value: 200 }).verdict).toBe(
      'missed',
    );
  });

  it('never passes on no data: the reading or the baseline missing', () => {
    expect(judgeMetric(below, { kind: 'no_data' }, undefined)).toMatchObject({
      verdict: 'no_data',
      problem: 'no data for the query',
    });
    expect(judgeMetric(baseline, { kind: 'value', value: 1 }, { kind: 'no_data' })).toMatchObject({
      verdict: 'no_data',
      value: 1,
      problem: 'no data for the baseline at the deploy',
    });
  });

  it('calls a refused query or an unreachable server an error', () => {
    expect(judgeMetric(below, { kind: 'error', message: 'bad_data: parse error' }, undefined)).toMatchObject({
      verdict: 'error',
      problem: 'bad_data: parse error',
    });
    expect(judgeMetric(below, { kind: 'unreachable', message: 'timed out' }, undefined)).toMatchObject({
      verdict: 'error',
      problem: 'metrics server unreachable: timed out',
    });
    expect(
      judgeMetric(baseline, { kind: 'value', value: 1 }, { kind: 'unreachable', message: 'ECONNREFUSED' }),
    ).toMatchObject({ verdict: 'error' });
  });
});

describe('suggestAnswer', () => {
  const result = (verdict: MetricResult['verdict']): MetricResult => ({
    criterionId: verdict,
    query: 'q',
    at: 0,
    verdict,
  });

  it('is Healthy only when every result is met', () => {
    expect(suggestAnswer([result('met'), result('met')])).toBe('healthy');
  });

  it('is Issue when any is missed, whatever else could not be read', () => {
    expect(suggestAnswer([result('met'), result('missed'), result('error')])).toBe('issue');
  });

  it('is inconclusive when something has no data or an error, and nothing missed', () => {
    expect(suggestAnswer([result('met'), result('no_data')])).toBe('inconclusive');
    expect(suggestAnswer([result('error')])).toBe('inconclusive');
  });

  it('says nothing without results', () => {
    expect(suggestAnswer([])).toBeUndefined();
  });
});

describe('fillQuery', () => {
  it('fills env, version and window, and leaves label matchers alone', () => {
    expect(
      fillQuery('sum(rate(http_requests_total{env="{env}",version="{version}"}[{window}]))', {
        env: 'production',
        version: 'v2.3',
        window: '5m',
      }),
    ).toBe('sum(rate(http_requests_total{env="production",version="v2.3"}[5m]))');
  });

  it('escapes values so they cannot end the label string', () => {
    expect(escapePromqlString('a"b\\c')).toBe('a\\"b\\\\c');
    expect(
      fillQuery('up{version="{version}"}', { env: 'e', version: 'x"} or vector(1) #', window: '5m' }),
    ).toBe('up{version="x\\"} or vector(1) #"}');
  });

  it('names placeholders it does not know', () => {
    expect(unknownPlaceholders('up{job="{service}",env="{env}"}[{window}]')).toEqual(['service']);
  });
});

describe('describeCondition and queryLink', () => {
  it('writes conditions for people', () => {
    expect(describeCondition({ operator: '<', against: 'value', value: 1 }, '%')).toBe('< 1 %');
    expect(describeCondition({ operator: '<', against: 'baseline', factor: 1.1 })).toBe('< 1.1 × baseline');
    expect(describeCondition({ operator: '<=', against: 'baseline', factor: 1 })).toBe('<= baseline');
  });

  it('links to the graph page at the evaluation moment, under a path prefix too', () => {
    const link = new URL(
      queryLink('https://metrics.example.com/prometheus', 'up{env="a"}', Date.UTC(2026, 0, 2, 3, 4, 5)),
    );
    expect(link.pathname).toBe('/prometheus/graph');
    expect(link.searchParams.get('g0.expr')).toBe('up{env="a"}');
    expect(link.searchParams.get('g0.moment_input')).toBe('2026-01-02 03:04:05');
  });
});

describe('countMisses', () => {
  it('raises on the Nth miss in a row, once', () => {
    let misses = 0;
    const raised: boolean[] = [];
    for (const verdict of ['missed', 'missed', 'missed', 'missed'] as const) {
      const next = countMisses(misses, verdict, 3);
      misses = next.misses;
      raised.push(next.raise);
    }
    expect(raised).toEqual([false, false, true, false]);
  });

  it('starts again after a met reading; no data neither counts nor resets', () => {
    expect(countMisses(2, 'met', 3)).toEqual({ misses: 0, raise: false });
    expect(countMisses(2, 'no_data', 3)).toEqual({ misses: 2, raise: false });
    expect(countMisses(2, 'error', 3)).toEqual({ misses: 2, raise: false });
  });
});
