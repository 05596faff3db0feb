import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp, viewItem } from '../support/app-harness.js';
import { TestRedisServer } from '../support/redis-server.js';
import {
  click,
  current,
  requiredItemIds,
  waitForHeader,
  waitForItem,
  waitForPhase,
  waitForReply,
} from './helpers.js';

// Redis goes away: nothing acknowledged is lost silently, users are told to try again, and shipcheck
// picks up by itself when Redis is back.

let redis: TestRedisServer;
let app: TestApp;
beforeAll(async () => {
  redis = await TestRedisServer.start({ appendOnly: true });
  app = await startTestApp({ env: { REDIS_URL: redis.url } });
});
afterAll(async () => {
  await app?.stop();
  await redis?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('answers "try again" while Redis is down, changes nothing, and recovers when it is back', async () => {
  await app.command('start v1.0 staging minimal');
  const header = await waitForHeader(app, 'v1.0 → staging');
  const phase = await waitForPhase(app, header, 'Before the deploy');
  const [first, second] = requiredItemIds('minimal', 0);
  await click(app, phase, first!, true);
  await waitForItem(app, phase, first!, true);
  // appendfsync everysec: give Redis its second to write the tick to disk.
  await sleep(1200);
  await redis.kill();

  const view = current(app, phase);
  const responseUrl = app.standIn.responseUrl('outage-click');
  const payload = app.tickPayload(view, second!, true, undefined, responseUrl);
  const during = await app.interact(payload);
  expect(during.status).toBe(200);
  const answer = await app.standIn.waitFor(
    () => app.standIn.responsesTo('outage-click')[0],
    5000,
    'an answer to the click',
  );
  expect(JSON.stringify(answer.body)).toMatch(
    /can't reach its database right now, so nothing was changed\. Please try again/,
  );
  const command = await app.command('start v1.1 staging minimal');
  expect(await waitForReply(app, command.responseTag, /try again/)).toBeTruthy();

  await redis.run();
  // The same click again, once Redis answers: ioredis reconnects on its own.
  let applied = false;
  for (let attempt = 0; attempt < 50 && !applied; attempt++) {
    await app.interact(app.tickPayload(view, second!, true));
    await sleep(200);
    applied = viewItem(current(app, phase), second!)?.ticked === true;
  }
  expect(applied).toBe(true);
  // The tick acknowledged before the outage is still there.
  expect(viewItem(current(app, phase), first!)?.ticked).toBe(true);
  const audit = await app.command('audit v1.0 staging');
  const trail = await waitForReply(app, audit.responseTag, /Audit trail/);
  expect(trail.match(/ ticked /g)).toHaveLength(2);
});
