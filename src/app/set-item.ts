import { hasAccessRules } from '../domain/access.js';
import { isPipelineActor } from '../domain/actor.js';
import { fail, ok, type Result, releaseClosed, type UserError } from '../domain/errors.js';
import { findActiveFreeze, freezeBlockingTick } from '../domain/freeze.js';
import { checkRecordedValue } from '../domain/recorded-value.js';
import type { ItemEvidence, Release } from '../domain/release.js';
import { findItem } from '../domain/template.js';
import type { ChangeResult } from '../store/change-results.js';
import { checkItemChange } from './access.js';
import type { AppDeps } from './deps.js';
import { seams } from './seams.js';

// Ticking or unticking one checklist item: from a checkbox in the thread, a reminder's Done button,
// or a pipeline. The request says what to set the item to ("done" or "not done"), whatever the
// requester saw before, and exactly that is applied with its audit event in one script. An item that
// records a value (a backup id, a commit SHA) is ticked with its value, checked here against the
// template whichever door it came through; an untick clears it.

export interface SetItemRequest {
  teamId: string;
  releaseId: string;
  itemId: string;
  done: boolean;
  userId: string;
  /** Identifies the request, so that a retry of it changes nothing. */
  requestId: string;
  /** The value a tick records, for an item whose template says it records one. Ignored on an untick. */
  value?: string;
  /** A pipeline's proof of its change (`userId` is then its actor id): a link and a one-line summary. */
  evidence?: ItemEvidence;
  /**
   * A person's click in Slack, whose client already shows it applied: it is noted until committed, so
   * that a click lost with its process is put back and told, at its response_url when there is one.
   */
  click?: { replyUrl?: string };
}

/** `changed` is false when the item already was in that state, or the same request was applied. */
export type SetItemOutcome = Result<{ changed: boolean; deployed: boolean; completed: boolean }>;

export async function setItem(deps: AppDeps, request: SetItemRequest): Promise<SetItemOutcome> {
  const { teamId, releaseId, itemId, done, userId } = request;
  // Read only when a value comes with the tick (once, also for the access rules): a plain tick stays
  // one round trip.
  let value: string | undefined;
  let release: Release | undefined;
  if (done && request.value !== undefined) {
    release = await deps.store.getRelease(teamId, releaseId);
    const checked = checkValue(release, request, request.value);
    if (!checked.ok) return fail(checked.error);
    value = checked.value;
  }
  const noting = noteClick(deps, request);
  // Who may change the item first (a 403 for a pipeline), then whether the release may deploy now.
  const denied =
    (await refuseByAccess(deps, request, release)) ?? (await refuseByFreeze(deps, request, release));
  if (denied) {
    if (noting) await noting.then(() => deps.store.clicks.forget(teamId, request.requestId));
    return fail(denied);
  }
  if (seams.beforeCommit) {
    await seams.beforeCommit({ intent: done ? 'tick' : 'untick', teamId, releaseId, noted: noting });
  }
  // The note and the commit go out together on one connection, in that order.
  const [result] = await Promise.all([deps.store.setItem({ ...request, value }), noting]);
  const context = { teamId, releaseId, itemId, userId };
  switch (result.kind) {
    case 'applied': {
      const deployed = result.deployed === true;
      deps.log.info(
        { ...context, done, rev: result.rev, completed: result.completed, recorded: value !== undefined },
        done ? 'item ticked' : 'item unticked',
      );
      deps.relay.committed({
        intent: done ? 'tick' : 'untick',
        teamId,
        releaseId,
        deployed,
        completed: result.completed,
      });
      return ok({ changed: true, deployed, completed: result.completed });
    }
    case 'unchanged':
    case 'replayed':
      deps.log.debug({ ...context, result: result.kind }, 'click changed nothing');
      return ok({ changed: false, deployed: false, completed: false });
    case 'not_found':
    case 'unknown_item':
      deps.log.warn({ ...context, result: result.kind }, 'click on an unknown release or item');
      return fail({ code: 'item_unknown' });
    case 'env_locked':
    case 'locked':
    case 'red_flag':
    case 'awaiting_go':
    case 'closed': {
      const release = await deps.store.getRelease(teamId, releaseId);
      await redrawPhase(deps, release, request);
      deps.log.info({ ...context, result: result.kind }, 'click refused');
      return fail(await describeRefusal(deps, release, itemId, result));
    }
    case 'value_required': {
      const release = await deps.store.getRelease(teamId, releaseId);
      await redrawPhase(deps, release, request);
      deps.log.info({ ...context, result: result.kind }, 'tick without its value refused');
      const item = release ? findItem(release.template, itemId)?.item : undefined;
      return fail({
        code: 'value_required',
        itemText: item?.text ?? itemId,
        label: item?.record?.label ?? 'value',
      });
    }
  }
}

/** The value given with a tick, checked against what the item records in the release's template. */
function checkValue(
  release: Release | undefined,
  request: SetItemRequest,
  given: string,
): { ok: true; value: string | undefined } | { ok: false; error: UserError } {
  const item = release ? findItem(release.template, request.itemId)?.item : undefined;
  if (!item) return { ok: false, error: { code: 'item_unknown' } };
  if (!item.record) {
    return {
      ok: false,
      error: { code: 'value_invalid', label: 'value', problem: 'This item records no value.' },
    };
  }
  const checked = checkRecordedValue(item.record, given);
  return checked.ok
    ? checked
    : { ok: false, error: { code: 'value_invalid', label: item.record.label, problem: checked.problem } };
}

function noteClick(deps: AppDeps, request: SetItemRequest): Promise<void> | undefined {
  if (!request.click) return undefined;
  const { teamId, releaseId, itemId, userId, done, requestId } = request;
  const noting = deps.store.clicks.note({
    clickId: requestId,
    teamId,
    releaseId,
    itemId,
    userId,
    done,
    at: Date.now(),
    ...(request.click.replyUrl ? { replyUrl: request.click.replyUrl } : {}),
  });
  // Awaited with the commit; until then a rejection must not go unhandled.
  noting.catch(() => undefined);
  return noting;
}

/**
 * A deployment-phase tick inside a freeze the release has no override for is refused and audited;
 * unticks never are. The release is read only while some environment is frozen.
 */
async function refuseByFreeze(
  deps: AppDeps,
  request: SetItemRequest,
  alreadyRead: Release | undefined,
): Promise<UserError | undefined> {
  const windows = deps.config.freezeWindows;
  const now = Date.now();
  if (!request.done || !windows.some((window) => findActiveFreeze([window], window.env, now)))
    return undefined;
  const release = alreadyRead ?? (await deps.store.getRelease(request.teamId, request.releaseId));
  if (release?.status !== 'active') return undefined;
  const freeze = freezeBlockingTick(windows, release, request.itemId, request.done, now);
  if (!freeze) return undefined;
  const phase = findItem(release.template, request.itemId)?.phaseIndex;
  await deps.store.appendAudit(request.teamId, request.releaseId, {
    type: 'refused',
    user: request.userId,
    action: 'tick',
    reason: 'frozen',
    item: request.itemId,
    ...(phase !== undefined ? { phase } : {}),
  });
  deps.log.info(
    { teamId: request.teamId, releaseId: request.releaseId, itemId: request.itemId, userId: request.userId },
    'deployment tick refused by a freeze',
  );
  await redrawPhase(deps, release, request);
  return {
    code: 'deploy_frozen',
    env: release.env,
    window: freeze.window.text,
    endsAt: freeze.endsAt,
    version: release.version,
  };
}

/** The role and two-person rules; a refusal is audited. Without rules nothing is read. */
async function refuseByAccess(
  deps: AppDeps,
  request: SetItemRequest,
  alreadyRead: Release | undefined,
): Promise<UserError | undefined> {
  if (isPipelineActor(request.userId)) return refusePipelineItem(deps, request, alreadyRead);
  if (!hasAccessRules(deps.roles.policy)) return undefined;
  const release = alreadyRead ?? (await deps.store.getRelease(request.teamId, request.releaseId));
  const found = release ? findItem(release.template, request.itemId) : undefined;
  if (!release || !found) return undefined;
  const refusal = await checkItemChange(deps, release, found.item, request.userId, request.done);
  if (refusal) await redrawPhase(deps, release, request);
  return refusal;
}

/**
 * A machine ticks only what its template marks for pipelines: never a person's sign-off, never the go
 * call. The role rules are for people; a pipeline's reach is its token's environments, checked before.
 */
async function refusePipelineItem(
  deps: AppDeps,
  request: SetItemRequest,
  alreadyRead: Release | undefined,
): Promise<UserError | undefined> {
  const release = alreadyRead ?? (await deps.store.getRelease(request.teamId, request.releaseId));
  const found = release ? findItem(release.template, request.itemId) : undefined;
  if (!release || !found) return undefined;
  if (found.item.pipeline === true) return undefined;
  await deps.store.appendAudit(release.teamId, release.id, {
    type: 'refused',
    user: request.userId,
    action: request.done ? 'tick' : 'untick',
    reason: 'pipeline_item',
    item: found.item.id,
    phase: found.phaseIndex,
  });
  deps.log.info(
    { teamId: release.teamId, releaseId: release.id, itemId: found.item.id, actor: request.userId },
    'pipeline change of a person’s item refused',
  );
  return { code: 'pipeline_item_refused', itemText: found.item.text };
}

/**
 * The requester's Slack client shows the box as they clicked it; only a re-render with new block ids
 * puts back the stored state.
 */
export async function redrawPhase(
  deps: AppDeps,
  release: Release | undefined,
  request: Pick<SetItemRequest, 'teamId' | 'releaseId' | 'itemId'>,
): Promise<void> {
  const phaseIndex = release ? findItem(release.template, request.itemId)?.phaseIndex : undefined;
  await deps.store.messages.bumpPhaseNonce(request.teamId, request.releaseId, Math.max(phaseIndex ?? 0, 0));
  await deps.syncQueue.requestSync({ teamId: request.teamId, releaseId: request.releaseId });
}

/** Why the store refused the change, as the error to show. */
export async function describeRefusal(
  deps: AppDeps,
  release: Release | undefined,
  itemId: string,
  result: Extract<ChangeResult, { kind: 'env_locked' | 'locked' | 'red_flag' | 'awaiting_go' | 'closed' }>,
): Promise<UserError> {
  const location = release ? findItem(release.template, itemId) : undefined;
  if (!release || !location) return { code: 'item_unknown' };
  switch (result.kind) {
    case 'red_flag':
      return { code: 'red_flag_stop', by: result.by };
    case 'awaiting_go':
      return { code: 'awaiting_go' };
    case 'closed':
      return releaseClosed(release, result.status);
    case 'env_locked': {
      const holder = await deps.store.getRelease(release.teamId, result.holderReleaseId);
      return {
        code: 'env_locked',
        env: release.env,
        holderVersion: holder?.version ?? result.holderReleaseId,
        holderBy: holder?.startedBy ?? '',
        since: holder?.lockedAt ?? holder?.startedAt ?? Date.now(),
      };
    }
    case 'locked': {
      const blocking = release.template.phases[result.blockingPhaseIndex]!;
      return {
        code: 'phase_locked',
        phaseName: release.template.phases[location.phaseIndex]?.name ?? '',
        blockingPhaseName: blocking.name,
        openItems: blocking.items
          .filter((item) => item.required && !release.items[item.id]?.done)
          .map((item) => item.text),
      };
    }
  }
}
