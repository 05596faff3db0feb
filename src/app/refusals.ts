import { releaseClosed, type UserError } from '../domain/errors.js';
import type { Release } from '../domain/release.js';
import type { ChangeResult } from '../store/change-results.js';

// The store's refusals that mean the same whichever intent met them, as the error to show. A refusal
// whose meaning depends on the intent (a locked gate for a tick or for the go call) is worded by that
// intent's own module.

const COMMON_KINDS = [
  'not_found',
  'closed',
  'unknown_item',
  'unknown_phase',
  'unknown_checkin',
  'unknown_issue',
  'checkin_answered',
  'monitoring_closed',
  'issue_resolved',
  'red_flag',
  'red_flag_up',
  'no_red_flag',
  'go_decided',
  'awaiting_go',
] as const satisfies readonly ChangeResult['kind'][];

export type CommonRefusal = Extract<ChangeResult, { kind: (typeof COMMON_KINDS)[number] }>;

export function describeCommonRefusal(release: Release, result: CommonRefusal): UserError {
  switch (result.kind) {
    case 'closed':
      return releaseClosed(release, result.status);
    case 'not_found':
    case 'unknown_item':
    case 'unknown_phase':
    case 'unknown_checkin':
    case 'unknown_issue':
      return { code: 'item_unknown' };
    case 'checkin_answered':
      return { code: 'checkin_answered', answer: result.answer, by: result.by };
    case 'monitoring_closed':
      return { code: 'checkin_closed' };
    case 'issue_resolved':
      return { code: 'issue_resolved', by: result.by };
    case 'red_flag':
      return { code: 'red_flag_stop', by: result.by };
    case 'red_flag_up':
      return { code: 'red_flag_up', by: result.by };
    case 'no_red_flag':
      return { code: 'no_red_flag' };
    case 'go_decided':
      return { code: 'go_decided', by: result.by };
    case 'awaiting_go':
      return { code: 'awaiting_go' };
  }
}

const COMMON_KIND_SET: ReadonlySet<string> = new Set(COMMON_KINDS);

export function isCommonRefusal(result: ChangeResult): result is CommonRefusal {
  return COMMON_KIND_SET.has(result.kind);
}
