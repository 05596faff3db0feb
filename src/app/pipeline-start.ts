import { pipelineActorId } from '../domain/actor.js';
import { validateVersion } from '../domain/commands.js';
import { fail, ok, type Result } from '../domain/errors.js';
import type { PipelineIdentity } from '../domain/pipeline-tokens.js';
import { tokenAllowsEnvironment } from '../domain/pipeline-tokens.js';
import type { DeployWindow, ReleaseSource } from '../domain/release.js';
import type { AppDeps } from './deps.js';
import { findActiveRelease } from './find-release.js';
import { startRelease } from './start-release.js';

// A pipeline starts a release: the same command as `/deploy start`, with the token's environments in
// place of a person's role. Starting a version that is already active in the environment answers with
// that release, so a pipeline run that is retried or re-run does not fail on its own earlier start.

export interface PipelineStartRequest {
  identity: PipelineIdentity;
  version: string;
  env: string;
  templateId: string;
  /** Where the release's messages go. */
  channelId: string;
  window?: DeployWindow;
  notes?: string;
  source?: ReleaseSource;
  requestId: string;
}

export type PipelineStartOutcome = Result<{ releaseId: string; created: boolean }>;

export async function startFromPipeline(
  deps: AppDeps,
  request: PipelineStartRequest,
): Promise<PipelineStartOutcome> {
  const { identity, env } = request;
  const version = validateVersion(request.version);
  if (!version.ok) return version;
  if (!deps.config.environments.includes(env)) {
    return fail({ code: 'token_environment_unknown', env, environments: deps.config.environments });
  }
  if (!tokenAllowsEnvironment(identity, env)) {
    return fail({ code: 'pipeline_out_of_scope', env, token: identity.name });
  }
  if (!deps.templates.has(request.templateId)) {
    return fail({
      code: 'template_unknown',
      templateId: request.templateId,
      templates: [...deps.templates.keys()],
    });
  }
  const started = await startRelease(deps, {
    teamId: identity.teamId,
    userId: pipelineActorId(identity.name),
    pipeline: identity,
    channelId: request.channelId,
    version: version.value,
    env,
    templateId: request.templateId,
    requestId: request.requestId,
    ...(request.window ? { window: request.window } : {}),
    ...(request.notes ? { notes: request.notes } : {}),
    ...(request.source ? { source: request.source } : {}),
  });
  switch (started.kind) {
    case 'started':
      return ok({ releaseId: started.releaseId, created: started.created });
    case 'frozen':
      return fail({
        code: 'frozen',
        env,
        window: started.freeze.window.text,
        endsAt: started.freeze.endsAt,
      });
    case 'refused': {
      if (started.error.code !== 'release_exists') return fail(started.error);
      const existing = await findActiveRelease(deps.store, identity.teamId, version.value, env);
      return existing.ok ? ok({ releaseId: existing.value.id, created: false }) : fail(started.error);
    }
  }
}
