import type { KnownBlock } from '@slack/types';
import type { Release, Retrospective } from '../domain/release.js';
import { escapeMrkdwn, formatSlackDate, linkTo, mentionUser } from './mrkdwn.js';
import { type RenderedMessage, releaseTitle } from './release-messages.js';

// The message that introduces each version of the deployment log shared in the release thread (its
// files follow it). Files carry no text shipcheck can change later, so this message is what says,
// once a newer version is shared, that its files are out of date.

const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

/** The final log, shared when the release ends. */
export function renderFinalLogShared(release: Release): RenderedMessage {
  const title = escapeMrkdwn(releaseTitle(release));
  return {
    text: `Deployment log of ${title}: the release has ended. Its Markdown and JSON files follow.`,
    blocks: [
      section(`📄 *Deployment log of ${title}*: the release has ended. Its Markdown and JSON files follow.`),
    ],
  };
}

/** A newer version of the log, shared because the team saved the retrospective after the final log. */
export function renderRetroLogShared(
  release: Release,
  retro: Pick<Retrospective, 'by' | 'at'>,
): RenderedMessage {
  const title = escapeMrkdwn(releaseTitle(release));
  const saved = `with the retrospective ${mentionUser(retro.by)} saved ${formatSlackDate(retro.at)}`;
  return {
    text: `Deployment log of ${title}, updated ${saved}. Its Markdown and JSON files follow.`,
    blocks: [
      section(
        `📄 *Deployment log of ${title}*, updated ${saved}. Its Markdown and JSON files follow and replace the earlier version.`,
      ),
    ],
  };
}

/** An earlier version, once a newer one is in the thread: its files stay, and say less than the record. */
export function renderLogSuperseded(release: Release, newerPermalink: string): RenderedMessage {
  const title = escapeMrkdwn(releaseTitle(release));
  const newer = linkTo(newerPermalink, 'the newer version');
  return {
    text: `Superseded: a newer deployment log of ${title} is in this thread.`,
    blocks: [
      section(
        `🗄️ ~Deployment log of ${title}~ *Superseded:* the files below are an earlier version. Read ${newer}, which has everything recorded since.`,
      ),
    ],
  };
}
