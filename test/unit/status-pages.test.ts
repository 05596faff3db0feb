import { describe, expect, it } from 'vitest';
import { parseDeployCommand } from '../../src/domain/commands.js';
import { computeDeliveryTrends, weeksOf } from '../../src/domain/delivery-trends.js';
import { parseFreezeWindows } from '../../src/domain/freeze.js';
import { buildStatusBoard, findNextFreeze } from '../../src/domain/status-board.js';
import { signStatusLink, verifyStatusLink } from '../../src/domain/status-link.js';
import { MINUTE, makeRelease, T0, tickPhases } from './factories.js';

// The pure parts of the status pages: the signed links, the board of environments, the trends.

const KEY = 'k'.repeat(48);
const DAY = 24 * 60 * MINUTE;

describe('status links', () => {
  it('open the workspace they name until they expire, and nothing after', () => {
    const token = signStatusLink(KEY, 'T0TEAM', T0 + DAY);
    expect(verifyStatusLink(KEY, token, T0)).toEqual({
      ok: true,
      grant: { teamId: 'T0TEAM', expiresAt: T0 + DAY },
    });
    expect(verifyStatusLink(KEY, token, T0 + DAY - 1).ok).toBe(true);
    expect(verifyStatusLink(KEY, token, T0 + DAY)).toEqual({ ok: false, problem: 'expired' });
  });

  it('are refused when any part is changed or they are signed with another key', () => {
    const token = signStatusLink(KEY, 'T0TEAM', T0 + DAY);
    const [team, expiry, mac] = token.split('.') as [string, string, string];
    expect(verifyStatusLink(KEY, `T0OTHER.${expiry}.${mac}`, T0).ok).toBe(false);
    expect(verifyStatusLink(KEY, `${team}.${Number(expiry) + 1}.${mac}`, T0).ok).toBe(false);
    expect(verifyStatusLink('x'.repeat(48), token, T0)).toEqual({ ok: false, problem: 'forged' });
    // The last character carries two unused bits: another character with the same six-bit prefix
    // decodes to the same MAC, and must still be refused.
    const last = mac.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(verifyStatusLink(KEY, `${team}.${expiry}.${mac.slice(0, -1)}${sibling}`, T0)).toEqual({
      ok: false,
      problem: 'forged',
    });
    for (const malformed of [
      '',
      'T0TEAM',
      `${token}.`,
      `t0team.${expiry}.${mac}`,
      `${team}.${expiry}.${mac}x`,
    ])
      expect(verifyStatusLink(KEY, malformed, T0)).toEqual({ ok: false, problem: 'malformed' });
  });
});

describe('the status board', () => {
  const deployed = (id: string, at: number, status: 'completed' | 'rolled_back' = 'completed') => ({
    ...tickPhases(makeRelease({ id, version: `v-${id}`, env: 'production' }), [0, 2, 3]),
    status,
    deployment: { at, by: 'U0DEPLOYER' },
  });

  it('shows the newest deploy that still stands, the releases in flight and only a live lock', () => {
    const board = buildStatusBoard({
      environments: ['production', 'staging'],
      active: [makeRelease({ id: 'r9', env: 'staging', window: { at: T0 + DAY, zone: 'UTC' } })],
      recent: [
        deployed('r3', T0 - 1000, 'rolled_back'),
        deployed('r2', T0 - 2000),
        deployed('r1', T0 - 3000),
      ],
      locks: [
        { env: 'production', releaseId: 'r3', version: 'v-r3', by: 'U0X', since: T0 - 5000 },
        { env: 'staging', releaseId: 'r9', version: 'v2.3.0', by: 'U0X', since: T0 },
      ],
      freezeWindows: [],
      now: T0,
    });
    const [production, staging] = board.environments;
    expect(production!.deployed).toMatchObject({ releaseId: 'r2', by: 'U0DEPLOYER' });
    expect(production!.lock).toBeUndefined();
    expect(staging!.deployed).toBeUndefined();
    expect(staging!.lock).toMatchObject({ releaseId: 'r9' });
    expect(staging!.inFlight[0]).toMatchObject({
      releaseId: 'r9',
      phase: { index: 0, name: 'Prepare' },
      nextDue: { at: T0, what: 'Prepare' },
    });
    expect(board.upcoming).toEqual([
      { releaseId: 'r9', version: 'v2.3.0', env: 'staging', at: T0 + DAY, zone: 'UTC' },
    ]);
  });

  it('finds the next freeze to the minute, past the one in force', () => {
    // T0 is Monday 2026-03-02 09:30 UTC.
    const parsed = parseFreezeWindows(
      'production: Fri 15:00 - Mon 08:00 UTC; production: Mon 09:00 - Mon 10:00 UTC',
      ['production'],
    );
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    const next = findNextFreeze(parsed.value, 'production', T0);
    expect(new Date(next!.startsAt).toISOString()).toBe('2026-03-06T15:00:00.000Z');
    expect(new Date(next!.endsAt).toISOString()).toBe('2026-03-09T08:00:00.000Z');
    expect(findNextFreeze(parsed.value, 'staging', T0)).toBeUndefined();
  });
});

describe('delivery trends', () => {
  it('counts deployments per week and sorts start-to-deployed times into bins', () => {
    const query = { from: T0 - 14 * DAY, to: T0 };
    expect(weeksOf(query)).toHaveLength(2);
    const release = (id: string, startedAt: number, deployedAt: number) => ({
      release: { ...makeRelease({ id, startedAt }), deployment: { at: deployedAt, by: 'U0X' } },
      events: [],
    });
    const trends = computeDeliveryTrends(
      [release('r1', T0 - 10 * DAY, T0 - 10 * DAY + 30 * MINUTE), release('r2', T0 - 5 * DAY, T0 - 2 * DAY)],
      query,
    );
    expect(trends.weeks.map((week) => week.deployments)).toEqual([1, 1]);
    expect(trends.leadTimeBins.map((bin) => bin.count)).toEqual([1, 0, 0, 1, 0, 0]);
  });
});

describe('/deploy status … link', () => {
  const vocabulary = { environments: ['production', 'staging'], templates: ['standard'] };
  it('asks for a link to the board, or to the newest release of a version', () => {
    expect(parseDeployCommand('status link', vocabulary)).toEqual({
      ok: true,
      value: { kind: 'status_link', version: undefined, env: undefined },
    });
    expect(parseDeployCommand('status v2.3 production LINK', vocabulary)).toEqual({
      ok: true,
      value: { kind: 'status_link', version: 'v2.3', env: 'production' },
    });
    // Without `link` it is the status reply as before.
    expect(parseDeployCommand('status v2.3', vocabulary)).toEqual({
      ok: true,
      value: { kind: 'status', version: 'v2.3', env: undefined },
    });
    expect(parseDeployCommand('status v2.3 moon link', vocabulary).ok).toBe(false);
  });
});
