import type { UserError, UserErrorCode } from '../../domain/errors.js';
import { describeUserError } from '../../views/user-errors.js';

// Errors as RFC 9457 problem details. A refusal's words are the same the Slack door uses (one place
// says what each refusal means), turned from mrkdwn into plain text; its fields ride along as members,
// and `code` stays stable for scripts to branch on.

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [member: string]: unknown;
}

const STATUS_BY_CODE: Record<UserErrorCode, number> = {
  version_missing: 422,
  version_invalid: 422,
  argument_unknown: 422,
  argument_repeated: 422,
  attempt_invalid: 422,
  attempt_not_found: 404,
  reason_missing: 422,
  reason_too_long: 422,
  release_exists: 409,
  release_not_found: 404,
  release_ambiguous: 409,
  release_closed: 409,
  release_deployed: 409,
  item_unknown: 404,
  value_required: 422,
  value_invalid: 422,
  checkin_answered: 409,
  checkin_closed: 409,
  issue_resolved: 409,
  text_length: 422,
  not_permitted: 403,
  own_release: 403,
  red_flag_stop: 409,
  awaiting_go: 409,
  red_flag_up: 409,
  no_red_flag: 409,
  go_decided: 409,
  go_not_ready: 409,
  frozen: 409,
  deploy_frozen: 409,
  not_frozen: 409,
  token_name_invalid: 422,
  token_name_taken: 409,
  token_not_found: 404,
  token_environment_unknown: 422,
  pipeline_out_of_scope: 403,
  pipeline_item_refused: 403,
  gate_closed: 409,
  template_unknown: 422,
  env_locked: 409,
  role_check_failed: 503,
  phase_locked: 409,
  gate_not_locked: 409,
  window_missing: 422,
  window_invalid: 422,
  payload_invalid: 422,
  redis_unavailable: 503,
};

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Content too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/** The problem's type URI: a fragment of the API's own document, so it resolves for a reader. */
export const problemType = (code: string) => `/api/v1/openapi.json#problem-${code}`;

export function problem(status: number, code: string, detail: string, members: object = {}): Problem {
  return { ...members, type: problemType(code), title: TITLES[status] ?? 'Error', status, detail, code };
}

export function problemFor(error: UserError): Problem {
  const { code, ...members } = error;
  return problem(STATUS_BY_CODE[code], code, plainText(describeUserError(error)), members);
}

/** Slack's mrkdwn as plain text: dates by their fallback, links by their label, no markup or emoji. */
export function plainText(mrkdwn: string): string {
  return mrkdwn
    .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<@([UW][A-Z0-9]+)>/g, '$1')
    .replace(/<#([CG][A-Z0-9]+)(?:\|[^>]*)?>/g, '#$1')
    .replace(/<([^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<(https?:[^>]+)>/g, '$1')
    .replace(/[*_`]/g, '')
    .replace(/[\u{1F300}-\u{1FAFF}\u{2600}-\u{27BF}\u{2B00}-\u{2BFF}]\u{FE0F}?\s?/gu, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .trim();
}
