import type { Permission } from '../domain/access.js';
import { fail, ok, type Result, type UserError } from '../domain/errors.js';
import type { Release } from '../domain/release.js';
import type { ChangeResult } from '../store/change-results.js';
import type { ReleaseStore } from '../store/release-store.js';
import { checkPermission } from './access.js';
import type { AppDeps } from './deps.js';
import { describeCommonRefusal, isCommonRefusal } from './refusals.js';

// The shape every change to a release shares: the release is read, the permission checked (a refusal
// is audited) and the intent's own rules, one store script commits the change with its audit event,
// and a committed change is handed to the relay, which derives everything that follows from the
// record. Intents differ only in their script and in the refusals only they can meet.

/** What a store command takes; an intent's request is the same, read from a person or a pipeline. */
export type StoreInput<Command extends keyof ReleaseStore> = ReleaseStore[Command] extends (
  input: infer Input,
) => Promise<unknown>
  ? Input
  : never;

export type Applied = Extract<ChangeResult, { kind: 'applied' }>;

/** `applied` is absent when nothing changed: the same request was applied before, or nothing was to do. */
export type ChangeOutcome = Result<{ release: Release; applied?: Applied }>;

export interface ChangeSpec {
  teamId: string;
  releaseId: string;
  userId: string;
  /** Names the change in logs and for the relay: cancel, rollback, override-gate, … */
  intent: string;
  permission?: Permission;
  /** A rule of this intent the release must meet before anything is written. */
  check?: (release: Release) => UserError | undefined;
  commit: (release: Release) => Promise<ChangeResult>;
  /** Words a refusal only this intent meets; undefined leaves it to the common wording. */
  refuse?: (release: Release, result: ChangeResult) => UserError | undefined;
}

export async function changeRelease(deps: AppDeps, spec: ChangeSpec): Promise<ChangeOutcome> {
  const { teamId, releaseId, userId, intent } = spec;
  const release = await deps.store.getRelease(teamId, releaseId);
  if (!release) return fail({ code: 'item_unknown' });
  if (spec.permission) {
    const denied = await checkPermission(deps, spec.permission, userId, release);
    if (denied) return fail(denied);
  }
  const broken = spec.check?.(release);
  if (broken) return fail(broken);
  const result = await spec.commit(release);
  const context = { teamId, releaseId, userId, intent };
  if (result.kind === 'applied') {
    deps.log.info({ ...context, rev: result.rev, completed: result.completed }, 'release changed');
    deps.relay.committed({ intent, teamId, releaseId, completed: result.completed });
    return ok({ release, applied: result });
  }
  if (result.kind === 'replayed' || result.kind === 'unchanged') return ok({ release });
  deps.log.info({ ...context, result: result.kind }, 'change refused');
  const own = spec.refuse?.(release, result);
  if (own) return fail(own);
  if (isCommonRefusal(result)) return fail(describeCommonRefusal(release, result));
  deps.log.warn({ ...context, result: result.kind }, 'change refused for a reason this intent cannot meet');
  return fail({ code: 'payload_invalid' });
}
