import { describe, expect, it } from 'vitest';
import {
  type CommandVocabulary,
  type DeployCommand,
  MAX_REASON_LENGTH,
  MAX_VERSION_LENGTH,
  parseDeployCommand,
  validateVersion,
} from '../../src/domain/commands.js';
import type { Result, UserError } from '../../src/domain/errors.js';

const VOCABULARY: CommandVocabulary = {
  environments: ['production', 'staging', 'development'],
  templates: ['standard', 'hotfix', 'minimal'],
};

function parse(text: string): DeployCommand {
  const result = parseDeployCommand(text, VOCABULARY);
  if (!result.ok) throw new Error(`expected "${text}" to parse, got ${JSON.stringify(result.error)}`);
  return result.value;
}

function refusal(text: string): UserError {
  const result = parseDeployCommand(text, VOCABULARY);
  if (result.ok) throw new Error(`expected "${text}" to be refused, got ${JSON.stringify(result.value)}`);
  return result.error;
}

function versionError<T>(result: Result<T>): UserError | undefined {
  return result.ok ? undefined : result.error;
}

describe('validateVersion', () => {
  it.each(['v2.3', '2.3.0', '2026.11.1', 'release-42', '1.0.0+build.5', 'V1_rc', 'a', 'x'.repeat(64)])(
    'accepts %s',
    (version) => {
      expect(validateVersion(version)).toEqual({ ok: true, value: version });
    },
  );

  it.each([
    ['a space', 'v2 .3'],
    ['a leading space', ' v2.3'],
    ['a channel ping', '<!channel>'],
    ['a user mention', '<@U123>'],
    ['a link', '<https://evil|x>'],
    ['bold markup', '*bold*'],
    ['an empty string', ''],
    ['a leading dot', '.v2'],
    ['a leading dash', '-v2'],
    ['a leading plus', '+1'],
    ['a slash', 'v2/3'],
    ['an ampersand', 'v2&3'],
    ['a backtick', 'v2`3'],
    ['a newline', 'v2\n3'],
    ['a non-ASCII letter', 'vé'],
  ])('rejects %s', (_name, version) => {
    const error = versionError(validateVersion(version));

    expect(error).toMatchObject({ code: 'version_invalid', version });
    expect(error && 'reason' in error ? error.reason : '').not.toBe('');
  });

  it(`rejects a version of ${MAX_VERSION_LENGTH + 1} characters, saying it is too long`, () => {
    const version = 'v'.repeat(MAX_VERSION_LENGTH + 1);

    expect(validateVersion(version)).toEqual({
      ok: false,
      error: {
        code: 'version_invalid',
        version,
        reason: `it is longer than ${MAX_VERSION_LENGTH} characters`,
      },
    });
  });
});

describe('parseDeployCommand: start', () => {
  it('given only a version, leaves env and template undefined for the caller to default', () => {
    expect(parse('start v2.3')).toEqual({
      kind: 'start',
      version: 'v2.3',
      env: undefined,
      templateId: undefined,
    });
  });

  it.each(['start v2.3 staging hotfix', 'start v2.3 hotfix staging', '  START   v2.3   Hotfix\tSTAGING  '])(
    'reads env and template in either order and any case: %j',
    (text) => {
      expect(parse(text)).toEqual({ kind: 'start', version: 'v2.3', env: 'staging', templateId: 'hotfix' });
    },
  );

  it('reads a template without an env', () => {
    expect(parse('start 2026.11.1 minimal')).toEqual({
      kind: 'start',
      version: '2026.11.1',
      env: undefined,
      templateId: 'minimal',
    });
  });

  it('keeps the version exactly as typed', () => {
    expect(parse('start 1.0.0+build.5 production')).toMatchObject({ version: '1.0.0+build.5' });
  });

  it('opens the start form when there is no version', () => {
    expect(parse('start')).toEqual({ kind: 'start_form' });
    expect(parse('start   ')).toEqual({ kind: 'start_form' });
  });

  it('given an unknown argument, lists the environments and templates that exist', () => {
    expect(refusal('start v2.3 prod')).toEqual({
      code: 'argument_unknown',
      argument: 'prod',
      environments: ['production', 'staging', 'development'],
      templates: ['standard', 'hotfix', 'minimal'],
    });
  });

  it('refuses a second environment', () => {
    expect(refusal('start v2.3 staging production')).toEqual({
      code: 'argument_repeated',
      kind: 'environment',
      argument: 'production',
    });
  });

  it('refuses the same environment twice', () => {
    expect(refusal('start v2.3 staging Staging')).toEqual({
      code: 'argument_repeated',
      kind: 'environment',
      argument: 'Staging',
    });
  });

  it('refuses a second template', () => {
    expect(refusal('start v2.3 hotfix standard')).toEqual({
      code: 'argument_repeated',
      kind: 'template',
      argument: 'standard',
    });
  });

  it.each([
    ['a channel ping', 'start <!channel>', '<!channel>'],
    ['a user mention', 'start <@U123>', '<@U123>'],
    ['bold markup', 'start *bold*', '*bold*'],
    ['a leading dot', 'start .2.3', '.2.3'],
    ['a leading dash', 'start -2.3', '-2.3'],
  ])('refuses %s as a version', (_name, text, version) => {
    expect(refusal(text)).toMatchObject({ code: 'version_invalid', version });
  });

  it('refuses a 65-character version', () => {
    expect(refusal(`start ${'9'.repeat(65)}`)).toMatchObject({ code: 'version_invalid' });
  });

  it("decodes Slack's HTML-escaped text before reading it, then refuses the ping", () => {
    expect(refusal('start &lt;!channel&gt;')).toMatchObject({
      code: 'version_invalid',
      version: '<!channel>',
    });
    expect(refusal('start &lt;@U123|bob&gt; staging')).toMatchObject({
      code: 'version_invalid',
      version: '<@U123|bob>',
    });
  });

  it('decodes &amp; only once', () => {
    expect(refusal('start v&amp;lt;2')).toMatchObject({ code: 'version_invalid', version: 'v&lt;2' });
  });
});

describe('parseDeployCommand: status, audit and list', () => {
  it('reads status without arguments as "every active release"', () => {
    expect(parse('status')).toEqual({ kind: 'status', version: undefined, env: undefined });
  });

  it('reads status with a version and an env', () => {
    expect(parse('status v2.3 production')).toEqual({ kind: 'status', version: 'v2.3', env: 'production' });
  });

  it('refuses a template name with status, and lists no templates', () => {
    expect(refusal('status v2.3 hotfix')).toEqual({
      code: 'argument_unknown',
      argument: 'hotfix',
      environments: ['production', 'staging', 'development'],
      templates: [],
    });
  });

  it('refuses an invalid version with status', () => {
    expect(refusal('status <!here>')).toMatchObject({ code: 'version_invalid', version: '<!here>' });
  });

  it('reads audit with a version, with or without an env', () => {
    expect(parse('audit v2.3')).toEqual({ kind: 'audit', version: 'v2.3', env: undefined, verify: false });
    expect(parse('audit v2.3 Development')).toEqual({
      kind: 'audit',
      version: 'v2.3',
      env: 'development',
      verify: false,
    });
    expect(parse('audit v2.3 verify')).toEqual({
      kind: 'audit',
      version: 'v2.3',
      env: undefined,
      verify: true,
    });
    expect(parse('audit v2.3 staging VERIFY')).toEqual({
      kind: 'audit',
      version: 'v2.3',
      env: 'staging',
      verify: true,
    });
  });

  it('asks for a version with audit', () => {
    expect(refusal('audit')).toEqual({ code: 'version_missing', subcommand: 'audit' });
  });

  it('refuses a repeated env with audit', () => {
    expect(refusal('audit v2.3 staging staging')).toMatchObject({ code: 'argument_repeated' });
  });

  it('reads an attempt number with audit, verify and log, anywhere after the version', () => {
    expect(parse('audit v5.0 production #1 verify')).toEqual({
      kind: 'audit',
      version: 'v5.0',
      env: 'production',
      attempt: 1,
      verify: true,
    });
    expect(parse('audit v5.0 #2 staging')).toEqual({
      kind: 'audit',
      version: 'v5.0',
      env: 'staging',
      attempt: 2,
      verify: false,
    });
    expect(parse('log v5.0 production #12')).toEqual({
      kind: 'log',
      version: 'v5.0',
      env: 'production',
      attempt: 12,
    });
    expect(parse('log v5.0 Attempt 3')).toEqual({ kind: 'log', version: 'v5.0', env: undefined, attempt: 3 });
  });

  it('means the newest attempt when no number is given', () => {
    expect(parse('audit v5.0 production')).toMatchObject({ attempt: undefined });
    expect(parse('log v5.0')).toMatchObject({ attempt: undefined });
  });

  it('refuses what is not an attempt number, and a second number', () => {
    for (const text of ['audit v5.0 #0', 'audit v5.0 #x', 'log v5.0 #-1', 'log v5.0 #', 'audit v5.0 #1.5']) {
      expect(refusal(text)).toMatchObject({ code: 'attempt_invalid' });
    }
    expect(refusal('log v5.0 attempt')).toEqual({ code: 'attempt_invalid', argument: '#' });
    expect(refusal('audit v5.0 #1234567 verify')).toEqual({ code: 'attempt_invalid', argument: '#1234567' });
    expect(refusal('audit v5.0 #1 #2')).toEqual({
      code: 'argument_repeated',
      kind: 'attempt',
      argument: '#2',
    });
  });

  it('takes no attempt number with status', () => {
    expect(refusal('status v5.0 #2')).toMatchObject({ code: 'argument_unknown', argument: '#2' });
  });

  it('reads list', () => {
    expect(parse('list')).toEqual({ kind: 'list' });
    expect(parse('LIST')).toEqual({ kind: 'list' });
  });
});

describe('parseDeployCommand: cancel', () => {
  it('takes the word after the version as the env when it names one', () => {
    expect(parse('cancel v2.3 staging reason words')).toEqual({
      kind: 'cancel',
      version: 'v2.3',
      env: 'staging',
      reason: 'reason words',
    });
  });

  it('treats everything after the version as the reason when the next word is not an env', () => {
    expect(parse('cancel v2.3 rollback was fine')).toEqual({
      kind: 'cancel',
      version: 'v2.3',
      env: undefined,
      reason: 'rollback was fine',
    });
  });

  it('keeps the reason as typed, trimmed, with Slack escapes decoded', () => {
    expect(parse('cancel v2.3   DB &amp; cache  &lt;broken&gt;  ')).toMatchObject({
      reason: 'DB & cache  <broken>',
    });
  });

  it.each(['cancel v2.3', 'cancel v2.3   ', 'cancel v2.3 staging', 'cancel v2.3 staging   '])(
    'needs a reason: %j',
    (text) => {
      expect(refusal(text)).toEqual({ code: 'reason_missing', subcommand: 'cancel' });
    },
  );

  it('asks for a version first', () => {
    expect(refusal('cancel')).toEqual({ code: 'version_missing', subcommand: 'cancel' });
  });

  it(`accepts a reason of ${MAX_REASON_LENGTH} characters and refuses one longer`, () => {
    const longest = 'x'.repeat(MAX_REASON_LENGTH);

    expect(parse(`cancel v2.3 staging ${longest}`)).toMatchObject({ reason: longest });
    expect(refusal(`cancel v2.3 staging ${longest}y`)).toEqual({
      code: 'reason_too_long',
      maxLength: MAX_REASON_LENGTH,
    });
  });

  it('measures the reason after decoding, so an escaped character counts once', () => {
    const reason = `${'x'.repeat(MAX_REASON_LENGTH - 1)}&amp;`;

    expect(parse(`cancel v2.3 ${reason}`)).toMatchObject({ reason: `${'x'.repeat(MAX_REASON_LENGTH - 1)}&` });
  });
});

describe('parseDeployCommand: help', () => {
  it.each(['', '   ', 'help', 'HELP', '  help  extra words'])('answers %j with help', (text) => {
    expect(parse(text)).toEqual({ kind: 'help', unknownSubcommand: undefined });
  });

  it('answers an unknown subcommand with help that names it', () => {
    expect(parse('deploy v2.3')).toEqual({ kind: 'help', unknownSubcommand: 'deploy' });
    expect(parse('Launch')).toEqual({ kind: 'help', unknownSubcommand: 'Launch' });
  });

  it('treats a version given without a subcommand as an unknown subcommand', () => {
    expect(parse('v2.3 staging')).toEqual({ kind: 'help', unknownSubcommand: 'v2.3' });
  });
});

describe('deploy windows in commands', () => {
  const vocabulary = { environments: ['production', 'staging'], templates: ['standard', 'hotfix'] };

  it('given `at …` after the targets, keeps the window text for the edge to read', () => {
    expect(
      parseDeployCommand('start v2.3 staging hotfix at tomorrow 14:00 Europe/Berlin', vocabulary),
    ).toEqual({
      ok: true,
      value: {
        kind: 'start',
        version: 'v2.3',
        env: 'staging',
        templateId: 'hotfix',
        windowText: 'at tomorrow 14:00 Europe/Berlin',
      },
    });
  });

  it('given `in …` right after the version, uses the defaults for the rest', () => {
    expect(parseDeployCommand('start v2.3 in 3d', vocabulary)).toMatchObject({
      ok: true,
      value: { kind: 'start', env: undefined, templateId: undefined, windowText: 'in 3d' },
    });
  });

  it('given no window, says so', () => {
    expect(parseDeployCommand('start v2.3 staging', vocabulary)).toMatchObject({
      ok: true,
      value: { windowText: undefined },
    });
  });

  it('given reschedule, reads the version, an optional environment and the window', () => {
    expect(parseDeployCommand('reschedule v2.3 staging at 2026-11-25 14:00', vocabulary)).toEqual({
      ok: true,
      value: { kind: 'reschedule', version: 'v2.3', env: 'staging', windowText: 'at 2026-11-25 14:00' },
    });
    expect(parseDeployCommand('reschedule v2.3 in 2h', vocabulary)).toMatchObject({
      ok: true,
      value: { env: undefined, windowText: 'in 2h' },
    });
  });

  it('given reschedule without a time, or with an unknown word before it, refuses', () => {
    expect(parseDeployCommand('reschedule v2.3', vocabulary)).toEqual({
      ok: false,
      error: { code: 'window_missing' },
    });
    expect(parseDeployCommand('reschedule v2.3 moon at 14:00', vocabulary)).toMatchObject({
      ok: false,
      error: { code: 'argument_unknown', argument: 'moon' },
    });
  });
});

describe('parseDeployCommand: token', () => {
  it('creates a token for all environments when none are named', () => {
    expect(parse('token create github-actions')).toEqual({
      kind: 'token_create',
      name: 'github-actions',
      environments: 'all',
    });
  });

  it.each(['token create ci staging,production', 'TOKEN Create ci Staging, production staging'])(
    'reads the environments comma-separated, in any case, each once: %j',
    (text) => {
      expect(parse(text)).toEqual({
        kind: 'token_create',
        name: 'ci',
        environments: ['staging', 'production'],
      });
    },
  );

  it('refuses an environment that does not exist, naming the known ones', () => {
    expect(refusal('token create ci staging,prod')).toEqual({
      code: 'token_environment_unknown',
      env: 'prod',
      environments: VOCABULARY.environments,
    });
  });

  it.each([
    ['a missing name', 'token create', ''],
    ['markup', 'token create *ci*', '*ci*'],
    ['a mention', 'token create <@U123>', '<@U123>'],
    ['a leading dash', 'token create -ci', '-ci'],
    ['a name that is too long', `token create ${'a'.repeat(41)}`, 'a'.repeat(41)],
  ])('refuses %s as a token name', (_case, text, name) => {
    expect(refusal(text)).toMatchObject({ code: 'token_name_invalid', name });
  });

  it('lists and revokes by name', () => {
    expect(parse('token list')).toEqual({ kind: 'token_list' });
    expect(parse('token revoke github-actions')).toEqual({ kind: 'token_revoke', name: 'github-actions' });
    expect(refusal('token revoke')).toMatchObject({ code: 'token_name_invalid', name: '' });
  });

  it('answers an unknown token action with the help', () => {
    expect(parse('token rotate ci')).toEqual({ kind: 'help', unknownSubcommand: 'token rotate' });
    expect(parse('token')).toEqual({ kind: 'help', unknownSubcommand: 'token' });
  });
});

describe('parseDeployCommand: override-freeze', () => {
  it('reads the version, an optional environment and the reason', () => {
    expect(parse('override-freeze v2.3 production customer outage, fix cannot wait')).toEqual({
      kind: 'override_freeze',
      version: 'v2.3',
      env: 'production',
      reason: 'customer outage, fix cannot wait',
    });
    expect(parse('override-freeze v2.3 fix cannot wait')).toEqual({
      kind: 'override_freeze',
      version: 'v2.3',
      env: undefined,
      reason: 'fix cannot wait',
    });
  });

  it('asks for a reason', () => {
    expect(refusal('override-freeze v2.3 production')).toEqual({
      code: 'reason_missing',
      subcommand: 'override-freeze',
    });
  });
});
