import type { KnownBlock } from '@slack/types';
import {
  type CriterionStats,
  type DeliveryStats,
  WINDOW_EARLY_TOLERANCE_MS,
  WINDOW_LATE_TOLERANCE_MS,
} from '../domain/stats.js';
import { BlockKitLimits } from './limits.js';
import { escapeMrkdwn, formatSlackDate, truncate } from './mrkdwn.js';
import { criteriaSections } from './success-criteria.js';

// `/deploy stats`: the delivery figures of a period as one compact message. Pure: the figures are
// computed by src/domain/stats.ts and the current time comes in as `now`.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How many phases the message lists, slowest first. */
export const SHOWN_PHASES = 10;
/** How many environments the per-week line lists. */
const SHOWN_ENVS = 20;
const SHOWN_NAME_LENGTH = 60;

/** A span of time for people: "45 s", "35 min", "3 h 10 min", "2 d 4 h" (rounded to the unit shown). */
export function formatElapsed(ms: number): string {
  const value = Math.max(0, ms);
  if (value < MINUTE) return `${Math.round(value / 1000)} s`;
  const minutes = Math.round(value / MINUTE);
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 24 * 60) {
    const rest = minutes % 60;
    return rest === 0 ? `${Math.floor(minutes / 60)} h` : `${Math.floor(minutes / 60)} h ${rest} min`;
  }
  const hours = Math.round(value / HOUR);
  const rest = hours % 24;
  return rest === 0 ? `${Math.floor(hours / 24)} d` : `${Math.floor(hours / 24)} d ${rest} h`;
}

/** 0.05 → "5 %", 1/3 → "33.3 %". */
export function formatRate(rate: number): string {
  return `${Number((rate * 100).toFixed(1))} %`;
}

const formatNumber = (value: number): string => String(Number(value.toFixed(1)));
const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;
const name = (text: string): string => escapeMrkdwn(truncate(text, SHOWN_NAME_LENGTH));
const goalIcon = (met: boolean | undefined): string => (met === undefined ? '' : met ? '✅ ' : '⚠️ ');

function field(title: string, body: string): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: truncate(`*${title}*\n${body}`, BlockKitLimits.sectionFieldText) };
}

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, BlockKitLimits.sectionText) } };
}

/** "• *Error rate* (less than 1 %): met by 3 of 4 that recorded it (75 %) · recorded by 4 of 6 releases" */
function criterionLine(entry: CriterionStats): string {
  const head = `• *${name(entry.name)}* (${escapeMrkdwn(entry.target)})`;
  const recorded = `recorded by ${entry.recorded} of ${plural(entry.releases, 'release')}`;
  if (entry.metRate === undefined) return `${head}: ${recorded}`;
  return `${head}: met by ${entry.met} of ${entry.recorded} that recorded it (${formatRate(entry.metRate)}) · ${recorded}`;
}

export function renderDeliveryStats(
  stats: DeliveryStats,
  now: number,
): { text: string; blocks: KnownBlock[] } {
  const { period } = stats;
  const days = Math.max(1, Math.round((period.to - period.from) / DAY));
  const scope = period.env === undefined ? 'all environments' : name(period.env);
  const heading = `Delivery figures, last ${plural(days, 'day')} (${scope})`;
  const dates = `${formatSlackDate(period.from, '{date_short_pretty}')} – ${formatSlackDate(period.to, '{date_short_pretty}')}`;

  const { startToDeployed: lead, changeFailureRate: cfr, rollbackRate, timeToResolve, insideWindow } = stats;
  const noDeploys = 'n/a (no deployments)';
  const fields = [
    field('Releases started', String(stats.releasesStarted)),
    field(
      'Deployments',
      stats.deployments === 0
        ? '0'
        : `${stats.deployments} (${formatNumber(stats.deploymentsPerWeek.reduce((sum, env) => sum + env.perWeek, 0))} per week)`,
    ),
    field(
      'Start → deployed',
      lead.median === undefined
        ? noDeploys
        : `median ${formatElapsed(lead.median)} · p90 ${formatElapsed(lead.p90 ?? lead.median)} (${plural(lead.count, 'release')})`,
    ),
    field(
      'Change failure rate',
      cfr.rate === undefined ? noDeploys : `${formatRate(cfr.rate)} (${cfr.failed} of ${cfr.of})`,
    ),
    field(
      'Rollback rate',
      rollbackRate.rate === undefined
        ? `${noDeploys} · goal ≤ ${formatRate(rollbackRate.goal)}`
        : `${goalIcon(rollbackRate.met)}${formatRate(rollbackRate.rate)} (${rollbackRate.rolledBack} of ${rollbackRate.of}) · goal ≤ ${formatRate(rollbackRate.goal)}`,
    ),
    field(
      'Time to resolve',
      timeToResolve.median === undefined
        ? `n/a (no resolved issues) · goal < ${formatElapsed(timeToResolve.goalMs)}`
        : `${goalIcon(timeToResolve.met)}median ${formatElapsed(timeToResolve.median)} (${plural(timeToResolve.count, 'issue')}) · goal < ${formatElapsed(timeToResolve.goalMs)}`,
    ),
    field(
      'Inside the deploy window',
      insideWindow.rate === undefined
        ? 'n/a (no deployment had a window)'
        : `${formatRate(insideWindow.rate)} (${insideWindow.inside} of ${insideWindow.of})`,
    ),
  ];

  const perWeek =
    stats.deploymentsPerWeek.length === 0
      ? 'no data'
      : [
          ...stats.deploymentsPerWeek
            .slice(0, SHOWN_ENVS)
            .map((env) => `• ${name(env.env)}: ${formatNumber(env.perWeek)}`),
          ...(stats.deploymentsPerWeek.length > SHOWN_ENVS
            ? [`…and ${stats.deploymentsPerWeek.length - SHOWN_ENVS} more`]
            : []),
        ].join('\n');

  const slowest = stats.phaseTimes
    .filter((phase) => phase.median !== undefined)
    .sort((a, b) => b.median! - a.median!)
    .slice(0, SHOWN_PHASES);
  const phases =
    slowest.length === 0
      ? 'no data'
      : slowest
          .map(
            (phase) =>
              `• ${name(phase.phaseName)}: ${formatElapsed(phase.median!)} (${plural(phase.count, 'time')})`,
          )
          .join('\n');

  const blocks: KnownBlock[] = [
    section(`*📊 ${heading}*\n${dates}`),
    { type: 'section', fields },
    section(`*Deployments per week*\n${perWeek}`),
    section(`*Time per phase* (median, slowest first)\n${phases}`),
    // Only where templates set success criteria: older deployments have none to report.
    ...(stats.criteria.length > 0
      ? criteriaSections(
          '*🎯 Success criteria* (deployed releases whose template sets them; met on the latest value recorded)',
          stats.criteria.map(criterionLine),
        )
      : []),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Computed ${formatSlackDate(now)} from the releases and their audit trails. Medians are nearest-rank; a deploy from ${formatElapsed(WINDOW_EARLY_TOLERANCE_MS)} before to ${formatElapsed(WINDOW_LATE_TOLERANCE_MS)} after its window counts as inside it.`,
        },
      ],
    },
  ];

  const summary =
    stats.deployments === 0
      ? 'no deployments'
      : `${plural(stats.deployments, 'deployment')}, change failure rate ${formatRate(cfr.rate ?? 0)}, rollback rate ${formatRate(rollbackRate.rate ?? 0)}`;
  const text = truncate(`${heading}: ${summary}`, BlockKitLimits.fallbackText);
  return { text, blocks };
}
