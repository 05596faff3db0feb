import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tickPayload } from './app-harness.js';
import { getFreePort } from './free-port.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from './redis.js';
import {
  createSlashCommand,
  type PostResult,
  type PostSignedOptions,
  postInteraction,
  postSlashCommand,
  type SlashCommandFields,
} from './slack-requests.js';
import type { SlackStandIn, StoredMessage } from './slack-stand-in.js';

// shipcheck as operators run it: processes started from src/main.ts, configured by environment,
// sharing one Redis prefix and one Slack stand-in.

export interface ShipcheckProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  output(): string;
  exited: Promise<number | null>;
}

export function spawnShipcheck(
  env: Record<string, string>,
  args: string[] = [],
  /** Node's own options before the entry point, e.g. another `--import` to preload a test seam. */
  nodeArgs: string[] = [],
): Omit<ShipcheckProcess, 'port' | 'baseUrl'> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, 'src/main.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk;
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitUntilLive(
  baseUrl: string,
  run: Omit<ShipcheckProcess, 'port' | 'baseUrl'>,
): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    if (run.child.exitCode !== null) throw new Error(`shipcheck exited early:\n${run.output()}`);
    const status = await fetch(`${baseUrl}/healthz`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`shipcheck did not come up:\n${run.output()}`);
}

/** A group of shipcheck processes acting as one bot, and the Slack side of the conversation. */
export class ProcessCluster {
  readonly processes: ShipcheckProcess[] = [];
  /** Every process spawned, also one that died before it came up (its output says why). */
  readonly spawned: Omit<ShipcheckProcess, 'port' | 'baseUrl'>[] = [];
  readonly prefix = createTestPrefix('proc');
  readonly signingSecret = randomBytes(16).toString('hex');

  constructor(
    readonly standIn: SlackStandIn,
    private readonly baseEnv: Record<string, string> = {},
  ) {}

  async start(
    env: Record<string, string> = {},
    args: string[] = [],
    nodeArgs: string[] = [],
  ): Promise<ShipcheckProcess> {
    const port = await getFreePort();
    const run = spawnShipcheck(
      {
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_SIGNING_SECRET: this.signingSecret,
        SLACK_API_URL: this.standIn.apiUrl,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: this.prefix,
        PORT: String(port),
        SLACK_POST_INTERVAL_MS: '20',
        SLACK_UPDATE_INTERVAL_MS: '20',
        SLACK_HOME_INTERVAL_MS: '20',
        LOG_LEVEL: 'info',
        ...this.baseEnv,
        ...env,
      },
      args,
      nodeArgs,
    );
    this.spawned.push(run);
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitUntilLive(baseUrl, run);
    const started = { ...run, port, baseUrl };
    this.processes.push(started);
    return started;
  }

  /** The process that answers Slack: the first one started. */
  get web(): ShipcheckProcess {
    const first = this.processes[0];
    if (!first) throw new Error('no shipcheck process started');
    return first;
  }

  /** Processes still running (a killed one refuses connections), in the order they were started. */
  get live(): ShipcheckProcess[] {
    return this.processes.filter((run) => run.child.exitCode === null && run.child.signalCode === null);
  }

  /** A slash command, sent to `via` (the first process unless given). */
  async command(
    text: string,
    overrides: Partial<SlashCommandFields> = {},
    options: Partial<PostSignedOptions> = {},
    via: ShipcheckProcess = this.web,
  ): Promise<PostResult & { responseTag: string }> {
    const responseTag = randomBytes(4).toString('hex');
    const fields = createSlashCommand({
      text,
      response_url: this.standIn.responseUrl(responseTag),
      ...overrides,
    });
    const result = await postSlashCommand(`${via.baseUrl}/slack/events`, fields, {
      signingSecret: this.signingSecret,
      ...options,
    });
    return { ...result, responseTag };
  }

  /** A block_actions or view_submission payload, sent to `via` (the first process unless given). */
  interact(
    payload: object,
    options: Partial<PostSignedOptions> = {},
    via: ShipcheckProcess = this.web,
  ): Promise<PostResult> {
    return postInteraction(`${via.baseUrl}/slack/events`, payload, {
      signingSecret: this.signingSecret,
      ...options,
    });
  }

  tickPayload(
    message: StoredMessage,
    itemId: string,
    selected: boolean,
    user = 'U0ALICE',
    responseUrl = this.standIn.responseUrl(),
  ): ReturnType<typeof tickPayload> {
    return tickPayload(message, itemId, selected, user, responseUrl);
  }

  /** SIGTERM to every process still running; resolves with their exit codes. */
  async stop(): Promise<(number | null)[]> {
    const codes = await Promise.all(
      this.processes.map((run) => {
        if (run.child.exitCode === null) run.child.kill('SIGTERM');
        return run.exited;
      }),
    );
    for (const run of this.processes) if (run.child.exitCode === null) run.child.kill('SIGKILL');
    // A cluster on a redis-server of the test's own leaves its keys to that server's removal (it may
    // be down by now); on the shared test Redis they are deleted here.
    const redisUrl = this.baseEnv.REDIS_URL ?? TEST_REDIS_URL;
    if (redisUrl === TEST_REDIS_URL) await deleteKeysWithPrefix(this.prefix, redisUrl);
    return codes;
  }
}
