import type { HomeView, KnownBlock } from '@slack/types';
import type { RoleHolders } from '../domain/access.js';
import {
  computeProgress,
  currentPhaseIndex,
  isPhaseUnlocked,
  pendingCheckin,
  type Release,
} from '../domain/release.js';
import { groupOpenItemsByOwner } from '../domain/reminders.js';
import { BlockKitLimits } from './limits.js';
import { escapeMrkdwn, formatSlackDate, linkTo, truncate } from './mrkdwn.js';
import { releaseTitle } from './release-messages.js';

// The App Home tab, for the person looking: what waits on them, the releases in flight, the recent
// ones and their outcome, and the delivery figures. Pure: the listener gathers the data.

const MAX_WAITING = 25;
const MAX_ACTIVE = 15;
const MAX_RECENT = 10;

export interface HomeInput {
  userId: string;
  active: readonly Release[];
  recent: readonly Release[];
  permalinks: ReadonlyMap<string, string>;
  holders: RoleHolders;
  /** The delivery figures' blocks, as /deploy stats renders them. */
  statsBlocks: readonly KnownBlock[];
  now: number;
}

const section = (text: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncate(text, BlockKitLimits.sectionText) },
});

function link(release: Release, permalinks: ReadonlyMap<string, string>): string {
  const permalink = permalinks.get(release.id);
  return permalink ? linkTo(permalink, releaseTitle(release)) : `*${escapeMrkdwn(releaseTitle(release))}*`;
}

/** Open required items in unlocked phases owned by (or for a role held by) the user, and check-ins they should answer. */
export function waitingOn(input: Pick<HomeInput, 'userId' | 'active' | 'permalinks' | 'holders'>): string[] {
  const lines: string[] = [];
  for (const release of input.active) {
    const checkin = pendingCheckin(release);
    if (checkin && release.startedBy === input.userId) {
      lines.push(
        `🩺 ${link(release, input.permalinks)}: check-in ${checkin.index + 1} waits for your answer`,
      );
    }
    release.template.phases.forEach((phase, phaseIndex) => {
      if (!isPhaseUnlocked(release, phaseIndex)) return;
      const mine = groupOpenItemsByOwner(release, phaseIndex, input.holders).get(input.userId) ?? [];
      for (const item of mine) {
        lines.push(
          `⬜ ${link(release, input.permalinks)} · ${escapeMrkdwn(phase.name)}: ${escapeMrkdwn(truncate(item.text, 120))}`,
        );
      }
    });
  }
  return lines;
}

export function renderHome(input: HomeInput): HomeView {
  const waiting = waitingOn(input);
  const waitingText =
    waiting.length === 0
      ? 'Nothing is waiting on you.'
      : [
          ...waiting.slice(0, MAX_WAITING),
          ...(waiting.length > MAX_WAITING ? [`…and ${waiting.length - MAX_WAITING} more`] : []),
        ].join('\n');

  const activeLines = input.active.slice(0, MAX_ACTIVE).map((release) => {
    const current = currentPhaseIndex(release);
    const progress = computeProgress(release);
    const where =
      release.status === 'rolling_back'
        ? 'rolling back'
        : current === undefined
          ? release.monitoring?.state === 'open'
            ? 'deployed, monitoring'
            : 'in progress'
          : `phase ${current + 1}/${progress.phasesTotal} ${escapeMrkdwn(release.template.phases[current]!.name)}`;
    return `• ${link(release, input.permalinks)} · ${where} · ${progress.requiredDone}/${progress.requiredTotal} required done`;
  });
  const finished = input.recent.filter(
    (release) => release.status !== 'active' && release.status !== 'rolling_back',
  );
  const recentLines = finished.slice(0, MAX_RECENT).map((release) => {
    const outcome =
      release.status === 'rolled_back'
        ? '↩️ rolled back'
        : release.status === 'cancelled'
          ? '✖️ cancelled'
          : '✅ completed';
    const when = release.finishedAt ? ` ${formatSlackDate(release.finishedAt)}` : '';
    return `• ${link(release, input.permalinks)} · ${outcome}${when}`;
  });

  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'shipcheck' } },
    section(`*Waiting on you*\n${waitingText}`),
    { type: 'divider' },
    section(`*Active releases*\n${activeLines.length > 0 ? activeLines.join('\n') : 'None right now.'}`),
    section(`*Recently finished*\n${recentLines.length > 0 ? recentLines.join('\n') : 'None yet.'}`),
    { type: 'divider' },
    ...input.statsBlocks,
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Updated ${formatSlackDate(input.now)}. \`/deploy help\` lists the commands.`,
        },
      ],
    },
  ];
  return { type: 'home', blocks: blocks.slice(0, 100) };
}
