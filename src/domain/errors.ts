import type { Release, ReleaseStatus } from './release.js';

// Every way a user's request can be refused, as data. The Slack edge turns each into a short message
// (src/views/user-errors.ts); nothing here knows how it is shown.

export type UserError =
  | { code: 'version_missing'; subcommand: string }
  | { code: 'version_invalid'; version: string; reason: string }
  | { code: 'argument_unknown'; argument: string; environments: string[]; templates: string[] }
  | { code: 'argument_repeated'; kind: 'environment' | 'template' | 'attempt'; argument: string }
  /** `#0`, `#x`: not an attempt number. */
  | { code: 'attempt_invalid'; argument: string }
  /** No release of the version and environment has that number; `attempts` are the ones that exist. */
  | {
      code: 'attempt_not_found';
      version: string;
      env: string;
      attempt: number;
      attempts: { attempt: number; status: ReleaseStatus }[];
    }
  | { code: 'reason_missing'; subcommand: string }
  | { code: 'reason_too_long'; maxLength: number }
  | { code: 'release_exists'; version: string; env: string; permalink?: string }
  | { code: 'release_not_found'; version: string; env?: string }
  | { code: 'release_ambiguous'; version: string; envs: string[] }
  | {
      code: 'release_closed';
      version: string;
      env: string;
      status: 'completed' | 'cancelled' | 'rolling_back' | 'rolled_back';
    }
  | { code: 'release_deployed'; version: string; env: string; deployedAt: number }
  | { code: 'item_unknown' }
  /** A tick of an item that records a value came without one. */
  | { code: 'value_required'; itemText: string; label: string }
  /** The value given with a tick does not fit the item; `problem` says why, to the person who typed it. */
  | { code: 'value_invalid'; label: string; problem: string }
  | { code: 'checkin_answered'; answer: 'healthy' | 'issue' | 'rollback'; by: string }
  | { code: 'checkin_closed' }
  | { code: 'issue_resolved'; by: string }
  | { code: 'text_length'; what: string; min: number; max: number }
  | { code: 'not_permitted'; action: string; roles: string[] }
  | { code: 'own_release' }
  | { code: 'red_flag_stop'; by: string }
  | { code: 'awaiting_go' }
  | { code: 'red_flag_up'; by: string }
  | { code: 'no_red_flag' }
  | { code: 'go_decided'; by: string }
  | { code: 'go_not_ready'; phaseName: string }
  | { code: 'frozen'; env: string; window: string; endsAt: number }
  /** A deployment-phase tick inside a freeze the release has no override for. */
  | { code: 'deploy_frozen'; env: string; window: string; endsAt: number; version: string }
  /** A freeze override asked for where no freeze is in force (or the release's override covers it). */
  | { code: 'not_frozen'; env: string; version: string }
  | { code: 'token_name_invalid'; name: string; problem: string }
  | { code: 'token_name_taken'; name: string }
  | { code: 'token_not_found'; name: string }
  | { code: 'token_environment_unknown'; env: string; environments: string[] }
  /** A pipeline's token does not cover the release's environment. */
  | { code: 'pipeline_out_of_scope'; env: string; token: string }
  /** A pipeline tried an item its template keeps for people. */
  | { code: 'pipeline_item_refused'; itemText: string }
  /** A pipeline reported a deploy starting while the gate is closed; `blockers` say why. */
  | { code: 'gate_closed'; version: string; blockers: string[] }
  | { code: 'template_unknown'; templateId: string; templates: string[] }
  | { code: 'env_locked'; env: string; holderVersion: string; holderBy: string; since: number }
  | { code: 'role_check_failed'; role: string }
  | { code: 'phase_locked'; phaseName: string; blockingPhaseName: string; openItems: string[] }
  | { code: 'gate_not_locked'; phaseName: string }
  | { code: 'window_missing' }
  | {
      code: 'window_invalid';
      text: string;
      problem: 'unreadable' | 'in_past' | 'zone_unknown';
      at?: number;
      zone?: string;
    }
  | { code: 'payload_invalid' }
  | { code: 'redis_unavailable' };

export type UserErrorCode = UserError['code'];

export type Result<T> = { ok: true; value: T } | { ok: false; error: UserError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(error: UserError): Result<T> => ({ ok: false, error });

/**
 * The refusal for a change to a release that is no longer active: by its own status, or by the
 * status a script reported (a race with another change).
 */
export function releaseClosed(
  release: Pick<Release, 'version' | 'env' | 'status'>,
  status: ReleaseStatus = release.status,
): UserError {
  // Only a release that is not active is refused as closed; an active one here lost a race to one that ended it.
  return {
    code: 'release_closed',
    version: release.version,
    env: release.env,
    status: status === 'active' ? 'completed' : status,
  };
}
