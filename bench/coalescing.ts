import { viewItem } from '../test/support/app-harness.js';
import type { StoredMessage } from '../test/support/slack-stand-in.js';
import { clickTemplate, type PostOutcome, renderBody, SignedPoster } from './clicks.js';
import { type Context, ITEM_COUNT, ITEM_IDS, sleep, startRelease, waitForSlackQuiet } from './releases.js';

// 100 ticks of 100 different items of one fresh release, one every 100 ms from 5 users, then until
// Slack shows them all: how many chat.update calls (the issue's target) and how many Slack Web API
// calls of any method the 100 clicks cost.

export const COALESCE_SPACING_MS = 100;
export const COALESCE_TARGET = 15;
const COALESCE_USERS = ['U0COAL1', 'U0COAL2', 'U0COAL3', 'U0COAL4', 'U0COAL5'];
const CHANNEL = 'C0BENCHCO';

export interface CoalesceResult {
  clicks: number;
  updates: number;
  finalCount: number;
  /** From the last click's ack to the final state in Slack; NaN when it never showed. */
  settledMs: number;
  byMessage: Map<string, number>;
  afterLastClick: number;
  afterFinalState: number;
  /** Each chat.update: seconds after the first click and which message. */
  timeline: string[];
  failed: number;
  lastAckS: number;
  readOnly: boolean;
  /** Every Web API call from the first click until Slack was quiet, by method. */
  callsByMethod: Map<string, number>;
  /** Of those, the calls made while the clicks were being sent (first click to last ack). */
  callsWhileClicking: number;
  /** Calls about other channels (none expected: nothing else runs meanwhile). */
  callsElsewhere: number;
}

export async function runCoalescing(ctx: Context): Promise<CoalesceResult> {
  const { standIn, progress } = ctx;
  progress('coalescing: starting a fresh release');
  const release = await startRelease(ctx, 'bench-coalesce', CHANNEL);
  await waitForSlackQuiet(standIn);
  const templates = ITEM_IDS.map((id) => clickTemplate(release.parts, id, true));
  const labels = new Map<string, string>([[release.header.ts, 'header']]);
  for (const [index, part] of release.parts.entries()) labels.set(part.ts, `part ${index + 1}`);
  const firstCall = standIn.calls.length;
  const callsSince = () => standIn.calls.slice(firstCall);
  const updates = () =>
    callsSince().filter((call) => call.method === 'chat.update' && call.args.channel === CHANNEL);
  const poster = new SignedPoster(ctx.shipUrl, ctx.signingSecret, 16);
  try {
    progress(`coalescing: ${templates.length} ticks, one every ${COALESCE_SPACING_MS} ms`);
    const t0 = performance.now();
    const firstClickEpoch = Date.now();
    const sends: Promise<PostOutcome>[] = [];
    let lastAck = 0;
    let lastAckEpoch = 0;
    for (const [index, template] of templates.entries()) {
      const wait = t0 + index * COALESCE_SPACING_MS - performance.now();
      if (wait > 0) await sleep(wait);
      const user = COALESCE_USERS[index % COALESCE_USERS.length]!;
      sends.push(
        poster.post(renderBody(template, user)).then((outcome) => {
          lastAck = Math.max(lastAck, performance.now());
          lastAckEpoch = Math.max(lastAckEpoch, Date.now());
          return outcome;
        }),
      );
    }
    const outcomes = await Promise.all(sends);
    // Ticked: a ticked checkbox, or (once the release completed) the read-only "✅ <item>" line.
    const shownDone = (message: StoredMessage, id: string) =>
      viewItem(message, id)?.ticked === true ||
      message.blocks.some(
        (block) => block.type === 'section' && block.text?.text.split('\n')[0] === `✅ Bench item ${id}`,
      );
    const tickedCount = () => {
      const messages = release.parts
        .map((part) => standIn.message(CHANNEL, part.ts))
        .filter((message): message is StoredMessage => message !== undefined);
      return ITEM_IDS.filter((id) => messages.some((message) => shownDone(message, id))).length;
    };
    let settledMs = Number.NaN;
    try {
      await standIn.waitFor(() => tickedCount() === ITEM_COUNT, 60_000, 'all items shown ticked');
      settledMs = performance.now() - lastAck;
    } catch {
      // reported with the count that did show up
    }
    const finalCount = tickedCount();
    const atFinal = updates().length;
    await waitForSlackQuiet(standIn);
    const all = updates();
    const byMessage = new Map<string, number>();
    for (const call of all) {
      const label = labels.get(String(call.args.ts)) ?? String(call.args.ts);
      byMessage.set(label, (byMessage.get(label) ?? 0) + 1);
    }
    const calls = callsSince();
    const callsByMethod = new Map<string, number>();
    for (const call of calls) callsByMethod.set(call.method, (callsByMethod.get(call.method) ?? 0) + 1);
    const fixed1 = (value: number) => value.toFixed(1);
    return {
      clicks: templates.length,
      updates: all.length,
      finalCount,
      settledMs,
      byMessage,
      afterLastClick: all.filter((call) => call.at > lastAckEpoch).length,
      afterFinalState: all.length - atFinal,
      timeline: all.map(
        (call) => `${fixed1((call.at - firstClickEpoch) / 1000)} ${labels.get(String(call.args.ts)) ?? '?'}`,
      ),
      failed: outcomes.filter((outcome) => outcome.status !== 200).length,
      lastAckS: (lastAck - t0) / 1000,
      readOnly: release.parts.every(
        (part) => viewItem(standIn.message(CHANNEL, part.ts) ?? part, 'i001')?.clickable !== true,
      ),
      callsByMethod,
      callsWhileClicking: calls.filter((call) => call.at <= lastAckEpoch).length,
      callsElsewhere: calls.filter((call) => call.args.channel !== undefined && call.args.channel !== CHANNEL)
        .length,
    };
  } finally {
    poster.close();
  }
}

// ---- report -------------------------------------------------------------------------------------

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function coalescingMet(result: CoalesceResult): boolean {
  return result.updates <= COALESCE_TARGET && result.finalCount === ITEM_COUNT;
}

export function totalCalls(result: CoalesceResult): number {
  let total = 0;
  for (const count of result.callsByMethod.values()) total += count;
  return total;
}

export function coalescingSection(r: CoalesceResult): string[] {
  const seconds = fixed((r.clicks * COALESCE_SPACING_MS) / 1000);
  const methods = [...r.callsByMethod.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([method, count]) => `${method} ${count}`)
    .join(', ');
  const lines = [
    `### Slack API calls for ${r.clicks} clicks on one release (${r.clicks} ticks of different items, one every ${COALESCE_SPACING_MS} ms, ${COALESCE_USERS.length} users)`,
    '',
    `- chat.update calls for ${r.clicks} clicks in ${seconds} s: **${r.updates}** (target ≤ ${COALESCE_TARGET}: ${coalescingMet(r) ? 'met' : 'MISSED'}); final messages show ${r.finalCount}/${ITEM_COUNT} ticked`,
    `- **all Slack Web API calls: ${totalCalls(r)}** from the first click until Slack was quiet (2.5 s without a call), by method: ${methods || 'none'}; ${r.callsWhileClicking} of them while the clicks were being sent${r.callsElsewhere > 0 ? `; ${r.callsElsewhere} were about other channels` : ''}`,
    Number.isFinite(r.settledMs)
      ? `- time from the last click's ack to the final state in Slack: ${fixed(r.settledMs)} ms`
      : '- the final state did not appear within 60 s of the last click',
    `- chat.update by message: ${[...r.byMessage.entries()].map(([label, count]) => `${label} ${count}`).join(', ')}; ${r.afterLastClick} of them after the last click, ${r.afterFinalState} after the final state showed`,
    `- chat.update calls, in seconds after the first click: ${r.timeline.join(', ')}`,
    `- clicks answered non-200: ${r.failed}; the last click was acked ${fixed(r.lastAckS, 1)} s after the first was sent`,
  ];
  if (r.readOnly) {
    lines.push(
      `- the ${r.clicks}th tick completed the release: every part was re-rendered read-only (✅ lines, no checkboxes); the calls above include what completing it causes (follow-up posts, the final deployment log as files)`,
    );
  }
  lines.push('');
  return lines;
}
