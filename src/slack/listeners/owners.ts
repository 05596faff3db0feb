import type { ViewSubmitAction } from '@slack/bolt';
import { assignOwners } from '../../app/assign-owners.js';
import { releaseClosed } from '../../domain/errors.js';
import { CallbackId, decodeReleaseIndexMetadata, OwnerField, ReleaseRoute } from '../../views/ids.js';
import { renderOwnersModal } from '../../views/owners-modal.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { ackWhenCommitted, commitTimer, runForSubmittedRelease } from '../guard.js';
import type { ListenerApp } from '../router.js';
import { onReleaseRouteButton } from './release-button.js';

// "Assign owners…" on a phase's checklist: a modal with a person picker per item. Reminders about an
// item go to its owner; items without one go to whoever started the release.

const USER_ID = /^[UW][A-Z0-9]{2,20}$/;

export function registerOwnerActions(app: ListenerApp, deps: SlackDeps): void {
  onReleaseRouteButton(
    app,
    deps,
    ReleaseRoute.assignOwners,
    async ({ teamId, releaseId, index, triggerId, tell }) => {
      const release = await deps.store.getRelease(teamId, releaseId);
      if (!release?.template.phases[index])
        return void (await tell(describeUserError({ code: 'item_unknown' })));
      if (release.status !== 'active') return void (await tell(describeUserError(releaseClosed(release))));
      await deps.outbound.openView(triggerId, renderOwnersModal(release, index, teamId));
    },
  );

  app.view<ViewSubmitAction>(CallbackId.assignOwners, async ({ ack, body, view }) => {
    const metadata = decodeReleaseIndexMetadata(view.private_metadata);
    if (!metadata) return void (await ack());
    const { teamId, releaseId, index: phaseIndex } = metadata;
    const userId = body.user.id;
    const context = { teamId, releaseId, phaseIndex, userId };
    const handling = runForSubmittedRelease(deps, deps.log, context, async (release, tell) => {
      const phase = release.template.phases[phaseIndex];
      if (!phase) return;
      // Only what changed since the modal opened is written, and only for items of this phase.
      const owners: { itemId: string; ownerId: string | undefined }[] = [];
      for (const item of phase.items) {
        const state = view.state.values[`${OwnerField.blockPrefix}${item.id}`]?.[OwnerField.action];
        if (!state) continue;
        const chosen =
          typeof state.selected_user === 'string' && USER_ID.test(state.selected_user)
            ? state.selected_user
            : undefined;
        if (chosen !== release.owners[item.id]) owners.push({ itemId: item.id, ownerId: chosen });
      }
      if (owners.length === 0) return;
      const outcome = await assignOwners(deps, { teamId, releaseId, userId, owners, requestId: view.id });
      if (!outcome.ok) await tell(describeUserError(outcome.error));
    });
    // Acknowledged once the change is committed, or after the budget.
    await ackWhenCommitted(ack, handling, { observe: commitTimer(deps, 'owners') });
    await handling;
  });
}
