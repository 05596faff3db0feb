import type { View } from '@slack/types';
import type { ItemRecord } from '../domain/recorded-value.js';
import { RECORDED_VALUE_MAX_LENGTH } from '../domain/recorded-value.js';
import type { Release } from '../domain/release.js';
import type { TemplateItem } from '../domain/template.js';
import { CallbackId, encodeItemMetadata, ValueField } from './ids.js';
import { BlockKitLimits } from './limits.js';
import { escapeMrkdwn, linkTo, truncate } from './mrkdwn.js';

// Values that items record (a backup id, a commit SHA, a test run link): how a recorded value is shown
// in mrkdwn, and the form that asks for one when such an item is ticked.

/** Slack's limit on a plain-text input's label, placeholder and hint. */
const INPUT_LABEL_LENGTH = 2000;
const PLACEHOLDER_LENGTH = 150;

/**
 * A value as mrkdwn: a link for a URL, else inline code. Code cannot escape a backtick, so one in the
 * value is shown as a look-alike rather than ending the code early.
 */
export function formatValue(
  record: Pick<ItemRecord, 'kind'> | undefined,
  value: string,
  maxLength = 300,
): string {
  const shown = truncate(value, maxLength);
  if (record?.kind === 'url' && /^https?:\/\//.test(value)) return linkTo(value, shown);
  return `\`${escapeMrkdwn(shown.replace(/`/g, 'ˋ'))}\``;
}

/** "Backup id: `bk-123`": the label and the value, for an item's line. */
export function describeValue(record: ItemRecord | undefined, value: string, maxLength = 300): string {
  return `${escapeMrkdwn(record?.label ?? 'Value')}: ${formatValue(record, value, maxLength)}`;
}

/** The modal's title: Slack allows 24 characters. */
function modalTitle(record: ItemRecord): string {
  return truncate(`Record ${record.label}`, BlockKitLimits.modalTitle);
}

function valueInput(record: ItemRecord): Record<string, unknown> {
  const placeholder = record.example
    ? { placeholder: { type: 'plain_text', text: truncate(record.example, PLACEHOLDER_LENGTH) } }
    : {};
  switch (record.kind) {
    case 'number':
      return { type: 'number_input', action_id: ValueField.action, is_decimal_allowed: true, ...placeholder };
    case 'url':
      return { type: 'url_text_input', action_id: ValueField.action, ...placeholder };
    default:
      return {
        type: 'plain_text_input',
        action_id: ValueField.action,
        max_length: RECORDED_VALUE_MAX_LENGTH,
        ...placeholder,
      };
  }
}

/**
 * The form behind ticking an item that records a value. Closing it is reported (notify_on_close) so
 * the box the person ticked goes back; submitting it ticks the item with the value.
 */
export function renderValueModal(release: Release, item: TemplateItem, record: ItemRecord): View {
  const title = `${release.version} → ${release.env}`;
  return {
    type: 'modal',
    callback_id: CallbackId.recordValue,
    notify_on_close: true,
    private_metadata: encodeItemMetadata({ teamId: release.teamId, releaseId: release.id, itemId: item.id }),
    title: { type: 'plain_text', text: modalTitle(record) },
    submit: { type: 'plain_text', text: 'Tick it' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: truncate(
            `*${escapeMrkdwn(item.text)}*\n${escapeMrkdwn(title)}: the item is ticked with its ${escapeMrkdwn(record.label)}, which goes on the item, in the audit trail and in the deployment log.`,
            BlockKitLimits.sectionText,
          ),
        },
      },
      {
        type: 'input',
        block_id: ValueField.block,
        label: { type: 'plain_text', text: truncate(record.label, INPUT_LABEL_LENGTH) },
        optional: record.optional === true,
        element: valueInput(record),
        ...(record.optional
          ? {
              hint: {
                type: 'plain_text',
                text: 'Optional: leave it empty to tick the item without a value.',
              },
            }
          : {}),
      } as View['blocks'][number],
    ],
  };
}
