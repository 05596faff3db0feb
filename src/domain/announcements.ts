import type { AnnouncementEvent, Template } from './template.js';

// The words stakeholders read about a release. A template may word each event its own way; the
// wording carries placeholders in braces that the renderer fills with already escaped mrkdwn.

/** The placeholders an announcement's wording may use. */
export const ANNOUNCEMENT_PLACEHOLDERS = [
  'version',
  'env',
  /** The deploy window, or the moment the event happened. */
  'when',
  /** Who did it. */
  'by',
  /** Why it was cancelled or rolled back. */
  'reason',
  /** What was found, with its severity. */
  'issue',
  'downtime',
  'notes',
  /** The release's phases in order, its deployment phase marked. */
  'phases',
] as const;
export type AnnouncementPlaceholder = (typeof ANNOUNCEMENT_PLACEHOLDERS)[number];

export const DEFAULT_ANNOUNCEMENT_WORDING: Record<AnnouncementEvent, string> = {
  planned:
    '📋 Work on *{version}* for *{env}* has started, with no deploy time set yet. Its phases: {phases}.',
  scheduled: '📅 *{version}* is planned to go out to *{env}*, {when}.',
  started: '🚀 Deployment of *{version}* to *{env}* has begun.',
  deployed: '✅ *{version}* is now live on *{env}*.',
  issue_found: '⚠️ A problem was spotted in *{version}* on *{env}*: {issue}',
  rolled_back: '↩️ *{version}* on *{env}* has been rolled back: {reason}',
  completed: '🏁 The *{version}* release to *{env}* is finished.',
  cancelled: '✖️ The *{version}* release to *{env}* was called off: {reason}',
  red_flag: '🚩 *{version}* on *{env}* is stopped by a red flag raised by {by}: {reason}',
  red_flag_cleared: '🟢 The red flag on *{version}* ({env}) was cleared by {by}: {reason}',
  rolling_back: '↩️ *{version}* on *{env}* is being rolled back, decided by {by}: {reason}',
  freeze_overridden: '❄️ *{version}* will go out to *{env}* during a freeze, approved by {by}: {reason}',
};

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const KNOWN = new Set<string>(ANNOUNCEMENT_PLACEHOLDERS);

/** What closes a sentence after a placeholder that ended up empty: only punctuation and spaces. */
const ONLY_CLOSING = /^[\s.!?]*$/;
/** A separator left hanging before an empty placeholder: "cancelled: " → "cancelled". */
const DANGLING_SEPARATOR = /[ \t]*[:,;–—-]?[ \t]*$/;
const TRAILING_BLANKS = /[ \t]+$/;

interface Part {
  text: string;
  /** Text from the wording itself (the only text tidying may change), as opposed to a filled value. */
  literal: boolean;
}

/**
 * Fills the wording's placeholders with `values` (already escaped mrkdwn; they are inserted as they are
 * and never searched for placeholders themselves). A placeholder is known when it is one of
 * ANNOUNCEMENT_PLACEHOLDERS or has an entry in `values`; an unknown one is left as written. A known
 * placeholder without a value (or with an empty one) disappears, and the wording around it is tidied:
 * no doubled spaces, no separator left dangling at the end of a sentence.
 */
export function fillWording(wording: string, values: Record<string, string>): string {
  const parts: (Part | 'gap')[] = [];
  let cursor = 0;
  for (const match of wording.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    const known = KNOWN.has(name) || Object.hasOwn(values, name);
    if (!known) continue;
    parts.push({ text: wording.slice(cursor, match.index), literal: true });
    const value = Object.hasOwn(values, name) ? values[name]! : '';
    parts.push(value === '' ? 'gap' : { text: value, literal: false });
    cursor = match.index + match[0].length;
  }
  parts.push({ text: wording.slice(cursor), literal: true });

  const out: Part[] = [];
  for (const [index, part] of parts.entries()) {
    if (part !== 'gap') {
      out.push({ ...part });
      continue;
    }
    const before = out.at(-1);
    const following = parts.slice(index + 1).filter((next): next is Part => next !== 'gap');
    const after = following.find((next) => next.text !== '');
    // The wording that follows, up to the next filled value (standing for a word).
    let rest = '';
    for (const next of following) {
      rest += next.literal ? next.text : 'x';
      if (!next.literal) break;
    }
    if (before?.literal) {
      if (ONLY_CLOSING.test(rest)) before.text = before.text.replace(DANGLING_SEPARATOR, '');
      else if (/^[\s,.;:!?)]/.test(rest)) before.text = before.text.replace(TRAILING_BLANKS, '');
    }
    if (out.every((previous) => previous.text.trim() === '') && after?.literal) {
      // A sentence that began with the empty placeholder starts at the next word.
      after.text = after.text.replace(/^[ \t]+/, '');
    }
  }
  return out.map((part) => part.text).join('');
}

/** The template's own wording for the event, or the built-in one when the template has none. */
export function announcementWording(template: Template, event: AnnouncementEvent): string {
  const own = template.announcements?.[event];
  return own !== undefined && own.trim() !== '' ? own : DEFAULT_ANNOUNCEMENT_WORDING[event];
}
