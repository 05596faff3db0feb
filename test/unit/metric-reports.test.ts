import { describe, expect, it } from 'vitest';
import { buildDeploymentLog } from '../../src/domain/deployment-log.js';
import type { CheckinMetrics } from '../../src/domain/metric-checks.js';
import { reportCriteria } from '../../src/domain/observations.js';
import type { Release } from '../../src/domain/release.js';
import { computeDeliveryStats } from '../../src/domain/stats.js';
import { observationsOf } from '../../src/jobs/metric-evaluation.js';
import { renderCheckin } from '../../src/views/checkin-messages.js';
import { DEPLOYED_AT, HOUR, makeMeasured, SUCCESS } from './measured-release.js';

// Measured values flow through the record people's values use: a check-in's evaluation becomes its
// observations, judged by the threshold the metric was judged by (a baseline's), so the check-in, the
// retrospective, the log and the stats agree with the table at the check-in.

const measured: CheckinMetrics = {
  at: DEPLOYED_AT + HOUR,
  suggestion: 'issue',
  results: [
    {
      criterionId: 'error-rate',
      query: 'errors{env="production"}',
      at: DEPLOYED_AT + HOUR,
      verdict: 'met',
      value: 0.25,
      threshold: 1,
      direction: 'below',
    },
    {
      criterionId: 'response-time',
      query: 'latency{env="production"}',
      at: DEPLOYED_AT + HOUR,
      verdict: 'missed',
      value: 8,
      baseline: 6,
      threshold: 6.6000000000000005,
      direction: 'below',
    },
    { criterionId: 'satisfaction', query: 'score', at: DEPLOYED_AT + HOUR, verdict: 'no_data' },
  ],
};

function releaseWithMetrics(): Release {
  const base = makeMeasured();
  const template = {
    ...base.template,
    success: SUCCESS.map((criterion) =>
      criterion.id === 'response-time'
        ? { ...criterion, metric: 'latency{env="{env}"}', condition: '< 1.1 * baseline' }
        : { ...criterion, metric: `${criterion.id}{env="{env}"}` },
    ),
  };
  const release: Release = { ...base, template };
  const observed = observationsOf(release, measured);
  return {
    ...release,
    checkins: [
      { index: 0, dueAt: DEPLOYED_AT + HOUR, postedAt: DEPLOYED_AT + HOUR, metrics: measured, observed },
    ],
  };
}

describe('measured values on the record', () => {
  it('records readings with a value as observations by shipcheck, with a baseline threshold kept', () => {
    const release = releaseWithMetrics();
    expect(release.checkins[0]!.observed).toEqual({
      'error-rate': { value: 0.25, by: 'shipcheck', at: DEPLOYED_AT + HOUR },
      'response-time': { value: 8, by: 'shipcheck', at: DEPLOYED_AT + HOUR, threshold: 6.6 },
    });
  });

  it('judges a baseline reading by its own threshold in every report', () => {
    const reports = reportCriteria(releaseWithMetrics());
    expect(reports.find((report) => report.id === 'error-rate')).toMatchObject({ verdict: 'met' });
    // 8 % is under the template's 10 %, but over 1.1 × the baseline's 6 %.
    expect(reports.find((report) => report.id === 'response-time')).toMatchObject({
      verdict: 'missed',
      target: 'less than 6.6 %',
    });
  });

  it('counts measured criteria in /deploy stats', () => {
    const release = releaseWithMetrics();
    const stats = computeDeliveryStats([{ release, events: [] }], { from: 0, to: DEPLOYED_AT + 10 * HOUR });
    expect(stats.criteria.map(({ id, recorded, met }) => ({ id, recorded, met }))).toEqual([
      { id: 'error-rate', recorded: 1, met: 1 },
      { id: 'response-time', recorded: 1, met: 0 },
      { id: 'satisfaction', recorded: 0, met: 0 },
      { id: 'critical-issues', recorded: 0, met: 0 },
    ]);
  });

  it('keeps the evaluation in the deployment log, as data and in words', () => {
    const log = buildDeploymentLog(releaseWithMetrics(), [], DEPLOYED_AT + 10 * HOUR);
    expect(log.json.checkins[0]?.metrics).toMatchObject({
      suggestion: 'issue',
      results: [
        { criterionId: 'error-rate', verdict: 'met', value: 0.25, threshold: 1 },
        { criterionId: 'response-time', verdict: 'missed', value: 8, baseline: 6 },
        { criterionId: 'satisfaction', verdict: 'no_data' },
      ],
    });
    expect(log.markdown).toContain(
      'suggested “Issue found”: Error rate higher than the baseline 0.25 % met (threshold 1 %); Response time slower 8 % missed (threshold 6.6 %); Stakeholder satisfaction no data.',
    );
  });

  it('shows the table and the suggestion in the check-in', () => {
    const message = renderCheckin(releaseWithMetrics(), 0);
    const text = JSON.stringify(message.blocks);
    expect(message.text).toContain('Metrics: issue.');
    expect(text).toContain('❌ the numbers suggest *Issue found*');
    expect(text).toContain('✅ *Error rate higher than the baseline*: *0.25 %* — met (&lt; 1 %)');
    expect(text).toContain(
      '❌ *Response time slower*: *8 %* — missed (&lt; 1.1 × baseline = 6.6 % (baseline 6 %))',
    );
    expect(text).toContain('➖ *Stakeholder satisfaction*: no value — no data (&gt; 8/10)');
  });
});
