import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { pipelineActorId } from '../domain/actor.js';
import {
  type PipelineIdentity,
  type PipelineToken,
  parseTokenSecret,
  TOKEN_ID_LENGTH,
  TOKEN_SECRET_BYTES,
} from '../domain/pipeline-tokens.js';
import type { Keys } from './keys.js';
import { defineScripts, type ScriptedRedis } from './scripts.js';

// The workspace's pipeline tokens. A token's record lives under its workspace; a global key maps the
// token id to the workspace, because a pipeline's request names no workspace before it is trusted. Only
// the SHA-256 of a secret is kept: a copy of Redis lets nobody act as a pipeline. Creating and revoking
// write the workspace's token audit stream in the same script as the change.

const TOKEN_SCRIPTS = {
  createPipelineToken: 'create-pipeline-token-3',
  revokePipelineToken: 'revoke-pipeline-token-2',
  touchPipelineToken: 'touch-pipeline-token-1',
} as const;

/** The token audit stream keeps about this many entries per workspace. */
export const TOKEN_AUDIT_CAP = 1000;
/** lastUsedAt is written at most this often: a busy pipeline costs one read per request, not a write. */
export const LAST_USED_INTERVAL_MS = 60_000;

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();
// Compared against when the token id is unknown, so that an unknown id costs what a wrong secret does.
const UNKNOWN_HASH = hashSecret(randomBytes(TOKEN_SECRET_BYTES).toString('base64url'));

function newTokenId(): string {
  let id = '';
  for (let index = 0; index < TOKEN_ID_LENGTH; index++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

const Environments = z.union([z.literal('all'), z.array(z.string())]);

const StoredToken = z.object({
  tokenId: z.string().min(1),
  name: z.string().min(1),
  environments: z.string(),
  secretHash: z.string().regex(/^[0-9a-f]{64}$/),
  createdBy: z.string(),
  createdAt: z.coerce.number(),
  lastUsedAt: z.coerce.number().optional(),
  channel: z.string().optional(),
});

type StoredRecord = PipelineToken & { secretHash: Buffer };

function parseEnvironments(text: string): PipelineToken['environments'] | undefined {
  if (text === 'all') return 'all';
  try {
    const parsed = Environments.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function parseRecord(teamId: string, fields: Record<string, string>): StoredRecord | undefined {
  const parsed = StoredToken.safeParse(fields);
  if (!parsed.success) return undefined;
  const environments = parseEnvironments(parsed.data.environments);
  if (!environments) return undefined;
  const { tokenId, name, createdBy, createdAt, lastUsedAt, secretHash, channel } = parsed.data;
  return {
    tokenId,
    teamId,
    name,
    environments,
    createdBy,
    createdAt,
    ...(lastUsedAt !== undefined ? { lastUsedAt } : {}),
    ...(channel ? { channelId: channel } : {}),
    secretHash: Buffer.from(secretHash, 'hex'),
  };
}

const withoutHash = ({ secretHash: _hash, ...token }: StoredRecord): PipelineToken => token;

/** One entry of the workspace's token audit stream. Never holds a secret or its hash. */
export interface TokenAuditEntry {
  id: string;
  type: 'token_created' | 'token_revoked' | 'refused' | 'used';
  user: string;
  at: number;
  name?: string;
  tokenId?: string;
  environments?: string;
  action?: string;
  reason?: string;
  /** For a use: the HTTP status it was answered with. */
  status?: number;
}

export type CreateTokenOutcome =
  | { ok: true; token: PipelineToken; secret: string }
  | { ok: false; reason: 'name_taken' };

export class PipelineTokenStore {
  private readonly redis: ScriptedRedis<typeof TOKEN_SCRIPTS>;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
  ) {
    this.redis = defineScripts(redis, TOKEN_SCRIPTS);
  }

  /** Creates a token; the secret is returned once, here, and kept nowhere. */
  async create(input: {
    teamId: string;
    name: string;
    environments: readonly string[] | 'all';
    createdBy: string;
    now: number;
    /** The channel it is created in: releases its pipeline starts are posted there. */
    channelId?: string;
  }): Promise<CreateTokenOutcome> {
    const { teamId, name, environments, createdBy, now } = input;
    // A fresh id is taken first (NX: a clash, however unlikely, draws again); a name that turns out
    // taken leaves it pointing at nothing, and it is dropped.
    let tokenId = newTokenId();
    while ((await this.redis.set(this.keys.pipelineTokenTeam(tokenId), teamId, 'NX')) !== 'OK') {
      tokenId = newTokenId();
    }
    const secret = randomBytes(TOKEN_SECRET_BYTES).toString('base64url');
    const environmentsText = environments === 'all' ? 'all' : JSON.stringify(environments);
    const created = await this.redis.createPipelineToken(
      this.keys.pipelineTokenNames(teamId),
      this.keys.pipelineToken(teamId, tokenId),
      this.keys.pipelineTokenAudit(teamId),
      tokenId,
      name,
      environmentsText,
      hashSecret(secret).toString('hex'),
      createdBy,
      now,
      TOKEN_AUDIT_CAP,
      input.channelId ?? '',
    );
    if (created !== 1) {
      await this.redis.del(this.keys.pipelineTokenTeam(tokenId));
      return { ok: false, reason: 'name_taken' };
    }
    const scope = environments === 'all' ? 'all' : [...environments];
    return {
      ok: true,
      token: {
        tokenId,
        teamId,
        name,
        environments: scope,
        createdBy,
        createdAt: now,
        ...(input.channelId ? { channelId: input.channelId } : {}),
      },
      secret,
    };
  }

  /** The workspace's tokens in use, by name. */
  async list(teamId: string): Promise<PipelineToken[]> {
    const ids = Object.values(await this.redis.hgetall(this.keys.pipelineTokenNames(teamId)));
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const tokenId of ids) pipeline.hgetall(this.keys.pipelineToken(teamId, tokenId));
    const replies = (await pipeline.exec()) ?? [];
    return replies
      .flatMap(([err, fields]) => {
        const record = err ? undefined : parseRecord(teamId, fields as Record<string, string>);
        return record ? [withoutHash(record)] : [];
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Revokes the token of that name; false when the workspace has none. */
  async revoke(teamId: string, name: string, by: string, now: number): Promise<boolean> {
    const tokenId = await this.redis.revokePipelineToken(
      this.keys.pipelineTokenNames(teamId),
      this.keys.pipelineTokenAudit(teamId),
      name,
      by,
      now,
      TOKEN_AUDIT_CAP,
    );
    if (typeof tokenId !== 'string') return false;
    await this.redis.del(this.keys.pipelineTokenTeam(tokenId));
    return true;
  }

  /**
   * Who the token text belongs to, or undefined when it is malformed, unknown, revoked or has the wrong
   * secret; the caller cannot tell these apart. The secret's hash is compared in constant time.
   */
  async authenticate(tokenText: string, now: number): Promise<PipelineIdentity | undefined> {
    const parsed = parseTokenSecret(tokenText);
    if (!parsed) return undefined;
    const given = hashSecret(parsed.secret);
    const teamId = await this.redis.get(this.keys.pipelineTokenTeam(parsed.tokenId));
    const record = teamId
      ? parseRecord(teamId, await this.redis.hgetall(this.keys.pipelineToken(teamId, parsed.tokenId)))
      : undefined;
    const matches = timingSafeEqual(given, record?.secretHash ?? UNKNOWN_HASH);
    if (!record || !matches || record.tokenId !== parsed.tokenId) return undefined;
    if (record.lastUsedAt === undefined || now - record.lastUsedAt >= LAST_USED_INTERVAL_MS) {
      await this.redis.touchPipelineToken(
        this.keys.pipelineToken(record.teamId, record.tokenId),
        now,
        LAST_USED_INTERVAL_MS,
      );
    }
    return {
      teamId: record.teamId,
      tokenId: record.tokenId,
      name: record.name,
      environments: record.environments,
      ...(record.channelId ? { channelId: record.channelId } : {}),
    };
  }

  /** Records that someone was refused managing the workspace's tokens. */
  async noteRefusal(
    teamId: string,
    refusal: {
      user: string;
      action: 'create' | 'list' | 'revoke';
      reason: string;
      name?: string;
      now: number;
    },
  ): Promise<void> {
    await this.appendAudit(teamId, {
      type: 'refused',
      user: refusal.user,
      at: refusal.now,
      action: refusal.action,
      reason: refusal.reason,
      name: refusal.name,
    });
  }

  /** Records one use of a token through the API: what it asked and how it was answered. */
  async noteUse(
    teamId: string,
    use: { tokenId: string; name: string; action: string; status: number; now: number },
  ): Promise<void> {
    await this.appendAudit(teamId, {
      type: 'used',
      user: pipelineActorId(use.name),
      at: use.now,
      name: use.name,
      tokenId: use.tokenId,
      action: use.action,
      status: use.status,
    });
  }

  /** One entry of the workspace's capped token audit stream; fields left undefined are left out. */
  private async appendAudit(
    teamId: string,
    entry: Record<string, string | number | undefined>,
  ): Promise<void> {
    const fields = Object.entries(entry).flatMap(([field, value]) =>
      value === undefined ? [] : [field, String(value)],
    );
    await this.redis.xadd(
      this.keys.pipelineTokenAudit(teamId),
      'MAXLEN',
      '~',
      TOKEN_AUDIT_CAP,
      '*',
      ...fields,
    );
  }

  /** The workspace's latest token audit entries, newest first. */
  async audit(teamId: string, limit: number): Promise<TokenAuditEntry[]> {
    const entries = await this.redis.xrevrange(
      this.keys.pipelineTokenAudit(teamId),
      '+',
      '-',
      'COUNT',
      limit,
    );
    return entries.map(([id, list]) => {
      const fields: Record<string, string> = {};
      for (let index = 0; index + 1 < list.length; index += 2) fields[list[index]!] = list[index + 1]!;
      return {
        id,
        type: fields.type as TokenAuditEntry['type'],
        user: fields.user ?? '',
        at: Number(fields.at),
        ...(fields.name ? { name: fields.name } : {}),
        ...(fields.tokenId ? { tokenId: fields.tokenId } : {}),
        ...(fields.environments ? { environments: fields.environments } : {}),
        ...(fields.action ? { action: fields.action } : {}),
        ...(fields.reason ? { reason: fields.reason } : {}),
        ...(fields.status ? { status: Number(fields.status) } : {}),
      };
    });
  }
}
