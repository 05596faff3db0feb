import type { Button, ContextBlock, InputBlock, KnownBlock, ModalView, NumberInput } from '@slack/types';
import { describeCriterion, describeThreshold } from '../domain/criteria.js';
import { type MeasurableCriterion, measurableCriteria, reportCriteria } from '../domain/observations.js';
import {
  type CheckIn,
  ISSUE_SEVERITIES,
  type IssueSeverity,
  type Release,
  type ReleaseIssue,
} from '../domain/release.js';
import {
  ActionId,
  CallbackId,
  CheckinField,
  encodeReleaseAction,
  encodeReleaseIndexMetadata,
  ObservationField,
  ReleaseRoute,
} from './ids.js';
import { BlockKitLimits } from './limits.js';
import { metricBlocks } from './metric-results.js';
import { escapeMrkdwn, formatSlackDate, mentionUser, truncate } from './mrkdwn.js';
import { type RenderedMessage, releaseTitle } from './release-messages.js';
import { criteriaSections, describeCriterionReport, UNIT_WORDS } from './success-criteria.js';

// Post-deploy check-ins as pure renders: the question in the release thread (its buttons go once it is
// answered or can no longer be), the escalation when nobody answers, the direct message to the owner,
// and the modals behind "Issue found…", "Roll back…", "Record values…" and "Resolve #n…".

/** What people typed (issue, reason, resolution) is at most 500 characters; messages show the start. */
const SHOWN_TEXT_LENGTH = 300;
const INPUT_MAX_LENGTH = 500;

export const SEVERITY_LABELS: Record<IssueSeverity, string> = {
  critical: 'Critical: users cannot work',
  major: 'Major: a feature is broken or slow',
  minor: 'Minor: cosmetic or limited',
};

function checkinAt(release: Release, checkinIndex: number): CheckIn {
  const checkin = release.checkins[checkinIndex];
  if (!checkin) throw new Error(`release ${release.id} has no check-in ${checkinIndex}`);
  return checkin;
}

function userText(text: string): string {
  return escapeMrkdwn(truncate(text, SHOWN_TEXT_LENGTH));
}

/** 2 h, 90 min, 30 s: the largest unit that states the duration exactly. */
export function describeDuration(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function statusWord(release: Release): string {
  return release.status.replace('_', ' ');
}

/** Whether the check-in still takes an answer: unanswered, in an active release, while monitoring is open. */
function isAskable(release: Release, checkin: CheckIn): boolean {
  return !checkin.answer && release.status === 'active' && release.monitoring?.state === 'open';
}

function checkinHeading(release: Release, checkin: CheckIn): string {
  const what = checkin.followUp ? 'Follow-up check-in' : 'Check-in';
  return `🩺 *${what} ${checkin.index + 1} of ${release.checkins.length}*`;
}

function answerButtons(release: Release, checkinIndex: number): Button[] {
  return [
    {
      type: 'button',
      style: 'primary',
      action_id: encodeReleaseAction(ReleaseRoute.checkinHealthy, release.id, checkinIndex),
      text: { type: 'plain_text', text: 'Healthy' },
    },
    {
      type: 'button',
      action_id: encodeReleaseAction(ReleaseRoute.checkinIssue, release.id, checkinIndex),
      text: { type: 'plain_text', text: 'Issue found…' },
    },
    {
      type: 'button',
      style: 'danger',
      action_id: encodeReleaseAction(ReleaseRoute.checkinRollback, release.id, checkinIndex),
      text: { type: 'plain_text', text: 'Roll back…' },
    },
  ];
}

function describeAnswer(release: Release, checkin: CheckIn): string | undefined {
  const answer = checkin.answer;
  if (!answer) return undefined;
  let what: string;
  if (answer.kind === 'healthy') what = '✅ Healthy';
  else if (answer.kind === 'rollback') what = '↩️ Rolled back';
  else {
    const issue = release.issues.find((candidate) => candidate.id === answer.issue);
    what = issue ? `⚠️ Issue found: ${userText(issue.what)} (${issue.severity})` : '⚠️ Issue found';
  }
  return `${what} — ${mentionUser(answer.by)} ${formatSlackDate(answer.at)}`;
}

/** Why an unanswered check-in takes no answer any more. */
function describeNotAskable(release: Release): string {
  const why =
    release.status === 'active' ? 'the monitoring window closed' : `the release is ${statusWord(release)}`;
  return `No answer needed any more: ${why}`;
}

const context = (text: string): ContextBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });

/** Values can be recorded while the release is active, answered or not: the record is read when it ends. */
function takesObservations(release: Release): boolean {
  return release.status === 'active' && measurableCriteria(release.template).length > 0;
}

function recordButton(release: Release, checkinIndex: number): Button {
  return {
    type: 'button',
    action_id: encodeReleaseAction(ReleaseRoute.checkinRecord, release.id, checkinIndex),
    text: { type: 'plain_text', text: 'Record values…' },
  };
}

/** The template's success criteria with what was observed at this check-in, and who recorded it last. */
function criteriaBlocks(release: Release, checkin: CheckIn): KnownBlock[] {
  const reports = reportCriteria(release, checkin.index);
  if (reports.length === 0) return [];
  const blocks: KnownBlock[] = criteriaSections(
    '*🎯 Success criteria*',
    reports.map((report) => describeCriterionReport(report)),
  );
  const last = Object.values(checkin.observed ?? {}).reduce<{ by: string; at: number } | undefined>(
    (latest, observation) => (!latest || observation.at >= latest.at ? observation : latest),
    undefined,
  );
  if (last)
    blocks.push(context(`Last value recorded by ${mentionUser(last.by)} ${formatSlackDate(last.at)}`));
  return blocks;
}

/**
 * The question, its state, the template's success criteria with this check-in's values, and, while it
 * can be answered, the three answers (and "Record values…" while the release is active); shared by the
 * thread message and the owner's direct message. `extraButtons` go last.
 */
function checkinBlocks(release: Release, checkinIndex: number, extraButtons: Button[]): KnownBlock[] {
  const checkin = checkinAt(release, checkinIndex);
  const title = escapeMrkdwn(releaseTitle(release));
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `${checkinHeading(release, checkin)}\nIs *${title}* healthy? ${mentionUser(release.startedBy)}`,
      },
    },
  ];
  if (release.deployment) {
    blocks.push(
      context(`Deployed ${formatSlackDate(release.deployment.at)} by ${mentionUser(release.deployment.by)}`),
    );
  }
  const askable = isAskable(release, checkin);
  const answer = describeAnswer(release, checkin);
  if (answer) blocks.push(context(answer));
  else if (!askable) blocks.push(context(describeNotAskable(release)));
  if (checkin.escalatedAt !== undefined) {
    blocks.push(
      context(`⏰ Escalated to ${mentionUser(release.startedBy)} ${formatSlackDate(checkin.escalatedAt)}`),
    );
  }
  blocks.push(...metricBlocks(release.template, checkin.metrics));
  blocks.push(...criteriaBlocks(release, checkin));
  const buttons = [
    ...(askable ? answerButtons(release, checkinIndex) : []),
    ...(takesObservations(release) ? [recordButton(release, checkinIndex)] : []),
    ...extraButtons,
  ];
  if (buttons.length > 0) blocks.push({ type: 'actions', block_id: 'checkin-actions', elements: buttons });
  return blocks;
}

/** The check-in in the release thread. */
export function renderCheckin(release: Release, checkinIndex: number): RenderedMessage {
  const suggestion = checkinAt(release, checkinIndex).metrics?.suggestion;
  return {
    text: truncate(
      `Check-in ${checkinIndex + 1}: is ${escapeMrkdwn(releaseTitle(release))} healthy?${
        suggestion ? ` Metrics: ${suggestion}.` : ''
      }`,
      BlockKitLimits.fallbackText,
    ),
    blocks: checkinBlocks(release, checkinIndex, []),
  };
}

/** The nudge in the thread when a check-in has waited `escalateAfterMs` without an answer. */
export function renderCheckinEscalation(
  release: Release,
  checkinIndex: number,
  escalateAfterMs: number,
): RenderedMessage {
  const title = escapeMrkdwn(releaseTitle(release));
  const number = checkinIndex + 1;
  return {
    text: truncate(`Check-in ${number} of ${title} is unanswered`, BlockKitLimits.fallbackText),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `⏰ ${mentionUser(release.startedBy)}: check-in ${number} of *${title}* has had no answer for ${describeDuration(escalateAfterMs)}. Please answer it above.`,
        },
      },
    ],
  };
}

/**
 * The escalation's direct message to the owner: the same question and answers, and a way to the thread.
 * The sync keeps it true: once answered it shows the answer instead of the buttons, and says so when
 * the release has ended.
 */
export function renderCheckinDirect(
  release: Release,
  checkinIndex: number,
  permalink: string | undefined,
): RenderedMessage {
  const checkin = checkinAt(release, checkinIndex);
  const title = escapeMrkdwn(releaseTitle(release));
  const link: Button[] = permalink
    ? [
        {
          type: 'button',
          action_id: ActionId.openLink,
          text: { type: 'plain_text', text: 'Open the thread' },
          url: permalink,
        },
      ]
    : [];
  const blocks = checkinBlocks(release, checkinIndex, link);
  // Unanswered, the question's own state line already says why no answer is needed any more.
  if (checkin.answer && release.status !== 'active') {
    const actions = blocks.findIndex((block) => block.type === 'actions');
    blocks.splice(
      actions === -1 ? blocks.length : actions,
      0,
      context(`The release is ${statusWord(release)}.`),
    );
  }
  let state = 'is waiting for your answer';
  if (checkin.answer) state = 'is answered';
  else if (!isAskable(release, checkin)) state = 'needs no answer any more';
  return {
    text: truncate(`Check-in ${checkinIndex + 1} of ${title} ${state}`, BlockKitLimits.fallbackText),
    blocks,
  };
}

function modalBase(
  release: Release,
  teamId: string,
  index: number,
  callbackId: string,
  title: string,
  submit: string,
): Omit<ModalView, 'blocks'> {
  return {
    type: 'modal',
    callback_id: callbackId,
    private_metadata: encodeReleaseIndexMetadata({ teamId, releaseId: release.id, index }),
    title: { type: 'plain_text', text: title },
    submit: { type: 'plain_text', text: submit },
    close: { type: 'plain_text', text: 'Cancel' },
  };
}

function textInput(blockId: string, actionId: string, label: string, placeholder: string): KnownBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: { type: 'plain_text', text: label },
    element: {
      type: 'plain_text_input',
      action_id: actionId,
      multiline: true,
      max_length: INPUT_MAX_LENGTH,
      placeholder: { type: 'plain_text', text: placeholder },
    },
  };
}

/** "Issue found…": what is wrong and how bad it is. */
export function renderIssueModal(release: Release, checkinIndex: number, teamId: string): ModalView {
  const options = ISSUE_SEVERITIES.map((severity) => ({
    text: { type: 'plain_text' as const, text: SEVERITY_LABELS[severity] },
    value: severity,
  }));
  return {
    ...modalBase(release, teamId, checkinIndex, CallbackId.reportIssue, 'Issue found', 'Report'),
    blocks: [
      context(
        `Check-in ${checkinIndex + 1} of *${escapeMrkdwn(releaseTitle(release))}*. The issue goes on the release header until someone resolves it.`,
      ),
      textInput(
        CheckinField.whatBlock,
        CheckinField.whatAction,
        'What is wrong?',
        'What do you see, and where?',
      ),
      {
        type: 'input',
        block_id: CheckinField.severityBlock,
        label: { type: 'plain_text', text: 'Severity' },
        element: {
          type: 'static_select',
          action_id: CheckinField.severityAction,
          placeholder: { type: 'plain_text', text: 'How bad is it?' },
          options,
        },
      },
    ],
  };
}

/** "Roll back…": ends the release as rolled back, with a reason. */
/**
 * "Roll back…", from a check-in or the release header: the template's rollback criteria, what rolling
 * back does here, and why. `checkinIndex` is the check-in it answers; without one it comes from the
 * header or `/deploy rollback`, whose reason may be filled in already.
 */
export function renderRollbackModal(
  release: Release,
  checkinIndex: number | undefined,
  teamId: string,
  initialReason?: string,
): ModalView {
  const rollback = release.template.rollback;
  const title = escapeMrkdwn(releaseTitle(release));
  const effect = rollback
    ? `*${title}* switches to rolling back: its checklists close, pending reminders and check-ins stop, and its rollback checklist (${rollback.items.length} items) is posted in the thread. When its required items are done, the release is rolled back and ${escapeMrkdwn(release.env)} is free again.`
    : `This ends *${title}* as rolled back: its checklists close, pending reminders and check-ins stop, and ${escapeMrkdwn(release.env)} is free again. Roll the deployment itself back with your usual tooling.`;
  const blocks: KnownBlock[] = [];
  if (rollback) {
    const criteria = rollback.criteria
      .map((criterion) => `• ${userText(describeCriterion(criterion))}`)
      .join('\n');
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`*Roll back when*\n${criteria}`, BlockKitLimits.sectionText) },
    });
  }
  blocks.push({
    type: 'section',
    text: { type: 'mrkdwn', text: truncate(effect, BlockKitLimits.sectionText) },
  });
  const reason = textInput(
    CheckinField.reasonBlock,
    CheckinField.reasonAction,
    'Why roll back?',
    'What went wrong?',
  );
  if (initialReason && reason.type === 'input' && reason.element.type === 'plain_text_input') {
    reason.element.initial_value = truncate(initialReason, INPUT_MAX_LENGTH);
  }
  blocks.push(reason);
  const fromCheckin = checkinIndex !== undefined;
  return {
    ...modalBase(
      release,
      teamId,
      checkinIndex ?? 0,
      fromCheckin ? CallbackId.rollBack : CallbackId.rollBackRelease,
      'Roll back',
      'Roll back',
    ),
    blocks,
  };
}

function observationInput(criterion: MeasurableCriterion, initial: number | undefined): InputBlock {
  const unit = criterion.unit;
  const element: NumberInput = {
    type: 'number_input',
    action_id: ObservationField.action,
    is_decimal_allowed: unit !== 'count',
  };
  // Slack checks these in the form already; the listener checks again (src/domain/observations.ts).
  if (unit === '%') element.min_value = '-100';
  else if (unit !== undefined) element.min_value = '0';
  if (unit === '/10') element.max_value = '10';
  if (initial !== undefined) element.initial_value = String(initial);
  const target = describeThreshold(criterion);
  return {
    type: 'input',
    block_id: `${ObservationField.blockPrefix}${criterion.id}`,
    optional: true,
    label: {
      type: 'plain_text',
      text: truncate(unit ? `${criterion.name} (${UNIT_WORDS[unit]})` : criterion.name, 2000),
    },
    ...(target ? { hint: { type: 'plain_text' as const, text: `Target: ${target}` } } : {}),
    element,
  };
}

/**
 * "Record values…": one number per success criterion, filled in with what this check-in has recorded.
 * Only fields changed since the form opened are written, so two people's forms do not undo each other.
 */
export function renderObservationsModal(release: Release, checkinIndex: number, teamId: string): ModalView {
  const checkin = checkinAt(release, checkinIndex);
  return {
    ...modalBase(release, teamId, checkinIndex, CallbackId.recordObservations, 'Observed values', 'Record'),
    blocks: [
      context(
        `Check-in ${checkinIndex + 1} of *${escapeMrkdwn(releaseTitle(release))}*: what you observed, in each criterion's unit. Leave a field empty if you did not measure it; a new value replaces the one recorded before, on the record.`,
      ),
      ...measurableCriteria(release.template).map((criterion) =>
        observationInput(criterion, checkin.observed?.[criterion.id]?.value),
      ),
    ],
  };
}

function describeIssue(issue: ReleaseIssue | undefined, issueId: number): string {
  if (!issue) return `*Issue #${issueId}*`;
  const lines = [
    `🚨 *Issue #${issue.id}* (${issue.severity}), found by ${mentionUser(issue.foundBy)} ${formatSlackDate(issue.foundAt)}`,
    `_${userText(issue.what)}_`,
  ];
  if (issue.resolvedAt !== undefined) {
    const by = issue.resolvedBy ? ` by ${mentionUser(issue.resolvedBy)}` : '';
    lines.push(`✅ Already resolved${by} ${formatSlackDate(issue.resolvedAt)}`);
  }
  return lines.join('\n');
}

/** "Resolve #n…": how an open issue was resolved. */
export function renderResolveIssueModal(release: Release, issueId: number, teamId: string): ModalView {
  const issue = release.issues.find((candidate) => candidate.id === issueId);
  return {
    ...modalBase(release, teamId, issueId, CallbackId.resolveIssue, 'Resolve issue', 'Resolve'),
    blocks: [
      context(`An issue in *${escapeMrkdwn(releaseTitle(release))}*`),
      { type: 'section', text: { type: 'mrkdwn', text: describeIssue(issue, issueId) } },
      textInput(
        CheckinField.resolutionBlock,
        CheckinField.resolutionAction,
        'How was it resolved?',
        'The fix, and how you checked it',
      ),
    ],
  };
}
