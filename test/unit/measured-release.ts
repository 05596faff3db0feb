import type { TemplateCriterion } from '../../src/domain/criteria.js';
import type { CheckIn, Release } from '../../src/domain/release.js';
import { MINUTE, makeRelease, makeTemplate, T0, TICKER, tickEverything } from './factories.js';

// A deployed release whose template sets success criteria, with values recorded at two check-ins;
// shared by the tests of success criteria in use.

export const HOUR = 60 * MINUTE;
export const DEPLOYED_AT = T0 + 2 * HOUR;
export const RECORDER = 'U0RECORDER';

export const SUCCESS: TemplateCriterion[] = [
  {
    id: 'error-rate',
    name: 'Error rate higher than the baseline',
    direction: 'below',
    threshold: 1,
    unit: '%',
  },
  { id: 'response-time', name: 'Response time slower', direction: 'below', threshold: 10, unit: '%' },
  { id: 'satisfaction', name: 'Stakeholder satisfaction', direction: 'above', threshold: 8, unit: '/10' },
  { id: 'critical-issues', name: 'Critical issues', direction: 'at most', threshold: 0, unit: 'count' },
];

/** Deployed, two check-ins posted: error rate met then missed, response time missed, the rest not recorded. */
export function makeMeasured(overrides: Partial<Release> = {}): Release {
  const checkins: CheckIn[] = [
    {
      index: 0,
      dueAt: DEPLOYED_AT + HOUR,
      postedAt: DEPLOYED_AT + HOUR,
      observed: {
        'error-rate': { value: 0.4, by: RECORDER, at: DEPLOYED_AT + 70 * MINUTE },
        'response-time': { value: 14, by: RECORDER, at: DEPLOYED_AT + 71 * MINUTE },
      },
    },
    {
      index: 1,
      dueAt: DEPLOYED_AT + 2 * HOUR,
      postedAt: DEPLOYED_AT + 2 * HOUR,
      observed: { 'error-rate': { value: 1, by: TICKER, at: DEPLOYED_AT + 130 * MINUTE } },
    },
  ];
  return {
    ...tickEverything(makeRelease({ template: makeTemplate({ success: SUCCESS }) })),
    deployment: { at: DEPLOYED_AT, by: TICKER },
    monitoring: { state: 'open' },
    checkins,
    ...overrides,
  };
}
