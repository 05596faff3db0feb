import type { Release } from './release.js';
import type { TemplateItem } from './template.js';

// Who may do what. Roles (release_manager, qa, …) are held by people or Slack user groups, as
// configured; an item that names a role can be ticked only by a holder, and each guarded action
// (start, cancel, override a gate, roll back, …) names the roles allowed. A role nobody configured
// guards nothing, so a team turns the rules on one role at a time.

export const PERMISSIONS = [
  'start',
  'cancel',
  'reschedule',
  'override',
  'rollback',
  'go',
  'freeze_override',
  'red_flag',
  'red_flag_resolve',
  'manage_tokens',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Who may act, per permission: the roles allowed, or anyone. */
export type PermissionRules = Record<Permission, readonly string[] | 'anyone'>;

/**
 * The release manager decides go/no-go, overrides freezes, clears red flags and manages pipeline tokens
 * unless configured otherwise.
 */
export const DEFAULT_PERMISSIONS: PermissionRules = {
  start: 'anyone',
  cancel: 'anyone',
  reschedule: 'anyone',
  override: 'anyone',
  rollback: 'anyone',
  go: ['release_manager'],
  freeze_override: ['release_manager'],
  red_flag: 'anyone',
  red_flag_resolve: ['release_manager'],
  manage_tokens: ['release_manager'],
};

export interface AccessPolicy {
  /** Role → Slack user ids (U…/W…) and user group ids (S…) holding it. */
  roles: Readonly<Record<string, readonly string[]>>;
  permissions: PermissionRules;
  /** Whoever started a release may not tick its role-bound items (its approvals). */
  twoPersonRule: boolean;
}

/** Resolves a role to the users holding it now; undefined when the role is not configured. */
export type RoleHolders = (role: string) => ReadonlySet<string> | undefined;

export type AccessDecision =
  | { allowed: true }
  | { allowed: false; reason: 'role'; roles: string[] }
  | { allowed: false; reason: 'own_release' };

const ALLOWED: AccessDecision = { allowed: true };

/** Whether any rule could refuse anyone: without one, no role needs resolving at all. */
export function hasAccessRules(policy: AccessPolicy): boolean {
  return Object.keys(policy.roles).length > 0 || policy.twoPersonRule;
}

/** The roles a decision depends on; resolve these (and only these) before deciding. */
export function rolesFor(
  policy: AccessPolicy,
  subject: { item: TemplateItem } | { permission: Permission },
): string[] {
  if ('item' in subject)
    return subject.item.role && policy.roles[subject.item.role] ? [subject.item.role] : [];
  const rule = policy.permissions[subject.permission];
  return rule === 'anyone' ? [] : rule.filter((role) => policy.roles[role]);
}

/** May `userId` tick or untick `item` of `release`? */
export function decideItemChange(
  policy: AccessPolicy,
  release: Release,
  item: TemplateItem,
  userId: string,
  holders: RoleHolders,
): AccessDecision {
  if (item.role && policy.twoPersonRule && userId === release.startedBy)
    return { allowed: false, reason: 'own_release' };
  if (!item.role) return ALLOWED;
  const holding = holders(item.role);
  if (holding === undefined || holding.has(userId)) return ALLOWED;
  return { allowed: false, reason: 'role', roles: [item.role] };
}

/** May `userId` take a guarded action? Roles that are not configured are skipped; none left means anyone. */
export function decidePermission(
  policy: AccessPolicy,
  permission: Permission,
  userId: string,
  holders: RoleHolders,
): AccessDecision {
  const rule = policy.permissions[permission];
  if (rule === 'anyone') return ALLOWED;
  const configured = rule.filter((role) => holders(role) !== undefined);
  if (configured.length === 0) return ALLOWED;
  if (configured.some((role) => holders(role)!.has(userId))) return ALLOWED;
  return { allowed: false, reason: 'role', roles: configured };
}

// ---- Configuration text ------------------------------------------------------------------------

const ROLE_NAME = /^[a-z][a-z0-9_]{0,31}$/;
const MEMBER_ID = /^[UWS][A-Z0-9]{2,}$/;

type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** `release_manager=U0AAA,S0BBB; qa=S0QA` → role → members. */
export function parseRoles(text: string): Parsed<Record<string, string[]>> {
  const roles: Record<string, string[]> = {};
  const problems: string[] = [];
  for (const entry of text
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [name, members = '', extra] = entry.split('=').map((part) => part.trim());
    const ids = members
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean);
    if (!entry.includes('=') || extra !== undefined || !name || !ROLE_NAME.test(name)) {
      problems.push(`"${entry}": write role=ids, the role in lowercase letters, digits and _`);
    } else if (ids.length === 0 || !ids.every((id) => MEMBER_ID.test(id))) {
      problems.push(`"${entry}": list user IDs (U…/W…) or user group IDs (S…), comma-separated`);
    } else if (roles[name]) {
      problems.push(`"${name}" is given twice`);
    } else {
      roles[name] = [...new Set(ids)];
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: roles };
}

/** `cancel=release_manager; rollback=release_manager,ops; start=anyone` over the defaults. */
export function parsePermissions(text: string): Parsed<PermissionRules> {
  const rules: PermissionRules = { ...DEFAULT_PERMISSIONS };
  const problems: string[] = [];
  for (const entry of text
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [name, value = '', extra] = entry.split('=').map((part) => part.trim());
    const roles = value
      .split(',')
      .map((role) => role.trim())
      .filter(Boolean);
    if (extra !== undefined || !(PERMISSIONS as readonly string[]).includes(name ?? '')) {
      problems.push(`"${entry}": start with one of ${PERMISSIONS.join(', ')}, then =roles`);
    } else if (roles.length === 1 && roles[0] === 'anyone') {
      rules[name as Permission] = 'anyone';
    } else if (roles.includes('anyone')) {
      problems.push(`"${entry}": "anyone" stands alone; it cannot be combined with roles`);
    } else if (roles.length === 0 || !roles.every((role) => ROLE_NAME.test(role))) {
      problems.push(`"${entry}": name roles (comma-separated) or "anyone"`);
    } else {
      rules[name as Permission] = roles;
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: rules };
}
