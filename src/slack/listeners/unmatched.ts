import type { Logger } from '../../log.js';
import type { UnmatchedHandlers } from '../router.js';

// A click or a modal submission that no listener matches: a button on a message an older version of
// shipcheck posted, whose action id has since changed, or a forged id. It is acked at once (else Slack
// shows an error after 3 s), changes nothing, and the person who clicked is told why nothing happened.

export const RETIRED_BUTTON_TEXT =
  'That button is from an older shipcheck message and no longer does anything. `/deploy status` shows the release as it is now.';

export function unmatchedRequests(log: Logger): UnmatchedHandlers {
  return {
    action: async ({ ack, action, body, respond }) => {
      await ack();
      const actionId = (action as { action_id?: string }).action_id;
      log.info({ actionId, teamId: body.team?.id, userId: body.user?.id }, 'click with no listener acked');
      // Only a click on a message has a response_url; one in a modal or the Home tab has nowhere to answer.
      if (!('response_url' in body) || !body.response_url) return;
      await respond({ response_type: 'ephemeral', replace_original: false, text: RETIRED_BUTTON_TEXT }).catch(
        (err: unknown) => log.warn({ err, actionId }, 'could not explain a retired button'),
      );
    },
    view: async ({ ack, view, body }) => {
      await ack();
      log.info(
        { callbackId: view.callback_id, teamId: body.team?.id, userId: body.user?.id },
        'modal submission with no listener acked',
      );
    },
  };
}
