import type { KnownBlock, View } from '@slack/types';
import { type PersonName, personNameFrom } from '../domain/people.js';
import type { Logger } from '../log.js';
import type { Metrics, SlackCallOutcome } from '../metrics.js';
import type { Pacer } from '../store/pacer.js';
import {
  SlackCallFailure,
  SlackHttpError,
  SlackPlatformError,
  SlackRateLimitedError,
  SlackWebApi,
} from './web-api.js';

export { SlackPlatformError } from './web-api.js';

// The one place that calls the Slack Web API. It paces chat.postMessage per channel and chat.update per
// workspace through pacers in Redis, so several instances share one budget; it waits out a 429's
// Retry-After and retries 5xx and network failures with backoff. The HTTP call itself is SlackWebApi's.

/** Errors after which posting to the channel cannot work until a person acts (invite the bot, unarchive). */
export const CHANNEL_UNUSABLE_ERRORS = new Set([
  'not_in_channel',
  'channel_not_found',
  'is_archived',
  'restricted_action',
  'missing_scope',
]);

export interface OutboundOptions {
  token: string;
  apiUrl: string | undefined;
  postIntervalMs: number;
  updateIntervalMs: number;
  /** Spacing of Home refreshes in one workspace; 1000 when not given. */
  homeIntervalMs?: number;
  /** Attempts per call before the error goes to the caller (BullMQ then retries the job). */
  maxAttempts?: number;
  /** Longest Retry-After the client sleeps through inside one call. */
  maxRetryAfterMs?: number;
  requestTimeoutMs?: number;
}

export interface MessageContent {
  text: string;
  blocks: KnownBlock[];
}

/** Message metadata (Slack's `metadata` argument); shipcheck marks its exactly-once posts with it. */
export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, string | number | boolean>;
}

interface ListedMessage {
  ts?: string;
  bot_id?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/** Pages read when looking for a message; enough for a busy release thread, bounded for a huge one. */
const MAX_LOOKUP_PAGES = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function outcomeOf(error: unknown): SlackCallOutcome {
  if (error instanceof SlackPlatformError) return 'platform_error';
  if (error instanceof SlackRateLimitedError) return 'rate_limited';
  if (error instanceof SlackHttpError) return 'http_error';
  return 'network_error';
}

const TIME_ZONE_CACHE_MS = 10 * 60_000;

export class SlackOutbound {
  private readonly api: SlackWebApi;
  private readonly timeZones = new Map<string, { zone: string | undefined; until: number }>();
  private readonly maxAttempts: number;
  private readonly maxRetryAfterMs: number;

  constructor(
    private readonly options: OutboundOptions,
    private readonly pacer: Pick<Pacer, 'keys' | 'reserveSlot'>,
    private readonly log: Logger,
    private readonly metrics?: Pick<Metrics, 'slackCalls' | 'slackRateLimitWait'>,
  ) {
    this.api = new SlackWebApi({
      token: options.token,
      ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
      timeoutMs: options.requestTimeoutMs ?? 10_000,
    });
    this.maxAttempts = options.maxAttempts ?? 6;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
  }

  async postMessage(
    teamId: string,
    args: MessageContent & { channel: string; threadTs?: string; metadata?: MessageMetadata },
  ): Promise<{ ts: string; channel: string }> {
    const result = await this.call(
      'chat.postMessage',
      {
        channel: args.channel,
        text: args.text,
        blocks: args.blocks,
        ...(args.threadTs ? { thread_ts: args.threadTs } : {}),
        ...(args.metadata ? { metadata: args.metadata } : {}),
        unfurl_links: false,
        unfurl_media: false,
      },
      { pacerKey: this.pacer.keys.postPacer(args.channel), intervalMs: this.options.postIntervalMs },
      teamId,
      this.maxAttempts,
      // A post with a delivery marker must not be sent again blindly after a 5xx or a timeout: Slack
      // may have posted it. deliverOnce's next attempt looks for the marker first.
      !args.metadata,
    );
    return { ts: String(result.ts), channel: String(result.channel ?? args.channel) };
  }

  /** The id of the app's direct-message conversation with a user (conversations.open). */
  async openDirectMessage(userId: string): Promise<string> {
    const result = await this.call('conversations.open', { users: userId }, undefined);
    const channel = (result.channel as { id?: string } | undefined)?.id;
    if (!channel) throw new Error('conversations.open answered without a channel id');
    return channel;
  }

  /**
   * Finds a message this app posted with the given metadata since `oldestMs`: in a thread when
   * `threadTs` is given (conversations.replies), else among the channel's top-level messages
   * (conversations.history). Resolves with its ts, or undefined when it is not there.
   */
  async findMessageByMetadata(args: {
    channel: string;
    threadTs?: string;
    oldestMs: number;
    metadata: MessageMetadata;
  }): Promise<string | undefined> {
    const method = args.threadTs ? 'conversations.replies' : 'conversations.history';
    const oldest = `${Math.floor(Math.max(0, args.oldestMs) / 1000)}.000000`;
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LOOKUP_PAGES; page++) {
      const result = await this.call(
        method,
        {
          channel: args.channel,
          ...(args.threadTs ? { ts: args.threadTs } : {}),
          oldest,
          inclusive: true,
          include_all_metadata: true,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        },
        undefined,
      );
      for (const message of (result.messages as ListedMessage[] | undefined) ?? []) {
        const metadata = message.metadata;
        if (
          message.ts &&
          metadata?.event_type === args.metadata.event_type &&
          Object.entries(args.metadata.event_payload).every(
            ([name, value]) => metadata.event_payload?.[name] === value,
          )
        ) {
          return message.ts;
        }
      }
      cursor = (result.response_metadata as { next_cursor?: string } | undefined)?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    throw new Error(`${method}: more than ${MAX_LOOKUP_PAGES} pages to search`);
  }

  async updateMessage(
    teamId: string,
    args: MessageContent & { channel: string; ts: string; metadata?: MessageMetadata },
  ): Promise<void> {
    await this.call(
      'chat.update',
      {
        channel: args.channel,
        ts: args.ts,
        text: args.text,
        blocks: args.blocks,
        ...(args.metadata ? { metadata: args.metadata } : {}),
      },
      { pacerKey: this.pacer.keys.updatePacer(teamId), intervalMs: this.options.updateIntervalMs },
      teamId,
    );
  }

  /** The metadata of one top-level message (conversations.history at its ts); undefined when it has none. */
  async readMessageMetadata(channel: string, ts: string): Promise<MessageMetadata | undefined> {
    const result = await this.call(
      'conversations.history',
      { channel, oldest: ts, latest: ts, inclusive: true, limit: 1, include_all_metadata: true },
      undefined,
    );
    const message = ((result.messages as ListedMessage[] | undefined) ?? []).find((found) => found.ts === ts);
    const metadata = message?.metadata;
    if (!metadata?.event_type || !metadata.event_payload) return undefined;
    return {
      event_type: metadata.event_type,
      event_payload: metadata.event_payload as MessageMetadata['event_payload'],
    };
  }

  async postEphemeral(args: {
    channel: string;
    user: string;
    text: string;
    blocks?: KnownBlock[];
  }): Promise<void> {
    await this.call('chat.postEphemeral', { ...args }, undefined);
  }

  async getPermalink(channel: string, ts: string): Promise<string> {
    const result = await this.call('chat.getPermalink', { channel, message_ts: ts }, undefined);
    return String(result.permalink);
  }

  /**
   * The user's time zone as their Slack profile gives it (IANA name), or undefined when Slack does not
   * say. Cached briefly: people rarely move, and the cache can be lost without harm.
   */
  async getUserTimeZone(userId: string): Promise<string | undefined> {
    const cached = this.timeZones.get(userId);
    if (cached && cached.until > Date.now()) return cached.zone;
    try {
      const result = await this.call('users.info', { user: userId }, undefined, undefined, 2);
      const zone = (result.user as { tz?: string } | undefined)?.tz;
      this.timeZones.set(userId, { zone, until: Date.now() + TIME_ZONE_CACHE_MS });
      return zone;
    } catch (err) {
      this.log.warn({ err, userId }, 'time zone unavailable; using UTC');
      return undefined;
    }
  }

  /**
   * A person's names as their Slack profile gives them now (users.info), retried like any other call.
   * A platform error (user_not_found, missing_scope) goes to the caller: no retry changes it.
   */
  async getUserName(userId: string, now = Date.now(), attempts = 3): Promise<PersonName | undefined> {
    const result = await this.call('users.info', { user: userId }, undefined, undefined, attempts);
    return personNameFrom(result.user, now);
  }

  /**
   * Shares text files in a channel (in a thread when `threadTs` is given) through Slack's current
   * upload flow: an upload URL per file, the bytes sent to it, then one completeUploadExternal.
   */
  async uploadFiles(args: {
    channel: string;
    threadTs?: string;
    comment?: string;
    files: { filename: string; title: string; content: string }[];
  }): Promise<string[]> {
    const uploaded: { id: string; title: string }[] = [];
    for (const file of args.files) {
      const bytes = Buffer.from(file.content, 'utf8');
      const target = await this.call(
        'files.getUploadURLExternal',
        { filename: file.filename, length: bytes.length },
        undefined,
      );
      const response = await fetch(String(target.upload_url), {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000),
      });
      if (!response.ok) throw new Error(`file upload answered ${response.status}`);
      uploaded.push({ id: String(target.file_id), title: file.title });
    }
    await this.call(
      'files.completeUploadExternal',
      {
        files: uploaded,
        channel_id: args.channel,
        ...(args.threadTs ? { thread_ts: args.threadTs } : {}),
        ...(args.comment ? { initial_comment: args.comment } : {}),
      },
      undefined,
    );
    return uploaded.map((file) => file.id);
  }

  /** The users in a Slack user group (usergroups.users.list). */
  /**
   * Tells the person who ran a slash command something later, through the command's response_url:
   * an ephemeral reply that needs no channel membership and no Web API token.
   */
  async replyToCommand(responseUrl: string, text: string): Promise<void> {
    const response = await fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
      signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000),
    });
    if (!response.ok) throw new Error(`response_url answered ${response.status}`);
  }

  async listUserGroupMembers(groupId: string): Promise<string[]> {
    const result = await this.call('usergroups.users.list', { usergroup: groupId }, undefined, undefined, 3);
    return ((result.users as unknown[] | undefined) ?? []).filter(
      (id): id is string => typeof id === 'string',
    );
  }

  /** Shows a person their App Home tab (views.publish), at once: they are looking at it. */
  async publishHome(userId: string, view: View): Promise<void> {
    await this.call('views.publish', { user_id: userId, view }, undefined, undefined, 2);
  }

  /** Redraws a Home tab nobody asked for, spaced per workspace so refreshes never crowd out the rest. */
  async refreshHome(teamId: string, userId: string, view: View): Promise<void> {
    await this.call(
      'views.publish',
      { user_id: userId, view },
      { pacerKey: this.pacer.keys.homePacer(teamId), intervalMs: this.options.homeIntervalMs ?? 1000 },
      teamId,
      3,
    );
  }

  /** Opens a modal. A trigger id expires after 3 seconds, so this tries once. */
  async openView(triggerId: string, view: View): Promise<void> {
    await this.call('views.open', { trigger_id: triggerId, view }, undefined, undefined, 1);
  }

  /** Closes the connections to Slack once the calls in flight are answered. */
  async close(): Promise<void> {
    await this.api.close();
  }

  private count(method: string, outcome: SlackCallOutcome): void {
    this.metrics?.slackCalls.inc({ method, outcome });
  }

  private async call(
    method: string,
    args: Record<string, unknown>,
    pacing: { pacerKey: string; intervalMs: number } | undefined,
    teamId?: string,
    attempts = this.maxAttempts,
    /** Whether a failure that may have been applied (5xx, timeout) is retried here; a 429 always is. */
    retryUnknownOutcome = true,
  ): Promise<Record<string, unknown>> {
    let pauseMs = 0;
    for (let attempt = 1; ; attempt++) {
      if (pacing) {
        const waitMs = await this.pacer.reserveSlot(pacing.pacerKey, pacing.intervalMs, pauseMs);
        if (waitMs > 0) await sleep(waitMs);
      } else if (pauseMs > 0) {
        await sleep(pauseMs);
      }
      pauseMs = 0;
      try {
        const result = await this.api.call(method, args);
        this.count(method, 'ok');
        return result;
      } catch (error) {
        this.count(method, outcomeOf(error));
        if (!(error instanceof SlackCallFailure) || error instanceof SlackPlatformError) throw error;
        if (attempt >= attempts) throw error;
        if (!retryUnknownOutcome && !(error instanceof SlackRateLimitedError)) throw error;
        if (error instanceof SlackRateLimitedError) {
          // Everyone waiting on the same pacer waits too: the limit is Slack's, not this call's.
          pauseMs = Math.min(error.retryAfterMs, this.maxRetryAfterMs);
          this.metrics?.slackRateLimitWait.inc({ method }, pauseMs / 1000);
          this.log.warn({ method, teamId, retryAfterMs: pauseMs, attempt }, 'slack rate limited');
        } else {
          pauseMs = Math.min(250 * 2 ** attempt, 8000);
          this.log.warn(
            { method, teamId, attempt, err: error, retryInMs: pauseMs },
            'slack call failed; retrying',
          );
        }
      }
    }
  }
}
