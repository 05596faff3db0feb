// One entry of a release's append-only audit trail.

export const AUDIT_EVENT_TYPES = [
  'started',
  'ticked',
  'unticked',
  'gate_overridden',
  'rescheduled',
  'reminder_sent',
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
   * locked/open for a gate, the window's epoch ms (or none) for a reschedule.
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
  /** For a reminder: who it named. */
  recipient?: string;
  /** For an override: the phase whose open items were passed. */
  blockingPhaseIndex?: number;
}
