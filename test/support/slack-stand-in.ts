import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  nameFromId,
  SLACK_APP_ID,
  SLACK_BOT_ID,
  SLACK_BOT_USER_ID,
  SLACK_TEAM,
  type SlackBlock,
  type SlackElement,
  type SlackView,
} from './slack-requests.js';

// A local stand-in for the Slack Web API (https://slack.com/api/<method>) and for response_urls.
// It keeps the messages and views the app produced, so tests can assert what a user would see.

export type SlackArgs = Record<string, unknown>;

export type Misbehaviour =
  | { kind: 'rate_limited'; retryAfterSec: number }
  | { kind: 'server_error'; status?: number }
  /** Slack did the work (posted, updated), but its answer is lost: a 5xx from a proxy, a dropped reply. */
  | { kind: 'server_error_after_applying'; status?: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'error'; error: string };

export interface SlackCall {
  method: string;
  args: SlackArgs;
  /** Arrival time, ms since the epoch. */
  at: number;
  token: string | undefined;
  /** HTTP status of the answer. */
  answered: number;
  /** `error` of an `{ok:false}` answer. */
  error?: string;
  misbehaviour?: Misbehaviour['kind'];
}

export interface StoredMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks: SlackBlock[];
  /** Message metadata, as the app last set it with chat.postMessage or chat.update. */
  metadata?: MessageMetadata;
  /** How many chat.update calls changed it. */
  updates: number;
}

export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

export interface EphemeralMessage {
  channel: string;
  user: string;
  text: string;
  blocks: SlackBlock[];
  thread_ts?: string;
  message_ts: string;
  at: number;
}

export interface RecordedView {
  /** The method that created the view (views.update changes `view` in place). */
  method: 'views.open' | 'views.push' | 'views.publish';
  trigger_id?: string;
  /** For views.publish: whose App Home it is. */
  user_id?: string;
  /** The view as Slack returns it, in its latest state. */
  view: SlackView;
  updates: number;
  at: number;
}

/** A file uploaded with files.getUploadURLExternal, its bytes, and where completeUploadExternal shared it. */
export interface UploadedFile {
  id: string;
  filename: string;
  /** The bytes as text (shipcheck uploads text files). */
  content: string;
  title?: string;
  channel?: string;
  thread_ts?: string;
  initial_comment?: string;
  /** Whether completeUploadExternal was called for it. */
  completed: boolean;
}

export interface RecordedResponse {
  tag: string;
  /** The JSON body, or the raw text when it is not JSON. */
  body: unknown;
  at: number;
}

export interface SlackUser {
  id: string;
  team_id: string;
  name: string;
  real_name: string;
  deleted: boolean;
  is_bot: boolean;
  tz: string;
  tz_label: string;
  tz_offset: number;
  profile: { display_name: string; real_name: string; [key: string]: unknown };
}

/** Changes to the default user; other user fields (is_admin, …) may be added too. */
export type SlackUserPatch = Partial<Omit<SlackUser, 'profile'>> & {
  profile?: Partial<SlackUser['profile']>;
  [key: string]: unknown;
};

/** Replaces or adds a Web API method. Return the whole response body, `ok` included. */
export type MethodHandler = (args: SlackArgs, call: SlackCall) => Record<string, unknown>;

type ApiResult = Record<string, unknown> & { ok: boolean; error?: string };

interface Rule {
  method: string;
  /** Taken in turn, one per matching call; `undefined` answers that call normally. */
  behaviours: (Misbehaviour | undefined)[];
  remaining: number;
  /** Epoch ms after which the rule no longer applies; none for rules counted by calls only. */
  until?: number;
  /** Only calls about this conversation (their `channel` argument). */
  channel?: string;
  taken: number;
}

const fail = (error: string): ApiResult => ({ ok: false, error });

function asString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Objects may arrive JSON-encoded inside a JSON body too (some clients do that for `view`). */
function asObject(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Slack's flags arrive as booleans in JSON bodies and as "true"/"1" in form bodies. */
function isTrue(value: unknown): boolean {
  return value === true || value === 1 || value === 'true' || value === '1';
}

/** User ids (U…, or W… on Enterprise Grid) are not conversations. */
function isUserId(id: string): boolean {
  return /^[UW]/.test(id);
}

function parseForm(raw: string): SlackArgs {
  const args: SlackArgs = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    const trimmed = value.trimStart();
    // `text` stays a string even when it looks like JSON ("[1,2]" is a valid message).
    if (name !== 'text' && (trimmed.startsWith('[') || trimmed.startsWith('{'))) {
      try {
        args[name] = JSON.parse(value);
        continue;
      } catch {
        // not JSON after all
      }
    }
    args[name] = value;
  }
  return args;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  send(res, status, JSON.stringify(body), { 'content-type': 'application/json; charset=utf-8', ...headers });
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function oneLine(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export class SlackStandIn {
  readonly calls: SlackCall[] = [];
  readonly responses: RecordedResponse[] = [];
  readonly ephemerals: EphemeralMessage[] = [];
  readonly views: RecordedView[] = [];
  readonly files: UploadedFile[] = [];

  private readonly stored: StoredMessage[] = [];
  private readonly rules: Rule[] = [];
  private readonly users = new Map<string, SlackUserPatch>();
  private readonly channels = new Map<string, Record<string, unknown>>();
  private readonly userGroups = new Map<string, string[]>();
  private readonly handlers = new Map<string, MethodHandler>();
  private readonly timers = new Set<NodeJS.Timeout>();
  // Never reset, so a ts or id kept from an earlier test cannot match a newer message or view.
  private sequence = 0;
  private lastTsMicros = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<SlackStandIn> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const standIn = new SlackStandIn(server, (server.address() as AddressInfo).port);
    server.on('request', (req, res) => {
      standIn.route(req, res).catch((error: unknown) => {
        console.error('Slack stand-in failed to answer', req.method, req.url, error);
        if (!res.headersSent) send(res, 500, `stand-in failure: ${String(error)}`);
        else res.destroy();
      });
    });
    return standIn;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closed = new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
    // fetch keeps connections alive; without this close() would wait for them to time out.
    this.server.closeAllConnections();
    await closed;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Pass as the WebClient's `slackApiUrl` (SLACK_API_URL). */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  /** A response_url whose POSTs are recorded in `responses` under `tag`. */
  responseUrl(tag: string = randomBytes(6).toString('hex')): string {
    return `${this.baseUrl}/respond/${encodeURIComponent(tag)}`;
  }

  responsesTo(tag: string): RecordedResponse[] {
    return this.responses.filter((response) => response.tag === tag);
  }

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Current messages (after updates) in posting order; copies, so later updates don't change them. */
  messages(channel?: string): StoredMessage[] {
    return this.stored.filter((message) => channel === undefined || message.channel === channel).map(clone);
  }

  /** Deletes a message as a person in Slack would; later updates to it fail with message_not_found. */
  deleteMessage(channel: string, ts: string): void {
    const index = this.stored.findIndex((message) => message.channel === channel && message.ts === ts);
    if (index === -1) throw new Error(`no message ${ts} in ${channel} to delete`);
    this.stored.splice(index, 1);
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    const found = this.find(channel, ts);
    return found && clone(found);
  }

  setUser(id: string, patch: SlackUserPatch): void {
    const previous = this.users.get(id) ?? {};
    this.users.set(id, { ...previous, ...patch, profile: { ...previous.profile, ...patch.profile } });
  }

  /** Sets the members of a user group (S…), as usergroups.users.list will answer. */
  setUserGroup(id: string, members: string[]): void {
    this.userGroups.set(id, [...members]);
  }

  setChannel(id: string, patch: Record<string, unknown>): void {
    this.channels.set(id, { ...this.channels.get(id), ...patch });
  }

  /** Adds a method the stand-in doesn't know, or replaces a built-in one. */
  handle(method: string, handler: MethodHandler): void {
    this.handlers.set(method, handler);
  }

  /**
   * Makes the next `times` calls to `method` ('*' for any) misbehave. The first registered rule
   * that matches and still has calls left applies. With `channel`, only calls about that
   * conversation count, as Slack limits posts per channel.
   */
  misbehave(
    method: string,
    behaviour: Misbehaviour,
    times = Number.POSITIVE_INFINITY,
    options: { channel?: string } = {},
  ): void {
    if (!(times > 0)) throw new Error(`misbehave(${method}): times must be positive, got ${times}`);
    this.rules.push({
      method,
      behaviours: [behaviour],
      remaining: times,
      ...(options.channel === undefined ? {} : { channel: options.channel }),
      taken: 0,
    });
  }

  /**
   * For the next `durationMs`, calls to `method` ('*' for any) misbehave in turn as `pattern` says,
   * one entry per call, round and round: Slack having a bad spell rather than a bad call. An
   * `undefined` entry lets that call through. Rules registered earlier still come first. `channel`
   * as for misbehave().
   */
  misbehaveFor(
    method: string,
    pattern: (Misbehaviour | undefined)[],
    durationMs: number,
    options: { channel?: string } = {},
  ): void {
    if (pattern.length === 0) throw new Error(`misbehaveFor(${method}): the pattern is empty`);
    if (!(durationMs > 0)) throw new Error(`misbehaveFor(${method}): duration must be positive`);
    this.rules.push({
      method,
      behaviours: [...pattern],
      remaining: Number.POSITIVE_INFINITY,
      until: Date.now() + durationMs,
      ...(options.channel === undefined ? {} : { channel: options.channel }),
      taken: 0,
    });
  }

  clearMisbehaviour(): void {
    this.rules.length = 0;
  }

  /**
   * Clears everything recorded (calls, messages, ephemerals, views, responses) and the misbehaviour
   * rules. Users, channels and custom handlers stay.
   */
  reset(): void {
    this.calls.length = 0;
    this.responses.length = 0;
    this.ephemerals.length = 0;
    this.views.length = 0;
    this.files.length = 0;
    this.stored.length = 0;
    this.rules.length = 0;
  }

  /** Polls `predicate` until it returns something truthy, and resolves with that. */
  async waitFor<T>(predicate: () => T, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const result = predicate();
        if (result) return result as NonNullable<T>;
      } catch (error) {
        // Lets predicates use expect(); the last failure goes into the timeout message.
        lastError = error;
      }
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    const reason = lastError === undefined ? '' : `\nLast check threw: ${String(lastError)}`;
    throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.${reason}\n${this.describeCalls()}`);
  }

  /** A readable list of recorded calls and responses, for failure messages. */
  describeCalls(): string {
    const start = this.calls[0]?.at ?? this.responses[0]?.at ?? 0;
    const lines = this.calls.map((call) => {
      const details = ['channel', 'ts', 'user', 'text']
        .map((name) => [name, asString(call.args[name])] as const)
        .filter(([, value]) => value !== undefined)
        .map(([name, value]) => `${name}=${JSON.stringify(oneLine(value ?? ''))}`);
      const outcome = `${call.answered}${call.error ? ` ${call.error}` : ''}`;
      return `  +${call.at - start}ms ${call.method} → ${outcome} ${details.join(' ')}`.trimEnd();
    });
    const responses = this.responses.map(
      (response) =>
        `  +${response.at - start}ms response_url ${response.tag}: ${oneLine(JSON.stringify(response.body))}`,
    );
    return [
      `Recorded Slack API calls (${this.calls.length}):`,
      ...(lines.length ? lines : ['  (none)']),
      ...(responses.length ? [`Recorded response_url posts (${responses.length}):`, ...responses] : []),
    ].join('\n');
  }

  // ------------------------------------------------------------------------------------------

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const raw = await readBody(req);
    if (req.method === 'POST' && url.pathname.startsWith('/upload/')) {
      const file = this.files.find((candidate) => candidate.id === url.pathname.slice('/upload/'.length));
      if (!file) return void send(res, 404, 'no such upload', { 'content-type': 'text/plain' });
      file.content = raw;
      send(res, 200, `OK - ${Buffer.byteLength(raw)}`, { 'content-type': 'text/plain' });
      return;
    }
    if (req.method === 'POST' && url.pathname.startsWith('/respond/')) {
      this.recordResponse(decodeURIComponent(url.pathname.slice('/respond/'.length)), raw);
      send(res, 200, 'ok', { 'content-type': 'text/plain' });
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      await this.answerApi(req, res, decodeURIComponent(url.pathname.slice('/api/'.length)), url, raw);
      return;
    }
    send(res, 404, 'not found', { 'content-type': 'text/plain' });
  }

  private recordResponse(tag: string, raw: string): void {
    let body: unknown = raw;
    try {
      body = JSON.parse(raw);
    } catch {
      // keep the raw text
    }
    this.responses.push({ tag, body, at: Date.now() });
  }

  private async answerApi(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    raw: string,
  ): Promise<void> {
    const contentType = req.headers['content-type'] ?? '';
    const args: SlackArgs = Object.fromEntries(url.searchParams);
    let invalidJson = false;
    if (contentType.startsWith('application/json')) {
      const body = raw === '' ? {} : asObject(raw);
      if (body === undefined) invalidJson = true;
      else Object.assign(args, body);
    } else {
      Object.assign(args, parseForm(raw));
    }
    const authorization = req.headers.authorization;
    const token = authorization?.startsWith('Bearer ')
      ? authorization.slice('Bearer '.length).trim()
      : undefined;
    const call: SlackCall = { method, args, at: Date.now(), token, answered: 200 };
    this.calls.push(call);

    const behaviour = this.takeRule(method, asString(args.channel));
    if (behaviour) call.misbehaviour = behaviour.kind;
    switch (behaviour?.kind) {
      case 'rate_limited':
        call.answered = 429;
        call.error = 'ratelimited';
        sendJson(res, 429, fail('ratelimited'), { 'retry-after': String(behaviour.retryAfterSec) });
        return;
      case 'server_error':
      case 'server_error_after_applying': {
        const status = behaviour.status ?? 500;
        if (behaviour.kind === 'server_error_after_applying' && !invalidJson)
          this.dispatch(method, args, call);
        call.answered = status;
        send(res, status, `${status} ${STATUS_CODES[status] ?? 'Server Error'}`, {
          'content-type': 'text/plain',
        });
        return;
      }
      case 'error':
        call.error = behaviour.error;
        sendJson(res, 200, fail(behaviour.error));
        return;
      case 'slow':
        await this.delay(behaviour.delayMs);
        break;
      default:
        break;
    }

    const result = invalidJson ? fail('invalid_json') : this.dispatch(method, args, call);
    if (!result.ok) call.error = result.error;
    sendJson(res, 200, result);
  }

  private takeRule(method: string, channel: string | undefined): Misbehaviour | undefined {
    const now = Date.now();
    const rule = this.rules.find(
      (r) =>
        r.remaining > 0 &&
        (r.until === undefined || now < r.until) &&
        (r.method === '*' || r.method === method) &&
        (r.channel === undefined || r.channel === channel),
    );
    if (!rule) return undefined;
    rule.remaining -= 1;
    rule.taken += 1;
    return rule.behaviours[(rule.taken - 1) % rule.behaviours.length];
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private dispatch(method: string, args: SlackArgs, call: SlackCall): ApiResult {
    if (call.token === undefined || call.token === '') return fail('not_authed');
    // Bot and user tokens (xox…) for everything; app-level tokens (xapp-…) open Socket Mode connections.
    const isAppToken = call.token.startsWith('xapp-');
    if (!call.token.startsWith('xox') && !(isAppToken && method === 'apps.connections.open'))
      return fail('invalid_auth');
    const custom = this.handlers.get(method);
    if (custom) return { ok: true, ...custom(args, call) } as ApiResult;
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: `https://${SLACK_TEAM.domain}.slack.com/`,
          team: SLACK_TEAM.name,
          user: 'shipcheck',
          team_id: SLACK_TEAM.id,
          user_id: SLACK_BOT_USER_ID,
          bot_id: SLACK_BOT_ID,
          is_enterprise_install: false,
        };
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.updateMessage(args);
      case 'chat.postEphemeral':
        return this.postEphemeral(args);
      case 'chat.getPermalink':
        return this.permalink(args);
      case 'views.open':
      case 'views.push':
        return this.openView(method, args);
      case 'views.update':
        return this.updateView(args);
      case 'views.publish':
        return this.publishView(args);
      case 'users.info': {
        const id = asString(args.user);
        return id ? { ok: true, user: this.user(id) } : fail('user_not_found');
      }
      case 'files.getUploadURLExternal':
        return this.getUploadUrl(args);
      case 'files.completeUploadExternal':
        return this.completeUpload(args);
      case 'usergroups.users.list': {
        const members = this.userGroups.get(asString(args.usergroup) ?? '');
        return members ? { ok: true, users: [...members] } : fail('no_such_subteam');
      }
      case 'conversations.info': {
        const id = asString(args.channel);
        return id ? { ok: true, channel: this.channel(id) } : fail('channel_not_found');
      }
      case 'conversations.open':
        return this.openConversation(args);
      case 'conversations.history':
        return this.history(args);
      case 'conversations.replies':
        return this.replies(args);
      default:
        return fail('unknown_method');
    }
  }

  // ---- messages -----------------------------------------------------------------------------

  /** Like Slack's: the posting time in microseconds, always increasing, so `oldest` filters work on real time. */
  private nextTs(): string {
    this.sequence += 1;
    this.lastTsMicros = Math.max(this.lastTsMicros + 100, Date.now() * 1000);
    const micros = this.lastTsMicros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  private find(channel: string, ts: string): StoredMessage | undefined {
    return this.stored.find((message) => message.channel === channel && message.ts === ts);
  }

  /** Slack gives blocks and interactive elements an id when the app sent none. */
  private withIds(blocks: unknown): SlackBlock[] {
    if (!Array.isArray(blocks)) return [];
    const copy = clone(blocks) as SlackBlock[];
    const name = () => randomBytes(4).toString('base64url').slice(0, 5);
    const withActionId = (element: SlackElement | undefined) => {
      if (element && element.type !== 'image' && element.action_id === undefined) element.action_id = name();
    };
    for (const block of copy) {
      block.block_id ??= name();
      if (block.type === 'section') withActionId(block.accessory);
      if (block.type === 'actions') for (const element of block.elements ?? []) withActionId(element);
      if (block.type === 'input') withActionId(block.element);
    }
    return copy;
  }

  /** Messages to a user id land in the DM with that user, whose id starts with D. */
  private conversationFor(channel: string): string {
    return isUserId(channel) ? `D${channel.slice(1)}` : channel;
  }

  /** Slack answers with metadata on post and update, but in history and replies only when asked. */
  private messageBody(message: StoredMessage, withMetadata = true): Record<string, unknown> {
    return {
      type: 'message',
      user: SLACK_BOT_USER_ID,
      bot_id: SLACK_BOT_ID,
      app_id: SLACK_APP_ID,
      team: SLACK_TEAM.id,
      ts: message.ts,
      text: message.text,
      blocks: clone(message.blocks),
      ...(message.thread_ts === undefined ? {} : { thread_ts: message.thread_ts }),
      ...(withMetadata && message.metadata ? { metadata: clone(message.metadata) } : {}),
    };
  }

  /** `undefined` when absent; a failure when present but not `{event_type, event_payload}`. */
  private metadataFrom(value: unknown): MessageMetadata | ApiResult | undefined {
    if (value === undefined) return undefined;
    const metadata = asObject(value);
    if (!metadata) return fail('invalid_metadata_format');
    const eventType = metadata.event_type;
    const payload = asObject(metadata.event_payload);
    if (typeof eventType !== 'string' || eventType === '' || !payload) return fail('invalid_metadata_schema');
    return { event_type: eventType, event_payload: clone(payload) };
  }

  private postMessage(args: SlackArgs): ApiResult {
    const target = asString(args.channel);
    if (!target) return fail('channel_not_found');
    if (args.blocks !== undefined && !Array.isArray(args.blocks)) return fail('invalid_blocks');
    const text = asString(args.text) ?? '';
    const blocks = this.withIds(args.blocks);
    if (text === '' && blocks.length === 0 && args.attachments === undefined) return fail('no_text');
    const metadata = this.metadataFrom(args.metadata);
    if (metadata && 'ok' in metadata) return metadata;
    const message: StoredMessage = {
      channel: this.conversationFor(target),
      ts: this.nextTs(),
      text,
      blocks,
      updates: 0,
    };
    const threadTs = asString(args.thread_ts);
    if (threadTs) message.thread_ts = threadTs;
    if (metadata) message.metadata = metadata;
    this.stored.push(message);
    return { ok: true, channel: message.channel, ts: message.ts, message: this.messageBody(message) };
  }

  private updateMessage(args: SlackArgs): ApiResult {
    const channel = asString(args.channel);
    const ts = asString(args.ts);
    // chat.update needs the conversation id; a user id (which postMessage accepts) does not work.
    if (!channel || isUserId(channel)) return fail('channel_not_found');
    if (!ts) return fail('message_not_found');
    const message = this.find(channel, ts);
    if (!message) return fail('message_not_found');
    if (args.blocks !== undefined && !Array.isArray(args.blocks)) return fail('invalid_blocks');
    const metadata = this.metadataFrom(args.metadata);
    if (metadata && 'ok' in metadata) return metadata;
    // Like Slack: fields left out keep their previous value.
    const text = asString(args.text);
    if (text !== undefined) message.text = text;
    if (args.blocks !== undefined) message.blocks = this.withIds(args.blocks);
    if (metadata) message.metadata = metadata;
    message.updates += 1;
    return { ok: true, channel, ts, text: message.text, message: this.messageBody(message) };
  }

  private postEphemeral(args: SlackArgs): ApiResult {
    const channel = asString(args.channel);
    const user = asString(args.user);
    if (!channel) return fail('channel_not_found');
    if (!user) return fail('user_not_in_channel');
    if (args.blocks !== undefined && !Array.isArray(args.blocks)) return fail('invalid_blocks');
    const ephemeral: EphemeralMessage = {
      channel,
      user,
      text: asString(args.text) ?? '',
      blocks: this.withIds(args.blocks),
      message_ts: this.nextTs(),
      at: Date.now(),
    };
    const threadTs = asString(args.thread_ts);
    if (threadTs) ephemeral.thread_ts = threadTs;
    if (ephemeral.text === '' && ephemeral.blocks.length === 0 && args.attachments === undefined) {
      return fail('no_text');
    }
    this.ephemerals.push(ephemeral);
    return { ok: true, message_ts: ephemeral.message_ts };
  }

  private permalink(args: SlackArgs): ApiResult {
    const channel = asString(args.channel);
    const ts = asString(args.message_ts);
    if (!channel) return fail('channel_not_found');
    if (!ts) return fail('message_not_found');
    const base = `https://${SLACK_TEAM.domain}.slack.com/archives/${channel}/p${ts.replace('.', '')}`;
    const threadTs = this.find(channel, ts)?.thread_ts;
    const permalink = threadTs && threadTs !== ts ? `${base}?thread_ts=${threadTs}&cid=${channel}` : base;
    return { ok: true, channel, permalink };
  }

  // ---- conversations ------------------------------------------------------------------------

  /** Only 1:1 DMs: several users (a group DM) fail rather than get a made-up conversation. */
  private openConversation(args: SlackArgs): ApiResult {
    const users = (asString(args.users) ?? '')
      .split(',')
      .map((user) => user.trim())
      .filter((user) => user !== '');
    if (users.length === 0) return fail('users_list_not_supplied');
    if (users.length > 1) return fail('too_many_users');
    const [user = ''] = users;
    if (!isUserId(user)) return fail('user_not_found');
    return { ok: true, channel: { id: this.conversationFor(user) } };
  }

  /** Top-level messages (thread parents included, replies not), newest first. */
  private history(args: SlackArgs): ApiResult {
    const channel = asString(args.channel);
    if (!channel || isUserId(channel)) return fail('channel_not_found');
    const topLevel = this.stored.filter(
      (message) =>
        message.channel === channel && (message.thread_ts === undefined || message.thread_ts === message.ts),
    );
    return this.page(args, topLevel, 'newest_first');
  }

  /** The parent, then its replies oldest first. A reply's ts gives just that reply, as it has none. */
  private replies(args: SlackArgs): ApiResult {
    const channel = asString(args.channel);
    const ts = asString(args.ts);
    if (!channel || isUserId(channel)) return fail('channel_not_found');
    const parent = ts === undefined ? undefined : this.find(channel, ts);
    if (!parent) return fail('thread_not_found');
    const replies = this.stored.filter(
      (message) => message.channel === channel && message.thread_ts === ts && message.ts !== ts,
    );
    return this.page(args, [parent, ...replies], 'oldest_first');
  }

  /**
   * One page of `messages` within oldest/latest, the way history and replies share. The cursor
   * names the ts to continue from (like Slack's "next_ts:…"), so messages posted between pages
   * neither repeat nor skip anything.
   */
  private page(
    args: SlackArgs,
    messages: StoredMessage[],
    order: 'newest_first' | 'oldest_first',
  ): ApiResult {
    const inclusive = isTrue(args.inclusive);
    const oldest = asString(args.oldest);
    const latest = asString(args.latest);
    if (oldest !== undefined && !Number.isFinite(Number(oldest))) return fail('invalid_ts_oldest');
    if (latest !== undefined && !Number.isFinite(Number(latest))) return fail('invalid_ts_latest');
    const cursor = asString(args.cursor);
    const resumeAt = cursor ? this.cursorTs(cursor) : undefined;
    if (resumeAt === null) return fail('invalid_cursor');
    const after = (ts: string, bound: string | undefined, orEqual: boolean) =>
      bound === undefined || (orEqual ? Number(ts) >= Number(bound) : Number(ts) > Number(bound));
    const before = (ts: string, bound: string | undefined, orEqual: boolean) =>
      bound === undefined || (orEqual ? Number(ts) <= Number(bound) : Number(ts) < Number(bound));
    const matching = messages
      .filter((message) => after(message.ts, oldest, inclusive) && before(message.ts, latest, inclusive))
      .filter((message) =>
        order === 'newest_first' ? before(message.ts, resumeAt, true) : after(message.ts, resumeAt, true),
      )
      .sort((a, b) => (order === 'newest_first' ? Number(b.ts) - Number(a.ts) : Number(a.ts) - Number(b.ts)));
    const limit = this.pageLimit(args.limit);
    const shown = matching.slice(0, limit);
    const next = matching[limit];
    const withMetadata = isTrue(args.include_all_metadata);
    return {
      ok: true,
      messages: shown.map((message) => this.messageBody(message, withMetadata)),
      has_more: next !== undefined,
      response_metadata: { next_cursor: next ? Buffer.from(`next_ts:${next.ts}`).toString('base64') : '' },
    };
  }

  /** Slack's default is 100 and its maximum 999; 0 or nonsense means the default. */
  private pageLimit(value: unknown): number {
    const limit = Math.floor(Number(asString(value) ?? 100));
    if (!Number.isFinite(limit) || limit < 1) return 100;
    return Math.min(limit, 999);
  }

  /** The ts a cursor continues from, or null when it is not one of ours. */
  private cursorTs(cursor: string): string | null {
    const match = /^next_ts:(\d+\.\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
    return match?.[1] ?? null;
  }

  // ---- files --------------------------------------------------------------------------------

  private getUploadUrl(args: SlackArgs): ApiResult {
    const filename = asString(args.filename);
    const length = Number(asString(args.length));
    if (!filename) return fail('invalid_arguments');
    if (!Number.isInteger(length) || length <= 0) return fail('invalid_arguments');
    this.sequence += 1;
    const id = `F${String(this.sequence).padStart(10, '0')}`;
    this.files.push({ id, filename, content: '', completed: false });
    return { ok: true, upload_url: `${this.baseUrl}/upload/${id}`, file_id: id };
  }

  private completeUpload(args: SlackArgs): ApiResult {
    const list = Array.isArray(args.files) ? args.files : undefined;
    if (!list || list.length === 0) return fail('invalid_arguments');
    const shared: Record<string, unknown>[] = [];
    for (const entry of list as { id?: string; title?: string }[]) {
      const file = this.files.find((candidate) => candidate.id === entry.id);
      if (!file || file.content === '') return fail('file_not_found');
      file.completed = true;
      if (entry.title) file.title = entry.title;
      const channel = asString(args.channel_id);
      if (channel) file.channel = channel;
      const threadTs = asString(args.thread_ts);
      if (threadTs) file.thread_ts = threadTs;
      const comment = asString(args.initial_comment);
      if (comment) file.initial_comment = comment;
      shared.push({ id: file.id, title: file.title ?? file.filename });
    }
    return { ok: true, files: shared };
  }

  // ---- views --------------------------------------------------------------------------------

  private viewFrom(input: Record<string, unknown>, id: string, previous?: SlackView): SlackView {
    const hash = `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`;
    return {
      private_metadata: '',
      callback_id: '',
      external_id: '',
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: null,
      previous_view_id: null,
      root_view_id: previous?.root_view_id ?? id,
      app_id: SLACK_APP_ID,
      app_installed_team_id: SLACK_TEAM.id,
      bot_id: SLACK_BOT_ID,
      ...clone(input),
      id,
      team_id: SLACK_TEAM.id,
      type: String(input.type),
      blocks: this.withIds(input.blocks),
      state: { values: {} },
      hash,
    };
  }

  private nextViewId(): string {
    this.sequence += 1;
    return `V${String(this.sequence).padStart(10, '0')}`;
  }

  private openView(method: 'views.open' | 'views.push', args: SlackArgs): ApiResult {
    const triggerId = asString(args.trigger_id);
    const input = asObject(args.view);
    if (!triggerId || !input) return fail('invalid_arguments');
    if (input.type !== 'modal') return fail('invalid_arguments');
    const view = this.viewFrom(input, this.nextViewId());
    this.views.push({ method, trigger_id: triggerId, view, updates: 0, at: Date.now() });
    return { ok: true, view: clone(view) };
  }

  private updateView(args: SlackArgs): ApiResult {
    const input = asObject(args.view);
    const viewId = asString(args.view_id);
    const externalId = asString(args.external_id);
    if (!input || (!viewId && !externalId)) return fail('invalid_arguments');
    const record = this.views.find((candidate) =>
      viewId ? candidate.view.id === viewId : candidate.view.external_id === externalId,
    );
    if (!record) return fail('not_found');
    const hash = asString(args.hash);
    if (hash !== undefined && hash !== record.view.hash) return fail('hash_conflict');
    record.view = this.viewFrom(input, record.view.id, record.view);
    record.updates += 1;
    return { ok: true, view: clone(record.view) };
  }

  private publishView(args: SlackArgs): ApiResult {
    const userId = asString(args.user_id);
    const input = asObject(args.view);
    if (!userId || !input) return fail('invalid_arguments');
    if (input.type !== 'home') return fail('invalid_arguments');
    const existing = this.views.find(
      (record) => record.method === 'views.publish' && record.user_id === userId,
    );
    if (existing) {
      existing.view = this.viewFrom(input, existing.view.id, existing.view);
      existing.updates += 1;
      return { ok: true, view: clone(existing.view) };
    }
    const view = this.viewFrom(input, this.nextViewId());
    this.views.push({ method: 'views.publish', user_id: userId, view, updates: 0, at: Date.now() });
    return { ok: true, view: clone(view) };
  }

  // ---- directory ----------------------------------------------------------------------------

  private user(id: string): SlackUser {
    const patch = this.users.get(id) ?? {};
    const name = patch.name ?? nameFromId(id);
    const realName = patch.real_name ?? name.charAt(0).toUpperCase() + name.slice(1);
    return {
      id,
      team_id: SLACK_TEAM.id,
      name,
      real_name: realName,
      deleted: false,
      is_bot: false,
      tz: 'Europe/Berlin',
      tz_label: 'Central European Time',
      tz_offset: 3600,
      ...patch,
      profile: { real_name: realName, display_name: name, ...patch.profile },
    };
  }

  private channel(id: string): Record<string, unknown> {
    const name = nameFromId(id);
    return {
      id,
      name,
      name_normalized: name,
      is_channel: id.startsWith('C'),
      is_group: false,
      is_im: id.startsWith('D'),
      is_private: id.startsWith('G'),
      is_archived: false,
      is_member: true,
      created: 1_600_000_000,
      creator: 'U0ALICE',
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
      ...this.channels.get(id),
    };
  }
}
