import {
  type AccessDecision,
  type AccessPolicy,
  decideItemChange,
  decidePermission,
  hasAccessRules,
  type Permission,
  type RoleHolders,
  rolesFor,
} from '../domain/access.js';
import type { UserError } from '../domain/errors.js';
import type { Release } from '../domain/release.js';
import type { TemplateItem } from '../domain/template.js';
import type { Logger } from '../log.js';
import type { SlackOutbound } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';

// Resolves roles to people (user group members are looked up in Slack and kept briefly) and applies
// the access rules. A refusal is answered with a clear message and recorded in the release's audit
// trail; when Slack cannot say who is in a group, the answer is "try again", never "allowed".

const GROUP_CACHE_MS = 5 * 60_000;

export class RoleCheckFailed extends Error {
  constructor(readonly role: string) {
    super(`could not resolve the holders of role ${role}`);
    this.name = 'RoleCheckFailed';
  }
}

export class RoleDirectory {
  private readonly groups = new Map<string, { members: Set<string>; until: number }>();

  constructor(
    readonly policy: AccessPolicy,
    private readonly outbound: Pick<SlackOutbound, 'listUserGroupMembers'>,
    private readonly log: Logger,
  ) {}

  /** The holders of the given roles, resolved now; roles that are not configured resolve to undefined. */
  async resolve(roles: readonly string[]): Promise<RoleHolders> {
    const resolved = new Map<string, Set<string>>();
    for (const role of new Set(roles)) {
      const members = this.policy.roles[role];
      if (members) resolved.set(role, await this.expand(role, members));
    }
    return (role) => resolved.get(role);
  }

  private async expand(role: string, members: readonly string[]): Promise<Set<string>> {
    const users = new Set<string>();
    for (const member of members) {
      if (!member.startsWith('S')) {
        users.add(member);
        continue;
      }
      for (const user of await this.groupMembers(role, member)) users.add(user);
    }
    return users;
  }

  private async groupMembers(role: string, groupId: string): Promise<Set<string>> {
    const cached = this.groups.get(groupId);
    if (cached && cached.until > Date.now()) return cached.members;
    try {
      const members = new Set(await this.outbound.listUserGroupMembers(groupId));
      this.groups.set(groupId, { members, until: Date.now() + GROUP_CACHE_MS });
      return members;
    } catch (err) {
      this.log.warn({ err, role, groupId }, 'user group members unavailable');
      throw new RoleCheckFailed(role);
    }
  }
}

/**
 * Who holds the roles of a phase's items, for the reminders and their redraws. When Slack cannot say,
 * nobody: those items go to the starter, so a reminder is still sent.
 */
export async function resolvePhaseHolders(
  deps: { roles: Pick<RoleDirectory, 'resolve'>; log: Logger },
  release: Release,
  phaseIndex: number,
): Promise<RoleHolders> {
  const roles = (release.template.phases[phaseIndex]?.items ?? []).flatMap((item) =>
    item.role ? [item.role] : [],
  );
  if (roles.length === 0) return () => undefined;
  try {
    return await deps.roles.resolve(roles);
  } catch (err) {
    if (!(err instanceof RoleCheckFailed)) throw err;
    deps.log.warn({ releaseId: release.id, role: err.role }, 'role holders unknown; reminding the starter');
    return () => undefined;
  }
}

export interface AccessDeps {
  roles: RoleDirectory;
  store: Pick<ReleaseStore, 'appendAudit'>;
  log: Logger;
}

function refusalReason(decision: Exclude<AccessDecision, { allowed: true }>): string {
  return decision.reason === 'own_release' ? 'own_release' : `role:${decision.roles.join(',')}`;
}

/** The error a refusal is answered with; what is asked for goes in the message. */
function refusalError(
  decision: Exclude<AccessDecision, { allowed: true }>,
  action: Permission | 'tick' | 'untick',
): UserError {
  if (decision.reason === 'own_release') return { code: 'own_release' };
  return { code: 'not_permitted', action, roles: decision.roles };
}

/**
 * Checks that `userId` may tick or untick `item`; a refusal is audited and returned as the error to
 * show. Resolves undefined when the change may go ahead.
 */
export async function checkItemChange(
  deps: AccessDeps,
  release: Release,
  item: TemplateItem,
  userId: string,
  done: boolean,
): Promise<UserError | undefined> {
  const { policy } = deps.roles;
  if (!hasAccessRules(policy)) return undefined;
  const holders = await resolveOrFail(deps, rolesFor(policy, { item }));
  if ('code' in holders) return holders;
  const decision = decideItemChange(policy, release, item, userId, holders.value);
  if (decision.allowed) return undefined;
  const phase = release.template.phases.findIndex((phase) => phase.items.includes(item));
  await deps.store.appendAudit(release.teamId, release.id, {
    type: 'refused',
    user: userId,
    action: done ? 'tick' : 'untick',
    reason: refusalReason(decision),
    item: item.id,
    ...(phase >= 0 ? { phase } : {}),
  });
  deps.log.info(
    { teamId: release.teamId, releaseId: release.id, itemId: item.id, userId },
    'item change refused',
  );
  return refusalError(decision, done ? 'tick' : 'untick');
}

/**
 * Checks that `userId` may take a guarded action, on a release when one is given (the refusal is then
 * audited on it). Resolves undefined when allowed.
 */
export async function checkPermission(
  deps: AccessDeps,
  permission: Permission,
  userId: string,
  release?: Pick<Release, 'teamId' | 'id'>,
): Promise<UserError | undefined> {
  const { policy } = deps.roles;
  const roles = rolesFor(policy, { permission });
  if (roles.length === 0) return undefined;
  const holders = await resolveOrFail(deps, roles);
  if ('code' in holders) return holders;
  const decision = decidePermission(policy, permission, userId, holders.value);
  if (decision.allowed) return undefined;
  if (release) {
    await deps.store.appendAudit(release.teamId, release.id, {
      type: 'refused',
      user: userId,
      action: permission,
      reason: refusalReason(decision),
    });
  }
  deps.log.info({ permission, userId, releaseId: release?.id }, 'action refused');
  return refusalError(decision, permission);
}

async function resolveOrFail(
  deps: AccessDeps,
  roles: readonly string[],
): Promise<{ value: RoleHolders } | UserError> {
  try {
    return { value: await deps.roles.resolve(roles) };
  } catch (err) {
    if (err instanceof RoleCheckFailed) return { code: 'role_check_failed', role: err.role };
    throw err;
  }
}
