import type { BlockAction, CheckboxesAction } from '@slack/bolt';
import { z } from 'zod';
import { setItem } from '../../app/set-item.js';
import { renderLockRefusal } from '../../views/command-replies.js';
import { decodeItemActionId, ITEM_ACTION_PATTERN } from '../../views/ids.js';
import type { SlackDeps } from '../deps.js';
import { ackWhenCommitted, commitTimer, replyUrlOf, runGuarded } from '../guard.js';
import type { ListenerApp } from '../router.js';
import { describeUserError } from '../user-errors.js';

// A click on an item's checkbox: read it, set the item (src/app/set-item.ts), and say why not when
// it was refused. The action says what that user did to that one item ("set done" or "set not
// done"), whatever the rest of their possibly stale view of the message showed.

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

export function registerItemActions(app: ListenerApp, deps: SlackDeps): void {
  app.action<BlockAction<CheckboxesAction>>(
    { action_id: ITEM_ACTION_PATTERN },
    async ({ ack, body, action, respond }) => {
      const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
      const parsed = ItemClick.safeParse({ team: body.team, user: body.user, action });
      const target = parsed.success ? decodeItemActionId(parsed.data.action.action_id) : undefined;
      if (!parsed.success || !target) {
        await ack();
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
      const committing = setItem(deps, {
        teamId: team.id,
        releaseId: target.releaseId,
        itemId: target.itemId,
        done,
        userId: user.id,
        requestId: `${user.id}-${click.action_ts}-${target.releaseId}-${target.itemId}`,
        click: replyUrlOf(body),
      });
      // Acknowledged once committed: a click Slack saw accepted is never lost to a crash.
      await ackWhenCommitted(ack, committing, { observe: commitTimer(deps, 'checkbox') });
      await runGuarded(deps.log, context, tell, async () => {
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
      });
    },
  );
}
