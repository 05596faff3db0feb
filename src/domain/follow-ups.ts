import type { AuditEvent, AuditEventType } from './audit.js';
import { watchedCriteria } from './metric-checks.js';
import { findBlockingPhase, type Release, type ReleaseStatus, waitsForGo } from './release.js';
import { type AnnouncementEvent, deploymentPhaseIndex } from './template.js';

// What follows from each audit event: the one table the relay (src/app/relay.ts) reads to turn a
// committed change into Slack messages, announcements and jobs. The release is its state when the
// relay runs, which may be later than the event; every follow-up is safe to repeat (deterministic job
// ids, a sync that renders the current state), so a replay after a crash adds nothing.

export type FollowUp =
  /** Bring the release's Slack messages in line with its state. */
  | { kind: 'sync' }
  /**
   * Tell the stakeholder channels, once per event and occurrence. `unlessEnvHeld`: not while another
   * release holds the environment (the release cannot deploy yet; its first deployment tick tells).
   */
  | { kind: 'announce'; event: AnnouncementEvent; occurrence: number; unlessEnvHeld?: true }
  /** Plan the first reminder of every phase for the current window. */
  | { kind: 'plan-reminders' }
  /** Drop every pending reminder (the window moved). */
  | { kind: 'drop-reminders' }
  | { kind: 'drop-phase-reminders'; phaseIndex: number }
  /** A new reminder series for a phase that is open again; `series` makes its job ids. */
  | { kind: 'plan-reopened-phase'; phaseIndex: number; series: number }
  /** One person's reminder at the end of their snooze. */
  | { kind: 'plan-owner-reminder'; phaseIndex: number; userId: string; at: number }
  | { kind: 'plan-checkins' }
  /** Plan the first run of each watched metric (the template watches some). */
  | { kind: 'plan-watch' }
  | { kind: 'drop-checkins' }
  | { kind: 'plan-escalation'; checkinIndex: number; at: number }
  /** Drop every pending timed job of the release: it ended or is rolling back. */
  | { kind: 'drop-timed-jobs' }
  /** DM everyone who asked to hear when the release's environment is free. */
  | { kind: 'tell-lock-waiters' }
  | { kind: 'share-final-log' }
  | { kind: 'draft-retrospective' }
  /** Post the team's retrospective, as saved by this event, in the thread. */
  | { kind: 'share-retrospective'; eventId: string }
  /**
   * Share a new version of the deployment log that holds what this event saved, when the thread has
   * the final log already (the job checks: that is Slack's side of the record), and mark the earlier
   * one superseded.
   */
  | { kind: 'share-log-version'; eventId: string }
  /** Confirm a change to the person who made it (an ephemeral message). */
  | { kind: 'notice'; notice: 'cancelled'; userId: string; eventId: string };

export interface FollowUpSettings {
  checkinEscalateAfterMs: number;
}

/** The user id of changes shipcheck makes itself (an unpostable release cancelled, a job's record). */
export const SHIPCHECK_USER = 'shipcheck';

/**
 * Whether the release's deployment phase is open to ticks as far as the checklist goes (its gate and
 * the go call); stakeholders hear that it is deploying then. Status is left out on purpose: a relay
 * that runs after the release moved on must still see that it started.
 */
function deploymentGateOpen(release: Release): boolean {
  const deployment = deploymentPhaseIndex(release.template);
  return (
    deployment !== undefined &&
    findBlockingPhase(release, deployment) === undefined &&
    !waitsForGo(release, deployment)
  );
}

/** "Deploying": one announcement however many events call for it (its job id is deterministic). */
const DEPLOYING = { kind: 'announce', event: 'started', occurrence: 0 } as const;

/**
 * "Deploying", when a change at `changedPhase` (a phase done or overridden, the go call) left the
 * deployment phase open to ticks. A change after the deployment phase cannot open it; leaving it out
 * keeps late phases from asking again.
 */
function deployingIfOpened(release: Release, changedPhase?: number): FollowUp[] {
  const deployment = deploymentPhaseIndex(release.template);
  if (deployment === undefined || (changedPhase !== undefined && changedPhase > deployment)) return [];
  return deploymentGateOpen(release) ? [{ ...DEPLOYING, unlessEnvHeld: true }] : [];
}

/** What every end of a release calls for: nothing timed is left, and the environment is free. */
function ended(release: Release, event: AnnouncementEvent): FollowUp[] {
  return [
    { kind: 'drop-timed-jobs' },
    { kind: 'announce', event, occurrence: 0 },
    ...(release.lockedAt !== undefined ? [{ kind: 'tell-lock-waiters' } as const] : []),
    { kind: 'share-final-log' },
  ];
}

/** Statuses whose end shared the final log. */
const ENDED: ReadonlySet<ReleaseStatus> = new Set(['completed', 'rolled_back', 'cancelled']);

type Rule = (event: AuditEvent, release: Release, settings: FollowUpSettings) => FollowUp[];

const none: Rule = () => [];

/** Every event type has a row, so a new type cannot be added without deciding what follows it. */
const FOLLOW_UPS: Record<AuditEventType, Rule> = {
  // A new release is planned, or scheduled for its window; it is deploying only once its deployment
  // phase opens.
  started: (event) => [
    { kind: 'plan-reminders' },
    { kind: 'announce', event: event.windowAt !== undefined ? 'scheduled' : 'planned', occurrence: 0 },
  ],
  freeze_overridden: () => [{ kind: 'announce', event: 'freeze_overridden', occurrence: 0 }],
  ticked: (event, release) =>
    event.phaseState === 'done' && event.phaseIndex !== undefined
      ? [
          { kind: 'drop-phase-reminders', phaseIndex: event.phaseIndex },
          ...deployingIfOpened(release, event.phaseIndex),
        ]
      : [],
  unticked: (event) =>
    event.phaseState === 'reopened' && event.phaseIndex !== undefined
      ? [{ kind: 'plan-reopened-phase', phaseIndex: event.phaseIndex, series: event.at }]
      : [],
  gate_overridden: (event, release) => deployingIfOpened(release, event.phaseIndex),
  go_decided: (event, release) => (event.to === 'go' ? deployingIfOpened(release) : []),
  rescheduled: () => [{ kind: 'drop-reminders' }, { kind: 'plan-reminders' }],
  reminder_sent: none,
  reminder_snoozed: (event) =>
    event.phaseIndex !== undefined && Number.isFinite(Number(event.to))
      ? [
          {
            kind: 'plan-owner-reminder',
            phaseIndex: event.phaseIndex,
            userId: event.user,
            at: Number(event.to),
          },
        ]
      : [],
  assigned: none,
  // The first deployment tick: deploying, if the phase opening did not say so already.
  locked: () => [DEPLOYING],
  // Deploying is told before deployed, whatever announced it before.
  deployed: (_event, release) => [
    DEPLOYING,
    { kind: 'announce', event: 'deployed', occurrence: 0 },
    { kind: 'plan-checkins' },
    ...(watchedCriteria(release.template).length > 0 ? [{ kind: 'plan-watch' } as const] : []),
  ],
  checkin_posted: (event, release, settings) => {
    if (event.checkinIndex === undefined) return [];
    const postedAt = release.checkins[event.checkinIndex]?.postedAt ?? event.at;
    return [
      {
        kind: 'plan-escalation',
        checkinIndex: event.checkinIndex,
        at: postedAt + settings.checkinEscalateAfterMs,
      },
    ];
  },
  checkin_answered: none,
  checkin_escalated: none,
  // The check-in message shows the value: the sync is all it takes.
  criterion_recorded: none,
  issue_found: (event) =>
    event.issueId !== undefined
      ? [{ kind: 'announce', event: 'issue_found', occurrence: event.issueId }]
      : [],
  // A resolution that planned a follow-up check-in names it.
  issue_resolved: (event) => (event.checkinIndex !== undefined ? [{ kind: 'plan-checkins' }] : []),
  monitoring_closed: () => [{ kind: 'drop-checkins' }],
  rollback_started: () => [
    { kind: 'drop-timed-jobs' },
    { kind: 'announce', event: 'rolling_back', occurrence: 0 },
  ],
  rolled_back: (_event, release) => [...ended(release, 'rolled_back'), { kind: 'draft-retrospective' }],
  completed: (_event, release) => [...ended(release, 'completed'), { kind: 'draft-retrospective' }],
  cancelled: (event, release) => [
    ...ended(release, 'cancelled'),
    ...(event.user !== SHIPCHECK_USER
      ? [{ kind: 'notice', notice: 'cancelled', userId: event.user, eventId: event.id } as const]
      : []),
  ],
  red_flag_raised: (event) => [{ kind: 'announce', event: 'red_flag', occurrence: event.redFlagNumber ?? 0 }],
  red_flag_cleared: (event) => [
    { kind: 'announce', event: 'red_flag_cleared', occurrence: event.redFlagNumber ?? 0 },
  ],
  // The final log went out when the release ended, before the team wrote the retrospective; the
  // thread's log must hold it too.
  retro_saved: (event, release) => [
    { kind: 'share-retrospective', eventId: event.id },
    ...(ENDED.has(release.status) ? [{ kind: 'share-log-version', eventId: event.id } as const] : []),
  ],
  // A refused attempt changed nothing.
  refused: none,
  // What a pipeline reported is shown in the thread; what it changed came with its own events.
  deployment_reported: none,
};

/** Event types whose only follow-up is the message sync, whatever the release's state. */
const SYNC_ONLY: ReadonlySet<AuditEventType> = new Set([
  'assigned',
  'deployment_reported',
  'checkin_answered',
  'checkin_escalated',
  'criterion_recorded',
  'reminder_sent',
  'refused',
]);

/**
 * Whether planning these events' follow-ups needs the release's state. A plain tick (most of the
 * traffic) needs only the sync, so the relay does not read the release for it.
 */
export function followUpsNeedRelease(events: readonly AuditEvent[]): boolean {
  return events.some(
    (event) =>
      !SYNC_ONLY.has(event.type) &&
      !((event.type === 'ticked' || event.type === 'unticked') && event.phaseState === undefined),
  );
}

/**
 * The message sync, when one of the events changed what the messages show: all that follows events
 * for which followUpsNeedRelease is false, and the first follow-up of any other run.
 */
export function planSyncOnly(events: readonly AuditEvent[]): FollowUp[] {
  return events.some((event) => !LEAVES_MESSAGES_AS_THEY_ARE.has(event.type)) ? [{ kind: 'sync' }] : [];
}

/** Event types whose change shows in the release's messages; refusals and reminders leave them as they are. */
const LEAVES_MESSAGES_AS_THEY_ARE: ReadonlySet<AuditEventType> = new Set(['refused', 'reminder_sent']);

/**
 * The follow-ups of a run of one release's events, in order, with the message sync asked for once,
 * first: announcements link to the thread and several jobs post in it.
 */
export function planFollowUps(
  events: readonly AuditEvent[],
  release: Release,
  settings: FollowUpSettings,
): FollowUp[] {
  const planned = planSyncOnly(events);
  for (const event of events) planned.push(...FOLLOW_UPS[event.type](event, release, settings));
  return planned;
}
