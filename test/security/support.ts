import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { MAINTENANCE_QUEUE } from '../../src/queues/retention-schedule.js';
import { SCHEDULE_QUEUE } from '../../src/queues/scheduler.js';
import { queuePrefix, SYNC_QUEUE } from '../../src/queues/sync-queue.js';
import { startTestApp, type TestApp, type TestAppOptions } from '../support/app-harness.js';
import { createTestPrefix, TEST_REDIS_URL } from '../support/redis.js';
import type { PostResult } from '../support/slack-requests.js';
import type { SlackStandIn } from '../support/slack-stand-in.js';

// Shared by the security tests: an app whose secrets are random and whose every log line and answer
// is kept, snapshots of what it holds in Redis, and readers of what Slack was shown.

export const TEAM_ID = 'T0001';

export interface SecurityApp extends TestApp {
  /** Every log line, at debug level, from start to stop. */
  logLines: string[];
  /** Every HTTP answer the app gave to requests sent through `command` and `interact`. */
  answers: PostResult[];
  /** Values that must never leave the process. */
  secrets: string[];
}

/**
 * The real app with a random bot token and signing secret (and app token, in Socket Mode), so that a
 * leak of any is findable.
 */
export async function startSecurityApp(
  options: TestAppOptions & { socketMode?: boolean } = {},
): Promise<SecurityApp> {
  const { socketMode = false, ...appOptions } = options;
  const logLines: string[] = [];
  const answers: PostResult[] = [];
  const botToken = `xoxb-${randomBytes(12).toString('hex')}`;
  const appToken = `xapp-1-${randomBytes(12).toString('hex')}`;
  const signingSecret = randomBytes(16).toString('hex');
  const app = await startTestApp({
    prefix: createTestPrefix('security'),
    ...appOptions,
    signingSecret,
    logLines,
    env: {
      SLACK_BOT_TOKEN: botToken,
      ...(socketMode ? { SLACK_APP_TOKEN: appToken, SLACK_SIGNING_SECRET: '' } : {}),
      ...appOptions.env,
    },
  });
  // The tokens' random parts are searched for too: the log scrubber only knows their prefixed shape.
  const secrets = [botToken, botToken.slice('xoxb-'.length), signingSecret];
  if (socketMode) secrets.push(appToken, appToken.slice('xapp-1-'.length));
  const { command, interact } = app;
  return Object.assign(app, {
    logLines,
    answers,
    secrets,
    async command(...args: Parameters<TestApp['command']>) {
      const result = await command(...args);
      answers.push(result);
      return result;
    },
    async interact(...args: Parameters<TestApp['interact']>) {
      const result = await interact(...args);
      answers.push(result);
      return result;
    },
  });
}

/** Checks that no secret is in a log line, an HTTP answer, or anything sent to Slack but the credential itself. */
export function expectNoSecretsLeaked(app: SecurityApp): void {
  // Without log lines the check below would pass for nothing.
  expect(app.logLines.length).toBeGreaterThan(0);
  const standIn = app.standIn;
  const places: Record<string, string> = {
    'log lines': app.logLines.join('\n'),
    'HTTP answers': app.answers.map((answer) => answer.body).join('\n'),
    // Web API calls may carry the token as their `token` argument: that is the credential, sent to Slack.
    'Slack API arguments': JSON.stringify(standIn.calls.map(({ args: { token: _token, ...args } }) => args)),
    'response_url posts': JSON.stringify(standIn.responses),
    'uploaded files': JSON.stringify(standIn.files),
  };
  for (const [place, text] of Object.entries(places)) {
    for (const secret of app.secrets) {
      expect(text.includes(secret), `a secret (${secret.slice(0, 4)}…) in ${place}`).toBe(false);
    }
  }
}

// ---- Redis ------------------------------------------------------------------------------------

async function withRedis<T>(work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

async function readKey(redis: Redis, key: string): Promise<unknown> {
  const type = await redis.type(key);
  switch (type) {
    case 'string':
      return { type, value: await redis.get(key) };
    case 'hash':
      return { type, value: Object.entries(await redis.hgetall(key)).sort() };
    case 'set':
      return { type, value: (await redis.smembers(key)).sort() };
    case 'zset':
      return { type, value: await redis.zrange(key, 0, -1, 'WITHSCORES') };
    case 'list':
      return { type, value: await redis.lrange(key, 0, -1) };
    case 'stream':
      return { type, value: await redis.xrange(key, '-', '+') };
    default:
      // Gone between SCAN and TYPE.
      return { type };
  }
}

/** The relay's cursor: it moves with every event, a refusal's included. */
const RELAY_CURSOR_FIELD = 'relayed';

/**
 * Every key shipcheck keeps data in (releases, audit trails, locks, deliveries, applied requests), with
 * its content. BullMQ's own keys, the pacers and the relay's bookkeeping (which releases wait for it,
 * how far it got, who holds one, which wait for a sync) change on their own and are left out.
 */
export async function snapshotData(prefix: string): Promise<Record<string, unknown>> {
  return withRedis(async (redis) => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    const dataKeys = keys
      .filter(
        (key) =>
          !key.startsWith(`${prefix}:{jobs}:`) &&
          !key.startsWith(`${prefix}:pace:`) &&
          !key.startsWith(`${prefix}:lock:`) &&
          !key.endsWith(':relay') &&
          !key.endsWith(':relaylease') &&
          !key.endsWith(':unsynced') &&
          // Names of the people an (audited) event names: looked up after it, not a change of state.
          !key.endsWith(':people'),
      )
      .sort();
    const snapshot: Record<string, unknown> = {};
    for (const key of dataKeys) {
      const content = (await readKey(redis, key)) as { type: string; value?: [string, string][] };
      if (content.type === 'hash' && content.value)
        content.value = content.value.filter(([field]) => field !== RELAY_CURSOR_FIELD);
      snapshot[key] = content;
    }
    return snapshot;
  });
}

export function auditKey(prefix: string, releaseId: string, teamId = TEAM_ID): string {
  return `${prefix}:{${teamId}}:release:${releaseId}:audit`;
}

export interface AuditEntry {
  id: string;
  fields: Record<string, string>;
}

export async function readAudit(prefix: string, releaseId: string, teamId = TEAM_ID): Promise<AuditEntry[]> {
  return withRedis(async (redis) => {
    const entries = await redis.xrange(auditKey(prefix, releaseId, teamId), '-', '+');
    return entries.map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let index = 0; index + 1 < flat.length; index += 2) fields[flat[index]!] = flat[index + 1]!;
      return { id, fields };
    });
  });
}

/** The release's fields and items: what a refused request must leave as it was. */
export async function readReleaseState(prefix: string, releaseId: string, teamId = TEAM_ID) {
  return withRedis(async (redis) => {
    const key = `${prefix}:{${teamId}}:release:${releaseId}`;
    const [meta, items] = await Promise.all([redis.hgetall(key), redis.hgetall(`${key}:items`)]);
    return { meta, items };
  });
}

/** Jobs waiting to run now (message syncs, announcements); future reminders don't count. */
async function countPendingJobs(prefix: string): Promise<number> {
  return withRedis(async (redis) => {
    const jobs = queuePrefix(prefix);
    const counts = await Promise.all([
      ...[SYNC_QUEUE, SCHEDULE_QUEUE].flatMap((queue) => [
        redis.llen(`${jobs}:${queue}:wait`),
        redis.llen(`${jobs}:${queue}:active`),
        redis.zcard(`${jobs}:${queue}:prioritized`),
      ]),
      // A sync retried after a failure waits as a delayed job.
      redis.zcard(`${jobs}:${SYNC_QUEUE}:delayed`),
      // The retention sweep an instance schedules when it starts writes its cut-off when it runs; one
      // due now counts (BullMQ scores delayed jobs by due time × 4096).
      redis.llen(`${jobs}:${MAINTENANCE_QUEUE}:wait`),
      redis.llen(`${jobs}:${MAINTENANCE_QUEUE}:active`),
      redis.zcount(`${jobs}:${MAINTENANCE_QUEUE}:delayed`, '-inf', Date.now() * 4096 + 4095),
    ]);
    return counts.reduce((sum, count) => sum + count, 0);
  });
}

/**
 * Waits until the app has nothing left to do now: no job waiting or running, and the data the same
 * on two looks in a row. Returns that data.
 */
export async function waitUntilSettled(app: TestApp, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let previous: Record<string, unknown> | undefined;
  for (;;) {
    const pending = await countPendingJobs(app.prefix);
    const snapshot = await snapshotData(app.prefix);
    if (pending === 0 && previous !== undefined && JSON.stringify(previous) === JSON.stringify(snapshot))
      return snapshot;
    if (Date.now() > deadline) throw new Error(`app not settled after ${timeoutMs} ms (${pending} jobs)`);
    previous = pending === 0 ? snapshot : undefined;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ---- What Slack was shown -----------------------------------------------------------------------

/** Text a user typed, full of Slack markup: a channel ping, a mention, a disguised link, HTML-ish bits. */
export const MARKUP = '<!channel> <@U0INJECT> see <https://evil.example|click> R&D <b>x</b>';
/** The same as Slack must receive it in mrkdwn to show it literally. */
export const MARKUP_ESCAPED =
  '&lt;!channel&gt; &lt;@U0INJECT&gt; see &lt;https://evil.example|click&gt; R&amp;D &lt;b&gt;x&lt;/b&gt;';
/** Pieces of MARKUP that, found raw in mrkdwn, would ping, mention or link. */
export const RAW_MARKUP = ['<!channel>', '<@U0INJECT>', '<https://evil.example', 'R&D', '<b>'];

export interface ShownText {
  /** Where Slack got it: the method or response_url, and the path inside. */
  where: string;
  text: string;
  format: 'mrkdwn' | 'plain_text';
}

const MESSAGE_METHODS = new Set([
  'chat.postMessage',
  'chat.update',
  'chat.postEphemeral',
  'chat.scheduleMessage',
]);
const VIEW_METHODS = new Set(['views.open', 'views.update', 'views.push', 'views.publish']);

function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function collectTextObjects(value: unknown, where: string, into: ShownText[]): void {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) collectTextObjects(item, `${where}[${index}]`, into);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const object = value as Record<string, unknown>;
  if ((object.type === 'mrkdwn' || object.type === 'plain_text') && typeof object.text === 'string') {
    into.push({ where, text: object.text, format: object.type });
    return;
  }
  for (const [key, child] of Object.entries(object)) collectTextObjects(child, `${where}.${key}`, into);
}

/** A message's own `text` is mrkdwn unless it says otherwise; its blocks carry typed text objects. */
function collectMessage(message: Record<string, unknown>, where: string, into: ShownText[]): void {
  if (typeof message.text === 'string') {
    into.push({
      where: `${where}.text`,
      text: message.text,
      format: message.mrkdwn === false ? 'plain_text' : 'mrkdwn',
    });
  }
  collectTextObjects(parseMaybeJson(message.blocks), `${where}.blocks`, into);
  collectTextObjects(parseMaybeJson(message.attachments), `${where}.attachments`, into);
}

/** Every text Slack received from the app: messages, updates, ephemerals, modals, Home, replies, file comments. */
export function shownTexts(standIn: SlackStandIn): ShownText[] {
  const texts: ShownText[] = [];
  standIn.calls.forEach((call, index) => {
    const where = `${call.method}#${index}`;
    if (MESSAGE_METHODS.has(call.method)) collectMessage(call.args, where, texts);
    else if (VIEW_METHODS.has(call.method))
      collectTextObjects(parseMaybeJson(call.args.view), `${where}.view`, texts);
    else if (call.method === 'files.completeUploadExternal' && typeof call.args.initial_comment === 'string')
      texts.push({ where: `${where}.initial_comment`, text: call.args.initial_comment, format: 'mrkdwn' });
  });
  standIn.responses.forEach((response, index) => {
    const body = response.body;
    if (typeof body === 'object' && body !== null)
      collectMessage(body as Record<string, unknown>, `response_url#${index}`, texts);
  });
  return texts;
}

/** No mrkdwn text holds user markup raw, and nothing was escaped twice. */
export function expectNoRawMarkup(standIn: SlackStandIn, raw: readonly string[] = RAW_MARKUP): void {
  const texts = shownTexts(standIn);
  expect(texts.length).toBeGreaterThan(0);
  const offending = texts.filter(
    ({ text, format }) =>
      format === 'mrkdwn' && (raw.some((piece) => text.includes(piece)) || /&amp;(?:lt|gt|amp);/.test(text)),
  );
  expect(offending).toEqual([]);
}

/** The mrkdwn texts that show `escaped`: where the user's text was echoed. */
export function whereShown(standIn: SlackStandIn, escaped: string = MARKUP_ESCAPED): string[] {
  return shownTexts(standIn)
    .filter(({ text, format }) => format === 'mrkdwn' && text.includes(escaped))
    .map(({ where }) => where);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** FREEZE_WINDOWS freezing production from an hour ago to an hour from now, as a weekly window. */
export function productionFrozenNow(): string {
  const at = (offsetMs: number) => {
    const date = new Date(Date.now() + offsetMs);
    const time = `${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')}`;
    return `${DAYS[date.getUTCDay()]} ${time}`;
  };
  return `production: ${at(-3600_000)} - ${at(3600_000)} UTC`;
}
