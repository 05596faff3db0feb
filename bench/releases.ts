import type { Redis } from 'ioredis';
import { findHeader, headerText, viewItem } from '../test/support/app-harness.js';
import {
  createSlashCommand,
  encodeSlashCommand,
  postSigned,
  SLACK_TEAM,
} from '../test/support/slack-requests.js';
import type { SlackStandIn, StoredMessage } from '../test/support/slack-stand-in.js';
import { type BodyTemplate, clickTemplate, type RequestPicker, releaseIdOf } from './clicks.js';

// What several parts share: the bench's 100-item checklist, starting a release through a signed
// `/deploy start` and waiting for Slack to show it, and clicks that tick and untick its items.

export const TEAM_ID = SLACK_TEAM.id;
export const ITEM_COUNT = 100;
export const ITEM_IDS = Array.from(
  { length: ITEM_COUNT },
  (_unused, index) => `i${String(index + 1).padStart(3, '0')}`,
);
/** Clicks cycle over 99 of the 100 items, so the release never completes while it is being clicked. */
export const CYCLE_ITEMS = ITEM_IDS.slice(0, ITEM_COUNT - 1);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Context {
  standIn: SlackStandIn;
  redis: Redis;
  prefix: string;
  signingSecret: string;
  shipUrl: string;
  progress: (line: string) => void;
}

export function benchTemplateYaml(): string {
  const lines = [
    '# Written by bench/run.ts: one phase of 100 required items.',
    'id: bench',
    'name: Benchmark',
    'phases:',
    '  - id: all',
    '    name: Bench',
    '    items:',
  ];
  for (const id of ITEM_IDS) lines.push(`      - id: ${id}`, `        text: Bench item ${id}`);
  return `${lines.join('\n')}\n`;
}

export interface StartedRelease {
  channel: string;
  releaseId: string;
  header: StoredMessage;
  parts: StoredMessage[];
}

/** `/deploy start <version> <template>` in `channel`; answers when the command was acked with 200. */
export async function sendStart(ctx: Context, version: string, template: string, channel: string) {
  const fields = createSlashCommand({
    text: `start ${version} ${template}`,
    channel_id: channel,
    channel_name: 'bench',
    response_url: ctx.standIn.responseUrl(`start-${version}`),
  });
  const answer = await postSigned(ctx.shipUrl, encodeSlashCommand(fields), {
    signingSecret: ctx.signingSecret,
    timeoutMs: 10_000,
  });
  if (answer.status !== 200)
    throw new Error(`/deploy start ${version} answered ${answer.status}: ${answer.body}`);
}

/** Starts a release of the bench template and waits until Slack shows all 100 items clickable. */
export async function startRelease(ctx: Context, version: string, channel: string): Promise<StartedRelease> {
  await sendStart(ctx, version, 'bench', channel);
  const title = `${version} → production`;
  const found = await ctx.standIn.waitFor(
    () => {
      const header = findHeader(ctx.standIn, title, channel);
      if (!header) return undefined;
      const parts = ctx.standIn
        .messages(channel)
        .filter((message) => message.thread_ts === header.ts && headerText(message).includes('· Bench'));
      const complete = ITEM_IDS.every((id) => parts.some((part) => viewItem(part, id)?.clickable));
      return complete ? { header, parts } : undefined;
    },
    30_000,
    `release ${title} with all ${ITEM_COUNT} items posted`,
  );
  return { channel, releaseId: releaseIdOf(found.parts), ...found };
}

/** Waits until the Slack stand-in has had no call for `quietMs` (at most `maxMs`). */
export async function waitForSlackQuiet(
  standIn: SlackStandIn,
  quietMs = 2500,
  maxMs = 30_000,
): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const last = standIn.calls.at(-1)?.at ?? 0;
    if (Date.now() - last >= quietMs) return true;
    await sleep(100);
  }
  return false;
}

export function auditKey(prefix: string, releaseId: string): string {
  return `${prefix}:{${TEAM_ID}}:release:${releaseId}:audit`;
}

/** Tick and untick bodies for the 99 cycled items of a release. */
export interface CycleTemplates {
  ticks: BodyTemplate[];
  unticks: BodyTemplate[];
}

export function cycleTemplates(release: StartedRelease): CycleTemplates {
  return {
    ticks: CYCLE_ITEMS.map((id) => clickTemplate(release.parts, id, true)),
    unticks: CYCLE_ITEMS.map((id) => clickTemplate(release.parts, id, false)),
  };
}

/**
 * Tick on the first pass over the items, untick on the second, and so on: every click changes state.
 * `offset` is how many clicks of the cycle were sent before, so a later run carries on from there.
 */
export function cyclePicker(templates: CycleTemplates, offset: number, userPrefix = 'U0CLK'): RequestPicker {
  return (k, clicker) => {
    const index = k + offset;
    const item = index % CYCLE_ITEMS.length;
    const tick = Math.floor(index / CYCLE_ITEMS.length) % 2 === 0;
    return {
      template: (tick ? templates.ticks : templates.unticks)[item]!,
      userId: `${userPrefix}${String(clicker).padStart(3, '0')}`,
    };
  };
}
