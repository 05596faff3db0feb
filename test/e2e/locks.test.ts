import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKeys } from '../../src/store/keys.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { clickButton } from '../support/slack-requests.js';
import { current, tickAll, waitForHeader, waitForItem, waitForPhase, waitForReply } from './helpers.js';

// Environment locks: a release holds its environment from its first tick in the deployment phase
// until it ends; a second release is told who holds it, can ask to be told when it frees, and is.

const TEMPLATE = `id: locked
name: Locked
phases:
  - id: prepare
    name: Prepare
    items:
      - id: ready
        text: Ready
  - id: ship
    name: Ship
    deployment: true
    items:
      - id: started-deploy
        text: Deployment started
      - id: shipped
        text: Deployed
`;

let checklistsDir: string;
const apps: TestApp[] = [];
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-locks-'));
  await writeFile(path.join(checklistsDir, 'locked.yaml'), TEMPLATE);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});
afterAll(async () => {
  await rm(checklistsDir, { recursive: true, force: true });
});

async function startApp() {
  const app = await startTestApp({ env: { CHECKLISTS_DIR: checklistsDir, CHECKIN_SCHEDULE: '1h' } });
  apps.push(app);
  return app;
}

/** Starts a release and ticks it up to its deployment phase. */
async function readyToDeploy(app: TestApp, version: string) {
  await app.command(`start ${version} staging locked`, { user_id: 'U0LEAD' });
  const header = await waitForHeader(app, `${version} → staging`);
  await tickAll(app, await waitForPhase(app, header, 'Prepare'), ['ready']);
  return { header, ship: await waitForPhase(app, header, 'Ship') };
}

describe('environment locks', () => {
  it('keeps a second deploy out of a held environment, tells it who holds it, and DMs it when it frees', async () => {
    const app = await startApp();
    const first = await readyToDeploy(app, 'v1.0');
    const second = await readyToDeploy(app, 'v2.0');

    await tickAll(app, first.ship, ['started-deploy'], 'U0LEAD');
    const locks = await app.command('locks');
    expect(await waitForReply(app, locks.responseTag, /Environment locks/)).toMatch(/staging\*: v1\.0 since/);

    // The second release's first deployment tick is refused: staging is in use.
    const refusalUrl = app.standIn.responseUrl('refused');
    await app.interact(
      app.tickPayload(current(app, second.ship), 'started-deploy', true, 'U0BOB', refusalUrl),
    );
    const refusal = await app.standIn.waitFor(
      () => app.standIn.responsesTo('refused')[0],
      5000,
      'the refusal',
    );
    const body = refusal.body as { text: string; blocks: unknown[] };
    expect(body.text).toMatch(/staging is in use: v1\.0 has been deploying there since/);
    await waitForItem(app, second.ship, 'started-deploy', false);

    // Bob asks to be told; when v1.0 is cancelled, he gets one DM and can deploy.
    const notifyUrl = app.standIn.responseUrl('notify');
    const notify = clickButton(
      { ts: '1.1', channel: 'C0DEPLOY', text: body.text, blocks: body.blocks } as never,
      { actionId: 'lock.notify' },
      { user: 'U0BOB', responseUrl: notifyUrl, ephemeral: true },
    );
    await app.interact(notify);
    expect(await waitForReply(app, 'notify', /direct message when staging is free/)).toBeTruthy();
    await app.command('cancel v1.0 wrong build', { user_id: 'U0LEAD' });
    const dm = await app.standIn.waitFor(() => app.standIn.messages('D0BOB')[0], 5000, 'the DM to Bob');
    expect(dm.text).toMatch(/staging is free again: v1\.0 was cancelled/);
    await tickAll(app, second.ship, ['started-deploy'], 'U0BOB');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(app.standIn.messages('D0BOB')).toHaveLength(1);

    const audit = await app.command('audit v2.0');
    expect(await waitForReply(app, audit.responseTag, /Audit trail/)).toContain(
      'the release holds *staging*',
    );
  });

  it('says the environment is free now when it already is, and then sends no DM', async () => {
    const app = await startApp();
    const first = await readyToDeploy(app, 'v1.0');
    const second = await readyToDeploy(app, 'v2.0');
    await tickAll(app, first.ship, ['started-deploy'], 'U0LEAD');
    await app.interact(
      app.tickPayload(
        current(app, second.ship),
        'started-deploy',
        true,
        'U0BOB',
        app.standIn.responseUrl('refused'),
      ),
    );
    const refusal = await app.standIn.waitFor(
      () => app.standIn.responsesTo('refused')[0],
      5000,
      'the refusal',
    );
    const { text, blocks } = refusal.body as { text: string; blocks: unknown[] };
    const pressNotify = async (user: string, tag: string) => {
      const press = clickButton(
        { ts: '1.1', channel: 'C0DEPLOY', text, blocks } as never,
        { actionId: 'lock.notify' },
        { user, responseUrl: app.standIn.responseUrl(tag), ephemeral: true },
      );
      await app.interact(press);
      return waitForReply(app, tag, /staging/);
    };

    // v1.0 ends before Bob gets round to the button under the refusal.
    const cancel = await app.command('cancel v1.0 wrong build', { user_id: 'U0LEAD' });
    await waitForReply(app, cancel.responseTag, /cancel/i);
    const locks = await app.command('locks');
    await waitForReply(app, locks.responseTag, /No environment is locked/);
    const answer = await pressNotify('U0BOB', 'notify-bob');
    expect(answer).toMatch(/staging is free now/);
    expect(answer).not.toMatch(/direct message/);

    // Bob takes staging with v2.0; Carol asks to be told, and when v2.0 ends only she gets a DM.
    await tickAll(app, second.ship, ['started-deploy'], 'U0BOB');
    expect(await pressNotify('U0CAROL', 'notify-carol')).toMatch(/direct message when staging is free/);
    await app.command('cancel v2.0 not today', { user_id: 'U0LEAD' });
    const dm = await app.standIn.waitFor(() => app.standIn.messages('D0CAROL')[0], 5000, 'the DM to Carol');
    expect(dm.text).toMatch(/staging is free again: v2\.0 was cancelled/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(app.standIn.messages('D0BOB')).toEqual([]);
  });

  it('takes over a lock whose release is gone', async () => {
    const app = await startApp();
    const release = await readyToDeploy(app, 'v3.0');
    // A lock left by a release whose data is gone (deleted by hand, or lost).
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const lock = JSON.stringify({ releaseId: 'r999', since: Date.now(), by: 'U0GONE', version: 'v0.9' });
      await redis.hset(createKeys(app.prefix).envLocks('T0001'), 'staging', lock);
    } finally {
      await redis.quit();
    }
    await tickAll(app, release.ship, ['started-deploy'], 'U0LEAD');
    const audit = await app.command('audit v3.0');
    expect(await waitForReply(app, audit.responseTag, /Audit trail/)).toContain(
      'its previous holder had ended',
    );
  });
});
