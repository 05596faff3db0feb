import type { CheckInAnswerKind, ReleaseStatus } from '../domain/release.js';
import { decodeCreateReply, decodeReply, unhandledReply } from './reply-codes.js';

// What the release scripts answer, as typed results: one table decodes every script's reply, so a
// new reply code is handled in one place (and the compiler points at it).

export type StartReleaseResult =
  | { kind: 'created'; releaseId: string }
  | { kind: 'replayed'; releaseId: string }
  | { kind: 'exists'; releaseId: string };

export type ChangeResult =
  | {
      kind: 'applied';
      rev: number;
      completed: boolean;
      /** A tick: it did the deployment phase's last required item. */
      deployed?: boolean;
      /** A tick: it did its phase's last required item. */
      phaseDone?: boolean;
      /** An untick: its phase was done and is open again. */
      phaseReopened?: boolean;
      /** A check-in answer or an issue resolution: it closed the monitoring window. */
      monitoringClosed?: boolean;
      /** An "issue found" answer: the new issue's id. */
      issueId?: number;
      /** An issue resolution: the follow-up check-in it planned. */
      followUpCheckin?: number;
      /** Owner assignments: how many items changed hands. */
      changed?: number;
      /** A red flag raised or cleared: its number in the release. */
      redFlagNumber?: number;
    }
  | { kind: 'unchanged' }
  | { kind: 'replayed' }
  | { kind: 'not_found' }
  | { kind: 'closed'; status: Exclude<ReleaseStatus, 'active'> }
  | { kind: 'locked'; blockingPhaseIndex: number }
  | { kind: 'unknown_item' }
  | { kind: 'not_locked' }
  | { kind: 'unknown_phase' }
  | { kind: 'unknown_checkin' }
  | { kind: 'checkin_answered'; answer: CheckInAnswerKind; by: string }
  | { kind: 'monitoring_closed' }
  | { kind: 'unknown_issue' }
  | { kind: 'issue_resolved'; by: string }
  | { kind: 'env_locked'; holderReleaseId: string }
  | { kind: 'red_flag'; by: string }
  | { kind: 'awaiting_go' }
  | { kind: 'red_flag_up'; by: string }
  | { kind: 'no_red_flag' }
  | { kind: 'go_decided'; by: string }
  | { kind: 'no_go_step' }
  | { kind: 'value_required' };

/** What set-item.lua can answer: a switch over it needs no default. */
export type SetItemResult = Extract<
  ChangeResult,
  {
    kind:
      | 'applied'
      | 'unchanged'
      | 'replayed'
      | 'not_found'
      | 'closed'
      | 'locked'
      | 'unknown_item'
      | 'env_locked'
      | 'red_flag'
      | 'awaiting_go'
      | 'value_required';
  }
>;
export const SET_ITEM_KINDS: ReadonlySet<ChangeResult['kind']> = new Set<SetItemResult['kind']>([
  'applied',
  'unchanged',
  'replayed',
  'not_found',
  'closed',
  'locked',
  'unknown_item',
  'env_locked',
  'red_flag',
  'awaiting_go',
  'value_required',
]);

/** What snooze-reminder.lua can answer. */
export type SnoozeResult = Extract<ChangeResult, { kind: 'applied' | 'replayed' | 'not_found' | 'closed' }>;
export const SNOOZE_KINDS: ReadonlySet<ChangeResult['kind']> = new Set<SnoozeResult['kind']>([
  'applied',
  'replayed',
  'not_found',
  'closed',
]);

/** Narrows a result to what its script can answer; anything else is a broken script, not a refusal. */
export function narrowResult<Narrowed extends ChangeResult>(
  result: ChangeResult,
  kinds: ReadonlySet<ChangeResult['kind']>,
  script: string,
): Narrowed {
  if (!kinds.has(result.kind)) throw new Error(`${script} answered ${result.kind}, which it never should`);
  return result as Narrowed;
}

export type AppliedExtras = Omit<Extract<ChangeResult, { kind: 'applied' }>, 'kind' | 'rev' | 'completed'>;

/**
 * Maps a release script's reply to a result; one table for every script. `extras` reads what follows
 * {APPLIED, rev, completed}. The code is decoded first, so an unknown one throws before the switch.
 */
export function toChangeResult(reply: unknown, extras?: (rest: number[]) => AppliedExtras): ChangeResult {
  const name = decodeReply(reply);
  const [, first, second, ...rest] = reply as [
    number,
    string | number | undefined,
    string | number | undefined,
    ...number[],
  ];
  switch (name) {
    case 'APPLIED':
      return {
        kind: 'applied',
        rev: Number(first),
        completed: second === 1,
        ...extras?.(rest.map(Number)),
      };
    case 'UNCHANGED':
      return { kind: 'unchanged' };
    case 'REPLAYED':
      return { kind: 'replayed' };
    case 'NOT_FOUND':
      return { kind: 'not_found' };
    case 'CLOSED':
      return { kind: 'closed', status: first as Exclude<ReleaseStatus, 'active'> };
    case 'LOCKED':
      return { kind: 'locked', blockingPhaseIndex: Number(first) };
    case 'UNKNOWN_ITEM':
      return { kind: 'unknown_item' };
    case 'NOT_LOCKED':
      return { kind: 'not_locked' };
    case 'UNKNOWN_PHASE':
      return { kind: 'unknown_phase' };
    case 'UNKNOWN_CHECKIN':
      return { kind: 'unknown_checkin' };
    case 'CHECKIN_ANSWERED':
      return { kind: 'checkin_answered', answer: first as CheckInAnswerKind, by: String(second) };
    case 'MONITORING_CLOSED':
      return { kind: 'monitoring_closed' };
    case 'UNKNOWN_ISSUE':
      return { kind: 'unknown_issue' };
    case 'ISSUE_RESOLVED':
      return { kind: 'issue_resolved', by: String(first) };
    case 'ENV_LOCKED':
      return { kind: 'env_locked', holderReleaseId: String(first) };
    case 'RED_FLAG':
      return { kind: 'red_flag', by: String(first) };
    case 'AWAITING_GO':
      return { kind: 'awaiting_go' };
    case 'RED_FLAG_UP':
      return { kind: 'red_flag_up', by: String(first) };
    case 'NO_RED_FLAG':
      return { kind: 'no_red_flag' };
    case 'GO_DECIDED':
      return { kind: 'go_decided', by: String(first) };
    case 'NO_GO_STEP':
      return { kind: 'no_go_step' };
    case 'VALUE_REQUIRED':
      return { kind: 'value_required' };
  }
  return unhandledReply(name);
}

/** Maps create-release.lua's reply, which has codes of its own (CREATE_REPLY_CODES). */
export function toStartReleaseResult(reply: [number, string]): StartReleaseResult {
  const name = decodeCreateReply(reply);
  const [, id] = reply;
  switch (name) {
    case 'CREATED':
      return { kind: 'created', releaseId: id };
    case 'REPLAYED':
      return { kind: 'replayed', releaseId: id };
    case 'EXISTS':
      return { kind: 'exists', releaseId: id };
  }
  return unhandledReply(name);
}
