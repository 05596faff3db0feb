import type { BlockAction, ButtonAction } from '@slack/bolt';
import {
  decodeReleaseAction,
  decodeReleaseValue,
  decodeUserId,
  type ReleaseRoute,
  releaseRoutePattern,
} from '../../views/ids.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { ackWhenCommitted, commitTimer, runGuarded } from '../guard.js';
import type { ListenerApp } from '../router.js';

// The buttons on a release's messages carry the release id, as their value or in their action_id. Its
// ids are checked, its work runs guarded (a Redis outage or a bug answers the person instead of
// leaving the click unanswered), and it is acknowledged when that work is done or 1.5 s have passed.

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
  app: ListenerApp,
  deps: SlackDeps,
  actionId: string,
  handle: (click: ReleaseButtonClick) => Promise<void>,
): void {
  listen(
    app,
    deps,
    actionId,
    (action) => {
      const releaseId = decodeReleaseValue(action.value);
      return releaseId ? { releaseId } : undefined;
    },
    handle,
  );
}

/**
 * The same for buttons whose action_id carries the release and a number (a phase, a check-in, an
 * issue) and maybe a last part: "<route>|<releaseId>|<number>[|<extra>]".
 */
export function onReleaseRouteButton(
  app: ListenerApp,
  deps: SlackDeps,
  route: ReleaseRoute,
  handle: (click: ReleaseButtonClick & { index: number; extra?: string }) => Promise<void>,
): void {
  listen<{ releaseId: string; index: number; extra?: string }>(
    app,
    deps,
    releaseRoutePattern(route),
    (action) => decodeReleaseAction(route, action.action_id),
    handle,
  );
}

function listen<Target extends { releaseId: string }>(
  app: ListenerApp,
  deps: SlackDeps,
  actionId: string | RegExp,
  decode: (action: ButtonAction) => Target | undefined,
  handle: (click: ReleaseButtonClick & Target) => Promise<void>,
): void {
  app.action<BlockAction<ButtonAction>>({ action_id: actionId }, async ({ ack, body, action, respond }) => {
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
    const teamId = body.team?.id;
    const userId = decodeUserId(body.user);
    const target = decode(action);
    if (!teamId || !userId || !target) {
      await ack();
      return void (await tell(describeUserError({ code: 'payload_invalid' })).catch(() => {}));
    }
    const click = {
      ...target,
      teamId,
      userId,
      triggerId: body.trigger_id,
      actionTs: action.action_ts,
      tell,
    };
    const context = { teamId, releaseId: target.releaseId, userId: click.userId, actionId: action.action_id };
    // Acknowledged once the button's work is done (a change committed, a modal open), or after the
    // budget: a click Slack saw accepted is not lost to a crash right after the acknowledgement.
    const handling = runGuarded(deps.log, context, tell, () => handle(click));
    await ackWhenCommitted(ack, handling, { observe: commitTimer(deps, 'release-button') });
    await handling;
  });
}
