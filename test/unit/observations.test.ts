import { describe, expect, it } from 'vitest';
import type { CriterionDirection, TemplateCriterion } from '../../src/domain/criteria.js';
import { buildDeploymentLog } from '../../src/domain/deployment-log.js';
import {
  describeRecording,
  formatObservedValue,
  isMet,
  judgeCriterion,
  latestObservation,
  measurableCriteria,
  parseObservedValue,
  reportCriteria,
} from '../../src/domain/observations.js';
import { draftRetrospective } from '../../src/domain/retrospective.js';
import { computeDeliveryStats } from '../../src/domain/stats.js';
import {
  complete,
  MINUTE,
  makeAuditEvent,
  makeRelease,
  makeTemplate,
  STARTER,
  T0,
  TICKER,
  tickEverything,
} from './factories.js';
import { DEPLOYED_AT, HOUR, makeMeasured, RECORDER, SUCCESS } from './measured-release.js';

// Success criteria in use: the verdict rule, values as people type them, and the reports built on
// them (the retrospective draft, the deployment log, the delivery figures).

describe('the verdict rule', () => {
  const cases: [CriterionDirection, number, boolean][] = [
    ['below', 0.99, true],
    ['below', 1, false],
    ['below', 1.01, false],
    ['above', 1.01, true],
    ['above', 1, false],
    ['above', 0.99, false],
    ['at most', 0.99, true],
    ['at most', 1, true],
    ['at most', 1.01, false],
    ['at least', 1.01, true],
    ['at least', 1, true],
    ['at least', 0.99, false],
  ];
  it.each(cases)('%s a threshold of 1: %s is met: %s', (direction, value, met) => {
    expect(isMet({ direction, threshold: 1 }, value)).toBe(met);
    expect(judgeCriterion({ direction, threshold: 1 }, value)).toBe(met ? 'met' : 'missed');
  });

  it('says not recorded without a value, whatever the direction', () => {
    for (const direction of ['below', 'above', 'at most', 'at least'] as const)
      expect(judgeCriterion({ direction, threshold: 0 }, undefined)).toBe('not_recorded');
  });

  it('judges "none" (at most 0) and negative changes against a baseline', () => {
    expect(judgeCriterion({ direction: 'at most', threshold: 0 }, 0)).toBe('met');
    expect(judgeCriterion({ direction: 'at most', threshold: 0 }, 1)).toBe('missed');
    // 5 % faster than the baseline is below "10 % slower".
    expect(judgeCriterion({ direction: 'below', threshold: 10 }, -5)).toBe('met');
  });

  it('lists only criteria with a direction and a threshold', () => {
    const template = makeTemplate({
      success: [...SUCCESS, { id: 'vague', name: 'Users happy' } as TemplateCriterion],
    });
    expect(measurableCriteria(template).map((criterion) => criterion.id)).toEqual([
      'error-rate',
      'response-time',
      'satisfaction',
      'critical-issues',
    ]);
    expect(measurableCriteria(makeTemplate())).toEqual([]);
  });
});

describe('values as people type them, in the criterion’s unit', () => {
  it('reads numbers, with or without the unit after them', () => {
    expect(parseObservedValue('0.4', '%')).toEqual({ ok: true, value: 0.4 });
    expect(parseObservedValue(' 12 % ', '%')).toEqual({ ok: true, value: 12 });
    expect(parseObservedValue('-3.5%', '%')).toEqual({ ok: true, value: -3.5 });
    expect(parseObservedValue('250ms', 'ms')).toEqual({ ok: true, value: 250 });
    expect(parseObservedValue('1.5 h', 'h')).toEqual({ ok: true, value: 1.5 });
    expect(parseObservedValue('45 min', 'min')).toEqual({ ok: true, value: 45 });
    expect(parseObservedValue('8/10', '/10')).toEqual({ ok: true, value: 8 });
    expect(parseObservedValue('.5', 's')).toEqual({ ok: true, value: 0.5 });
    expect(parseObservedValue('-0', '%')).toEqual({ ok: true, value: 0 });
  });

  it('refuses what is not a number, or not one the unit allows', () => {
    for (const text of ['', 'abc', '1,5', '1e3', '12 ms', '--1', '0x10', 'Infinity'])
      expect(parseObservedValue(text, '%'), text).toMatchObject({ ok: false });
    expect(parseObservedValue('2.5', 'count')).toEqual({
      ok: false,
      problem: 'Write a whole number, 0 or more.',
    });
    expect(parseObservedValue('-1', 'count')).toMatchObject({ ok: false });
    expect(parseObservedValue('10.5', '/10')).toEqual({ ok: false, problem: 'Write a score from 0 to 10.' });
    expect(parseObservedValue('-1', 'min')).toEqual({ ok: false, problem: 'A duration cannot be negative.' });
    expect(parseObservedValue('-101', '%')).toMatchObject({ ok: false });
    expect(parseObservedValue('2000000000', 'ms')).toEqual({ ok: false, problem: 'Write a smaller number.' });
  });

  it('writes values in their unit', () => {
    expect(formatObservedValue(0.4, '%')).toBe('0.4 %');
    expect(formatObservedValue(8, '/10')).toBe('8/10');
    expect(formatObservedValue(3, 'count')).toBe('3');
    expect(formatObservedValue(250, 'ms')).toBe('250 ms');
    expect(formatObservedValue(1.5, 'h')).toBe('1.5 h');
  });
});

describe('reports on a release', () => {
  it('judges one check-in on its own values', () => {
    const release = makeMeasured();
    const first = reportCriteria(release, 0);
    expect(first.map((report) => [report.id, report.verdict, report.observed?.value])).toEqual([
      ['error-rate', 'met', 0.4],
      ['response-time', 'missed', 14],
      ['satisfaction', 'not_recorded', undefined],
      ['critical-issues', 'not_recorded', undefined],
    ]);
    expect(first[0]).toMatchObject({ target: 'less than 1 %', unit: '%', direction: 'below', threshold: 1 });
    expect(first[3]?.target).toBe('none');
    expect(reportCriteria(release, 1).map((report) => report.verdict)).toEqual([
      'missed',
      'not_recorded',
      'not_recorded',
      'not_recorded',
    ]);
  });

  it('judges the release on the latest value recorded across check-ins', () => {
    const release = makeMeasured();
    expect(latestObservation(release, 'error-rate')).toEqual({
      value: 1,
      by: TICKER,
      at: DEPLOYED_AT + 130 * MINUTE,
      checkinIndex: 1,
    });
    expect(reportCriteria(release).map((report) => [report.verdict, report.observed?.checkinIndex])).toEqual([
      ['missed', 1],
      ['missed', 0],
      ['not_recorded', undefined],
      ['not_recorded', undefined],
    ]);
  });

  it('has nothing to report for a release whose template sets no criteria', () => {
    expect(reportCriteria(makeRelease())).toEqual([]);
    expect(reportCriteria(makeRelease(), 0)).toEqual([]);
  });

  it('describes a recording in words, a cleared value as none', () => {
    const template = makeTemplate({ success: SUCCESS });
    expect(describeRecording(template, { criterionId: 'satisfaction', from: 'none', to: '8.5' })).toEqual({
      criterion: 'Stakeholder satisfaction',
      from: 'none',
      to: '8.5/10',
    });
    expect(describeRecording(template, { criterionId: 'error-rate', from: '0.4', to: 'none' })).toEqual({
      criterion: 'Error rate higher than the baseline',
      from: '0.4 %',
      to: 'none',
    });
    expect(describeRecording(makeTemplate(), { criterionId: 'gone', from: 'none', to: '3' })).toEqual({
      criterion: 'gone',
      from: 'none',
      to: '3',
    });
  });
});

describe('the retrospective draft', () => {
  it('reports each criterion met, missed or not recorded, and finds the missed ones', () => {
    const release = complete(makeMeasured({ monitoring: { state: 'closed', closedAt: T0 + 5 * HOUR } }));
    const draft = draftRetrospective(release, [makeAuditEvent('started', 0)]);
    expect(draft.criteria.map((report) => [report.id, report.verdict])).toEqual([
      ['error-rate', 'missed'],
      ['response-time', 'missed'],
      ['satisfaction', 'not_recorded'],
      ['critical-issues', 'not_recorded'],
    ]);
    const missed = draft.findings.filter((finding) => finding.kind === 'criterion_missed');
    expect(missed.map((finding) => finding.text)).toEqual([
      'Response time slower missed its target (less than 10 %): 14 % at check-in 1.',
      'Error rate higher than the baseline missed its target (less than 1 %): 1 % at check-in 2.',
    ]);
    expect(missed[0]?.userIds).toEqual([RECORDER]);
  });

  it('has no criteria for an older release', () => {
    expect(draftRetrospective(complete(makeRelease()), []).criteria).toEqual([]);
  });
});

describe('the deployment log', () => {
  const release = complete(makeMeasured());
  const events = [
    makeAuditEvent('started', 0, { from: 'none', to: 'active' }),
    makeAuditEvent('criterion_recorded', 1, {
      user: RECORDER,
      checkinIndex: 0,
      criterionId: 'error-rate',
      from: 'none',
      to: '0.4',
    }),
    makeAuditEvent('criterion_recorded', 2, {
      user: TICKER,
      checkinIndex: 1,
      criterionId: 'error-rate',
      from: 'none',
      to: '1',
    }),
  ];
  const log = buildDeploymentLog(release, events, T0 + 10 * HOUR);

  it('judges each criterion in the JSON, with the latest value and where it came from', () => {
    expect(log.json.criteria).toEqual([
      {
        id: 'error-rate',
        name: 'Error rate higher than the baseline',
        direction: 'below',
        threshold: 1,
        unit: '%',
        verdict: 'missed',
        observed: {
          value: 1,
          checkin: 1,
          by: TICKER,
          at: new Date(DEPLOYED_AT + 130 * MINUTE).toISOString(),
        },
      },
      {
        id: 'response-time',
        name: 'Response time slower',
        direction: 'below',
        threshold: 10,
        unit: '%',
        verdict: 'missed',
        observed: {
          value: 14,
          checkin: 0,
          by: RECORDER,
          at: new Date(DEPLOYED_AT + 71 * MINUTE).toISOString(),
        },
      },
      {
        id: 'satisfaction',
        name: 'Stakeholder satisfaction',
        direction: 'above',
        threshold: 8,
        unit: '/10',
        verdict: 'not_recorded',
      },
      {
        id: 'critical-issues',
        name: 'Critical issues',
        direction: 'at most',
        threshold: 0,
        unit: 'count',
        verdict: 'not_recorded',
      },
    ]);
    expect(log.json.checkins[0]?.observed).toEqual({
      'error-rate': { value: 0.4, by: RECORDER, at: new Date(DEPLOYED_AT + 70 * MINUTE).toISOString() },
      'response-time': { value: 14, by: RECORDER, at: new Date(DEPLOYED_AT + 71 * MINUTE).toISOString() },
    });
    expect(log.json.events[1]).toMatchObject({
      type: 'criterion_recorded',
      criterionId: 'error-rate',
      to: '0.4',
    });
  });

  it('lists each criterion in the Markdown, and each recording in the audit trail', () => {
    const markdown = log.markdown;
    const section = markdown.slice(markdown.indexOf('## Success criteria'), markdown.indexOf('## Issues'));
    expect(section.trim().split('\n').slice(2)).toEqual([
      `- **Missed**: Error rate higher than the baseline, 1 % at check-in 2 (target: less than 1 %), recorded by @${TICKER} at 2026-03-02 13:40:00 UTC.`,
      `- **Missed**: Response time slower, 14 % at check-in 1 (target: less than 10 %), recorded by @${RECORDER} at 2026-03-02 12:41:00 UTC.`,
      '- **Not recorded**: Stakeholder satisfaction (target: more than 8/10).',
      '- **Not recorded**: Critical issues (target: none).',
    ]);
    expect(markdown).toContain(
      '| Value recorded | “Error rate higher than the baseline” at check-in 1: none → 0.4 % |',
    );
  });

  it('says so when the template sets no criteria', () => {
    const old = buildDeploymentLog(complete(makeRelease()), [], T0);
    expect(old.json.criteria).toEqual([]);
    expect(old.markdown).toContain('## Success criteria\n\nThe template sets no success criteria.\n');
  });
});

describe('the delivery figures', () => {
  it('give per criterion how many deployed releases recorded it and how many of those met it', () => {
    const FROM = T0 - 10 * 24 * HOUR;
    const TO = T0 + 10 * 24 * HOUR;
    const met = makeMeasured({
      id: 'r1',
      checkins: [
        {
          index: 0,
          dueAt: DEPLOYED_AT,
          postedAt: DEPLOYED_AT,
          observed: { 'error-rate': { value: 0.2, by: RECORDER, at: DEPLOYED_AT } },
        },
      ],
    });
    const missed = makeMeasured({ id: 'r2' });
    const silent = makeMeasured({ id: 'r3', checkins: [] });
    const older = tickEverything(makeRelease({ id: 'r4' }));
    const notDeployed = makeMeasured({ id: 'r5', deployment: undefined });
    const records = [
      met,
      missed,
      silent,
      { ...older, deployment: { at: DEPLOYED_AT, by: STARTER } },
      notDeployed,
    ].map((release) => ({ release, events: [] }));
    const stats = computeDeliveryStats(records, { from: FROM, to: TO });
    expect(
      stats.criteria.map(({ id, releases, recorded, met: metCount, metRate }) => [
        id,
        releases,
        recorded,
        metCount,
        metRate,
      ]),
    ).toEqual([
      ['error-rate', 3, 2, 1, 0.5],
      ['response-time', 3, 1, 0, 0],
      ['satisfaction', 3, 0, 0, undefined],
      ['critical-issues', 3, 0, 0, undefined],
    ]);
    expect(stats.criteria[0]).toMatchObject({
      name: 'Error rate higher than the baseline',
      target: 'less than 1 %',
      recordedRate: 2 / 3,
    });
  });
});
