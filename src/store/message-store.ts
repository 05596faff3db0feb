import type { Redis } from 'ioredis';
import type { DirectMessage } from '../domain/direct-messages.js';
import type { Keys } from './keys.js';
import { defineScripts, SCRIPT_FILES, type ScriptedRedis } from './scripts.js';

// Where a release's Slack messages are and what they last showed, in its messages hash, and where
// to answer the commands that started or cancelled it. The direct messages it sent (reminders,
// escalations) are kept there too, one field each ("dm:<delivery key>"), recorded with their post.

/** The messages-hash field of a recorded direct message; its id is the key it was delivered under. */
export function directMessageField(id: string): string {
  return `dm:${id}`;
}

/** The messages-hash field of a shared version of the deployment log ("final", or a retro_saved event id). */
export function sharedLogField(id: string): string {
  return `log:${id}`;
}

/** A version of the deployment log in the thread: the message that introduces its files. */
export interface SharedLog {
  ts: string;
  /** The version that replaced it, once its message says so. */
  supersededBy?: string;
}

export interface MessageRef {
  ts: string;
  /** Fingerprint of what the message last showed; a different render means an update is due. */
  hash: string;
}

export interface ReleaseMessages {
  refs: Record<string, MessageRef>;
  nonces: Record<number, number>;
  permalink: string | undefined;
  /** Set when the release's header can never be posted: the Slack error that said so. */
  unpostable?: string;
  /** Stakeholder announcements in the order their events happened (noteAnnouncement). */
  announcements: NotedAnnouncement[];
  /** The direct messages the release sent and still keeps up to date, by id. */
  directMessages: Map<string, DirectMessage>;
  /** The versions of the deployment log shared in the thread, by id (see sharedLogField). */
  logs: Map<string, SharedLog>;
}

export interface NotedAnnouncement {
  event: string;
  occurrence: number;
  /** Place in the release's order of announcements: 1, 2, … */
  seq: number;
}

export class MessageStore {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
  ) {
    this.redis = defineScripts(redis, SCRIPT_FILES);
  }

  /**
   * A sync that started at `syncStartedAt` has made Slack show the release as it read it: the release
   * is no longer unsynced, unless a later sync was asked for meanwhile.
   */
  async markShown(teamId: string, releaseId: string, syncStartedAt: number): Promise<void> {
    await this.redis.markShown(this.keys.unsynced(teamId), releaseId, syncStartedAt);
  }

  async get(teamId: string, releaseId: string): Promise<ReleaseMessages> {
    const fields = await this.redis.hgetall(this.keys.releaseMessages(teamId, releaseId));
    const messages: ReleaseMessages = {
      refs: {},
      nonces: {},
      permalink: fields.permalink,
      ...(fields.unpostable ? { unpostable: fields.unpostable } : {}),
      announcements: [],
      directMessages: new Map(),
      logs: new Map(),
    };
    for (const [field, value] of Object.entries(fields)) {
      if (field.startsWith('msg:')) messages.refs[field.slice(4)] = JSON.parse(value) as MessageRef;
      else if (field.startsWith('dm:')) {
        const message = parseDirectMessage(value);
        if (message) messages.directMessages.set(field.slice(3), message);
      } else if (field.startsWith('log:')) {
        const log = parseSharedLog(value);
        if (log) messages.logs.set(field.slice(4), log);
      } else if (field.startsWith('nonce:')) messages.nonces[Number(field.slice(6))] = Number(value);
      else if (field.startsWith('announce:')) {
        const [event = '', occurrence = ''] = field.slice('announce:'.length).split('|');
        messages.announcements.push({ event, occurrence: Number(occurrence), seq: Number(value) });
      }
    }
    messages.announcements.sort((a, b) => a.seq - b.seq);
    return messages;
  }

  /**
   * Notes a stakeholder announcement in the release's order of announcements, once: noting the same
   * event again keeps its first place.
   */
  async noteAnnouncement(
    teamId: string,
    releaseId: string,
    event: string,
    occurrence: number,
  ): Promise<void> {
    await this.redis.noteAnnouncement(
      this.keys.releaseMessages(teamId, releaseId),
      `announce:${event}|${occurrence}`,
    );
  }

  async saveRef(teamId: string, releaseId: string, messageKey: string, ref: MessageRef): Promise<void> {
    await this.redis.hset(
      this.keys.releaseMessages(teamId, releaseId),
      `msg:${messageKey}`,
      JSON.stringify(ref),
    );
  }

  /** What a recorded direct message shows now (its hash), after the sync updated it. */
  async saveDirectMessage(
    teamId: string,
    releaseId: string,
    id: string,
    message: DirectMessage,
  ): Promise<void> {
    await this.redis.hset(
      this.keys.releaseMessages(teamId, releaseId),
      directMessageField(id),
      JSON.stringify(message),
    );
  }

  /** Notes that a shared log's message now says which version replaced it. */
  async markLogSuperseded(teamId: string, releaseId: string, id: string, log: SharedLog): Promise<void> {
    await this.redis.hset(
      this.keys.releaseMessages(teamId, releaseId),
      sharedLogField(id),
      JSON.stringify(log),
    );
  }

  /** Stops keeping a direct message up to date (a superseded reminder, told so once). */
  async forgetDirectMessage(teamId: string, releaseId: string, id: string): Promise<void> {
    await this.redis.hdel(this.keys.releaseMessages(teamId, releaseId), directMessageField(id));
  }

  async savePermalink(teamId: string, releaseId: string, permalink: string): Promise<void> {
    await this.redis.hset(this.keys.releaseMessages(teamId, releaseId), 'permalink', permalink);
  }

  /**
   * Forces the next sync to re-send a phase's messages. A refused click leaves the box ticked in that
   * user's Slack client; only a re-render with new block ids puts it back.
   */
  async bumpPhaseNonce(teamId: string, releaseId: string, phaseIndex: number): Promise<void> {
    await this.redis.hincrby(this.keys.releaseMessages(teamId, releaseId), `nonce:${phaseIndex}`, 1);
  }

  /** Notes that the release's header can never be posted, so nothing waits for its thread any more. */
  async markUnpostable(teamId: string, releaseId: string, slackError: string): Promise<void> {
    await this.redis.hset(this.keys.releaseMessages(teamId, releaseId), 'unpostable', slackError);
  }

  /** The response_url of the command that started the release, if it came from one. */
  async startReplyUrl(teamId: string, releaseId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.releaseMeta(teamId, releaseId), 'replyUrl')) ?? undefined;
  }

  /** Where the cancellation's author asked from (a response_url), if they used a slash command. */
  async cancelReplyUrl(teamId: string, releaseId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.releaseMeta(teamId, releaseId), 'cancelReplyUrl')) ?? undefined;
  }
}

/** A recorded direct message; a field that does not read as one is skipped rather than failing every sync. */
function parseDirectMessage(value: string): DirectMessage | undefined {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(value) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { kind, userId, ts, hash } = parsed;
  if (typeof userId !== 'string' || typeof ts !== 'string' || typeof hash !== 'string') return undefined;
  if (kind === 'reminder' && typeof parsed.phaseIndex === 'number') {
    return { kind, userId, ts, hash, phaseIndex: parsed.phaseIndex };
  }
  if (kind === 'checkin' && typeof parsed.checkinIndex === 'number') {
    const permalink = typeof parsed.permalink === 'string' ? { permalink: parsed.permalink } : {};
    return { kind, userId, ts, hash, checkinIndex: parsed.checkinIndex, ...permalink };
  }
  return undefined;
}

function parseSharedLog(value: string): SharedLog | undefined {
  try {
    const { ts, supersededBy } = JSON.parse(value) as Record<string, unknown>;
    if (typeof ts !== 'string') return undefined;
    return typeof supersededBy === 'string' ? { ts, supersededBy } : { ts };
  } catch {
    return undefined;
  }
}
