import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { PersonName, ReleasePeople } from '../domain/people.js';
import type { Keys } from './keys.js';
import { defineScripts, type ScriptedRedis } from './scripts.js';

// Each release's people record (the names people had when first named in it) and the workspace's
// cache of users.info answers, so a person is looked up once however many releases name them. Written
// by jobs and read when a log is built: never on a request path.

const PEOPLE_SCRIPTS = { recordPerson: 'record-person-2' } as const;

const StoredPersonName = z.object({
  name: z.string().min(1),
  realName: z.string().min(1).optional(),
  at: z.number(),
});

function parsePerson(json: string | null): PersonName | undefined {
  if (json === null) return undefined;
  try {
    const parsed = StoredPersonName.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const toJson = (person: PersonName) =>
  JSON.stringify(
    person.realName
      ? { name: person.name, realName: person.realName, at: person.at }
      : { name: person.name, at: person.at },
  );

export type RecordPersonOutcome = 'recorded' | 'known' | 'no_release';

export class PeopleStore {
  private readonly redis: ScriptedRedis<typeof PEOPLE_SCRIPTS>;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
  ) {
    this.redis = defineScripts(redis, PEOPLE_SCRIPTS);
  }

  /** The release's people record. */
  async forRelease(teamId: string, releaseId: string): Promise<ReleasePeople> {
    const stored = await this.redis.hgetall(this.keys.releasePeople(teamId, releaseId));
    const people = new Map<string, PersonName>();
    for (const [userId, json] of Object.entries(stored)) {
      const person = parsePerson(json);
      if (person) people.set(userId, person);
    }
    return people;
  }

  /** Which of these people the release's record lacks, in one round trip. */
  async missing(teamId: string, releaseId: string, userIds: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const found = await this.redis.hmget(this.keys.releasePeople(teamId, releaseId), ...userIds);
    return userIds.filter((_userId, index) => found[index] === null);
  }

  /** Records a person's names with the release, unless it has them already (the first stay). */
  async record(
    teamId: string,
    releaseId: string,
    userId: string,
    person: PersonName,
  ): Promise<RecordPersonOutcome> {
    const reply = await this.redis.recordPerson(
      this.keys.releaseMeta(teamId, releaseId),
      this.keys.releasePeople(teamId, releaseId),
      userId,
      toJson(person),
    );
    return reply === 1 ? 'recorded' : reply === 0 ? 'known' : 'no_release';
  }

  /** The workspace's last users.info answer for a person, if any. */
  async cached(teamId: string, userId: string): Promise<PersonName | undefined> {
    return parsePerson(await this.redis.hget(this.keys.peopleCache(teamId), userId));
  }

  async cache(teamId: string, userId: string, person: PersonName): Promise<void> {
    await this.redis.hset(this.keys.peopleCache(teamId), userId, toJson(person));
  }
}
