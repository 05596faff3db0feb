import type { KnownBlock } from '@slack/types';
import type { Release } from '../../domain/release.js';
import type { TemplateItem } from '../../domain/template.js';
import { escapeMrkdwn, formatSlackDate, mentionUser, truncate } from '../mrkdwn.js';
import { BlockKitLimits } from './limits.js';
import { releaseTitle } from './release-messages.js';

const LISTED_ITEMS = 15;

/** The reminder posted in a release's thread when a phase is due and required items are still open. */
export function renderPhaseReminder(
  release: Release,
  phaseIndex: number,
  dueAt: number | undefined,
  ownerId: string,
  openItems: readonly TemplateItem[],
  now: number,
): { text: string; blocks: KnownBlock[] } {
  const phase = release.template.phases[phaseIndex]!;
  const due =
    dueAt === undefined
      ? 'is due'
      : dueAt <= now
        ? `was due ${formatSlackDate(dueAt)}`
        : `is due ${formatSlackDate(dueAt)}`;
  const count = `${openItems.length} required item${openItems.length === 1 ? ' is' : 's are'} still open`;
  const listed = openItems.slice(0, LISTED_ITEMS).map((item) => `• ${escapeMrkdwn(item.text)}`);
  if (openItems.length > LISTED_ITEMS) listed.push(`…and ${openItems.length - LISTED_ITEMS} more`);
  const text = `⏰ ${mentionUser(ownerId)}: *${escapeMrkdwn(phase.name)}* of ${escapeMrkdwn(releaseTitle(release))} ${due}; ${count}:\n${listed.join('\n')}`;
  return {
    text: `Reminder: ${escapeMrkdwn(phase.name)} of ${escapeMrkdwn(releaseTitle(release))}, ${count}`,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, BlockKitLimits.sectionText) } }],
  };
}
