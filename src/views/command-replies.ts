import type { KnownBlock, View } from '@slack/types';
import type { AuditEvent } from '../domain/audit.js';
import { TRAIL_BREAK_WORDS, type TrailProblem, type TrailReport } from '../domain/audit-seal.js';
import { describeRecording } from '../domain/observations.js';
import { describePerson, NO_PEOPLE, peopleNamedIn, type ReleasePeople } from '../domain/people.js';
import {
  computeProgress,
  countOpenRequired,
  currentPhaseIndex,
  type EnvLock,
  openIssues,
  pendingCheckin,
  phaseState,
  type Release,
} from '../domain/release.js';
import { findItem, type TemplateItem } from '../domain/template.js';
import {
  ActionId,
  CallbackId,
  encodeGateOverrideMetadata,
  encodeReleaseIndexMetadata,
  FreezeField,
  GateOverrideField,
  RedFlagField,
} from './ids.js';
import { BlockKitLimits } from './limits.js';
import { escapeMrkdwn, formatSlackDate, linkTo, mentionUser, truncate } from './mrkdwn.js';
import { describeValue } from './recorded-values.js';
import { describeFreezeOverride, describeGateOverrides, releaseTitle } from './release-messages.js';

// Ephemeral answers to /deploy subcommands and the gate-override modal, as pure renders.

export interface Reply {
  text: string;
  blocks?: KnownBlock[];
}

/** Confirms a cancellation to the person who made it. */
export function renderCancelledNotice(release: Release): Reply {
  return {
    text: `Cancelled ${escapeMrkdwn(releaseTitle(release))}. The reason is on the release and in its audit trail.`,
  };
}

/**
 * To a person whose click was read but lost with its process before it was saved. Their checklist
 * is redrawn as stored; `storedDone` is what it shows for the item now.
 */
export function renderLostClickNotice(
  release: Release,
  itemText: string,
  wantedDone: boolean,
  storedDone: boolean,
): Reply {
  const shown = storedDone ? 'ticked' : 'not ticked';
  return {
    text:
      `⚠️ Your ${wantedDone ? 'tick' : 'untick'} of “${escapeMrkdwn(truncate(itemText, 150))}” in ` +
      `${escapeMrkdwn(releaseTitle(release))} was not saved: shipcheck stopped before it could record it. ` +
      `The checklist shows the item as recorded (${shown}); click it again if you meant to change it.`,
  };
}

export function renderHelp(unknownSubcommand?: string): Reply {
  const intro = unknownSubcommand
    ? `I don't know \`/deploy ${escapeMrkdwn(unknownSubcommand.slice(0, 40))}\`. Here is what I can do:`
    : 'shipcheck runs a deploy as a checklist in this channel. Commands:';
  const lines = [
    intro,
    '• `/deploy start <version> [env] [template] [at <time> | in <duration>]`: start a release (env defaults to `production`, template to `standard`); a time like `at tomorrow 14:00` or `at 2026-11-25 14:00 Europe/Berlin` sets the deploy window, read in your own time zone. `/deploy start` alone opens a form that also takes release notes, expected downtime and stakeholder channels',
    '• `/deploy reschedule <version> [env] <at time | in duration>`: move the deploy window',
    '• `/deploy status [version] [env]`: where a release stands, or all active ones; `/deploy status [version] link` hands you a link to the status pages (when they are on)',
    '• `/deploy list`: active and recent releases',
    '• `/deploy locks`: which environments are in use by a deploy, since when',
    '• `/deploy stats [days] [env]`: delivery figures (deploys per week, lead time, change failure and rollback rates, time to resolve), 30 days by default',
    '• `/deploy cancel <version> [env] <reason>`: cancel a release, on the record',
    '• `/deploy rollback <version> [env] <reason>`: roll a release back (shows the rollback criteria first)',
    '• `/deploy audit <version> [env] [#n]`: who did what and when; add `verify` to check its hash chain. `#2` picks the second attempt at a version in an environment (after a cancel, say); without it, the newest',
    '• `/deploy log <version> [env] [#n]`: the deployment log, as Markdown and JSON files in the release thread',
    '• `/deploy override-freeze <version> [env] <reason>`: let a running release deploy inside the freeze its environment is in, on the record (release managers)',
    '• `/deploy token create <name> [env,…]`: a token for a CI/CD pipeline (all environments unless some are named, comma-separated), shown once; `/deploy token list` shows them, `/deploy token revoke <name>` stops one. Release managers only, by default',
    '• `/deploy help`: this message',
    'Tick items in the release thread; later phases unlock when the required items before them are done.',
  ];
  return { text: lines.join('\n') };
}

function releaseLink(release: Release, permalink: string | undefined, title = releaseTitle(release)): string {
  return permalink ? linkTo(permalink, title) : `*${escapeMrkdwn(title)}*`;
}

function summarizeRelease(release: Release, permalink: string | undefined, title?: string): string {
  const progress = computeProgress(release);
  const current = currentPhaseIndex(release);
  const phase = current === undefined ? undefined : release.template.phases[current];
  const state =
    release.status === 'active'
      ? phase
        ? `phase ${current! + 1}/${progress.phasesTotal} *${escapeMrkdwn(phase.name)}*`
        : release.monitoring?.state === 'open'
          ? 'deployed, monitoring'
          : 'in progress'
      : release.status === 'rolled_back'
        ? 'rolled back'
        : release.status;
  return `${releaseLink(release, permalink, title)} · ${state} · ${progress.requiredDone}/${progress.requiredTotal} required · started by ${mentionUser(release.startedBy)} ${formatSlackDate(release.startedAt)}`;
}

/** After the deploy: when it was, where the check-ins stand, and the issues still open. */
function describeMonitoring(release: Release): string[] {
  if (!release.deployment) return [];
  const lines = [
    '',
    `🚀 Deployed ${formatSlackDate(release.deployment.at)} by ${mentionUser(release.deployment.by)}`,
  ];
  const pending = pendingCheckin(release);
  const next = release.checkins.find((checkin) => checkin.postedAt === undefined);
  if (release.monitoring?.state === 'closed') {
    lines.push(
      `🩺 Monitoring closed ${release.monitoring.closedAt ? formatSlackDate(release.monitoring.closedAt) : ''}`.trimEnd(),
    );
  } else if (pending) {
    lines.push(`🩺 Check-in ${pending.index + 1} of ${release.checkins.length} is waiting for an answer`);
  } else if (next) {
    lines.push(`🩺 Next check-in ${formatSlackDate(next.dueAt)}`);
  }
  for (const issue of openIssues(release)) {
    lines.push(`🚨 Issue #${issue.id} (${issue.severity}): _${escapeMrkdwn(truncate(issue.what, 200))}_`);
  }
  return lines;
}

/** Shown at most in /deploy status; the deployment log has them all. */
const STATUS_VALUES = 10;

/** The values done items recorded so far (a backup id, a commit SHA), in template order. */
function describeRecordedValues(release: Release): string[] {
  const items: TemplateItem[] = [
    ...release.template.phases.flatMap((phase) => phase.items),
    ...(release.template.rollback?.items ?? []),
  ];
  const recorded = items.flatMap((item) => {
    const state = release.items[item.id];
    return state?.done && state.value !== undefined ? [{ item, state, value: state.value }] : [];
  });
  if (recorded.length === 0) return [];
  const lines = recorded
    .slice(0, STATUS_VALUES)
    .map(
      ({ item, state, value }) =>
        `• ${describeValue(item.record, value, 120)} · ${mentionUser(state.by)} ${formatSlackDate(state.at)}`,
    );
  if (recorded.length > STATUS_VALUES)
    lines.push(`…and ${recorded.length - STATUS_VALUES} more in the deployment log`);
  return ['', '*Recorded:*', ...lines];
}

export function renderStatus(release: Release, permalink: string | undefined): Reply {
  const freezeOverride = describeFreezeOverride(release);
  // Overrides right under the summary, so that a long phase list cannot push them past the cut.
  const lines = [
    summarizeRelease(release, permalink),
    ...(freezeOverride ? [freezeOverride] : []),
    ...describeGateOverrides(release),
    '',
  ];
  release.template.phases.forEach((phase, index) => {
    const state = phaseState(release, index);
    const icon = state === 'done' ? '✅' : state === 'open' ? '▶️' : '🔒';
    const open = countOpenRequired(release, index);
    lines.push(
      `${icon} ${index + 1}. ${escapeMrkdwn(phase.name)}${open > 0 ? ` (${open} required open)` : ''}`,
    );
  });
  const current = currentPhaseIndex(release);
  if (release.status === 'active' && current !== undefined) {
    const openItems = release.template.phases[current]!.items.filter(
      (item) => item.required && !release.items[item.id]?.done,
    );
    lines.push('', `*Open in ${escapeMrkdwn(release.template.phases[current]!.name)}:*`);
    for (const item of openItems.slice(0, 10)) {
      const asks = item.record ? ` _(records ${escapeMrkdwn(item.record.label)})_` : '';
      lines.push(`• ${escapeMrkdwn(item.text)}${asks}`);
    }
    if (openItems.length > 10) lines.push(`…and ${openItems.length - 10} more`);
  }
  lines.push(...describeRecordedValues(release));
  lines.push(...describeMonitoring(release));
  if ((release.status === 'cancelled' || release.status === 'rolled_back') && release.cancelReason) {
    const verb = release.status === 'cancelled' ? 'Cancelled' : 'Rolled back';
    lines.push(
      '',
      `${verb} by ${mentionUser(release.finishedBy ?? '')}: _${escapeMrkdwn(release.cancelReason)}_`,
    );
  }
  const text = truncate(lines.join('\n'), BlockKitLimits.sectionText);
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

export function renderReleaseList(
  active: Release[],
  recent: Release[],
  permalinks: ReadonlyMap<string, string>,
): Reply {
  // A first attempt is numbered too ("#1") where a later attempt at it is listed, so each can be told apart.
  const retried = new Set(
    [...active, ...recent]
      .filter((release) => (release.attempt ?? 1) > 1)
      .map((release) => `${release.env}|${release.version}`),
  );
  const titleOf = (release: Release) =>
    release.attempt === 1 && retried.has(`${release.env}|${release.version}`)
      ? `${releaseTitle(release)} #1`
      : releaseTitle(release);
  const lines: string[] = [];
  lines.push(active.length > 0 ? '*Active releases*' : 'No release is active.');
  for (const release of active)
    lines.push(`• ${summarizeRelease(release, permalinks.get(release.id), titleOf(release))}`);
  const finished = recent.filter((release) => release.status !== 'active');
  if (finished.length > 0) {
    lines.push('', '*Recently finished*');
    for (const release of finished) {
      const when = release.finishedAt ? ` ${formatSlackDate(release.finishedAt)}` : '';
      const status = release.status === 'rolled_back' ? 'rolled back' : release.status;
      lines.push(
        `• ${releaseLink(release, permalinks.get(release.id), titleOf(release))} · ${status}${when}`,
      );
    }
  }
  const text = truncate(lines.join('\n'), BlockKitLimits.sectionText);
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

const CHECKIN_ANSWER_WORDS: Record<string, string> = {
  healthy: 'healthy',
  issue: 'issue found',
  rollback: 'roll back',
};

const ACTION_WORDS: Record<string, string> = {
  start: 'start a release',
  cancel: 'cancel',
  reschedule: 'reschedule',
  override: 'override a gate',
  rollback: 'roll back',
  go: 'decide go/no-go',
  freeze_override: 'override a freeze',
  red_flag: 'raise a red flag',
  red_flag_resolve: 'clear a red flag',
};

/** "role:qa,ops" → "only qa, ops may", "own_release" → "the two-person rule". */
function describeRefusal(reason: string): string {
  if (reason === 'own_release') return 'two-person rule: not on their own release';
  if (reason === 'pipeline_item') return 'a person’s item: pipelines tick only pipeline items';
  if (reason === 'frozen') return 'the environment is frozen and the release has no override';
  if (reason.startsWith('role:')) return `only ${reason.slice(5).split(',').join(', ')} may`;
  return reason;
}

const checkinNumber = (event: AuditEvent) =>
  event.checkinIndex === undefined ? '?' : event.checkinIndex + 1;

export function describeAuditEvent(release: Release, event: AuditEvent): string {
  const who = mentionUser(event.user);
  const phaseName = (index: number | undefined) =>
    index === undefined ? '?' : escapeMrkdwn(release.template.phases[index]?.name ?? `phase ${index + 1}`);
  const itemText = (itemId: string | undefined) => {
    const found = itemId ? findItem(release.template, itemId) : undefined;
    return found ? escapeMrkdwn(truncate(found.item.text, 80)) : escapeMrkdwn(itemId ?? '?');
  };
  const change = `(${event.from} → ${event.to})`;
  const record = event.itemId ? findItem(release.template, event.itemId)?.item.record : undefined;
  const recorded = event.value === undefined ? '' : `: ${describeValue(record, event.value, 200)}`;
  const cleared =
    event.clearedValue === undefined ? '' : `, clearing ${describeValue(record, event.clearedValue, 200)}`;
  switch (event.type) {
    case 'started': {
      const window = event.windowAt ? ` for ${formatSlackDate(event.windowAt)}` : '';
      return `${who} started ${escapeMrkdwn(event.version ?? release.version)} → ${escapeMrkdwn(event.env ?? release.env)}${window} with template \`${escapeMrkdwn(event.templateId ?? release.template.id)}\` ${change}`;
    }
    case 'rescheduled': {
      const from = /^\d+$/.test(event.from) ? formatSlackDate(Number(event.from)) : 'no window';
      const zone = event.windowZone ? ` (${escapeMrkdwn(event.windowZone)})` : '';
      return `${who} moved the deploy window from ${from} to ${formatSlackDate(event.windowAt ?? Number(event.to))}${zone}`;
    }
    case 'ticked':
      return `${who} ticked “${itemText(event.itemId)}” in ${phaseName(event.phaseIndex)} ${change}${recorded}`;
    case 'unticked':
      return `${who} unticked “${itemText(event.itemId)}” in ${phaseName(event.phaseIndex)} ${change}${cleared}`;
    case 'gate_overridden':
      return `${who} overrode the gate to *${phaseName(event.phaseIndex)}* while ${phaseName(event.blockingPhaseIndex)} had open items ${change}: _${escapeMrkdwn(event.reason ?? '')}_`;
    case 'reminder_sent':
      return `shipcheck reminded ${mentionUser(event.recipient ?? '')} of the open items in ${phaseName(event.phaseIndex)}`;
    case 'reminder_snoozed':
      return `${who} snoozed their reminders for ${phaseName(event.phaseIndex)} until ${formatSlackDate(Number(event.to))}`;
    case 'assigned': {
      const owner = event.to === 'none' ? 'nobody' : mentionUser(event.to);
      const previous = event.from === 'none' ? '' : ` (was ${mentionUser(event.from)})`;
      return `${who} assigned “${itemText(event.itemId)}” to ${owner}${previous}`;
    }
    case 'deployed':
      return `${who} finished ${phaseName(event.phaseIndex)}: deployed${event.checkins ? `; ${event.checkins} check-in${event.checkins === 1 ? '' : 's'} planned` : ''}`;
    case 'checkin_posted':
      return `shipcheck posted check-in ${checkinNumber(event)}`;
    case 'checkin_answered':
      return `${who} answered check-in ${checkinNumber(event)}: *${CHECKIN_ANSWER_WORDS[event.to] ?? escapeMrkdwn(event.to)}*`;
    case 'checkin_escalated':
      return `shipcheck escalated unanswered check-in ${checkinNumber(event)} to ${mentionUser(event.recipient ?? '')}`;
    case 'criterion_recorded': {
      const recording = describeRecording(release.template, event);
      const value = recording.to === 'none' ? 'cleared' : escapeMrkdwn(recording.to);
      const before = recording.from === 'none' ? '' : ` (was ${escapeMrkdwn(recording.from)})`;
      return `${who} recorded *${escapeMrkdwn(truncate(recording.criterion, 80))}* at check-in ${checkinNumber(event)}: ${value}${before}`;
    }
    case 'issue_found':
      return `${who} reported issue #${event.issueId ?? '?'} (${escapeMrkdwn(event.severity ?? '?')}): _${escapeMrkdwn(event.reason ?? '')}_`;
    case 'issue_resolved': {
      const followUp =
        event.checkinIndex === undefined ? '' : `; follow-up check-in ${event.checkinIndex + 1} planned`;
      return `${who} resolved issue #${event.issueId ?? '?'}: _${escapeMrkdwn(event.reason ?? '')}_${followUp}`;
    }
    case 'monitoring_closed':
      return `The monitoring window closed ${change}`;
    case 'rollback_started':
      return `${who} started rolling the release back ${change}: _${escapeMrkdwn(event.reason ?? '')}_`;
    case 'rolled_back':
      return `${who} rolled the release back ${change}: _${escapeMrkdwn(event.reason ?? '')}_`;
    case 'refused': {
      const what =
        event.action === 'tick' || event.action === 'untick'
          ? `${event.action} “${itemText(event.itemId)}”`
          : escapeMrkdwn(ACTION_WORDS[event.action ?? ''] ?? event.action ?? '?');
      return `${who} was refused: ${what} (${escapeMrkdwn(describeRefusal(event.reason ?? ''))})`;
    }
    case 'locked': {
      const taken = event.from === 'free' ? '' : ' (its previous holder had ended)';
      return `${who} started deploying: the release holds *${escapeMrkdwn(event.env ?? release.env)}*${taken}`;
    }
    case 'freeze_overridden': {
      const until = event.windowAt ? ` (frozen until ${formatSlackDate(event.windowAt)})` : '';
      return `${who} overrode the freeze on *${escapeMrkdwn(event.env ?? release.env)}*${until}: _${escapeMrkdwn(event.reason ?? '')}_`;
    }
    case 'red_flag_raised':
      return `🚩 ${who} raised a red flag and stopped the release: _${escapeMrkdwn(event.reason ?? '')}_`;
    case 'red_flag_cleared':
      return `${who} cleared the red flag: _${escapeMrkdwn(event.reason ?? '')}_`;
    case 'go_decided':
      return event.to === 'go'
        ? `${who} made the call: *go*`
        : `${who} made the call: *no-go*: _${escapeMrkdwn(event.reason ?? '')}_`;
    case 'deployment_reported': {
      const summary = event.summary ? `: _${escapeMrkdwn(event.summary)}_` : '';
      const proof = event.evidenceUrl ? ` (${linkTo(event.evidenceUrl, 'evidence')})` : '';
      return `${who} reported the deploy *${escapeMrkdwn(event.to)}*${summary}${proof}`;
    }
    case 'retro_saved':
      return event.from === 'saved' ? `${who} revised the retrospective` : `${who} wrote the retrospective`;
    case 'cancelled':
      return `${who} cancelled the release ${change}: _${escapeMrkdwn(event.reason ?? '')}_`;
    case 'completed':
      return `The release completed ${change}; last change by ${who}`;
  }
}

/**
 * The audit trail, oldest first, in as many sections as fit one message; the newest are kept. Slack
 * shows each mention with the person's name of today, so the names the release recorded (those of the
 * time) close the listing, and name people in the plain fallback text.
 */
export function renderAudit(
  release: Release,
  events: AuditEvent[],
  people: ReleasePeople = NO_PEOPLE,
): Reply {
  const named = peopleNamedIn(events).filter((userId) => people.has(userId));
  const whoWasWho = named.map((userId) => describePerson(people, userId));
  // One line never fills a section on its own, so no section is ever left empty.
  const lines = events.map((event) =>
    truncate(
      `${formatSlackDate(event.at, '{date_num} {time_secs}')} ${describeAuditEvent(release, event)}`,
      BlockKitLimits.sectionText - 1,
    ),
  );
  const maxSections = BlockKitLimits.blocksPerMessage - (named.length > 0 ? 3 : 2);
  const sections: string[] = [];
  let current = '';
  // Fill from the newest backwards so that, if the trail is too long, the oldest are the ones left out.
  let shown = 0;
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index]!;
    if (current.length + line.length + 1 > BlockKitLimits.sectionText) {
      if (sections.length + 1 >= maxSections) break;
      sections.unshift(current);
      current = '';
    }
    current = current ? `${line}\n${current}` : line;
    shown++;
  }
  if (current) sections.unshift(current);
  const count = `${events.length} event${events.length === 1 ? '' : 's'}`;
  const heading = `*Audit trail of ${escapeMrkdwn(releaseTitle(release))}* (${count}${shown < events.length ? `; the latest ${shown} shown` : ''})`;
  const peopleText = whoWasWho.length > 0 ? `; people: ${whoWasWho.join(', ')}` : '';
  return {
    text: truncate(
      `Audit trail of ${escapeMrkdwn(releaseTitle(release))}: ${count}${escapeMrkdwn(peopleText)}`,
      BlockKitLimits.fallbackText,
    ),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: heading } },
      ...sections.map((text): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } })),
      ...(whoWasWho.length > 0
        ? [
            {
              type: 'context',
              elements: [
                {
                  type: 'mrkdwn',
                  text: truncate(
                    `Names at the time: ${whoWasWho.map(escapeMrkdwn).join(' · ')}`,
                    BlockKitLimits.sectionText,
                  ),
                },
              ],
            } satisfies KnownBlock,
          ]
        : []),
    ],
  };
}

export function renderGateOverrideModal(release: Release, lockedPhaseIndexes: number[]): View {
  const options = lockedPhaseIndexes.map((index) => ({
    text: {
      type: 'plain_text' as const,
      text: truncate(`${index + 1}. ${release.template.phases[index]!.name}`, BlockKitLimits.optionText),
    },
    value: String(index),
  }));
  return {
    type: 'modal',
    callback_id: CallbackId.gateOverride,
    private_metadata: encodeGateOverrideMetadata({ teamId: release.teamId, releaseId: release.id }),
    title: { type: 'plain_text', text: 'Override a gate' },
    submit: { type: 'plain_text', text: 'Unlock phase' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Unlock a phase of *${escapeMrkdwn(releaseTitle(release))}* before the required items ahead of it are done. Your name and reason go on the release and in its audit trail.`,
        },
      },
      {
        type: 'input',
        block_id: GateOverrideField.phaseBlock,
        label: { type: 'plain_text', text: 'Phase to unlock' },
        element: {
          type: 'static_select',
          action_id: GateOverrideField.phaseAction,
          options,
          ...(options[0] ? { initial_option: options[0] } : {}),
        },
      },
      {
        type: 'input',
        block_id: GateOverrideField.reasonBlock,
        label: { type: 'plain_text', text: 'Reason' },
        element: {
          type: 'plain_text_input',
          action_id: GateOverrideField.reasonAction,
          multiline: true,
          min_length: 5,
          max_length: 500,
          placeholder: { type: 'plain_text', text: 'Why is it safe to go ahead now?' },
        },
      },
    ],
  };
}

/** The refusal of a tick because another release holds the environment, with a way to be told when it frees. */
export function renderLockRefusal(text: string, env: string): KnownBlock[] {
  return [
    { type: 'section', text: { type: 'mrkdwn', text: truncate(text, BlockKitLimits.sectionText) } },
    {
      type: 'actions',
      block_id: 'lock-actions',
      elements: [
        {
          type: 'button',
          action_id: ActionId.notifyWhenFree,
          text: { type: 'plain_text', text: `Tell me when ${truncate(env, 40)} is free` },
          value: env,
        },
      ],
    },
  ];
}

/** `/deploy locks`: which environment each active deploy holds, since when and by whom. */
export function renderLocks(locks: readonly { lock: EnvLock; holder: Release | undefined }[]): Reply {
  const held = locks.filter(({ holder }) => holder?.status === 'active' || holder?.status === 'rolling_back');
  if (held.length === 0) {
    const text = 'No environment is locked: no release is deploying right now.';
    return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
  }
  const lines = held.map(
    ({ lock, holder }) =>
      `🔒 *${escapeMrkdwn(lock.env)}*: ${escapeMrkdwn(holder!.version)}${holder!.status === 'rolling_back' ? ' (rolling back)' : ''} since ${formatSlackDate(lock.since)}, started by ${mentionUser(holder!.startedBy)}`,
  );
  const text = truncate(['*Environment locks*', ...lines].join('\n'), BlockKitLimits.sectionText);
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/** A start refused by a freeze window: until when, and (for release managers) a way to override. */
export function renderFreezeRefusal(
  env: string,
  freeze: { window: { text: string }; endsAt: number },
  frozenStart: string,
): Reply {
  const text = `❄️ ${escapeMrkdwn(env)} is frozen until ${formatSlackDate(freeze.endsAt, '{date_long_pretty} {time}')} (\`${escapeMrkdwn(freeze.window.text)}\`). Nothing was started. Pick a time after the freeze, or, if you are a release manager, override it with a reason.`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncate(text, BlockKitLimits.sectionText) } },
      {
        type: 'actions',
        block_id: 'freeze-actions',
        elements: [
          {
            type: 'button',
            action_id: ActionId.overrideFreeze,
            text: { type: 'plain_text', text: 'Override the freeze…' },
            value: frozenStart,
          },
        ],
      },
    ],
  };
}

/** The modal behind "Override the freeze…": why this deploy cannot wait. */
export function renderFreezeOverrideModal(
  version: string,
  env: string,
  freeze: { window: { text: string }; endsAt: number },
  frozenStart: string,
): View {
  return {
    type: 'modal',
    callback_id: CallbackId.overrideFreeze,
    private_metadata: frozenStart,
    title: { type: 'plain_text', text: 'Override the freeze' },
    submit: { type: 'plain_text', text: 'Start anyway' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: truncate(
            `*${escapeMrkdwn(version)} → ${escapeMrkdwn(env)}* would deploy inside a freeze (\`${escapeMrkdwn(freeze.window.text)}\`, until ${formatSlackDate(freeze.endsAt)}). The override, who made it and why go on the release, into its audit trail and to its stakeholders.`,
            BlockKitLimits.sectionText,
          ),
        },
      },
      {
        type: 'input',
        block_id: FreezeField.reasonBlock,
        label: { type: 'plain_text', text: 'Why can it not wait?' },
        element: {
          type: 'plain_text_input',
          action_id: FreezeField.reasonAction,
          multiline: true,
          max_length: 500,
        },
      },
    ],
  };
}

/** "Stop: red flag…": which stop condition, and what was seen. */
export function renderRedFlagModal(release: Release, teamId: string, conditions: readonly string[]): View {
  return {
    type: 'modal',
    callback_id: CallbackId.raiseRedFlag,
    private_metadata: encodeReleaseIndexMetadata({ teamId, releaseId: release.id, index: 0 }),
    title: { type: 'plain_text', text: 'Red flag' },
    submit: { type: 'plain_text', text: 'Stop the release' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: truncate(
            `A red flag stops *${escapeMrkdwn(releaseTitle(release))}*: nothing can be ticked until someone clears it. Stakeholders are told, and the audit trail records who and why.`,
            BlockKitLimits.sectionText,
          ),
        },
      },
      {
        type: 'input',
        block_id: RedFlagField.conditionBlock,
        label: { type: 'plain_text', text: 'Stop condition' },
        element: {
          type: 'static_select',
          action_id: RedFlagField.conditionAction,
          options: conditions.slice(0, 100).map((condition, index) => ({
            text: { type: 'plain_text', text: truncate(condition, 75) },
            value: String(index),
          })),
        },
      },
      {
        type: 'input',
        block_id: RedFlagField.noteBlock,
        label: { type: 'plain_text', text: 'What did you see?' },
        element: {
          type: 'plain_text_input',
          action_id: RedFlagField.noteAction,
          multiline: true,
          max_length: 500,
        },
      },
    ],
  };
}

/** "Clear the red flag…" and "No-go…": one note, with what it is for. */
export function renderNoteModal(release: Release, teamId: string, kind: 'clear' | 'no_go'): View {
  const flag = release.redFlag;
  const intro =
    kind === 'clear'
      ? `🚩 *${escapeMrkdwn(truncate(flag?.condition ?? 'Red flag', 150))}*: _${escapeMrkdwn(truncate(flag?.note ?? '', 300))}_\nClearing it lets *${escapeMrkdwn(releaseTitle(release))}* go on.`
      : `A no-go stops *${escapeMrkdwn(releaseTitle(release))}*: it is cancelled with your reason, its environment is freed, and stakeholders are told.`;
  return {
    type: 'modal',
    callback_id: kind === 'clear' ? CallbackId.clearRedFlag : CallbackId.noGo,
    private_metadata: encodeReleaseIndexMetadata({ teamId, releaseId: release.id, index: 0 }),
    title: { type: 'plain_text', text: kind === 'clear' ? 'Clear the red flag' : 'No-go' },
    submit: { type: 'plain_text', text: kind === 'clear' ? 'Clear it' : 'Stop the release' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncate(intro, BlockKitLimits.sectionText) } },
      {
        type: 'input',
        block_id: RedFlagField.noteBlock,
        label: { type: 'plain_text', text: kind === 'clear' ? 'What was done about it?' : 'Why no-go?' },
        element: {
          type: 'plain_text_input',
          action_id: RedFlagField.noteAction,
          multiline: true,
          max_length: 500,
        },
      },
    ],
  };
}

/** Problems listed by `verify` beyond the first; the rest are counted. */
const MAX_LISTED_PROBLEMS = 5;

const ANCHOR_NOTES: Record<'read' | 'none' | 'unavailable', string> = {
  read: '',
  none: 'The release header in Slack carries no anchor yet.',
  unavailable: 'The anchor on the release header could not be read from Slack; it was not compared.',
};

/**
 * `/deploy audit <version> verify`: whether the trail holds against its hash chain, its keyed seals
 * and the anchor in Slack, and if not, each problem with its position.
 */
export function renderAuditVerdict(
  release: Release,
  report: TrailReport,
  events: readonly AuditEvent[],
  anchor: 'read' | 'none' | 'unavailable' = 'none',
): Reply {
  const title = escapeMrkdwn(releaseTitle(release));
  const count = `${report.events} event${report.events === 1 ? '' : 's'}`;
  const where = (problem: TrailProblem) => {
    if (problem.position > report.events) return `after event ${report.events}`;
    const event = events.find((candidate) => candidate.id === problem.entryId);
    return `at event ${problem.position} of ${report.events}${event ? ` (${formatSlackDate(event.at, '{date_num} {time_secs}')}, ${escapeMrkdwn(event.type)})` : ''}`;
  };
  const lines: string[] = [];
  const [first, ...others] = report.problems;
  if (!first) {
    lines.push(
      report.sealsChecked && report.sealedThrough > 0
        ? `✅ The audit trail of *${title}* is intact: ${count}, each chained to the one before by its hash and sealed with the audit key.`
        : `✅ The audit trail of *${title}* is intact: ${count}, each chained to the one before by its hash.`,
    );
  } else {
    lines.push(
      `❌ The audit trail of *${title}* is broken ${where(first)}: ${TRAIL_BREAK_WORDS[first.problem]}.`,
    );
    for (const problem of others.slice(0, MAX_LISTED_PROBLEMS)) {
      lines.push(`• Also ${where(problem)}: ${TRAIL_BREAK_WORDS[problem.problem]}.`);
    }
    if (others.length > MAX_LISTED_PROBLEMS) lines.push(`• And ${others.length - MAX_LISTED_PROBLEMS} more.`);
  }
  if (!report.sealsChecked) {
    lines.push('Seals cannot be checked: no AUDIT_KEY is configured, so only the unkeyed hash chain was.');
  } else {
    if (report.notSealedYet > 0)
      lines.push(
        `${report.notSealedYet} newer event${report.notSealedYet === 1 ? ' is' : 's are'} not sealed yet (shipcheck seals each event within about a second).`,
      );
    if (report.legacy > 0)
      lines.push(
        `${report.legacy} event${report.legacy === 1 ? '' : 's'} from before keyed seals carry only the hash chain.`,
      );
  }
  if (report.anchor) lines.push(`Anchored in Slack through event ${report.anchor.position}.`);
  else if (ANCHOR_NOTES[anchor]) lines.push(ANCHOR_NOTES[anchor]);
  const text = lines.join('\n');
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } }] };
}
