import type { BlockAction, CheckboxesAction } from '@slack/bolt';
import { z } from 'zod';
import { hasAccessRules } from '../../domain/access.js';
import { releaseClosed, type UserError } from '../../domain/errors.js';
import type { Release } from '../../domain/release.js';
import { findItem } from '../../domain/template.js';
import type { ChangeResult } from '../../store/release-store.js';
import { checkItemChange } from '../access.js';
import type { SlackDeps } from '../deps.js';
import { runGuarded } from '../guard.js';
import { decodeItemActionId, ITEM_ACTION_PATTERN } from '../ids.js';
import type { ListenerApp } from '../router.js';
import { describeUserError } from '../user-errors.js';
import { renderLockRefusal } from '../views/command-replies.js';

// A click on an item's checkbox. The action says what that user did to that one item ("set done" or
// "set not done"), whatever the rest of their possibly stale view of the message showed, and exactly
// that is applied, atomically with its audit event.

const ItemClick = z.object({
  team: z.object({ id: z.string().min(1) }),
  user: z.object({ id: z.string().min(1) }),
  action: z.object({
    type: z.literal('checkboxes'),
    action_id: z.string(),
    action_ts: z.string().min(1),
    selected_options: z.array(z.object({ value: z.string() })).max(10),
  }),
});

/**
 * Checks the access rules for a tick or untick before it is applied: the item's role, and the
 * two-person rule. Resolves with the error to show, or undefined. Without rules nothing is read.
 */
export async function refuseItemChange(
  deps: SlackDeps,
  teamId: string,
  releaseId: string,
  itemId: string,
  userId: string,
  done: boolean,
): Promise<UserError | undefined> {
  if (!hasAccessRules(deps.roles.policy)) return undefined;
  const release = await deps.store.getRelease(teamId, releaseId);
  const found = release ? findItem(release.template, itemId) : undefined;
  if (!release || !found) return undefined;
  const refusal = await checkItemChange(deps, release, found.item, userId, done);
  if (refusal) {
    // Their client shows the box as they clicked it; a re-render puts back the stored state.
    await deps.store.bumpPhaseNonce(teamId, releaseId, found.phaseIndex);
    await deps.syncQueue.requestSync({ teamId, releaseId });
  }
  return refusal;
}

/**
 * A click the store refused: the item's phase is redrawn with new block ids (their client still
 * shows the box as they clicked it), and the refusal is put in words. Reads the release once.
 */
async function refuseClick(
  deps: SlackDeps,
  teamId: string,
  releaseId: string,
  itemId: string,
  result: ChangeResult,
): Promise<{ text: string; env: string }> {
  const release = await deps.store.getRelease(teamId, releaseId);
  const phaseIndex = release ? findItem(release.template, itemId)?.phaseIndex : undefined;
  await deps.store.bumpPhaseNonce(teamId, releaseId, Math.max(phaseIndex ?? 0, 0));
  await deps.syncQueue.requestSync({ teamId, releaseId });
  return { text: await describeRefusedClick(deps, release, itemId, result), env: release?.env ?? '' };
}

/** The answer to a click the store refused: the release is closed, or the item's phase is locked. */
export async function describeRefusedClick(
  deps: SlackDeps,
  release: Release | undefined,
  itemId: string,
  result: ChangeResult,
): Promise<string> {
  const location = release ? findItem(release.template, itemId) : undefined;
  if (!release || !location) return describeUserError({ code: 'item_unknown' });
  let error: UserError = { code: 'item_unknown' };
  if (result.kind === 'red_flag') {
    error = { code: 'red_flag_stop', by: result.by };
  } else if (result.kind === 'awaiting_go') {
    error = { code: 'awaiting_go' };
  } else if (result.kind === 'env_locked') {
    const holder = await deps.store.getRelease(release.teamId, result.holderReleaseId);
    error = {
      code: 'env_locked',
      env: release.env,
      holderVersion: holder?.version ?? result.holderReleaseId,
      holderBy: holder?.startedBy ?? '',
      since: holder?.lockedAt ?? holder?.startedAt ?? Date.now(),
    };
  } else if (result.kind === 'closed') {
    error = releaseClosed(release, result.status);
  } else if (result.kind === 'locked') {
    const blocking = release.template.phases[result.blockingPhaseIndex]!;
    error = {
      code: 'phase_locked',
      phaseName: release.template.phases[location.phaseIndex]?.name ?? '',
      blockingPhaseName: blocking.name,
      openItems: blocking.items
        .filter((item) => item.required && !release.items[item.id]?.done)
        .map((item) => item.text),
    };
  }
  return describeUserError(error);
}

/** An applied tick or untick; what follows from it comes from its audit event (src/app/relay.ts). */
export function noteItemChange(
  deps: SlackDeps,
  teamId: string,
  releaseId: string,
  done: boolean,
  result: Extract<ChangeResult, { kind: 'applied' }>,
): void {
  deps.relay.committed({
    intent: done ? 'tick' : 'untick',
    teamId,
    releaseId,
    deployed: result.deployed === true,
    completed: result.completed,
  });
}

export function registerItemActions(app: ListenerApp, deps: SlackDeps): void {
  app.action<BlockAction<CheckboxesAction>>(
    { action_id: ITEM_ACTION_PATTERN },
    async ({ ack, body, action, respond }) => {
      await ack();
      const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
      const parsed = ItemClick.safeParse({ team: body.team, user: body.user, action });
      const target = parsed.success ? decodeItemActionId(parsed.data.action.action_id) : undefined;
      if (!parsed.success || !target) {
        deps.log.warn({ actionId: action?.action_id }, 'unreadable item click');
        await tell(describeUserError({ code: 'payload_invalid' })).catch(() => {});
        return;
      }
      const { team, user } = parsed.data;
      const click = parsed.data.action;
      const done = click.selected_options.length > 0;
      // Fields rather than a child logger: this runs on every click, and a child costs an allocation.
      const context = {
        teamId: team.id,
        releaseId: target.releaseId,
        itemId: target.itemId,
        userId: user.id,
      };
      await runGuarded(deps.log, context, tell, async () => {
        const refusal = await refuseItemChange(deps, team.id, target.releaseId, target.itemId, user.id, done);
        if (refusal) return void (await tell(describeUserError(refusal)));
        const result = await deps.store.setItem({
          teamId: team.id,
          releaseId: target.releaseId,
          itemId: target.itemId,
          done,
          userId: user.id,
          requestId: `${user.id}-${click.action_ts}-${target.releaseId}-${target.itemId}`,
        });
        switch (result.kind) {
          case 'applied':
            deps.log.info(
              { ...context, done, rev: result.rev, completed: result.completed },
              done ? 'item ticked' : 'item unticked',
            );
            noteItemChange(deps, team.id, target.releaseId, done, result);
            return;
          case 'unchanged':
          case 'replayed':
            deps.log.debug({ ...context, result: result.kind }, 'click changed nothing');
            return;
          case 'env_locked': {
            const { text, env } = await refuseClick(deps, team.id, target.releaseId, target.itemId, result);
            deps.log.info(
              { ...context, holder: result.holderReleaseId },
              'click refused: environment in use',
            );
            await respond({
              response_type: 'ephemeral',
              replace_original: false,
              text,
              blocks: renderLockRefusal(text, env),
            });
            return;
          }
          case 'locked':
          case 'red_flag':
          case 'awaiting_go':
          case 'closed': {
            const { text } = await refuseClick(deps, team.id, target.releaseId, target.itemId, result);
            deps.log.info({ ...context, result: result.kind }, 'click refused');
            await tell(text);
            return;
          }
          case 'not_found':
          case 'unknown_item':
            deps.log.warn({ ...context, result: result.kind }, 'click on an unknown release or item');
            await tell(describeUserError({ code: 'item_unknown' }));
            return;
          default:
            throw new Error(`unexpected result ${result.kind} for a click`);
        }
      });
    },
  );
}
