import { describe, expect, it } from 'vitest';
import {
  type FreezeWindow,
  findActiveFreeze,
  freezeBlockingDeployment,
  freezeBlockingTick,
  parseFreezeWindows,
} from '../../src/domain/freeze.js';
import type { Template } from '../../src/domain/template.js';

const ENVS = ['production', 'staging', 'development'];
const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';

/** `2026-10-26T07:00` read as UTC, in epoch ms. */
const utc = (iso: string): number => Date.parse(`${iso}Z`);

/** Parses text that must be valid. */
function windows(text: string): FreezeWindow[] {
  const parsed = parseFreezeWindows(text, ENVS);
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  return parsed.value;
}

/** Whether production is frozen at `iso` (UTC), and the occurrence's bounds when it is. */
const productionAt = (text: string, iso: string) => findActiveFreeze(windows(text), 'production', utc(iso));

describe('parseFreezeWindows', () => {
  it('given a weekly entry, when parsed, then weekdays and times are read in its zone', () => {
    expect(parseFreezeWindows('production: Fri 15:00 - Mon 08:00 Europe/Berlin', ENVS)).toEqual({
      ok: true,
      value: [
        {
          kind: 'weekly',
          env: 'production',
          zone: BERLIN,
          from: { weekday: 5, hour: 15, minute: 0 },
          to: { weekday: 1, hour: 8, minute: 0 },
          text: 'production: Fri 15:00 - Mon 08:00 Europe/Berlin',
        },
      ],
    });
  });

  it('given a date range, when parsed, then the dates are kept as written (month 1-12)', () => {
    expect(windows('production: 2026-12-20 00:00 - 2027-01-04 08:00 Europe/Berlin')).toEqual([
      {
        kind: 'dates',
        env: 'production',
        zone: BERLIN,
        from: { year: 2026, month: 12, day: 20, hour: 0, minute: 0 },
        to: { year: 2027, month: 1, day: 4, hour: 8, minute: 0 },
        text: 'production: 2026-12-20 00:00 - 2027-01-04 08:00 Europe/Berlin',
      },
    ]);
  });

  it('given several entries with loose spacing, when parsed, then each is read and keeps its trimmed text', () => {
    const parsed = windows(
      '  production : Fri 15:00-Mon 08:00   Europe/Berlin ;staging:Sat 00:00 - Sun 23:59 UTC;  ' +
        'production: 2026-12-20 00:00 -2027-01-04 08:00 America/New_York ;',
    );

    expect(parsed.map(({ kind, env, zone }) => ({ kind, env, zone }))).toEqual([
      { kind: 'weekly', env: 'production', zone: BERLIN },
      { kind: 'weekly', env: 'staging', zone: 'UTC' },
      { kind: 'dates', env: 'production', zone: NEW_YORK },
    ]);
    expect(parsed.map((window) => window.text)).toEqual([
      'production : Fri 15:00-Mon 08:00   Europe/Berlin',
      'staging:Sat 00:00 - Sun 23:59 UTC',
      'production: 2026-12-20 00:00 -2027-01-04 08:00 America/New_York',
    ]);
    expect(parsed[1]).toMatchObject({
      from: { weekday: 6, hour: 0, minute: 0 },
      to: { weekday: 0, hour: 23, minute: 59 },
    });
  });

  it.each([
    ['Monday', 1],
    ['tuesday', 2],
    ['WEDNESDAY', 3],
    ['Thursday', 4],
    ['friday', 5],
    ['Saturday', 6],
    ['SUNDAY', 0],
    ['mon', 1],
    ['THU', 4],
    ['sun', 0],
  ])('given the weekday %j, when parsed, then it is day %d of the week', (name, weekday) => {
    expect(windows(`staging: ${name} 9:05 - ${name} 17:30 UTC`)[0]).toMatchObject({
      from: { weekday, hour: 9, minute: 5 },
      to: { weekday, hour: 17, minute: 30 },
    });
  });

  it('given a zone or environment in another case, when parsed, then the known spelling is kept', () => {
    expect(windows('Production: Fri 15:00 - Mon 08:00 europe/berlin')[0]).toMatchObject({
      env: 'production',
      zone: BERLIN,
    });
  });

  it.each(['', '   ', ';', ' ; ; '])(
    'given the empty text %j, when parsed, then there are no windows',
    (text) => {
      expect(parseFreezeWindows(text, ENVS)).toEqual({ ok: true, value: [] });
    },
  );

  it('given an unknown environment, when parsed, then the problem names it and lists the known ones', () => {
    expect(parseFreezeWindows('prod: Fri 15:00 - Mon 08:00 UTC', ENVS)).toEqual({
      ok: false,
      problems: [
        'entry 1 "prod: Fri 15:00 - Mon 08:00 UTC": unknown environment "prod" (known: production, staging, development)',
      ],
    });
  });

  it('given every kind of mistake at once, when parsed, then each is reported with its entry number and text', () => {
    const entries = [
      'production: Fri 15:00 - Mon 08:00 UTC', // fine, and not reported
      'prod: Fri 15:00 - Mon 08:00 UTC',
      'staging: Fri 15:00 - Mon 08:00 Mars/Base',
      'staging: Fri 15:00 - Mon 08:00',
      'staging: Fry 15:00 - Mon 08:00 UTC',
      'staging: Fri 25:00 - Mon 08:60 UTC',
      'staging: Fri 15:00 - 2026-12-20 08:00 UTC',
      'staging: Tue 10:00 - Tue 10:00 UTC',
      'production: 2027-01-04 08:00 - 2026-12-20 00:00 UTC',
      'production: 2026-02-30 00:00 - 2026-03-02 00:00 UTC',
      'production Fri 15:00 - Mon 08:00 UTC',
      'qa: Fri 15:00 - Mon 08:00 Moon/Crater',
    ];
    const parsed = parseFreezeWindows(entries.join('; '), ENVS);
    if (parsed.ok) throw new Error('expected problems');

    const expected: [number, RegExp][] = [
      [2, /unknown environment "prod" \(known: production, staging, development\)/],
      [3, /unknown time zone "Mars\/Base"/],
      [4, /add an IANA time zone/],
      [5, /"Fry" is neither a weekday/],
      [6, /"25:00" is not a 24-hour time/],
      [6, /"08:60" is not a 24-hour time/],
      [7, /both ends as weekdays or both as dates/],
      [8, /starts and ends at the same time/],
      [9, /end must be after the start/],
      [10, /"2026-02-30" is neither a weekday .* nor a date/],
      [11, /write "<environment>: <from> - <to> <time zone>"/],
      [12, /unknown environment "qa"/],
      [12, /unknown time zone "Moon\/Crater"/],
    ];
    expect(parsed.problems).toHaveLength(expected.length);
    expected.forEach(([entry, message], index) => {
      const problem = parsed.problems[index]!;
      expect(problem.startsWith(`entry ${entry} "${entries[entry - 1]}": `)).toBe(true);
      expect(problem).toMatch(message);
    });
  });

  it('given a date range that is empty, when parsed, then it is refused like a backward one', () => {
    const parsed = parseFreezeWindows('production: 2026-12-20 08:00 - 2026-12-20 08:00 UTC', ENVS);

    expect(parsed.ok).toBe(false);
  });

  it('given a weekly window with the same weekday and different times, when parsed, then it is fine', () => {
    expect(parseFreezeWindows('staging: Tue 10:00 - Tue 12:00 UTC', ENVS).ok).toBe(true);
    expect(parseFreezeWindows('staging: Tue 12:00 - Tue 10:00 UTC', ENVS).ok).toBe(true);
  });
});

describe('findActiveFreeze: weekly windows', () => {
  // 20 Nov 2026 is a Friday; Berlin is on winter time (UTC+1) all that weekend.
  const weekend = 'production: Fri 15:00 - Mon 08:00 Europe/Berlin';
  const occurrence = { startsAt: utc('2026-11-20T14:00'), endsAt: utc('2026-11-23T07:00') };

  it.each([
    ['the Friday start itself', '2026-11-20T14:00'],
    ['Friday evening', '2026-11-20T20:00'],
    ['Saturday', '2026-11-21T12:00'],
    ['Sunday just before midnight', '2026-11-22T22:59'],
    ['Monday one minute before the end', '2026-11-23T06:59'],
  ])('given %s, when checked, then production is frozen over the weekend until Monday 08:00', (_, iso) => {
    expect(productionAt(weekend, iso)).toEqual({ window: windows(weekend)[0], ...occurrence });
  });

  it.each([
    ['Friday one minute before the start', '2026-11-20T13:59'],
    ['the Monday end itself', '2026-11-23T07:00'],
    ['Monday afternoon', '2026-11-23T13:00'],
    ['Wednesday', '2026-11-25T12:00'],
    ['Thursday night', '2026-11-19T23:30'],
  ])('given %s, when checked, then production is not frozen', (_, iso) => {
    expect(productionAt(weekend, iso)).toBeUndefined();
  });

  it('given a window on one day, when checked, then only those hours of that weekday are frozen', () => {
    const tuesday = 'production: Tue 10:00 - Tue 12:00 UTC';

    expect(productionAt(tuesday, '2026-11-24T10:00')).toMatchObject({
      startsAt: utc('2026-11-24T10:00'),
      endsAt: utc('2026-11-24T12:00'),
    });
    expect(productionAt(tuesday, '2026-11-24T11:59')).toBeDefined();
    expect(productionAt(tuesday, '2026-11-24T09:59')).toBeUndefined();
    expect(productionAt(tuesday, '2026-11-24T12:00')).toBeUndefined();
    expect(productionAt(tuesday, '2026-11-25T11:00')).toBeUndefined();
    expect(productionAt(tuesday, '2026-12-01T11:00')).toBeDefined();
  });

  it('given a window that ends on its start weekday a week later, when checked, then it spans six days and more', () => {
    const almostAllWeek = 'production: Tue 12:00 - Tue 10:00 UTC';

    // Tuesday morning is still in the occurrence that began the Tuesday before.
    expect(productionAt(almostAllWeek, '2026-11-24T09:00')).toMatchObject({
      startsAt: utc('2026-11-17T12:00'),
      endsAt: utc('2026-11-24T10:00'),
    });
    expect(productionAt(almostAllWeek, '2026-11-24T11:00')).toBeUndefined();
    expect(productionAt(almostAllWeek, '2026-11-24T12:00')).toMatchObject({
      startsAt: utc('2026-11-24T12:00'),
      endsAt: utc('2026-12-01T10:00'),
    });
  });

  it('given a window that ends on Sunday 23:59, when checked, then the last minute is not frozen', () => {
    const saturdayAndSunday = 'production: Sat 00:00 - Sun 23:59 UTC';

    expect(productionAt(saturdayAndSunday, '2026-11-21T00:00')).toBeDefined();
    expect(productionAt(saturdayAndSunday, '2026-11-22T23:58')).toBeDefined();
    expect(productionAt(saturdayAndSunday, '2026-11-22T23:59')).toBeUndefined();
    expect(productionAt(saturdayAndSunday, '2026-11-20T23:59')).toBeUndefined();
  });

  it('given a weekday in the window zone that differs from the UTC weekday, when checked, then the local one counts', () => {
    // Friday 15:00 in New York is 20:00Z; Monday 08:00 there is 13:00Z.
    const newYork = 'production: Fri 15:00 - Mon 08:00 America/New_York';

    expect(productionAt(newYork, '2026-11-20T19:59')).toBeUndefined();
    expect(productionAt(newYork, '2026-11-20T20:00')).toBeDefined();
    expect(productionAt(newYork, '2026-11-23T12:59')).toBeDefined();
    expect(productionAt(newYork, '2026-11-23T13:00')).toBeUndefined();
  });
});

describe('findActiveFreeze: daylight saving time', () => {
  const weekend = 'production: Fri 15:00 - Mon 08:00 Europe/Berlin';

  it('given the weekend the clocks go back (25 Oct 2026), when checked, then it still ends at 08:00 local', () => {
    // Friday 15:00 is in summer time (13:00Z); Monday 08:00 is in winter time (07:00Z), an hour later in UTC.
    const expected = { startsAt: utc('2026-10-23T13:00'), endsAt: utc('2026-10-26T07:00') };

    expect(productionAt(weekend, '2026-10-26T06:30')).toMatchObject(expected);
    expect(productionAt(weekend, '2026-10-26T06:59')).toMatchObject(expected);
    expect(productionAt(weekend, '2026-10-26T07:00')).toBeUndefined();
    // The weekend before, all in summer time, ends at 06:00Z.
    expect(productionAt(weekend, '2026-10-19T05:59')).toMatchObject({ endsAt: utc('2026-10-19T06:00') });
    expect(productionAt(weekend, '2026-10-19T06:30')).toBeUndefined();
  });

  it('given the weekend the clocks go forward (29 Mar 2026), when checked, then it still ends at 08:00 local', () => {
    // Friday 15:00 is in winter time (14:00Z); Monday 08:00 is in summer time (06:00Z), an hour earlier in UTC.
    const expected = { startsAt: utc('2026-03-27T14:00'), endsAt: utc('2026-03-30T06:00') };

    expect(productionAt(weekend, '2026-03-27T14:00')).toMatchObject(expected);
    expect(productionAt(weekend, '2026-03-30T05:59')).toMatchObject(expected);
    expect(productionAt(weekend, '2026-03-30T06:00')).toBeUndefined();
    expect(productionAt(weekend, '2026-03-30T06:30')).toBeUndefined();
  });

  it('given a start inside the spring-forward gap, when checked, then the freeze starts when the clocks jump', () => {
    // On 29 Mar 2026 Berlin jumps from 02:00 to 03:00 (01:00Z); 02:30 never happens that night.
    const night = 'production: Sun 02:30 - Sun 05:00 Europe/Berlin';

    expect(productionAt(night, '2026-03-29T00:59')).toBeUndefined();
    expect(productionAt(night, '2026-03-29T01:00')).toMatchObject({
      startsAt: utc('2026-03-29T01:00'),
      endsAt: utc('2026-03-29T03:00'),
    });
    // A week earlier 02:30 exists, in winter time.
    expect(productionAt(night, '2026-03-22T01:30')).toMatchObject({ startsAt: utc('2026-03-22T01:30') });
  });

  it('given times that happen twice when the clocks go back, when checked, then it runs from the first start to the last end', () => {
    // On 25 Oct 2026 Berlin reads 02:00-03:00 twice: 00:00Z-01:00Z (summer), then 01:00Z-02:00Z (winter).
    const repeated = 'production: Sun 02:15 - Sun 02:45 Europe/Berlin';
    const expected = { startsAt: utc('2026-10-25T00:15'), endsAt: utc('2026-10-25T01:45') };

    expect(productionAt(repeated, '2026-10-25T00:14')).toBeUndefined();
    expect(productionAt(repeated, '2026-10-25T00:15')).toMatchObject(expected);
    expect(productionAt(repeated, '2026-10-25T01:00')).toMatchObject(expected);
    expect(productionAt(repeated, '2026-10-25T01:44')).toMatchObject(expected);
    expect(productionAt(repeated, '2026-10-25T01:45')).toBeUndefined();
  });

  it('given New York around its changes, when checked, then the freeze ends at 09:00 local either way', () => {
    const weekendNewYork = 'production: Fri 17:00 - Mon 09:00 America/New_York';

    // Clocks go back on 1 Nov 2026: Friday is EDT (UTC-4), Monday EST (UTC-5).
    expect(productionAt(weekendNewYork, '2026-11-02T13:30')).toMatchObject({
      startsAt: utc('2026-10-30T21:00'),
      endsAt: utc('2026-11-02T14:00'),
    });
    expect(productionAt(weekendNewYork, '2026-11-02T14:00')).toBeUndefined();
    // Clocks go forward on 8 Mar 2026: Friday is EST (UTC-5), Monday EDT (UTC-4).
    expect(productionAt(weekendNewYork, '2026-03-09T12:59')).toMatchObject({
      startsAt: utc('2026-03-06T22:00'),
      endsAt: utc('2026-03-09T13:00'),
    });
    expect(productionAt(weekendNewYork, '2026-03-09T13:00')).toBeUndefined();
  });
});

describe('findActiveFreeze: date ranges', () => {
  const holidays = 'production: 2026-12-20 00:00 - 2027-01-04 08:00 Europe/Berlin';
  const bounds = { startsAt: utc('2026-12-19T23:00'), endsAt: utc('2027-01-04T07:00') };

  it('given a moment inside the range, when checked, then it is frozen until the local end', () => {
    expect(productionAt(holidays, '2026-12-19T23:00')).toEqual({ window: windows(holidays)[0], ...bounds });
    expect(productionAt(holidays, '2026-12-31T12:00')).toMatchObject(bounds);
    expect(productionAt(holidays, '2027-01-04T06:59')).toMatchObject(bounds);
  });

  it('given a moment just outside the range, when checked, then it is not frozen', () => {
    expect(productionAt(holidays, '2026-12-19T22:59')).toBeUndefined();
    expect(productionAt(holidays, '2027-01-04T07:00')).toBeUndefined();
    expect(productionAt(holidays, '2027-12-25T12:00')).toBeUndefined();
  });

  it('given a range across a daylight saving change, when checked, then each end uses its own offset', () => {
    const autumn = 'production: 2026-10-24 12:00 - 2026-10-26 08:00 Europe/Berlin';

    expect(productionAt(autumn, '2026-10-25T12:00')).toMatchObject({
      startsAt: utc('2026-10-24T10:00'),
      endsAt: utc('2026-10-26T07:00'),
    });
  });
});

describe('findActiveFreeze: several windows and environments', () => {
  const config =
    'production: Fri 15:00 - Mon 08:00 UTC; staging: Tue 10:00 - Tue 12:00 UTC; ' +
    'production: 2026-11-20 00:00 - 2026-11-24 00:00 UTC';

  it('given a freeze of production only, when staging or an unknown env is checked, then they are not frozen', () => {
    const saturday = utc('2026-11-21T12:00');

    expect(findActiveFreeze(windows(config), 'staging', saturday)).toBeUndefined();
    expect(findActiveFreeze(windows(config), 'development', saturday)).toBeUndefined();
    expect(findActiveFreeze(windows(config), 'qa', saturday)).toBeUndefined();
  });

  it("given staging's own window, when checked, then staging is frozen and production is not", () => {
    const tuesday = utc('2026-11-24T11:00');

    expect(findActiveFreeze(windows(config), 'staging', tuesday)?.window.env).toBe('staging');
    expect(findActiveFreeze(windows(config), 'production', tuesday)).toBeUndefined();
  });

  it('given two overlapping production windows, when checked, then the one that ends last is returned', () => {
    const active = findActiveFreeze(windows(config), 'production', utc('2026-11-21T12:00'));

    expect(active).toMatchObject({ window: { kind: 'dates' }, endsAt: utc('2026-11-24T00:00') });
    // After the weekly window has ended, only the dated one is left.
    expect(findActiveFreeze(windows(config), 'production', utc('2026-11-23T09:00'))).toMatchObject({
      window: { kind: 'dates' },
    });
  });

  it('given no windows, when checked, then nothing is frozen', () => {
    expect(findActiveFreeze([], 'production', utc('2026-11-21T12:00'))).toBeUndefined();
  });
});

describe('freezeBlockingDeployment and freezeBlockingTick', () => {
  const weekend = windows('production: Fri 15:00 - Mon 08:00 UTC');
  const friday = utc('2026-11-20T16:00');
  const mondayEnd = utc('2026-11-23T08:00');
  const template: Template = {
    id: 't',
    name: 'T',
    phases: [
      { id: 'prep', name: 'Prep', items: [{ id: 'tests', text: 'Tests', required: true }] },
      {
        id: 'deploy',
        name: 'Deploy',
        deployment: true,
        items: [{ id: 'shipped', text: 'Shipped', required: true }],
      },
    ],
  };
  const release = { env: 'production', template };

  it('given a freeze in force, then deploying is blocked until it ends, and only in its environment', () => {
    expect(freezeBlockingDeployment(weekend, 'production', friday)).toMatchObject({ endsAt: mondayEnd });
    expect(freezeBlockingDeployment(weekend, 'staging', friday)).toBeUndefined();
    expect(freezeBlockingDeployment(weekend, 'production', mondayEnd)).toBeUndefined();
  });

  it('given an override for this freeze (or a longer one), then it is not blocked; an older one does not count', () => {
    expect(freezeBlockingDeployment(weekend, 'production', friday, { endsAt: mondayEnd })).toBeUndefined();
    expect(
      freezeBlockingDeployment(weekend, 'production', friday, { endsAt: mondayEnd + 1 }),
    ).toBeUndefined();
    const lastWeekend = { endsAt: mondayEnd - 7 * 24 * 3600_000 };
    expect(freezeBlockingDeployment(weekend, 'production', friday, lastWeekend)).toMatchObject({
      endsAt: mondayEnd,
    });
    expect(freezeBlockingDeployment(weekend, 'production', friday, { endsAt: Number.NaN })).toBeDefined();
  });

  it('refuses only ticks of the deployment phase: never an untick, nor another phase', () => {
    expect(freezeBlockingTick(weekend, release, 'shipped', true, friday)).toMatchObject({
      endsAt: mondayEnd,
    });
    expect(freezeBlockingTick(weekend, release, 'shipped', false, friday)).toBeUndefined();
    expect(freezeBlockingTick(weekend, release, 'tests', true, friday)).toBeUndefined();
    expect(freezeBlockingTick(weekend, release, 'unknown', true, friday)).toBeUndefined();
    expect(
      freezeBlockingTick(
        weekend,
        { ...release, freezeOverride: { endsAt: mondayEnd } },
        'shipped',
        true,
        friday,
      ),
    ).toBeUndefined();
    const noDeployment = { env: 'production', template: { ...template, phases: [template.phases[0]!] } };
    expect(freezeBlockingTick(weekend, noDeployment, 'tests', true, friday)).toBeUndefined();
  });
});
