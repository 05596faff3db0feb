import { fail, ok, type Result } from '../domain/errors.js';
import { freezeBlockingDeployment } from '../domain/freeze.js';
import { decideGate, type GateAnswer, sameGateAnswer } from '../domain/gate.js';
import { type PipelineIdentity, tokenAllowsEnvironment } from '../domain/pipeline-tokens.js';
import type { Release } from '../domain/release.js';
import type { AppDeps } from './deps.js';
import { findLatestRelease } from './find-release.js';
import { findPipelineRelease } from './pipeline-tick.js';

// May the deploy start now? The gate a pipeline asks before deploying, and waits at: it answers at once,
// or, asked to wait, as soon as the answer changes (the release's revision or its environment's lock
// moved) or the wait is over. Waiting costs one small read per release per poll, shared by every
// pipeline waiting on that release in this process.

export interface GateRequest {
  identity: PipelineIdentity;
  version: string;
  env: string | undefined;
  /** How long to wait for a different answer (ms); 0 answers at once. */
  waitMs: number;
  /** Ends the wait early (the pipeline hung up, the server is stopping). */
  signal?: AbortSignal;
}

export interface GateOutcome {
  release: Release;
  answer: GateAnswer;
}

export const GATE_POLL_MS = 250;

export async function gateFor(deps: AppDeps, release: Release, now = Date.now()): Promise<GateAnswer> {
  const locks = release.status === 'active' ? await deps.store.locks.list(release.teamId) : [];
  return decideGate(release, {
    freeze: freezeBlockingDeployment(deps.config.freezeWindows, release.env, now, release.freezeOverride),
    lock: locks.find((lock) => lock.env === release.env),
  });
}

/**
 * The release a pipeline asks about: the active one, else the newest of the version (so that
 * "cancelled" is an answer, not "not found"), within the token's environments.
 */
export async function findReleaseForPipeline(
  deps: AppDeps,
  identity: PipelineIdentity,
  version: string,
  env: string | undefined,
): Promise<Result<Release>> {
  const active = await findPipelineRelease(deps, identity, version, env);
  if (active.ok || active.error.code !== 'release_closed') return active;
  const latest = await findLatestRelease(deps.store, identity.teamId, version, env);
  if (!latest) return active;
  if (!tokenAllowsEnvironment(identity, latest.env)) {
    return fail({ code: 'pipeline_out_of_scope', env: latest.env, token: identity.name });
  }
  return ok(latest);
}

export async function askGate(deps: AppDeps, request: GateRequest): Promise<Result<GateOutcome>> {
  const found = await findReleaseForPipeline(deps, request.identity, request.version, request.env);
  if (!found.ok) return found;
  let release = found.value;
  const first = await gateFor(deps, release);
  if (request.waitMs <= 0 || first.final) return ok({ release, answer: first });
  const deadline = Date.now() + request.waitMs;
  // A freeze begins or ends with the clock, not with a change in Redis, so every poll decides afresh.
  while (Date.now() < deadline && !request.signal?.aborted) {
    await sleep(Math.min(GATE_POLL_MS, deadline - Date.now()), request.signal);
    const polled = await pollRelease(deps, release);
    if (!polled) return fail({ code: 'release_not_found', version: release.version, env: release.env });
    release = polled;
    const answer = await gateFor(deps, release);
    if (!sameGateAnswer(answer, first)) return ok({ release, answer });
  }
  return ok({ release, answer: await gateFor(deps, release) });
}

// Pipelines waiting on the same release in this process share each poll's reads.
const polls = new Map<string, { at: number; reading: Promise<Release | undefined> }>();

/** The release as it is now: its revision is read, and the whole release only when that moved. */
function pollRelease(deps: AppDeps, seen: Release): Promise<Release | undefined> {
  const key = `${seen.teamId}:${seen.id}:${seen.rev}`;
  const now = Date.now();
  const recent = polls.get(key);
  if (recent && now - recent.at < GATE_POLL_MS / 2) return recent.reading;
  const reading = (async () => {
    const rev = await deps.store.readRev(seen.teamId, seen.id);
    if (rev === undefined) return undefined;
    return rev === seen.rev ? seen : deps.store.getRelease(seen.teamId, seen.id);
  })();
  polls.set(key, { at: now, reading });
  // Forgotten once stale, so the map holds only the releases being waited on now.
  setTimeout(() => {
    if (polls.get(key)?.reading === reading) polls.delete(key);
  }, GATE_POLL_MS).unref();
  return reading;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
