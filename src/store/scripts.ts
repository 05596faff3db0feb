import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { CREATE_REPLY_CODES, REPLY_CODES } from './reply-codes.js';

// Lua scripts are loaded once and run with EVALSHA through ioredis defineCommand. A file's name ends
// with its key count (set-item-9.lua); `-- @include <name>` pulls in includes/<name>.lua, or one of
// the includes built below, once per script however often it is asked for.

const luaDir = new URL('./lua/', import.meta.url);

/** `local NAME = {KEY = 1, …}`; an unknown KEY raises instead of reading nil, which Redis would drop. */
function luaTable(name: string, table: Readonly<Record<string, number>>): string {
  const fields = Object.entries(table).map(([key, value]) => `${key} = ${value}`);
  return [
    '-- Built from src/store/reply-codes.ts.',
    `local ${name} = {${fields.join(', ')}}`,
    `setmetatable(${name}, {__index = function(_, key) error('no reply code ${name}.' .. tostring(key)) end})`,
    '',
  ].join('\n');
}

// The reply codes come from TypeScript, so the numbers are written in one place only.
const BUILT_INCLUDES: Record<string, string> = {
  reply: luaTable('REPLY', REPLY_CODES),
  'create-reply': luaTable('CREATE_REPLY', CREATE_REPLY_CODES),
};

function expandIncludes(source: string, included: Set<string>): string {
  return source.replace(/^-- @include (\S+)$/gm, (_line, include: string) => {
    if (included.has(include)) return '';
    included.add(include);
    const body = BUILT_INCLUDES[include] ?? readFileSync(new URL(`includes/${include}.lua`, luaDir), 'utf8');
    return expandIncludes(body, included);
  });
}

/** A script's source as Redis runs it, includes expanded (`name` without .lua). */
export function readScript(name: string): string {
  return expandIncludes(readFileSync(new URL(`${name}.lua`, luaDir), 'utf8'), new Set());
}

/** The release store's scripts, by command name. */
export const SCRIPT_FILES = {
  createRelease: 'create-release-8',
  setItem: 'set-item-9',
  overrideGate: 'override-gate-5',
  cancelRelease: 'cancel-release-5',
  rescheduleRelease: 'reschedule-release-5',
  answerCheckin: 'answer-checkin-5',
  recordObservations: 'record-observations-3',
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
  beginRelay: 'begin-relay-4',
  advanceRelay: 'advance-relay-6',
  markShown: 'mark-shown-1',
  noteClick: 'note-click-2',
  claimLostClicks: 'claim-lost-clicks-2',
  addLockWaiter: 'add-lock-waiter-2',
  overrideFreeze: 'override-freeze-5',
} as const;

type ScriptFiles = Readonly<Record<string, string>>;
type ScriptReply = (string | number)[] | number;

export type ScriptedRedis<Files extends ScriptFiles = typeof SCRIPT_FILES> = Redis & {
  [name in keyof Files]: (...keysThenArgs: (string | number)[]) => Promise<ScriptReply>;
};

/** Adds scripts to a connection, by command name (idempotent). */
export function defineScripts<Files extends ScriptFiles>(redis: Redis, files: Files): ScriptedRedis<Files> {
  for (const [name, file] of Object.entries(files)) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] === 'function') continue;
    const numberOfKeys = Number(file.slice(file.lastIndexOf('-') + 1));
    redis.defineCommand(name, { numberOfKeys, lua: readScript(file) });
  }
  return redis as ScriptedRedis<Files>;
}
