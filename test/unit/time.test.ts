import { describe, expect, it } from 'vitest';
import {
  isKnownZone,
  isQuietTime,
  nextAllowedTime,
  parseDueOffset,
  parseDuration,
  parseDurationList,
  parseQuietHours,
  parseWindow,
  phaseDueAt,
  type QuietHours,
  type TimeError,
} from '../../src/domain/time.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
/** Sunday 22 Nov 2026, 10:00Z: 11:00 in Berlin, 05:00 in New York. */
const NOW = Date.UTC(2026, 10, 22, 10, 0);

const window = (text: string, defaultZone = BERLIN, now = NOW) => parseWindow(text, { now, defaultZone });
const unreadable = (text: string): TimeError => ({ code: 'time_unreadable', text });

describe('parseDuration', () => {
  it.each([
    ['30s', 30 * SECOND],
    ['15m', 15 * MINUTE],
    ['4h', 4 * HOUR],
    ['2d', 2 * DAY],
    ['1w', 7 * DAY],
  ])('given %s, when parsed, then it is its unit in ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, value: ms });
  });

  it.each([
    ['1d4h', DAY + 4 * HOUR],
    ['1d 4h', DAY + 4 * HOUR],
    ['  2h  ', 2 * HOUR],
    ['1H30M', HOUR + 30 * MINUTE],
    ['1w2d3h4m5s', 9 * DAY + 3 * HOUR + 4 * MINUTE + 5 * SECOND],
    ['1h0m', HOUR],
  ])('given the combination %j, when parsed, then the parts add up', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, value: ms });
  });

  it.each(['0s', '0m0s', '-5m', '5', '5y', 'abc', '', '  ', '1.5h', 'h', '99999999999999999w'])(
    'given %j, when parsed, then it is unreadable',
    (text) => {
      expect(parseDuration(text)).toEqual({ ok: false, error: unreadable(text) });
    },
  );
});

describe('parseDurationList', () => {
  it('given two durations, when parsed, then both come back in ms', () => {
    expect(parseDurationList('24h,48h')).toEqual({ ok: true, value: [DAY, 2 * DAY] });
  });

  it('given spaces, disorder and duplicates, when parsed, then the list is sorted and unique', () => {
    expect(parseDurationList(' 48h , 24h, 1d ,15m')).toEqual({
      ok: true,
      value: [15 * MINUTE, DAY, 2 * DAY],
    });
  });

  it('given a bad member, when parsed, then the error names that member', () => {
    expect(parseDurationList('24h, 5y')).toEqual({ ok: false, error: unreadable('5y') });
  });

  it.each(['', '24h,,48h', '24h,'])(
    'given the empty member in %j, when parsed, then it is unreadable',
    (text) => {
      expect(parseDurationList(text)).toEqual({ ok: false, error: unreadable(text) });
    },
  );

  it('given 20 durations, when parsed, then all are kept; given 21, then it is refused', () => {
    const list = (count: number) => Array.from({ length: count }, (_, index) => `${index + 1}m`).join(',');

    expect(parseDurationList(list(20)).ok).toBe(true);
    expect(parseDurationList(list(21)).ok).toBe(false);
  });
});

describe('parseDueOffset and phaseDueAt', () => {
  it.each([
    ['T-7d', -7 * DAY],
    ['T-0', 0],
    ['T+0', 0],
    ['T', 0],
    ['T+15m', 15 * MINUTE],
    ['T+48h', 48 * HOUR],
    ['T+2w', 14 * DAY],
  ])('given %s, when parsed, then the offset is %d ms', (due, ms) => {
    expect(parseDueOffset(due)).toEqual({ ok: true, value: ms });
  });

  it('given seconds, as tests use to run a schedule quickly, then it reads them', () => {
    expect(parseDueOffset('T+5s')).toEqual({ ok: true, value: 5000 });
    expect(parseDueOffset('T-30s')).toEqual({ ok: true, value: -30_000 });
  });

  it.each(['', 'X', 't-7d', 'T-7', 'T-07d', 'T 7d', 'T-7d ', 'T+-7d', 'T-00'])(
    'given %j, when parsed, then it is unreadable',
    (due) => {
      expect(parseDueOffset(due)).toEqual({ ok: false, error: unreadable(due) });
    },
  );

  it('given a window and a due, when the due moment is asked, then it is the window plus the offset', () => {
    expect(phaseDueAt(NOW, 'T-1d')).toBe(NOW - DAY);
    expect(phaseDueAt(NOW, 'T')).toBe(NOW);
    expect(phaseDueAt(NOW, 'T+15m')).toBe(NOW + 15 * MINUTE);
  });

  it('given no due or an unreadable one, when the due moment is asked, then there is none', () => {
    expect(phaseDueAt(NOW, undefined)).toBeUndefined();
    expect(phaseDueAt(NOW, 'soon')).toBeUndefined();
  });
});

describe('isKnownZone', () => {
  it.each(['Europe/Berlin', 'America/New_York', 'UTC', 'europe/berlin'])(
    'given %s, then it is known',
    (zone) => {
      expect(isKnownZone(zone)).toBe(true);
    },
  );

  it.each(['Mars/Base', '', 'Europe/Atlantis'])('given %j, then it is unknown', (zone) => {
    expect(isKnownZone(zone)).toBe(false);
  });
});

describe('parseWindow: absolute dates', () => {
  it('given a date and time, when read, then it is wall-clock time in the default zone', () => {
    expect(window('at 2026-11-25 14:00')).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 25, 13), zone: BERLIN },
    });
    expect(window('at 2026-11-25 14:00', NEW_YORK)).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 25, 19), zone: NEW_YORK },
    });
    expect(window('at 2026-11-25 14:00', 'UTC')).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 25, 14), zone: 'UTC' },
    });
  });

  it('given an explicit zone, when read, then it overrides the default zone', () => {
    expect(window('at 2026-11-25 14:00 America/New_York')).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 25, 19), zone: NEW_YORK },
    });
    expect(window('at 2026-11-25 14:00 UTC', NEW_YORK)).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 25, 14), zone: 'UTC' },
    });
  });

  it('given an ISO date-time, odd case and a lower-case zone, when read, then it is understood', () => {
    expect(window('AT 2026-11-25T14:00 europe/berlin', 'UTC')).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 25, 13), zone: BERLIN },
    });
    expect(window('  at   2026-11-25T14:00  utc ')).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 25, 14), zone: 'UTC' },
    });
  });

  it('given a day and a month name, when read, then it is this year, with or without a year given', () => {
    expect(window('at 25 nov 14:00')).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 25, 13), zone: BERLIN },
    });
    expect(window('at 25 November 2027 2:30pm')).toEqual({
      ok: true,
      value: { at: Date.UTC(2027, 10, 25, 13, 30), zone: BERLIN },
    });
  });

  it('given a date already past, when read, then it is refused as past', () => {
    expect(window('at 2026-11-01 14:00')).toEqual({
      ok: false,
      error: { code: 'time_in_past', at: Date.UTC(2026, 10, 1, 13) },
    });
    expect(window('at 21 nov 14:00').ok).toBe(false);
  });
});

describe('parseWindow: relative days', () => {
  it('given tomorrow, when read, then it is the next local day in each zone', () => {
    expect(window('at tomorrow 14:00')).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 23, 13), zone: BERLIN },
    });
    expect(window('at Tomorrow 14:00', NEW_YORK)).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 23, 19), zone: NEW_YORK },
    });
    expect(window('at tomorrow 14:00', 'UTC')).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 23, 14), zone: 'UTC' },
    });
  });

  it('given tomorrow on the last day of a month or year, when read, then it is the 1st of the next', () => {
    expect(window('at tomorrow 14:00', BERLIN, Date.UTC(2026, 10, 30, 10))).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 11, 1, 13), zone: BERLIN },
    });
    expect(window('at tomorrow 09:00', NEW_YORK, Date.UTC(2026, 11, 31, 20))).toEqual({
      ok: true,
      value: { at: Date.UTC(2027, 0, 1, 14), zone: NEW_YORK },
    });
  });

  it('given a local date other than the UTC date, when read, then today and tomorrow are local', () => {
    const lateEvening = Date.UTC(2026, 10, 22, 23, 30); // 00:30 on the 23rd in Berlin, 18:30 on the 22nd in New York

    expect(window('at 14:00', BERLIN, lateEvening)).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 23, 13), zone: BERLIN },
    });
    expect(window('at tomorrow 09:00', NEW_YORK, lateEvening)).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 23, 14), zone: NEW_YORK },
    });
  });

  it('given today or a bare time still ahead, when read, then it is today', () => {
    expect(window('at today 16:30')).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 22, 15, 30), zone: BERLIN },
    });
    expect(window('at 14:00')).toEqual({ ok: true, value: { at: Date.UTC(2026, 10, 22, 13), zone: BERLIN } });
    expect(window('at 10:30', NEW_YORK)).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 22, 15, 30), zone: NEW_YORK },
    });
  });

  it('given a bare time already past today, when read, then it is refused rather than moved to tomorrow', () => {
    expect(window('at 10:30')).toEqual({
      ok: false,
      error: { code: 'time_in_past', at: Date.UTC(2026, 10, 22, 9, 30) },
    });
    expect(window('at today 09:00', 'UTC')).toEqual({
      ok: false,
      error: { code: 'time_in_past', at: Date.UTC(2026, 10, 22, 9) },
    });
  });

  it('given exactly now, when read, then it is refused as past', () => {
    expect(window('at 11:00')).toEqual({ ok: false, error: { code: 'time_in_past', at: NOW } });
  });

  it('given a weekday, when read, then it is the next one strictly after today', () => {
    expect(window('at monday 09:00')).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 23, 8), zone: BERLIN },
    });
    expect(window('at Sat 09:00', NEW_YORK)).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 28, 14), zone: NEW_YORK },
    });
    // Today is a Sunday, and a later hour today is still "next Sunday".
    expect(window('at sunday 18:00')).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 10, 29, 17), zone: BERLIN },
    });
  });

  it.each([
    ['at 2pm', Date.UTC(2026, 10, 22, 13)],
    ['at 2:30 PM', Date.UTC(2026, 10, 22, 13, 30)],
    ['at 12pm', Date.UTC(2026, 10, 22, 11)],
    ['at tomorrow 12am', Date.UTC(2026, 10, 22, 23)],
    ['at tomorrow 9:05', Date.UTC(2026, 10, 23, 8, 5)],
  ])('given the 12/24-hour time %j, when read, then it is that Berlin time', (text, at) => {
    expect(window(text)).toEqual({ ok: true, value: { at, zone: BERLIN } });
  });
});

describe('parseWindow: relative durations', () => {
  it.each([
    ['in 3d', 3 * DAY],
    ['in 2h', 2 * HOUR],
    ['in 90m', 90 * MINUTE],
    ['in 1d 4h', DAY + 4 * HOUR],
    ['IN 1D4H', DAY + 4 * HOUR],
  ])('given %j, when read, then it is that long after now in the default zone', (text, ms) => {
    expect(window(text)).toEqual({ ok: true, value: { at: NOW + ms, zone: BERLIN } });
  });

  it('given a duration and a zone, when read, then the zone is only for display', () => {
    expect(window('in 1d 4h America/New_York')).toEqual({
      ok: true,
      value: { at: NOW + DAY + 4 * HOUR, zone: NEW_YORK },
    });
  });
});

describe('parseWindow: daylight saving time', () => {
  const march = Date.UTC(2026, 2, 1);

  it('given a time either side of the European change, when read, then the offset follows the date', () => {
    expect(window('at 2026-03-28 14:00 Europe/Berlin', 'UTC', march)).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 2, 28, 13), zone: BERLIN },
    });
    expect(window('at 2026-03-29 14:00 Europe/Berlin', 'UTC', march)).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 2, 29, 12), zone: BERLIN },
    });
  });

  it('given a time either side of the US change, when read, then the offset follows the date', () => {
    expect(window('at 2026-03-07 14:00', NEW_YORK, march)).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 2, 7, 19), zone: NEW_YORK },
    });
    expect(window('at 2026-03-08 14:00', NEW_YORK, march)).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 2, 8, 18), zone: NEW_YORK },
    });
  });

  it('given a local time the clocks skip, when read, then it is the moment they jump (03:00 local)', () => {
    expect(window('at 2026-03-29 02:30 Europe/Berlin', 'UTC', march)).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 2, 29, 1), zone: BERLIN },
    });
    expect(window('at 2026-03-08 02:30', NEW_YORK, march)).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 2, 8, 7), zone: NEW_YORK },
    });
  });

  it('given a local time that happens twice, when read, then it is the first occurrence still ahead', () => {
    // 02:30 on 25 Oct 2026 in Berlin: first in summer time (00:30Z), then again in winter time (01:30Z).
    expect(window('at 2026-10-25 02:30', BERLIN, Date.UTC(2026, 9, 1))).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 9, 25, 0, 30), zone: BERLIN },
    });
    expect(window('at 02:30', BERLIN, Date.UTC(2026, 9, 25, 1))).toEqual({
      ok: true,
      value: { at: Date.UTC(2026, 9, 25, 1, 30), zone: BERLIN },
    });
  });
});

describe('parseWindow: errors', () => {
  it.each([
    'at 2026-02-30 14:00',
    'at 2026-11-25 25:00',
    'at 2026-11-25 24:00',
    'at 2026-11-25 14:60',
    'at 31 nov 14:00',
    'at 13pm',
    'at 0am',
    'at 2026-11-25',
    'at tomorrow',
    'at next week',
    'at nov 25 14:00',
    'at',
    'in 5',
    'in 5y',
    'in 0m',
    'in soon',
    'tomorrow 14:00',
    'on monday 09:00',
    '',
  ])('given %j, when read, then it is unreadable', (text) => {
    expect(window(text)).toEqual({ ok: false, error: unreadable(text) });
  });

  it('given an unknown explicit zone, when read, then the zone is named in the error', () => {
    expect(window('at 2026-11-25 14:00 Mars/Base')).toEqual({
      ok: false,
      error: { code: 'zone_unknown', zone: 'Mars/Base' },
    });
  });

  it('given an unknown default zone and no explicit one, when read, then the default zone is named', () => {
    expect(window('in 2h', 'Mars/Base')).toEqual({
      ok: false,
      error: { code: 'zone_unknown', zone: 'Mars/Base' },
    });
  });
});

describe('parseQuietHours', () => {
  it.each([
    ['20:00-08:00', { start: '20:00', end: '08:00' }],
    ['22:30-06:15', { start: '22:30', end: '06:15' }],
    [' 8:00 - 20:00 ', { start: '08:00', end: '20:00' }],
    ['08:00-08:00', { start: '08:00', end: '08:00' }],
  ])('given %j, when parsed, then it is %j', (text, quiet) => {
    expect(parseQuietHours(text)).toEqual({ ok: true, value: quiet });
  });

  it.each([
    '',
    'abc',
    '20:00',
    '20:00-',
    '25:00-08:00',
    '20:00-08:60',
    '8pm-8am',
    '20:00-08:00-09:00',
    '2000-0800',
  ])('given %j, when parsed, then it is unreadable', (text) => {
    expect(parseQuietHours(text)).toEqual({ ok: false, error: unreadable(text) });
  });
});

const NIGHT: QuietHours = { start: '20:00', end: '08:00' };
const LUNCH: QuietHours = { start: '12:00', end: '13:00' };

describe('isQuietTime', () => {
  it.each([
    ['19:59', Date.UTC(2026, 10, 22, 18, 59), false],
    ['20:00', Date.UTC(2026, 10, 22, 19, 0), true],
    ['00:00', Date.UTC(2026, 10, 22, 23, 0), true],
    ['07:59', Date.UTC(2026, 10, 23, 6, 59), true],
    ['08:00', Date.UTC(2026, 10, 23, 7, 0), false],
    ['12:00', Date.UTC(2026, 10, 23, 11, 0), false],
  ])('given %s in Berlin and quiet hours 20:00-08:00, then quiet is %s', (_local, at, quiet) => {
    expect(isQuietTime(at, BERLIN, NIGHT)).toBe(quiet);
  });

  it.each([
    ['19:59', Date.UTC(2026, 10, 23, 0, 59), false],
    ['20:00', Date.UTC(2026, 10, 23, 1, 0), true],
    ['07:59', Date.UTC(2026, 10, 23, 12, 59), true],
    ['08:00', Date.UTC(2026, 10, 23, 13, 0), false],
  ])('given %s in New York and quiet hours 20:00-08:00, then quiet is %s', (_local, at, quiet) => {
    expect(isQuietTime(at, NEW_YORK, NIGHT)).toBe(quiet);
  });

  it('given quiet hours that do not wrap midnight, then only the hours between are quiet', () => {
    expect(isQuietTime(Date.UTC(2026, 10, 22, 10, 59), BERLIN, LUNCH)).toBe(false);
    expect(isQuietTime(Date.UTC(2026, 10, 22, 11, 0), BERLIN, LUNCH)).toBe(true);
    expect(isQuietTime(Date.UTC(2026, 10, 22, 11, 59), BERLIN, LUNCH)).toBe(true);
    expect(isQuietTime(Date.UTC(2026, 10, 22, 12, 0), BERLIN, LUNCH)).toBe(false);
  });

  it('given equal start and end, then no time is quiet', () => {
    for (let at = NOW; at < NOW + DAY; at += 30 * MINUTE) {
      expect(isQuietTime(at, BERLIN, { start: '08:00', end: '08:00' })).toBe(false);
    }
  });

  it('given malformed quiet hours, then it throws', () => {
    expect(() => isQuietTime(NOW, BERLIN, { start: '8pm', end: '08:00' })).toThrow(RangeError);
  });
});

describe('nextAllowedTime', () => {
  it('given 23:00 in Berlin, then it is 08:00 Berlin the next morning', () => {
    expect(nextAllowedTime(Date.UTC(2026, 10, 22, 22), BERLIN, NIGHT)).toBe(Date.UTC(2026, 10, 23, 7));
  });

  it('given 23:00 Berlin the night the clocks go forward, then it is 08:00 summer time (06:00Z)', () => {
    expect(nextAllowedTime(Date.UTC(2026, 2, 28, 22), BERLIN, NIGHT)).toBe(Date.UTC(2026, 2, 29, 6));
  });

  it('given 23:00 Berlin the night the clocks go back, then it is 08:00 winter time (07:00Z)', () => {
    expect(nextAllowedTime(Date.UTC(2026, 9, 24, 21), BERLIN, NIGHT)).toBe(Date.UTC(2026, 9, 25, 7));
  });

  it('given 23:00 New York the night the clocks go forward, then it is 08:00 EDT (12:00Z)', () => {
    expect(nextAllowedTime(Date.UTC(2026, 2, 8, 4), NEW_YORK, NIGHT)).toBe(Date.UTC(2026, 2, 8, 12));
  });

  it('given 00:30 or 07:59 in Berlin, then it is 08:00 the same day', () => {
    expect(nextAllowedTime(Date.UTC(2026, 10, 22, 23, 30), BERLIN, NIGHT)).toBe(Date.UTC(2026, 10, 23, 7));
    expect(nextAllowedTime(Date.UTC(2026, 10, 23, 6, 59), BERLIN, NIGHT)).toBe(Date.UTC(2026, 10, 23, 7));
  });

  it('given a time outside the quiet hours, then it is unchanged', () => {
    const noon = Date.UTC(2026, 10, 23, 11);

    expect(nextAllowedTime(noon, BERLIN, NIGHT)).toBe(noon);
    expect(nextAllowedTime(noon + 123, BERLIN, { start: '08:00', end: '08:00' })).toBe(noon + 123);
  });

  it('given quiet hours that do not wrap midnight, then it is their end the same day', () => {
    expect(nextAllowedTime(Date.UTC(2026, 10, 22, 11, 30), BERLIN, LUNCH)).toBe(Date.UTC(2026, 10, 22, 12));
  });

  it('given quiet hours ending in the skipped hour, then it is the moment the clocks jump', () => {
    // 00:30 CET on 29 Mar 2026; 02:30 never happens that night, the clocks jump from 02:00 to 03:00 (01:00Z).
    expect(nextAllowedTime(Date.UTC(2026, 2, 28, 23, 30), BERLIN, { start: '22:00', end: '02:30' })).toBe(
      Date.UTC(2026, 2, 29, 1),
    );
  });

  it('given any moment around both changes, then the answer is not earlier and not quiet', () => {
    for (const zone of [BERLIN, NEW_YORK]) {
      for (const start of [
        Date.UTC(2026, 2, 5),
        Date.UTC(2026, 2, 26),
        Date.UTC(2026, 9, 22),
        Date.UTC(2026, 9, 29),
      ]) {
        for (let at = start; at < start + 5 * DAY; at += 17 * MINUTE) {
          const next = nextAllowedTime(at, zone, NIGHT);
          expect(next).toBeGreaterThanOrEqual(at);
          expect(next - at).toBeLessThanOrEqual(13 * HOUR);
          expect(isQuietTime(next, zone, NIGHT)).toBe(false);
          if (next !== at) expect(isQuietTime(next - MINUTE, zone, NIGHT)).toBe(true);
        }
      }
    }
  });
});
