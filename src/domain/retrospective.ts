import { type AuditEvent, describeRefusalReason } from './audit.js';
import { type CriterionReport, formatObservedValue, reportCriteria } from './observations.js';
import { isSlackUserId } from './people.js';
import { isItemDone, type Release } from './release.js';
import { measurePhases, type PhaseSpan } from './stats.js';
import { phaseDueAt } from './time.js';

// The draft of a release's retrospective, written from its own record once it has ended: how long each
// phase took against the plan, what was late, which gates were forced open and what that skipped, who
// had to be reminded, how the check-ins went, the success criteria met and missed, the issues and how
// long they took to resolve, and the rollback. Pure: the release as stored and its audit trail (in stream order) in, plain facts out.
// Nothing here carries Slack markup; texts people wrote are passed through as written, and whoever
// renders them escapes them.

export type RetroFindingKind =
  | 'late_phase'
  | 'late_item'
  | 'override'
  | 'skipped'
  | 'reminders'
  | 'checkin'
  | 'criterion_missed'
  | 'issue'
  | 'rollback'
  | 'red_flag'
  | 'refused';

export interface RetroFinding {
  kind: RetroFindingKind;
  /** One short sentence in plain text, without markup and without user ids (those are in userIds). */
  text: string;
  /** The people the finding is about, as Slack user ids (or `shipcheck` for the bot's own acts). */
  userIds?: string[];
  /** When it happened (ms since the epoch). */
  at?: number;
}

export type RetroOutcome = 'completed' | 'rolled_back' | 'cancelled';

export interface RetroPhaseDuration {
  phaseName: string;
  /** From the moment the phase became workable to the moment it was done (see measurePhases). */
  actualMs?: number;
  /**
   * The previous phase's due moment to this phase's, when the release has a window and both phases
   * have a due; absent for the first phase and when that span would be negative.
   */
  plannedMs?: number;
  /** Done after its due moment. */
  late: boolean;
}

export interface RetroLateItem {
  itemText: string;
  phaseName: string;
  doneAt: number;
  dueAt: number;
  by: string;
}

export interface RetroOverride {
  /** The phase the override unlocked. */
  phaseName: string;
  by: string;
  at: number;
  reason: string;
  /** Texts of the required items the override let the release pass and that were never done. */
  skippedItems: string[];
}

export interface RetroReminders {
  recipient: string;
  count: number;
}

export interface RetroCheckin {
  index: number;
  /** healthy, issue or rollback; absent when nobody answered. */
  answer?: string;
  by?: string;
  escalated: boolean;
}

export interface RetroIssue {
  id: number;
  what: string;
  severity: string;
  foundAt: number;
  resolvedAt?: number;
  timeToResolveMs?: number;
}

export interface RetroRollback {
  by: string;
  at: number;
  reason: string;
}

export interface RetroDraft {
  outcome: RetroOutcome;
  /** Every phase of the template, in order. */
  phaseDurations: RetroPhaseDuration[];
  /** Required items ticked after their phase's due moment, oldest first. */
  lateItems: RetroLateItem[];
  /** Gate overrides, in the order they were made. */
  overrides: RetroOverride[];
  /** Reminders sent, per recipient, the most reminded first (ties: the first reminded first). */
  reminders: RetroReminders[];
  /** The check-ins that were posted or answered, by index. */
  checkins: RetroCheckin[];
  /**
   * Each success criterion of the template, met, missed or not recorded on the latest value recorded
   * across check-ins; empty when the template sets none.
   */
  criteria: CriterionReport[];
  /** Every issue reported, by id. */
  issues: RetroIssue[];
  rollback?: RetroRollback;
  /** The notable points above (and red flags and refusals) as short sentences, in time order. */
  findings: RetroFinding[];
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * A duration for people, to the minute, in its two largest units that are not zero: `45 s`, `25 min`,
 * `1 h 30 min`, `1 d 30 min`, `2 d 3 h`. Below a minute it is given in seconds.
 */
export function formatRetroDuration(ms: number): string {
  const safe = Number.isFinite(ms) ? Math.max(0, ms) : 0;
  const seconds = Math.round(safe / SECOND);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.max(1, Math.round(safe / MINUTE));
  const parts: [number, string][] = [
    [Math.floor(minutes / (DAY / MINUTE)), 'd'],
    [Math.floor((minutes % (DAY / MINUTE)) / 60), 'h'],
    [minutes % 60, 'min'],
  ];
  return parts
    .filter(([amount]) => amount > 0)
    .slice(0, 2)
    .map(([amount, unit]) => `${amount} ${unit}`)
    .join(' ');
}

/** Rolled back (or rolling back) wins, then cancelled; anything else counts as completed. */
export function retroOutcome(release: Release): RetroOutcome {
  if (release.status === 'rolled_back' || release.status === 'rolling_back' || release.rollback)
    return 'rolled_back';
  if (release.status === 'cancelled') return 'cancelled';
  return 'completed';
}

/** Text people wrote, on one line. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
const quote = (text: string) => `“${oneLine(text)}”`;

/** `Head: detail.` (no second full stop when the detail ends a sentence itself), or `Head.` without one. */
function sentence(head: string, detail?: string): string {
  const text = detail === undefined ? '' : oneLine(detail);
  if (!text) return `${head}.`;
  return /[.!?…]$/.test(text) ? `${head}: ${text}` : `${head}: ${text}.`;
}

/** A finding, each person named once. */
function finding(kind: RetroFindingKind, text: string, at: number, userIds: string[] = []): RetroFinding {
  const people = [...new Set(userIds.filter(Boolean))];
  return people.length > 0 ? { kind, text, userIds: people, at } : { kind, text, at };
}

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

/** What a refused action was, for a finding. */
const REFUSED_WHAT: Record<string, string> = {
  tick: 'ticking',
  untick: 'unticking',
  start: 'starting a release',
  cancel: 'cancelling the release',
  reschedule: 'rescheduling the release',
  override: 'overriding a gate',
  rollback: 'rolling back',
  go: 'the go/no-go call',
  freeze_override: 'overriding a freeze',
  red_flag: 'raising a red flag',
  red_flag_resolve: 'clearing a red flag',
};

interface Walk {
  release: Release;
  events: readonly AuditEvent[];
  itemText: Map<string, { text: string; phaseIndex: number; required: boolean }>;
  /** Each phase's due moment on the release's window. */
  dueAt: (number | undefined)[];
  /** When each measured phase opened and was done, by phase index. */
  spans: Map<number, PhaseSpan>;
}

function phaseName(release: Release, phaseIndex: number): string {
  return release.template.phases[phaseIndex]?.name ?? `Phase ${phaseIndex + 1}`;
}

function phaseDurations(walk: Walk): RetroPhaseDuration[] {
  const { release, dueAt, spans } = walk;
  return release.template.phases.map((phase, phaseIndex) => {
    const entry: RetroPhaseDuration = { phaseName: phase.name, late: false };
    const span = spans.get(phaseIndex);
    if (span) entry.actualMs = span.doneAt - span.openedAt;
    const due = dueAt[phaseIndex];
    const previousDue = phaseIndex > 0 ? dueAt[phaseIndex - 1] : undefined;
    if (due !== undefined && previousDue !== undefined && due >= previousDue)
      entry.plannedMs = due - previousDue;
    if (span && due !== undefined && span.doneAt > due) entry.late = true;
    return entry;
  });
}

/**
 * The moment each required item was done for good (its last tick not undone later) and by whom, from
 * the trail; an item done without a tick in the trail falls back to the release's own record.
 */
function finalTicks(walk: Walk): Map<string, { at: number; by: string }> {
  const ticks = new Map<string, { at: number; by: string }>();
  for (const event of walk.events) {
    if (event.itemId === undefined) continue;
    if (event.type === 'ticked') ticks.set(event.itemId, { at: event.at, by: event.user });
    else if (event.type === 'unticked') ticks.delete(event.itemId);
  }
  for (const [itemId, info] of walk.itemText) {
    if (!info.required) continue;
    const state = walk.release.items[itemId];
    if (!state?.done) ticks.delete(itemId);
    else if (!ticks.has(itemId)) ticks.set(itemId, { at: state.at, by: state.by });
  }
  return ticks;
}

function lateItems(walk: Walk): RetroLateItem[] {
  const late: RetroLateItem[] = [];
  for (const [itemId, done] of finalTicks(walk)) {
    const info = walk.itemText.get(itemId);
    if (!info?.required) continue;
    const dueAt = walk.dueAt[info.phaseIndex];
    if (dueAt === undefined || done.at <= dueAt) continue;
    late.push({
      itemText: info.text,
      phaseName: phaseName(walk.release, info.phaseIndex),
      doneAt: done.at,
      dueAt,
      by: done.by,
    });
  }
  return late.sort((a, b) => a.doneAt - b.doneAt);
}

/**
 * Each override with the required items it let the release pass and that nobody did afterwards: the
 * open required items of the phases from the previous override's phase (or the first) up to its own.
 */
function overrides(walk: Walk): RetroOverride[] {
  const { release } = walk;
  const unlocked = release.overrides.map((entry) => entry.phaseIndex);
  return [...release.overrides]
    .sort((a, b) => a.at - b.at)
    .map((entry) => {
      const floor = Math.max(0, ...unlocked.filter((index) => index < entry.phaseIndex));
      const skippedItems = release.template.phases
        .slice(floor, entry.phaseIndex)
        .flatMap((phase) => phase.items)
        .filter((item) => item.required && !isItemDone(release, item.id))
        .map((item) => item.text);
      return {
        phaseName: phaseName(release, entry.phaseIndex),
        by: entry.by,
        at: entry.at,
        reason: entry.reason,
        skippedItems,
      };
    });
}

function reminders(walk: Walk): (RetroReminders & { lastAt: number })[] {
  const byRecipient = new Map<string, { recipient: string; count: number; lastAt: number }>();
  for (const event of walk.events) {
    if (event.type !== 'reminder_sent' || !event.recipient) continue;
    const entry = byRecipient.get(event.recipient) ?? {
      recipient: event.recipient,
      count: 0,
      lastAt: event.at,
    };
    entry.count++;
    entry.lastAt = Math.max(entry.lastAt, event.at);
    byRecipient.set(event.recipient, entry);
  }
  // Array.prototype.sort is stable: equal counts keep the order of the first reminder.
  return [...byRecipient.values()].sort((a, b) => b.count - a.count);
}

function escalations(walk: Walk): Map<number, { at: number; recipient?: string }> {
  const found = new Map<number, { at: number; recipient?: string }>();
  for (const event of walk.events) {
    if (
      event.type === 'checkin_escalated' &&
      event.checkinIndex !== undefined &&
      !found.has(event.checkinIndex)
    )
      found.set(event.checkinIndex, { at: event.at, recipient: event.recipient });
  }
  return found;
}

function checkins(walk: Walk): RetroCheckin[] {
  const escalated = escalations(walk);
  return walk.release.checkins
    .filter((checkin) => checkin.postedAt !== undefined || checkin.answer !== undefined)
    .sort((a, b) => a.index - b.index)
    .map((checkin) => {
      const entry: RetroCheckin = {
        index: checkin.index,
        escalated: checkin.escalatedAt !== undefined || escalated.has(checkin.index),
      };
      if (checkin.answer) {
        entry.answer = checkin.answer.kind;
        entry.by = checkin.answer.by;
      }
      return entry;
    });
}

function issues(walk: Walk): RetroIssue[] {
  return [...walk.release.issues]
    .sort((a, b) => a.id - b.id)
    .map((issue) => {
      const entry: RetroIssue = {
        id: issue.id,
        what: issue.what,
        severity: issue.severity,
        foundAt: issue.foundAt,
      };
      if (issue.resolvedAt !== undefined) {
        entry.resolvedAt = issue.resolvedAt;
        entry.timeToResolveMs = Math.max(0, issue.resolvedAt - issue.foundAt);
      }
      return entry;
    });
}

/** The rollback decision: the release's record, else the trail's first rollback. */
function rollback(walk: Walk): RetroRollback | undefined {
  const { release, events } = walk;
  if (release.rollback) {
    return { by: release.rollback.by, at: release.rollback.at, reason: release.cancelReason ?? '' };
  }
  const event = events.find(
    (candidate) =>
      candidate.type === 'rollback_started' ||
      (candidate.type === 'rolled_back' && candidate.from === 'active'),
  );
  return event
    ? { by: event.user, at: event.at, reason: event.reason ?? release.cancelReason ?? '' }
    : undefined;
}

/** One finding per red flag raised, with how long it held the release and how it was cleared. */
function redFlagFindings(walk: Walk): RetroFinding[] {
  const findings: RetroFinding[] = [];
  let open: { at: number; by: string; why: string } | undefined;
  const close = (cleared?: AuditEvent) => {
    if (!open) return;
    const raised = sentence('A red flag stopped the release', open.why);
    const after = cleared
      ? sentence(`It was cleared after ${formatRetroDuration(cleared.at - open.at)}`, cleared.reason)
      : 'It was not cleared.';
    findings.push(finding('red_flag', `${raised} ${after}`, open.at, [open.by, cleared?.user ?? '']));
    open = undefined;
  };
  for (const event of walk.events) {
    if (event.type === 'red_flag_raised') {
      close();
      open = { at: event.at, by: event.user, why: event.reason ?? '' };
    } else if (event.type === 'red_flag_cleared') {
      close(event);
    }
  }
  close();
  return findings;
}

function refusalFindings(walk: Walk): RetroFinding[] {
  return walk.events
    .filter((event) => event.type === 'refused')
    .map((event) => {
      const action = event.action ?? '';
      const itemId = event.itemId;
      const what =
        (action === 'tick' || action === 'untick') && itemId
          ? `${REFUSED_WHAT[action]} ${quote(walk.itemText.get(itemId)?.text ?? itemId)}`
          : (REFUSED_WHAT[action] ?? (oneLine(action) || 'an action'));
      return finding('refused', `Refused: ${what} (${describeRefusalReason(event.reason)}).`, event.at, [
        event.user,
      ]);
    });
}

/**
 * The Slack users a draft names (who started the release, who ticked late, overrode, was reminded,
 * answered, rolled back, and the people of its findings), each once, in that order: the renderer shows
 * their names as the release recorded them.
 */
export function peopleInRetro(release: Release, draft: RetroDraft): string[] {
  const named = [
    release.startedBy,
    ...draft.lateItems.map((late) => late.by),
    ...draft.overrides.map((entry) => entry.by),
    ...draft.reminders.map((entry) => entry.recipient),
    ...draft.checkins.flatMap((checkin) => (checkin.by ? [checkin.by] : [])),
    ...(draft.rollback ? [draft.rollback.by] : []),
    ...draft.findings.flatMap((entry) => entry.userIds ?? []),
  ];
  return [...new Set(named)].filter(isSlackUserId);
}

/**
 * The draft retrospective of a release: its record and its audit trail (oldest first, as read from the
 * stream). Phase times replay the trail (see measurePhases); due moments come from the release's
 * current window; overrides, check-ins, issues and the rollback are read from the release itself.
 */
export function draftRetrospective(release: Release, events: readonly AuditEvent[]): RetroDraft {
  const itemText = new Map<string, { text: string; phaseIndex: number; required: boolean }>();
  release.template.phases.forEach((phase, phaseIndex) => {
    for (const item of phase.items)
      itemText.set(item.id, { text: item.text, phaseIndex, required: item.required });
  });
  const window = release.window;
  const dueAt = release.template.phases.map((phase) =>
    window ? phaseDueAt(window.at, phase.due) : undefined,
  );
  const spans = new Map(measurePhases(release, events).map((span) => [span.phaseIndex, span]));
  const walk: Walk = { release, events, itemText, dueAt, spans };

  const draft: RetroDraft = {
    outcome: retroOutcome(release),
    phaseDurations: phaseDurations(walk),
    lateItems: lateItems(walk),
    overrides: overrides(walk),
    reminders: [],
    checkins: checkins(walk),
    criteria: reportCriteria(release),
    issues: issues(walk),
    findings: [],
  };
  const reminded = reminders(walk);
  draft.reminders = reminded.map(({ recipient, count }) => ({ recipient, count }));
  const decided = rollback(walk);
  if (decided) draft.rollback = decided;

  const findings: RetroFinding[] = [];
  for (const entry of reminded) {
    const text = `${plural(entry.count, 'reminder was', 'reminders were')} sent about open items.`;
    findings.push(finding('reminders', text, entry.lastAt, [entry.recipient]));
  }
  for (const late of draft.lateItems) {
    const after = formatRetroDuration(late.doneAt - late.dueAt);
    const text = `${quote(late.itemText)} in ${late.phaseName} was ticked ${after} after the phase was due.`;
    findings.push(finding('late_item', text, late.doneAt, [late.by]));
  }
  draft.phaseDurations.forEach((phase, phaseIndex) => {
    const span = walk.spans.get(phaseIndex);
    const due = dueAt[phaseIndex];
    if (!phase.late || !span || due === undefined) return;
    const text = `${phase.phaseName} was done ${formatRetroDuration(span.doneAt - due)} after it was due.`;
    findings.push(finding('late_phase', text, span.doneAt));
  });
  for (const entry of draft.overrides) {
    const text = sentence(`The gate to ${entry.phaseName} was overridden`, entry.reason);
    findings.push(finding('override', text, entry.at, [entry.by]));
    const count = entry.skippedItems.length;
    if (count === 0) continue;
    const skipped = `${plural(count, 'required item was', 'required items were')} skipped on the way to ${entry.phaseName}`;
    findings.push(
      finding('skipped', sentence(skipped, entry.skippedItems.map(quote).join(', ')), entry.at, [entry.by]),
    );
  }
  const escalated = escalations(walk);
  for (const checkin of release.checkins) {
    const escalation = escalated.get(checkin.index);
    const at = checkin.escalatedAt ?? escalation?.at;
    if (at === undefined) continue;
    const answer = checkin.answer;
    const then = answer
      ? `It was answered ${formatRetroDuration(answer.at - at)} after that.`
      : 'It was never answered.';
    const text = `Check-in ${checkin.index + 1} went unanswered and was escalated. ${then}`;
    findings.push(
      finding('checkin', text, at, [escalation?.recipient ?? release.startedBy, answer?.by ?? '']),
    );
  }
  for (const criterion of draft.criteria) {
    const observed = criterion.observed;
    if (criterion.verdict !== 'missed' || !observed) continue;
    const value = formatObservedValue(observed.value, criterion.unit);
    const text = `${criterion.name} missed its target (${criterion.target}): ${value} at check-in ${observed.checkinIndex + 1}.`;
    findings.push(finding('criterion_missed', text, observed.at, [observed.by]));
  }
  for (const issue of release.issues) {
    const found = sentence(`Issue #${issue.id} (${issue.severity}) was found`, issue.what);
    const then =
      issue.resolvedAt !== undefined
        ? `It was resolved ${formatRetroDuration(issue.resolvedAt - issue.foundAt)} later.`
        : 'It was never resolved.';
    findings.push(
      finding('issue', `${found} ${then}`, issue.foundAt, [issue.foundBy, issue.resolvedBy ?? '']),
    );
  }
  if (decided) {
    findings.push(
      finding('rollback', sentence('The release was rolled back', decided.reason), decided.at, [decided.by]),
    );
  }
  findings.push(...redFlagFindings(walk), ...refusalFindings(walk));

  // Stable: findings made at the same moment keep the order above; any without a time go last.
  draft.findings = findings.sort((a, b) => {
    if (a.at === b.at) return 0;
    if (a.at === undefined) return 1;
    if (b.at === undefined) return -1;
    return a.at - b.at;
  });
  return draft;
}
