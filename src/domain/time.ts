// Reading the times people type (durations, due offsets, deploy windows, quiet hours) and placing
// instants in a time zone's wall clock. Pure: the current time is always passed in as `now`.

import { TZDate, tzOffset } from '@date-fns/tz';

/** An error in user-written time text, as data; the Slack edge words it. */
export type TimeError =
  | { code: 'time_unreadable'; text: string }
  | { code: 'time_in_past'; at: number }
  | { code: 'zone_unknown'; zone: string };

export type TimeResult<T> = { ok: true; value: T } | { ok: false; error: TimeError };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UNIT_MS: Record<string, number> = { s: 1000, m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY };
const MAX_DURATIONS = 20;

const ok = <T>(value: T): TimeResult<T> => ({ ok: true, value });
const unreadable = <T>(text: string): TimeResult<T> => ({
  ok: false,
  error: { code: 'time_unreadable', text },
});

/** `30s`, `15m`, `4h`, `2d`, `1w`, and combinations like `1d4h` or `1d 4h` → milliseconds (> 0). */
export function parseDuration(text: string): TimeResult<number> {
  const trimmed = text.trim().toLowerCase();
  if (!/^(?:\d+\s*[smhdw]\s*)+$/.test(trimmed)) return unreadable(text);
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)\s*([smhdw])/g)) {
    total += Number(amount) * UNIT_MS[unit!]!;
  }
  return total > 0 && Number.isSafeInteger(total) ? ok(total) : unreadable(text);
}

/** Comma-separated durations: `24h,48h` → [86400000, 172800000]; each > 0; at most 20; sorted ascending, duplicates removed. */
export function parseDurationList(text: string): TimeResult<number[]> {
  const values = new Set<number>();
  for (const member of text.split(',')) {
    const parsed = parseDuration(member);
    if (!parsed.ok) return unreadable(member.trim() || text);
    values.add(parsed.value);
  }
  if (values.size > MAX_DURATIONS) return unreadable(text);
  return ok([...values].sort((a, b) => a - b));
}

/** The offset of a template due like `T-7d`, `T-0`, `T`, `T+15m`, `T+24h` in ms (negative before the window). */
export function parseDueOffset(due: string): TimeResult<number> {
  // Seconds too, so that tests can run a whole schedule in seconds.
  const match = /^T(?:([+-])0|([+-])([1-9][0-9]*)([smhdw]))?$/.exec(due);
  if (!match) return unreadable(due);
  const [, , sign, amount, unit] = match;
  if (!sign) return ok(0);
  const offset = Number(amount) * UNIT_MS[unit!]!;
  if (!Number.isSafeInteger(offset)) return unreadable(due);
  return ok(sign === '-' ? -offset : offset);
}

/** The due moment of a phase: window.at + the due offset. Undefined (or unreadable) due → undefined. */
export function phaseDueAt(windowAt: number, due: string | undefined): number | undefined {
  if (due === undefined) return undefined;
  const offset = parseDueOffset(due);
  return offset.ok ? windowAt + offset.value : undefined;
}

/** Whether an IANA zone name is known (Intl), e.g. 'Europe/Berlin', 'UTC'. */
export function isKnownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Fixes the case of a known zone (`europe/berlin` → `Europe/Berlin`) but keeps the name the user chose. */
function canonicalZone(zone: string): string | undefined {
  if (!isKnownZone(zone)) return undefined;
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
}

// ---- Wall clock ----

interface LocalDate {
  year: number;
  month: number; // 0-based, as in Date
  day: number;
}

interface Clock {
  hour: number;
  minute: number;
}

const offsetMs = (zone: string, instant: number): number => tzOffset(zone, new Date(instant)) * MINUTE;

/** The local calendar date, weekday and minute of the day of an instant in a zone. */
function wallClock(at: number, zone: string) {
  const local = new TZDate(at, zone);
  const date: LocalDate = { year: local.getFullYear(), month: local.getMonth(), day: local.getDate() };
  return { date, weekday: local.getDay(), minuteOfDay: local.getHours() * 60 + local.getMinutes() };
}

/**
 * The instant at which the clock in `zone` reads `date` + `clock` (the day may overflow: day 32 is
 * next month). When the clocks fall back the reading happens twice: the first one after `after` wins
 * (or the later one if both are earlier). In a spring-forward gap the reading never happens: the
 * moment the clocks jump, the first valid instant after it, is used (02:30 → 03:00 in Berlin).
 */
function zonedInstant(date: LocalDate, clock: Clock, zone: string, after = -Infinity): number {
  const wall = Date.UTC(date.year, date.month, date.day, clock.hour, clock.minute);
  const offsets = [offsetMs(zone, wall - DAY), offsetMs(zone, wall + DAY)];
  const candidates = offsets
    .map((offset) => wall - offset)
    .filter((instant) => instant + offsetMs(zone, instant) === wall)
    .sort((a, b) => a - b);
  const found = candidates.find((instant) => instant > after) ?? candidates.at(-1);
  if (found !== undefined) return found;
  // Gap: before the jump the clock reads earlier than `wall`, after it later. Find the jump.
  let before = wall - Math.max(...offsets);
  let jump = wall - Math.min(...offsets);
  while (jump - before > 1) {
    const middle = Math.floor((before + jump) / 2);
    if (middle + offsetMs(zone, middle) >= wall) jump = middle;
    else before = middle;
  }
  return jump;
}

function isRealDate({ year, month, day }: LocalDate): boolean {
  const check = new Date(Date.UTC(year, month, day));
  return check.getUTCFullYear() === year && check.getUTCMonth() === month && check.getUTCDate() === day;
}

const addDays = ({ year, month, day }: LocalDate, days: number): LocalDate => {
  const shifted = new Date(Date.UTC(year, month, day + days));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth(), day: shifted.getUTCDate() };
};

// ---- Deploy windows ----

export interface Window {
  at: number;
  zone: string;
}

const MONTHS = 'january february march april may june july august september october november december'.split(
  ' ',
);
const WEEKDAYS = 'sunday monday tuesday wednesday thursday friday saturday'.split(' ');
/** `nov`, `sept`, `november` → its index; at least three letters. */
const nameIndex = (names: string[], word: string): number =>
  word.length >= 3 ? names.findIndex((name) => name.startsWith(word)) : -1;

/** `14:00`, `9:05`: a 24-hour clock. */
function parse24(text: string): Clock | undefined {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!match) return undefined;
  const clock = { hour: Number(match[1]), minute: Number(match[2]) };
  return clock.hour < 24 && clock.minute < 60 ? clock : undefined;
}

/** `14:00`, `2pm`, `2:30pm`, `12am` (midnight). */
function parseClock(text: string): Clock | undefined {
  const h12 = /^(\d{1,2})(?::(\d{2}))?(am|pm)$/.exec(text);
  if (!h12) return parse24(text);
  const hour = Number(h12[1]);
  const minute = Number(h12[2] ?? 0);
  if (hour < 1 || hour > 12 || minute >= 60) return undefined;
  return { hour: (hour % 12) + (h12[3] === 'pm' ? 12 : 0), minute };
}

/** The date words before the time: none (today), `today`, `tomorrow`, a weekday, `2026-11-25`, `25 nov [2026]`. */
function parseDay(words: string[], today: LocalDate, weekday: number): LocalDate | undefined {
  const [first, second, third, ...rest] = words;
  if (first === undefined) return today;
  if (second === undefined) {
    if (first === 'today') return today;
    if (first === 'tomorrow') return addDays(today, 1);
    const target = nameIndex(WEEKDAYS, first);
    if (target >= 0) return addDays(today, ((target - weekday + 6) % 7) + 1);
    const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(first);
    if (!iso) return undefined;
    return realDate({ year: Number(iso[1]), month: Number(iso[2]) - 1, day: Number(iso[3]) });
  }
  const month = nameIndex(MONTHS, second);
  if (rest.length > 0 || !/^\d{1,2}$/.test(first) || month < 0) return undefined;
  if (third !== undefined && !/^\d{4}$/.test(third)) return undefined;
  return realDate({ year: third === undefined ? today.year : Number(third), month, day: Number(first) });
}

const realDate = (date: LocalDate): LocalDate | undefined => (isRealDate(date) ? date : undefined);

/** A trailing zone: anything with a slash (`Europe/Berlin`, `Mars/Base`) or a name Intl knows (`UTC`). */
const looksLikeZone = (word: string): boolean =>
  /^[a-z]/i.test(word) && (word.includes('/') || isKnownZone(word));

/**
 * Reads a deploy window as written after `/deploy start v2.3`, keyword included:
 * `at 2026-11-25 14:00 [zone]`, `at 2026-11-25T14:00`, `at today|tomorrow|monday 14:00`, `at 14:00`,
 * `at 25 nov [2026] 2:30pm`, `in 3d`, `in 1d 4h`. Wall-clock times are read in the explicit zone, else
 * `defaultZone`. A time already past is an error, never moved to the next day; a weekday is the next one
 * strictly after today; `25 nov` means this year's. See `zonedInstant` for DST gaps and overlaps.
 */
export function parseWindow(text: string, options: { now: number; defaultZone: string }): TimeResult<Window> {
  const words = text.trim().split(/\s+/);
  const keyword = words.shift()?.toLowerCase();
  const last = words.at(-1);
  const explicitZone =
    last !== undefined && words.length > 1 && looksLikeZone(last) ? words.pop() : undefined;
  const zoneName = explicitZone ?? options.defaultZone;
  const zone = canonicalZone(zoneName);
  if (!zone) return { ok: false, error: { code: 'zone_unknown', zone: zoneName } };

  const body = words
    .join(' ')
    .toLowerCase()
    .replace(/^(\d{4}-\d{2}-\d{2})t(?=\d)/, '$1 ')
    .replace(/(\d)\s+(am|pm)\b/g, '$1$2');

  let at: number;
  if (keyword === 'in') {
    const duration = parseDuration(body);
    if (!duration.ok) return unreadable(text);
    at = options.now + duration.value;
  } else if (keyword === 'at') {
    const dayWords = body.split(' ');
    const clock = parseClock(dayWords.pop() ?? '');
    const today = wallClock(options.now, zone);
    const date = parseDay(dayWords, today.date, today.weekday);
    if (!clock || !date) return unreadable(text);
    at = zonedInstant(date, clock, zone, options.now);
  } else {
    return unreadable(text);
  }
  if (at <= options.now) return { ok: false, error: { code: 'time_in_past', at } };
  return ok({ at, zone });
}

// ---- Quiet hours ----

/** 'HH:MM' local wall-clock, e.g. {start:'20:00', end:'08:00'}; may wrap midnight; start === end means none. */
export interface QuietHours {
  start: string;
  end: string;
}

const pad = (value: number): string => String(value).padStart(2, '0');
const formatClock = ({ hour, minute }: Clock): string => `${pad(hour)}:${pad(minute)}`;

/** Parses `20:00-08:00` into QuietHours (`8:00` is written back as `08:00`). */
export function parseQuietHours(text: string): TimeResult<QuietHours> {
  const [startText, endText, ...rest] = text.split('-').map((part) => part.trim());
  const start = parse24(startText ?? '');
  const end = parse24(endText ?? '');
  if (!start || !end || rest.length > 0) return unreadable(text);
  return ok({ start: formatClock(start), end: formatClock(end) });
}

function quietClocks(quiet: QuietHours): { start: Clock; end: Clock } {
  const start = parse24(quiet.start);
  const end = parse24(quiet.end);
  if (!start || !end) throw new RangeError(`Malformed quiet hours: ${quiet.start}-${quiet.end}`);
  return { start, end };
}

const minuteOf = ({ hour, minute }: Clock): number => hour * 60 + minute;

/** Whether a local minute of the day lies in [start, end), wrapping midnight when start > end. */
function inQuiet(minute: number, start: number, end: number): boolean {
  return start <= end ? minute >= start && minute < end : minute >= start || minute < end;
}

/** Whether `at` falls inside the quiet hours in `zone` (start inclusive, end exclusive). */
export function isQuietTime(at: number, zone: string, quiet: QuietHours): boolean {
  const { start, end } = quietClocks(quiet);
  return inQuiet(wallClock(at, zone).minuteOfDay, minuteOf(start), minuteOf(end));
}

/**
 * The first moment >= `at` outside the quiet hours in `zone`: `at` itself, or the end of the quiet
 * window on the local calendar (DST-safe). An end time inside a spring-forward gap becomes the moment
 * the clocks jump. Throws a RangeError on malformed quiet hours or an unknown zone.
 */
export function nextAllowedTime(at: number, zone: string, quiet: QuietHours): number {
  const { start, end } = quietClocks(quiet);
  const { date, minuteOfDay } = wallClock(at, zone);
  if (!inQuiet(minuteOfDay, minuteOf(start), minuteOf(end))) return at;
  const endsTomorrow = minuteOfDay >= minuteOf(end);
  return zonedInstant(endsTomorrow ? addDays(date, 1) : date, end, zone, at);
}
