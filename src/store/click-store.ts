import type { Redis } from 'ioredis';
import { z } from 'zod';
import { APPLIED_REQUEST_TTL_SEC, type Keys } from './keys.js';
import { defineScripts, SCRIPT_FILES, type ScriptedRedis } from './scripts.js';

// Clicks between being read and being committed. Slack acknowledges a click only after its commit,
// but the person's Slack client already shows the box as they clicked it: if the process dies in
// between, the click is noted here, and the relay later puts the box back and tells them
// (src/app/relay.ts). The commit (set-item-9.lua) takes its click out whatever its outcome.

export const PendingClick = z.object({
  clickId: z.string().min(1),
  teamId: z.string().min(1),
  releaseId: z.string().min(1),
  itemId: z.string().min(1),
  userId: z.string().min(1),
  done: z.boolean(),
  /** When it was read (epoch ms). */
  at: z.number().int(),
  /** Where to tell the person (the click's response_url), if Slack gave one. */
  replyUrl: z.string().url().optional(),
});
export type PendingClick = z.infer<typeof PendingClick>;

export class ClickStore {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
  ) {
    this.redis = defineScripts(redis, SCRIPT_FILES);
  }

  /**
   * Notes a click about to be committed. Called right before the commit on the same connection,
   * without awaiting in between: the two go out together, so this costs no extra round trip.
   */
  async note(click: PendingClick): Promise<void> {
    await this.redis.noteClick(
      this.keys.pendingClicks(click.teamId),
      this.keys.pendingClickDetails(click.teamId),
      click.clickId,
      click.at,
      JSON.stringify(click),
    );
  }

  /** The click was settled without a commit (refused before it): nobody is to be told it was lost. */
  async forget(teamId: string, clickId: string): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.keys.pendingClicks(teamId), clickId)
      .hdel(this.keys.pendingClickDetails(teamId), clickId)
      .exec();
  }

  /**
   * Gives up on the workspace's clicks read before `readBefore` and never committed, and returns
   * them; a commit that arrives later changes nothing. They are returned again by the next claim
   * until forgotten, so a claimer that dies before telling anyone leaves them to the next.
   */
  async claimLost(teamId: string, readBefore: number, limit: number): Promise<PendingClick[]> {
    const found = (await this.redis.claimLostClicks(
      this.keys.pendingClicks(teamId),
      this.keys.pendingClickDetails(teamId),
      readBefore,
      limit,
      this.keys.appliedRequest(teamId, 'click:'),
      APPLIED_REQUEST_TTL_SEC,
    )) as unknown as string[];
    const clicks: PendingClick[] = [];
    for (let index = 0; index + 1 < found.length; index += 2) {
      const parsed = PendingClick.safeParse(parseJson(found[index + 1]!));
      // One that cannot be read cannot be told either; it must not come back every round.
      if (parsed.success) clicks.push(parsed.data);
      else await this.forget(teamId, found[index]!);
    }
    return clicks;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
