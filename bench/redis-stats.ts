import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { readScript } from '../src/store/scripts.js';

// Redis's view of the work: INFO commandstats deltas (server-wide) and a MONITOR capture that can be
// narrowed to the connections that touched the benchmark's key prefix.

export type CommandCounts = Map<string, number>;

export async function readCommandStats(redis: Redis): Promise<CommandCounts> {
  const info = await redis.info('commandstats');
  const counts: CommandCounts = new Map();
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match) counts.set(match[1]!, Number(match[2]));
  }
  return counts;
}

export function subtractCounts(after: CommandCounts, before: CommandCounts): CommandCounts {
  const delta: CommandCounts = new Map();
  for (const [name, calls] of after) {
    const diff = calls - (before.get(name) ?? 0);
    if (diff > 0) delta.set(name, diff);
  }
  return delta;
}

export function totalOf(counts: CommandCounts): number {
  let total = 0;
  for (const calls of counts.values()) total += calls;
  return total;
}

export function topCommands(counts: CommandCounts, limit: number): [string, number][] {
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit);
}

/** CPU time (user + system) the Redis server has used since it started, in ms. */
export async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? Number.NaN);
  const system = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? Number.NaN);
  return (user + system) * 1000;
}

export interface MonitoredCommand {
  at: number;
  source: string;
  args: string[];
}

export interface MonitorCapture {
  commands: MonitoredCommand[];
  stop(): Promise<void>;
}

/** The arguments of a MONITOR line: `"a" "b\\"c" "\\x00"`, as Redis quotes them (sdscatrepr). */
function monitorArgs(text: string): string[] {
  const args: string[] = [];
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' };
  let index = text.indexOf('"');
  while (index !== -1 && index < text.length) {
    let arg = '';
    index += 1;
    while (index < text.length && text[index] !== '"') {
      const char = text[index]!;
      if (char === '\\' && text[index + 1] === 'x') {
        arg += String.fromCharCode(Number.parseInt(text.slice(index + 2, index + 4), 16));
        index += 4;
      } else if (char === '\\') {
        const next = text[index + 1] ?? '';
        arg += escapes[next] ?? next;
        index += 2;
      } else {
        arg += char;
        index += 1;
      }
    }
    args.push(arg);
    index = text.indexOf('"', index + 1);
  }
  return args;
}

/**
 * Records every command Redis executes until stopped, on a raw connection of its own. ioredis's
 * monitor mode loses the race when the first lines come in the same packet as MONITOR's OK (on a
 * busy Redis they do) and throws "Command queue state error"; the lines are simple to read directly.
 */
export async function startMonitor(redisUrl: string, maxCommands = 200_000): Promise<MonitorCapture> {
  const url = new URL(redisUrl);
  const socket = net.connect(Number(url.port || 6379), url.hostname);
  const commands: MonitoredCommand[] = [];
  let pending = '';
  let confirmed: (() => void) | undefined;
  let failed: ((error: Error) => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    confirmed = resolve;
    failed = reject;
  });
  socket.setEncoding('latin1');
  socket.on('error', (error) => failed?.(error));
  socket.on('data', (chunk: string) => {
    pending += chunk;
    let end = pending.indexOf('\r\n');
    while (end !== -1) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 2);
      end = pending.indexOf('\r\n');
      if (line === '+OK') confirmed?.();
      else if (line.startsWith('-')) failed?.(new Error(`MONITOR: ${line.slice(1)}`));
      else if (line.startsWith('+') && commands.length < maxCommands) {
        // +<seconds.micros> [<db> <client address | lua>] "command" "arg" …
        const bracket = line.indexOf(']');
        const source = line.slice(line.indexOf('[') + 1, bracket).split(' ')[1] ?? '';
        commands.push({
          at: Number(line.slice(1, line.indexOf(' '))) * 1000,
          source,
          args: monitorArgs(line.slice(bracket + 1)),
        });
      }
    }
  });
  socket.write('MONITOR\r\n');
  await ready;
  return {
    commands,
    async stop() {
      socket.destroy();
    },
  };
}

/** sha1 of each Lua script shipcheck and BullMQ load, to name the EVALSHA calls a MONITOR capture shows. */
export async function knownScripts(repoRoot: string): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
  // shipcheck: src/store/lua/<name>-<keys>.lua, expanded by src/store/scripts.ts itself (it builds
  // some includes from TypeScript, so a copy of its rule here would name them wrongly).
  const luaDir = path.join(repoRoot, 'src', 'store', 'lua');
  for (const file of await readdir(luaDir).catch(() => [] as string[])) {
    if (!file.endsWith('.lua')) continue;
    names.set(sha1(readScript(file.slice(0, -'.lua'.length))), file);
  }
  const bullDir = path.join(repoRoot, 'node_modules', 'bullmq', 'dist', 'esm', 'scripts');
  for (const file of await readdir(bullDir).catch(() => [] as string[])) {
    if (!/^[A-Za-z]+-\d+\.js$/.test(file)) continue;
    const module = (await import(pathToFileURL(path.join(bullDir, file)).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      const script = value as { name?: unknown; content?: unknown };
      if (typeof script?.content === 'string')
        names.set(sha1(script.content), `bullmq ${String(script.name)}`);
    }
  }
  return names;
}
