import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AccessDeps,
  checkItemChange,
  checkPermission,
  RoleCheckFailed,
  RoleDirectory,
} from '../../src/app/access.js';
import { type AccessPolicy, DEFAULT_PERMISSIONS, type PermissionRules } from '../../src/domain/access.js';
import type { Release } from '../../src/domain/release.js';
import type { TemplateItem } from '../../src/domain/template.js';
import { item, makeRelease, makeTemplate, STARTER } from '../unit/factories.js';

// RoleDirectory and the access checks (src/app/access.ts) with a fake Slack and a fake store: who
// holds a role, how long user group members are kept, and what a refusal leaves in the audit trail.
// No Redis, no Slack: "integration" only in that the domain rules and the Slack side meet here.

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const CAROL = 'W0CAROL';
const DAVE = 'U0DAVE';
const OUTSIDER = 'U0OUTSIDER';
const QA_GROUP = 'S0QA';
const OPS_GROUP = 'S0OPS';
const BROKEN_GROUP = 'S0BROKEN';
const CACHE_MS = 5 * 60_000;

const log = pino({ level: 'silent' });

/** A stand-in for SlackOutbound.listUserGroupMembers that counts its calls per group. */
class FakeOutbound {
  readonly calls: string[] = [];
  groups: Record<string, string[]> = {
    [QA_GROUP]: [BOB, CAROL],
    [OPS_GROUP]: [CAROL, DAVE],
  };

  listUserGroupMembers = async (groupId: string): Promise<string[]> => {
    this.calls.push(groupId);
    const members = this.groups[groupId];
    if (!members) throw new Error(`usergroups.users.list failed for ${groupId}`);
    return [...members];
  };

  callsFor(groupId: string): number {
    return this.calls.filter((id) => id === groupId).length;
  }
}

function policy(overrides: Partial<AccessPolicy> = {}): AccessPolicy {
  return { roles: {}, permissions: { ...DEFAULT_PERMISSIONS }, twoPersonRule: false, ...overrides };
}

const permissions = (overrides: Partial<PermissionRules>): PermissionRules => ({
  ...DEFAULT_PERMISSIONS,
  ...overrides,
});

async function holdersOf(directory: RoleDirectory, role: string): Promise<string[] | undefined> {
  const holders = await directory.resolve([role]);
  const set = holders(role);
  return set ? [...set].sort() : undefined;
}

describe('RoleDirectory.resolve', () => {
  let outbound: FakeOutbound;

  beforeEach(() => {
    outbound = new FakeOutbound();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('given a role held by users directly, when resolved, then those users hold it and Slack is not asked', async () => {
    const directory = new RoleDirectory(policy({ roles: { qa: [ALICE, CAROL] } }), outbound, log);

    expect(await holdersOf(directory, 'qa')).toEqual([ALICE, CAROL].sort());
    expect(outbound.calls).toEqual([]);
  });

  it('given a role held by a user group, when resolved, then the group is expanded to its members', async () => {
    const directory = new RoleDirectory(policy({ roles: { qa: [QA_GROUP] } }), outbound, log);

    const holders = await directory.resolve(['qa']);

    expect([...(holders('qa') ?? [])].sort()).toEqual([BOB, CAROL].sort());
    expect(holders('qa')?.has(QA_GROUP)).toBe(false);
    expect(outbound.calls).toEqual([QA_GROUP]);
  });

  it('given users and groups together, when resolved, then the role is held by their union', async () => {
    const directory = new RoleDirectory(
      policy({ roles: { ops: [ALICE, QA_GROUP, OPS_GROUP, CAROL] } }),
      outbound,
      log,
    );

    expect(await holdersOf(directory, 'ops')).toEqual([ALICE, BOB, CAROL, DAVE].sort());
    expect(outbound.calls).toEqual([QA_GROUP, OPS_GROUP]);
  });

  it('given several roles asked at once, when resolved, then each resolves on its own and unasked roles do not', async () => {
    const directory = new RoleDirectory(
      policy({ roles: { qa: [QA_GROUP], ops: [OPS_GROUP], release_manager: [ALICE] } }),
      outbound,
      log,
    );

    const holders = await directory.resolve(['qa', 'release_manager', 'qa']);

    expect([...(holders('qa') ?? [])].sort()).toEqual([BOB, CAROL].sort());
    expect([...(holders('release_manager') ?? [])]).toEqual([ALICE]);
    expect(holders('ops')).toBeUndefined();
    expect(outbound.calls).toEqual([QA_GROUP]);
  });

  it('given a role not configured, when resolved, then it resolves to undefined', async () => {
    const directory = new RoleDirectory(policy({ roles: { qa: [ALICE] } }), outbound, log);

    const holders = await directory.resolve(['ops']);

    expect(holders('ops')).toBeUndefined();
    expect(outbound.calls).toEqual([]);
  });

  describe('the user group cache', () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.UTC(2026, 2, 2, 9, 30, 0));
    });

    it('given a group resolved once, when resolved again, then Slack is asked once', async () => {
      const directory = new RoleDirectory(policy({ roles: { qa: [QA_GROUP] } }), outbound, log);

      await directory.resolve(['qa']);
      const again = await directory.resolve(['qa']);

      expect([...(again('qa') ?? [])].sort()).toEqual([BOB, CAROL].sort());
      expect(outbound.callsFor(QA_GROUP)).toBe(1);
    });

    it('given a group in two roles, when both are resolved, then Slack is asked once for it', async () => {
      const directory = new RoleDirectory(
        policy({ roles: { qa: [QA_GROUP], ops: [QA_GROUP, DAVE] } }),
        outbound,
        log,
      );

      const holders = await directory.resolve(['qa', 'ops']);

      expect([...(holders('ops') ?? [])].sort()).toEqual([BOB, CAROL, DAVE].sort());
      expect(outbound.callsFor(QA_GROUP)).toBe(1);
    });

    it('given a cached group, when just under five minutes pass, then the cached members are used', async () => {
      const directory = new RoleDirectory(policy({ roles: { qa: [QA_GROUP] } }), outbound, log);
      await directory.resolve(['qa']);
      outbound.groups[QA_GROUP] = [DAVE];

      vi.setSystemTime(Date.now() + CACHE_MS - 1);

      expect(await holdersOf(directory, 'qa')).toEqual([BOB, CAROL].sort());
      expect(outbound.callsFor(QA_GROUP)).toBe(1);
    });

    it('given a cached group, when five minutes pass, then Slack is asked again and the new members hold the role', async () => {
      const directory = new RoleDirectory(policy({ roles: { qa: [QA_GROUP] } }), outbound, log);
      await directory.resolve(['qa']);
      outbound.groups[QA_GROUP] = [DAVE];

      vi.setSystemTime(Date.now() + CACHE_MS);

      expect(await holdersOf(directory, 'qa')).toEqual([DAVE]);
      expect(outbound.callsFor(QA_GROUP)).toBe(2);

      // …and the fresh answer is kept for another five minutes.
      vi.setSystemTime(Date.now() + CACHE_MS - 1);
      await directory.resolve(['qa']);
      expect(outbound.callsFor(QA_GROUP)).toBe(2);
    });
  });

  describe('when Slack cannot list a group', () => {
    it('then resolving fails with RoleCheckFailed naming the role', async () => {
      const directory = new RoleDirectory(
        policy({ roles: { qa: [ALICE], ops: [DAVE, BROKEN_GROUP] } }),
        outbound,
        log,
      );

      const failure = await directory.resolve(['qa', 'ops']).catch((err: unknown) => err);

      expect(failure).toBeInstanceOf(RoleCheckFailed);
      expect((failure as RoleCheckFailed).role).toBe('ops');
      expect((failure as RoleCheckFailed).message).toContain('ops');
    });

    it('then the failure is not cached: once Slack answers, the group resolves', async () => {
      const directory = new RoleDirectory(policy({ roles: { qa: [BROKEN_GROUP] } }), outbound, log);
      await expect(directory.resolve(['qa'])).rejects.toBeInstanceOf(RoleCheckFailed);

      outbound.groups[BROKEN_GROUP] = [ALICE];

      expect(await holdersOf(directory, 'qa')).toEqual([ALICE]);
      expect(outbound.callsFor(BROKEN_GROUP)).toBe(2);
    });
  });
});

describe('access checks', () => {
  type AuditCall = Parameters<AccessDeps['store']['appendAudit']>;

  const qaItem = item('qa-signoff', { role: 'qa' });
  const plainItem = item('plain');
  const template = makeTemplate({
    phases: [
      { id: 'build', name: 'Build', items: [item('build-a')] },
      { id: 'approve', name: 'Approve', items: [plainItem, qaItem] },
    ],
  });
  const release: Release = makeRelease({ template });

  let outbound: FakeOutbound;
  let recorded: AuditCall[];

  beforeEach(() => {
    outbound = new FakeOutbound();
    recorded = [];
  });

  function deps(rules: AccessPolicy): AccessDeps {
    return {
      roles: new RoleDirectory(rules, outbound, log),
      store: {
        appendAudit: async (...args: AuditCall) => {
          recorded.push(args);
        },
      },
      log,
    };
  }

  const qaPolicy = policy({ roles: { qa: [ALICE, QA_GROUP] } });

  describe('checkItemChange', () => {
    const change = (rules: AccessPolicy, change: TemplateItem, user: string, done = true) =>
      checkItemChange(deps(rules), release, change, user, done);

    it('given no access rules, when anyone ticks a role item, then it may go ahead and nothing is looked up', async () => {
      expect(await change(policy(), qaItem, OUTSIDER)).toBeUndefined();
      expect(outbound.calls).toEqual([]);
      expect(recorded).toEqual([]);
    });

    it('given a holder, directly or through a group, when they tick the role item, then it may go ahead unaudited', async () => {
      expect(await change(qaPolicy, qaItem, ALICE)).toBeUndefined();
      expect(await change(qaPolicy, qaItem, BOB)).toBeUndefined();
      expect(recorded).toEqual([]);
    });

    it('given an item without a role, when anyone ticks it, then it may go ahead and no group is looked up', async () => {
      expect(await change(qaPolicy, plainItem, OUTSIDER)).toBeUndefined();
      expect(outbound.calls).toEqual([]);
      expect(recorded).toEqual([]);
    });

    it('given a non-holder, when they tick the role item, then it is refused and audited once', async () => {
      const refusal = await change(qaPolicy, qaItem, OUTSIDER, true);

      expect(refusal).toEqual({ code: 'not_permitted', action: 'tick', roles: ['qa'] });
      expect(recorded).toEqual([
        [
          release.teamId,
          release.id,
          { type: 'refused', user: OUTSIDER, action: 'tick', reason: 'role:qa', item: qaItem.id, phase: 1 },
        ],
      ]);
    });

    it('given a non-holder, when they untick the role item, then the answer and the audit say untick', async () => {
      const refusal = await change(qaPolicy, qaItem, OUTSIDER, false);

      expect(refusal).toEqual({ code: 'not_permitted', action: 'untick', roles: ['qa'] });
      expect(recorded).toHaveLength(1);
      expect(recorded[0]?.[2]).toMatchObject({
        type: 'refused',
        action: 'untick',
        reason: 'role:qa',
        item: qaItem.id,
      });
    });

    it('given the two-person rule, when the starter ticks a role item they hold, then it is refused as their own release and audited once', async () => {
      const rules = policy({ roles: { qa: [STARTER, ALICE] }, twoPersonRule: true });

      const refusal = await change(rules, qaItem, STARTER);

      expect(refusal).toEqual({ code: 'own_release' });
      expect(recorded).toEqual([
        [
          release.teamId,
          release.id,
          {
            type: 'refused',
            user: STARTER,
            action: 'tick',
            reason: 'own_release',
            item: qaItem.id,
            phase: 1,
          },
        ],
      ]);
    });

    it('given the two-person rule, when the starter ticks an item without a role, then it may go ahead', async () => {
      const rules = policy({ roles: { qa: [STARTER] }, twoPersonRule: true });

      expect(await change(rules, plainItem, STARTER)).toBeUndefined();
      expect(recorded).toEqual([]);
    });

    it('given an item that is not in the release template, when refused, then the audit has no phase', async () => {
      const stray = item('stray', { role: 'qa' });

      expect(await change(qaPolicy, stray, OUTSIDER)).toMatchObject({ code: 'not_permitted' });
      expect(recorded).toHaveLength(1);
      expect(recorded[0]?.[2]).not.toHaveProperty('phase');
      expect(recorded[0]?.[2]).toMatchObject({ item: 'stray', reason: 'role:qa' });
    });

    it('given Slack cannot list the role group, when anyone ticks the item, then the check failed and nothing is audited', async () => {
      const rules = policy({ roles: { qa: [ALICE, BROKEN_GROUP] } });

      // Even a direct holder is not let through on a guess.
      expect(await change(rules, qaItem, ALICE)).toEqual({ code: 'role_check_failed', role: 'qa' });
      expect(await change(rules, qaItem, OUTSIDER)).toEqual({ code: 'role_check_failed', role: 'qa' });
      expect(recorded).toEqual([]);
    });
  });

  describe('checkPermission', () => {
    const guarded = (extra: Partial<AccessPolicy> = {}) =>
      policy({ roles: { qa: [ALICE, QA_GROUP] }, permissions: permissions({ cancel: ['qa'] }), ...extra });

    it("given a permission open to 'anyone', when anyone acts, then it is allowed and nothing is looked up", async () => {
      expect(await checkPermission(deps(guarded()), 'start', OUTSIDER, release)).toBeUndefined();
      expect(outbound.calls).toEqual([]);
      expect(recorded).toEqual([]);
    });

    it('given a permission whose roles are not configured, when anyone acts, then it is allowed', async () => {
      expect(await checkPermission(deps(guarded()), 'go', OUTSIDER, release)).toBeUndefined();
      expect(recorded).toEqual([]);
    });

    it('given a holder through a group, when they act, then it is allowed and unaudited', async () => {
      expect(await checkPermission(deps(guarded()), 'cancel', CAROL, release)).toBeUndefined();
      expect(recorded).toEqual([]);
    });

    it('given a non-holder on a release, when they act, then it is refused and audited once', async () => {
      const refusal = await checkPermission(deps(guarded()), 'cancel', OUTSIDER, release);

      expect(refusal).toEqual({ code: 'not_permitted', action: 'cancel', roles: ['qa'] });
      expect(recorded).toEqual([
        [
          release.teamId,
          release.id,
          { type: 'refused', user: OUTSIDER, action: 'cancel', reason: 'role:qa' },
        ],
      ]);
    });

    it('given a non-holder and no release, when they act, then it is refused and nothing is audited', async () => {
      const rules = policy({ roles: { qa: [ALICE] }, permissions: permissions({ start: ['qa'] }) });

      expect(await checkPermission(deps(rules), 'start', OUTSIDER)).toEqual({
        code: 'not_permitted',
        action: 'start',
        roles: ['qa'],
      });
      expect(recorded).toEqual([]);
    });

    it('given several configured roles, when a non-holder acts, then the refusal and the audit name them all', async () => {
      const rules = policy({
        roles: { qa: [ALICE], release_manager: [DAVE] },
        permissions: permissions({ rollback: ['release_manager', 'ops', 'qa'] }),
      });

      const refusal = await checkPermission(deps(rules), 'rollback', OUTSIDER, release);

      expect(refusal).toEqual({
        code: 'not_permitted',
        action: 'rollback',
        roles: ['release_manager', 'qa'],
      });
      expect(recorded).toHaveLength(1);
      expect(recorded[0]?.[2]).toMatchObject({ reason: 'role:release_manager,qa', action: 'rollback' });
    });

    it('given Slack cannot list the role group, when anyone acts, then the check failed and nothing is audited', async () => {
      const rules = policy({ roles: { qa: [BROKEN_GROUP] }, permissions: permissions({ cancel: ['qa'] }) });

      expect(await checkPermission(deps(rules), 'cancel', ALICE, release)).toEqual({
        code: 'role_check_failed',
        role: 'qa',
      });
      expect(recorded).toEqual([]);
    });
  });
});
