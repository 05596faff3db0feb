// The codes the Lua scripts reply with, by name. These tables are the only place the numbers are
// written: scripts.ts renders them into the scripts (`-- @include reply` defines REPLY) and
// change-results.ts decodes replies through them, so the two sides cannot drift apart.

/** Replies of the scripts that change a release: `{code, …}`, decoded into a ChangeResult. */
export const REPLY_CODES = {
  APPLIED: 1,
  UNCHANGED: 0,
  REPLAYED: -1,
  NOT_FOUND: -2,
  CLOSED: -3,
  LOCKED: -4,
  UNKNOWN_ITEM: -5,
  NOT_LOCKED: -6,
  UNKNOWN_PHASE: -7,
  UNKNOWN_CHECKIN: -8,
  CHECKIN_ANSWERED: -9,
  MONITORING_CLOSED: -10,
  UNKNOWN_ISSUE: -11,
  ISSUE_RESOLVED: -12,
  // -13 and -14 were never handed out.
  ENV_LOCKED: -15,
  RED_FLAG: -16,
  AWAITING_GO: -17,
  RED_FLAG_UP: -18,
  NO_RED_FLAG: -19,
  GO_DECIDED: -20,
  NO_GO_STEP: -21,
  VALUE_REQUIRED: -22,
} as const;

export type ReplyName = keyof typeof REPLY_CODES;

/**
 * Replies of create-release-8.lua (CREATE_REPLY in Lua). A table of its own because the same numbers
 * mean other things there: 2 is a replayed start, which carries the release it made, and -1 is another
 * active release of the version, not a replay. Renumbering either would change what the script returns.
 */
export const CREATE_REPLY_CODES = {
  CREATED: 1,
  REPLAYED: 2,
  EXISTS: -1,
} as const;

export type CreateReplyName = keyof typeof CREATE_REPLY_CODES;

/** Turns a reply's leading code into its name; a code outside the table is a bug and throws. */
function createDecoder<Name extends string>(
  script: string,
  table: Readonly<Record<Name, number>>,
): (reply: unknown) => Name {
  const names = new Map<unknown, Name>();
  for (const [name, code] of Object.entries(table) as [Name, number][]) {
    if (names.has(code)) throw new Error(`${script} reply code ${code} has two names`);
    names.set(code, name);
  }
  return (reply) => {
    const name = names.get(Array.isArray(reply) ? reply[0] : undefined);
    if (name === undefined) {
      throw new Error(`${script} replied ${JSON.stringify(reply)}: its code is not in reply-codes.ts`);
    }
    return name;
  };
}

export const decodeReply = createDecoder('release script', REPLY_CODES);
export const decodeCreateReply = createDecoder('create-release', CREATE_REPLY_CODES);

/** Closes a switch over reply names: it compiles only while every name has its case. */
export function unhandledReply(name: never): never {
  throw new Error(`reply ${String(name)} has no case`);
}
