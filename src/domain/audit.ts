// One entry of a release's append-only audit trail.

export const AUDIT_EVENT_TYPES = [
  'started',
  'ticked',
  'unticked',
  'gate_overridden',
  'rescheduled',
  'reminder_sent',
  'reminder_snoozed',
  'assigned',
  'deployed',
  'checkin_posted',
  'checkin_answered',
  'checkin_escalated',
  'criterion_recorded',
  'issue_found',
  'issue_resolved',
  'monitoring_closed',
  'rollback_started',
  'rolled_back',
  'refused',
  'locked',
  'freeze_overridden',
  'red_flag_raised',
  'red_flag_cleared',
  'go_decided',
  'retro_saved',
  /** A pipeline said its deploy started, succeeded or failed (to), with its summary and evidence. */
  'deployment_reported',
  'cancelled',
  'completed',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditEvent {
  /** The stream entry id; it orders events and never changes. */
  id: string;
  type: AuditEventType;
  user: string;
  at: number;
  /**
   * State before and after: none/active/completed/cancelled for the release, open/done for an item,
   * locked/open for a gate, the window's epoch ms (or none) for a reschedule, none/user id for an
   * owner, posted/healthy|issue|rollback for a check-in answer, the snooze's end for a snooze.
   */
  from: string;
  to: string;
  itemId?: string;
  phaseIndex?: number;
  reason?: string;
  version?: string;
  env?: string;
  templateId?: string;
  /** For a start with a window, and a reschedule: the window (epoch ms) and the zone it was given in. */
  windowAt?: number;
  windowZone?: string;
  /** For a reminder or an escalation: who it named. */
  recipient?: string;
  /** For check-in events: which check-in (0-based); for an issue resolved, the follow-up check-in planned. */
  checkinIndex?: number;
  /** For a value recorded at a check-in: the success criterion it measures (from/to: the values, or none). */
  criterionId?: string;
  /** For issue events: the issue's number in the release, and how severe it was said to be. */
  issueId?: number;
  severity?: string;
  /** For a refusal: what was attempted (tick, untick, or a permission such as cancel). */
  action?: string;
  /** For a deploy: how many check-ins were planned. */
  checkins?: number;
  /** For an override: the phase whose open items were passed. */
  blockingPhaseIndex?: number;
  /** For a tick that did its phase's last required item, or an untick that opened a done phase again. */
  phaseState?: 'done' | 'reopened';
  /** For red flag events: the flag's number in the release. */
  redFlagNumber?: number;
  /** For a tick of an item that records a value: the value recorded. */
  value?: string;
  /** For an untick: the value the item held, cleared by it. */
  clearedValue?: string;
  /** For a pipeline's start: the commit it deploys and the run that started it. */
  commit?: string;
  runUrl?: string;
  /** For a pipeline's change: the link to its proof and its one-line summary. */
  evidenceUrl?: string;
  summary?: string;
}

/** Why a refused attempt was refused, in words, from the reason its event records. */
export function describeRefusalReason(reason: string | undefined): string {
  if (!reason) return 'not allowed';
  if (reason === 'own_release') return 'the two-person rule keeps people off their own release';
  if (reason === 'pipeline_item') return 'the item is for a person; a pipeline ticks only pipeline items';
  if (reason === 'frozen') return 'the environment was frozen and the release had no override';
  if (reason.startsWith('role:')) return `reserved for ${reason.slice(5).split(',').join(', ')}`;
  return reason;
}
