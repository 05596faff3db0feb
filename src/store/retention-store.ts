import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

// What the daily retention sweep (src/jobs/retention.ts) reads and removes, and the SCANs over every
// workspace under the prefix. None of this is on a request path.

/** Every workspace with releases under the prefix: a SCAN, never on a request path. */
export async function scanTeams(redis: Redis, keys: Keys): Promise<string[]> {
  const teams = new Set<string>();
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', keys.allReleasesPattern(), 'COUNT', 500);
    cursor = next;
    for (const key of found) {
      const match = /:\{([^}]+)\}:releases$/.exec(key);
      if (match) teams.add(match[1]!);
    }
  } while (cursor !== '0');
  return [...teams];
}

export class RetentionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Every workspace with releases under this prefix, for the daily sweep. */
  listTeams(): Promise<string[]> {
    return scanTeams(this.redis, this.keys);
  }

  async releasesStartedBefore(teamId: string, before: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.allReleases(teamId), '-inf', `(${before}`);
  }

  /** The id of a release's last audit event; undefined when it has none. */
  async lastAuditId(teamId: string, releaseId: string): Promise<string | undefined> {
    const [last] = await this.redis.xrevrange(
      this.keys.releaseAudit(teamId, releaseId),
      '+',
      '-',
      'COUNT',
      1,
    );
    return last?.[0];
  }

  /** Removes a release and its records (audit trail, messages, template copy, people) for good. */
  async removeRelease(teamId: string, releaseId: string, version: string | undefined): Promise<void> {
    const transaction = this.redis
      .multi()
      .del(
        this.keys.releaseMeta(teamId, releaseId),
        this.keys.releaseItems(teamId, releaseId),
        this.keys.releaseIndex(teamId, releaseId),
        this.keys.releaseAudit(teamId, releaseId),
        this.keys.releaseSeals(teamId, releaseId),
        this.keys.releaseMessages(teamId, releaseId),
        this.keys.releaseJobs(teamId, releaseId),
        this.keys.releaseTemplate(teamId, releaseId),
        this.keys.releasePeople(teamId, releaseId),
      )
      .zrem(this.keys.allReleases(teamId), releaseId);
    if (version) transaction.zrem(this.keys.versionReleases(teamId, version), releaseId);
    await transaction.exec();
  }

  async markCutoff(teamId: string, cutoff: number): Promise<void> {
    await this.redis.set(this.keys.retentionCutoff(teamId), String(cutoff));
  }

  /** Records of releases that ended before this moment were removed (undefined: nothing removed yet). */
  async cutoff(teamId: string): Promise<number | undefined> {
    const value = await this.redis.get(this.keys.retentionCutoff(teamId));
    return value === null ? undefined : Number(value);
  }

  /** Active releases across every workspace under this prefix; a SCAN, for metrics scrapes, not request paths. */
  async countActiveReleases(): Promise<number> {
    let total = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        this.keys.activeReleasesPattern(),
        'COUNT',
        500,
      );
      cursor = next;
      for (const key of keys) total += await this.redis.hlen(key);
    } while (cursor !== '0');
    return total;
  }
}
