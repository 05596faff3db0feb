import type { KnownBlock } from '@slack/types';
import type { Reply } from './command-replies.js';
import { ActionId } from './ids.js';
import { escapeMrkdwn, formatSlackDate } from './mrkdwn.js';

// The ephemeral answer to `/deploy status … link`, and the button the status reply carries. Pure.

export const STATUS_PAGES_OFF_TEXT =
  'The status pages are off. An operator turns them on by setting STATUS_LINK_KEY and STATUS_BASE_URL.';

/** A link button to the status pages (Slack opens it in the browser; its click is acked and ignored). */
export function statusPageButton(url: string, label = 'Open status page'): KnownBlock {
  return {
    type: 'actions',
    elements: [
      { type: 'button', text: { type: 'plain_text', text: label }, url, action_id: ActionId.openLink },
    ],
  };
}

export function renderStatusLinkReply(url: string, expiresAt: number, what: string | undefined): Reply {
  const target = what ? `the page of ${escapeMrkdwn(what)}` : 'the status page';
  const text =
    `Here is your link to ${target}, good until ${formatSlackDate(expiresAt, '{date_short_pretty} {time}')}. ` +
    'Anyone with it can read your workspace’s deploy status until then: keep it to yourself.';
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      statusPageButton(url, what ? 'Open release page' : 'Open status page'),
    ],
  };
}
