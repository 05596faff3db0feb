import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The servers under test run in child processes, so the load generator never shares their event loop.

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Variables shipcheck reads (src/config/env.ts); the parent's values never leak into a child. A
 * RELAY_INTERVAL_MS or ROLES left in the shell would otherwise change what the bench measures.
 */
const APP_ENV_PATTERN =
  /^(SLACK_|REDIS_|DEPLOY_|SHIPCHECK_|REMINDER_|CHECKIN_|RELAY_|QUIET_HOURS$|PORT$|METRICS_PORT$|SHUTDOWN_TIMEOUT_MS$|CHECKLISTS_DIR$|LOG_LEVEL$|RETENTION_DAYS$|RETRO_PROMPT_AFTER$|STAKEHOLDER_CHANNEL$|TWO_PERSON_RULE$|ROLES$|PERMISSIONS$|FREEZE_WINDOWS$)/;

const MAX_KEPT_LINES = 200;

export interface ServerChild {
  name: string;
  process: ChildProcess;
  /** The last lines the child wrote to stdout and stderr. */
  lines: string[];
  /** How many lines it wrote in all. */
  lineCount: number;
  exitCode: number | null | undefined;
  exited: Promise<void>;
}

const running = new Set<ServerChild>();

// Last resort when the parent dies without running its cleanup: no child outlives it.
process.once('exit', () => {
  for (const child of running) child.process.kill('SIGKILL');
});

export function spawnServer(
  name: string,
  script: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): ServerChild {
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !APP_ENV_PATTERN.test(key)) childEnv[key] = value;
  }
  Object.assign(childEnv, env);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server: ServerChild = {
    name,
    process: child,
    lines: [],
    lineCount: 0,
    exitCode: undefined,
    exited: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        server.exitCode = code ?? (signal ? -1 : null);
        running.delete(server);
        resolve();
      });
      child.once('error', () => {
        server.exitCode = -1;
        running.delete(server);
        resolve();
      });
    }),
  };
  running.add(server);
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      server.lineCount += 1;
      server.lines.push(line);
      if (server.lines.length > MAX_KEPT_LINES) server.lines.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return server;
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: 1000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

/** Polls `url` until it answers with `okStatus` (any status when undefined). */
export async function waitForHttp(
  server: ServerChild,
  url: string,
  okStatus: number | undefined,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (server.exitCode !== undefined) {
      throw new Error(
        `${server.name} exited (code ${server.exitCode}) before it was ready:\n${server.lines.join('\n')}`,
      );
    }
    try {
      const status = await getStatus(url);
      if (okStatus === undefined || status === okStatus) return;
      last = `status ${status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${server.name} not ready after ${timeoutMs} ms (${last}):\n${server.lines.join('\n')}`);
}

/** SIGTERM, then SIGKILL when it is still running after `graceMs`. Resolves with how it ended. */
export async function stopServer(server: ServerChild, graceMs = 10_000): Promise<string> {
  if (server.exitCode !== undefined) return `had exited (code ${server.exitCode})`;
  const started = Date.now();
  server.process.kill('SIGTERM');
  const inTime = await Promise.race([
    server.exited.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref()),
  ]);
  if (inTime) return `stopped by SIGTERM in ${Date.now() - started} ms (code ${server.exitCode})`;
  server.process.kill('SIGKILL');
  await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  return `did not stop within ${graceMs} ms of SIGTERM; killed with SIGKILL`;
}

let clockTicks: number | undefined;

/** CPU time (user + system) a process has used so far, in ms; undefined where /proc is unavailable. */
export function cpuTimeMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / clockTicks) * 1000;
  } catch {
    return undefined;
  }
}

export interface ProcessMemory {
  /** VmRSS: resident set size now, KiB. */
  rssKiB: number;
  /** VmHWM: the most the process has had resident so far, KiB. */
  peakKiB: number;
}

/** RSS of a process from /proc/<pid>/status; undefined where /proc is unavailable. */
export function processMemory(pid: number | undefined): ProcessMemory | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    const memory = { rssKiB: field('VmRSS'), peakKiB: field('VmHWM') };
    return Number.isFinite(memory.rssKiB) ? memory : undefined;
  } catch {
    return undefined;
  }
}
