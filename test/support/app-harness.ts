import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { type Config, loadConfig } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { type Shipcheck, startShipcheck } from '../../src/main.js';
import { getFreePort } from './free-port.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from './redis.js';
import {
  clickCheckbox,
  createSlashCommand,
  DEFAULT_CHANNEL_ID,
  type PostResult,
  type PostSignedOptions,
  postInteraction,
  postSlashCommand,
  type SlackMessage,
  type SlashCommandFields,
} from './slack-requests.js';
import { SlackStandIn, type StoredMessage } from './slack-stand-in.js';

// The real app, started over HTTP against real Redis and the local Slack stand-in.

export interface TestApp {
  url: string;
  baseUrl: string;
  signingSecret: string;
  prefix: string;
  config: Config;
  standIn: SlackStandIn;
  shipcheck: Shipcheck;
  command(
    text: string,
    overrides?: Partial<SlashCommandFields>,
    options?: Partial<PostSignedOptions>,
  ): Promise<PostResult & { responseTag: string }>;
  interact(payload: object, options?: Partial<PostSignedOptions>): Promise<PostResult>;
  /** A checkbox click on `message` as `user` sees it, with a response_url that the stand-in records. */
  /** The click's answers go to `responseUrl` (a stand-in response_url with a tag of its own when left out). */
  tickPayload(
    message: StoredMessage,
    itemId: string,
    selected: boolean,
    user?: string,
    responseUrl?: string,
  ): ReturnType<typeof tickPayload>;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Share a stand-in between instances; the caller then stops it. */
  standIn?: SlackStandIn;
  /** Share a Redis prefix and signing secret: several instances acting as one bot. */
  prefix?: string;
  signingSecret?: string;
  /** Collects the app's log lines (JSON) at debug level, instead of discarding them. */
  logLines?: string[];
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const standIn = options.standIn ?? (await SlackStandIn.start());
  const port = await getFreePort();
  const prefix = options.prefix ?? createTestPrefix('e2e');
  const signingSecret = options.signingSecret ?? randomBytes(16).toString('hex');
  const config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: standIn.apiUrl,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    PORT: String(port),
    // Fast pacing keeps the suite quick; the pacing itself has tests of its own.
    SLACK_POST_INTERVAL_MS: '20',
    SLACK_UPDATE_INTERVAL_MS: '20',
    SLACK_HOME_INTERVAL_MS: '20',
    ...options.env,
  });
  const logLines = options.logLines;
  const log = logLines
    ? createLogger(
        'debug',
        new Writable({ write: (chunk, _encoding, done) => done(void logLines.push(String(chunk))) }),
      )
    : createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const shipcheck = await startShipcheck(config, log);
  const baseUrl = `http://127.0.0.1:${port}`;
  const url = `${baseUrl}/slack/events`;
  return {
    url,
    baseUrl,
    signingSecret,
    prefix,
    config,
    standIn,
    shipcheck,
    async command(text, overrides = {}, postOptions = {}) {
      const responseTag = randomBytes(4).toString('hex');
      const fields = createSlashCommand({
        text,
        response_url: standIn.responseUrl(responseTag),
        ...overrides,
      });
      const result = await postSlashCommand(url, fields, { signingSecret, ...postOptions });
      return { ...result, responseTag };
    },
    tickPayload(message, itemId, selected, user = 'U0ALICE', responseUrl = standIn.responseUrl()) {
      return tickPayload(message, itemId, selected, user, responseUrl);
    },
    interact(payload, postOptions = {}) {
      return postInteraction(url, payload, { signingSecret, ...postOptions });
    },
    async stop() {
      await shipcheck.stop();
      await deleteKeysWithPrefix(prefix);
      if (!options.standIn) await standIn.stop();
    },
  };
}

/** The release header: a top-level message in the channel whose header block names the release. */
export function findHeader(
  standIn: SlackStandIn,
  title: string,
  channel = DEFAULT_CHANNEL_ID,
): StoredMessage | undefined {
  return standIn
    .messages(channel)
    .find((message) => !message.thread_ts && blockTexts(message).some((text) => text.includes(title)));
}

/** A phase's checklist message in the release thread, found by its header ("2/11 · Testing"). */
export function findPhaseMessage(
  standIn: SlackStandIn,
  headerTs: string,
  phaseName: string,
  channel = DEFAULT_CHANNEL_ID,
): StoredMessage | undefined {
  return standIn
    .messages(channel)
    .find((message) => message.thread_ts === headerTs && headerText(message).includes(`· ${phaseName}`));
}

export function headerText(message: StoredMessage | SlackMessage): string {
  const header = ((message.blocks ?? []) as RenderedBlock[]).find((block) => block.type === 'header');
  return header?.text?.text ?? '';
}

export function blockTexts(message: StoredMessage | SlackMessage): string[] {
  return JSON.stringify(message.blocks ?? [])
    .match(/"text":"((?:[^"\\]|\\.)*)"/g)!
    .map((match) => JSON.parse(match.slice(7)) as string);
}

interface RenderedBlock {
  type: string;
  block_id?: string;
  text?: { text?: string };
  accessory?: { type?: string; action_id?: string; initial_options?: unknown[] };
}

interface ItemView {
  text: string;
  clickable: boolean;
  ticked: boolean;
}

/** What a user sees for one item: its section text and its checkbox, if it has one. */
export function viewItem(message: StoredMessage, itemId: string): ItemView | undefined {
  for (const block of (message.blocks ?? []) as RenderedBlock[]) {
    const accessory = block.accessory;
    const blockId = block.block_id ?? '';
    if (accessory?.action_id?.endsWith(`|${itemId}`) || blockId.startsWith(`item:${itemId}:`)) {
      return {
        text: block.text?.text ?? '',
        clickable: accessory?.type === 'checkboxes',
        // A read-only item (locked phase, closed release) shows its state as a leading mark.
        ticked: accessory
          ? (accessory.initial_options ?? []).length > 0
          : (block.text?.text ?? '').startsWith('✅'),
      };
    }
  }
  return undefined;
}

/** The block_actions payload Slack sends when `user` ticks or unticks `itemId` in `message` as they see it. */
export function tickPayload(
  message: StoredMessage,
  itemId: string,
  selected: boolean,
  user = 'U0ALICE',
  responseUrl?: string,
) {
  const block = ((message.blocks ?? []) as RenderedBlock[]).find((candidate) =>
    candidate.accessory?.action_id?.endsWith(`|${itemId}`),
  );
  if (!block) throw new Error(`item ${itemId} has no checkbox in message ${message.ts}`);
  return clickCheckbox(
    message as unknown as SlackMessage,
    { optionValue: 'done', blockId: block.block_id },
    { selected, user, ...(responseUrl ? { responseUrl } : {}) },
  );
}
