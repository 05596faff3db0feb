import { pipelineActorId } from '../domain/actor.js';
import { fail, ok, type Result } from '../domain/errors.js';
import type { PipelineIdentity } from '../domain/pipeline-tokens.js';
import { isItemDone, type Release } from '../domain/release.js';
import { deploymentPhaseIndex } from '../domain/template.js';
import { gateFor } from './deploy-gate.js';
import type { AppDeps } from './deps.js';
import { findPipelineRelease } from './pipeline-tick.js';
import { raiseRedFlag } from './red-flags.js';
import { setItem } from './set-item.js';

// A pipeline reports its deploy. `started` is refused while the gate is closed (the pipeline should not
// be deploying); `succeeded` ticks the deployment phase's pipeline items, which marks the release
// deployed when they were all that was left (check-ins follow from that, as for a person's tick);
// `failed` raises a red flag with the pipeline's account, which stops the release and puts the
// rollback in front of the team. Each report is on the record before what it causes.

export const DEPLOYMENT_STATUSES = ['started', 'succeeded', 'failed'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** The condition a failed deploy's red flag is raised for. */
export const DEPLOY_FAILED_CONDITION = 'The deployment failed (reported by the pipeline)';

export interface DeploymentReportRequest {
  identity: PipelineIdentity;
  version: string;
  env: string | undefined;
  status: DeploymentStatus;
  summary?: string;
  evidenceUrl?: string;
  /** Values for deployment-phase pipeline items that record one, by item id. */
  values?: Record<string, string>;
  requestId: string;
}

export interface DeploymentReportOutcome {
  release: Release;
  /** The release is marked deployed (now or before). */
  deployed: boolean;
  /** Pipeline items this report ticked. */
  ticked: string[];
  /** Required items of the deployment phase still open, for a person. */
  openItems: string[];
  /** The red flag a failure raised. */
  redFlag?: number;
}

export async function reportDeployment(
  deps: AppDeps,
  request: DeploymentReportRequest,
): Promise<Result<DeploymentReportOutcome>> {
  const { identity } = request;
  const found = await findPipelineRelease(deps, identity, request.version, request.env);
  if (!found.ok) return found;
  const release = found.value;
  const actor = pipelineActorId(identity.name);
  if (request.status === 'started') {
    const gate = await gateFor(deps, release);
    if (!gate.allowed) {
      return fail({
        code: 'gate_closed',
        version: release.version,
        blockers: gate.blockers.map((blocker) => blocker.detail),
      });
    }
  }
  await deps.store.appendAudit(identity.teamId, release.id, {
    type: 'deployment_reported',
    user: actor,
    to: request.status,
    ...(request.summary ? { summary: request.summary } : {}),
    ...(request.evidenceUrl ? { evidence: request.evidenceUrl } : {}),
  });
  deps.relay.committed({ intent: 'report-deployment', teamId: identity.teamId, releaseId: release.id });
  deps.log.info(
    { teamId: identity.teamId, releaseId: release.id, actor, status: request.status },
    'deployment reported',
  );
  switch (request.status) {
    case 'started':
      return ok(await describe(deps, release, []));
    case 'succeeded':
      return completePipelineItems(deps, release, request);
    case 'failed':
      return raiseForFailure(deps, release, request);
  }
}

async function completePipelineItems(
  deps: AppDeps,
  release: Release,
  request: DeploymentReportRequest,
): Promise<Result<DeploymentReportOutcome>> {
  const phaseIndex = deploymentPhaseIndex(release.template);
  const phase = phaseIndex === undefined ? undefined : release.template.phases[phaseIndex];
  const ticked: string[] = [];
  for (const item of phase?.items ?? []) {
    if (item.pipeline !== true || isItemDone(release, item.id)) continue;
    const value = request.values?.[item.id];
    const outcome = await setItem(deps, {
      teamId: release.teamId,
      releaseId: release.id,
      itemId: item.id,
      done: true,
      userId: pipelineActorId(request.identity.name),
      requestId: `${request.requestId}:${item.id}`,
      ...(value !== undefined ? { value } : {}),
      evidence: {
        ...(request.evidenceUrl ? { url: request.evidenceUrl } : {}),
        summary: request.summary ?? 'Deploy succeeded',
      },
    });
    if (!outcome.ok) return outcome;
    if (outcome.value.changed) ticked.push(item.id);
  }
  return ok(await describe(deps, release, ticked));
}

async function raiseForFailure(
  deps: AppDeps,
  release: Release,
  request: DeploymentReportRequest,
): Promise<Result<DeploymentReportOutcome>> {
  const note = [request.summary ?? 'The pipeline reported the deploy failed.', request.evidenceUrl]
    .filter(Boolean)
    .join(' ');
  // The pipeline's token stands in for the red-flag permission; the flag is still refused when one is up.
  const raised = await raiseRedFlag(deps, {
    teamId: release.teamId,
    releaseId: release.id,
    userId: pipelineActorId(request.identity.name),
    condition: DEPLOY_FAILED_CONDITION,
    note,
    requestId: request.requestId,
  });
  if (!raised.ok && raised.error.code !== 'red_flag_up') return raised;
  const outcome = await describe(deps, release, []);
  return ok(outcome);
}

async function describe(deps: AppDeps, before: Release, ticked: string[]): Promise<DeploymentReportOutcome> {
  const release = (await deps.store.getRelease(before.teamId, before.id)) ?? before;
  const phaseIndex = deploymentPhaseIndex(release.template);
  const phase = phaseIndex === undefined ? undefined : release.template.phases[phaseIndex];
  return {
    release,
    deployed: release.deployment !== undefined,
    ticked,
    openItems: (phase?.items ?? [])
      .filter((item) => item.required && !isItemDone(release, item.id))
      .map((item) => item.id),
    ...(release.redFlag ? { redFlag: release.redFlag.number } : {}),
  };
}
