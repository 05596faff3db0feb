import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

// The ids of a release's pending scheduled jobs (src/queues/scheduler.ts), so the ones it no longer
// needs (a phase done, the release ended) can be found and removed without scanning the queue.

export class JobIndex {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async track(teamId: string, releaseId: string, jobId: string): Promise<void> {
    await this.redis.sadd(this.keys.releaseJobs(teamId, releaseId), jobId);
  }

  async untrack(teamId: string, releaseId: string, jobId: string): Promise<void> {
    await this.redis.srem(this.keys.releaseJobs(teamId, releaseId), jobId);
  }

  /** Takes the release's tracked job ids that match, leaving the others tracked. */
  async take(
    teamId: string,
    releaseId: string,
    matches: (jobId: string) => boolean = () => true,
  ): Promise<string[]> {
    const key = this.keys.releaseJobs(teamId, releaseId);
    const taken = (await this.redis.smembers(key)).filter(matches);
    if (taken.length > 0) await this.redis.srem(key, ...taken);
    return taken;
  }
}
