import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ReleaseStore } from '../../src/store/release-store.js';
import { current, plainItemIds, template, waitForHeader, waitForPhase } from '../e2e/helpers.js';
import { findHeader, findPhaseMessage, viewItem } from '../support/app-harness.js';
import { ProcessCluster } from '../support/process-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { SLACK_TEAM } from '../support/slack-requests.js';
import { type Misbehaviour, SlackStandIn } from '../support/slack-stand-in.js';

// Slack fails every call for longer than the message sync jobs keep trying, while people tick items
// and start a release. Once Slack is back, every release must show its committed state within a
// minute, nothing may be posted twice, and the catch-up keeps to the pacing.
//
// CHAOS_SLACK_OUTAGE_MS sets the outage; the default (90 s) outlasts every try of a sync job (about
// 70 s: four tries of calls each retried for about 15 s), so only the relay asking again brings the
// messages back. The 5 minutes is CHAOS_SLACK_OUTAGE_MS=300000.

const OUTAGE_MS = Number(process.env.CHAOS_SLACK_OUTAGE_MS ?? 90_000);
const CONVERGE_MS = 60_000;
const STAKEHOLDERS = 'C0STAKE';
const POST_INTERVAL_MS = 200;
const UPDATE_INTERVAL_MS = 250;
/** Timer slack between two paced calls: a reservation is kept to within a few ms, not to the ms. */
const PACING_TOLERANCE_MS = 25;
const TEAM_ID = SLACK_TEAM.id;
const phaseName = template('minimal').phases[0]!.name;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let standIn: SlackStandIn | undefined;
let cluster: ProcessCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  await standIn?.stop();
  cluster = undefined;
  standIn = undefined;
});

/** Slack calls of `methods` after `since`, grouped by `groupOf`, that came sooner than `intervalMs` after the one before. */
function tooClose(
  slack: SlackStandIn,
  methods: string[],
  since: number,
  intervalMs: number,
  groupOf: (args: Record<string, unknown>) => string,
): string[] {
  const last = new Map<string, number>();
  const close: string[] = [];
  for (const call of slack.calls.filter((entry) => methods.includes(entry.method) && entry.at >= since)) {
    const group = groupOf(call.args);
    const previous = last.get(group);
    if (previous !== undefined && call.at - previous < intervalMs - PACING_TOLERANCE_MS)
      close.push(`${call.method} ${group} ${call.at - previous} ms after the one before`);
    last.set(group, call.at);
  }
  return close;
}

async function runOutage(misbehaviour: Misbehaviour): Promise<void> {
  const slack = await SlackStandIn.start();
  standIn = slack;
  const procs = new ProcessCluster(slack, {
    STAKEHOLDER_CHANNEL: STAKEHOLDERS,
    CHECKIN_SCHEDULE: '1h',
    SLACK_POST_INTERVAL_MS: String(POST_INTERVAL_MS),
    SLACK_UPDATE_INTERVAL_MS: String(UPDATE_INTERVAL_MS),
    SHUTDOWN_TIMEOUT_MS: '3000',
  });
  cluster = procs;
  await procs.start();
  await procs.start();

  // Before the outage: one release, shown and announced.
  await procs.command('start v1.0 staging minimal');
  const header1 = await waitForHeader(procs, 'v1.0 → staging');
  const phase1 = await waitForPhase(procs, header1, phaseName);
  await slack.waitFor(
    () => slack.messages(STAKEHOLDERS).some((message) => message.text.includes('v1.0')),
    5000,
    'v1.0 announced',
  );

  // Slack fails everything; people go on working.
  slack.misbehaveFor('*', [misbehaviour], OUTAGE_MS);
  const outageEnds = Date.now() + OUTAGE_MS;
  const callsBefore = slack.calls.length;
  const items = plainItemIds('minimal', 0).slice(0, 3);
  for (const itemId of items) {
    const answer = await procs.interact(procs.tickPayload(current(procs, phase1), itemId, true));
    expect(answer.status).toBe(200);
  }
  expect((await procs.command('start v2.0 staging minimal')).status).toBe(200);
  await sleep(Math.max(0, outageEnds - Date.now()));
  const backAt = Date.now();

  // Slack is back: the committed state shows within a minute, by itself.
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const store = new ReleaseStore(redis, procs.prefix);
    const [v1] = await store.findByVersion(TEAM_ID, 'v1.0');
    const shown = () => {
      const header2 = findHeader(slack, 'v2.0 → staging');
      const phase2 = header2 && findPhaseMessage(slack, header2.ts, phaseName);
      return (
        phase2 !== undefined &&
        items.every((itemId) => viewItem(current(procs, phase1), itemId)?.ticked === true) &&
        slack.messages(STAKEHOLDERS).some((message) => message.text.includes('v2.0'))
      );
    };
    await slack.waitFor(shown, CONVERGE_MS, 'every release showing its committed state');
    const convergedMs = Date.now() - backAt;
    // Room for anything posted twice to show.
    await sleep(2000);

    const stored = await store.getRelease(TEAM_ID, v1!.id);
    for (const itemId of items) expect(stored?.items[itemId]?.done).toBe(true);
    const headers = slack
      .messages()
      .filter((message) => !message.thread_ts && /v[12]\.0 → staging/.test(message.text));
    expect(headers.map((message) => message.text.slice(0, 22)).sort()).toEqual([
      'Release v1.0 → staging',
      'Release v2.0 → staging',
    ]);
    const phaseMessages = slack.messages().filter((message) => message.text.endsWith(`: ${phaseName}`));
    expect(phaseMessages).toHaveLength(2);
    const announced = slack.messages(STAKEHOLDERS).map((message) => message.text);
    expect(announced.filter((text) => text.includes('v1.0'))).toHaveLength(1);
    expect(announced.filter((text) => text.includes('v2.0'))).toHaveLength(1);
    // The catch-up kept to the pacing: posts per channel, updates per workspace.
    expect(
      tooClose(slack, ['chat.postMessage'], backAt, POST_INTERVAL_MS, (args) => String(args.channel)),
    ).toEqual([]);
    expect(tooClose(slack, ['chat.update'], backAt, UPDATE_INTERVAL_MS, () => TEAM_ID)).toEqual([]);

    const duringOutage = slack.calls.slice(callsBefore).filter((call) => call.at < backAt).length;
    console.log(
      `${misbehaviour.kind} for ${OUTAGE_MS / 1000} s: ${duringOutage} calls refused meanwhile; ` +
        `every release shown ${convergedMs} ms after Slack came back; ` +
        `${headers.length} headers, ${phaseMessages.length} checklists, ${announced.length} announcements, none twice`,
    );
  } finally {
    redis.disconnect();
  }
}

describe('a long Slack outage', () => {
  it(
    'shows every committed change once Slack answers again after failing with 500s',
    async () => {
      await runOutage({ kind: 'server_error', status: 500 });
    },
    OUTAGE_MS + CONVERGE_MS + 60_000,
  );

  it(
    'shows every committed change once Slack stops answering 429',
    async () => {
      await runOutage({ kind: 'rate_limited', retryAfterSec: 5 });
    },
    OUTAGE_MS + CONVERGE_MS + 60_000,
  );
});
