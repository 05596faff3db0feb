import { randomInt } from 'node:crypto';

// A seeded random number generator, so a chaos run that fails can be run again with the same plan.

export interface Prng {
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [0, max). */
  int(max: number): number;
  chance(probability: number): boolean;
  pick<T>(list: readonly T[]): T;
  /** `count` different entries of `list`, in random order. */
  sample<T>(list: readonly T[], count: number): T[];
  /** An exponentially distributed wait with the given mean: the gaps between independent events. */
  exponential(meanMs: number): number;
}

/** mulberry32: 32 bits of state, fast, and the same sequence on every machine for a seed. */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  return {
    next,
    int,
    chance: (probability) => next() < probability,
    pick: (list) => {
      if (list.length === 0) throw new Error('pick from an empty list');
      return list[int(list.length)]!;
    },
    sample: (list, count) => {
      const pool = [...list];
      for (let index = pool.length - 1; index > 0; index--) {
        const other = int(index + 1);
        [pool[index], pool[other]] = [pool[other]!, pool[index]!];
      }
      return pool.slice(0, count);
    },
    exponential: (meanMs) => -Math.log(1 - next()) * meanMs,
  };
}

/** An independent stream for one part of a run (one item, one user), derived from the run's seed. */
export function deriveSeed(seed: number, stream: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
}

/** CHAOS_SEED from the environment when set (to replay a run), else a fresh one. */
export function chaosSeed(): number {
  const given = process.env.CHAOS_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new Error(`CHAOS_SEED must be an integer from 0 to ${0xffffffff}, got "${given}"`);
    return seed;
  }
  return randomInt(0, 0xffffffff);
}
