import { fail, ok, type Result, releaseClosed, type UserError } from '../domain/errors.js';
import type { ItemRecord } from '../domain/recorded-value.js';
import { findBlockingPhase, type Release, waitsForGo } from '../domain/release.js';
import { findItem, rollbackPhaseIndex, type TemplateItem } from '../domain/template.js';
import { checkItemChange } from './access.js';
import type { AppDeps } from './deps.js';
import { describeRefusal, redrawPhase } from './set-item.js';

// Asking a person for the value an item records, before the tick that carries it (set-item.ts commits
// both). Nothing is committed here: what the store would refuse is refused now, so nobody types a
// value that cannot be saved, and the phase is redrawn so the box they ticked goes back.

export interface ValueEntryRequest {
  teamId: string;
  releaseId: string;
  itemId: string;
  userId: string;
}

export interface ValueEntry {
  release: Release;
  item: TemplateItem;
  record: ItemRecord;
}

/**
 * Whether the person may tick the item now, and what to ask them: the entry to show, or undefined when
 * the item is done already (their view was stale; it shows the item ticked, as stored).
 */
export async function beginValueEntry(
  deps: AppDeps,
  request: ValueEntryRequest,
): Promise<Result<ValueEntry | undefined>> {
  const release = await deps.store.getRelease(request.teamId, request.releaseId);
  const found = release ? findItem(release.template, request.itemId) : undefined;
  const refusal = release && found ? await findRefusal(deps, release, found, request.userId) : undefined;
  if (!release || !found?.item.record || refusal) {
    await redrawPhase(deps, release, request);
    deps.log.info({ ...request, code: refusal?.code ?? 'item_unknown' }, 'value entry refused');
    return fail(refusal ?? { code: 'item_unknown' });
  }
  if (release.items[request.itemId]?.done) return ok(undefined);
  return ok({ release, item: found.item, record: found.item.record });
}

/** The entry was closed without a value: the item stays as stored, and the person's box goes back. */
export async function cancelValueEntry(deps: AppDeps, request: ValueEntryRequest): Promise<void> {
  const release = await deps.store.getRelease(request.teamId, request.releaseId);
  await redrawPhase(deps, release, request);
  deps.log.info(request, 'value entry cancelled');
}

/** What set-item-9.lua and the access rules would refuse a tick for, in the same order. */
async function findRefusal(
  deps: AppDeps,
  release: Release,
  found: { item: TemplateItem; phaseIndex: number },
  userId: string,
): Promise<UserError | undefined> {
  const { item, phaseIndex } = found;
  const refused = (result: Parameters<typeof describeRefusal>[3]) =>
    describeRefusal(deps, release, item.id, result);
  if (phaseIndex === rollbackPhaseIndex(release.template)) {
    if (release.status !== 'rolling_back') return releaseClosed(release);
  } else {
    if (release.status !== 'active') return releaseClosed(release);
    const blocking = findBlockingPhase(release, phaseIndex);
    if (blocking !== undefined) return refused({ kind: 'locked', blockingPhaseIndex: blocking });
    if (release.redFlag) return refused({ kind: 'red_flag', by: release.redFlag.by });
    if (waitsForGo(release, phaseIndex)) return refused({ kind: 'awaiting_go' });
  }
  return checkItemChange(deps, release, item, userId, true);
}
