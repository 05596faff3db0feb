import type { UserError } from '../domain/errors.js';
import { fail, ok, type Result } from '../domain/errors.js';
import { checkTokenName, type PipelineToken } from '../domain/pipeline-tokens.js';
import { checkPermission } from './access.js';
import type { AppDeps } from './deps.js';

// Creating, listing and revoking the workspace's pipeline tokens (`/deploy token …`). Release managers
// do this by default (the manage_tokens permission); a refusal goes into the workspace's token audit
// stream, since it concerns no release. A secret is handed back once and never logged: log lines name
// the token by name and id only.

type TokenDeps = Pick<AppDeps, 'config' | 'log' | 'store' | 'roles'>;

export interface TokenRequest {
  teamId: string;
  userId: string;
}

/** Checks the permission; a refusal is recorded in the workspace's token audit stream. */
async function refuseUnlessPermitted(
  deps: TokenDeps,
  request: TokenRequest,
  action: 'create' | 'list' | 'revoke',
  name?: string,
): Promise<UserError | undefined> {
  const denied = await checkPermission(deps, 'manage_tokens', request.userId);
  if (!denied) return undefined;
  if (denied.code === 'not_permitted' || denied.code === 'own_release') {
    await deps.store.tokens.noteRefusal(request.teamId, {
      user: request.userId,
      action,
      reason: denied.code === 'not_permitted' ? `role:${denied.roles.join(',')}` : denied.code,
      ...(name ? { name } : {}),
      now: Date.now(),
    });
  }
  return denied;
}

export async function createPipelineToken(
  deps: TokenDeps,
  request: TokenRequest & { name: string; environments: readonly string[] | 'all'; channelId?: string },
): Promise<Result<{ token: PipelineToken; secret: string }>> {
  const { teamId, userId, name, environments } = request;
  const problem = checkTokenName(name);
  if (problem) return fail({ code: 'token_name_invalid', name, problem });
  if (environments !== 'all') {
    const unknown = environments.find((env) => !deps.config.environments.includes(env));
    if (unknown !== undefined) {
      return fail({
        code: 'token_environment_unknown',
        env: unknown,
        environments: [...deps.config.environments],
      });
    }
  }
  const denied = await refuseUnlessPermitted(deps, request, 'create', name);
  if (denied) return fail(denied);
  const scope = environments === 'all' ? 'all' : [...new Set(environments)];
  const created = await deps.store.tokens.create({
    teamId,
    name,
    environments: scope,
    createdBy: userId,
    now: Date.now(),
    ...(request.channelId ? { channelId: request.channelId } : {}),
  });
  if (!created.ok) return fail({ code: 'token_name_taken', name });
  deps.log.info(
    { teamId, userId, tokenName: name, tokenId: created.token.tokenId },
    'pipeline token created',
  );
  return ok({ token: created.token, secret: created.secret });
}

export async function listPipelineTokens(
  deps: TokenDeps,
  request: TokenRequest,
): Promise<Result<PipelineToken[]>> {
  const denied = await refuseUnlessPermitted(deps, request, 'list');
  if (denied) return fail(denied);
  return ok(await deps.store.tokens.list(request.teamId));
}

export async function revokePipelineToken(
  deps: TokenDeps,
  request: TokenRequest & { name: string },
): Promise<Result<{ name: string }>> {
  const { teamId, userId, name } = request;
  const denied = await refuseUnlessPermitted(deps, request, 'revoke', name);
  if (denied) return fail(denied);
  const revoked = await deps.store.tokens.revoke(teamId, name, userId, Date.now());
  if (!revoked) return fail({ code: 'token_not_found', name });
  deps.log.info({ teamId, userId, tokenName: name }, 'pipeline token revoked');
  return ok({ name });
}
