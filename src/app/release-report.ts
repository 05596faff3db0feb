import { ok, type Result } from '../domain/errors.js';
import type { GateAnswer } from '../domain/gate.js';
import type { ReleasePeople } from '../domain/people.js';
import type { PipelineIdentity } from '../domain/pipeline-tokens.js';
import type { Release } from '../domain/release.js';
import { findReleaseForPipeline, gateFor } from './deploy-gate.js';
import type { AppDeps } from './deps.js';

// Where a release stands, for a pipeline: the release, what keeps its deploy from starting, the names
// of the people its items name, and the link to its thread in Slack.

export interface ReleaseReport {
  release: Release;
  gate: GateAnswer;
  people: ReleasePeople;
  permalink: string | undefined;
}

export async function reportRelease(
  deps: AppDeps,
  identity: PipelineIdentity,
  version: string,
  env: string | undefined,
): Promise<Result<ReleaseReport>> {
  const found = await findReleaseForPipeline(deps, identity, version, env);
  if (!found.ok) return found;
  return ok(await describeRelease(deps, found.value));
}

export async function describeRelease(deps: AppDeps, release: Release): Promise<ReleaseReport> {
  const [gate, people, messages] = await Promise.all([
    gateFor(deps, release),
    deps.store.people.forRelease(release.teamId, release.id),
    deps.store.messages.get(release.teamId, release.id),
  ]);
  return { release, gate, people, permalink: messages.permalink };
}
