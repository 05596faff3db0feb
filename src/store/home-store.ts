import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

// Who looks at their Home tab and what it last showed them, so the home-refresh job redraws only the
// tabs of people who come back, and only when they would change.

export class HomeStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /**
   * Notes an Events API event as handled; false when it was already (Slack redelivers for 5 minutes).
   * Here because app_home_opened is the only event shipcheck subscribes to.
   */
  async claimEvent(teamId: string, eventId: string): Promise<boolean> {
    const key = this.keys.appliedRequest(teamId, `event:${eventId}`);
    return (await this.redis.set(key, '1', 'EX', 600, 'NX')) === 'OK';
  }

  /** Notes that the person opened their Home tab and what it now shows. */
  async noteDrawn(teamId: string, userId: string, at: number, rendered: string): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.keys.homeViewers(teamId), at, userId)
      .hset(this.keys.homeRendered(teamId), userId, rendered)
      .exec();
  }

  /**
   * People who opened their Home tab since `since`, with the fingerprint of what it last showed them.
   * Those who have not looked since are forgotten here, so their Home is redrawn only on their next visit.
   */
  async viewers(teamId: string, since: number): Promise<Map<string, string | undefined>> {
    const viewersKey = this.keys.homeViewers(teamId);
    const renderedKey = this.keys.homeRendered(teamId);
    const gone = await this.redis.zrangebyscore(viewersKey, '-inf', `(${since}`);
    if (gone.length > 0) {
      await this.redis
        .multi()
        .zrem(viewersKey, ...gone)
        .hdel(renderedKey, ...gone)
        .exec();
    }
    const users = await this.redis.zrangebyscore(viewersKey, since, '+inf');
    if (users.length === 0) return new Map();
    const rendered = await this.redis.hmget(renderedKey, ...users);
    return new Map(users.map((user, index) => [user, rendered[index] ?? undefined]));
  }

  /** Records what a refresh published, unless the person stopped counting as a viewer meanwhile. */
  async noteRefreshed(teamId: string, userId: string, rendered: string): Promise<void> {
    if ((await this.redis.zscore(this.keys.homeViewers(teamId), userId)) === null) return;
    await this.redis.hset(this.keys.homeRendered(teamId), userId, rendered);
  }
}
