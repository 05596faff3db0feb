import type { BlockAction, CheckboxesAction, RespondFn } from '@slack/bolt';
import { z } from 'zod';
import { setItem } from '../../app/set-item.js';
import { renderLockRefusal } from '../../views/command-replies.js';
import { decodeItemActionId, ITEM_ACTION_PATTERN } from '../../views/ids.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { ackWhenCommitted, commitTimer, replyUrlOf, runGuarded } from '../guard.js';
import type { ListenerApp } from '../router.js';

// A click on an item's checkbox: read it, set the item (src/app/set-item.ts), and say why not when
// it was refused. The action says what that user did to that one item ("set done" or "set not
// done"), whatever the rest of their possibly stale view of the message showed. A tick of an item
// that records a value opens a form instead (item-values.ts); its untick comes through here too.

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

export interface ItemClickTarget {
  teamId: string;
  releaseId: string;
  itemId: string;
  userId: string;
  actionTs: string;
}

export function registerItemActions(app: ListenerApp, deps: SlackDeps): void {
  app.action<BlockAction<CheckboxesAction>>(
    { action_id: ITEM_ACTION_PATTERN },
    async ({ ack, body, action, respond }) => {
      const parsed = ItemClick.safeParse({ team: body.team, user: body.user, action });
      const target = parsed.success ? decodeItemActionId(parsed.data.action.action_id) : undefined;
      if (!parsed.success || !target) {
        await ack();
        deps.log.warn({ actionId: action?.action_id }, 'unreadable item click');
        await tellClicker(respond, describeUserError({ code: 'payload_invalid' })).catch(() => {});
        return;
      }
      const click = parsed.data.action;
      await commitItemClick(
        deps,
        { ack, body, respond },
        {
          teamId: parsed.data.team.id,
          ...target,
          userId: parsed.data.user.id,
          actionTs: click.action_ts,
        },
        click.selected_options.length > 0,
      );
    },
  );
}

function tellClicker(respond: RespondFn, text: string) {
  return respond({ response_type: 'ephemeral', replace_original: false, text });
}

/** Sets the item as the click says, acknowledged once committed, and tells the clicker a refusal. */
export async function commitItemClick(
  deps: SlackDeps,
  { ack, body, respond }: { ack: () => Promise<void>; body: { response_url?: unknown }; respond: RespondFn },
  target: ItemClickTarget,
  done: boolean,
): Promise<void> {
  const { teamId, releaseId, itemId, userId } = target;
  // Fields rather than a child logger: this runs on every click, and a child costs an allocation.
  const context = { teamId, releaseId, itemId, userId };
  const committing = setItem(deps, {
    teamId,
    releaseId,
    itemId,
    done,
    userId,
    requestId: `${userId}-${target.actionTs}-${releaseId}-${itemId}`,
    click: replyUrlOf(body),
  });
  // Acknowledged once committed: a click Slack saw accepted is never lost to a crash.
  await ackWhenCommitted(ack, committing, { observe: commitTimer(deps, 'checkbox') });
  await runGuarded(
    deps.log,
    context,
    (text) => tellClicker(respond, text),
    async () => {
      const outcome = await committing;
      if (outcome.ok) return;
      const text = describeUserError(outcome.error);
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text,
        ...(outcome.error.code === 'env_locked'
          ? { blocks: renderLockRefusal(text, outcome.error.env) }
          : {}),
      });
    },
  );
}
