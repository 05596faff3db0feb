import type { ViewSubmitAction } from '@slack/bolt';
import { saveRetrospective } from '../../app/save-retrospective.js';
import { decodeReleaseIndexMetadata } from '../../views/ids.js';
import {
  RETRO_ACTION_ID,
  RETRO_CALLBACK_ID,
  RetroField,
  renderRetroModal,
} from '../../views/retrospective.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { ackWhenCommitted, commitTimer, runForSubmittedChange } from '../guard.js';
import { modalText } from '../modal-input.js';
import type { ListenerApp } from '../router.js';
import { onReleaseButton } from './release-button.js';

// The team's part of the retrospective: what went well, what went wrong, the follow-ups. Saved into
// the release's record (and so its log and audit trail); the relay posts it in the thread.

const MAX_TEXT = 2000;

export function registerRetrospective(app: ListenerApp, deps: SlackDeps): void {
  onReleaseButton(app, deps, RETRO_ACTION_ID, async ({ teamId, releaseId, triggerId, tell }) => {
    const release = await deps.store.getRelease(teamId, releaseId);
    if (!release) return void (await tell(describeUserError({ code: 'item_unknown' })));
    await deps.outbound.openView(triggerId, renderRetroModal(release, teamId, release.retro));
  });

  app.view<ViewSubmitAction>(RETRO_CALLBACK_ID, async ({ ack, body, view }) => {
    const metadata = decodeReleaseIndexMetadata(view.private_metadata);
    const read = (block: string, action: string) => modalText(view, block, action);
    const retro = {
      wentWell: read(RetroField.wentWellBlock, RetroField.wentWellAction),
      wentWrong: read(RetroField.wentWrongBlock, RetroField.wentWrongAction),
      followUps: read(RetroField.followUpsBlock, RetroField.followUpsAction),
    };
    const errors: Record<string, string> = {};
    if (!metadata) errors[RetroField.wentWellBlock] = describeUserError({ code: 'payload_invalid' });
    if (!retro.wentWell) errors[RetroField.wentWellBlock] = 'Write what went well (a line is enough).';
    if (!retro.wentWrong) errors[RetroField.wentWrongBlock] = 'Write what went wrong, or "nothing".';
    for (const [block, text] of [
      [RetroField.wentWellBlock, retro.wentWell],
      [RetroField.wentWrongBlock, retro.wentWrong],
      [RetroField.followUpsBlock, retro.followUps],
    ] as const) {
      if (text.length > MAX_TEXT) errors[block] = `Keep it under ${MAX_TEXT} characters.`;
    }
    if (Object.keys(errors).length > 0) return void (await ack({ response_action: 'errors', errors }));
    const { teamId, releaseId } = metadata!;
    const userId = body.user.id;
    const handling = runForSubmittedChange(deps, deps.log, { teamId, releaseId, userId }, async (tell) => {
      const outcome = await saveRetrospective(deps, {
        teamId,
        releaseId,
        userId,
        retro,
        requestId: view.id,
      });
      if (!outcome.ok) await tell(describeUserError(outcome.error));
    });
    // Acknowledged once the change is committed, or after the budget.
    await ackWhenCommitted(ack, handling, { observe: commitTimer(deps, 'retrospective') });
    await handling;
  });
}
