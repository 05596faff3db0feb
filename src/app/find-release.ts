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
