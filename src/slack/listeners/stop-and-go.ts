import type { ViewSubmitAction } from '@slack/bolt';
import { checkPermission } from '../../app/access.js';
import { decideGo } from '../../app/decide-go.js';
import { clearRedFlag, raiseRedFlag, redFlagConditions } from '../../app/red-flags.js';
import type { Permission } from '../../domain/access.js';
import { releaseClosed } from '../../domain/errors.js';
import type { Release } from '../../domain/release.js';
import { renderNoteModal, renderRedFlagModal } from '../../views/command-replies.js';
import { ActionId, CallbackId, decodeReleaseIndexMetadata, RedFlagField } from '../../views/ids.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { ackWhenCommitted, commitTimer, runForSubmittedChange } from '../guard.js';
import { modalChoice, modalText } from '../modal-input.js';
import type { ListenerApp } from '../router.js';
import { onReleaseButton } from './release-button.js';

// Stopping and going, from the release header: a red flag halts a release until someone entitled
// clears it with a note (src/app/red-flags.ts), and the release manager's go/no-go call opens the
// deployment phase or cancels the release (src/app/decide-go.ts).

const MIN_NOTE = 3;
const MAX_NOTE = 500;

type Tell = (text: string) => Promise<unknown>;

/** The release a header button is about, if it exists and is active; otherwise the user is told why not. */
async function activeRelease(deps: SlackDeps, teamId: string, releaseId: string, tell: Tell) {
  const release = await deps.store.getRelease(teamId, releaseId);
  if (!release) return void (await tell(describeUserError({ code: 'item_unknown' })));
  if (release.status !== 'active') return void (await tell(describeUserError(releaseClosed(release))));
  return release;
}

export function registerStopAndGoActions(app: ListenerApp, deps: SlackDeps): void {
  // Header buttons that open a modal, each behind its permission.
  const modalButtons: [
    string,
    Permission,
    (release: Release, teamId: string) => Parameters<SlackDeps['outbound']['openView']>[1],
  ][] = [
    [
      ActionId.openRedFlag,
      'red_flag',
      (release, teamId) => renderRedFlagModal(release, teamId, redFlagConditions(release)),
    ],
    [
      ActionId.openClearRedFlag,
      'red_flag_resolve',
      (release, teamId) => renderNoteModal(release, teamId, 'clear'),
    ],
    [ActionId.openNoGo, 'go', (release, teamId) => renderNoteModal(release, teamId, 'no_go')],
  ];
  for (const [actionId, permission, render] of modalButtons) {
    onReleaseButton(app, deps, actionId, async ({ teamId, releaseId, userId, triggerId, tell }) => {
      const release = await activeRelease(deps, teamId, releaseId, tell);
      if (!release) return;
      const denied = await checkPermission(deps, permission, userId, release);
      if (denied) return void (await tell(describeUserError(denied)));
      await deps.outbound.openView(triggerId, render(release, teamId));
    });
  }

  // Go: the button carries a confirmation; the call itself needs no more input.
  onReleaseButton(app, deps, ActionId.decideGo, async ({ teamId, releaseId, userId, actionTs, tell }) => {
    const outcome = await decideGo(deps, {
      teamId,
      releaseId,
      userId,
      decision: 'go',
      reason: '',
      requestId: `${userId}-${actionTs}`,
    });
    if (!outcome.ok) await tell(describeUserError(outcome.error));
  });

  // The modals behind the buttons above: each asks for a note (and a red flag for its condition).
  for (const callbackId of [CallbackId.raiseRedFlag, CallbackId.clearRedFlag, CallbackId.noGo]) {
    app.view<ViewSubmitAction>(callbackId, async ({ ack, body, view }) => {
      const metadata = decodeReleaseIndexMetadata(view.private_metadata);
      const note = modalText(view, RedFlagField.noteBlock, RedFlagField.noteAction);
      const conditionValue = modalChoice(view, RedFlagField.conditionBlock, RedFlagField.conditionAction);
      const errors: Record<string, string> = {};
      if (!metadata) errors[RedFlagField.noteBlock] = describeUserError({ code: 'payload_invalid' });
      else if (note.length < MIN_NOTE || note.length > MAX_NOTE)
        errors[RedFlagField.noteBlock] = `Write ${MIN_NOTE} to ${MAX_NOTE} characters.`;
      if (callbackId === CallbackId.raiseRedFlag && conditionValue === undefined)
        errors[RedFlagField.conditionBlock] = 'Choose the stop condition.';
      if (Object.keys(errors).length > 0) return void (await ack({ response_action: 'errors', errors }));
      const { teamId, releaseId } = metadata!;
      const userId = body.user.id;
      const handling = runForSubmittedChange(
        deps,
        deps.log,
        { teamId, releaseId, userId, callbackId },
        async (tell) => {
          // The permission is checked again: the rules may have changed while the modal was open.
          const request = { teamId, releaseId, userId, note, requestId: view.id };
          const outcome =
            callbackId === CallbackId.raiseRedFlag
              ? await raiseRedFlag(deps, { ...request, conditionIndex: Number(conditionValue) })
              : callbackId === CallbackId.clearRedFlag
                ? await clearRedFlag(deps, request)
                : await decideGo(deps, { ...request, decision: 'no_go', reason: note });
          if (!outcome.ok) await tell(describeUserError(outcome.error));
        },
      );
      // Acknowledged once the change is committed, or after the budget.
      await ackWhenCommitted(ack, handling, { observe: commitTimer(deps, 'go-decision') });
      await handling;
    });
  }
}
