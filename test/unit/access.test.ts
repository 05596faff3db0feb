import { describe, expect, it } from 'vitest';
import {
  type AccessPolicy,
  DEFAULT_PERMISSIONS,
  decideItemChange,
  decidePermission,
  hasAccessRules,
  PERMISSIONS,
  type PermissionRules,
  parsePermissions,
  parseRoles,
  type RoleHolders,
  rolesFor,
} from '../../src/domain/access.js';
import { groupOpenItemsByOwner } from '../../src/domain/reminders.js';
import { item, makeRelease, makeTemplate, PHASE, STARTER, TICKER } from './factories.js';

// Access rules (src/domain/access.ts): configuration text, the decisions, and who is reminded of an
// item that names a role.

const QA_ALICE = 'U0ALICE';
const QA_BOB = 'U0BOB';
const RM_CAROL = 'U0CAROL';
const OUTSIDER = 'U0OUTSIDER';

function policy(overrides: Partial<AccessPolicy> = {}): AccessPolicy {
  return { roles: {}, permissions: { ...DEFAULT_PERMISSIONS }, twoPersonRule: false, ...overrides };
}

/** Holders as a resolved table: roles missing from it are "not configured". */
function holdersOf(table: Record<string, string[]>): RoleHolders {
  return (role) => (table[role] ? new Set(table[role]) : undefined);
}

const permissions = (overrides: Partial<PermissionRules>): PermissionRules => ({
  ...DEFAULT_PERMISSIONS,
  ...overrides,
});

describe('parseRoles', () => {
  it('given well-formed roles, when parsed, then each role maps to its users and groups', () => {
    expect(parseRoles('release_manager=U0AAA,S0BBB; qa=S0QA; ops2=W0CCC')).toEqual({
      ok: true,
      value: { release_manager: ['U0AAA', 'S0BBB'], qa: ['S0QA'], ops2: ['W0CCC'] },
    });
  });

  it('given spaces, duplicate members and stray separators, when parsed, then they are tidied away', () => {
    expect(parseRoles('  qa =  U0AAA ,  U0BBB, U0AAA ,, ;; ops= S0OPS ;  ')).toEqual({
      ok: true,
      value: { qa: ['U0AAA', 'U0BBB'], ops: ['S0OPS'] },
    });
  });

  it('given empty text, when parsed, then there are no roles and no problems', () => {
    expect(parseRoles('')).toEqual({ ok: true, value: {} });
    expect(parseRoles(' ; ')).toEqual({ ok: true, value: {} });
  });

  it.each([
    ['an upper-case role name', 'QA=U0AAA'],
    ['a role name starting with a digit', '1qa=U0AAA'],
    ['a role name with a dash', 'release-manager=U0AAA'],
    ['a role name over 32 characters', `${'a'.repeat(33)}=U0AAA`],
    ['no role name', '=U0AAA'],
    ['two equals signs', 'qa=U0AAA=U0BBB'],
  ])('given %s, when parsed, then the entry is reported as a bad role', (_what, text) => {
    const parsed = parseRoles(text);

    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]).toContain(`"${text.trim()}"`);
    expect(parsed.problems[0]).toContain('write role=ids');
  });

  it.each([
    ['a user name', 'qa=@alice'],
    ['a channel', 'qa=#chan'],
    ['a channel id', 'qa=C0CHAN'],
    ['a lower-case id', 'qa=u0aaa'],
    ['an id too short', 'qa=U0'],
    ['one bad id among good ones', 'qa=U0AAA,@bob'],
    ['no members', 'qa='],
  ])('given %s, when parsed, then the entry is reported as bad members', (_what, text) => {
    const parsed = parseRoles(text);

    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems).toEqual([
      `"${text}": list user IDs (U…/W…) or user group IDs (S…), comma-separated`,
    ]);
  });

  it('given a role twice, when parsed, then it is reported once by name', () => {
    expect(parseRoles('qa=U0AAA; qa=U0BBB')).toEqual({ ok: false, problems: ['"qa" is given twice'] });
  });

  it('given several bad entries among good ones, when parsed, then every problem is reported and no roles', () => {
    const parsed = parseRoles('qa=U0AAA; Ops=U0BBB; sre=@carol; qa=U0DDD');

    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems).toHaveLength(3);
    expect(parsed.problems[0]).toContain('"Ops=U0BBB"');
    expect(parsed.problems[1]).toContain('"sre=@carol"');
    expect(parsed.problems[2]).toBe('"qa" is given twice');
  });
});

describe('parsePermissions', () => {
  it('given empty text, when parsed, then the defaults are kept', () => {
    expect(parsePermissions('')).toEqual({ ok: true, value: DEFAULT_PERMISSIONS });
  });

  it('given overrides, when parsed, then they replace only the permissions named', () => {
    const parsed = parsePermissions('cancel=release_manager; rollback = release_manager , ops ; go=anyone');

    expect(parsed).toEqual({
      ok: true,
      value: permissions({
        cancel: ['release_manager'],
        rollback: ['release_manager', 'ops'],
        go: 'anyone',
      }),
    });
  });

  it('given overrides, when parsed, then the defaults themselves are not changed', () => {
    const before = structuredClone(DEFAULT_PERMISSIONS);

    parsePermissions('start=qa; go=anyone');

    expect(DEFAULT_PERMISSIONS).toEqual(before);
  });

  it("given 'anyone' for a permission guarded by default, when parsed, then anyone may", () => {
    const parsed = parsePermissions('freeze_override=anyone');

    expect(parsed.ok && parsed.value.freeze_override).toBe('anyone');
  });

  it('given every permission overridden, when parsed, then every one is accepted', () => {
    const text = PERMISSIONS.map((permission) => `${permission}=qa`).join(';');
    const parsed = parsePermissions(text);

    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    for (const permission of PERMISSIONS) expect(parsed.value[permission]).toEqual(['qa']);
  });

  it.each([
    ['an unknown permission', 'deploy=qa'],
    ['a permission in upper case', 'CANCEL=qa'],
    ['no permission name', '=qa'],
    ['two equals signs', 'cancel=qa=ops'],
  ])('given %s, when parsed, then the entry is reported with the known permissions', (_what, text) => {
    const parsed = parsePermissions(text);

    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]).toContain(`"${text}"`);
    expect(parsed.problems[0]).toContain(PERMISSIONS.join(', '));
  });

  it.each([
    ['an empty value', 'cancel='],
    ['only commas', 'cancel= , ,'],
    ['no equals sign', 'cancel'],
    ['a bad role name', 'cancel=Release-Manager'],
  ])('given %s, when parsed, then the entry asks for roles or "anyone"', (_what, text) => {
    const parsed = parsePermissions(text);

    expect(parsed).toEqual({ ok: false, problems: [`"${text}": name roles (comma-separated) or "anyone"`] });
  });
});

describe('decideItemChange', () => {
  const qaItem = item('qa-signoff', { role: 'qa' });
  const plainItem = item('plain');
  const release = makeRelease();
  const qaHolders = holdersOf({ qa: [QA_ALICE, QA_BOB] });
  const qaPolicy = policy({ roles: { qa: [QA_ALICE, QA_BOB] } });

  it('given an item without a role, when anyone ticks it, then it is allowed', () => {
    expect(decideItemChange(qaPolicy, release, plainItem, OUTSIDER, qaHolders)).toEqual({ allowed: true });
  });

  it('given an item whose role is not configured, when anyone ticks it, then it is allowed', () => {
    const opsItem = item('ops-check', { role: 'ops' });

    expect(decideItemChange(qaPolicy, release, opsItem, OUTSIDER, qaHolders)).toEqual({ allowed: true });
  });

  it('given a role item, when a holder ticks it, then it is allowed', () => {
    expect(decideItemChange(qaPolicy, release, qaItem, QA_BOB, qaHolders)).toEqual({ allowed: true });
  });

  it('given a role item, when someone else ticks it, then it is refused naming the role', () => {
    expect(decideItemChange(qaPolicy, release, qaItem, OUTSIDER, qaHolders)).toEqual({
      allowed: false,
      reason: 'role',
      roles: ['qa'],
    });
  });

  it('given a role configured but held by nobody, when anyone ticks its item, then it is refused', () => {
    const nobody = holdersOf({ qa: [] });

    expect(decideItemChange(qaPolicy, release, qaItem, QA_ALICE, nobody)).toMatchObject({ allowed: false });
  });

  describe('the two-person rule', () => {
    const starterIsQa = holdersOf({ qa: [STARTER, QA_ALICE] });
    const roles = { qa: [STARTER, QA_ALICE] };

    it('given the rule on, when the starter ticks a role item they hold, then it is refused as their own release', () => {
      const on = policy({ roles, twoPersonRule: true });

      expect(decideItemChange(on, release, qaItem, STARTER, starterIsQa)).toEqual({
        allowed: false,
        reason: 'own_release',
      });
    });

    it('given the rule on, when another holder ticks the role item, then it is allowed', () => {
      const on = policy({ roles, twoPersonRule: true });

      expect(decideItemChange(on, release, qaItem, QA_ALICE, starterIsQa)).toEqual({ allowed: true });
    });

    it('given the rule off, when the starter ticks a role item they hold, then it is allowed', () => {
      const off = policy({ roles, twoPersonRule: false });

      expect(decideItemChange(off, release, qaItem, STARTER, starterIsQa)).toEqual({ allowed: true });
    });

    it('given the rule on, when the starter ticks an item without a role, then it is allowed', () => {
      const on = policy({ roles, twoPersonRule: true });

      expect(decideItemChange(on, release, plainItem, STARTER, starterIsQa)).toEqual({ allowed: true });
    });

    it('given the rule on and no roles configured, when the starter ticks an item naming a role, then it is refused', () => {
      const on = policy({ twoPersonRule: true });

      expect(decideItemChange(on, release, qaItem, STARTER, () => undefined)).toEqual({
        allowed: false,
        reason: 'own_release',
      });
    });
  });
});

describe('decidePermission', () => {
  it("given 'anyone', when anyone acts, then it is allowed without asking for holders", () => {
    const asked: string[] = [];
    const holders: RoleHolders = (role) => {
      asked.push(role);
      return new Set();
    };

    expect(decidePermission(policy(), 'cancel', OUTSIDER, holders)).toEqual({ allowed: true });
    expect(asked).toEqual([]);
  });

  it('given roles of which none is configured, when anyone acts, then it is allowed', () => {
    expect(decidePermission(policy(), 'go', OUTSIDER, () => undefined)).toEqual({ allowed: true });
  });

  it('given a configured role, when a holder acts, then it is allowed', () => {
    const holders = holdersOf({ release_manager: [RM_CAROL] });

    expect(decidePermission(policy(), 'go', RM_CAROL, holders)).toEqual({ allowed: true });
  });

  it('given a configured role, when someone else acts, then it is refused naming the role', () => {
    const holders = holdersOf({ release_manager: [RM_CAROL] });

    expect(decidePermission(policy(), 'go', OUTSIDER, holders)).toEqual({
      allowed: false,
      reason: 'role',
      roles: ['release_manager'],
    });
  });

  describe('given several roles', () => {
    const rules = policy({ permissions: permissions({ rollback: ['release_manager', 'qa', 'ops'] }) });
    const holders = holdersOf({ release_manager: [RM_CAROL], qa: [QA_ALICE] });

    it('when a holder of any one of them acts, then it is allowed', () => {
      expect(decidePermission(rules, 'rollback', RM_CAROL, holders)).toEqual({ allowed: true });
      expect(decidePermission(rules, 'rollback', QA_ALICE, holders)).toEqual({ allowed: true });
    });

    it('when someone holding none acts, then it is refused naming only the configured roles', () => {
      expect(decidePermission(rules, 'rollback', OUTSIDER, holders)).toEqual({
        allowed: false,
        reason: 'role',
        roles: ['release_manager', 'qa'],
      });
    });
  });

  it('given the two-person rule on, when the starter takes a guarded action, then only the roles matter', () => {
    const rules = policy({ twoPersonRule: true });
    const holders = holdersOf({ release_manager: [STARTER] });

    expect(decidePermission(rules, 'go', STARTER, holders)).toEqual({ allowed: true });
  });
});

describe('hasAccessRules', () => {
  it('given no roles and the two-person rule off, then there are no rules', () => {
    expect(hasAccessRules(policy())).toBe(false);
  });

  it('given a role configured, then there are rules', () => {
    expect(hasAccessRules(policy({ roles: { qa: [QA_ALICE] } }))).toBe(true);
  });

  it('given only the two-person rule, then there are rules', () => {
    expect(hasAccessRules(policy({ twoPersonRule: true }))).toBe(true);
  });

  it('given guarded permissions but no roles configured, then there are no rules', () => {
    expect(hasAccessRules(policy({ permissions: permissions({ cancel: ['qa'] }) }))).toBe(false);
  });
});

describe('rolesFor', () => {
  const rules = policy({
    roles: { qa: [QA_ALICE], release_manager: [RM_CAROL] },
    permissions: permissions({ rollback: ['release_manager', 'ops', 'qa'] }),
  });

  it('given an item naming a configured role, then that role is needed', () => {
    expect(rolesFor(rules, { item: item('x', { role: 'qa' }) })).toEqual(['qa']);
  });

  it('given an item naming a role not configured, or no role, then no role is needed', () => {
    expect(rolesFor(rules, { item: item('x', { role: 'ops' }) })).toEqual([]);
    expect(rolesFor(rules, { item: item('x') })).toEqual([]);
  });

  it("given a permission open to 'anyone', then no role is needed", () => {
    expect(rolesFor(rules, { permission: 'cancel' })).toEqual([]);
  });

  it('given a permission guarded by roles, then only its configured roles are needed, in order', () => {
    expect(rolesFor(rules, { permission: 'rollback' })).toEqual(['release_manager', 'qa']);
    expect(rolesFor(rules, { permission: 'go' })).toEqual(['release_manager']);
  });

  it('given a permission whose roles are none configured, then no role is needed', () => {
    expect(rolesFor(policy(), { permission: 'go' })).toEqual([]);
  });
});

describe('groupOpenItemsByOwner with role holders', () => {
  // Phase 0 of the tiny template: p0-a (role ops), p0-b (no role), p0-opt (optional).
  const opsHolders = holdersOf({ ops: [QA_ALICE, QA_BOB] });
  const ids = (grouped: Map<string, { id: string }[]>) =>
    Object.fromEntries([...grouped].map(([person, items]) => [person, items.map((it) => it.id)]));

  it('given two holders of the role, when grouped, then both get the role item and the starter the rest', () => {
    const grouped = groupOpenItemsByOwner(makeRelease(), PHASE.prepare, opsHolders);

    expect(ids(grouped)).toEqual({ [QA_ALICE]: ['p0-a'], [QA_BOB]: ['p0-a'], [STARTER]: ['p0-b'] });
    expect([...grouped.keys()]).toEqual([QA_ALICE, QA_BOB, STARTER]);
  });

  it('given an explicit owner of the role item, when grouped, then the owner gets it instead of the holders', () => {
    const release = makeRelease({ owners: { 'p0-a': TICKER } });

    expect(ids(groupOpenItemsByOwner(release, PHASE.prepare, opsHolders))).toEqual({
      [TICKER]: ['p0-a'],
      [STARTER]: ['p0-b'],
    });
  });

  it('given the role held by nobody, when grouped, then the starter gets the role item', () => {
    const nobody = holdersOf({ ops: [] });

    expect(ids(groupOpenItemsByOwner(makeRelease(), PHASE.prepare, nobody))).toEqual({
      [STARTER]: ['p0-a', 'p0-b'],
    });
  });

  it('given the role not configured, when grouped, then the starter gets the role item', () => {
    expect(ids(groupOpenItemsByOwner(makeRelease(), PHASE.prepare, () => undefined))).toEqual({
      [STARTER]: ['p0-a', 'p0-b'],
    });
  });

  it('given a holder who also owns another item, when grouped, then their items keep the template order', () => {
    const template = makeTemplate({
      phases: [
        {
          id: 'approve',
          name: 'Approve',
          items: [item('a-1'), item('a-2', { role: 'qa' }), item('a-3', { role: 'qa' })],
        },
      ],
    });
    const release = makeRelease({ template, owners: { 'a-1': QA_ALICE } });
    const holders = holdersOf({ qa: [QA_ALICE, QA_BOB] });

    expect(ids(groupOpenItemsByOwner(release, 0, holders))).toEqual({
      [QA_ALICE]: ['a-1', 'a-2', 'a-3'],
      [QA_BOB]: ['a-2', 'a-3'],
    });
  });
});

describe('configuration text, edge cases', () => {
  it('given "anyone" beside roles, when parsed, then it is refused rather than read as a role', () => {
    const parsed = parsePermissions('cancel=anyone,qa');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems[0]).toMatch(/"anyone" stands alone/);
  });

  it('given a role without "=", when parsed, then the hint says how to write it', () => {
    const parsed = parseRoles('qa');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems[0]).toMatch(/write role=ids/);
  });
});
