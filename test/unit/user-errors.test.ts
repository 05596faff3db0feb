import { describe, expect, it } from 'vitest';
import type { UserError, UserErrorCode } from '../../src/domain/errors.js';
import { createErrorId, describeUnexpectedError, describeUserError } from '../../src/views/user-errors.js';
import { HOSTILE_MARKUP, HOSTILE_TEXT } from './factories.js';

const ENVIRONMENTS = ['production', 'staging', 'development'];
const TEMPLATES = ['standard', 'hotfix', 'minimal'];
const PERMALINK = 'https://acme.slack.com/archives/C0DEPLOYS/p1700000000000100';

/** One refusal per code, with hostile user text wherever the user can put text. Typed to need every code. */
const EXAMPLES: { [Code in UserErrorCode]: Extract<UserError, { code: Code }> } = {
  version_missing: { code: 'version_missing', subcommand: 'start' },
  version_invalid: { code: 'version_invalid', version: HOSTILE_TEXT, reason: 'use letters and digits' },
  argument_unknown: {
    code: 'argument_unknown',
    argument: HOSTILE_TEXT,
    environments: ENVIRONMENTS,
    templates: TEMPLATES,
  },
  argument_repeated: { code: 'argument_repeated', kind: 'environment', argument: HOSTILE_TEXT },
  attempt_invalid: { code: 'attempt_invalid', argument: HOSTILE_TEXT },
  attempt_not_found: {
    code: 'attempt_not_found',
    version: HOSTILE_TEXT,
    env: 'production',
    attempt: 3,
    attempts: [
      { attempt: 1, status: 'cancelled' },
      { attempt: 2, status: 'rolled_back' },
    ],
  },
  reason_missing: { code: 'reason_missing', subcommand: 'cancel' },
  reason_too_long: { code: 'reason_too_long', maxLength: 500 },
  release_exists: { code: 'release_exists', version: HOSTILE_TEXT, env: 'production', permalink: PERMALINK },
  release_not_found: { code: 'release_not_found', version: HOSTILE_TEXT, env: 'staging' },
  release_ambiguous: { code: 'release_ambiguous', version: HOSTILE_TEXT, envs: ['production', 'staging'] },
  release_closed: { code: 'release_closed', version: HOSTILE_TEXT, env: 'staging', status: 'cancelled' },
  release_deployed: {
    code: 'release_deployed',
    version: HOSTILE_TEXT,
    env: 'production',
    deployedAt: Date.UTC(2026, 10, 25, 14),
  },
  item_unknown: { code: 'item_unknown' },
  value_required: { code: 'value_required', itemText: HOSTILE_TEXT, label: HOSTILE_TEXT },
  value_invalid: { code: 'value_invalid', label: HOSTILE_TEXT, problem: HOSTILE_TEXT },
  checkin_answered: { code: 'checkin_answered', answer: 'issue', by: 'U0BOB' },
  checkin_closed: { code: 'checkin_closed' },
  issue_resolved: { code: 'issue_resolved', by: 'U0BOB' },
  text_length: { code: 'text_length', what: 'a reason', min: 5, max: 500 },
  not_permitted: { code: 'not_permitted', action: 'tick', roles: ['qa', HOSTILE_TEXT] },
  own_release: { code: 'own_release' },
  red_flag_stop: { code: 'red_flag_stop', by: 'U0BOB' },
  awaiting_go: { code: 'awaiting_go' },
  red_flag_up: { code: 'red_flag_up', by: 'U0BOB' },
  no_red_flag: { code: 'no_red_flag' },
  go_decided: { code: 'go_decided', by: 'U0BOB' },
  go_not_ready: { code: 'go_not_ready', phaseName: HOSTILE_TEXT },
  frozen: { code: 'frozen', env: 'production', window: HOSTILE_TEXT, endsAt: Date.UTC(2026, 10, 23, 7) },
  deploy_frozen: {
    code: 'deploy_frozen',
    env: 'production',
    window: HOSTILE_TEXT,
    endsAt: Date.UTC(2026, 10, 23, 7),
    version: HOSTILE_TEXT,
  },
  not_frozen: { code: 'not_frozen', env: 'production', version: HOSTILE_TEXT },
  token_name_invalid: { code: 'token_name_invalid', name: HOSTILE_TEXT, problem: 'Use letters and digits.' },
  token_name_taken: { code: 'token_name_taken', name: 'github-actions' },
  token_not_found: { code: 'token_not_found', name: HOSTILE_TEXT },
  token_environment_unknown: {
    code: 'token_environment_unknown',
    env: HOSTILE_TEXT,
    environments: ENVIRONMENTS,
  },
  pipeline_out_of_scope: { code: 'pipeline_out_of_scope', env: HOSTILE_TEXT, token: HOSTILE_TEXT },
  pipeline_item_refused: { code: 'pipeline_item_refused', itemText: HOSTILE_TEXT },
  gate_closed: { code: 'gate_closed', version: HOSTILE_TEXT, blockers: [HOSTILE_TEXT] },
  template_unknown: { code: 'template_unknown', templateId: HOSTILE_TEXT, templates: ['standard'] },
  env_locked: {
    code: 'env_locked',
    env: 'production',
    holderVersion: HOSTILE_TEXT,
    holderBy: 'U0ALICE',
    since: Date.UTC(2026, 10, 22, 9),
  },
  role_check_failed: { code: 'role_check_failed', role: HOSTILE_TEXT },
  phase_locked: {
    code: 'phase_locked',
    phaseName: HOSTILE_TEXT,
    blockingPhaseName: HOSTILE_TEXT,
    openItems: Array.from({ length: 8 }, (_unused, index) => `${HOSTILE_TEXT} ${index}`),
  },
  gate_not_locked: { code: 'gate_not_locked', phaseName: HOSTILE_TEXT },
  window_missing: { code: 'window_missing' },
  window_invalid: { code: 'window_invalid', text: HOSTILE_TEXT, problem: 'unreadable' },
  payload_invalid: { code: 'payload_invalid' },
  redis_unavailable: { code: 'redis_unavailable' },
};

const CASES = Object.values(EXAMPLES) as UserError[];

describe('describeUserError', () => {
  it('has an example of all 47 codes', () => {
    expect(new Set(CASES.map((error) => error.code)).size).toBe(47);
  });

  it.each(CASES.map((error) => [error.code, error] as const))(
    '%s: gives a non-empty message under 3000 characters with user text escaped',
    (_code, error) => {
      const message = describeUserError(error);

      expect(message.trim()).not.toBe('');
      expect(message.length).toBeLessThan(3000);
      for (const markup of HOSTILE_MARKUP) expect(message).not.toContain(markup);
      if (JSON.stringify(error).includes('<!channel>')) expect(message).toContain('&lt;!channel&gt;');
    },
  );

  it('stays under 3000 characters with the longest texts templates allow', () => {
    const longText = `${'a'.repeat(290)} <!here>`;
    const message = describeUserError({
      code: 'phase_locked',
      phaseName: 'p'.repeat(60),
      blockingPhaseName: 'b'.repeat(60),
      openItems: Array.from({ length: 100 }, () => longText),
    });

    expect(message.length).toBeLessThan(3000);
    expect(message).toContain('…and 95 more');
  });

  it('cuts a very long argument or version instead of echoing all of it', () => {
    const long = 'x'.repeat(10_000);

    for (const error of [
      describeUserError({ code: 'version_invalid', version: long, reason: 'too long' }),
      describeUserError({
        code: 'argument_unknown',
        argument: long,
        environments: ENVIRONMENTS,
        templates: [],
      }),
      describeUserError({ code: 'argument_repeated', kind: 'template', argument: long }),
    ]) {
      expect(error.length).toBeLessThan(3000);
    }
  });

  it('names the attempts that exist when asked for one that does not', () => {
    expect(describeUserError({ ...EXAMPLES.attempt_not_found, version: 'v5.0' })).toBe(
      'v5.0 → production has no attempt #3; its attempts are #1 (cancelled), #2 (rolled back).',
    );
  });

  it('names the latest attempts only, when a version was tried very often', () => {
    const message = describeUserError({
      ...EXAMPLES.attempt_not_found,
      attempt: 999,
      attempts: Array.from({ length: 300 }, (_unused, index) => ({
        attempt: index + 1,
        status: 'cancelled' as const,
      })),
    });
    expect(message.length).toBeLessThan(3000);
    expect(message).toContain('#300 (cancelled)');
    expect(message).not.toContain('#1 (cancelled)');
  });

  it('lists the environments and templates that exist for an unknown argument', () => {
    const message = describeUserError(EXAMPLES.argument_unknown);

    for (const name of [...ENVIRONMENTS, ...TEMPLATES]) expect(message).toContain(`\`${name}\``);
  });

  it('leaves out the templates when none apply', () => {
    const message = describeUserError({
      code: 'argument_unknown',
      argument: 'hotfix',
      environments: ENVIRONMENTS,
      templates: [],
    });

    expect(message).not.toMatch(/Templates/);
  });

  it('links the existing release thread, and only that link', () => {
    const message = describeUserError(EXAMPLES.release_exists);

    expect(message).toContain(`<${PERMALINK}|See its thread>`);
    expect(message.match(/</g)).toHaveLength(1);
    expect(describeUserError({ ...EXAMPLES.release_exists, permalink: undefined })).not.toContain('<');
  });

  it('shows at most five open items of a locked phase and counts the rest', () => {
    const message = describeUserError(EXAMPLES.phase_locked);

    expect(message.match(/^• /gm)).toHaveLength(5);
    expect(message).toContain('…and 3 more');
  });
});

describe('error ids', () => {
  it('look like E- and eight uppercase hex digits', () => {
    expect(createErrorId()).toMatch(/^E-[0-9A-F]{8}$/);
  });

  it('differ from one call to the next', () => {
    const ids = new Set(Array.from({ length: 50 }, () => createErrorId()));

    expect(ids.size).toBe(50);
  });

  it('are quoted in the unexpected-error message', () => {
    const message = describeUnexpectedError('E-0123ABCD');

    expect(message).toContain('`E-0123ABCD`');
    expect(message.length).toBeLessThan(3000);
  });
});
