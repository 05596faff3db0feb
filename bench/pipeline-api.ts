import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { loadTemplates } from '../src/config/checklists.js';
import { formatToken } from '../src/domain/pipeline-tokens.js';
import { ReleaseStore } from '../src/store/release-store.js';
import { getFreePort } from '../test/support/free-port.js';
import { deleteKeysWithPrefix } from '../test/support/redis.js';
import type { StoredMessage } from '../test/support/slack-stand-in.js';
import { SlackStandIn } from '../test/support/slack-stand-in.js';
import {
  type BodyTemplate,
  clickTemplate,
  type LatencySummary,
  runLoad,
  SignedPoster,
  summarize,
} from './clicks.js';
import { sleep, TEAM_ID } from './releases.js';
import { spawnServer, stopServer, waitForHttp } from './servers.js';

// The pipeline API under load (issue 17): an API tick beside a Slack checkbox click on the same
// releases and items, and the Slack click's ack while 200 pipelines long-poll the gate of a release
// that stays shut. The app runs in a child process, as in the other parts.

const REDIS_URL = 'redis://127.0.0.1:6379';
const TEMPLATE_ID = 'apibench';
const ITEMS = 40;
const ITEM_IDS = Array.from({ length: ITEMS }, (_unused, index) => `b${index + 1}`);
const TEMPLATE_YAML = `id: ${TEMPLATE_ID}
name: Pipeline API bench
phases:
  - id: build
    name: Build
    items:
${ITEM_IDS.map((id) => `      - id: ${id}\n        text: Check ${id}\n        pipeline: true`).join('\n')}
  - id: review
    name: Review
    items:
      - id: approved
        text: Approved by a person
  - id: ship
    name: Ship
    deployment: true
    items:
      - id: shipped
        text: Shipped
        pipeline: true
`;

export interface PipelineApiSizes {
  releases: number;
  requests: number;
  concurrency: number;
  pollers: number;
  ackDurationMs: number;
}

export const PIPELINE_API_FULL: PipelineApiSizes = {
  releases: 10,
  requests: 3000,
  concurrency: 10,
  pollers: 200,
  ackDurationMs: 15_000,
};

export const PIPELINE_API_QUICK: PipelineApiSizes = {
  releases: 3,
  requests: 300,
  concurrency: 5,
  pollers: 20,
  ackDurationMs: 3000,
};

export interface PipelineApiResult {
  sizes: PipelineApiSizes;
  slackClick: LatencySummary;
  apiTick: LatencySummary;
  ackAlone: LatencySummary;
  ackWithPollers: LatencySummary;
  /** Gate answers the pollers got while the acks were measured (each a wait of up to 30 s). */
  gateAnswers: number;
  pollersOpen: number;
}

/** POSTs JSON with a bearer token over keep-alive connections; resolves the status and the time taken. */
function apiPoster(base: string, token: string, maxSockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const url = new URL(base);
  const call = (method: string, route: string, body?: string, timeoutMs = 40_000) =>
    new Promise<{ status: number; ms: number }>((resolve, reject) => {
      const started = performance.now();
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: `/api/v1${route}`,
          method,
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
              : {}),
          },
        },
        (response) => {
          response.resume();
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, ms: performance.now() - started }),
          );
          response.on('error', reject);
        },
      );
      request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.on('error', reject);
      request.end(body);
    });
  return { call, close: () => agent.destroy() };
}

export async function runPipelineApiBench(options: {
  sizes: PipelineApiSizes;
  progress: (line: string) => void;
}): Promise<PipelineApiResult> {
  const { sizes, progress } = options;
  const prefix = `bench-api-${randomBytes(4).toString('hex')}`;
  const checklistsDir = await mkdtemp(path.join(os.tmpdir(), 'shipcheck-api-bench-'));
  await writeFile(path.join(checklistsDir, `${TEMPLATE_ID}.yaml`), TEMPLATE_YAML);
  const template = (await loadTemplates(checklistsDir)).get(TEMPLATE_ID)!;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const store = new ReleaseStore(redis, prefix);
  const standIn = await SlackStandIn.start();
  const signingSecret = randomBytes(16).toString('hex');
  let server: ReturnType<typeof spawnServer> | undefined;
  try {
    const created = await store.tokens.create({
      teamId: TEAM_ID,
      name: 'bench',
      environments: 'all',
      createdBy: 'U0LEAD',
      now: Date.now(),
      channelId: 'C0DEPLOY',
    });
    if (!created.ok) throw new Error('pipeline API bench: token not created');
    const token = formatToken(created.token.tokenId, created.secret);
    // Releases whose messages the app posts (so Slack clicks can be shaped from them), plus one whose
    // gate stays shut (its person's item is never ticked) for the pollers.
    const releaseIds: string[] = [];
    for (let index = 0; index <= sizes.releases; index++) {
      const started = await store.startRelease({
        teamId: TEAM_ID,
        channelId: 'C0DEPLOY',
        version: `v${index}`,
        env: 'production',
        template,
        userId: 'U0LEAD',
        requestId: `seed-${index}`,
        checkinPlanMs: [],
      });
      if (started.kind !== 'created') throw new Error(`pipeline API bench: v${index} not started`);
      releaseIds.push(started.releaseId);
    }

    const port = await getFreePort();
    server = spawnServer('shipcheck (pipeline API)', 'src/main.ts', {
      SLACK_BOT_TOKEN: 'xoxb-bench',
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: standIn.apiUrl,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      PORT: String(port),
      CHECKLISTS_DIR: checklistsDir,
      LOG_LEVEL: 'warn',
      API_REQUESTS_PER_MINUTE: '100000',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(server, `${base}/healthz`, 200, 30_000);

    // Each release's posted messages, from which its clicks are shaped.
    const partsOf = (releaseId: string): StoredMessage[] =>
      standIn
        .messages('C0DEPLOY')
        .filter((message) => JSON.stringify(message.blocks).includes(`|${releaseId}|`));
    const clickable = releaseIds.slice(1);
    await standIn.waitFor(
      () => clickable.every((releaseId) => partsOf(releaseId).length > 0),
      60_000,
      'the bench releases posted',
    );
    const templates = new Map<string, BodyTemplate>();
    for (const releaseId of clickable)
      for (const itemId of ITEM_IDS)
        for (const selected of [true, false])
          templates.set(
            `${releaseId}|${itemId}|${selected}`,
            clickTemplate(partsOf(releaseId), itemId, selected),
          );
    // The k-th request: release k mod n, each item in turn, ticked on even rounds and unticked on odd.
    const target = (k: number) => {
      const releaseIndex = k % clickable.length;
      const step = Math.floor(k / clickable.length);
      return { releaseIndex, itemId: ITEM_IDS[step % ITEMS]!, done: Math.floor(step / ITEMS) % 2 === 0 };
    };
    const slackPoster = new SignedPoster(`${base}/slack/events`, signingSecret, sizes.concurrency + 10);
    const pickClick = (k: number) => {
      const { releaseIndex, itemId, done } = target(k);
      return { template: templates.get(`${clickable[releaseIndex]}|${itemId}|${done}`)!, userId: 'U0BENCH' };
    };
    await runLoad([slackPoster], pickClick, sizes.concurrency, { requests: 100 });
    const slackClick = summarize(
      await runLoad([slackPoster], pickClick, sizes.concurrency, { requests: sizes.requests }),
    );
    progress(
      `pipeline API: Slack click ack p50 ${slackClick.p50.toFixed(1)} / p99 ${slackClick.p99.toFixed(1)} ms`,
    );

    const api = apiPoster(base, token, sizes.concurrency + 10);
    const tickLatencies: number[] = [];
    const tickFailures: string[] = [];
    let issued = 0;
    const tickStarted = performance.now();
    await Promise.all(
      Array.from({ length: sizes.concurrency }, async () => {
        while (issued < sizes.requests) {
          const { releaseIndex, itemId, done } = target(issued++);
          const answer = await api
            .call('POST', `/releases/v${releaseIndex + 1}/items/${itemId}`, JSON.stringify({ done }))
            .catch((err: Error) => ({ status: 0, ms: 0, err }));
          if (answer.status === 200) tickLatencies.push(answer.ms);
          else tickFailures.push(`HTTP ${answer.status}`);
        }
      }),
    );
    const apiTick = summarize({
      latencies: tickLatencies,
      wallMs: performance.now() - tickStarted,
      failures: tickFailures,
    });
    progress(`pipeline API: API tick p50 ${apiTick.p50.toFixed(1)} / p99 ${apiTick.p99.toFixed(1)} ms`);

    const ackAlone = summarize(
      await runLoad([slackPoster], pickClick, sizes.concurrency, { durationMs: sizes.ackDurationMs }),
    );
    // The pollers: each asks the shut release's gate to wait 30 s, and asks again when answered.
    const pollerAgent = apiPoster(base, token, sizes.pollers + 10);
    let polling = true;
    let gateAnswers = 0;
    let pollersOpen = 0;
    const pollers = Array.from({ length: sizes.pollers }, async () => {
      pollersOpen++;
      while (polling) {
        const answer = await pollerAgent.call('GET', '/releases/v0/gate?wait=30').catch(() => undefined);
        if (answer?.status === 200) gateAnswers++;
        else await sleep(200);
      }
    });
    await sleep(1000);
    const ackWithPollers = summarize(
      await runLoad([slackPoster], pickClick, sizes.concurrency, { durationMs: sizes.ackDurationMs }),
    );
    const open = pollersOpen;
    polling = false;
    pollerAgent.close();
    await Promise.allSettled(pollers);
    api.close();
    slackPoster.close();
    progress(
      `pipeline API: click ack p99 ${ackAlone.p99.toFixed(1)} ms alone, ${ackWithPollers.p99.toFixed(1)} ms with ${open} gate pollers`,
    );
    return { sizes, slackClick, apiTick, ackAlone, ackWithPollers, gateAnswers, pollersOpen: open };
  } finally {
    if (server) await stopServer(server);
    await standIn.stop();
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
    await rm(checklistsDir, { recursive: true, force: true });
  }
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

export function pipelineApiFigure(result: PipelineApiResult): string {
  return `API tick p50/p99 ${ms(result.apiTick.p50)}/${ms(result.apiTick.p99)} beside Slack click ${ms(result.slackClick.p50)}/${ms(result.slackClick.p99)}; click ack p99 ${ms(result.ackAlone.p99)} → ${ms(result.ackWithPollers.p99)} with ${result.pollersOpen} gate pollers`;
}

export function pipelineApiSection(result: PipelineApiResult): string[] {
  const { sizes } = result;
  const row = (label: string, summary: LatencySummary) =>
    `| ${label} | ${summary.requests} | ${ms(summary.p50)} | ${ms(summary.p99)} | ${ms(summary.max)} | ${summary.perSecond.toFixed(0)} | ${summary.failures} |`;
  return [
    '### Pipeline API (issue 17)',
    '',
    `${sizes.releases} releases of ${ITEMS} pipeline items; ${sizes.concurrency} at a time; the same items ticked and unticked through both doors.`,
    '',
    '| measurement | requests | p50 | p99 | max | per second | failures |',
    '|---|---|---|---|---|---|---|',
    row('Slack checkbox click (ack)', result.slackClick),
    row('API tick, POST /releases/{v}/items/{item} (answer)', result.apiTick),
    row('Slack click ack, no pipeline waiting', result.ackAlone),
    row(`the same, ${result.pollersOpen} pipelines long-polling the gate`, result.ackWithPollers),
    '',
    `The pollers got ${result.gateAnswers} gate answers while the acks were measured (each waits up to 30 s and ends early only when the answer changes; the gate stayed shut). An API tick answers after the commit and with the item's new state, so it does one more read than a click's ack.`,
    '',
  ];
}
