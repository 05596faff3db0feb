import type { BlockAction, ButtonAction, ViewSubmitAction } from '@slack/bolt';
import { checkPermission } from '../../app/access.js';
import { startRelease } from '../../app/start-release.js';
import { findActiveFreeze } from '../../domain/freeze.js';
import { renderFreezeOverrideModal } from '../../views/command-replies.js';
import { ActionId, CallbackId, decodeUserId, FreezeField } from '../../views/ids.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { decodeFrozenStart, encodeFrozenStart } from '../frozen-start.js';
import { runGuarded } from '../guard.js';
import { modalText } from '../modal-input.js';
import type { ListenerApp } from '../router.js';

// "Override the freeze…" under a start refused by a freeze window: a release manager gives a reason
// and the release starts anyway, with the override on the record and announced.

const MIN_REASON = 5;
const MAX_REASON = 500;

export function registerFreezeActions(app: ListenerApp, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(ActionId.overrideFreeze, async ({ ack, body, action, respond }) => {
    await ack();
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
    const start = decodeFrozenStart(action.value);
    const teamId = body.team?.id;
    const userId = decodeUserId(body.user);
    if (
      !teamId ||
      !userId ||
      !start ||
      !deps.config.environments.includes(start.env) ||
      !deps.templates.has(start.templateId)
    ) {
      return void (await tell(describeUserError({ code: 'payload_invalid' })).catch(() => {}));
    }
    await runGuarded(deps.log, { teamId, userId, env: start.env }, tell, async () => {
      // Refused up front, before anyone writes a reason for nothing.
      const denied = await checkPermission(deps, 'freeze_override', userId);
      if (denied) return void (await tell(describeUserError(denied)));
      const freeze = findActiveFreeze(deps.config.freezeWindows, start.env, start.windowAt ?? Date.now());
      if (!freeze) return void (await tell(`${start.env} is not frozen any more; run the start again.`));
      await deps.outbound.openView(
        body.trigger_id,
        renderFreezeOverrideModal(start.version, start.env, freeze, encodeFrozenStart(start)),
      );
    });
  });

  app.view<ViewSubmitAction>(CallbackId.overrideFreeze, async ({ ack, body, view }) => {
    const start = decodeFrozenStart(view.private_metadata);
    const reason = modalText(view, FreezeField.reasonBlock, FreezeField.reasonAction);
    if (!start || reason.length < MIN_REASON || reason.length > MAX_REASON) {
      const text = start
        ? `Write why in ${MIN_REASON} to ${MAX_REASON} characters.`
        : describeUserError({ code: 'payload_invalid' });
      return void (await ack({ response_action: 'errors', errors: { [FreezeField.reasonBlock]: text } }));
    }
    await ack();
    const teamId = body.team?.id ?? body.view.team_id;
    const userId = body.user.id;
    const tell = (text: string) =>
      deps.outbound.postEphemeral({ channel: start.channelId, user: userId, text });
    await runGuarded(deps.log, { teamId, userId, env: start.env }, tell, async () => {
      if (!deps.config.environments.includes(start.env))
        return void (await tell(describeUserError({ code: 'payload_invalid' })));
      const outcome = await startRelease(deps, {
        teamId,
        userId,
        channelId: start.channelId,
        version: start.version,
        env: start.env,
        templateId: start.templateId,
        ...(start.windowAt !== undefined
          ? { window: { at: start.windowAt, zone: start.windowZone ?? 'UTC' } }
          : {}),
        requestId: view.id,
        freezeOverride: { reason },
        ...(start.notes ? { notes: start.notes } : {}),
        ...(start.downtime ? { downtime: start.downtime } : {}),
        ...(start.stakeholders ? { stakeholderChannels: start.stakeholders } : {}),
      });
      if (outcome.kind === 'refused') return void (await tell(describeUserError(outcome.error)));
    });
  });
}
