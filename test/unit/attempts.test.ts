import { describe, expect, it } from 'vitest';
import { numberAttempts } from '../../src/domain/attempts.js';
import { MINUTE, makeRelease, T0 } from './factories.js';

// Releases of one version are numbered per environment by start time; numbers recorded at the start win.

const attemptsOf = (releases: ReturnType<typeof numberAttempts>) =>
  releases.map((release) => [release.id, release.env, release.attempt]);

describe('numberAttempts', () => {
  it('numbers releases started before numbers were recorded by start time, per environment', () => {
    const releases = [
      makeRelease({ id: 'r4', env: 'production', startedAt: T0 + 3 * MINUTE }),
      makeRelease({ id: 'r3', env: 'staging', startedAt: T0 + 2 * MINUTE }),
      makeRelease({ id: 'r2', env: 'production', startedAt: T0 + MINUTE }),
      makeRelease({ id: 'r1', env: 'production', startedAt: T0 }),
    ];

    expect(attemptsOf(numberAttempts(releases))).toEqual([
      ['r1', 'production', 1],
      ['r2', 'production', 2],
      ['r3', 'staging', 1],
      ['r4', 'production', 3],
    ]);
  });

  it('keeps recorded numbers, and counts on from them', () => {
    const releases = [
      // The first attempt was removed by retention; the second keeps its number.
      makeRelease({ id: 'r2', env: 'production', startedAt: T0, attempt: 2 }),
      makeRelease({ id: 'r3', env: 'production', startedAt: T0 + MINUTE }),
    ];

    expect(attemptsOf(numberAttempts(releases))).toEqual([
      ['r2', 'production', 2],
      ['r3', 'production', 3],
    ]);
  });

  it('orders releases started in the same millisecond by id, as Redis does', () => {
    const releases = [makeRelease({ id: 'r2', startedAt: T0 }), makeRelease({ id: 'r10', startedAt: T0 })];

    expect(numberAttempts(releases).map((release) => release.id)).toEqual(['r10', 'r2']);
  });
});
