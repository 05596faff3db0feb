import { randomUUID } from 'node:crypto';
import { parseDuration } from '../domain/time.js';
import type { CliIo } from './io.js';

// `shipcheck release …`: the pipeline API from a CI job. It reads SHIPCHECK_URL and SHIPCHECK_TOKEN
// (handed in by the entry point), retries what the network loses with the same Idempotency-Key, and
// ends with an exit code a pipeline can branch on.

/** Exit codes of `release`: gate answers 0 allowed, 1 refused for good, 2 no answer in time. */
export const ReleaseExit = { ok: 0, refused: 1, unavailable: 2, usage: 2 } as const;
export type ReleaseExit = (typeof ReleaseExit)[keyof typeof ReleaseExit];

export interface ReleaseCommand {
  action: 'start' | 'tick' | 'gate' | 'deployed' | 'status';
  version: string;
  item?: string;
  env?: string;
  template?: string;
  window?: string;
  zone?: string;
  notes?: string;
  commit?: string;
  runUrl?: string;
  value?: string;
  evidence?: string;
  summary?: string;
  undo?: boolean;
  status?: string;
  timeout?: string;
  failOpen?: boolean;
}

/** How long one gate question waits server-side; below the API's 30 s and most proxies' idle limits. */
const GATE_WAIT_SECONDS = 25;
const ATTEMPTS = 4;
const REQUEST_TIMEOUT_MS = (GATE_WAIT_SECONDS + 10) * 1000;

class Unreachable extends Error {}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

interface Api {
  request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Reply>;
}

/** Clients of the API share one Idempotency-Key per command, so its retries change nothing twice. */
function connect(baseUrl: string, token: string, sleep: (ms: number) => Promise<void>): Api {
  const root = `${baseUrl.replace(/\/+$/, '')}/api/v1`;
  return {
    async request(method, path, body) {
      const key = randomUUID();
      let lastProblem = '';
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        try {
          const response = await fetch(`${root}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              accept: 'application/json',
              ...(method === 'POST' ? { 'content-type': 'application/json', 'idempotency-key': key } : {}),
            },
            ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          const text = await response.text();
          const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          // Worth another try: the server is busy, limited us, or is between instances.
          if (
            response.status === 429 ||
            response.status >= 500 ||
            (response.status === 409 && parsed.code === 'request_in_progress')
          ) {
            lastProblem = `${response.status} ${String(parsed.detail ?? response.statusText)}`;
            const retryAfter = Number(response.headers.get('retry-after'));
            await sleep(
              Number.isFinite(retryAfter) && retryAfter > 0
                ? Math.min(retryAfter, 60) * 1000
                : 1000 * attempt,
            );
            continue;
          }
          return { status: response.status, body: parsed };
        } catch (err) {
          lastProblem = (err as Error).message;
          if (attempt < ATTEMPTS) await sleep(1000 * attempt);
        }
      }
      throw new Unreachable(`shipcheck at ${baseUrl} did not answer: ${lastProblem}`);
    },
  };
}

const q = (env: string | undefined) => (env ? `?env=${encodeURIComponent(env)}` : '');
const versionPath = (version: string) => `/releases/${encodeURIComponent(version)}`;

export interface ReleaseRunOptions {
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export async function runRelease(
  io: CliIo,
  command: ReleaseCommand,
  options: ReleaseRunOptions = {},
): Promise<ReleaseExit> {
  const baseUrl = io.env?.SHIPCHECK_URL;
  const token = io.env?.SHIPCHECK_TOKEN;
  if (!baseUrl || !token) {
    io.stderr(
      'shipcheck: set SHIPCHECK_URL (where shipcheck answers) and SHIPCHECK_TOKEN (from /deploy token create)\n',
    );
    return ReleaseExit.usage;
  }
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const api = connect(baseUrl, token, sleep);
  try {
    switch (command.action) {
      case 'start':
        return await start(io, api, command);
      case 'tick':
        return await tick(io, api, command);
      case 'deployed':
        return await deployed(io, api, command);
      case 'status':
        return await status(io, api, command);
      case 'gate':
        return await gate(io, api, command, now);
    }
  } catch (err) {
    if (!(err instanceof Unreachable)) throw err;
    if (command.action === 'gate' && command.failOpen) {
      io.stderr(`shipcheck: ${err.message}\nshipcheck: --fail-open: going ahead without the gate's answer\n`);
      return ReleaseExit.ok;
    }
    io.stderr(`shipcheck: ${err.message}\n`);
    return ReleaseExit.unavailable;
  }
}

/** A refusal as the API words it; 1 for what the caller must fix, 2 for what a retry may fix. */
function refused(io: CliIo, reply: Reply): ReleaseExit {
  io.stderr(
    `shipcheck: ${reply.status} ${String(reply.body.code ?? '')}: ${String(reply.body.detail ?? '')}\n`,
  );
  return reply.status === 401 || reply.status === 503 ? ReleaseExit.unavailable : ReleaseExit.refused;
}

async function start(io: CliIo, api: Api, command: ReleaseCommand): Promise<ReleaseExit> {
  if (!command.env) {
    io.stderr('shipcheck: release start needs --env\n');
    return ReleaseExit.usage;
  }
  const window = command.window
    ? { at: command.window, ...(command.zone ? { zone: command.zone } : {}) }
    : undefined;
  const reply = await api.request('POST', '/releases', {
    version: command.version,
    env: command.env,
    ...(command.template ? { template: command.template } : {}),
    ...(window ? { window } : {}),
    ...(command.notes ? { notes: command.notes } : {}),
    ...(command.commit ? { commit: command.commit } : {}),
    ...(command.runUrl ? { runUrl: command.runUrl } : {}),
  });
  if (reply.status !== 200 && reply.status !== 201) return refused(io, reply);
  const release = reply.body.release as { version: string; env: string; id: string };
  io.stdout(
    `${reply.status === 201 ? 'Started' : 'Already started'}: ${release.version} → ${release.env} (${release.id})\n`,
  );
  return ReleaseExit.ok;
}

async function tick(io: CliIo, api: Api, command: ReleaseCommand): Promise<ReleaseExit> {
  const reply = await api.request(
    'POST',
    `${versionPath(command.version)}/items/${encodeURIComponent(command.item!)}${q(command.env)}`,
    {
      done: command.undo !== true,
      ...(command.value !== undefined ? { value: command.value } : {}),
      ...(command.evidence ? { evidenceUrl: command.evidence } : {}),
      ...(command.summary ? { summary: command.summary } : {}),
    },
  );
  if (reply.status !== 200) return refused(io, reply);
  const item = reply.body.item as { id: string; done: boolean };
  const change = reply.body.changed ? (item.done ? 'Ticked' : 'Unticked') : 'Already so';
  io.stdout(`${change}: ${item.id}${reply.body.deployed ? ' (the release is now deployed)' : ''}\n`);
  return ReleaseExit.ok;
}

async function deployed(io: CliIo, api: Api, command: ReleaseCommand): Promise<ReleaseExit> {
  const reply = await api.request('POST', `${versionPath(command.version)}/deployment${q(command.env)}`, {
    status: command.status ?? 'succeeded',
    ...(command.summary ? { summary: command.summary } : {}),
    ...(command.evidence ? { evidenceUrl: command.evidence } : {}),
  });
  if (reply.status !== 200) return refused(io, reply);
  const body = reply.body as { deployed: boolean; ticked: string[]; openItems: string[]; redFlag?: number };
  const lines = [`Reported: ${command.status ?? 'succeeded'}`];
  if (body.ticked.length) lines.push(`Ticked: ${body.ticked.join(', ')}`);
  if (body.deployed) lines.push('The release is deployed; check-ins are planned.');
  else if (body.openItems.length) lines.push(`Still open for a person: ${body.openItems.join(', ')}`);
  if (body.redFlag !== undefined)
    lines.push(`Red flag #${body.redFlag} raised; the team can roll back from Slack.`);
  io.stdout(`${lines.join('\n')}\n`);
  return ReleaseExit.ok;
}

async function status(io: CliIo, api: Api, command: ReleaseCommand): Promise<ReleaseExit> {
  const reply = await api.request('GET', `${versionPath(command.version)}${q(command.env)}`);
  if (reply.status !== 200) return refused(io, reply);
  io.stdout(`${JSON.stringify(reply.body, null, 2)}\n`);
  return ReleaseExit.ok;
}

interface GateBody {
  allowed: boolean;
  final: boolean;
  blockers: { kind: string; detail: string }[];
}

async function gate(io: CliIo, api: Api, command: ReleaseCommand, now: () => number): Promise<ReleaseExit> {
  const timeout = parseDuration(command.timeout ?? '20m');
  if (!timeout.ok) {
    io.stderr(`shipcheck: --timeout ${command.timeout}: use a duration such as 90s, 20m or 1h\n`);
    return ReleaseExit.usage;
  }
  const deadline = now() + timeout.value;
  let said = '';
  // The first question answers at once, so the job's log says straight away what it waits for.
  for (let asked = 0; ; asked++) {
    const left = Math.ceil((deadline - now()) / 1000);
    const wait = asked === 0 ? 0 : Math.max(0, Math.min(GATE_WAIT_SECONDS, left));
    const reply = await api.request(
      'GET',
      `${versionPath(command.version)}/gate?${new URLSearchParams({
        ...(command.env ? { env: command.env } : {}),
        wait: String(wait),
      })}`,
    );
    if (reply.status !== 200) return refused(io, reply);
    const answer = reply.body as unknown as GateBody;
    if (answer.allowed) {
      io.stdout('Gate open: the deploy may start.\n');
      return ReleaseExit.ok;
    }
    const reasons = answer.blockers.map((blocker) => `${blocker.kind}: ${blocker.detail}`).join('; ');
    if (answer.final) {
      io.stderr(`shipcheck: the gate will not open: ${reasons}\n`);
      return ReleaseExit.refused;
    }
    // Said once per change, so a long wait does not flood the job's log.
    if (reasons !== said) io.stdout(`Waiting at the gate: ${reasons}\n`);
    said = reasons;
    // --fail-open is for shipcheck being away, never for a gate that kept saying no.
    if (now() >= deadline) {
      io.stderr(`shipcheck: the gate did not open within ${command.timeout ?? '20m'}: ${reasons}\n`);
      return ReleaseExit.unavailable;
    }
  }
}
