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
  const release = found.value;
  const first = await gateFor(deps, release);
  if (request.waitMs <= 0 || first.final) return ok({ release, answer: first });
  const outcome = await waitForChange(deps, release, first, request.waitMs, request.signal);
  return outcome
    ? ok(outcome)
    : fail({ code: 'release_not_found', version: release.version, env: release.env });
}

// One watch per release in this process, however many pipelines wait on it: each poll reads the
// release's revision (the whole release only when it moved) and decides the gate once, then answers
// every waiter whose answer changed. A freeze begins or ends with the clock, not with a change in
// Redis, so every poll decides afresh.

interface Waiter {
  first: GateAnswer;
  settle(outcome: GateOutcome | undefined): void;
}

interface Watch {
  deps: AppDeps;
  release: Release;
  latest: GateOutcome | undefined;
  waiters: Set<Waiter>;
}

const watches = new Map<string, Watch>();

function waitForChange(
  deps: AppDeps,
  release: Release,
  first: GateAnswer,
  waitMs: number,
  signal: AbortSignal | undefined,
): Promise<GateOutcome | undefined> {
  const key = `${release.teamId}:${release.id}`;
  let watch = watches.get(key);
  if (!watch) {
    watch = { deps, release, latest: undefined, waiters: new Set() };
    watches.set(key, watch);
    schedulePoll(key, watch);
  }
  const watching = watch;
  return new Promise((resolve) => {
    const timer = setTimeout(() => waiter.settle(watching.latest ?? { release, answer: first }), waitMs);
    const onAbort = () => waiter.settle(watching.latest ?? { release, answer: first });
    const waiter: Waiter = {
      first,
      settle(outcome) {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        watching.waiters.delete(waiter);
        resolve(outcome);
      },
    };
    watching.waiters.add(waiter);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function schedulePoll(key: string, watch: Watch): void {
  setTimeout(() => {
    void pollOnce(watch).then(
      () => {
        if (watch.waiters.size > 0) schedulePoll(key, watch);
        else watches.delete(key);
      },
      (err: unknown) => {
        // A Redis blip: the waiters keep waiting, and the next poll tries again.
        watch.deps.log.warn({ err, releaseId: watch.release.id }, 'gate poll failed');
        if (watch.waiters.size > 0) schedulePoll(key, watch);
        else watches.delete(key);
      },
    );
  }, GATE_POLL_MS).unref();
}

async function pollOnce(watch: Watch): Promise<void> {
  if (watch.waiters.size === 0) return;
  const { deps, release } = watch;
  const rev = await deps.store.readRev(release.teamId, release.id);
  if (rev === undefined) {
    for (const waiter of [...watch.waiters]) waiter.settle(undefined);
    return;
  }
  const fresh = rev === release.rev ? release : await deps.store.getRelease(release.teamId, release.id);
  if (!fresh) return;
  watch.release = fresh;
  const outcome = { release: fresh, answer: await gateFor(deps, fresh) };
  watch.latest = outcome;
  for (const waiter of [...watch.waiters]) {
    if (!sameGateAnswer(outcome.answer, waiter.first)) waiter.settle(outcome);
  }
}
