import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { loadTemplates } from '../src/config/checklists.js';
import type { Template } from '../src/domain/template.js';
import {
  blockTexts,
  findHeader,
  headerText,
  startTestApp,
  type TestApp,
  viewItem,
} from '../test/support/app-harness.js';
import { clickButton, submitView } from '../test/support/slack-requests.js';
import type { RecordedView, StoredMessage } from '../test/support/slack-stand-in.js';

// Redis memory per finished release: releases of the standard template driven to their end through
// the real app (in this process, over HTTP, against the Slack stand-in): started, every required item
// ticked (values recorded where the item asks), the go call, the deploy, both check-ins answered,
// completed; then, once the relay and the jobs are quiet (seals and people written), MEMORY USAGE of
// every key under the run's prefix against what was there before the first release. Issue 16 asks for
// the figure before and after its audit trail; the "before" one is recorded below (docs/BENCHMARKS.md
// says how it was taken), as this code cannot run on the commit before.

/**
 * Measured on 7992b24 (the parent of issue 16's first commit) with this scenario, 20 releases, the mean
 * of two runs (143,294 and 143,459 bytes) on 2026-12-05; docs/BENCHMARKS.md says how.
 */
export const BEFORE_ISSUE_16 = { commit: '7992b24', releases: 20, bytesPerRelease: 143_377 };

const TEMPLATE_ID = 'standard';
const STARTER = 'U0LEAD';
/** Each phase is ticked by one of these, in turn: a release names several people. */
const TICKERS = ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0DAVE'];
/** Releases run side by side, one lane per environment (a deploying release locks its environment). */
const LANES = ['production', 'staging'];
const WAIT_MS = 20_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ReleaseMemoryResult {
  releases: number;
  /** (all keys under the prefix after − before) / releases, in bytes. */
  bytesPerRelease: number;
  /** Of that, the keys named after the release (`…:release:<id>` and `…:release:<id>:*`). */
  ownKeysPerRelease: number;
  /** Keys per release, all of them and the release's own. */
  keysPerRelease: number;
  ownKeyCountPerRelease: number;
  /** The release's own keys by kind (the part after the id: meta, audit, seals, people…), bytes per release. */
  byKind: [string, number][];
  /** The other keys that grew, by pattern (ids and numbers left out), bytes per release, largest first. */
  rest: [string, number][];
  auditEventsPerRelease: number;
  runMs: number;
}

async function waitFor<T>(
  what: string | (() => string),
  check: () => T | undefined | false,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = check();
    if (found) return found;
    if (Date.now() > deadline)
      throw new Error(`release memory: timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(20);
  }
}

function current(app: TestApp, message: StoredMessage): StoredMessage {
  const found = app.standIn.message(message.channel, message.ts);
  if (!found) throw new Error(`release memory: message ${message.ts} is gone`);
  return found;
}

/** The thread message that shows an item (a long phase may take several messages). */
function messageWithItem(app: TestApp, header: StoredMessage, phaseName: string, itemId: string) {
  return app.standIn
    .messages(header.channel)
    .find(
      (message) =>
        message.thread_ts === header.ts &&
        headerText(message).includes(`· ${phaseName}`) &&
        viewItem(message, itemId) !== undefined,
    );
}

/** A value the item's form accepts: its example when it shows one, else one of the input's kind. */
function sampleValue(form: RecordedView): string {
  const blocks = form.view.blocks as {
    block_id?: string;
    element?: { type?: string; placeholder?: { text?: string } };
  }[];
  const input = blocks.find((block) => block.block_id === 'value')?.element;
  if (input?.placeholder?.text) return input.placeholder.text;
  if (input?.type === 'url_text_input') return 'https://ci.example.com/runs/1';
  if (input?.type === 'number_input') return '1';
  return 'bench-value';
}

async function expectOk(what: string, answer: Promise<{ status: number; body: string }>) {
  const { status, body } = await answer;
  if (status !== 200) throw new Error(`release memory: ${what} answered ${status}: ${body.slice(0, 200)}`);
}

/** Ticks an item as `user`, submitting the value form when the item records one. */
async function tick(app: TestApp, message: StoredMessage, itemId: string, records: boolean, user: string) {
  const viewsBefore = app.standIn.views.length;
  await expectOk(`tick ${itemId}`, app.interact(app.tickPayload(current(app, message), itemId, true, user)));
  if (!records) return;
  // Lanes tick the same items side by side: the form is this release's (its id is in the message).
  const shown = JSON.stringify(message.blocks ?? []);
  const form = await waitFor(`the value form of ${itemId}`, () =>
    app.standIn.views.slice(viewsBefore).find((view) => {
      if (view.view.callback_id !== 'item.record') return false;
      const asked = JSON.parse(String(view.view.private_metadata)) as { itemId?: string; releaseId?: string };
      return asked.itemId === itemId && asked.releaseId !== undefined && shown.includes(asked.releaseId);
    }),
  );
  await expectOk(
    `the value of ${itemId}`,
    app.interact(submitView(form, { value: { 'value.input': sampleValue(form) } }, { user })),
  );
}

const goButtonOn = (message: StoredMessage) => JSON.stringify(message.blocks ?? []).includes('"release.go"');

/** One release of the standard template, from `/deploy start` to completed. */
async function driveRelease(app: TestApp, template: Template, version: string, env: string, channel: string) {
  await expectOk(
    `start ${version}`,
    app.command(`start ${version} ${env} ${template.id}`, { user_id: STARTER, channel_id: channel }),
  );
  const header = await waitFor(`the header of ${version}`, () =>
    findHeader(app.standIn, `${version} → ${env}`, channel),
  );
  for (const [phaseIndex, phase] of template.phases.entries()) {
    const user = TICKERS[phaseIndex % TICKERS.length]!;
    const required = phase.items.filter((item) => item.required);
    for (const [index, item] of required.entries()) {
      const message = await waitFor(`${phase.name}: ${item.id}`, () =>
        messageWithItem(app, header, phase.name, item.id),
      );
      // The phase with the go call opens once its release manager says go (anyone, without ROLES).
      if (index === 0 && phase.go && !viewItem(current(app, message), item.id)?.clickable) {
        const withGo = await waitFor(`the Go button of ${version}`, () => {
          const shown = current(app, header);
          return goButtonOn(shown) && shown;
        });
        await expectOk(
          'go',
          app.interact(clickButton(withGo as never, { actionId: 'release.go' }, { user: STARTER })),
        );
      }
      await waitFor(`${item.id} clickable`, () => viewItem(current(app, message), item.id)?.clickable);
      await tick(app, message, item.id, item.record !== undefined, user);
      await waitFor(`${item.id} ticked`, () => viewItem(current(app, message), item.id)?.ticked);
    }
  }
  // The check-ins come 1 s and 2 s after the deploy (the template below); each is answered healthy.
  /** When each check-in was last answered; one still asking after 3 s (its answer lost) is answered again. */
  const answered = new Map<string, number>();
  const state = () =>
    `${blockTexts(current(app, header)).join(' | ').slice(0, 600)} || thread: ${app.standIn
      .messages(channel)
      .filter((message) => message.thread_ts === header.ts)
      .slice(-3)
      .map((message) => message.text.slice(0, 120))
      .join(' | ')}`;
  await waitFor(
    () => `${version} completed (shown: ${state()})`,
    () => {
      if (blockTexts(current(app, header)).some((text) => text.includes('✅ Completed'))) return true;
      for (const message of app.standIn.messages(channel)) {
        if (message.thread_ts !== header.ts || Date.now() - (answered.get(message.ts) ?? 0) < 3000) continue;
        const actionId = JSON.stringify(message.blocks).match(/"action_id":"(checkin\.healthy\|[^"]+)"/)?.[1];
        if (!actionId) continue;
        answered.set(message.ts, Date.now());
        void app.interact(clickButton(message as never, { actionId }, { user: TICKERS[0]! }));
      }
      return false;
    },
    60_000,
  );
}

/** The standard template as shipped, with its check-ins 1 s and 2 s after the deploy instead of days. */
async function writeQuickStandard(fromDir: string, toDir: string): Promise<void> {
  const yaml = await readFile(path.join(fromDir, `${TEMPLATE_ID}.yaml`), 'utf8');
  const quick = yaml.replace(/^checkins: \[[^\]]*\]$/m, 'checkins: [1s, 2s]');
  if (quick === yaml)
    throw new Error('release memory: the standard template has no checkins line to shorten');
  await writeFile(path.join(toDir, `${TEMPLATE_ID}.yaml`), quick);
}

async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** MEMORY USAGE of each key, nested values all counted (SAMPLES 0). */
async function memoryOf(redis: Redis, keys: readonly string[]): Promise<Map<string, number>> {
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
  const replies = (await pipeline.exec()) ?? [];
  const sizes = new Map<string, number>();
  replies.forEach(([error, bytes], index) => {
    if (!error && typeof bytes === 'number') sizes.set(keys[index]!, bytes);
  });
  return sizes;
}

/** Waits until the relay has nothing left to relay and Slack has had no call for 2 s. */
async function settle(app: TestApp, redis: Redis): Promise<void> {
  const relayKeys = (await keysUnder(redis, app.prefix)).filter((key) => key.endsWith(':relay'));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    let pending = 0;
    for (const key of relayKeys) pending += await redis.zcard(key);
    const lastCall = app.standIn.calls.at(-1)?.at ?? 0;
    if (pending === 0 && Date.now() - lastCall >= 2000) return;
    await sleep(200);
  }
  throw new Error('release memory: the relay or the Slack sync did not settle within 60 s');
}

export interface ReleaseMemoryOptions {
  releases: number;
  /** The checklists shipped with the code under test. */
  checklistsDir: string;
  /** More environment for the app (AUDIT_KEY, so that the relay seals as in production). */
  env?: Record<string, string>;
  progress: (line: string) => void;
}

export async function runReleaseMemory(options: ReleaseMemoryOptions): Promise<ReleaseMemoryResult> {
  const started = Date.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shipcheck-memory-'));
  let app: TestApp | undefined;
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  try {
    await writeQuickStandard(options.checklistsDir, dir);
    const template = (await loadTemplates(dir)).get(TEMPLATE_ID);
    if (!template) throw new Error('release memory: the standard template did not load');
    app = await startTestApp({
      env: { CHECKLISTS_DIR: dir, LOG_LEVEL: 'warn', RETRO_PROMPT_AFTER: '1h', ...options.env },
    });
    await sleep(500);
    const before = await memoryOf(redis, await keysUnder(redis, app.prefix));
    const required = template.phases.flatMap((phase) => phase.items.filter((item) => item.required)).length;
    options.progress(
      `memory: ${options.releases} releases of the ${TEMPLATE_ID} template (${required} required items each), ${LANES.length} at a time`,
    );
    const run = `m${randomBytes(2).toString('hex')}`;
    await Promise.all(
      LANES.map(async (env, lane) => {
        for (let index = lane; index < options.releases; index += LANES.length) {
          await driveRelease(app!, template, `${run}-${index + 1}`, env, `C0MEM${lane}`);
          options.progress(`memory: release ${index + 1} of ${options.releases} completed`);
        }
      }),
    );
    await settle(app, redis);
    const keys = await keysUnder(redis, app.prefix);
    const after = await memoryOf(redis, keys);
    const total = (sizes: Map<string, number>) => [...sizes.values()].reduce((sum, bytes) => sum + bytes, 0);
    const own = /:release:[^:]+(?::(.+))?$/;
    const byKind = new Map<string, number>();
    let ownBytes = 0;
    let ownKeys = 0;
    let auditEvents = 0;
    for (const [key, bytes] of after) {
      const match = own.exec(key);
      if (!match || key.includes(':bull:')) continue;
      ownBytes += bytes;
      ownKeys += 1;
      const kind = match[1] ?? 'meta';
      byKind.set(kind, (byKind.get(kind) ?? 0) + bytes);
      if (kind === 'audit') auditEvents += await redis.xlen(key);
    }
    // The other keys, grouped by what they are: release ids, job ids and numbers left out of their names.
    const releaseIds = new Set([...after.keys()].flatMap((key) => own.exec(key)?.[0].split(':')[2] ?? []));
    const pattern = (key: string) =>
      key
        .slice(app!.prefix.length)
        .split(':')
        .map((part) =>
          releaseIds.has(part)
            ? '<release>'
            : part
                .replace(/(^|[-{])U[0-9A-Z]{2,}/g, '$1<user>')
                .replace(/(^|[-{])T[0-9A-Z]{3,}/g, '$1<team>')
                .replace(/\d+/g, '#'),
        )
        .join(':')
        .replace(/[^:]*<release>[^:]*/g, '<release>');
    const rest = new Map<string, number>();
    const add = (sizes: Map<string, number>, sign: number) => {
      for (const [key, bytes] of sizes) {
        if (own.test(key) && !key.includes(':bull:')) continue;
        rest.set(pattern(key), (rest.get(pattern(key)) ?? 0) + sign * bytes);
      }
    };
    add(after, 1);
    add(before, -1);
    const per = (value: number) => value / options.releases;
    return {
      releases: options.releases,
      bytesPerRelease: per(total(after) - total(before)),
      ownKeysPerRelease: per(ownBytes),
      keysPerRelease: per(after.size - before.size),
      ownKeyCountPerRelease: per(ownKeys),
      byKind: [...byKind.entries()].sort((a, b) => b[1] - a[1]).map(([kind, bytes]) => [kind, per(bytes)]),
      auditEventsPerRelease: per(auditEvents),
      rest: [...rest.entries()]
        .filter(([, bytes]) => bytes !== 0)
        .sort((a, b) => b[1] - a[1])
        .map(([name, bytes]) => [name, per(bytes)]),
      runMs: Date.now() - started,
    };
  } finally {
    await app?.stop();
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  }
}

const kib = (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KiB` : 'n/a');

/** The figure beside the recorded one, for the summary table. */
export function releaseMemoryFigure(result: ReleaseMemoryResult): string {
  const before = BEFORE_ISSUE_16;
  const change = Number.isFinite(before.bytesPerRelease)
    ? ` (${result.bytesPerRelease >= before.bytesPerRelease ? '+' : ''}${(((result.bytesPerRelease - before.bytesPerRelease) / before.bytesPerRelease) * 100).toFixed(0)} %)`
    : '';
  return `${kib(result.bytesPerRelease)} now; ${kib(before.bytesPerRelease)} before issue 16 (commit ${before.commit}, recorded in docs/BENCHMARKS.md)${change}`;
}

export function releaseMemorySection(result: ReleaseMemoryResult): string[] {
  return [
    `### Redis memory per finished release (${result.releases} releases of the ${TEMPLATE_ID} template, driven to completion)`,
    '',
    `- now: **${kib(result.bytesPerRelease)}** per finished release (${result.keysPerRelease.toFixed(1)} keys); before issue 16 (${BEFORE_ISSUE_16.commit}): **${kib(BEFORE_ISSUE_16.bytesPerRelease)}**`,
    `- of which the release's own keys: ${kib(result.ownKeysPerRelease)} in ${result.ownKeyCountPerRelease.toFixed(1)} keys, ${result.auditEventsPerRelease.toFixed(1)} audit events; by key: ${result.byKind.map(([kind, bytes]) => `${kind} ${kib(bytes)}`).join(', ')}`,
    `- the rest, by key: ${result.rest
      .slice(0, 8)
      .map(([name, bytes]) => `\`${name}\` ${kib(bytes)}`)
      .join(', ')}`,
    "- MEMORY USAGE (SAMPLES 0) of every key under the run's prefix once the relay and the Slack sync were quiet, minus the same before the first release, divided by the releases; each release: `/deploy start`, every required item ticked (values recorded), go, deploy, two check-ins answered healthy, completed; the app in this process with AUDIT_KEY set, pacing at 20 ms",
    `- took ${(result.runMs / 1000).toFixed(0)} s`,
    '',
  ];
}
