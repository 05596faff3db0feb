import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { SlackDeps } from '../deps.js';
import { runGuarded } from '../guard.js';
import { decodeReleaseValue } from '../ids.js';
import { describeUserError } from '../user-errors.js';

// The buttons on a release's header carry the release id as their value. Each is acknowledged at
// once, its ids are checked, and its work runs guarded: a Redis outage or a bug answers the person
// instead of leaving the click unanswered.

export interface ReleaseButtonClick {
  teamId: string;
  releaseId: string;
  userId: string;
  triggerId: string;
  actionTs: string;
  /** Answers only the person who clicked. */
  tell: (text: string) => Promise<unknown>;
}

export function onReleaseButton(
  app: App,
  deps: SlackDeps,
  actionId: string,
  handle: (click: ReleaseButtonClick) => Promise<void>,
): void {
  app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, respond }) => {
    await ack();
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
    const teamId = body.team?.id;
    const releaseId = decodeReleaseValue(action.value);
    if (!teamId || !releaseId) {
      return void (await tell(describeUserError({ code: 'payload_invalid' })).catch(() => {}));
    }
    const click = {
      teamId,
      releaseId,
      userId: body.user.id,
      triggerId: body.trigger_id,
      actionTs: action.action_ts,
      tell,
    };
    await runGuarded(deps.log, { teamId, releaseId, userId: click.userId, actionId }, tell, () =>
      handle(click),
    );
  });
}
