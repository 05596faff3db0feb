import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { viewItem } from '../test/support/app-harness.js';
import {
  createBlockActions,
  encodeInteraction,
  type SlackMessage,
  signSlackRequest,
} from '../test/support/slack-requests.js';
import type { StoredMessage } from '../test/support/slack-stand-in.js';

// Requests as Slack sends them (signed, form-encoded, a click carrying the whole message), and a
// keep-alive HTTP client that sends them from N concurrent clickers and times each full response.

const USER_SLOT = '__BENCHUSER__';
const ACTION_TS_SLOT = '__BENCHACTIONTS__';
const TRIGGER_SLOT = '__BENCHTRIGGER__';
const SLOT_PATTERN = new RegExp(`(${USER_SLOT}|${ACTION_TS_SLOT}|${TRIGGER_SLOT})`);

/**
 * Put these in a payload where each request needs its own value: the user, the action_ts, the
 * trigger_id. They are letters and underscores, which form encoding leaves as they are.
 */
export const SLOTS = { userId: USER_SLOT, actionTs: ACTION_TS_SLOT, triggerId: TRIGGER_SLOT } as const;
/** A payload's `user` whose id and names are filled in per request. */
export const SLOT_USER = { id: USER_SLOT, username: USER_SLOT, name: USER_SLOT } as const;

/**
 * A request's form body with holes for the user, the action_ts and the trigger_id, so that thousands
 * of distinct requests cost a string join each. Even entries are literal text, odd entries name a hole.
 */
export type BodyTemplate = string[];

/** Cuts an encoded body (with SLOTS in it) into a template. */
export function bodyTemplate(encodedBody: string): BodyTemplate {
  return encodedBody.split(SLOT_PATTERN);
}

interface RenderedBlock {
  block_id?: string;
  accessory?: { type?: string; action_id?: string };
}

function findCheckbox(message: StoredMessage, itemId: string) {
  for (const block of message.blocks as RenderedBlock[]) {
    const actionId = block.accessory?.action_id;
    if (block.accessory?.type === 'checkboxes' && actionId?.endsWith(`|${itemId}`) && block.block_id) {
      return { blockId: block.block_id, actionId };
    }
  }
  return undefined;
}

/** The release id in the action_id of the first checkbox ("item.set|<releaseId>|<itemId>"). */
export function releaseIdOf(parts: StoredMessage[]): string {
  for (const part of parts) {
    for (const block of part.blocks as RenderedBlock[]) {
      const actionId = block.accessory?.action_id;
      if (actionId?.startsWith('item.set|')) return actionId.split('|')[1]!;
    }
  }
  throw new Error('no item checkbox in the phase messages');
}

/** The form body of a click on `itemId` (ticking when `selected`), from the message that shows it. */
export function clickTemplate(parts: StoredMessage[], itemId: string, selected: boolean): BodyTemplate {
  const message = parts.find((part) => viewItem(part, itemId)?.clickable);
  const checkbox = message && findCheckbox(message, itemId);
  if (!message || !checkbox) throw new Error(`item ${itemId} has no checkbox in the phase messages`);
  const option = { text: { type: 'mrkdwn', text: 'Done' }, value: 'done' };
  const selected_options = selected ? [option] : [];
  const payload = createBlockActions({
    message: message as unknown as SlackMessage,
    user: SLOT_USER,
    triggerId: TRIGGER_SLOT,
    actions: [
      {
        type: 'checkboxes',
        block_id: checkbox.blockId,
        action_id: checkbox.actionId,
        selected_options,
        action_ts: ACTION_TS_SLOT,
      },
    ],
    stateValues: {
      [checkbox.blockId]: { [checkbox.actionId]: { type: 'checkboxes', selected_options } },
    },
  });
  return bodyTemplate(encodeInteraction(payload));
}

let actionCounter = 0;
const actionBaseMicros = Date.now() * 1000;
const triggerBase = String(Date.now()).padStart(13, '0');
const triggerHex = randomBytes(16).toString('hex');

/** Like Slack's action_ts, and unique per request: the app uses it to recognise a retried click. */
function nextActionTs(): string {
  actionCounter += 1;
  const micros = actionBaseMicros + actionCounter;
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
}

export function renderBody(template: BodyTemplate, userId: string): string {
  const actionTs = nextActionTs();
  // Shaped like Slack's (13 digits, 11 digits, 32 hex) and unique per request.
  const triggerId = `${triggerBase}.${String(actionCounter).padStart(11, '0')}.${triggerHex}`;
  let body = '';
  for (let index = 0; index < template.length; index++) {
    const piece = template[index]!;
    if (index % 2 === 0) body += piece;
    else body += piece === USER_SLOT ? userId : piece === ACTION_TS_SLOT ? actionTs : triggerId;
  }
  return body;
}

export interface PostOutcome {
  status: number;
  ms: number;
}

/** A keep-alive client for one server. Signs every body as Slack would, just before sending it. */
export class SignedPoster {
  private readonly agent: http.Agent;
  private readonly target: URL;

  constructor(
    url: string,
    private readonly signingSecret: string,
    maxSockets: number,
  ) {
    this.target = new URL(url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  post(body: string, timeoutMs = 10_000): Promise<PostOutcome> {
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...signSlackRequest(this.signingSecret, body),
    };
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const request = http.request(
        {
          host: this.target.hostname,
          port: this.target.port,
          path: this.target.pathname,
          method: 'POST',
          headers,
          agent: this.agent,
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
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Which request the k-th of a run is, and who sends it. */
export type RequestPicker = (k: number, clicker: number) => { template: BodyTemplate; userId: string };

/** A run ends after this many requests, or once this long has passed (requests in flight still count). */
export type LoadLimit = { requests: number } | { durationMs: number };

export interface LoadResult {
  latencies: number[];
  wallMs: number;
  failures: string[];
  /** The latencies of each poster's requests, in the order the posters were given. */
  byPoster: number[][];
}

/**
 * Sends requests from `clickers` concurrent clickers, each waiting for its answer before the next.
 * The k-th request goes to poster k mod posters.length (round-robin over instances). Bounded by count
 * or time, and every request by its own timeout.
 */
export async function runLoad(
  posters: SignedPoster[],
  pick: RequestPicker,
  clickers: number,
  limit: LoadLimit,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const failures: string[] = [];
  const byPoster = posters.map((): number[] => []);
  let issued = 0;
  const started = performance.now();
  const more =
    'requests' in limit
      ? () => issued < limit.requests
      : () => performance.now() - started < limit.durationMs;
  const clicker = async (index: number) => {
    while (more()) {
      const k = issued++;
      const { template, userId } = pick(k, index);
      const body = renderBody(template, userId);
      const target = k % posters.length;
      try {
        const outcome = await posters[target]!.post(body);
        latencies.push(outcome.ms);
        byPoster[target]!.push(outcome.ms);
        if (outcome.status !== 200) failures.push(`HTTP ${outcome.status}`);
      } catch (error) {
        failures.push(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: clickers }, (_unused, index) => clicker(index)));
  return { latencies, wallMs: performance.now() - started, failures, byPoster };
}

export interface LatencySummary {
  requests: number;
  p50: number;
  p99: number;
  max: number;
  perSecond: number;
  failures: number;
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index]!;
}

export function summarize(result: Pick<LoadResult, 'latencies' | 'wallMs' | 'failures'>): LatencySummary {
  const sorted = [...result.latencies].sort((a, b) => a - b);
  return {
    requests: result.latencies.length + result.failures.filter((f) => !f.startsWith('HTTP')).length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    perSecond: (result.latencies.length / result.wallMs) * 1000,
    failures: result.failures.length,
  };
}
