import type { KnownBlock, MrkdwnElement } from '@slack/types';
import { announcementWording, fillWording } from '../domain/announcements.js';
import type { RedFlag, Release, ReleaseIssue } from '../domain/release.js';
import type { AnnouncementEvent } from '../domain/template.js';
import { BlockKitLimits } from './limits.js';
import { escapeMrkdwn, formatSlackDate, linkTo, mentionUser, truncate } from './mrkdwn.js';
import type { RenderedMessage } from './release-messages.js';

// What a release's stakeholders see in their channels: one sentence in the team's wording (or the
// built-in one), then what they need to know at a glance. The wording is the team's own and may carry
// Slack markup (a <!channel> ping); every value taken from people (notes, downtime, reasons, issues)
// is escaped before it goes in.

/** Longest escaped text each value may add; together they keep the sentence inside a section. */
const VALUE_LIMITS = {
  version: 150,
  env: 150,
  reason: 500,
  issue: 500,
  downtime: 200,
  notes: 1000,
  phases: 600,
} as const;

/** Raw characters of release notes shown (before escaping). */
const NOTES_LENGTH = 1000;

const WHEN_FORMAT = '{date_long_pretty} at {time}';

/**
 * Escapes text for mrkdwn and cuts it so that the escaped result is at most `max` characters, never
 * inside an entity; a cut is marked with an ellipsis.
 */
function escapeWithin(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return escaped;
  let result = '';
  for (const char of text) {
    const next = escapeMrkdwn(char);
    if (result.length + next.length > max - 1) break;
    result += next;
  }
  return `${result}…`;
}

/** A plain sentence per event for notifications and clients that cannot show blocks. */
const FALLBACK: Record<AnnouncementEvent, (version: string, env: string) => string> = {
  planned: (version, env) => `${version} for ${env} is being prepared`,
  scheduled: (version, env) => `${version} is scheduled for ${env}`,
  started: (version, env) => `${version} is being deployed to ${env}`,
  deployed: (version, env) => `${version} is live in ${env}`,
  issue_found: (version, env) => `An issue was found in ${version} on ${env}`,
  rolled_back: (version, env) => `${version} was rolled back on ${env}`,
  completed: (version, env) => `${version} on ${env} is complete`,
  cancelled: (version, env) => `${version} for ${env} was cancelled`,
  red_flag: (version, env) => `${version} on ${env} is stopped by a red flag`,
  red_flag_cleared: (version, env) => `The red flag on ${version} (${env}) was cleared`,
  rolling_back: (version, env) => `${version} is being rolled back on ${env}`,
  freeze_overridden: (version, env) => `${version} goes out to ${env} during a freeze`,
};

/** The red flag a red_flag or red_flag_cleared announcement is about, by its number. */
function redFlagOf(release: Release, event: AnnouncementEvent, occurrence: number): RedFlag | undefined {
  if (event !== 'red_flag' && event !== 'red_flag_cleared') return undefined;
  return [release.redFlag, release.lastRedFlag].find((flag) => flag?.number === occurrence);
}

/** Who the event is about: the person who did it. */
function actorOf(release: Release, event: AnnouncementEvent, issue: ReleaseIssue | undefined): string {
  switch (event) {
    case 'cancelled':
    case 'rolled_back':
    case 'completed':
      return release.finishedBy || release.startedBy;
    case 'rolling_back':
      return release.rollback?.by || release.startedBy;
    case 'red_flag':
    case 'red_flag_cleared': {
      const flag = [release.redFlag, release.lastRedFlag].find((candidate) => candidate);
      return (event === 'red_flag' ? flag?.by : flag?.clearedBy) || release.startedBy;
    }
    case 'deployed':
      return release.deployment?.by || release.startedBy;
    case 'issue_found':
      return issue?.foundBy ?? '';
    case 'freeze_overridden':
      return release.freezeOverride?.by || release.startedBy;
    default:
      return release.startedBy;
  }
}

/** The moment the announcement talks about: the deploy window before the deploy, else the event's time. */
function momentOf(
  release: Release,
  event: AnnouncementEvent,
  issue: ReleaseIssue | undefined,
  now: number,
): number {
  switch (event) {
    case 'scheduled':
    case 'freeze_overridden':
      return release.window?.at ?? now;
    case 'planned':
      return release.startedAt;
    case 'started':
      // Without a window: when it began deploying, which is now unless its first deploy tick is known.
      return release.window?.at ?? release.lockedAt ?? now;
    case 'deployed':
      return release.deployment?.at ?? now;
    case 'issue_found':
      return issue?.foundAt ?? now;
    case 'rolling_back':
      return release.rollback?.at ?? now;
    default:
      return release.finishedAt ?? now;
  }
}

/** The phases in order, the deployment phase marked: what a release goes through before and after it deploys. */
function phaseList(release: Release): string {
  const names = release.template.phases.map((phase) =>
    phase.deployment ? `${phase.name} (deploy)` : phase.name,
  );
  return escapeWithin(names.join(' → '), VALUE_LIMITS.phases);
}

const field = (label: string, value: string): MrkdwnElement => ({
  type: 'mrkdwn',
  text: truncate(`*${label}*\n${value}`, BlockKitLimits.sectionFieldText),
});

export function renderAnnouncement(
  release: Release,
  event: AnnouncementEvent,
  occurrence: number,
  permalink: string | undefined,
  now: number,
): RenderedMessage {
  const issue = event === 'issue_found' ? release.issues.find((found) => found.id === occurrence) : undefined;
  const version = escapeWithin(release.version, VALUE_LIMITS.version);
  const env = escapeWithin(release.env, VALUE_LIMITS.env);
  const when = formatSlackDate(momentOf(release, event, issue, now), WHEN_FORMAT);
  const actor = actorOf(release, event, issue);
  const flag = redFlagOf(release, event, occurrence);
  const reasonText = flag
    ? event === 'red_flag'
      ? `${flag.condition}. ${flag.note}`
      : (flag.clearNote ?? '')
    : event === 'freeze_overridden'
      ? release.freezeOverride?.reason
      : event === 'cancelled' || event === 'rolled_back' || event === 'rolling_back'
        ? release.cancelReason
        : undefined;
  const reason = reasonText ? escapeWithin(reasonText, VALUE_LIMITS.reason) : '';
  const downtime = release.downtime ? escapeWithin(release.downtime, VALUE_LIMITS.downtime) : '';
  const notes = release.notes ? escapeWithin(truncate(release.notes, NOTES_LENGTH), VALUE_LIMITS.notes) : '';
  const values: Record<string, string> = {
    version,
    env,
    when,
    by: actor ? mentionUser(actor) : '',
    reason,
    issue: issue ? `${escapeWithin(issue.what, VALUE_LIMITS.issue)} (${issue.severity})` : '',
    downtime,
    notes,
    phases: phaseList(release),
  };
  const sentence = fillWording(announcementWording(release.template, event), values);

  const fields = [field('Environment', env), field('Version', version), field('When', when)];
  if (issue) fields.push(field('Severity', issue.severity));
  if (downtime) fields.push(field('Expected downtime', downtime));

  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(sentence.trim() || FALLBACK[event](version, env), BlockKitLimits.sectionText),
      },
    },
    { type: 'section', fields },
  ];
  if (notes) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`*Release notes*\n${notes}`, BlockKitLimits.sectionText) },
    });
  }
  if (permalink) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `🧵 ${linkTo(permalink, 'View the release thread')}` }],
    });
  }
  return { text: truncate(FALLBACK[event](version, env), BlockKitLimits.fallbackText), blocks };
}
