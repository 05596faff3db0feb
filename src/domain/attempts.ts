import type { Release } from './release.js';

// Releases of the same version and environment are attempts, numbered 1, 2, … by start time, so that
// a cancelled attempt stays addressable after the version is started again.

export type NumberedRelease = Release & { attempt: number };

/**
 * The releases of one version, oldest first, each with its attempt number. A recorded number is kept;
 * a release started before numbers were recorded counts one past the attempt before it in its
 * environment, the rule create-release-8.lua applies when it records the next number.
 */
export function numberAttempts(releases: readonly Release[]): NumberedRelease[] {
  const lastByEnv = new Map<string, number>();
  return (
    [...releases]
      // Ties in the same millisecond go by id, as Redis orders equal scores (by member, bytewise).
      .sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((release) => {
        const attempt = release.attempt ?? (lastByEnv.get(release.env) ?? 0) + 1;
        lastByEnv.set(release.env, attempt);
        return { ...release, attempt };
      })
  );
}
