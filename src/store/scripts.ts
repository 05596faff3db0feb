import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

// Lua scripts are loaded once and run with EVALSHA through ioredis defineCommand. A file's name ends
// with its key count (set-item-6.lua); `-- @include <name>` pulls in includes/<name>.lua.

const luaDir = new URL('./lua/', import.meta.url);

function readScript(name: string): string {
  const source = readFileSync(new URL(`${name}.lua`, luaDir), 'utf8');
  return source.replace(/^-- @include (\S+)$/gm, (_line, include: string) =>
    readFileSync(new URL(`includes/${include}.lua`, luaDir), 'utf8'),
  );
}

export const SCRIPT_FILES = {
  createRelease: 'create-release-8',
  setItem: 'set-item-7',
  overrideGate: 'override-gate-5',
  cancelRelease: 'cancel-release-5',
  rescheduleRelease: 'reschedule-release-5',
  reserveSlot: 'reserve-slot-1',
  answerCheckin: 'answer-checkin-5',
  resolveIssue: 'resolve-issue-5',
  assignOwners: 'assign-owners-4',
  snoozeReminder: 'snooze-reminder-3',
  commitDelivery: 'commit-delivery-5',
  dropLease: 'drop-lease-1',
  renewLease: 'renew-lease-1',
  beginDelivery: 'begin-delivery-3',
  appendEvent: 'append-event-2',
  startRollback: 'start-rollback-5',
  raiseRedFlag: 'raise-red-flag-5',
  clearRedFlag: 'clear-red-flag-5',
  decideGo: 'decide-go-5',
  saveRetro: 'save-retro-3',
  noteAnnouncement: 'note-announcement-1',
  advanceRelay: 'advance-relay-3',
} as const;

type ScriptName = keyof typeof SCRIPT_FILES;
type ScriptReply = (string | number)[] | number;

export type ScriptedRedis = Redis & {
  [name in ScriptName]: (...keysThenArgs: (string | number)[]) => Promise<ScriptReply>;
};

/** Adds shipcheck's scripts to a connection (idempotent). */
export function defineScripts(redis: Redis): ScriptedRedis {
  for (const [name, file] of Object.entries(SCRIPT_FILES)) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] === 'function') continue;
    const numberOfKeys = Number(file.slice(file.lastIndexOf('-') + 1));
    redis.defineCommand(name, { numberOfKeys, lua: readScript(file) });
  }
  return redis as ScriptedRedis;
}
