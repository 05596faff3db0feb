import type { UserError } from '../domain/errors.js';
import { type ActiveFreeze, findActiveFreeze } from '../domain/freeze.js';
import { type PipelineIdentity, tokenAllowsEnvironment } from '../domain/pipeline-tokens.js';
import type { DeployWindow, ReleaseSource } from '../domain/release.js';
import { checkinPlan } from '../domain/template.js';
import { checkPermission } from './access.js';
import type { AppDeps } from './deps.js';

// Starting a release, for `/deploy start`, the start form and the freeze-override modal: the
// permission, the freeze windows of the environment, and the release itself. What follows (its
// messages, reminders, announcements) comes from its "started" event, through the relay.

export interface StartRequest {
  teamId: string;
  userId: string;
  /** Where the release's messages go. */
  channelId: string;
  version: string;
  env: string;
  templateId: string;
  window?: DeployWindow;
  /** Identifies the request, so that a retry of it creates nothing new. */
  requestId: string;
  /** Where the starter is told if the release cannot be posted (a slash command's response_url). */
  replyUrl?: string;
  /**
   * A pipeline's start: its token stands in for a person's role (the caller checked the token's
   * environments); `userId` is then the pipeline's actor id.
   */
  pipeline?: PipelineIdentity;
  /** What a pipeline's start deploys. */
  source?: ReleaseSource;
  /** Going ahead inside a freeze window, on the record. */
  freezeOverride?: { reason: string };
  /** From the start form: what stakeholders are told, and where (else the template's or configured channels). */
  notes?: string;
  downtime?: string;
  stakeholderChannels?: string[];
}

export type StartOutcome =
  | { kind: 'started'; releaseId: string; created: boolean }
  | { kind: 'refused'; error: UserError }
  | { kind: 'frozen'; freeze: ActiveFreeze };

export async function startRelease(deps: AppDeps, request: StartRequest): Promise<StartOutcome> {
  const { teamId, userId, env } = request;
  if (request.pipeline && !tokenAllowsEnvironment(request.pipeline, env)) {
    return { kind: 'refused', error: { code: 'pipeline_out_of_scope', env, token: request.pipeline.name } };
  }
  const denied = request.pipeline ? undefined : await checkPermission(deps, 'start', userId);
  if (denied) return { kind: 'refused', error: denied };
  const template = deps.templates.get(request.templateId);
  if (!template) return { kind: 'refused', error: { code: 'payload_invalid' } };

  // A deploy is judged by when it will happen: its window, or now.
  const at = request.window?.at ?? Date.now();
  const freeze = findActiveFreeze(deps.config.freezeWindows, env, at);
  // A machine never overrides a freeze: that is a release manager's call, on the record.
  if (freeze && (!request.freezeOverride || request.pipeline)) return { kind: 'frozen', freeze };
  if (freeze) {
    const refused = await checkPermission(deps, 'freeze_override', userId);
    if (refused) return { kind: 'refused', error: refused };
  }

  // Before the release exists, so the relay's sweep knows the workspace.
  await deps.relayStore.noteTeam(teamId);
  const result = await deps.store.startRelease({
    teamId,
    channelId: request.channelId,
    version: request.version,
    env,
    template,
    checkinPlanMs: checkinPlan(template, deps.config.checkins.scheduleMs),
    stakeholderChannels: request.stakeholderChannels?.length
      ? request.stakeholderChannels
      : (template.stakeholders ?? deps.config.stakeholderChannels),
    ...(request.notes ? { notes: request.notes } : {}),
    ...(request.downtime ? { downtime: request.downtime } : {}),
    ...(request.source ? { source: request.source } : {}),
    userId,
    ...(request.window ? { window: request.window } : {}),
    ...(freeze && request.freezeOverride
      ? {
          freezeOverride: {
            reason: request.freezeOverride.reason,
            window: freeze.window.text,
            endsAt: freeze.endsAt,
          },
        }
      : {}),
    requestId: request.requestId,
    ...(request.replyUrl ? { replyUrl: request.replyUrl } : {}),
  });
  if (result.kind === 'exists') {
    const { permalink } = await deps.store.messages.get(teamId, result.releaseId);
    return {
      kind: 'refused',
      error: { code: 'release_exists', version: request.version, env, ...(permalink ? { permalink } : {}) },
    };
  }
  // A replayed start kicks the relay again, which finds nothing new (or finishes what a crash left).
  deps.relay.committed({ intent: 'start', teamId, releaseId: result.releaseId });
  deps.log.info(
    {
      teamId,
      releaseId: result.releaseId,
      version: request.version,
      env,
      templateId: request.templateId,
      replayed: result.kind === 'replayed',
      freezeOverridden: Boolean(freeze),
    },
    'release started',
  );
  return { kind: 'started', releaseId: result.releaseId, created: result.kind === 'created' };
}
