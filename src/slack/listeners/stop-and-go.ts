import type { ViewSubmitAction } from '@slack/bolt';
import type { Permission } from '../../domain/access.js';
import { releaseClosed } from '../../domain/errors.js';
import { DEFAULT_RED_FLAGS, type Release } from '../../domain/release.js';
import { goPhaseIndex } from '../../domain/template.js';
import type { ChangeResult } from '../../store/release-store.js';
import { checkPermission } from '../access.js';
import type { SlackDeps } from '../deps.js';
import { runForSubmittedRelease } from '../guard.js';
import { ActionId, CallbackId, decodeReleaseIndexMetadata, RedFlagField } from '../ids.js';
import { modalChoice, modalText } from '../modal-input.js';
import type { ListenerApp } from '../router.js';
import { describeUserError } from '../user-errors.js';
import { renderNoteModal, renderRedFlagModal } from '../views/command-replies.js';
import { onReleaseButton } from './release-button.js';

// Stopping and going: a red flag halts a release until someone entitled clears it with a note, and
// the release manager's go/no-go call opens the deployment phase or cancels the release. Each is one
// script, audited; stakeholders hear of red flags and of a no-go (as a cancellation).

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

function conditionsOf(release: Release): readonly string[] {
  return release.template.redflags ?? DEFAULT_RED_FLAGS;
}

/** Answers a change the store refused, in words. */
async function refuse(tell: Tell, release: Release, result: ChangeResult): Promise<void> {
  if (result.kind === 'replayed' || result.kind === 'applied') return;
  switch (result.kind) {
    case 'closed':
      return void (await tell(describeUserError(releaseClosed(release, result.status))));
    case 'red_flag':
      return void (await tell(describeUserError({ code: 'red_flag_stop', by: result.by })));
    case 'red_flag_up':
      return void (await tell(describeUserError({ code: 'red_flag_up', by: result.by })));
    case 'no_red_flag':
      return void (await tell(describeUserError({ code: 'no_red_flag' })));
    case 'go_decided':
      return void (await tell(describeUserError({ code: 'go_decided', by: result.by })));
    case 'locked': {
      const goPhase = release.template.phases[goPhaseIndex(release.template) ?? 0];
      return void (await tell(describeUserError({ code: 'go_not_ready', phaseName: goPhase?.name ?? '' })));
    }
    default:
      return void (await tell(describeUserError({ code: 'payload_invalid' })));
  }
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
      (release, teamId) => renderRedFlagModal(release, teamId, conditionsOf(release)),
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
    const release = await activeRelease(deps, teamId, releaseId, tell);
    if (!release) return;
    const denied = await checkPermission(deps, 'go', userId, release);
    if (denied) return void (await tell(describeUserError(denied)));
    const result = await deps.store.decideGo({
      teamId,
      releaseId,
      userId,
      decision: 'go',
      reason: '',
      requestId: `${userId}-${actionTs}`,
    });
    if (result.kind !== 'applied') return void (await refuse(tell, release, result));
    deps.log.info({ teamId, releaseId, userId }, 'go');
    deps.relay.committed({ intent: 'go', teamId, releaseId });
  });

  // The modals behind the buttons above: each asks for a note (and a red flag for its condition).
  const modalSubmits: [string, Permission][] = [
    [CallbackId.raiseRedFlag, 'red_flag'],
    [CallbackId.clearRedFlag, 'red_flag_resolve'],
    [CallbackId.noGo, 'go'],
  ];
  for (const [callbackId, permission] of modalSubmits) {
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
      await ack();
      const { teamId, releaseId } = metadata!;
      const userId = body.user.id;
      await runForSubmittedRelease(
        deps,
        deps.log,
        { teamId, releaseId, userId, callbackId },
        async (release, tell) => {
          // Checked again: the rules may have changed while the modal was open.
          const denied = await checkPermission(deps, permission, userId, release);
          if (denied) return void (await tell(describeUserError(denied)));
          const requestId = view.id;
          let result: ChangeResult;
          if (callbackId === CallbackId.raiseRedFlag) {
            const condition = conditionsOf(release)[Number(conditionValue)];
            if (condition === undefined)
              return void (await tell(describeUserError({ code: 'payload_invalid' })));
            result = await deps.store.raiseRedFlag({ teamId, releaseId, userId, condition, note, requestId });
          } else if (callbackId === CallbackId.clearRedFlag) {
            result = await deps.store.clearRedFlag({ teamId, releaseId, userId, note, requestId });
          } else {
            result = await deps.store.decideGo({
              teamId,
              releaseId,
              userId,
              decision: 'no_go',
              reason: note,
              requestId,
            });
          }
          if (result.kind !== 'applied') return void (await refuse(tell, release, result));
          deps.log.info({ teamId, releaseId, userId, callbackId }, 'release stopped or started again');
          const intent =
            callbackId === CallbackId.raiseRedFlag
              ? 'raise-red-flag'
              : callbackId === CallbackId.clearRedFlag
                ? 'clear-red-flag'
                : 'no-go';
          deps.relay.committed({ intent, teamId, releaseId });
        },
      );
    });
  }
}
