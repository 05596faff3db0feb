import path from 'node:path';
import { z } from 'zod';
import { type AccessPolicy, parsePermissions, parseRoles } from '../domain/access.js';
import { type AuditKeys, parseOldAuditKeys } from '../domain/audit-seal.js';
import { type FreezeWindow, parseFreezeWindows } from '../domain/freeze.js';
import { parseDuration, parseDurationList, parseQuietHours, type QuietHours } from '../domain/time.js';

// The only reader of process.env. Every problem is collected and reported at once,
// and values of secrets never appear in the message.

const optionalText = z
  .string()
  .transform((value) => value.trim())
  .transform((value) => (value === '' ? undefined : value))
  .optional();

/** Spacing of one kind of Slack call, in milliseconds (at most a minute). */
const slackIntervalMs = (defaultMs: number) =>
  optionalText.pipe(
    z.coerce
      .number<string | undefined>({ error: 'must be a number of milliseconds' })
      .int()
      .min(0)
      .max(60_000)
      .default(defaultMs),
  );

const EnvSchema = z.object({
  SLACK_BOT_TOKEN: z
    .string({ error: 'required: the bot token (xoxb-…) from "OAuth & Permissions"' })
    .trim()
    .regex(/^xoxb-\S+$/, 'must be a bot token starting with xoxb-'),
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_APP_TOKEN: optionalText.pipe(
    z
      .string()
      .regex(/^xapp-\S+$/, 'must be an app-level token starting with xapp- (Socket Mode)')
      .optional(),
  ),
  SLACK_API_URL: optionalText.pipe(
    z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://slack.com/api/' })
      .transform((url) => (url.endsWith('/') ? url : `${url}/`))
      .optional(),
  ),
  REDIS_URL: optionalText.pipe(
    z
      .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
      .default('redis://127.0.0.1:6379'),
  ),
  REDIS_PREFIX: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, 'use letters, digits, dashes and underscores (at most 32)')
      .default('shipcheck'),
  ),
  PORT: optionalText.pipe(
    z.coerce
      .number<string | undefined>({ error: 'must be a port number' })
      .int()
      .min(1)
      .max(65535)
      .default(3000),
  ),
  DEPLOY_CHANNEL: optionalText.pipe(
    z
      .string()
      .regex(/^[CG][A-Z0-9]{2,}$/, 'must be a channel ID such as C0123456789 (not a #name)')
      .optional(),
  ),
  DEPLOY_ENVIRONMENTS: optionalText.pipe(
    z
      .string()
      .default('production,staging,development')
      .transform((list) => [...new Set(list.split(',').map((name) => name.trim().toLowerCase()))])
      .pipe(
        z
          .array(
            z
              .string()
              .regex(
                /^[a-z0-9][a-z0-9_-]{0,31}$/,
                'environment names use lowercase letters, digits, - and _',
              ),
          )
          .min(1),
      ),
  ),
  STAKEHOLDER_CHANNEL: optionalText.pipe(
    z
      .string()
      .default('')
      .transform((list) => [
        ...new Set(
          list
            .split(',')
            .map((id) => id.trim())
            .filter(Boolean),
        ),
      ])
      .pipe(
        z
          .array(
            z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'list channel IDs such as C0123456789, comma-separated'),
          )
          .max(5, 'at most 5 channels'),
      ),
  ),
  TWO_PERSON_RULE: optionalText.pipe(
    z
      .enum(['on', 'off', 'true', 'false', '1', '0'], { error: 'write on or off' })
      .default('off')
      .transform((value) => value === 'on' || value === 'true' || value === '1'),
  ),
  // A year and a bit: beyond an annual audit.
  RETENTION_DAYS: optionalText.pipe(
    z.coerce
      .number<string | undefined>({ error: 'must be a number of days' })
      .int()
      .min(1)
      .max(3650)
      .default(400),
  ),
  // Absolute, so the archive never depends on the folder shipcheck happens to start in.
  ARCHIVE_DIR: optionalText.pipe(
    z
      .string()
      .refine((dir) => path.isAbsolute(dir), 'must be an absolute path to a folder, such as /data/archive')
      .transform((dir) => path.normalize(dir))
      .optional(),
  ),
  SHIPCHECK_ROLE: optionalText.pipe(z.enum(['web', 'worker', 'all']).default('all')),
  METRICS_PORT: optionalText.pipe(
    z.coerce
      .number<string | undefined>({ error: 'must be a port number' })
      .int()
      .min(1)
      .max(65535)
      .optional(),
  ),
  // fly.toml gives 30 s (kill_timeout) between SIGTERM and SIGKILL; stop a few seconds inside it.
  SHUTDOWN_TIMEOUT_MS: optionalText.pipe(
    z.coerce
      .number<string | undefined>({ error: 'must be a number of milliseconds' })
      .int()
      .min(1000)
      .max(300_000)
      .default(25_000),
  ),
  REMINDER_INTERVAL: optionalText.pipe(z.string().default('4h')),
  QUIET_HOURS: optionalText.pipe(z.string().default('20:00-08:00')),
  CHECKIN_SCHEDULE: optionalText.pipe(z.string().default('24h,48h')),
  CHECKIN_ESCALATE_AFTER: optionalText.pipe(z.string().default('2h')),
  RETRO_PROMPT_AFTER: optionalText.pipe(z.string().default('1d')),
  CHECKLISTS_DIR: optionalText.pipe(z.string().default('checklists')),
  LOG_LEVEL: optionalText.pipe(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  // Slack allows about one message per second per channel.
  SLACK_POST_INTERVAL_MS: slackIntervalMs(1000),
  // chat.update is Tier 3 (about 50 a minute per workspace): coalesced updates are spaced this far apart.
  SLACK_UPDATE_INTERVAL_MS: slackIntervalMs(1200),
  // views.publish is Tier 4 (about 100 a minute per workspace): Home refreshes keep to 60, leaving
  // room for the Home drawn when someone opens it.
  SLACK_HOME_INTERVAL_MS: slackIntervalMs(1000),
  NODE_ENV: optionalText,
  // Seals the audit trail (HMAC-SHA256). Never put in a message: only its length is checked here.
  AUDIT_KEY: optionalText.pipe(
    z
      .string()
      .refine((key) => Buffer.byteLength(key) >= 32, 'must be at least 32 bytes (openssl rand -base64 48)')
      .optional(),
  ),
  AUDIT_KEY_ID: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,16}$/, 'use letters, digits, dashes and underscores (at most 16)')
      .default('k1'),
  ),
  AUDIT_OLD_KEYS: optionalText,
  // Signs the links that open the status pages; without it the pages are off. Never shown anywhere.
  STATUS_LINK_KEY: optionalText.pipe(
    z
      .string()
      .refine((key) => Buffer.byteLength(key) >= 32, 'must be at least 32 bytes (openssl rand -base64 48)')
      .optional(),
  ),
  STATUS_BASE_URL: optionalText.pipe(
    z
      .url({ protocol: /^https?$/, error: 'must be the http(s) URL shipcheck is reached at' })
      .transform((url) => url.replace(/\/+$/, ''))
      .optional(),
  ),
  STATUS_LINK_TTL: optionalText.pipe(z.string().default('24h')),
  // How often each instance reads a workspace's board for the live /status tabs open on it.
  STATUS_LIVE_INTERVAL_MS: optionalText.pipe(
    z.coerce
      .number<string | undefined>({ error: 'must be a number of milliseconds' })
      .int()
      .min(200)
      .max(60_000)
      .default(5000),
  ),
  STATUS_PUBLIC: optionalText.pipe(
    z
      .enum(['true', 'false', '1', '0', 'on', 'off'], { error: 'write true or false' })
      .default('false')
      .transform((value) => value === 'true' || value === '1' || value === 'on'),
  ),
  STATUS_PUBLIC_TEAM: optionalText.pipe(
    z
      .string()
      .regex(/^T[A-Z0-9]{2,20}$/, 'must be a workspace ID such as T0123456789')
      .optional(),
  ),
  // Where success criteria with a `metric` are measured; unset, check-ins ask without numbers.
  PROMETHEUS_URL: optionalText.pipe(
    z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://prometheus:9090' })
      .optional(),
  ),
  // Secrets: only checked for presence, never echoed.
  PROMETHEUS_BEARER_TOKEN: optionalText,
  PROMETHEUS_USERNAME: optionalText,
  PROMETHEUS_PASSWORD: optionalText,
  PROMETHEUS_CA_FILE: optionalText.pipe(
    z
      .string()
      .refine((file) => path.isAbsolute(file), 'must be an absolute path to a PEM file')
      .optional(),
  ),
  PROMETHEUS_INSECURE_SKIP_VERIFY: optionalText.pipe(
    z
      .enum(['on', 'off', 'true', 'false', '1', '0'], { error: 'write on or off' })
      .default('off')
      .transform((value) => value === 'on' || value === 'true' || value === '1'),
  ),
  PROMETHEUS_TIMEOUT_MS: optionalText.pipe(
    z.coerce
      .number<string | undefined>({ error: 'must be a number of milliseconds' })
      .int()
      .min(100)
      .max(60_000)
      .default(5000),
  ),
  PROMETHEUS_RETRIES: optionalText.pipe(
    z.coerce.number<string | undefined>({ error: 'must be a whole number' }).int().min(0).max(5).default(2),
  ),
  // How often each instance looks for changes whose follow-ups nobody queued (an instance died).
  RELAY_INTERVAL_MS: optionalText.pipe(
    z.coerce
      .number<string | undefined>({ error: 'must be a number of milliseconds' })
      .int()
      .min(100)
      .max(60_000)
      .default(1000),
  ),
  // Requests one pipeline token may make per minute (a gate question that waits counts once).
  API_REQUESTS_PER_MINUTE: optionalText.pipe(
    z.coerce
      .number<string | undefined>({ error: 'must be a whole number' })
      .int()
      .min(1)
      .max(100_000)
      .default(300),
  ),
});

export interface Config {
  slack: {
    botToken: string;
    signingSecret: string | undefined;
    appToken: string | undefined;
    apiUrl: string | undefined;
    mode: 'http' | 'socket';
    postIntervalMs: number;
    updateIntervalMs: number;
    homeIntervalMs: number;
  };
  redis: { url: string; prefix: string };
  /** web answers Slack, worker runs the job queues, all does both. */
  role: 'web' | 'worker' | 'all';
  port: number;
  metricsPort: number | undefined;
  shutdownTimeoutMs: number;
  deployChannel: string | undefined;
  /** Where stakeholder announcements go unless a template or the release names its own channels. */
  stakeholderChannels: string[];
  /** Who holds which role, who may do what, and the two-person rule. */
  access: AccessPolicy;
  /** When each environment must not be deployed to, unless a release manager overrides. */
  freezeWindows: FreezeWindow[];
  /** How long finished releases and their records are kept. */
  retentionDays: number;
  /**
   * Where the retention sweep archives a release's deployment log before removing it. Unset: nothing
   * is removed, since a record nobody kept must not be destroyed.
   */
  archiveDir: string | undefined;
  /** How long after a release ends the team is asked for its retrospective, if nobody wrote it yet. */
  retroPromptAfterMs: number;
  environments: string[];
  reminders: { intervalMs: number; quietHours: QuietHours };
  /** Post-deploy check-ins: offsets from the deploy (a template may set its own) and when to escalate. */
  checkins: { scheduleMs: number[]; escalateAfterMs: number };
  checklistsDir: string;
  logLevel: string;
  /** How often the relay sweeps for unrelayed changes. */
  relayIntervalMs: number;
  /** The pipeline API's limit per token. */
  api: { requestsPerMinute: number };
  /** The keys that seal the audit trail; undefined without AUDIT_KEY (development). */
  auditKeys?: AuditKeys | undefined;
  /** The Prometheus server success criteria are measured on; undefined when PROMETHEUS_URL is unset. */
  prometheus?: PrometheusConfig | undefined;
  /** The status pages; undefined (off) without STATUS_LINK_KEY. */
  statusPages?: StatusPagesConfig | undefined;
}

export interface StatusPagesConfig {
  /** Signs and checks the links that open the pages. */
  linkKey: string;
  /** Where people open shipcheck, without a trailing slash: links are built on it. */
  baseUrl: string;
  linkTtlMs: number;
  liveIntervalMs: number;
  /** STATUS_PUBLIC: the workspace whose /status anyone may read (a wall display); undefined when private. */
  publicTeam: string | undefined;
}

export interface PrometheusConfig {
  url: string;
  bearerToken: string | undefined;
  basicAuth: { username: string; password: string } | undefined;
  caFile: string | undefined;
  insecureSkipVerify: boolean;
  timeoutMs: number;
  retries: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `shipcheck cannot start; fix these environment variables:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = EnvSchema.safeParse(env);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '(environment)');
        const isMissing = issue.code === 'invalid_type' && !env[name]?.trim();
        return `${name}: ${isMissing ? 'required' : issue.message}`;
      });
  // Checked outside the schema so that it is reported together with every other problem.
  if (!env.SLACK_APP_TOKEN?.trim() && !env.SLACK_SIGNING_SECRET?.trim()) {
    problems.push(
      'SLACK_SIGNING_SECRET: required in HTTP mode (from "Basic Information"), or set SLACK_APP_TOKEN for Socket Mode',
    );
  }
  const reminderInterval = parseDuration(env.REMINDER_INTERVAL?.trim() || '4h');
  if (!reminderInterval.ok) problems.push('REMINDER_INTERVAL: write a duration like 30s, 15m, 4h or 2d');
  const quietHours = parseQuietHours(env.QUIET_HOURS?.trim() || '20:00-08:00');
  if (!quietHours.ok)
    problems.push('QUIET_HOURS: write a local time range like 20:00-08:00 (00:00-00:00 for none)');
  const checkinSchedule = parseDurationList(env.CHECKIN_SCHEDULE?.trim() || '24h,48h');
  if (!checkinSchedule.ok)
    problems.push('CHECKIN_SCHEDULE: write offsets after the deploy like 24h,48h (comma-separated)');
  const roles = parseRoles(env.ROLES ?? '');
  if (!roles.ok) problems.push(`ROLES: ${roles.problems.join('; ')}`);
  const permissions = parsePermissions(env.PERMISSIONS ?? '');
  if (!permissions.ok) problems.push(`PERMISSIONS: ${permissions.problems.join('; ')}`);
  // Environment names come from DEPLOY_ENVIRONMENTS, checked above; a bad list there leaves none to match.
  const freezeWindows = parseFreezeWindows(
    env.FREEZE_WINDOWS ?? '',
    result.success ? result.data.DEPLOY_ENVIRONMENTS : [],
  );
  if (!freezeWindows.ok) problems.push(`FREEZE_WINDOWS: ${freezeWindows.problems.join('; ')}`);
  const retroPromptAfter = parseDuration(env.RETRO_PROMPT_AFTER?.trim() || '1d');
  if (!retroPromptAfter.ok) problems.push('RETRO_PROMPT_AFTER: write a duration like 4h or 1d');
  const statusLinkTtl = parseDuration(env.STATUS_LINK_TTL?.trim() || '24h');
  if (!statusLinkTtl.ok) problems.push('STATUS_LINK_TTL: write a duration like 1h or 24h');
  const statusKeySet = Boolean(env.STATUS_LINK_KEY?.trim());
  if (statusKeySet && !env.STATUS_BASE_URL?.trim())
    problems.push('STATUS_BASE_URL: required with STATUS_LINK_KEY: the https URL people open shipcheck at');
  if (result.success && result.data.STATUS_PUBLIC) {
    if (!statusKeySet)
      problems.push('STATUS_PUBLIC: needs STATUS_LINK_KEY (the status pages are off without it)');
    if (!env.STATUS_PUBLIC_TEAM?.trim())
      problems.push('STATUS_PUBLIC_TEAM: required with STATUS_PUBLIC=true: the workspace ID (T…) to show');
  }
  const escalateAfter = parseDuration(env.CHECKIN_ESCALATE_AFTER?.trim() || '2h');
  if (!escalateAfter.ok) problems.push('CHECKIN_ESCALATE_AFTER: write a duration like 30m or 2h');
  // NODE_ENV=production (the Dockerfile sets it) is where an unkeyed trail is not acceptable.
  const production = env.NODE_ENV?.trim() === 'production';
  if (production && !env.AUDIT_KEY?.trim()) {
    problems.push(
      'AUDIT_KEY: required in production (NODE_ENV=production); generate one with openssl rand -base64 48',
    );
  }
  if (env.PROMETHEUS_BEARER_TOKEN?.trim() && env.PROMETHEUS_USERNAME?.trim()) {
    problems.push('PROMETHEUS_BEARER_TOKEN: set either a bearer token or PROMETHEUS_USERNAME, not both');
  }
  if (Boolean(env.PROMETHEUS_USERNAME?.trim()) !== Boolean(env.PROMETHEUS_PASSWORD?.trim())) {
    problems.push('PROMETHEUS_PASSWORD: basic auth needs both PROMETHEUS_USERNAME and PROMETHEUS_PASSWORD');
  }
  const oldAuditKeys = parseOldAuditKeys(env.AUDIT_OLD_KEYS ?? '', env.AUDIT_KEY_ID?.trim() || 'k1');
  if (!oldAuditKeys.ok) problems.push(`AUDIT_OLD_KEYS: ${oldAuditKeys.problems.join('; ')}`);
  if (
    !result.success ||
    problems.length > 0 ||
    !oldAuditKeys.ok ||
    !reminderInterval.ok ||
    !quietHours.ok ||
    !checkinSchedule.ok ||
    !escalateAfter.ok ||
    !roles.ok ||
    !permissions.ok ||
    !freezeWindows.ok ||
    !retroPromptAfter.ok ||
    !statusLinkTtl.ok
  ) {
    throw new ConfigError(problems);
  }
  const parsed = result.data;
  return {
    slack: {
      botToken: parsed.SLACK_BOT_TOKEN,
      signingSecret: parsed.SLACK_SIGNING_SECRET,
      appToken: parsed.SLACK_APP_TOKEN,
      apiUrl: parsed.SLACK_API_URL,
      mode: parsed.SLACK_APP_TOKEN ? 'socket' : 'http',
      postIntervalMs: parsed.SLACK_POST_INTERVAL_MS,
      updateIntervalMs: parsed.SLACK_UPDATE_INTERVAL_MS,
      homeIntervalMs: parsed.SLACK_HOME_INTERVAL_MS,
    },
    redis: { url: parsed.REDIS_URL, prefix: parsed.REDIS_PREFIX },
    role: parsed.SHIPCHECK_ROLE,
    port: parsed.PORT,
    metricsPort: parsed.METRICS_PORT,
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS,
    deployChannel: parsed.DEPLOY_CHANNEL,
    stakeholderChannels: parsed.STAKEHOLDER_CHANNEL,
    access: { roles: roles.value, permissions: permissions.value, twoPersonRule: parsed.TWO_PERSON_RULE },
    freezeWindows: freezeWindows.value,
    retentionDays: parsed.RETENTION_DAYS,
    archiveDir: parsed.ARCHIVE_DIR,
    retroPromptAfterMs: retroPromptAfter.value,
    reminders: { intervalMs: reminderInterval.value, quietHours: quietHours.value },
    checkins: { scheduleMs: checkinSchedule.value, escalateAfterMs: escalateAfter.value },
    environments: parsed.DEPLOY_ENVIRONMENTS,
    checklistsDir: parsed.CHECKLISTS_DIR,
    logLevel: parsed.LOG_LEVEL,
    relayIntervalMs: parsed.RELAY_INTERVAL_MS,
    api: { requestsPerMinute: parsed.API_REQUESTS_PER_MINUTE },
    prometheus: parsed.PROMETHEUS_URL
      ? {
          url: parsed.PROMETHEUS_URL,
          bearerToken: parsed.PROMETHEUS_BEARER_TOKEN,
          basicAuth:
            parsed.PROMETHEUS_USERNAME && parsed.PROMETHEUS_PASSWORD
              ? { username: parsed.PROMETHEUS_USERNAME, password: parsed.PROMETHEUS_PASSWORD }
              : undefined,
          caFile: parsed.PROMETHEUS_CA_FILE,
          insecureSkipVerify: parsed.PROMETHEUS_INSECURE_SKIP_VERIFY,
          timeoutMs: parsed.PROMETHEUS_TIMEOUT_MS,
          retries: parsed.PROMETHEUS_RETRIES,
        }
      : undefined,
    statusPages:
      parsed.STATUS_LINK_KEY && parsed.STATUS_BASE_URL
        ? {
            linkKey: parsed.STATUS_LINK_KEY,
            baseUrl: parsed.STATUS_BASE_URL,
            linkTtlMs: statusLinkTtl.value,
            liveIntervalMs: parsed.STATUS_LIVE_INTERVAL_MS,
            publicTeam: parsed.STATUS_PUBLIC ? parsed.STATUS_PUBLIC_TEAM : undefined,
          }
        : undefined,
    auditKeys: parsed.AUDIT_KEY
      ? {
          currentId: parsed.AUDIT_KEY_ID,
          keys: new Map([...oldAuditKeys.value, [parsed.AUDIT_KEY_ID, parsed.AUDIT_KEY]]),
        }
      : undefined,
  };
}
