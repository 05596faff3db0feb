import type { ActionsBlock, Button, KnownBlock, SectionBlock } from '@slack/types';
import {
  type CriterionEntry,
  describeCriterion,
  goCriteriaOf,
  resolveCriterionReferences,
} from '../domain/criteria.js';
import {
  computeProgress,
  countOpenRequired,
  currentPhaseIndex,
  findBlockingPhase,
  isGoDecisionDue,
  isPhaseUnlocked,
  listSkippedItems,
  openIssues,
  type PhaseState,
  pendingCheckin,
  phaseState,
  type RedFlag,
  type Release,
  type ReleaseIssue,
  waitsForGo,
} from '../domain/release.js';
import { goPhaseIndex, rollbackPhaseIndex, type TemplateItem } from '../domain/template.js';
import { phaseDueAt } from '../domain/time.js';
import { fingerprint } from './fingerprint.js';
import {
  ActionId,
  encodeItemActionId,
  encodeItemRecordActionId,
  encodeReleaseAction,
  encodeReleaseValue,
  ITEM_DONE_OPTION_VALUE,
  isItemBlockId,
  itemBlockId,
  ReleaseRoute,
} from './ids.js';
import { BlockKitLimits } from './limits.js';
import { escapeMrkdwn, formatSlackDate, linkTo, mentionUser, truncate } from './mrkdwn.js';
import { describeValue } from './recorded-values.js';

// The release's Slack messages as pure renders of its state: a header in the channel and, in its
// thread, one checklist message per unlocked phase (split in parts when a phase outgrows a message).

export interface RenderedMessage {
  text: string;
  blocks: KnownBlock[];
}

export interface DesiredMessage extends RenderedMessage {
  /** "header" or "phase:<index>:<part>"; where the message's ts is kept. */
  key: string;
  /** Changes exactly when what the message shows changes. */
  hash: string;
}

/**
 * Room left for items in one phase message: 50 blocks less its header, status and divider, and the
 * "Assign owners…" actions block at the end of the phase's last part.
 */
const ITEM_BLOCKS_PER_PART = BlockKitLimits.blocksPerMessage - 4;

/** Escaping can make a reason five times longer; this keeps a header field inside Slack's 2000 characters. */
const HEADER_REASON_LENGTH = 300;

/** Freeze windows come from the configuration, with no length limit of their own. */
const FREEZE_WINDOW_LENGTH = 150;

/** Sections the header gives its list of issues; issues beyond them are counted, not listed. */
const MAX_ISSUE_SECTIONS = 5;

/** Slack shows at most a handful of buttons on a line; the header's actions block keeps to that. */
const MAX_RELEASE_ACTIONS = 5;

const PHASE_ICON: Record<PhaseState, string> = { done: '✅', open: '▶️', locked: '🔒' };

/** "v2.3 → production"; a second or later attempt at the version and environment adds its number ("#2"). */
export function releaseTitle(release: Release): string {
  const attempt = release.attempt !== undefined && release.attempt > 1 ? ` #${release.attempt}` : '';
  return `${release.version} → ${release.env}${attempt}`;
}

/**
 * A closed release has no open or locked phases: those left undone were passed (completed) or abandoned
 * (cancelled, rolled back).
 */
function headerPhaseIcon(release: Release, phaseIndex: number): string {
  const state = phaseState(release, phaseIndex);
  if (release.status === 'active' || state === 'done') return PHASE_ICON[state];
  return release.status === 'completed' ? '⏭️' : '⬜';
}

function describeStatus(release: Release): string {
  if (release.status === 'rolling_back') {
    const by = release.rollback
      ? ` by ${mentionUser(release.rollback.by)} ${formatSlackDate(release.rollback.at)}`
      : '';
    return `↩️ Rolling back, decided${by}; the rollback checklist is in the thread\n_${escapeMrkdwn(truncate(release.cancelReason ?? '', HEADER_REASON_LENGTH))}_`;
  }
  if (release.status === 'cancelled' || release.status === 'rolled_back') {
    const what = release.status === 'cancelled' ? '✖️ Cancelled' : '↩️ Rolled back';
    const by = release.finishedBy ? ` by ${mentionUser(release.finishedBy)}` : '';
    const when = release.finishedAt ? ` ${formatSlackDate(release.finishedAt)}` : '';
    // The header shows the start of the reason; /deploy status and the audit trail show all of it.
    return `${what}${by}${when}\n_${escapeMrkdwn(truncate(release.cancelReason ?? '', HEADER_REASON_LENGTH))}_`;
  }
  if (release.status === 'completed') {
    const when = release.finishedAt ? ` ${formatSlackDate(release.finishedAt)}` : '';
    return `✅ Completed${when}`;
  }
  const current = currentPhaseIndex(release);
  if (current === undefined) return '▶️ In progress';
  const phase = release.template.phases[current]!;
  return `▶️ In progress: phase ${current + 1} of ${release.template.phases.length}, *${escapeMrkdwn(phase.name)}*`;
}

function describeMonitoring(release: Release): string | undefined {
  const monitoring = release.monitoring;
  if (!monitoring) return undefined;
  if (monitoring.state === 'closed') {
    return monitoring.closedAt === undefined ? 'Closed' : `Closed ${formatSlackDate(monitoring.closedAt)}`;
  }
  const pending = pendingCheckin(release);
  if (pending) return `Check-in ${pending.index + 1} of ${release.checkins.length} waiting for an answer`;
  const unposted = release.checkins.filter((checkin) => checkin.postedAt === undefined);
  if (unposted.length === 0) return 'Open';
  const next = Math.min(...unposted.map((checkin) => checkin.dueAt));
  return `Next check-in ${formatSlackDate(next)}`;
}

function describeIssueLine(issue: ReleaseIssue): string {
  const shown = (text: string) => escapeMrkdwn(truncate(text, HEADER_REASON_LENGTH));
  if (issue.resolvedAt === undefined) {
    return `🚨 #${issue.id} (${issue.severity}) found by ${mentionUser(issue.foundBy)} ${formatSlackDate(issue.foundAt)}: _${shown(issue.what)}_`;
  }
  const by = issue.resolvedBy ? ` by ${mentionUser(issue.resolvedBy)}` : '';
  return `✅ #${issue.id} (${issue.severity}) resolved${by} ${formatSlackDate(issue.resolvedAt)}: _${shown(issue.resolution ?? '')}_`;
}

/** The issues, oldest first, in as few sections as they fit; those beyond the last section are counted. */
function renderIssueSections(release: Release): SectionBlock[] {
  const texts: string[] = [];
  let current = '*Issues*';
  let listed = 0;
  // Room for the line counting the issues left out, so that it always fits after the last one listed.
  const budget = BlockKitLimits.sectionText - 60;
  for (const issue of release.issues) {
    const line = describeIssueLine(issue);
    if (current.length + 1 + line.length > budget) {
      if (texts.length + 1 >= MAX_ISSUE_SECTIONS) break;
      texts.push(current);
      current = line;
    } else {
      current = `${current}\n${line}`;
    }
    listed++;
  }
  const left = release.issues.length - listed;
  if (left > 0) current = `${current}\n…and ${left} more; \`/deploy audit\` shows them all`;
  texts.push(current);
  return texts.map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } }));
}

/**
 * The freeze the release goes out in, overridden: which window, until when, who and why. The starter
 * overrides it as the release starts (create-release-8.lua), or a release manager later
 * (override-freeze-5.lua, which records who and when).
 */
export function describeFreezeOverride(release: Release): string | undefined {
  const freeze = release.freezeOverride;
  if (!freeze) return undefined;
  const window = freeze.window ? ` (\`${escapeMrkdwn(truncate(freeze.window, FREEZE_WINDOW_LENGTH))}\`)` : '';
  const until = Number.isFinite(freeze.endsAt) ? ` until ${formatSlackDate(freeze.endsAt)}` : '';
  return `❄️ Freeze on *${escapeMrkdwn(release.env)}*${window}${until} overridden by ${mentionUser(freeze.by ?? release.startedBy)} ${formatSlackDate(freeze.at ?? release.startedAt)}: _${escapeMrkdwn(freeze.reason)}_`;
}

/** One line per gate override, and what the overrides passed once the release completed. */
export function describeGateOverrides(release: Release): string[] {
  const lines = release.overrides.map((override) => {
    const phase = release.template.phases[override.phaseIndex];
    return `⚠️ *${escapeMrkdwn(phase?.name ?? `phase ${override.phaseIndex + 1}`)}* unlocked early by ${mentionUser(override.by)} ${formatSlackDate(override.at)}: _${escapeMrkdwn(override.reason)}_`;
  });
  const skipped = release.status === 'completed' ? listSkippedItems(release).length : 0;
  if (skipped > 0)
    lines.push(`⚠️ ${skipped} required item${skipped === 1 ? ' was' : 's were'} passed by an override`);
  return lines;
}

function progressBar(done: number, total: number): string {
  const width = 10;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `${'▰'.repeat(filled)}${'▱'.repeat(width - filled)}`;
}

export function renderHeader(release: Release): RenderedMessage {
  const progress = computeProgress(release);
  const phases = release.template.phases;
  const isActive = release.status === 'active';
  const monitoring = describeMonitoring(release);
  // The header changes with phases, not with each tick: each tick is shown in its own checklist
  // message, and chat.update is rationed per workspace.
  const phaseLines = phases.map(
    (phase, index) => `${headerPhaseIcon(release, index)} ${index + 1}. ${escapeMrkdwn(phase.name)}`,
  );
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncate(`🚀 ${releaseTitle(release)}`, BlockKitLimits.headerText) },
    },
    {
      type: 'section',
      fields: [
        {
          type: 'mrkdwn',
          text: truncate(`*Status*\n${describeStatus(release)}`, BlockKitLimits.sectionFieldText),
        },
        {
          type: 'mrkdwn',
          text: `*Progress*\n${progressBar(progress.phasesDone, progress.phasesTotal)} ${progress.phasesDone}/${progress.phasesTotal} phases done`,
        },
        {
          type: 'mrkdwn',
          text: `*Started by*\n${mentionUser(release.startedBy)} ${formatSlackDate(release.startedAt)}`,
        },
        {
          type: 'mrkdwn',
          text: `*Template*\n${escapeMrkdwn(release.template.name)} (\`${release.template.id}\`)`,
        },
        ...(release.window
          ? [
              {
                type: 'mrkdwn' as const,
                text: `*Deploy window*\n${formatSlackDate(release.window.at, '{date_long_pretty} {time}')} (set in ${escapeMrkdwn(release.window.zone)})`,
              },
            ]
          : []),
        ...(release.source
          ? [
              {
                type: 'mrkdwn' as const,
                text: truncate(
                  `*Source*\n${[
                    release.source.commit
                      ? `\`${escapeMrkdwn(release.source.commit.slice(0, 12))}\``
                      : undefined,
                    release.source.runUrl ? linkTo(release.source.runUrl, 'pipeline run') : undefined,
                  ]
                    .filter(Boolean)
                    .join(' · ')}`,
                  BlockKitLimits.sectionFieldText,
                ),
              },
            ]
          : []),
        ...(release.deployment
          ? [
              {
                type: 'mrkdwn' as const,
                text: `*Deployed*\n${formatSlackDate(release.deployment.at)} by ${mentionUser(release.deployment.by)}`,
              },
            ]
          : []),
        ...(monitoring ? [{ type: 'mrkdwn' as const, text: `*Monitoring*\n${monitoring}` }] : []),
      ],
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(`*Phases*\n${phaseLines.join('\n')}`, BlockKitLimits.sectionText),
      },
    },
  ];
  const freezeOverride = describeFreezeOverride(release);
  if (freezeOverride) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(`*Freeze override*\n${freezeOverride}`, BlockKitLimits.sectionText),
      },
    });
  }
  if (release.overrides.length > 0) {
    const lines = describeGateOverrides(release);
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(`*Gate overrides*\n${lines.join('\n')}`, BlockKitLimits.sectionText),
      },
    });
  }
  if (release.issues.length > 0) blocks.push(...renderIssueSections(release));
  if (release.redFlag && isActive) blocks.push(renderRedFlag(release.redFlag));
  if (isActive && !release.redFlag && isGoDecisionDue(release)) blocks.push(...renderGoDecision(release));
  const actions = isActive ? releaseActions(release) : [];
  if (actions.length > 0) blocks.push({ type: 'actions', block_id: 'release-actions', elements: actions });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: isActive
          ? 'Checklists are in the thread. Later phases unlock when the required items before them are done.'
          : 'This release is closed; its checklists are read-only. `/deploy audit` shows the full record.',
      },
    ],
  });
  const statusWord = STATUS_WORDS[release.status];
  return {
    // Slack reads the fallback text as mrkdwn too (notifications), so it is escaped like the blocks.
    text: `Release ${escapeMrkdwn(releaseTitle(release))}: ${statusWord}, ${progress.phasesDone}/${progress.phasesTotal} phases done`,
    blocks,
  };
}

const STATUS_WORDS: Record<Release['status'], string> = {
  active: 'in progress',
  completed: 'completed',
  cancelled: 'cancelled',
  rolling_back: 'rolling back',
  rolled_back: 'rolled back',
};

/** The header's buttons in an active release: the gate override while a phase is locked, then "Resolve #n…". */
function releaseActions(release: Release): ActionsBlock['elements'] {
  const buttons: Button[] = [];
  const lockedPhaseExists = release.template.phases.some(
    (_phase, index) => phaseState(release, index) === 'locked',
  );
  if (lockedPhaseExists && !release.redFlag) {
    buttons.push({
      type: 'button',
      action_id: ActionId.openGateOverride,
      text: { type: 'plain_text', text: 'Override a gate…' },
      value: encodeReleaseValue(release.id),
    });
  }
  // The oldest open issues first; a newer one gets its button as older ones are resolved. The last
  // two places belong to the red flag and the rollback.
  for (const issue of openIssues(release)) {
    if (buttons.length >= MAX_RELEASE_ACTIONS - 2) break;
    buttons.push({
      type: 'button',
      action_id: encodeReleaseAction(ReleaseRoute.resolveIssue, release.id, issue.id),
      text: { type: 'plain_text', text: `Resolve #${issue.id}…` },
    });
  }
  buttons.push(
    release.redFlag
      ? {
          type: 'button',
          action_id: ActionId.openClearRedFlag,
          text: { type: 'plain_text', text: 'Clear the red flag…' },
          value: encodeReleaseValue(release.id),
        }
      : {
          type: 'button',
          action_id: ActionId.openRedFlag,
          text: { type: 'plain_text', text: 'Stop: red flag…' },
          value: encodeReleaseValue(release.id),
        },
  );
  // Always there while the release is active: a rollback is one click away.
  buttons.push({
    type: 'button',
    style: 'danger',
    action_id: ActionId.openRollback,
    text: { type: 'plain_text', text: 'Roll back…' },
    value: encodeReleaseValue(release.id),
  });
  return buttons;
}

function renderRedFlag(flag: RedFlag): SectionBlock {
  const text = `🚩 *Stopped by a red flag* raised by ${mentionUser(flag.by)} ${formatSlackDate(flag.at)}\n*${escapeMrkdwn(truncate(flag.condition, 150))}*: _${escapeMrkdwn(truncate(flag.note, HEADER_REASON_LENGTH))}_\nNothing can be ticked until it is cleared.`;
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, BlockKitLimits.sectionText) } };
}

/** Slack's limit on the text of a confirmation dialog. */
const CONFIRM_TEXT_LENGTH = 300;

function criterionBullets(criteria: readonly CriterionEntry[]): string[] {
  return criteria.map((criterion) => `• ${escapeMrkdwn(describeCriterion(criterion))}`);
}

/**
 * The Go button's confirmation: the template's go criteria, then the question. A long list is cut to
 * what fits the dialog, and says where the rest is (the header lists them all).
 */
export function describeGoConfirmation(release: Release): string {
  const goPhase = release.template.phases[goPhaseIndex(release.template)!]!;
  const question = `Start *${escapeMrkdwn(goPhase.name)}* for ${escapeMrkdwn(releaseTitle(release))}? The call is recorded with your name.`;
  const bullets = criterionBullets(goCriteriaOf(release.template));
  if (bullets.length === 0) return truncate(question, CONFIRM_TEXT_LENGTH);
  for (let shown = bullets.length; shown > 0; shown -= 1) {
    const rest = shown < bullets.length ? [`…and ${bullets.length - shown} more on the release header`] : [];
    const text = ['*Go when*', ...bullets.slice(0, shown), ...rest, question].join('\n');
    if (text.length <= CONFIRM_TEXT_LENGTH) return text;
  }
  return truncate(`The go criteria are on the release header. ${question}`, CONFIRM_TEXT_LENGTH);
}

/** The go/no-go call, once the phases before it are done, with the template's go criteria. */
function renderGoDecision(release: Release): KnownBlock[] {
  const goPhase = release.template.phases[goPhaseIndex(release.template)!]!;
  const bullets = criterionBullets(goCriteriaOf(release.template));
  const criteria = bullets.length > 0 ? `\n*Go when*\n${bullets.join('\n')}` : '';
  return [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `🚦 *Go / no-go*: everything before *${escapeMrkdwn(goPhase.name)}* is done. The release manager makes the call.${criteria}`,
          BlockKitLimits.sectionText,
        ),
      },
    },
    {
      type: 'actions',
      block_id: 'go-actions',
      elements: [
        {
          type: 'button',
          style: 'primary',
          action_id: ActionId.decideGo,
          text: { type: 'plain_text', text: 'Go' },
          value: encodeReleaseValue(release.id),
          confirm: {
            title: { type: 'plain_text', text: 'Go?' },
            text: { type: 'mrkdwn', text: describeGoConfirmation(release) },
            confirm: { type: 'plain_text', text: 'Go' },
            deny: { type: 'plain_text', text: 'Not yet' },
          },
        },
        {
          type: 'button',
          style: 'danger',
          action_id: ActionId.openNoGo,
          text: { type: 'plain_text', text: 'No-go…' },
          value: encodeReleaseValue(release.id),
        },
      ],
    },
  ];
}

function describeItem(release: Release, item: TemplateItem, withCheckbox: boolean): string {
  const state = release.items[item.id];
  const marker = withCheckbox ? '' : state?.done ? '✅ ' : '⬜ ';
  const owner = release.owners[item.id];
  const tags = [
    item.required ? undefined : '_optional_',
    item.role ? `_${escapeMrkdwn(item.role)}_` : undefined,
    owner ? `owner ${mentionUser(owner)}` : undefined,
    // A pipeline may tick it (through the API); people still can.
    item.pipeline ? '🤖 pipeline' : undefined,
    // Until ticked, what the tick will ask for; once ticked, the value shows on its own line.
    item.record && !state?.done ? `_records ${escapeMrkdwn(item.record.label)}_` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  const lines = [`${marker}${escapeMrkdwn(item.text)}${tags ? `  ${tags}` : ''}`];
  if (item.help) lines.push(`_${escapeMrkdwn(item.help)}_`);
  // The criteria the item refers to, so their numbers live in one place in the template.
  for (const reference of resolveCriterionReferences(release.template, item.criteria ?? [])) {
    if (reference.title) lines.push(`_${reference.title}:_`);
    lines.push(...reference.lines.map((line) => `• ${escapeMrkdwn(line)}`));
  }
  if (state?.done) {
    const value = state.value !== undefined ? `${describeValue(item.record, state.value)} — ` : '';
    lines.push(`:white_check_mark: ${value}${mentionUser(state.by)} ${formatSlackDate(state.at)}`);
    // A pipeline's account of its tick, and the link to its proof.
    const proof = [
      state.summary ? `_${escapeMrkdwn(truncate(state.summary, 200))}_` : undefined,
      state.evidenceUrl ? linkTo(state.evidenceUrl, 'evidence') : undefined,
    ].filter(Boolean);
    if (proof.length) lines.push(proof.join(' · '));
  }
  return truncate(lines.join('\n'), BlockKitLimits.sectionText);
}

function renderItem(release: Release, item: TemplateItem, clickable: boolean): SectionBlock {
  const done = release.items[item.id]?.done === true;
  const text = describeItem(release, item, clickable);
  // The fingerprint is appended to this block id once the whole message is rendered.
  const block: SectionBlock = {
    type: 'section',
    block_id: itemBlockId(item.id),
    text: { type: 'mrkdwn', text },
  };
  if (clickable) {
    const option = {
      text: { type: 'mrkdwn' as const, text: 'Done' },
      value: ITEM_DONE_OPTION_VALUE,
    };
    block.accessory = {
      type: 'checkboxes',
      // A tick of an item that records a value opens the form that asks for it.
      action_id: item.record
        ? encodeItemRecordActionId(release.id, item.id)
        : encodeItemActionId(release.id, item.id),
      options: [option],
      ...(done ? { initial_options: [option] } : {}),
    };
  }
  return block;
}

/** The status line of one part of a phase; its counts cover that part's items only. */
function describePartStatus(release: Release, phaseIndex: number, items: readonly TemplateItem[]): string {
  const phase = release.template.phases[phaseIndex]!;
  const required = items.filter((item) => item.required);
  const done = required.filter((item) => release.items[item.id]?.done).length;
  const counts = `${done}/${required.length} required done`;
  const dueAt = release.window ? phaseDueAt(release.window.at, phase.due) : undefined;
  // With a window, the due moment in each reader's own time; without one, the template's offset.
  const due =
    dueAt !== undefined ? ` · due ${formatSlackDate(dueAt)}` : phase.due ? ` · due ${phase.due}` : '';
  if (release.status !== 'active')
    return `Release ${STATUS_WORDS[release.status]}; read-only · ${counts}${due}`;
  const blocking = findBlockingPhase(release, phaseIndex);
  if (blocking !== undefined) {
    return `🔒 Locked until *${escapeMrkdwn(release.template.phases[blocking]!.name)}* is done${due}`;
  }
  if (release.redFlag) return `🚩 Stopped by a red flag · ${counts}${due}`;
  if (waitsForGo(release, phaseIndex)) return `🚦 Waiting for the go/no-go call${due}`;
  if (countOpenRequired(release, phaseIndex) === 0) return `✅ Phase done · ${counts}${due}`;
  return `▶️ Open · ${counts}${due}`;
}

/** One phase's checklist, in as many messages as Slack's 50-block limit needs. */
export function renderPhaseParts(release: Release, phaseIndex: number): RenderedMessage[] {
  const phase = release.template.phases[phaseIndex]!;
  const clickable = isPhaseUnlocked(release, phaseIndex);
  // Each item takes a block, and so does each group heading that precedes it.
  const parts: { blocks: KnownBlock[]; items: TemplateItem[] }[] = [];
  let current: { blocks: KnownBlock[]; items: TemplateItem[] } = { blocks: [], items: [] };
  let lastGroup: string | undefined;
  for (const item of phase.items) {
    const needsHeading = item.group !== undefined && item.group !== lastGroup;
    if (current.blocks.length + (needsHeading ? 2 : 1) > ITEM_BLOCKS_PER_PART) {
      parts.push(current);
      current = { blocks: [], items: [] };
      lastGroup = undefined;
    }
    if (item.group !== undefined && item.group !== lastGroup) {
      current.blocks.push({
        type: 'section',
        text: { type: 'mrkdwn', text: `*${escapeMrkdwn(item.group)}*` },
      });
    }
    lastGroup = item.group;
    current.blocks.push(renderItem(release, item, clickable));
    current.items.push(item);
  }
  parts.push(current);
  const phaseCount = release.template.phases.length;
  return parts.map((part, partIndex) => {
    const partLabel = parts.length > 1 ? ` (part ${partIndex + 1} of ${parts.length})` : '';
    const title = `${phaseIndex + 1}/${phaseCount} · ${phase.name}${partLabel}`;
    const blocks: KnownBlock[] = [
      { type: 'header', text: { type: 'plain_text', text: truncate(title, BlockKitLimits.headerText) } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: describePartStatus(release, phaseIndex, part.items) }],
      },
      { type: 'divider' },
      ...part.blocks,
    ];
    if (partIndex === parts.length - 1 && release.status === 'active') {
      blocks.push({
        type: 'actions',
        block_id: `phase-actions:${phaseIndex}`,
        elements: [
          {
            type: 'button',
            action_id: encodeReleaseAction(ReleaseRoute.assignOwners, release.id, phaseIndex),
            text: { type: 'plain_text', text: 'Assign owners…' },
          },
        ],
      });
    }
    return {
      text: `${escapeMrkdwn(releaseTitle(release))}: ${escapeMrkdwn(phase.name)}${partLabel}`,
      blocks,
    };
  });
}

function withFingerprint(key: string, message: RenderedMessage, nonce: number): DesiredMessage {
  const hash = fingerprint(`${nonce}\u0000${JSON.stringify(message.blocks)}`);
  // New block ids on every change: Slack clients keep a checkbox's local state while its block id stays.
  const blocks = message.blocks.map((block) =>
    block.block_id && isItemBlockId(block.block_id)
      ? { ...block, block_id: `${block.block_id}:${hash}` }
      : block,
  );
  return { key, text: truncate(message.text, BlockKitLimits.fallbackText), blocks, hash };
}

/**
 * Every message the release should have in Slack right now: the header, then each phase that is
 * unlocked or already has a message. Order matters: the header is posted first, as the thread's parent.
 */
export function planReleaseMessages(
  release: Release,
  postedKeys: ReadonlySet<string>,
  nonces: Readonly<Record<number, number>>,
): DesiredMessage[] {
  const desired: DesiredMessage[] = [withFingerprint('header', renderHeader(release), 0)];
  release.template.phases.forEach((_phase, phaseIndex) => {
    const parts = renderPhaseParts(release, phaseIndex);
    const alreadyPosted = parts.some((_part, partIndex) =>
      postedKeys.has(phaseMessageKey(phaseIndex, partIndex)),
    );
    // A phase waiting only for the go call is shown already, read-only, saying so.
    const unlocked =
      isPhaseUnlocked(release, phaseIndex) ||
      (release.status === 'active' && findBlockingPhase(release, phaseIndex) === undefined);
    if (!alreadyPosted && !unlocked) return;
    parts.forEach((part, partIndex) => {
      desired.push(withFingerprint(phaseMessageKey(phaseIndex, partIndex), part, nonces[phaseIndex] ?? 0));
    });
  });
  const rollback = renderRollbackChecklist(release);
  if (rollback) {
    const rollbackIndex = rollbackPhaseIndex(release.template);
    desired.push(withFingerprint(ROLLBACK_MESSAGE_KEY, rollback, nonces[rollbackIndex] ?? 0));
  }
  return desired;
}

export const ROLLBACK_MESSAGE_KEY = 'rollback';

/**
 * The rollback checklist, once a rollback was decided and the template has one: tickable while the
 * release is rolling back, read-only once it is rolled back.
 */
export function renderRollbackChecklist(release: Release): RenderedMessage | undefined {
  const rollback = release.template.rollback;
  if (!rollback || !release.rollback) return undefined;
  if (release.status !== 'rolling_back' && release.status !== 'rolled_back') return undefined;
  const clickable = release.status === 'rolling_back';
  const required = rollback.items.filter((item) => item.required);
  const done = required.filter((item) => release.items[item.id]?.done).length;
  const state = clickable
    ? `↩️ Rolling back · ${done}/${required.length} required done`
    : `Rolled back${release.finishedAt ? ` ${formatSlackDate(release.finishedAt)}` : ''}; read-only · ${done}/${required.length} required done`;
  return {
    text: `${escapeMrkdwn(releaseTitle(release))}: rollback checklist`,
    blocks: [
      {
        type: 'header',
        text: {
          type: 'plain_text',
          text: truncate(`↩️ Rollback · ${releaseTitle(release)}`, BlockKitLimits.headerText),
        },
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: state }] },
      { type: 'divider' },
      ...rollback.items.map((item) => renderItem(release, item, clickable)),
    ],
  };
}

export function phaseMessageKey(phaseIndex: number, partIndex: number): string {
  return `phase:${phaseIndex}:${partIndex}`;
}
