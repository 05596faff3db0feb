import { pipelineActorId } from '../domain/actor.js';
import { fail, ok, type Result } from '../domain/errors.js';
import { type PipelineIdentity, tokenAllowsEnvironment } from '../domain/pipeline-tokens.js';
import type { ItemEvidence, Release } from '../domain/release.js';
import { findItem } from '../domain/template.js';
import type { AppDeps } from './deps.js';
import { findActiveRelease } from './find-release.js';
import { setItem } from './set-item.js';

// A pipeline ticks or unticks an item it can check (build green, smoke test passed), with a link to its
// proof, a one-line summary and, for an item that records one, the value. The same command as a
// person's click: the rules that refuse a pipeline a person's item live there, not here.

export interface PipelineTickRequest {
  identity: PipelineIdentity;
  version: string;
  env: string | undefined;
  itemId: string;
  done: boolean;
  value?: string;
  evidence?: ItemEvidence;
  requestId: string;
}

export type PipelineTickOutcome = Result<{ release: Release; changed: boolean; deployed: boolean }>;

/** The release a pipeline names by version and environment, within its token's environments. */
export async function findPipelineRelease(
  deps: AppDeps,
  identity: PipelineIdentity,
  version: string,
  env: string | undefined,
): Promise<Result<Release>> {
  const found = await findActiveRelease(deps.store, identity.teamId, version, env);
  if (!found.ok) return found;
  if (!tokenAllowsEnvironment(identity, found.value.env)) {
    return fail({ code: 'pipeline_out_of_scope', env: found.value.env, token: identity.name });
  }
  return found;
}

export async function tickFromPipeline(
  deps: AppDeps,
  request: PipelineTickRequest,
): Promise<PipelineTickOutcome> {
  const { identity } = request;
  const found = await findPipelineRelease(deps, identity, request.version, request.env);
  if (!found.ok) return found;
  const release = found.value;
  if (!findItem(release.template, request.itemId)) return fail({ code: 'item_unknown' });
  const outcome = await setItem(deps, {
    teamId: identity.teamId,
    releaseId: release.id,
    itemId: request.itemId,
    done: request.done,
    userId: pipelineActorId(identity.name),
    requestId: request.requestId,
    ...(request.done && request.value !== undefined ? { value: request.value } : {}),
    ...(request.evidence ? { evidence: request.evidence } : {}),
  });
  if (!outcome.ok) return outcome;
  return ok({ release, changed: outcome.value.changed, deployed: outcome.value.deployed });
}
