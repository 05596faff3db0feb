import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeys } from '../../src/store/keys.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { requiredItemIds, tickAll, waitForHeader, waitForPhase, waitForReply } from './helpers.js';

// `/deploy audit <version> [verify]`: the trail as a person gets it, and the answer for an untouched
// and a tampered trail.

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

/** The notification text (Slack's fallback) of the trail a person gets from `/deploy audit`. */
async function auditFallback(app: TestApp, version: string): Promise<string> {
  const audit = await app.command(`audit ${version}`);
  await waitForReply(app, audit.responseTag, /Audit trail/);
  return (app.standIn.responsesTo(audit.responseTag)[0]!.body as { text: string }).text;
}

describe('/deploy audit', () => {
  it('counts the events in its notification text, one event as one', async () => {
    const app = await startTestApp();
    apps.push(app);
    await app.command('start v1.0 staging minimal', { user_id: 'U0LEAD' });
    const header = await waitForHeader(app, 'v1.0 → staging');
    const phase = await waitForPhase(app, header, 'Before the deploy');
    // The people the trail names follow the count, by their names at the time.
    expect(await auditFallback(app, 'v1.0')).toMatch(/^Audit trail of v1\.0 → staging: 1 event(;|$)/);
    await tickAll(app, phase, requiredItemIds('minimal', 0).slice(0, 1));
    expect(await auditFallback(app, 'v1.0')).toMatch(/^Audit trail of v1\.0 → staging: 2 events(;|$)/);
  });
});

describe('/deploy audit … verify', () => {
  it('says an untouched trail is intact, and where a tampered one breaks', async () => {
    const app = await startTestApp();
    apps.push(app);
    await app.command('start v1.0 staging minimal', { user_id: 'U0LEAD' });
    const header = await waitForHeader(app, 'v1.0 → staging');
    await tickAll(app, await waitForPhase(app, header, 'Before the deploy'), requiredItemIds('minimal', 0));

    const intact = await app.command('audit v1.0 verify');
    expect(await waitForReply(app, intact.responseTag, /audit trail/)).toMatch(/is intact: \d+ events/);

    // Someone with Redis access changes who made the second event.
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const key = createKeys(app.prefix).releaseAudit('T0001', 'r1');
      const entries = await redis.xrange(key, '-', '+');
      await redis.del(key);
      for (const [index, [id, fields]] of entries.entries()) {
        await redis.xadd(
          key,
          id,
          ...(index === 1 ? fields.map((value) => (value === 'U0ALICE' ? 'U0MALLORY' : value)) : fields),
        );
      }
    } finally {
      await redis.quit();
    }
    const broken = await app.command('audit v1.0 verify');
    expect(await waitForReply(app, broken.responseTag, /audit trail/)).toMatch(
      /is broken at event 2 of \d+ .*its content was changed after it was written/,
    );
  });
});
