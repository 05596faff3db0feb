import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { ReleaseStore } from '../../src/store/release-store.js';
import { viewItem } from '../support/app-harness.js';
import { ProcessCluster } from '../support/process-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { SLACK_TEAM } from '../support/slack-requests.js';
import { SlackStandIn, type StoredMessage } from '../support/slack-stand-in.js';
import { current, plainItemIds, template, waitForHeader, waitForItem, waitForPhase } from './helpers.js';

// A click read by a process that dies before committing it: Slack got no answer, but the person's
// client shows the box as they clicked it. Another instance puts the box back (a redraw with new
// block ids) and tells the person, once; the lost request, sent again, changes nothing.

const CRASH_SEAM = ['--import', './test/support/crash-after-commit.ts'];

let standIn: SlackStandIn | undefined;
let cluster: ProcessCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  await standIn?.stop();
  cluster = undefined;
  standIn = undefined;
});

function itemBlockId(message: StoredMessage, itemId: string): string | undefined {
  const blocks = (message.blocks ?? []) as { block_id?: string; accessory?: { action_id?: string } }[];
  return blocks.find((block) => block.accessory?.action_id?.endsWith(`|${itemId}`))?.block_id;
}

it('puts back and explains a click whose process died between reading and committing it', async () => {
  standIn = await SlackStandIn.start();
  cluster = new ProcessCluster(standIn, { SHUTDOWN_TIMEOUT_MS: '3000' });
  const survivor = await cluster.start();
  const doomed = await cluster.start({ SHIPCHECK_CRASH_BEFORE: 'tick' }, [], CRASH_SEAM);
  const procs = cluster;
  const app = {
    standIn,
    command: (text: string) => procs.command(text, {}, {}, survivor),
    interact: (payload: object) => procs.interact(payload, {}, survivor),
    tickPayload: procs.tickPayload.bind(procs),
  };

  await app.command('start v1.0 staging minimal');
  const header = await waitForHeader(app, 'v1.0 → staging');
  const message = await waitForPhase(app, header, template('minimal').phases[0]!.name);
  const itemId = plainItemIds('minimal', 0)[0]!;
  const blockBefore = itemBlockId(current(app, message), itemId);

  const lostClick = cluster.tickPayload(
    current(app, message),
    itemId,
    true,
    'U0BOB',
    standIn.responseUrl('lost'),
  );
  const answer = await cluster.interact(lostClick, {}, doomed).catch(() => undefined);
  expect(answer?.status).not.toBe(200);
  await doomed.exited;
  expect(doomed.output()).toContain('"moment":"before commit"');
  const killedAt = Date.now();

  const notice = await standIn.waitFor(
    () =>
      standIn!
        .responsesTo('lost')
        .find((response) => JSON.stringify(response.body).includes('was not saved')),
    20_000,
    'the person told their click was lost',
  );
  expect((notice.body as { text: string }).text).toMatch(
    /Your tick of “.+” in v1\.0 → staging was not saved/,
  );
  await standIn.waitFor(
    () => itemBlockId(current(app, message), itemId) !== blockBefore,
    5000,
    'the phase redrawn with new block ids',
  );
  expect(viewItem(current(app, message), itemId)?.ticked).toBe(false);
  console.log(`lost click put back and told ${Date.now() - killedAt} ms after the crash`);

  // The lost request arriving after all (a retry, a queued command) changes nothing and tells nobody again.
  const late = await cluster.interact(lostClick, {}, survivor);
  expect(late.status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const store = new ReleaseStore(redis, cluster.prefix);
    const [release] = await store.listActive(SLACK_TEAM.id);
    const events = await store.readAudit(SLACK_TEAM.id, release!.id);
    expect(events.filter((event) => event.type === 'ticked')).toEqual([]);
    expect(await redis.zcard(store.keys.pendingClicks(SLACK_TEAM.id))).toBe(0);
  } finally {
    redis.disconnect();
  }
  expect(
    standIn.responsesTo('lost').filter((r) => JSON.stringify(r.body).includes('was not saved')),
  ).toHaveLength(1);

  // Clicked again, it is applied as any click.
  await cluster.interact(cluster.tickPayload(current(app, message), itemId, true, 'U0BOB'), {}, survivor);
  await waitForItem(app, message, itemId, true);
}, 60_000);
