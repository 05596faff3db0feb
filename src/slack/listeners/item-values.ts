import type { BlockAction, ButtonAction, CheckboxesAction, ViewClosedAction } from '@slack/bolt';
import { z } from 'zod';
import { beginValueEntry, cancelValueEntry } from '../../app/record-value.js';
import { type SetItemOutcome, setItem } from '../../app/set-item.js';
import {
  CallbackId,
  decodeItemMetadata,
  decodeItemRecordActionId,
  decodeUserId,
  ITEM_RECORD_PATTERN,
  ValueField,
} from '../../views/ids.js';
import { renderValueModal } from '../../views/recorded-values.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { ackWhenCommitted, commitTimer, runForSubmittedChange, runGuarded } from '../guard.js';
import { modalText } from '../modal-input.js';
import type { ListenerApp } from '../router.js';
import { commitItemClick } from './item-actions.js';

// Items that record a value (a backup id, a commit SHA). Ticking one, by its checkbox or a reminder's
// "Done…" button, commits nothing: it is acknowledged at once and opens a form asking for the value,
// since Slack's trigger_id lasts 3 seconds. Submitting the form ticks the item with the value
// (set-item.ts checks it: a wrong one is shown in the form); closing it puts the person's box back.

const ValueClick = z.object({
  team: z.object({ id: z.string().min(1) }),
  user: z.object({ id: z.string().min(1) }),
  trigger_id: z.string().min(1),
  action: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('checkboxes'),
      action_id: z.string(),
      action_ts: z.string().min(1),
      selected_options: z.array(z.object({ value: z.string() })).max(10),
    }),
    z.object({ type: z.literal('button'), action_id: z.string(), action_ts: z.string().min(1) }),
  ]),
});

const COULD_NOT_OPEN =
  'I could not open the form for its value in time, so nothing was changed. Please tick the item again.';

export function registerItemValueActions(app: ListenerApp, deps: SlackDeps): void {
  app.action<BlockAction<CheckboxesAction | ButtonAction>>(
    { action_id: ITEM_RECORD_PATTERN },
    async ({ ack, body, action, respond }) => {
      const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
      const parsed = ValueClick.safeParse({
        team: body.team,
        user: body.user,
        trigger_id: body.trigger_id,
        action,
      });
      const target = parsed.success ? decodeItemRecordActionId(parsed.data.action.action_id) : undefined;
      if (!parsed.success || !target) {
        await ack();
        deps.log.warn({ actionId: action?.action_id }, 'unreadable value item click');
        return void (await tell(describeUserError({ code: 'payload_invalid' })).catch(() => {}));
      }
      const click = parsed.data.action;
      const request = { teamId: parsed.data.team.id, ...target, userId: parsed.data.user.id };
      // An untick commits like any other: it clears the value.
      if (click.type === 'checkboxes' && click.selected_options.length === 0) {
        return commitItemClick(
          deps,
          { ack, body, respond },
          { ...request, actionTs: click.action_ts },
          false,
        );
      }
      await ack();
      await runGuarded(deps.log, request, tell, async () => {
        const entry = await beginValueEntry(deps, request);
        if (!entry.ok) return void (await tell(describeUserError(entry.error)));
        if (!entry.value) return;
        const { release, item, record } = entry.value;
        try {
          await deps.outbound.openView(parsed.data.trigger_id, renderValueModal(release, item, record));
        } catch (err) {
          deps.log.warn({ ...request, err }, 'value form not opened');
          await cancelValueEntry(deps, request);
          await tell(COULD_NOT_OPEN);
        }
      });
    },
  );

  app.view(CallbackId.recordValue, async ({ ack, body, view }) => {
    const target = decodeItemMetadata(view.private_metadata);
    const userId = decodeUserId(body.user);
    if (!target || !userId) {
      await ack();
      return void deps.log.warn({ callbackId: view.callback_id }, 'unreadable value form');
    }
    const request = { ...target, userId };
    let settled: SetItemOutcome | undefined;
    const committing = setItem(deps, {
      ...request,
      done: true,
      value: modalText(view, ValueField.block, ValueField.action),
      requestId: `value-${view.id}`,
      // No response_url in a modal: a submission lost with its process is told in the release's channel.
      click: {},
    }).then((outcome) => {
      settled = outcome;
      return outcome;
    });
    // A wrong value is shown in the form, which stays open; anything else closes it.
    let inForm = false;
    const answer = async () => {
      if (settled?.ok === false && settled.error.code === 'value_invalid') {
        inForm = true;
        await ack({ response_action: 'errors', errors: { [ValueField.block]: settled.error.problem } });
      } else {
        await ack();
      }
    };
    await ackWhenCommitted(answer, committing, { observe: commitTimer(deps, 'value-form') });
    await runForSubmittedChange(deps, deps.log, request, async (tell) => {
      const outcome = await committing;
      if (outcome.ok || inForm) return;
      await tell(describeUserError(outcome.error));
      // Refused by the store, the phase is redrawn already; a wrong value told only now was not.
      if (outcome.error.code === 'value_invalid') await cancelValueEntry(deps, request);
    });
  });

  app.view<ViewClosedAction>(
    { callback_id: CallbackId.recordValue, type: 'view_closed' },
    async ({ ack, body, view }) => {
      await ack();
      const target = decodeItemMetadata(view.private_metadata);
      const userId = decodeUserId(body.user);
      if (!target || !userId) return;
      const request = { ...target, userId };
      await runGuarded(
        deps.log,
        request,
        async () => undefined,
        () => cancelValueEntry(deps, request),
      );
    },
  );
}
