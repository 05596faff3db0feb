import type { KnownBlock, ModalView } from '@slack/types';
import type { Release } from '../domain/release.js';
import { CallbackId, encodeReleaseIndexMetadata, OwnerField } from './ids.js';
import { BlockKitLimits } from './limits.js';
import { escapeMrkdwn, mentionUser, truncate } from './mrkdwn.js';
import { releaseTitle } from './release-messages.js';

// "Assign owners…" on a phase: one user picker per item, each starting at the item's current owner.
// Emptying a picker gives the item back to whoever started the release.

/** A modal holds 100 blocks: the explanation, a possible note on items left out, and the pickers. */
const MAX_PICKERS = BlockKitLimits.blocksPerModal - 5;
/** Slack allows longer input labels, but a label is one line in the modal. */
const LABEL_LENGTH = 150;

export function renderOwnersModal(release: Release, phaseIndex: number, teamId: string): ModalView {
  const phase = release.template.phases[phaseIndex]!;
  const items = phase.items.slice(0, MAX_PICKERS);
  const blocks: KnownBlock[] = [
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `*${escapeMrkdwn(phase.name)}* of *${escapeMrkdwn(releaseTitle(release))}*. Reminders about an item go to its owner; items without one go to ${mentionUser(release.startedBy)}.`,
        },
      ],
    },
  ];
  for (const item of items) {
    const owner = release.owners[item.id];
    blocks.push({
      type: 'input',
      block_id: `${OwnerField.blockPrefix}${item.id}`,
      optional: true,
      // plain_text: Slack shows it as typed, so there is nothing to escape.
      label: { type: 'plain_text', text: truncate(item.text, LABEL_LENGTH) },
      element: {
        type: 'users_select',
        action_id: OwnerField.action,
        placeholder: { type: 'plain_text', text: 'Choose an owner' },
        ...(owner ? { initial_user: owner } : {}),
      },
    });
  }
  const left = phase.items.length - items.length;
  if (left > 0) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `The last ${left} items of the phase do not fit here.` }],
    });
  }
  return {
    type: 'modal',
    callback_id: CallbackId.assignOwners,
    private_metadata: encodeReleaseIndexMetadata({ teamId, releaseId: release.id, index: phaseIndex }),
    title: { type: 'plain_text', text: 'Assign owners' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}
