import { type NumberedRelease, numberAttempts } from '../domain/attempts.js';
import { fail, ok, type Result, releaseClosed, type UserError } from '../domain/errors.js';
import type { Release } from '../domain/release.js';
import type { ReleaseStore } from '../store/release-store.js';

// Finding a release the way people and pipelines name it: by version, and environment when given.

export function releaseNotFound(version: string, env: string | undefined): UserError {
  return { code: 'release_not_found', version, ...(env ? { env } : {}) };
}

/**
 * The one active release of a version (in an environment, when given). A version that exists only as
 * finished releases is refused as closed, one active in several environments as ambiguous.
 */
export async function findActiveRelease(
  store: Pick<ReleaseStore, 'findByVersion'>,
  teamId: string,
  version: string,
  env: string | undefined,
): Promise<Result<Release>> {
  const releases = (await store.findByVersion(teamId, version)).filter(
    (release) => !env || release.env === env,
  );
  const active = releases.filter((release) => release.status === 'active');
  if (active.length === 1) return ok(active[0]!);
  if (active.length > 1)
    return fail({ code: 'release_ambiguous', version, envs: active.map((release) => release.env) });
  const latest = releases[0];
  if (latest && latest.status !== 'active') return fail(releaseClosed(latest));
  return fail(releaseNotFound(version, env));
}

/** The newest release of a version (in an environment, when given), active or not. */
export async function findLatestRelease(
  store: Pick<ReleaseStore, 'findByVersion'>,
  teamId: string,
  version: string,
  env: string | undefined,
): Promise<Release | undefined> {
  const releases = await store.findByVersion(teamId, version);
  return releases.find((release) => !env || release.env === env);
}

/** Releases read to number a version's attempts; far more than any version is retried. */
const MAX_ATTEMPTS_READ = 200;

/**
 * The release `/deploy audit` and `log` name: attempt `attempt` of the version in the environment, or
 * the newest when no number is given. Without an environment, that of the version's newest release.
 * A number that does not exist is refused with the attempts that do.
 */
export async function findAttempt(
  store: Pick<ReleaseStore, 'findByVersion'>,
  teamId: string,
  version: string,
  env: string | undefined,
  attempt: number | undefined,
): Promise<Result<NumberedRelease>> {
  const numbered = numberAttempts(await store.findByVersion(teamId, version, MAX_ATTEMPTS_READ));
  const newest = numbered.filter((release) => !env || release.env === env).at(-1);
  if (!newest) return fail(releaseNotFound(version, env));
  if (attempt === undefined) return ok(newest);
  const attempts = numbered.filter((release) => release.env === newest.env);
  const found = attempts.find((release) => release.attempt === attempt);
  if (found) return ok(found);
  return fail({
    code: 'attempt_not_found',
    version,
    env: newest.env,
    attempt,
    attempts: attempts.map((release) => ({ attempt: release.attempt, status: release.status })),
  });
}

/**
 * Gives releases started before attempt numbers were recorded their number, read from their
 * version's releases; the others, and the order, stay as they are.
 */
export async function withAttemptNumbers(
  store: Pick<ReleaseStore, 'findByVersion'>,
  teamId: string,
  releases: readonly Release[],
): Promise<Release[]> {
  const unnumbered = new Set(
    releases.filter((release) => release.attempt === undefined).map((release) => release.version),
  );
  if (unnumbered.size === 0) return [...releases];
  const numbers = new Map<string, number>();
  await Promise.all(
    [...unnumbered].map(async (version) => {
      for (const release of numberAttempts(await store.findByVersion(teamId, version, MAX_ATTEMPTS_READ)))
        numbers.set(release.id, release.attempt);
    }),
  );
  return releases.map((release) => {
    const attempt = release.attempt ?? numbers.get(release.id);
    return attempt === undefined ? release : { ...release, attempt };
  });
}
