import type { ViewSubmitAction } from '@slack/bolt';
import { checkPermission } from '../../app/access.js';
import { rollBack } from '../../app/roll-back.js';
import { releaseClosed } from '../../domain/errors.js';
import type { Release } from '../../domain/release.js';
import { renderRollbackModal } from '../../views/checkin-messages.js';
import { ActionId, CallbackId, CheckinField, decodeReleaseIndexMetadata } from '../../views/ids.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { ackWhenCommitted, commitTimer, runForSubmittedChange } from '../guard.js';
import { modalText } from '../modal-input.js';
import type { ListenerApp } from '../router.js';
import { onReleaseButton } from './release-button.js';

// Rolling a release back from its header or `/deploy rollback`: a confirmation that shows the
// template's rollback criteria and asks why, then one script switches the release to rolling back
// (or rolled back, without a rollback checklist). Check-ins roll back through the same script.

const MIN_REASON = 3;
const MAX_REASON = 500;

/** Opens the rollback confirmation, if `userId` may roll back and the release is active. */
export async function openRollbackConfirmation(
  deps: SlackDeps,
  release: Release,
  userId: string,
  triggerId: string,
  tell: (text: string) => Promise<unknown>,
  initialReason?: string,
): Promise<void> {
  if (release.status !== 'active') return void (await tell(describeUserError(releaseClosed(release))));
  const denied = await checkPermission(deps, 'rollback', userId, release);
  if (denied) return void (await tell(describeUserError(denied)));
  await deps.outbound.openView(
    triggerId,
    renderRollbackModal(release, undefined, release.teamId, initialReason),
  );
}

export function registerRollbackActions(app: ListenerApp, deps: SlackDeps): void {
  onReleaseButton(
    app,
    deps,
    ActionId.openRollback,
    async ({ teamId, releaseId, userId, triggerId, tell }) => {
      const release = await deps.store.getRelease(teamId, releaseId);
      if (!release) return void (await tell(describeUserError({ code: 'item_unknown' })));
      await openRollbackConfirmation(deps, release, userId, triggerId, tell);
    },
  );

  app.view<ViewSubmitAction>(CallbackId.rollBackRelease, async ({ ack, body, view }) => {
    const metadata = decodeReleaseIndexMetadata(view.private_metadata);
    const reason = modalText(view, CheckinField.reasonBlock, CheckinField.reasonAction);
    if (!metadata || reason.length < MIN_REASON || reason.length > MAX_REASON) {
      const text = metadata
        ? `Write why in ${MIN_REASON} to ${MAX_REASON} characters.`
        : describeUserError({ code: 'payload_invalid' });
      return void (await ack({ response_action: 'errors', errors: { [CheckinField.reasonBlock]: text } }));
    }
    const { teamId, releaseId } = metadata;
    const userId = body.user.id;
    const handling = runForSubmittedChange(deps, deps.log, { teamId, releaseId, userId }, async (tell) => {
      // The permission is checked again: the rules (or the roles) may have changed while the modal was open.
      const outcome = await rollBack(deps, { teamId, releaseId, userId, reason, requestId: view.id });
      if (!outcome.ok) await tell(describeUserError(outcome.error));
    });
    // Acknowledged once the change is committed, or after the budget.
    await ackWhenCommitted(ack, handling, { observe: commitTimer(deps, 'rollback') });
    await handling;
  });
}
