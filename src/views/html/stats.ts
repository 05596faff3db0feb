import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import type { DeliveryTrends } from '../../domain/delivery-trends.js';
import { formatElapsed, formatRate } from '../stats-message.js';
import { drawBarChart, drawLineChart } from './charts.js';
import { type Html, html, timeOf } from './html.js';
import { renderPage } from './layout.js';

// /stats: the figures of `/deploy stats` with charts over the period, and every number in a table
// too (a chart alone says nothing to a screen reader). Pure.

export interface StatsPage {
  days: number;
  env: string | undefined;
  trends: DeliveryTrends;
  /** Records of releases that ended before this were removed by retention, when that touches the period. */
  removedBefore: number | undefined;
}

export interface StatsFormOptions {
  environments: readonly string[];
  dayChoices: readonly number[];
}

const HOUR = 3_600_000;
const rate = (value: number | undefined) => (value === undefined ? '—' : formatRate(value));
const elapsed = (ms: number | undefined) => (ms === undefined ? '—' : formatElapsed(ms));
const weekLabel = (to: number) => format(new TZDate(to - 1, 'UTC'), 'MMM d');
const percent = (value: number | undefined) =>
  value === undefined ? undefined : Math.round(value * 1000) / 10;

function figure(id: string, caption: string, chart: Html, description: string): Html {
  return html`<figure id="${id}" aria-labelledby="${id}-caption">
<figcaption id="${id}-caption">${caption}</figcaption>
<div role="img" aria-label="${description}">${chart}</div>
</figure>`;
}

/** Minutes while every median is under two hours, hours beyond: a bar of 0.0 h says nothing. */
function drawPhaseChart(phases: DeliveryTrends['overall']['phaseTimes']): Html {
  const longest = Math.max(0, ...phases.map((phase) => phase.median ?? 0));
  const [unitMs, unit] = longest < 2 * HOUR ? [60_000, 'minutes'] : [HOUR, 'hours'];
  return drawBarChart(
    phases.map((phase) => phase.phaseName),
    phases.map((phase) => Math.round(((phase.median ?? 0) / unitMs) * 10) / 10),
    unit,
  );
}

export function renderStatsPage(page: StatsPage, options: StatsFormOptions): string {
  const { overall, weeks, leadTimeBins } = page.trends;
  const labels = weeks.map((week) => weekLabel(week.to));
  const form = html`<form class="filters" method="get" action="/stats">
<label>Period<select name="days">${options.dayChoices.map((days) => html`<option value="${days}"${days === page.days ? html` selected` : ''}>last ${days} days</option>`)}</select></label>
<label>Environment<select name="env"><option value="">all</option>${options.environments.map((env) => html`<option value="${env}"${env === page.env ? html` selected` : ''}>${env}</option>`)}</select></label>
<button type="submit">Show</button>
</form>`;
  const summary = html`<table id="summary"><caption class="visually-hidden">Delivery figures of the period</caption>
<tbody>
<tr><th scope="row">Releases started</th><td>${overall.releasesStarted}</td></tr>
<tr><th scope="row">Deployments</th><td>${overall.deployments}</td></tr>
<tr><th scope="row">Deployments per week</th><td>${overall.deploymentsPerWeek.map((entry) => `${entry.env} ${Number(entry.perWeek.toFixed(1))}`).join(', ') || '—'}</td></tr>
<tr><th scope="row">Start to deployed</th><td>median ${elapsed(overall.startToDeployed.median)}, 90th percentile ${elapsed(overall.startToDeployed.p90)} (${overall.startToDeployed.count})</td></tr>
<tr><th scope="row">Change failure rate</th><td>${rate(overall.changeFailureRate.rate)} (${overall.changeFailureRate.failed} of ${overall.changeFailureRate.of})</td></tr>
<tr><th scope="row">Rollback rate</th><td>${rate(overall.rollbackRate.rate)} (${overall.rollbackRate.rolledBack} of ${overall.rollbackRate.of}; goal at most ${formatRate(overall.rollbackRate.goal)})</td></tr>
<tr><th scope="row">Time to resolve issues</th><td>median ${elapsed(overall.timeToResolve.median)} (${overall.timeToResolve.count}; goal under ${formatElapsed(overall.timeToResolve.goalMs)})</td></tr>
<tr><th scope="row">Deploys inside their window</th><td>${rate(overall.insideWindow.rate)} (${overall.insideWindow.inside} of ${overall.insideWindow.of})</td></tr>
</tbody></table>`;
  const charts = html`<div class="charts">
${figure(
  'chart-deploys',
  'Deployments per week',
  drawBarChart(
    labels,
    weeks.map((week) => week.deployments),
    'deploys',
  ),
  `Deployments in each of the ${weeks.length} weeks`,
)}
${figure(
  'chart-lead-time',
  'Start to deployed',
  drawBarChart(
    leadTimeBins.map((bin) => bin.label),
    leadTimeBins.map((bin) => bin.count),
    'releases',
  ),
  'How many releases took how long from start to deploy',
)}
${figure(
  'chart-rates',
  'Change failure and rollback rates per week',
  drawLineChart(
    labels,
    [
      { name: 'change failure', values: weeks.map((week) => percent(week.changeFailureRate)) },
      { name: 'rollback', values: weeks.map((week) => percent(week.rollbackRate)) },
    ],
    '%',
  ),
  'Change failure rate and rollback rate of each week with deployments',
)}
${figure('chart-phases', 'Median time per phase', drawPhaseChart(overall.phaseTimes), 'Median time each phase took')}
</div>`;
  const weekly = html`<table id="weeks"><caption>Per week</caption>
<thead><tr><th scope="col">Week ending</th><th scope="col">Deployments</th><th scope="col">Change failure rate</th><th scope="col">Rollback rate</th></tr></thead>
<tbody>${weeks.map((week, index) => html`<tr><th scope="row">${labels[index]}</th><td>${week.deployments}</td><td>${rate(week.changeFailureRate)}</td><td>${rate(week.rollbackRate)}</td></tr>`)}</tbody></table>`;
  const bins = html`<table id="lead-times"><caption>Start to deployed</caption>
<thead><tr><th scope="col">Took</th><th scope="col">Releases</th></tr></thead>
<tbody>${leadTimeBins.map((bin) => html`<tr><th scope="row">${bin.label}</th><td>${bin.count}</td></tr>`)}</tbody></table>`;
  const phases = html`<table id="phase-times"><caption>Time per phase</caption>
<thead><tr><th scope="col">Phase</th><th scope="col">Median</th><th scope="col">Phases measured</th></tr></thead>
<tbody>${overall.phaseTimes.length > 0 ? overall.phaseTimes.map((phase) => html`<tr><th scope="row">${phase.phaseName}</th><td>${elapsed(phase.median)}</td><td>${phase.count}</td></tr>`) : html`<tr><td colspan="3">No phase was done in the period.</td></tr>`}</tbody></table>`;
  return renderPage(
    { title: 'Delivery figures', current: 'stats', signedIn: true },
    html`<h1>Delivery figures</h1>
<p class="meta">The last ${page.days} days${page.env ? ` in ${page.env}` : ', every environment'}, up to ${timeOf(overall.period.to)}.</p>
${form}
${page.removedBefore !== undefined ? html`<p class="meta">Records of releases that ended before ${timeOf(page.removedBefore)} were removed by retention; the figures cover what is left.</p>` : ''}
${summary}
<h2>Charts</h2>
${charts}
<h2>The numbers</h2>
${weekly}
${bins}
${phases}`,
  );
}
