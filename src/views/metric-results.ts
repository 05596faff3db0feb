import type { KnownBlock } from '@slack/types';
import { successCriteriaOf, type TemplateCriterion } from '../domain/criteria.js';
import {
  type CheckinMetrics,
  conditionOf,
  describeCondition,
  formatReading,
  METRIC_VERDICT_WORDS,
  type MetricResult,
  type MetricSuggestion,
  type MetricVerdict,
} from '../domain/metric-checks.js';
import type { Release } from '../domain/release.js';
import type { Template } from '../domain/template.js';
import { BlockKitLimits } from './limits.js';
import { escapeMrkdwn, formatSlackDate, linkTo, mentionUser, truncate } from './mrkdwn.js';
import type { RenderedMessage } from './release-messages.js';
import { criteriaSections } from './success-criteria.js';

// What the metrics server said at a check-in, as a small table in mrkdwn: per measured criterion the
// reading, the threshold, the verdict and links to the query and the dashboard; above it, the answer
// the numbers suggest. No data never reads as healthy.

const NAME_LENGTH = 150;
const PROBLEM_LENGTH = 200;

export const METRIC_VERDICT_ICONS: Record<MetricVerdict, string> = {
  met: '✅',
  missed: '❌',
  no_data: '➖',
  error: '⚠️',
};

export const SUGGESTION_WORDS: Record<MetricSuggestion, string> = {
  healthy: '✅ the numbers suggest *Healthy*',
  issue: '❌ the numbers suggest *Issue found*',
  inconclusive: '❔ the numbers are *inconclusive*: look before you answer',
};

/** "< 1 %", "< 1.1 × baseline = 220 ms (baseline 200 ms)". */
function describeThresholdOf(template: Template, result: MetricResult): string {
  const criterion = successCriteriaOf(template).find((candidate) => candidate.id === result.criterionId);
  const condition = criterion ? conditionOf(criterion) : undefined;
  const unit = criterion?.unit;
  if (!condition) return result.threshold !== undefined ? formatReading(result.threshold, unit) : '';
  const words = describeCondition(condition, unit);
  if (condition.against !== 'baseline' || result.baseline === undefined || result.threshold === undefined) {
    return words;
  }
  return `${words} = ${formatReading(result.threshold, unit)} (baseline ${formatReading(result.baseline, unit)})`;
}

/** One row: "❌ *Error rate*: 2.3 % — missed (< 1 %) · query · dashboard". */
export function describeMetricResult(template: Template, result: MetricResult): string {
  const criterion = successCriteriaOf(template).find((candidate) => candidate.id === result.criterionId);
  const name = escapeMrkdwn(truncate(criterion?.name ?? result.criterionId, NAME_LENGTH));
  const reading =
    result.value !== undefined ? `*${formatReading(result.value, criterion?.unit)}*` : 'no value';
  const threshold = describeThresholdOf(template, result);
  const links = [
    ...(result.link ? [linkTo(result.link, 'query')] : []),
    ...(criterion?.dashboard ? [linkTo(criterion.dashboard, 'dashboard')] : []),
  ];
  const problem = result.problem ? `: ${escapeMrkdwn(truncate(result.problem, PROBLEM_LENGTH))}` : '';
  return [
    `${METRIC_VERDICT_ICONS[result.verdict]} *${name}*: ${reading} — ${METRIC_VERDICT_WORDS[result.verdict]}${problem}`,
    ...(threshold ? [`(${escapeMrkdwn(threshold)})`] : []),
    ...(links.length > 0 ? [`· ${links.join(' · ')}`] : []),
  ].join(' ');
}

/** The heading with the suggestion, and a row per measured criterion. */
export function metricBlocks(template: Template, metrics: CheckinMetrics | undefined): KnownBlock[] {
  if (!metrics || metrics.results.length === 0) return [];
  const heading = `*📈 Metrics* ${formatSlackDate(metrics.at)}: ${SUGGESTION_WORDS[metrics.suggestion]}`;
  return criteriaSections(
    heading,
    metrics.results.map((result) => describeMetricResult(template, result)),
  );
}

/** The thread message when a watched criterion missed N times in a row: the owner is pinged. */
export function renderMetricAlarm(
  release: Release,
  criterion: TemplateCriterion,
  run: { misses: number; last: MetricResult; note: string; flagNumber: number },
): RenderedMessage {
  const name = escapeMrkdwn(truncate(criterion.name, NAME_LENGTH));
  const text = `🚩 ${mentionUser(release.startedBy)} *${name}* missed its threshold ${run.misses} times in a row. Red flag #${run.flagNumber} stops the release until someone clears it.`;
  return {
    text: truncate(
      `Red flag #${run.flagNumber}: ${criterion.name} missed its threshold ${run.misses} times in a row`,
      BlockKitLimits.fallbackText,
    ),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: truncate(
            `${escapeMrkdwn(run.note)}\nLast reading: ${describeMetricResult(release.template, run.last)}`,
            BlockKitLimits.sectionText,
          ),
        },
      },
    ],
  };
}
