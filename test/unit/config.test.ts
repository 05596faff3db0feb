import { describe, expect, it } from 'vitest';
import { type Config, ConfigError, loadConfig } from '../../src/config/env.js';
import { DEFAULT_PERMISSIONS } from '../../src/domain/access.js';

const MINIMAL_HTTP_ENV = { SLACK_BOT_TOKEN: 'xoxb-111-222-abc', SLACK_SIGNING_SECRET: 'signing-secret-xyz' };

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

/** The problem reported for one variable, or undefined. */
function problemFor(error: ConfigError, name: string): string | undefined {
  return error.problems.find((problem) => problem.startsWith(`${name}: `));
}

describe('loadConfig defaults', () => {
  it('given only a bot token and a signing secret, fills in every default for HTTP mode', () => {
    const expected: Config = {
      slack: {
        botToken: 'xoxb-111-222-abc',
        signingSecret: 'signing-secret-xyz',
        appToken: undefined,
        apiUrl: undefined,
        mode: 'http',
        postIntervalMs: 1000,
        updateIntervalMs: 1200,
        homeIntervalMs: 1000,
      },
      redis: { url: 'redis://127.0.0.1:6379', prefix: 'shipcheck' },
      role: 'all',
      port: 3000,
      metricsPort: undefined,
      shutdownTimeoutMs: 25_000,
      deployChannel: undefined,
      environments: ['production', 'staging', 'development'],
      reminders: { intervalMs: 4 * 3600 * 1000, quietHours: { start: '20:00', end: '08:00' } },
      checkins: { scheduleMs: [24 * 3600 * 1000, 48 * 3600 * 1000], escalateAfterMs: 2 * 3600 * 1000 },
      stakeholderChannels: [],
      access: { roles: {}, permissions: DEFAULT_PERMISSIONS, twoPersonRule: false },
      freezeWindows: [],
      retentionDays: 400,
      archiveDir: undefined,
      retroPromptAfterMs: 24 * 3600 * 1000,
      checklistsDir: 'checklists',
      logLevel: 'info',
      relayIntervalMs: 1000,
      api: { requestsPerMinute: 300 },
    };

    expect(loadConfig(MINIMAL_HTTP_ENV)).toEqual(expected);
  });

  it('treats blank values as not set', () => {
    const config = loadConfig({
      ...MINIMAL_HTTP_ENV,
      PORT: '  ',
      REDIS_URL: '',
      DEPLOY_CHANNEL: ' ',
      SLACK_APP_TOKEN: '',
      LOG_LEVEL: '',
    });

    expect(config).toMatchObject({
      port: 3000,
      redis: { url: 'redis://127.0.0.1:6379' },
      deployChannel: undefined,
      logLevel: 'info',
      slack: { mode: 'http', appToken: undefined },
    });
  });

  it('reads every variable it knows, trimmed', () => {
    const config = loadConfig({
      SLACK_BOT_TOKEN: ' xoxb-1 ',
      SLACK_SIGNING_SECRET: ' secret ',
      REDIS_URL: 'rediss://cache.internal:6380/2',
      REDIS_PREFIX: 'ship_check-2',
      PORT: '8080',
      DEPLOY_CHANNEL: 'C0123456789',
      DEPLOY_ENVIRONMENTS: ' Prod , staging,prod ',
      CHECKLISTS_DIR: '/etc/shipcheck',
      LOG_LEVEL: 'debug',
      SLACK_POST_INTERVAL_MS: '0',
      SLACK_UPDATE_INTERVAL_MS: '60000',
      SLACK_HOME_INTERVAL_MS: '250',
      SHIPCHECK_ROLE: ' worker ',
      METRICS_PORT: '9090',
      SHUTDOWN_TIMEOUT_MS: '10000',
      REMINDER_INTERVAL: '30m',
      QUIET_HOURS: '22:00-07:30',
      CHECKIN_SCHEDULE: ' 48h, 30s,24h ',
      CHECKIN_ESCALATE_AFTER: '90m',
      STAKEHOLDER_CHANNEL: ' C0STAKE1, G0STAKE2,C0STAKE1 ',
      ROLES: 'release_manager=U0LEAD,S0LEADS; qa = S0QA',
      PERMISSIONS: 'cancel=release_manager;start=anyone',
      TWO_PERSON_RULE: 'on',
      FREEZE_WINDOWS: 'prod: Fri 15:00 - Mon 08:00 Europe/Berlin',
      RETENTION_DAYS: '730',
      ARCHIVE_DIR: ' /data/archive/ ',
      RETRO_PROMPT_AFTER: '4h',
      RELAY_INTERVAL_MS: ' 250 ',
      API_REQUESTS_PER_MINUTE: '40',
    });

    expect(config).toEqual({
      slack: {
        botToken: 'xoxb-1',
        signingSecret: 'secret',
        appToken: undefined,
        apiUrl: undefined,
        mode: 'http',
        postIntervalMs: 0,
        updateIntervalMs: 60000,
        homeIntervalMs: 250,
      },
      redis: { url: 'rediss://cache.internal:6380/2', prefix: 'ship_check-2' },
      role: 'worker',
      port: 8080,
      metricsPort: 9090,
      shutdownTimeoutMs: 10000,
      deployChannel: 'C0123456789',
      environments: ['prod', 'staging'],
      reminders: { intervalMs: 30 * 60 * 1000, quietHours: { start: '22:00', end: '07:30' } },
      checkins: { scheduleMs: [30_000, 24 * 3600 * 1000, 48 * 3600 * 1000], escalateAfterMs: 90 * 60 * 1000 },
      stakeholderChannels: ['C0STAKE1', 'G0STAKE2'],
      access: {
        roles: { release_manager: ['U0LEAD', 'S0LEADS'], qa: ['S0QA'] },
        permissions: { ...DEFAULT_PERMISSIONS, cancel: ['release_manager'], start: 'anyone' },
        twoPersonRule: true,
      },
      freezeWindows: [
        {
          kind: 'weekly',
          env: 'prod',
          zone: 'Europe/Berlin',
          from: { weekday: 5, hour: 15, minute: 0 },
          to: { weekday: 1, hour: 8, minute: 0 },
          text: 'prod: Fri 15:00 - Mon 08:00 Europe/Berlin',
        },
      ],
      retentionDays: 730,
      archiveDir: '/data/archive/',
      retroPromptAfterMs: 4 * 3600 * 1000,
      checklistsDir: '/etc/shipcheck',
      logLevel: 'debug',
      relayIntervalMs: 250,
      api: { requestsPerMinute: 40 },
    });
  });

  it('refuses a reminder interval and quiet hours it cannot read, with the others', () => {
    const error = configError({
      ...MINIMAL_HTTP_ENV,
      REMINDER_INTERVAL: 'often',
      QUIET_HOURS: 'night',
      PORT: 'x',
    });
    expect(problemFor(error, 'REMINDER_INTERVAL')).toBeDefined();
    expect(problemFor(error, 'QUIET_HOURS')).toBeDefined();
    expect(problemFor(error, 'PORT')).toBeDefined();
  });

  it('refuses an unknown role and a shutdown timeout under a second', () => {
    const error = configError({
      ...MINIMAL_HTTP_ENV,
      SHIPCHECK_ROLE: 'scheduler',
      SHUTDOWN_TIMEOUT_MS: '10',
    });
    expect(problemFor(error, 'SHIPCHECK_ROLE')).toBeDefined();
    expect(problemFor(error, 'SHUTDOWN_TIMEOUT_MS')).toBeDefined();
  });

  it('reads ARCHIVE_DIR as an absolute folder, normalized, and leaves it unset when blank', () => {
    expect(loadConfig({ ...MINIMAL_HTTP_ENV, ARCHIVE_DIR: '/data//archive/../archive' }).archiveDir).toBe(
      '/data/archive',
    );
    expect(loadConfig({ ...MINIMAL_HTTP_ENV, ARCHIVE_DIR: '  ' }).archiveDir).toBeUndefined();
  });

  it('refuses a relative ARCHIVE_DIR, with every other problem', () => {
    const error = configError({ ...MINIMAL_HTTP_ENV, ARCHIVE_DIR: 'archive', PORT: 'x' });
    expect(problemFor(error, 'ARCHIVE_DIR')).toBe(
      'ARCHIVE_DIR: must be an absolute path to a folder, such as /data/archive',
    );
    expect(problemFor(error, 'PORT')).toBeDefined();
  });

  it('accepts a private channel id for DEPLOY_CHANNEL', () => {
    expect(loadConfig({ ...MINIMAL_HTTP_ENV, DEPLOY_CHANNEL: 'G0ABC' }).deployChannel).toBe('G0ABC');
  });
});

describe('loadConfig Socket Mode', () => {
  it('given SLACK_APP_TOKEN, runs in Socket Mode and needs no signing secret', () => {
    const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1-A-abc' });

    expect(config.slack).toMatchObject({
      mode: 'socket',
      appToken: 'xapp-1-A-abc',
      signingSecret: undefined,
    });
  });

  it('given neither an app token nor a signing secret, asks for the signing secret', () => {
    const error = configError({ SLACK_BOT_TOKEN: 'xoxb-1' });

    expect(error.problems).toHaveLength(1);
    expect(problemFor(error, 'SLACK_SIGNING_SECRET')).toMatch(/required in HTTP mode.*SLACK_APP_TOKEN/);
  });

  it('refuses an app token that is not an xapp- token', () => {
    const error = configError({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxb-wrong-kind' });

    expect(problemFor(error, 'SLACK_APP_TOKEN')).toMatch(/xapp-/);
  });
});

describe('loadConfig SLACK_API_URL', () => {
  it('adds a trailing slash', () => {
    const config = loadConfig({ ...MINIMAL_HTTP_ENV, SLACK_API_URL: 'http://127.0.0.1:4010/api' });

    expect(config.slack.apiUrl).toBe('http://127.0.0.1:4010/api/');
  });

  it('keeps a trailing slash that is already there', () => {
    const config = loadConfig({ ...MINIMAL_HTTP_ENV, SLACK_API_URL: 'https://slack.com/api/' });

    expect(config.slack.apiUrl).toBe('https://slack.com/api/');
  });

  it('refuses a URL that is not http(s)', () => {
    const error = configError({ ...MINIMAL_HTTP_ENV, SLACK_API_URL: 'ftp://slack.com/api' });

    expect(problemFor(error, 'SLACK_API_URL')).toMatch(/http\(s\) URL/);
  });
});

describe('loadConfig problems', () => {
  it('lists every problem at once, in one ConfigError', () => {
    const error = configError({ PORT: 'eighty', REDIS_URL: 'http://cache:6379', DEPLOY_CHANNEL: '#deploys' });

    expect(error.name).toBe('ConfigError');
    expect(error.problems).toHaveLength(5);
    expect(problemFor(error, 'SLACK_BOT_TOKEN')).toBe('SLACK_BOT_TOKEN: required');
    expect(problemFor(error, 'SLACK_SIGNING_SECRET')).toMatch(/required/);
    expect(problemFor(error, 'PORT')).toMatch(/port number/);
    expect(problemFor(error, 'REDIS_URL')).toMatch(/redis:\/\/ or rediss:\/\//);
    expect(problemFor(error, 'DEPLOY_CHANNEL')).toMatch(/channel ID/);
    for (const problem of error.problems) expect(error.message).toContain(`  - ${problem}`);
    expect(error.message).toMatch(/^shipcheck cannot start/);
  });

  it.each([
    ['PORT', '0'],
    ['PORT', '65536'],
    ['PORT', '80.5'],
    ['SLACK_POST_INTERVAL_MS', '-1'],
    ['SLACK_UPDATE_INTERVAL_MS', '60001'],
    ['SLACK_HOME_INTERVAL_MS', 'soon'],
    ['REDIS_PREFIX', 'has space'],
    ['REDIS_PREFIX', 'x'.repeat(33)],
    ['DEPLOY_ENVIRONMENTS', 'prod,bad name'],
    ['DEPLOY_ENVIRONMENTS', ' , '],
    ['LOG_LEVEL', 'loud'],
    ['DEPLOY_CHANNEL', 'deploys'],
    ['CHECKIN_SCHEDULE', '24h,tomorrow'],
    ['CHECKIN_SCHEDULE', '0s'],
    ['CHECKIN_ESCALATE_AFTER', 'two hours'],
    ['STAKEHOLDER_CHANNEL', 'C0OK,#announcements'],
    ['ROLES', 'qa=@alice'],
    ['ROLES', 'QA=U0ALICE'],
    ['ROLES', 'qa=U0A;qa=U0B'],
    ['PERMISSIONS', 'deploy=qa'],
    ['PERMISSIONS', 'cancel='],
    ['TWO_PERSON_RULE', 'maybe'],
    ['RETENTION_DAYS', '0'],
    ['RETRO_PROMPT_AFTER', 'tomorrow'],
    ['FREEZE_WINDOWS', 'production: Fri 15:00 - Mon 08:00 Mars/Olympus'],
  ])('refuses %s=%j and names the variable', (name, value) => {
    const error = configError({ ...MINIMAL_HTTP_ENV, [name]: value });

    expect(error.problems).toHaveLength(1);
    expect(problemFor(error, name)).toBeDefined();
  });

  it('never puts the value of a malformed secret in the message', () => {
    const secrets = {
      SLACK_BOT_TOKEN: 'secret-abc123',
      SLACK_APP_TOKEN: 'xoxp-app-secret-456',
      REDIS_URL: 'http://admin:hunter2-pw@cache.internal:6379',
    };
    const error = configError({ ...secrets, SLACK_SIGNING_SECRET: 'signing-789', PORT: 'secret-port-0' });

    expect(error.problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'PORT',
      'REDIS_URL',
      'SLACK_APP_TOKEN',
      'SLACK_BOT_TOKEN',
    ]);
    for (const value of [...Object.values(secrets), 'signing-789', 'hunter2', 'abc123', 'secret-port-0']) {
      expect(error.message).not.toContain(value);
      expect(JSON.stringify(error.problems)).not.toContain(value);
    }
  });

  it('never puts the value of a well-formed secret in the message when something else is wrong', () => {
    const error = configError({
      SLACK_BOT_TOKEN: 'xoxb-good-token-999',
      SLACK_APP_TOKEN: 'xapp-good-app-888',
      PORT: 'nope',
    });

    expect(error.message).not.toContain('xoxb-good-token-999');
    expect(error.message).not.toContain('xapp-good-app-888');
  });
});

describe('loadConfig audit keys', () => {
  const KEY = 'k'.repeat(40);
  const OLD = 'o'.repeat(40);

  it('requires AUDIT_KEY in production, and says how to make one', () => {
    const error = configError({ ...MINIMAL_HTTP_ENV, NODE_ENV: 'production' });
    expect(problemFor(error, 'AUDIT_KEY')).toMatch(/required in production.*openssl rand/);
    expect(loadConfig({ ...MINIMAL_HTTP_ENV }).auditKeys).toBeUndefined();
  });

  it('refuses a short key and malformed old keys without repeating any key', () => {
    const error = configError({
      ...MINIMAL_HTTP_ENV,
      AUDIT_KEY: 'short-secret-key',
      AUDIT_OLD_KEYS: `k0:tiny-old-secret,nocolon${OLD}`,
    });
    expect(problemFor(error, 'AUDIT_KEY')).toMatch(/at least 32 bytes/);
    expect(problemFor(error, 'AUDIT_OLD_KEYS')).toMatch(
      /entry 1 \(k0\): key must be at least 32 bytes; entry 2: write id:key/,
    );
    expect(error.message).not.toContain('short-secret-key');
    expect(error.message).not.toContain('tiny-old-secret');
    expect(error.message).not.toContain(OLD);
  });

  it('keeps the current key under its id and the old ones under theirs, for rotation', () => {
    const config = loadConfig({
      ...MINIMAL_HTTP_ENV,
      AUDIT_KEY: KEY,
      AUDIT_KEY_ID: 'k2',
      AUDIT_OLD_KEYS: `k1:${OLD}`,
    });
    expect(config.auditKeys?.currentId).toBe('k2');
    expect([...(config.auditKeys?.keys ?? new Map()).entries()]).toEqual([
      ['k1', OLD],
      ['k2', KEY],
    ]);
    const reused = configError({
      ...MINIMAL_HTTP_ENV,
      AUDIT_KEY: KEY,
      AUDIT_KEY_ID: 'k1',
      AUDIT_OLD_KEYS: `k1:${OLD}`,
    });
    expect(problemFor(reused, 'AUDIT_OLD_KEYS')).toMatch(/key id used twice/);
  });
});
