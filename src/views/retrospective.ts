import type {
  ActionsBlock,
  ContextBlock,
  InputBlock,
  KnownBlock,
  ModalView,
  SectionBlock,
} from '@slack/types';
import { CRITERION_VERDICTS } from '../domain/observations.js';
import { describePerson, NO_PEOPLE, type ReleasePeople } from '../domain/people.js';
import type { Release } from '../domain/release.js';
import {
  formatRetroDuration,
  peopleInRetro,
  type RetroDraft,
  type RetroFinding,
  type RetroOutcome,
  retroOutcome,
} from '../domain/retrospective.js';
import { encodeReleaseIndexMetadata, encodeReleaseValue } from './ids.js';
import { BlockKitLimits } from './limits.js';
import { escapeMrkdwn, formatSlackDate, mentionUser, truncate } from './mrkdwn.js';
import { type RenderedMessage, releaseTitle } from './release-messages.js';
import { criteriaSections, describeCriterionReport, VERDICT_WORDS } from './success-criteria.js';

// The retrospective in the release thread, as pure renders: the draft shipcheck writes from the record
// when a release ends, the later nudge while the team's part is missing, the form for that part
// (what went well, what went wrong, the follow-ups) and the message that shows it once saved.

/** The button on the draft and the prompt; its value is the release id. */
export const RETRO_ACTION_ID = 'retro.open';
/** The retrospective form. */
export const RETRO_CALLBACK_ID = 'retro.submit';

/** Input blocks of the retrospective form. */
export const RetroField = {
  wentWellBlock: 'went_well',
  wentWellAction: 'went_well.input',
  wentWrongBlock: 'went_wrong',
  wentWrongAction: 'went_wrong.input',
  followUpsBlock: 'follow_ups',
  followUpsAction: 'follow_ups.input',
} as const;

/** How much each answer of the form may hold. */
export const RETRO_TEXT_MAX_LENGTH = 2000;

/** Lines a list in the draft shows before it counts the rest. */
const MAX_LIST_LINES = 10;
/** Skipped items named under one override before the rest are counted. */
const MAX_SKIPPED_NAMES = 3;
/** Escaped lengths of the pieces of people's text inside one line of the draft. */
const REASON_LENGTH = 600;
const NAME_LENGTH = 200;
const NOTHING = '_Nothing to note._';

const OUTCOME_WORDS: Record<RetroOutcome, string> = {
  completed: 'completed',
  rolled_back: 'rolled back',
  cancelled: 'cancelled',
};

const ANSWER_WORDS: Record<string, string> = {
  healthy: 'healthy',
  issue: 'issue found',
  rollback: 'roll back',
};

/**
 * People's text for mrkdwn, escaped and at most `max` characters once escaped: it is cut before it is
 * escaped, so the cut never splits an entity.
 */
function escapeWithin(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return escaped;
  let low = 1;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (escapeMrkdwn(truncate(text, middle)).length <= max) low = middle;
    else high = middle - 1;
  }
  return escapeMrkdwn(truncate(text, low));
}

/** People's text on one line, escaped and bounded. */
const inline = (text: string, max: number) => escapeWithin(text.replace(/\s+/g, ' ').trim(), max);
const quoted = (text: string, max: number) => `“${inline(text, max)}”`;

const title = (release: Release) => inline(releaseTitle(release), 200);

const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string): ContextBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });

/**
 * A titled list in one section: as many lines as fit in Slack's limit (and at most MAX_LIST_LINES),
 * then "…and N more"; "Nothing to note." when the list is empty.
 */
function listSection(heading: string, lines: readonly string[]): SectionBlock {
  if (lines.length === 0) return section(`${heading}\n${NOTHING}`);
  const shown: string[] = [];
  for (const [index, line] of lines.entries()) {
    if (shown.length >= MAX_LIST_LINES) break;
    const rest = lines.length - index - 1;
    const candidate = [heading, ...shown, line, ...(rest > 0 ? [`…and ${rest} more`] : [])].join('\n');
    if (candidate.length > BlockKitLimits.sectionText) break;
    shown.push(line);
  }
  const hidden = lines.length - shown.length;
  return section([heading, ...shown, ...(hidden > 0 ? [`…and ${hidden} more`] : [])].join('\n'));
}

function openButton(release: Release): ActionsBlock {
  return {
    type: 'actions',
    block_id: 'retro-actions',
    elements: [
      {
        type: 'button',
        style: 'primary',
        action_id: RETRO_ACTION_ID,
        value: encodeReleaseValue(release.id),
        text: { type: 'plain_text', text: 'Add what went well and wrong…' },
      },
    ],
  };
}

function phaseLines(release: Release, draft: RetroDraft): string[] {
  return draft.phaseDurations.map((entry, index) => {
    const phase = release.template.phases[index];
    const name = `*${inline(entry.phaseName, NAME_LENGTH)}*`;
    let took: string;
    if (entry.actualMs !== undefined) took = formatRetroDuration(entry.actualMs);
    else if (phase?.name === entry.phaseName && !phase.items.some((item) => item.required))
      took = 'nothing required';
    else took = 'not done';
    const parts = [`• ${name}: ${took}`];
    if (entry.plannedMs !== undefined) {
      const over =
        entry.actualMs !== undefined && entry.actualMs > entry.plannedMs
          ? `, ${formatRetroDuration(entry.actualMs - entry.plannedMs)} over`
          : '';
      parts.push(`(planned ${formatRetroDuration(entry.plannedMs)}${over})`);
    }
    if (entry.late) parts.push('⚠️ done after it was due');
    return parts.join(' ');
  });
}

function lateItemLines(draft: RetroDraft): string[] {
  return draft.lateItems.map(
    (late) =>
      `• ${quoted(late.itemText, NAME_LENGTH)} (${inline(late.phaseName, NAME_LENGTH)}): ticked by ${mentionUser(late.by)} ${formatSlackDate(late.doneAt)}, ${formatRetroDuration(late.doneAt - late.dueAt)} after it was due`,
  );
}

function overrideLines(draft: RetroDraft): string[] {
  return draft.overrides.map((entry) => {
    const reason = entry.reason.trim() ? `: ${quoted(entry.reason, REASON_LENGTH)}` : '';
    const line = `• Gate to *${inline(entry.phaseName, NAME_LENGTH)}* opened by ${mentionUser(entry.by)} ${formatSlackDate(entry.at)}${reason}`;
    if (entry.skippedItems.length === 0) return `${line}\n   No required item was left undone.`;
    const names = entry.skippedItems.slice(0, MAX_SKIPPED_NAMES).map((text) => quoted(text, NAME_LENGTH));
    const more = entry.skippedItems.length - names.length;
    return `${line}\n   Skipped: ${names.join(', ')}${more > 0 ? ` …and ${more} more` : ''}`;
  });
}

function reminderLines(draft: RetroDraft): string[] {
  return draft.reminders.map(
    (entry) => `• ${mentionUser(entry.recipient)}: ${entry.count} reminder${entry.count === 1 ? '' : 's'}`,
  );
}

function checkinLines(draft: RetroDraft): string[] {
  return draft.checkins.map((checkin) => {
    const answer =
      checkin.answer !== undefined
        ? `${inline(ANSWER_WORDS[checkin.answer] ?? checkin.answer, NAME_LENGTH)}${checkin.by ? ` (${mentionUser(checkin.by)})` : ''}`
        : 'not answered';
    return `• Check-in ${checkin.index + 1}: ${answer}${checkin.escalated ? ' — ⏰ escalated first' : ''}`;
  });
}

/** "1 met, 1 missed, 6 not recorded" (on the latest value recorded for each). */
function countVerdicts(draft: RetroDraft): string {
  return CRITERION_VERDICTS.map(
    (verdict) =>
      `${draft.criteria.filter((report) => report.verdict === verdict).length} ${VERDICT_WORDS[verdict]}`,
  ).join(', ');
}

function criteriaLines(draft: RetroDraft): string[] {
  return draft.criteria.map((report) => describeCriterionReport(report, true));
}

function issueLines(draft: RetroDraft): string[] {
  return draft.issues.map((issue) => {
    const resolved =
      issue.timeToResolveMs !== undefined
        ? `resolved after ${formatRetroDuration(issue.timeToResolveMs)}`
        : 'still open';
    return `• #${issue.id} (${inline(issue.severity, 40)}) ${quoted(issue.what, REASON_LENGTH)}: found ${formatSlackDate(issue.foundAt)}, ${resolved}`;
  });
}

function rollbackText(draft: RetroDraft): string {
  const rollback = draft.rollback;
  if (!rollback) return NOTHING;
  const reason = rollback.reason.trim() ? `: ${quoted(rollback.reason, REASON_LENGTH * 2)}` : '.';
  return `Decided by ${mentionUser(rollback.by)} ${formatSlackDate(rollback.at)}${reason}`;
}

/** Red flags and refusals have no list of their own in the draft; their findings show here. */
function stopLines(findings: readonly RetroFinding[]): string[] {
  return findings
    .filter((finding) => finding.kind === 'red_flag' || finding.kind === 'refused')
    .map((finding) => {
      const when = finding.at !== undefined ? `${formatSlackDate(finding.at)} ` : '';
      const who = (finding.userIds ?? []).map(mentionUser).join(' ');
      return `• ${when}${escapeWithin(finding.text, REASON_LENGTH * 2)}${who ? ` — ${who}` : ''}`;
    });
}

/**
 * Slack shows a mention with the person's name of today; this context line gives the names the
 * release recorded (those of the time) with the ids, as the audit listing does. None when no one the
 * message names has a recorded name.
 */
function namesAtTheTime(people: ReleasePeople, userIds: readonly string[]): ContextBlock[] {
  const names = userIds.filter((userId) => people.has(userId)).map((id) => describePerson(people, id));
  if (names.length === 0) return [];
  return [context(escapeWithin(`Names at the time: ${names.join(' · ')}`, BlockKitLimits.sectionText))];
}

/**
 * The draft retrospective, posted in the release thread when the release ends; `people` is the
 * release's record of names.
 */
export function renderRetroDraft(
  release: Release,
  draft: RetroDraft,
  people: ReleasePeople = NO_PEOPLE,
): RenderedMessage {
  const outcome = OUTCOME_WORDS[draft.outcome];
  const heading = `📝 Draft retrospective: ${releaseTitle(release)} (${outcome})`;
  const finished =
    release.finishedAt !== undefined ? `, ${outcome} ${formatSlackDate(release.finishedAt)}` : '';
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(heading, BlockKitLimits.headerText) } },
    context(
      `Drafted from the record of *${title(release)}* (started by ${mentionUser(release.startedBy)} ${formatSlackDate(release.startedAt)}${finished}). The record cannot say what went well or wrong: add that below.`,
    ),
    listSection('*⏱ Phases: time taken against the plan*', phaseLines(release, draft)),
    listSection('*⏰ Items ticked after they were due*', lateItemLines(draft)),
    listSection('*🔓 Gate overrides*', overrideLines(draft)),
    listSection('*🔔 Reminders sent*', reminderLines(draft)),
    listSection('*🩺 Check-ins*', checkinLines(draft)),
    // A template without success criteria (every release from before they existed) gets no section.
    ...(draft.criteria.length > 0
      ? criteriaSections(`*🎯 Success criteria*: ${countVerdicts(draft)}`, criteriaLines(draft))
      : []),
    listSection('*🚨 Issues*', issueLines(draft)),
    section(truncate(`*↩️ Rollback*\n${rollbackText(draft)}`, BlockKitLimits.sectionText)),
    listSection('*🚩 Red flags and refusals*', stopLines(draft.findings)),
    ...namesAtTheTime(people, peopleInRetro(release, draft)),
    openButton(release),
  ];
  return {
    text: truncate(`Draft retrospective: ${title(release)} (${outcome})`, BlockKitLimits.fallbackText),
    blocks,
  };
}

/** The later nudge in the thread, while nobody has written the team's part. */
export function renderRetroPrompt(release: Release): RenderedMessage {
  const question = `How did ${title(release)} go? The team's retrospective is still open.`;
  return {
    text: truncate(question, BlockKitLimits.fallbackText),
    blocks: [
      section(
        truncate(
          `📝 How did *${title(release)}* go? The team's retrospective is still open: what went well, what went wrong, and what to follow up.`,
          BlockKitLimits.sectionText,
        ),
      ),
      openButton(release),
    ],
  };
}

function answerInput(
  blockId: string,
  actionId: string,
  label: string,
  placeholder: string,
  initial: string | undefined,
  optional: boolean,
): InputBlock {
  const block: InputBlock = {
    type: 'input',
    block_id: blockId,
    optional,
    label: { type: 'plain_text', text: label },
    element: {
      type: 'plain_text_input',
      action_id: actionId,
      multiline: true,
      max_length: RETRO_TEXT_MAX_LENGTH,
      placeholder: { type: 'plain_text', text: placeholder },
    },
  };
  if (initial?.trim() && block.element.type === 'plain_text_input') {
    block.element.initial_value = truncate(initial, RETRO_TEXT_MAX_LENGTH);
  }
  return block;
}

/** The team's part of the retrospective; `previous` fills it in when it is being revised. */
export function renderRetroModal(
  release: Release,
  teamId: string,
  previous?: { wentWell: string; wentWrong: string; followUps: string },
): ModalView {
  const saved = release.retro
    ? ` Last saved by ${mentionUser(release.retro.by)} ${formatSlackDate(release.retro.at)}; saving again replaces it.`
    : '';
  return {
    type: 'modal',
    callback_id: RETRO_CALLBACK_ID,
    private_metadata: encodeReleaseIndexMetadata({ teamId, releaseId: release.id, index: 0 }),
    title: { type: 'plain_text', text: 'Retrospective' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      context(
        truncate(
          `*${title(release)}* (${OUTCOME_WORDS[retroOutcome(release)]}). What you write is posted in the release thread and kept in its deployment log.${saved}`,
          BlockKitLimits.sectionText,
        ),
      ),
      answerInput(
        RetroField.wentWellBlock,
        RetroField.wentWellAction,
        'What went well?',
        'What should we keep doing next time?',
        previous?.wentWell,
        false,
      ),
      answerInput(
        RetroField.wentWrongBlock,
        RetroField.wentWrongAction,
        'What went wrong?',
        'What slowed us down or broke? Write "nothing" if nothing did.',
        previous?.wentWrong,
        false,
      ),
      answerInput(
        RetroField.followUpsBlock,
        RetroField.followUpsAction,
        'Follow-ups',
        'Who does what next, if anything',
        previous?.followUps,
        true,
      ),
    ],
  };
}

/** Room for one answer in its section, after its heading. */
const ANSWER_LENGTH = BlockKitLimits.sectionText - 100;

/** The team's retrospective in the thread, once saved; `people` is the release's record of names. */
export function renderRetroSaved(
  release: Release,
  retro: { wentWell: string; wentWrong: string; followUps: string; by: string; at: number },
  people: ReleasePeople = NO_PEOPLE,
): RenderedMessage {
  let shortened = false;
  const answer = (heading: string, text: string, empty: string): SectionBlock => {
    const trimmed = text.trim();
    if (!trimmed) return section(`${heading}\n${empty}`);
    const shown = escapeWithin(trimmed, ANSWER_LENGTH);
    if (shown !== escapeMrkdwn(trimmed)) shortened = true;
    return section(`${heading}\n${shown}`);
  };
  const blocks: KnownBlock[] = [
    section(
      `📝 *Retrospective of ${title(release)}*, saved by ${mentionUser(retro.by)} ${formatSlackDate(retro.at)}`,
    ),
    answer('*✅ What went well*', retro.wentWell, '_Nothing written._'),
    answer('*⚠️ What went wrong*', retro.wentWrong, '_Nothing written._'),
    answer('*➡️ Follow-ups*', retro.followUps, '_None._'),
  ];
  if (shortened) blocks.push(context('Shortened here: the deployment log has the full text.'));
  blocks.push(...namesAtTheTime(people, [retro.by]));
  return {
    text: truncate(
      `Retrospective of ${title(release)} saved by ${mentionUser(retro.by)}`,
      BlockKitLimits.fallbackText,
    ),
    blocks,
  };
}
