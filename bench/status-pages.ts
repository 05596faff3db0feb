import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { loadTemplates } from '../src/config/checklists.js';
import { signStatusLink } from '../src/domain/status-link.js';
import { ReleaseStore } from '../src/store/release-store.js';
import { viewItem } from '../test/support/app-harness.js';
import { getFreePort } from '../test/support/free-port.js';
import { deleteKeysWithPrefix } from '../test/support/redis.js';
import { SlackStandIn, type StoredMessage } from '../test/support/slack-stand-in.js';
import { clickTemplate, type LatencySummary, runLoad, SignedPoster, summarize } from './clicks.js';
import { sleep, TEAM_ID } from './releases.js';
import { spawnServer, stopServer, waitForHttp } from './servers.js';

// The status pages under load (issue 19): /status latency with 1,000 finished and 100 active releases
// on record, and what 200 open live tabs (server-sent events) cost Slack's acks. The record is written
// straight through the store (the same scripts a click runs), then its relay marks are cleared so the
// app under test does not replay a thousand releases' messages to the stand-in; the app runs in a
// child process, as in the other parts.

const REDIS_URL = 'redis://127.0.0.1:6379';
/** Releases whose messages are posted, for the clicks whose acks are measured. */
const CLICKED_RELEASES = 3;
const TEMPLATE_ID = 'pagesbench';
const ENVIRONMENTS = ['production', 'staging', 'development'];
const TEMPLATE_YAML = `id: ${TEMPLATE_ID}
name: Status pages bench
phases:
  - id: prepare
    name: Prepare
    due: T-1d
    items:
      - id: ready
        text: Ready
  - id: ship
    name: Ship
    due: T-0
    deployment: true
    items:
      - id: shipped
        text: Shipped
  - id: verify
    name: Verify
    due: T+1h
    items:
      - id: verified
        text: Verified
`;

export interface StatusPagesSizes {
  finished: number;
  active: number;
  /** Open live tabs while the acks are measured. */
  liveClients: number;
  pageRequests: number;
  /** How long the acks are measured, without tabs and then with them: several live intervals. */
  ackDurationMs: number;
  ackConcurrency: number;
}

/** Harsher than the default 5 s: more pushes to every tab while the acks are measured. */
const LIVE_INTERVAL_MS = 1000;

export const STATUS_FULL: StatusPagesSizes = {
  finished: 1000,
  active: 100,
  liveClients: 200,
  pageRequests: 300,
  ackDurationMs: 20_000,
  ackConcurrency: 10,
};

export const STATUS_QUICK: StatusPagesSizes = {
  finished: 40,
  active: 8,
  liveClients: 20,
  pageRequests: 30,
  ackDurationMs: 4000,
  ackConcurrency: 5,
};

export interface StatusPagesResult {
  sizes: StatusPagesSizes;
  seedMs: number;
  pageBytes: number;
  /** GET /status one at a time, and ten at a time. */
  page: LatencySummary;
  pageConcurrent: LatencySummary;
  /** Checkbox click acks with no tab open, and with `liveClients` tabs open while the board changes. */
  ackAlone: LatencySummary;
  ackWithTabs: LatencySummary;
  /** Board updates the open tabs received while the acks were measured (all tabs together). */
  boardEvents: number;
  liveClientsOpen: number;
}

function get(
  url: string,
  cookie: string,
  agent: http.Agent,
): Promise<{ ms: number; bytes: number; status: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.get(url, { headers: { cookie }, agent }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      response.on('end', () =>
        resolve({ ms: performance.now() - started, bytes, status: response.statusCode ?? 0 }),
      );
    });
    request.setTimeout(30_000, () => request.destroy(new Error('no answer within 30 s')));
    request.on('error', reject);
  });
}

async function measurePages(
  url: string,
  cookie: string,
  requests: number,
  concurrency: number,
): Promise<{ summary: LatencySummary; bytes: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const failures: string[] = [];
  let issued = 0;
  let bytes = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < requests) {
        issued++;
        const answer = await get(url, cookie, agent).catch((err: Error) => ({
          ms: 0,
          bytes: 0,
          status: err.message,
        }));
        if (answer.status !== 200) failures.push(`HTTP ${answer.status}`);
        else latencies.push(answer.ms);
        bytes = answer.bytes || bytes;
      }
    }),
  );
  agent.destroy();
  return { summary: summarize({ latencies, wallMs: performance.now() - started, failures }), bytes };
}

/** Opens `count` live streams; counts the board events they receive until closed. */
function openTabs(url: string, cookie: string, count: number) {
  const requests: http.ClientRequest[] = [];
  let events = 0;
  let open = 0;
  for (let index = 0; index < count; index++) {
    const request = http.get(
      url,
      { headers: { cookie, accept: 'text/event-stream' }, agent: false },
      (response) => {
        if (response.statusCode === 200) open++;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          events += chunk.split('event: board').length - 1;
        });
        response.on('error', () => undefined);
      },
    );
    request.on('error', () => undefined);
    requests.push(request);
  }
  return {
    get events() {
      return events;
    },
    get open() {
      return open;
    },
    close() {
      for (const request of requests) request.destroy();
    },
  };
}

export async function runStatusPagesBench(options: {
  sizes: StatusPagesSizes;
  progress: (line: string) => void;
}): Promise<StatusPagesResult> {
  const { sizes, progress } = options;
  const prefix = `bench-status-${randomBytes(4).toString('hex')}`;
  const checklistsDir = await mkdtemp(path.join(os.tmpdir(), 'shipcheck-status-bench-'));
  await writeFile(path.join(checklistsDir, `${TEMPLATE_ID}.yaml`), TEMPLATE_YAML);
  const template = (await loadTemplates(checklistsDir)).get(TEMPLATE_ID)!;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const store = new ReleaseStore(redis, prefix);
  const standIn = await SlackStandIn.start();
  const linkKey = randomBytes(48).toString('base64');
  const signingSecret = randomBytes(16).toString('hex');
  let server: ReturnType<typeof spawnServer> | undefined;
  try {
    // The record: finished releases (each started, ticked through its deploy and completed), one lane
    // per environment since a deploying release holds its environment, then the active ones.
    const seedStarted = performance.now();
    let counter = 0;
    const start = async (version: string, env: string, windowAt?: number) => {
      counter++;
      const started = await store.startRelease({
        teamId: TEAM_ID,
        channelId: 'C0DEPLOY',
        version,
        env,
        template,
        userId: 'U0LEAD',
        requestId: `seed-${counter}`,
        checkinPlanMs: [],
        ...(windowAt ? { window: { at: windowAt, zone: 'UTC' } } : {}),
      });
      if (started.kind !== 'created')
        throw new Error(`status bench: ${version} not started (${started.kind})`);
      return started.releaseId;
    };
    const tick = (releaseId: string, itemId: string) =>
      store.setItem({
        teamId: TEAM_ID,
        releaseId,
        itemId,
        done: true,
        userId: 'U0ALICE',
        requestId: `seed-${releaseId}-${itemId}`,
      });
    await Promise.all(
      ENVIRONMENTS.map(async (env, lane) => {
        for (let index = lane; index < sizes.finished; index += ENVIRONMENTS.length) {
          const releaseId = await start(`f${index + 1}`, env);
          for (const itemId of ['ready', 'shipped', 'verified']) await tick(releaseId, itemId);
        }
      }),
    );
    const active: string[] = [];
    for (let index = 0; index < sizes.active; index++) {
      const env = ENVIRONMENTS[index % ENVIRONMENTS.length]!;
      const releaseId = await start(`a${index + 1}`, env, Date.now() + (index + 1) * 3600_000);
      if (index % 2 === 0) await tick(releaseId, 'ready');
      active.push(releaseId);
    }
    await redis.del(store.keys.unrelayed(TEAM_ID));
    // A few releases whose messages the app does post, so the acks measured are checkbox clicks on
    // them (a help command's answer is a large response_url post the stand-in keeps, in this process).
    const clicked: string[] = [];
    for (let index = 0; index < CLICKED_RELEASES; index++)
      clicked.push(await start(`c${index + 1}`, 'development', Date.now() + 48 * 3600_000));
    const seedMs = performance.now() - seedStarted;
    progress(
      `status pages: ${sizes.finished} finished and ${sizes.active} active releases written in ${Math.round(seedMs)} ms`,
    );

    const port = await getFreePort();
    server = spawnServer('shipcheck (status pages)', 'src/main.ts', {
      SLACK_BOT_TOKEN: 'xoxb-bench',
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: standIn.apiUrl,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      PORT: String(port),
      CHECKLISTS_DIR: checklistsDir,
      LOG_LEVEL: 'warn',
      STATUS_LINK_KEY: linkKey,
      STATUS_BASE_URL: `http://127.0.0.1:${port}`,
      STATUS_LIVE_INTERVAL_MS: String(LIVE_INTERVAL_MS),
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(server, `${base}/healthz`, 200, 30_000);
    const cookie = `shipcheck_status=${signStatusLink(linkKey, TEAM_ID, Date.now() + 3600_000)}`;

    await measurePages(`${base}/status`, cookie, Math.min(20, sizes.pageRequests), 1);
    const page = await measurePages(`${base}/status`, cookie, sizes.pageRequests, 1);
    const pageConcurrent = await measurePages(`${base}/status`, cookie, sizes.pageRequests, 10);
    progress(`status pages: GET /status p99 ${page.summary.p99.toFixed(1)} ms (${page.bytes} bytes)`);

    const poster = new SignedPoster(`${base}/slack/events`, signingSecret, sizes.ackConcurrency + 10);
    const partsOf = (releaseId: string): StoredMessage[] =>
      standIn
        .messages('C0DEPLOY')
        .filter((message) => JSON.stringify(message.blocks).includes(`|${releaseId}|`));
    await standIn.waitFor(
      () => clicked.every((releaseId) => partsOf(releaseId).some((part) => viewItem(part, 'ready'))),
      60_000,
      'the clicked releases posted',
    );
    const clicks = clicked.map((releaseId) =>
      [true, false].map((on) => clickTemplate(partsOf(releaseId), 'ready', on)),
    );
    // Release k mod n, its first item ticked and unticked in turn.
    const pick = (k: number) => ({
      template: clicks[k % clicks.length]![Math.floor(k / clicks.length) % 2]!,
      userId: 'U0BENCH',
    });
    await runLoad([poster], pick, sizes.ackConcurrency, { requests: 100 });
    const ackAlone = summarize(
      await runLoad([poster], pick, sizes.ackConcurrency, { durationMs: sizes.ackDurationMs }),
    );

    // The tabs open, and the board changes every second (an item ticked and unticked in turn), so
    // that each interval's read finds something new to push.
    const tabs = openTabs(`${base}/status/live`, cookie, sizes.liveClients);
    await sleep(1000);
    let changing = true;
    const changes = (async () => {
      for (let round = 0; changing; round++) {
        // The first active release was ticked when seeded: untick, tick, untick…
        const releaseId = active[0]!;
        await store.setItem({
          teamId: TEAM_ID,
          releaseId,
          itemId: 'ready',
          done: round % 2 === 1,
          userId: 'U0BOB',
          requestId: `change-${round}`,
        });
        await sleep(1000);
      }
    })();
    const ackWithTabs = summarize(
      await runLoad([poster], pick, sizes.ackConcurrency, { durationMs: sizes.ackDurationMs }),
    );
    changing = false;
    await changes;
    const boardEvents = tabs.events;
    const liveClientsOpen = tabs.open;
    tabs.close();
    poster.close();
    progress(
      `status pages: ack p99 ${ackAlone.p99.toFixed(1)} ms alone, ${ackWithTabs.p99.toFixed(1)} ms with ${liveClientsOpen} live tabs`,
    );
    return {
      sizes,
      seedMs,
      pageBytes: page.bytes,
      page: page.summary,
      pageConcurrent: pageConcurrent.summary,
      ackAlone,
      ackWithTabs,
      boardEvents,
      liveClientsOpen,
    };
  } finally {
    if (server) await stopServer(server);
    await standIn.stop();
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
    await rm(checklistsDir, { recursive: true, force: true });
  }
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

/** The summary line: /status p99 and the ack p99 with and without the open tabs. */
export function statusPagesFigure(result: StatusPagesResult): string {
  return `/status p99 ${ms(result.page.p99)}; ack p99 ${ms(result.ackAlone.p99)} → ${ms(result.ackWithTabs.p99)} with ${result.liveClientsOpen} live tabs`;
}

export function statusPagesSection(result: StatusPagesResult): string[] {
  const { sizes } = result;
  return [
    '### Status pages (issue 19)',
    '',
    `${sizes.finished} finished and ${sizes.active} active releases on record (written in ${Math.round(result.seedMs)} ms); /status is ${result.pageBytes} bytes.`,
    '',
    '| measurement | requests | p50 | p99 | max | per second |',
    '|---|---|---|---|---|---|',
    `| GET /status, one at a time | ${result.page.requests} | ${ms(result.page.p50)} | ${ms(result.page.p99)} | ${ms(result.page.max)} | ${result.page.perSecond.toFixed(0)} |`,
    `| GET /status, ten at a time | ${result.pageConcurrent.requests} | ${ms(result.pageConcurrent.p50)} | ${ms(result.pageConcurrent.p99)} | ${ms(result.pageConcurrent.max)} | ${result.pageConcurrent.perSecond.toFixed(0)} |`,
    `| checkbox click ack, no tab open (${sizes.ackConcurrency} at a time) | ${result.ackAlone.requests} | ${ms(result.ackAlone.p50)} | ${ms(result.ackAlone.p99)} | ${ms(result.ackAlone.max)} | ${result.ackAlone.perSecond.toFixed(0)} |`,
    `| the same, ${result.liveClientsOpen} live tabs open, board changing every second | ${result.ackWithTabs.requests} | ${ms(result.ackWithTabs.p50)} | ${ms(result.ackWithTabs.p99)} | ${ms(result.ackWithTabs.max)} | ${result.ackWithTabs.perSecond.toFixed(0)} |`,
    '',
    `The open tabs received ${result.boardEvents} board updates in all while the acks were measured: the instance read the board once per ${LIVE_INTERVAL_MS} ms (STATUS_LIVE_INTERVAL_MS, 5 s by default) however many tabs were open, and pushed each change to every tab.`,
    '',
  ];
}
