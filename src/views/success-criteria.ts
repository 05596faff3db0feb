import type { SectionBlock } from '@slack/types';
import type { CriterionUnit } from '../domain/criteria.js';
import { type CriterionReport, type CriterionVerdict, formatObservedValue } from '../domain/observations.js';
import { BlockKitLimits } from './limits.js';
import { escapeMrkdwn, truncate } from './mrkdwn.js';

// A template's success criteria with their verdicts, as mrkdwn lines shared by the check-in message and
// the draft retrospective. Criterion names come from templates, but are escaped like any text.

const NAME_LENGTH = 150;

export const VERDICT_ICONS: Record<CriterionVerdict, string> = {
  met: '✅',
  missed: '❌',
  not_recorded: '➖',
};

export const VERDICT_WORDS: Record<CriterionVerdict, string> = {
  met: 'met',
  missed: 'missed',
  not_recorded: 'not recorded',
};

/** How a value is written in a criterion's unit, for a form's label. */
export const UNIT_WORDS: Record<CriterionUnit, string> = {
  '%': 'in %',
  ms: 'in ms',
  s: 'in seconds',
  min: 'in minutes',
  h: 'in hours',
  count: 'a number',
  '/10': 'a score out of 10',
};

/**
 * "• ✅ *Error rate*: 0.4 % — met (target: less than 1 %)"; `withCheckin` names the check-in the value
 * was recorded at (a report across check-ins).
 */
export function describeCriterionReport(report: CriterionReport, withCheckin = false): string {
  const head = `• ${VERDICT_ICONS[report.verdict]} *${escapeMrkdwn(truncate(report.name, NAME_LENGTH))}*`;
  const target = `(target: ${escapeMrkdwn(report.target)})`;
  const observed = report.observed;
  if (!observed) return `${head}: not recorded ${target}`;
  const where = withCheckin ? ` at check-in ${observed.checkinIndex + 1}` : '';
  return `${head}: ${formatObservedValue(observed.value, report.unit)}${where} — ${VERDICT_WORDS[report.verdict]} ${target}`;
}

/** A heading and its lines in as many sections as Slack's text limit needs (20 criteria fit in two). */
export function criteriaSections(heading: string, lines: readonly string[]): SectionBlock[] {
  const sections: SectionBlock[] = [];
  let text = heading;
  for (const line of lines) {
    if (text.length + 1 + line.length > BlockKitLimits.sectionText) {
      sections.push({ type: 'section', text: { type: 'mrkdwn', text } });
      text = truncate(line, BlockKitLimits.sectionText);
    } else {
      text = `${text}\n${line}`;
    }
  }
  sections.push({ type: 'section', text: { type: 'mrkdwn', text } });
  return sections;
}
