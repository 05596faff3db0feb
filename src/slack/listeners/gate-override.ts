import { checkPermission } from '../../app/access.js';
import { overrideGate } from '../../app/override-gate.js';
import { releaseClosed } from '../../domain/errors.js';
import { findBlockingPhase } from '../../domain/release.js';
import { renderGateOverrideModal } from '../../views/command-replies.js';
import { ActionId, CallbackId, decodeGateOverrideMetadata, GateOverrideField } from '../../views/ids.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { ackWhenCommitted, commitTimer, runForSubmittedChange } from '../guard.js';
import { modalChoice, modalText } from '../modal-input.js';
import type { ListenerApp } from '../router.js';
import { onReleaseButton } from './release-button.js';

const MIN_REASON_LENGTH = 5;
const MAX_REASON_LENGTH = 500;

export function registerGateOverride(app: ListenerApp, deps: SlackDeps): void {
  // The header's "Override a gate…" button opens a modal asking which phase and why.
  onReleaseButton(
    app,
    deps,
    ActionId.openGateOverride,
    async ({ teamId, releaseId, userId, triggerId, tell }) => {
      const release = await deps.store.getRelease(teamId, releaseId);
      if (!release) return void (await tell(describeUserError({ code: 'item_unknown' })));
      if (release.status !== 'active') return void (await tell(describeUserError(releaseClosed(release))));
      const denied = await checkPermission(deps, 'override', userId, release);
      if (denied) return void (await tell(describeUserError(denied)));
      const locked = release.template.phases
        .map((_phase, index) => index)
        .filter((index) => findBlockingPhase(release, index) !== undefined);
      if (locked.length === 0)
        return void (await tell('No phase of this release is locked; there is nothing to override.'));
      await deps.outbound.openView(triggerId, renderGateOverrideModal(release, locked));
    },
  );

  app.view(CallbackId.gateOverride, async ({ ack, body, view }) => {
    const metadata = decodeGateOverrideMetadata(view.private_metadata);
    const phaseValue = modalChoice(view, GateOverrideField.phaseBlock, GateOverrideField.phaseAction);
    const reason = modalText(view, GateOverrideField.reasonBlock, GateOverrideField.reasonAction);
    const phaseIndex = Number(phaseValue);
    if (reason.length < MIN_REASON_LENGTH || reason.length > MAX_REASON_LENGTH) {
      await ack({
        response_action: 'errors',
        errors: {
          [GateOverrideField.reasonBlock]: `Write a reason of ${MIN_REASON_LENGTH} to ${MAX_REASON_LENGTH} characters.`,
        },
      });
      return;
    }
    if (!metadata || !Number.isInteger(phaseIndex)) {
      await ack({
        response_action: 'errors',
        errors: { [GateOverrideField.phaseBlock]: 'Choose a phase to unlock.' },
      });
      return;
    }
    const { teamId, releaseId } = metadata;
    const userId = body.user.id;
    const handling = runForSubmittedChange(
      deps,
      deps.log,
      { teamId, releaseId, userId, phaseIndex },
      async (tell) => {
        // The permission is checked again: the modal may have been opened before the rules changed.
        const outcome = await overrideGate(deps, {
          teamId,
          releaseId,
          phaseIndex,
          userId,
          reason,
          requestId: view.id,
        });
        if (!outcome.ok) await tell(describeUserError(outcome.error));
      },
    );
    // Acknowledged once the change is committed, or after the budget.
    await ackWhenCommitted(ack, handling, { observe: commitTimer(deps, 'gate-override') });
    await handling;
  });
}
