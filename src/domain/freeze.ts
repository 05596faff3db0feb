// Deploy freeze windows (FREEZE_WINDOWS): when an environment must not be deployed to. Times are wall
// clock in each window's own zone, so a freeze that ends "Monday 08:00" ends at 08:00 local whatever the
// daylight saving time. Pure: the moment to check is always passed in.

import { TZDate, tzOffset } from '@date-fns/tz';
import { deploymentPhaseIndex, findItem, type Template } from './template.js';
import { isKnownZone } from './time.js';

/** A moment of the week: weekday 0 = Sunday … 6 = Saturday, 24-hour clock. */
export interface WeeklyTime {
  weekday: number;
  hour: number;
  minute: number;
}

/** A calendar date and clock reading; month 1-12, as written. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

/** `text` is the entry as written (trimmed), for messages. */
export type FreezeWindow =
  | { kind: 'weekly'; env: string; zone: string; from: WeeklyTime; to: WeeklyTime; text: string }
  | { kind: 'dates'; env: string; zone: string; from: LocalDateTime; to: LocalDateTime; text: string };

export type FreezeParseResult = { ok: true; value: FreezeWindow[] } | { ok: false; problems: string[] };

/** A freeze in force: the window and the start and end of its current occurrence (epoch ms). */
export interface ActiveFreeze {
  window: FreezeWindow;
  startsAt: number;
  endsAt: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const WEEKDAYS = 'sunday monday tuesday wednesday thursday friday saturday'.split(' ');
const EXAMPLES =
  '"production: Fri 15:00 - Mon 08:00 Europe/Berlin" or "production: 2026-12-20 00:00 - 2027-01-04 08:00 Europe/Berlin"';

// ---- Reading FREEZE_WINDOWS ----

// `<env>: <day> <HH:MM> - <day> <HH:MM> [zone]`; the day words are checked afterwards, so that a typo in
// one gets its own problem. The zone is optional here only to say so when it is missing.
const ENTRY = /^([^\s:]+)\s*:\s*(\S+)\s+(\d{1,2}:\d{2})\s*-\s*(\S+)\s+(\d{1,2}:\d{2})(?:\s+(\S+))?$/;

type Day = { kind: 'weekly'; weekday: number } | { kind: 'dates'; year: number; month: number; day: number };

/** `Fri`, `friday` (any case) or `2026-12-20` (a real date). */
function parseDay(word: string): Day | undefined {
  const name = word.toLowerCase();
  const weekday = WEEKDAYS.findIndex((full) => name === full || name === full.slice(0, 3));
  if (weekday >= 0) return { kind: 'weekly', weekday };
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(word);
  if (!iso) return undefined;
  const [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  const check = new Date(Date.UTC(year, month - 1, day));
  const real =
    check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day;
  return real ? { kind: 'dates', year, month, day } : undefined;
}

/** `15:00`, `8:05`: a 24-hour clock. */
function parseClock(text: string): { hour: number; minute: number } | undefined {
  const [hour, minute] = text.split(':').map(Number) as [number, number];
  return hour < 24 && minute < 60 ? { hour, minute } : undefined;
}

/** Fixes the case of a known zone (`utc` → `UTC`) but keeps the name that was chosen. */
function canonicalZone(zone: string): string {
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
}

const minuteOfWeek = ({ weekday, hour, minute }: WeeklyTime): number => (weekday * 24 + hour) * 60 + minute;

/** Reads one entry; either a window or every problem found in it (without the entry prefix). */
function parseEntry(
  text: string,
  knownEnvs: readonly string[],
): { window: FreezeWindow; problems?: never } | { window?: never; problems: string[] } {
  const match = ENTRY.exec(text);
  if (!match) return { problems: [`write "<environment>: <from> - <to> <time zone>", e.g. ${EXAMPLES}`] };
  const [, envText = '', fromDayText = '', fromClockText = '', toDayText = '', toClockText = '', zoneText] =
    match;
  const problems: string[] = [];

  // Environment names are lower case (DEPLOY_ENVIRONMENTS), as /deploy reads them.
  const env = envText.toLowerCase();
  if (!knownEnvs.includes(env)) {
    problems.push(`unknown environment "${envText}" (known: ${knownEnvs.join(', ') || 'none'})`);
  }
  let zone: string | undefined;
  if (zoneText === undefined) problems.push('add an IANA time zone at the end, e.g. Europe/Berlin or UTC');
  else if (!isKnownZone(zoneText)) problems.push(`unknown time zone "${zoneText}"`);
  else zone = canonicalZone(zoneText);

  const fromDay = parseDay(fromDayText);
  const toDay = parseDay(toDayText);
  const fromClock = parseClock(fromClockText);
  const toClock = parseClock(toClockText);
  for (const [day, word] of [
    [fromDay, fromDayText],
    [toDay, toDayText],
  ] as const) {
    if (!day) problems.push(`"${word}" is neither a weekday (Mon, Monday…) nor a date like 2026-12-20`);
  }
  for (const [clock, word] of [
    [fromClock, fromClockText],
    [toClock, toClockText],
  ] as const) {
    if (!clock) problems.push(`"${word}" is not a 24-hour time between 00:00 and 23:59`);
  }
  if (fromDay && toDay && fromDay.kind !== toDay.kind) {
    problems.push('give both ends as weekdays or both as dates');
  }
  if (!fromDay || !toDay || !fromClock || !toClock || fromDay.kind !== toDay.kind) return { problems };

  if (fromDay.kind === 'weekly' && toDay.kind === 'weekly') {
    const from = { weekday: fromDay.weekday, ...fromClock };
    const to = { weekday: toDay.weekday, ...toClock };
    // Equal ends could mean "never" or "all week"; neither is worth guessing.
    if (minuteOfWeek(from) === minuteOfWeek(to)) problems.push('the window starts and ends at the same time');
    if (problems.length > 0 || !zone) return { problems };
    return { window: { kind: 'weekly', env, zone, from, to, text } };
  }
  if (fromDay.kind === 'dates' && toDay.kind === 'dates') {
    const from = { year: fromDay.year, month: fromDay.month, day: fromDay.day, ...fromClock };
    const to = { year: toDay.year, month: toDay.month, day: toDay.day, ...toClock };
    // Compared as instants, the way findActiveFreeze will place them, so an empty window is refused too.
    const comparable = zone ?? 'UTC';
    if (instantAt(to, comparable, 'last') <= instantAt(from, comparable, 'first')) {
      problems.push('the end must be after the start');
    }
    if (problems.length > 0 || !zone) return { problems };
    return { window: { kind: 'dates', env, zone, from, to, text } };
  }
  return { problems };
}

/**
 * Parses FREEZE_WINDOWS: entries separated by `;`, each `<env>: <from> - <to> <IANA zone>`, where both
 * ends are weekday + time (`Fri 15:00 - Mon 08:00`, repeating every week, may wrap over the weekend) or
 * date + time (`2026-12-20 00:00 - 2027-01-04 08:00`). Empty text (or empty entries) means no freezes.
 * Every problem is reported at once, each naming its entry by number (1-based) and text.
 */
export function parseFreezeWindows(text: string, knownEnvs: readonly string[]): FreezeParseResult {
  const entries = text
    .split(';')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const windows: FreezeWindow[] = [];
  const problems: string[] = [];
  entries.forEach((entry, index) => {
    const parsed = parseEntry(entry, knownEnvs);
    if (parsed.window) windows.push(parsed.window);
    else problems.push(...parsed.problems.map((problem) => `entry ${index + 1} "${entry}": ${problem}`));
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: windows };
}

// ---- Wall clock ----

const offsetMs = (zone: string, instant: number): number => tzOffset(zone, new Date(instant)) * MINUTE;

/**
 * The instant at which the clock in `zone` reads `local`. When the clocks fall back the reading happens
 * twice: `first` picks the earlier instant (for a start), `last` the later one (for an end). In a
 * spring-forward gap it never happens; the moment the clocks jump is used (02:30 → 03:00 in Berlin).
 */
function instantAt(local: LocalDateTime, zone: string, repeated: 'first' | 'last'): number {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  // A day either side gives the offsets before and after any change near `wall`.
  const offsets = [offsetMs(zone, wall - DAY), offsetMs(zone, wall + DAY)];
  const readings = offsets
    .map((offset) => wall - offset)
    .filter((instant) => instant + offsetMs(zone, instant) === wall);
  if (readings.length > 0) return repeated === 'first' ? Math.min(...readings) : Math.max(...readings);
  // Gap: with the larger offset the clock still reads earlier than `wall`, with the smaller one later.
  let before = wall - Math.max(...offsets);
  let jump = wall - Math.min(...offsets);
  while (jump - before > 1) {
    const middle = Math.floor((before + jump) / 2);
    if (middle + offsetMs(zone, middle) >= wall) jump = middle;
    else before = middle;
  }
  return jump;
}

interface CalendarDate {
  year: number;
  month: number; // 1-12
  day: number;
}

/** The calendar date `days` later (or earlier); months and years roll over. */
function shiftDate({ year, month, day }: CalendarDate, days: number): CalendarDate {
  const shifted = new Date(Date.UTC(year, month - 1, day + days));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

const weekdayOf = ({ year, month, day }: CalendarDate): number =>
  new Date(Date.UTC(year, month - 1, day)).getUTCDay();

// ---- Which freeze is in force ----

/** Days from a weekly window's start to its end: 0 for `Tue 10:00 - Tue 12:00`, 7 for `Tue 12:00 - Tue 10:00`. */
function daysToEnd(from: WeeklyTime, to: WeeklyTime): number {
  const days = (to.weekday - from.weekday + 7) % 7;
  return days === 0 && minuteOfWeek(to) < minuteOfWeek(from) ? 7 : days;
}

/** The occurrence of a weekly window that started most recently, at or before `at`. */
function latestWeeklyOccurrence(
  window: Extract<FreezeWindow, { kind: 'weekly' }>,
  at: number,
): { startsAt: number; endsAt: number } | undefined {
  const now = new TZDate(at, window.zone);
  const today = { year: now.getFullYear(), month: now.getMonth() + 1, day: now.getDate() };
  // Back 7 days, not 6: on the start weekday before the start time, the occurrence began a week ago.
  for (let daysBack = 0; daysBack <= 7; daysBack++) {
    const startDate = shiftDate(today, -daysBack);
    if (weekdayOf(startDate) !== window.from.weekday) continue;
    const startsAt = instantAt({ ...startDate, ...clockOf(window.from) }, window.zone, 'first');
    if (startsAt > at) continue;
    const endDate = shiftDate(startDate, daysToEnd(window.from, window.to));
    const endsAt = instantAt({ ...endDate, ...clockOf(window.to) }, window.zone, 'last');
    return { startsAt, endsAt };
  }
  return undefined;
}

const clockOf = ({ hour, minute }: WeeklyTime) => ({ hour, minute });

function occurrenceAt(window: FreezeWindow, at: number): { startsAt: number; endsAt: number } | undefined {
  if (window.kind === 'weekly') return latestWeeklyOccurrence(window, at);
  return {
    startsAt: instantAt(window.from, window.zone, 'first'),
    endsAt: instantAt(window.to, window.zone, 'last'),
  };
}

/**
 * The freeze window of `env` that contains `at` (start inclusive, end exclusive), with the start and
 * end of the occurrence that contains it, or undefined when `env` may be deployed. When windows overlap
 * the one that ends last is returned, so "frozen until" is not cut short.
 */
export function findActiveFreeze(
  windows: readonly FreezeWindow[],
  env: string,
  at: number,
): ActiveFreeze | undefined {
  let active: ActiveFreeze | undefined;
  for (const window of windows) {
    if (window.env !== env) continue;
    const occurrence = occurrenceAt(window, at);
    if (!occurrence || at < occurrence.startsAt || at >= occurrence.endsAt) continue;
    if (!active || occurrence.endsAt > active.endsAt) active = { window, ...occurrence };
  }
  return active;
}

// ---- Deploying inside a freeze ----

/** A release's freeze override as the rule needs it: until when the override holds. */
export interface FreezeOverrideCover {
  endsAt: number;
}

/** Whether an override covers a freeze: it was given for a freeze that lasts at least as long. */
export function overrideCoversFreeze(
  override: FreezeOverrideCover | undefined,
  freeze: ActiveFreeze,
): boolean {
  return override !== undefined && Number.isFinite(override.endsAt) && override.endsAt >= freeze.endsAt;
}

/**
 * The freeze that forbids deploying to `env` at `now`, or undefined when deploying may go ahead: no
 * freeze is in force, or the release's override (given for this freeze, or one lasting longer)
 * covers it. The one rule for deployment-phase ticks and for the pipeline's gate.
 */
export function freezeBlockingDeployment(
  windows: readonly FreezeWindow[],
  env: string,
  now: number,
  override?: FreezeOverrideCover,
): ActiveFreeze | undefined {
  const freeze = findActiveFreeze(windows, env, now);
  return freeze && !overrideCoversFreeze(override, freeze) ? freeze : undefined;
}

/**
 * The freeze that refuses ticking `itemId` of a release now: only ticks of its deployment phase's
 * items are refused (unticks never are), and only while a freeze its override does not cover is on.
 */
export function freezeBlockingTick(
  windows: readonly FreezeWindow[],
  release: { env: string; template: Template; freezeOverride?: FreezeOverrideCover },
  itemId: string,
  done: boolean,
  now: number,
): ActiveFreeze | undefined {
  if (!done) return undefined;
  const deployment = deploymentPhaseIndex(release.template);
  if (deployment === undefined || findItem(release.template, itemId)?.phaseIndex !== deployment)
    return undefined;
  return freezeBlockingDeployment(windows, release.env, now, release.freezeOverride);
}
