import type { CriterionDirection, CriterionUnit, TemplateCriterion } from './criteria.js';
import { formatAmount, successCriteriaOf } from './criteria.js';
import type { Template } from './template.js';
import { parseDuration } from './time.js';

// Success criteria measured by a metrics server at each check-in: the condition a reading must meet
// (`< 0.01`, `>= 0.99`, `< 1.1 * baseline`), the query with its placeholders filled, the verdict on a
// reading, and the overall suggestion. Pure: readings and times come in as values.

export const METRIC_OPERATORS = ['<', '<=', '>', '>='] as const;
export type MetricOperator = (typeof METRIC_OPERATORS)[number];

/** A reading meets it when `reading <op> value`, or `reading <op> factor × baseline`. */
export type MetricCondition =
  | { operator: MetricOperator; against: 'value'; value: number }
  | { operator: MetricOperator; against: 'baseline'; factor: number };

const OPERATOR_OF_DIRECTION: Record<CriterionDirection, MetricOperator> = {
  below: '<',
  'at most': '<=',
  above: '>',
  'at least': '>=',
};

const DIRECTION_OF_OPERATOR: Record<MetricOperator, CriterionDirection> = {
  '<': 'below',
  '<=': 'at most',
  '>': 'above',
  '>=': 'at least',
};

const NUMBER = String.raw`[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?`;
const CONDITION = new RegExp(
  String.raw`^(<=|>=|<|>)\s*(?:(${NUMBER})\s*(?:\*\s*baseline)?|baseline(?:\s*\*\s*(${NUMBER}))?)$`,
  'i',
);

export type ParsedCondition = { ok: true; value: MetricCondition } | { ok: false; problem: string };

/** `< 0.01`, `>= 99.5`, `< 1.1 * baseline`, `<= baseline`, `< baseline * 1.2`. */
export function parseMetricCondition(text: string): ParsedCondition {
  const match = CONDITION.exec(text.trim());
  if (!match) {
    return {
      ok: false,
      problem: 'write a comparison like "< 0.01", ">= 0.99" or "< 1.1 * baseline"',
    };
  }
  const [, operator, leading, trailing] = match;
  const against = /baseline/i.test(text) ? 'baseline' : 'value';
  const number = Number(leading ?? trailing ?? '1');
  if (!Number.isFinite(number)) return { ok: false, problem: 'the number is too large' };
  if (against === 'value')
    return { ok: true, value: { operator: operator as MetricOperator, against, value: number } };
  if (number <= 0) return { ok: false, problem: 'the baseline factor must be more than 0' };
  return { ok: true, value: { operator: operator as MetricOperator, against, factor: number } };
}

/** A criterion with a query: what the template says about measuring it. */
export type MetricCriterion = TemplateCriterion & { metric: string };

export function isMetricCriterion(criterion: TemplateCriterion): criterion is MetricCriterion {
  return criterion.metric !== undefined;
}

/** The template's success criteria that carry a query, in its order. */
export function metricCriteria(template: Template): MetricCriterion[] {
  return successCriteriaOf(template).filter(isMetricCriterion);
}

/** The watched ones: evaluated between check-ins too. */
export function watchedCriteria(template: Template): (MetricCriterion & { watch: MetricWatch })[] {
  return metricCriteria(template).filter(
    (criterion): criterion is MetricCriterion & { watch: MetricWatch } => criterion.watch !== undefined,
  );
}

export interface MetricWatch {
  /** How often, as a duration (`5m`). */
  every: string;
  /** Misses in a row that raise a red flag. */
  misses: number;
}

/**
 * The criterion's condition: its own `condition`, else its direction and threshold. A stored template
 * is trusted (lint checked it), so an unreadable condition falls back too.
 */
export function conditionOf(criterion: TemplateCriterion): MetricCondition | undefined {
  if (criterion.condition !== undefined) {
    const parsed = parseMetricCondition(criterion.condition);
    if (parsed.ok) return parsed.value;
  }
  if (criterion.direction === undefined || criterion.threshold === undefined) return undefined;
  return {
    operator: OPERATOR_OF_DIRECTION[criterion.direction],
    against: 'value',
    value: criterion.threshold,
  };
}

export const DEFAULT_METRIC_WINDOW = '5m';

/** The window as a PromQL duration (`5m`); the query's `{window}` placeholder takes it. */
export function windowOf(criterion: TemplateCriterion): string {
  return criterion.window ?? DEFAULT_METRIC_WINDOW;
}

/** A duration PromQL reads and shipcheck's parser agrees with: `30s`, `5m`, `1h`, `1h30m`. */
export function isMetricWindow(text: string): boolean {
  return /^(?:\d+[smhdw])+$/.test(text) && parseDuration(text).ok;
}

/** Text safe inside a double-quoted PromQL string (a label value). */
export function escapePromqlString(text: string): string {
  return text.replace(/[\\"]/g, (character) => `\\${character}`).replace(/\n/g, '\\n');
}

export const METRIC_PLACEHOLDERS = ['env', 'version', 'window'] as const;

/**
 * The query to run: `{env}` and `{version}` become the release's, escaped for a label value;
 * `{window}` the criterion's window. Other braces (label matchers) are left as they are.
 */
export function fillQuery(query: string, values: { env: string; version: string; window: string }): string {
  return query.replace(/\{(env|version|window)\}/g, (_whole, name: 'env' | 'version' | 'window') =>
    name === 'window' ? values.window : escapePromqlString(values[name]),
  );
}

/** Placeholders a query uses that shipcheck does not fill: `{service}` is a typo, not a matcher. */
export function unknownPlaceholders(query: string): string[] {
  return [...query.matchAll(/\{([a-z_]+)\}/g)]
    .map((match) => match[1]!)
    .filter((name) => !(METRIC_PLACEHOLDERS as readonly string[]).includes(name));
}

/** What the metrics server answered for one query. */
export type MetricReading =
  | { kind: 'value'; value: number }
  /** An empty result, or NaN (a ratio of no requests). */
  | { kind: 'no_data' }
  /** The server refused the query (bad PromQL) or answered something unusable. */
  | { kind: 'error'; message: string }
  /** The server could not be reached in time, after retries. */
  | { kind: 'unreachable'; message: string };

export type MetricVerdict = 'met' | 'missed' | 'no_data' | 'error';

export const METRIC_VERDICT_WORDS: Record<MetricVerdict, string> = {
  met: 'met',
  missed: 'missed',
  no_data: 'no data',
  error: 'error',
};

/** One criterion's result at one moment, as recorded with the check-in. */
export interface MetricResult {
  criterionId: string;
  /** The query as run, placeholders filled. */
  query: string;
  /** When it was evaluated (the query's `time`). */
  at: number;
  verdict: MetricVerdict;
  value?: number;
  /** The reading at the deploy moment, for a baseline condition. */
  baseline?: number;
  /** The threshold the value was compared with (factor × baseline for a baseline condition). */
  threshold?: number;
  direction?: CriterionDirection;
  /** Why there is no verdict: the server's error, or which reading had no data. */
  problem?: string;
  /** The query in the server's graph page, at `at`. */
  link?: string;
}

function compare(operator: MetricOperator, value: number, threshold: number): boolean {
  switch (operator) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    default: {
      const unknown: never = operator;
      throw new Error(`unknown operator ${String(unknown)}`);
    }
  }
}

function readingProblem(reading: Exclude<MetricReading, { kind: 'value' }>, what: string): string {
  switch (reading.kind) {
    case 'no_data':
      return `no data for the ${what}`;
    case 'error':
      return reading.message;
    case 'unreachable':
      return `metrics server unreachable: ${reading.message}`;
    default: {
      const unknown: never = reading;
      return String(unknown);
    }
  }
}

/**
 * The verdict on a reading (and, for a baseline condition, the reading at the deploy moment). No data
 * is never a pass: a missing series may be the service that stopped answering.
 */
export function judgeMetric(
  condition: MetricCondition,
  reading: MetricReading,
  baseline: MetricReading | undefined,
): Pick<MetricResult, 'verdict' | 'value' | 'baseline' | 'threshold' | 'direction' | 'problem'> {
  const direction = DIRECTION_OF_OPERATOR[condition.operator];
  const value = reading.kind === 'value' ? { value: reading.value } : {};
  let threshold: number;
  let base: { baseline?: number } = {};
  if (condition.against === 'baseline') {
    if (baseline?.kind !== 'value') {
      const missing = baseline ?? { kind: 'no_data' };
      const problem = readingProblem(missing, 'baseline at the deploy');
      return { ...value, direction, verdict: missing.kind === 'no_data' ? 'no_data' : 'error', problem };
    }
    base = { baseline: baseline.value };
    threshold = condition.factor * baseline.value;
  } else {
    threshold = condition.value;
  }
  if (reading.kind !== 'value') {
    return {
      ...base,
      threshold,
      direction,
      verdict: reading.kind === 'no_data' ? 'no_data' : 'error',
      problem: readingProblem(reading, 'query'),
    };
  }
  return {
    ...value,
    ...base,
    threshold,
    direction,
    verdict: compare(condition.operator, reading.value, threshold) ? 'met' : 'missed',
  };
}

export type MetricSuggestion = 'healthy' | 'issue' | 'inconclusive';

/** Healthy only when every result is met; any miss suggests an issue; otherwise nothing can be said. */
export function suggestAnswer(results: readonly MetricResult[]): MetricSuggestion | undefined {
  if (results.length === 0) return undefined;
  if (results.some((result) => result.verdict === 'missed')) return 'issue';
  return results.every((result) => result.verdict === 'met') ? 'healthy' : 'inconclusive';
}

/** The condition for people: "< 0.01", "< 1.1 × baseline". */
export function describeCondition(condition: MetricCondition, unit?: CriterionUnit): string {
  if (condition.against === 'baseline') {
    return condition.factor === 1
      ? `${condition.operator} baseline`
      : `${condition.operator} ${condition.factor} × baseline`;
  }
  return `${condition.operator} ${formatAmount(condition.value, unit)}`;
}

/** A reading for people: at most four significant digits, in the criterion's unit. */
export function formatReading(value: number, unit?: CriterionUnit): string {
  const rounded = Math.abs(value) >= 1e6 || value === 0 ? value : Number(value.toPrecision(4));
  return formatAmount(rounded, unit);
}

/** The query in the server's own graph page, at the moment it was evaluated. */
export function queryLink(baseUrl: string, query: string, at: number): string {
  const url = new URL('graph', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('g0.expr', query);
  url.searchParams.set('g0.tab', '1');
  url.searchParams.set('g0.moment_input', new Date(at).toISOString().slice(0, 19).replace('T', ' '));
  return url.toString();
}

/**
 * A watch's run of misses after one more result: a miss adds one, a met resets it, no data or an error
 * leaves it as it was (neither proof of harm nor of health). `raise` is true on the run's Nth miss.
 */
export function countMisses(
  previous: number,
  verdict: MetricVerdict,
  limit: number,
): { misses: number; raise: boolean } {
  if (verdict === 'met') return { misses: 0, raise: false };
  if (verdict !== 'missed') return { misses: previous, raise: false };
  const misses = previous + 1;
  return { misses, raise: misses === limit };
}

/** A check-in's evaluation: each measured criterion's result and the suggestion they add up to. */
export interface CheckinMetrics {
  at: number;
  results: MetricResult[];
  suggestion: MetricSuggestion;
}
