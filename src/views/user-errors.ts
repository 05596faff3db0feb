import { randomBytes } from 'node:crypto';
import type { UserError } from '../domain/errors.js';
import { escapeMrkdwn, formatSlackDate, linkTo, mentionUser } from './mrkdwn.js';

const WINDOW_EXAMPLES = '`at 2026-11-25 14:00`, `at tomorrow 14:00 Europe/Berlin` or `in 3d`';

/** What a guarded action is called in "Only @qa can …". */
const ACTION_PHRASES: Record<string, string> = {
  tick: 'tick this item',
  untick: 'untick this item',
  start: 'start a release',
  cancel: 'cancel a release',
  reschedule: 'move a deploy window',
  override: 'override a gate',
  rollback: 'roll a release back',
  go: 'make the go/no-go call',
  freeze_override: 'override a freeze',
  red_flag: 'raise a red flag',
  red_flag_resolve: 'clear a red flag',
  manage_tokens: 'manage pipeline tokens',
};

/** Attempts named when a number is not found. */
const MAX_ATTEMPTS_LISTED = 20;

// One table from refusal codes to the short ephemeral answer the user sees.

const list = (names: readonly string[]) => names.map((name) => `\`${name}\``).join(', ');

export function describeUserError(error: UserError): string {
  switch (error.code) {
    case 'version_missing':
      return `Which version? Try \`/deploy ${error.subcommand} v2.3\`.`;
    case 'version_invalid':
      return `\`${escapeMrkdwn(error.version.slice(0, 80))}\` is not a version I can use: ${error.reason}. Examples: \`v2.3\`, \`2.3.0\`, \`2026.11.1\`, \`release-42\`.`;
    case 'argument_unknown':
      return [
        `I don't know \`${escapeMrkdwn(error.argument.slice(0, 80))}\`.`,
        `Environments: ${list(error.environments)}.`,
        error.templates.length > 0 ? `Templates: ${list(error.templates)}.` : '',
      ]
        .filter(Boolean)
        .join(' ');
    case 'argument_repeated':
      return `Name one ${error.kind} only (\`${escapeMrkdwn(error.argument.slice(0, 80))}\` is a second one).`;
    case 'attempt_invalid':
      return `\`${escapeMrkdwn(error.argument.slice(0, 20))}\` is not an attempt number; write \`#1\` for the first attempt at a version, \`#2\` for the second.`;
    case 'attempt_not_found': {
      // A version tried very often would overflow the message; the latest attempts are the likely ones.
      const shown = error.attempts.slice(-MAX_ATTEMPTS_LISTED);
      const earlier = error.attempts.length - shown.length;
      const attempts =
        (earlier > 0 ? `${earlier} earlier ones and ` : '') +
        shown.map(({ attempt, status }) => `#${attempt} (${status.replace('_', ' ')})`).join(', ');
      return `${escapeMrkdwn(error.version)} → ${escapeMrkdwn(error.env)} has no attempt #${error.attempt}; its attempts are ${attempts}.`;
    }
    case 'reason_missing':
      return `Please give a reason: \`/deploy ${error.subcommand} v2.3 <reason>\`. It goes on the record.`;
    case 'reason_too_long':
      return `That reason is too long; keep it under ${error.maxLength} characters.`;
    case 'release_exists': {
      const where = error.permalink ? ` ${linkTo(error.permalink, 'See its thread')}.` : '';
      return `${escapeMrkdwn(error.version)} is already being deployed to ${escapeMrkdwn(error.env)}.${where}`;
    }
    case 'release_not_found':
      return `I found no release ${escapeMrkdwn(error.version)}${error.env ? ` for ${escapeMrkdwn(error.env)}` : ''} to act on. \`/deploy list\` shows active and recent releases.`;
    case 'release_ambiguous':
      return `${escapeMrkdwn(error.version)} is active in ${list(error.envs)}; name the environment, e.g. \`/deploy cancel ${escapeMrkdwn(error.version)} ${error.envs[0]} <reason>\`.`;
    case 'release_closed':
      if (error.status === 'rolling_back') {
        return `${escapeMrkdwn(error.version)} → ${escapeMrkdwn(error.env)} is being rolled back; only its rollback checklist can be ticked now. Nothing was changed.`;
      }
      return `${escapeMrkdwn(error.version)} → ${escapeMrkdwn(error.env)} is ${error.status === 'rolled_back' ? 'rolled back' : error.status}; its checklist is read-only and nothing was changed.`;
    case 'release_deployed':
      return `${escapeMrkdwn(error.version)} → ${escapeMrkdwn(error.env)} was deployed ${formatSlackDate(error.deployedAt)}; its window cannot move any more. Nothing was changed.`;
    case 'item_unknown':
      return 'That checklist item is not part of this release; nothing was changed.';
    case 'value_required':
      return `“${escapeMrkdwn(error.itemText.slice(0, 150))}” records its ${escapeMrkdwn(error.label)}: tick it in the release thread and enter the value there. Nothing was changed.`;
    case 'value_invalid':
      return `The ${escapeMrkdwn(error.label)} was not saved: ${escapeMrkdwn(error.problem)} Nothing was changed.`;
    case 'checkin_answered': {
      const answer = { healthy: 'healthy', issue: 'issue found', rollback: 'roll back' }[error.answer];
      return `${mentionUser(error.by)} already answered this check-in (*${answer}*); nothing was changed.`;
    }
    case 'checkin_closed':
      return 'This check-in needs no answer any more: the monitoring window is closed. Nothing was changed.';
    case 'issue_resolved':
      return `${mentionUser(error.by)} already resolved this issue; nothing was changed.`;
    case 'not_permitted': {
      const who = error.roles.map((role) => `@${escapeMrkdwn(role)}`).join(' or ');
      const what = ACTION_PHRASES[error.action] ?? 'do this';
      return `Only ${who} can ${what}; nothing was changed, and the attempt is in the audit trail.`;
    }
    case 'env_locked':
      return `🔒 ${escapeMrkdwn(error.env)} is in use: ${escapeMrkdwn(error.holderVersion)} has been deploying there since ${formatSlackDate(error.since)} (${mentionUser(error.holderBy)}). Nothing was changed; you can go ahead once it completes, is rolled back or is cancelled.`;
    case 'frozen':
      return `❄️ ${escapeMrkdwn(error.env)} is frozen until ${formatSlackDate(error.endsAt)} (\`${escapeMrkdwn(error.window)}\`); pick a time after that. Nothing was changed.`;
    case 'deploy_frozen':
      return `❄️ ${escapeMrkdwn(error.env)} is frozen until ${formatSlackDate(error.endsAt)} (\`${escapeMrkdwn(error.window)}\`): the deployment of ${escapeMrkdwn(error.version)} cannot go on inside it. Nothing was changed. A release manager can override the freeze for this release, on the record: \`/deploy override-freeze ${escapeMrkdwn(error.version)} ${escapeMrkdwn(error.env)} <reason>\`.`;
    case 'not_frozen':
      return `${escapeMrkdwn(error.env)} is not frozen for ${escapeMrkdwn(error.version)} now (no freeze is on, or its override covers it): there is nothing to override. Nothing was changed.`;
    case 'token_name_invalid':
      return `\`${escapeMrkdwn(error.name.slice(0, 80))}\` is not a token name I can use: ${error.problem} Example: \`github-actions\`.`;
    case 'token_name_taken':
      return `A pipeline token named \`${escapeMrkdwn(error.name)}\` exists already; pick another name, or revoke it first with \`/deploy token revoke ${escapeMrkdwn(error.name)}\`.`;
    case 'token_not_found':
      return `No pipeline token is named \`${escapeMrkdwn(error.name.slice(0, 80))}\`; \`/deploy token list\` shows them.`;
    case 'token_environment_unknown':
      return `I don't know the environment \`${escapeMrkdwn(error.env.slice(0, 80))}\`. Environments: ${list(error.environments)}.`;
    case 'pipeline_out_of_scope':
      return `The pipeline token \`${escapeMrkdwn(error.token)}\` may not act on ${escapeMrkdwn(error.env)}. Nothing was changed.`;
    case 'pipeline_item_refused':
      return `“${escapeMrkdwn(error.itemText)}” is for a person to tick; a pipeline may tick only the items its template marks for pipelines. Nothing was changed.`;
    case 'gate_closed':
      return `${escapeMrkdwn(error.version)} may not be deployed now: ${error.blockers.map(escapeMrkdwn).join('; ')}. Nothing was changed.`;
    case 'template_unknown':
      return `I don't know the template \`${escapeMrkdwn(error.templateId.slice(0, 80))}\`. Templates: ${list(error.templates)}.`;
    case 'red_flag_stop':
      return `🚩 This release is stopped by a red flag ${mentionUser(error.by)} raised; nothing can be ticked until it is cleared on the release header. Nothing was changed.`;
    case 'awaiting_go':
      return '🚦 This phase waits for the go/no-go call on the release header. Nothing was changed.';
    case 'red_flag_up':
      return `A red flag is up already (raised by ${mentionUser(error.by)}); nothing was changed.`;
    case 'no_red_flag':
      return 'No red flag is up on this release; nothing was changed.';
    case 'go_decided':
      return `${mentionUser(error.by)} already made the go/no-go call; nothing was changed.`;
    case 'go_not_ready':
      return `The go/no-go call comes once everything before *${escapeMrkdwn(error.phaseName)}* is done. Nothing was changed.`;
    case 'own_release':
      return 'You started this release, so someone else has to approve it (two-person rule). Nothing was changed.';
    case 'role_check_failed':
      return `I couldn't check who holds @${escapeMrkdwn(error.role)} right now, so nothing was changed. Please try again in a minute.`;
    case 'text_length':
      return `Write ${error.what} of ${error.min} to ${error.max} characters.`;
    case 'phase_locked': {
      const open = error.openItems.slice(0, 5).map((text) => `• ${escapeMrkdwn(text)}`);
      const more = error.openItems.length > 5 ? `\n…and ${error.openItems.length - 5} more` : '';
      return `🔒 *${escapeMrkdwn(error.phaseName)}* is locked until *${escapeMrkdwn(error.blockingPhaseName)}* is done. Still open:\n${open.join('\n')}${more}\nNothing was changed. To go ahead anyway, use *Override a gate…* on the release header.`;
    }
    case 'gate_not_locked':
      return `*${escapeMrkdwn(error.phaseName)}* is not locked any more; nothing was overridden.`;
    case 'window_missing':
      return `When should it move to? Try \`/deploy reschedule v2.3 at tomorrow 14:00\`.`;
    case 'window_invalid':
      switch (error.problem) {
        case 'in_past':
          return `${error.at ? formatSlackDate(error.at) : 'That time'} is in the past; give a time still to come, like ${WINDOW_EXAMPLES}. Nothing was changed.`;
        case 'zone_unknown':
          return `I don't know the time zone \`${escapeMrkdwn((error.zone ?? '').slice(0, 60))}\`; use a name like \`Europe/Berlin\`, \`America/New_York\` or \`UTC\`. Nothing was changed.`;
        case 'unreadable':
          return `I couldn't read \`${escapeMrkdwn(error.text.slice(0, 80))}\` as a time. Try ${WINDOW_EXAMPLES}. Nothing was changed.`;
      }
      break;
    case 'payload_invalid':
      return 'I could not read that request, so nothing was changed. Please try again.';
    case 'redis_unavailable':
      return "shipcheck can't reach its database right now, so nothing was changed. Please try again in a minute.";
  }
}

/** A short id the user can quote and the logs can be searched for. */
export function createErrorId(): string {
  return `E-${randomBytes(4).toString('hex').toUpperCase()}`;
}

export function describeUnexpectedError(errorId: string): string {
  return `Something went wrong on my side and nothing may have been changed. If it keeps happening, quote error id \`${errorId}\`.`;
}
