import { fail, ok, type Result } from './errors.js';
import { checkTokenName } from './pipeline-tokens.js';

// `/deploy …` text parsed into a typed command. Known environments and templates come in as
// arguments so that the parser stays pure.

export type DeployCommand =
  | {
      kind: 'start';
      version: string;
      env: string | undefined;
      templateId: string | undefined;
      /** The deploy window as written, from `at` or `in` on (`at tomorrow 14:00`); read at the edge, which knows the user's zone. */
      windowText: string | undefined;
    }
  /** `/deploy start` alone: the start modal asks for the rest. */
  | { kind: 'start_form' }
  | { kind: 'reschedule'; version: string; env: string | undefined; windowText: string }
  | { kind: 'status'; version: string | undefined; env: string | undefined }
  /** `/deploy status [version] [env] link`: a signed link to the status page (or the release's page). */
  | { kind: 'status_link'; version: string | undefined; env: string | undefined }
  | { kind: 'list' }
  | { kind: 'locks' }
  | { kind: 'cancel'; version: string; env: string | undefined; reason: string }
  | { kind: 'rollback'; version: string; env: string | undefined; reason: string }
  /** A release manager lets a running release deploy inside the freeze in force. */
  | { kind: 'override_freeze'; version: string; env: string | undefined; reason: string }
  /** `attempt`: which release of the version and environment (1 for the first); undefined means the newest. */
  | { kind: 'audit'; version: string; env: string | undefined; attempt: number | undefined; verify: boolean }
  | { kind: 'log'; version: string; env: string | undefined; attempt: number | undefined }
  /** The arguments as typed (`30 production`); read at the edge, which knows the environments. */
  | { kind: 'stats'; argumentsText: string }
  | { kind: 'help'; unknownSubcommand: string | undefined }
  /** Pipeline tokens: `environments` is 'all' when none are named. */
  | { kind: 'token_create'; name: string; environments: string[] | 'all' }
  | { kind: 'token_list' }
  | { kind: 'token_revoke'; name: string };

export interface CommandVocabulary {
  environments: readonly string[];
  templates: readonly string[];
}

export const MAX_VERSION_LENGTH = 64;
export const MAX_REASON_LENGTH = 500;

const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** A version is a tag-like token: v2.3, 2.3.0, 2026.11.1, release-42. */
export function validateVersion(raw: string): Result<string> {
  if (raw.length > MAX_VERSION_LENGTH) {
    return fail({
      code: 'version_invalid',
      version: raw,
      reason: `it is longer than ${MAX_VERSION_LENGTH} characters`,
    });
  }
  if (!VERSION_PATTERN.test(raw)) {
    return fail({
      code: 'version_invalid',
      version: raw,
      reason: 'use letters, digits, dots, dashes, underscores and +, starting with a letter or digit',
    });
  }
  return ok(raw);
}

/** Slack sends some characters HTML-escaped in command text; undo that before reading tokens. */
function decodeCommandText(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function splitFirstToken(text: string): [string, string] {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(text.trim());
  return match ? [match[1]!, match[2]!] : ['', ''];
}

/** Reads `[env]` and `[template]` in either order; anything else is an error that lists what exists. */
function parseTargets(
  tokens: string[],
  vocabulary: CommandVocabulary,
  allowTemplate: boolean,
): Result<{ env: string | undefined; templateId: string | undefined }> {
  let env: string | undefined;
  let templateId: string | undefined;
  for (const token of tokens) {
    const name = token.toLowerCase();
    if (vocabulary.environments.includes(name)) {
      if (env) return fail({ code: 'argument_repeated', kind: 'environment', argument: token });
      env = name;
    } else if (allowTemplate && vocabulary.templates.includes(name)) {
      if (templateId) return fail({ code: 'argument_repeated', kind: 'template', argument: token });
      templateId = name;
    } else {
      return fail({
        code: 'argument_unknown',
        argument: token,
        environments: [...vocabulary.environments],
        templates: allowTemplate ? [...vocabulary.templates] : [],
      });
    }
  }
  return ok({ env, templateId });
}

function parseVersionArgument(subcommand: string, rest: string): Result<[string, string]> {
  const [version, remainder] = splitFirstToken(rest);
  if (!version) return fail({ code: 'version_missing', subcommand });
  const valid = validateVersion(version);
  return valid.ok ? ok([valid.value, remainder]) : fail(valid.error);
}

/** Splits `staging hotfix at tomorrow 14:00` into the targets and the window (`at …` or `in …`). */
function splitWindow(text: string): [string, string | undefined] {
  const match = /(?:^|\s)((?:at|in)\s[\s\S]*)$/i.exec(text);
  if (!match) return [text, undefined];
  return [text.slice(0, match.index), match[1]!.trim()];
}

/** Attempt numbers people type are small; a cap keeps `#99999999999999999999` from becoming a float. */
const MAX_ATTEMPT_DIGITS = 6;

/**
 * Takes `#2` (or `attempt 2`) out of the tokens: which attempt at the version and environment is meant.
 * The rest are left for parseTargets.
 */
function takeAttempt(tokens: string[]): Result<{ attempt: number | undefined; others: string[] }> {
  let attempt: number | undefined;
  const others: string[] = [];
  for (let index = 0; index < tokens.length; index++) {
    let token = tokens[index]!;
    if (token.toLowerCase() === 'attempt') {
      token = `#${tokens[index + 1] ?? ''}`;
      index++;
    }
    if (!token.startsWith('#')) {
      others.push(token);
      continue;
    }
    const digits = token.slice(1);
    if (!new RegExp(`^[1-9][0-9]{0,${MAX_ATTEMPT_DIGITS - 1}}$`).test(digits)) {
      return fail({ code: 'attempt_invalid', argument: token });
    }
    if (attempt !== undefined) return fail({ code: 'argument_repeated', kind: 'attempt', argument: token });
    attempt = Number(digits);
  }
  return ok({ attempt, others });
}

/** `<version> [env]`, as status takes it; audit and log also take `[#attempt]`. */
function parseVersionAndEnv(
  kind: 'status' | 'audit' | 'log',
  rest: string,
  vocabulary: CommandVocabulary,
): Result<DeployCommand> {
  const version = parseVersionArgument(kind, rest);
  if (!version.ok) return version;
  const tokens = version.value[1].split(/\s+/).filter(Boolean);
  if (kind === 'status') {
    const targets = parseTargets(tokens, vocabulary, false);
    if (!targets.ok) return targets;
    return ok({ kind, version: version.value[0], env: targets.value.env });
  }
  const attempt = takeAttempt(tokens);
  if (!attempt.ok) return attempt;
  const targets = parseTargets(attempt.value.others, vocabulary, false);
  if (!targets.ok) return targets;
  const found = { version: version.value[0], env: targets.value.env, attempt: attempt.value.attempt };
  return kind === 'audit' ? ok({ kind, ...found, verify: false }) : ok({ kind, ...found });
}

/** `token create <name> [env,…]`, `token list`, `token revoke <name>`. */
function parseTokenCommand(rest: string, vocabulary: CommandVocabulary): Result<DeployCommand> {
  const [action, remainder] = splitFirstToken(rest);
  const [name, after] = splitFirstToken(remainder);
  switch (action.toLowerCase()) {
    case 'create': {
      const problem = checkTokenName(name);
      if (problem) return fail({ code: 'token_name_invalid', name, problem });
      const named = after.split(/[\s,]+/).filter(Boolean);
      const environments: string[] = [];
      for (const env of named) {
        const known = env.toLowerCase();
        if (!vocabulary.environments.includes(known)) {
          return fail({ code: 'token_environment_unknown', env, environments: [...vocabulary.environments] });
        }
        if (!environments.includes(known)) environments.push(known);
      }
      return ok({ kind: 'token_create', name, environments: environments.length > 0 ? environments : 'all' });
    }
    case 'list':
      return ok({ kind: 'token_list' });
    case 'revoke': {
      const problem = checkTokenName(name);
      if (problem) return fail({ code: 'token_name_invalid', name, problem });
      return ok({ kind: 'token_revoke', name });
    }
    default:
      return ok({ kind: 'help', unknownSubcommand: `token ${action}`.trim() });
  }
}

export function parseDeployCommand(rawText: string, vocabulary: CommandVocabulary): Result<DeployCommand> {
  const [subcommand, rest] = splitFirstToken(decodeCommandText(rawText));
  switch (subcommand.toLowerCase()) {
    case 'start': {
      if (!rest.trim()) return ok({ kind: 'start_form' });
      const version = parseVersionArgument('start', rest);
      if (!version.ok) return version;
      const [versionText, remainder] = version.value;
      const [targetText, windowText] = splitWindow(remainder);
      const targets = parseTargets(targetText.split(/\s+/).filter(Boolean), vocabulary, true);
      if (!targets.ok) return targets;
      return ok({ kind: 'start', version: versionText, ...targets.value, windowText });
    }
    case 'reschedule': {
      const version = parseVersionArgument('reschedule', rest);
      if (!version.ok) return version;
      const [targetText, windowText] = splitWindow(version.value[1]);
      if (!windowText) return fail({ code: 'window_missing' });
      const targets = parseTargets(targetText.split(/\s+/).filter(Boolean), vocabulary, false);
      if (!targets.ok) return targets;
      return ok({ kind: 'reschedule', version: version.value[0], env: targets.value.env, windowText });
    }
    case 'status': {
      const link = /(?:^|\s)link\s*$/i.exec(rest);
      if (link) {
        const before = rest.slice(0, link.index).trim();
        if (!before) return ok({ kind: 'status_link', version: undefined, env: undefined });
        const parsed = parseVersionAndEnv('status', before, vocabulary);
        return parsed.ok && parsed.value.kind === 'status'
          ? ok({ ...parsed.value, kind: 'status_link' })
          : parsed;
      }
      if (!rest) return ok({ kind: 'status', version: undefined, env: undefined });
      return parseVersionAndEnv('status', rest, vocabulary);
    }
    case 'audit': {
      // `/deploy audit v2.3 [env] [#2] verify` checks the trail's hash chain instead of listing it.
      const verify = /\sverify\s*$/i.test(` ${rest}`);
      const parsed = parseVersionAndEnv(
        'audit',
        verify ? rest.replace(/\s*verify\s*$/i, '') : rest,
        vocabulary,
      );
      return parsed.ok && parsed.value.kind === 'audit' ? ok({ ...parsed.value, verify }) : parsed;
    }
    case 'cancel':
    case 'rollback':
    case 'override-freeze': {
      const kind = subcommand.toLowerCase() as 'cancel' | 'rollback' | 'override-freeze';
      const version = parseVersionArgument(kind, rest);
      if (!version.ok) return version;
      let [envCandidate, reason] = splitFirstToken(version.value[1]);
      let env: string | undefined;
      if (vocabulary.environments.includes(envCandidate.toLowerCase())) env = envCandidate.toLowerCase();
      else reason = version.value[1].trim();
      reason = reason.trim();
      if (!reason) return fail({ code: 'reason_missing', subcommand: kind });
      if (reason.length > MAX_REASON_LENGTH)
        return fail({ code: 'reason_too_long', maxLength: MAX_REASON_LENGTH });
      const command = { version: version.value[0], env, reason };
      return ok(kind === 'override-freeze' ? { kind: 'override_freeze', ...command } : { kind, ...command });
    }
    case 'log':
      return parseVersionAndEnv('log', rest, vocabulary);
    case 'stats':
      return ok({ kind: 'stats', argumentsText: rest });
    case 'list':
      return ok({ kind: 'list' });
    case 'locks':
      return ok({ kind: 'locks' });
    case 'token':
      return parseTokenCommand(rest, vocabulary);
    case '':
    case 'help':
      return ok({ kind: 'help', unknownSubcommand: undefined });
    default:
      return ok({ kind: 'help', unknownSubcommand: subcommand });
  }
}
