import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDeployCommand } from '../../src/domain/commands.js';
import {
  decodeItemActionId,
  decodeItemDoneActionId,
  decodeReleaseAction,
  ReleaseRoute,
} from '../../src/views/ids.js';
import { SNOOZE_CHOICES } from '../../src/views/reminder-message.js';
import { describeUserError } from '../../src/views/user-errors.js';
import { template, waitForHeader, waitForPhase } from '../e2e/helpers.js';
import { createActionTs, createTriggerId, SLACK_APP_ID } from '../support/slack-requests.js';
import {
  auditKey,
  expectNoSecretsLeaked,
  RAW_MARKUP,
  readAudit,
  type SecurityApp,
  snapshotData,
  startSecurityApp,
  TEAM_ID,
  waitUntilSettled,
} from './support.js';

// Properly signed garbage: slash-command text and block_actions payloads that fast-check makes up.
// Whatever they hold, the app answers 200 (400 where Bolt cannot read the payload), never 5xx, tells
// the person in an ephemeral message, and changes nothing, bar the refusals it audits: the fuzzing
// user holds no role, so a guarded action on the release is refused, on the record.

// Fixed, so that a failure can be replayed; fast-check prints the seed and path of a failing run too.
const SEED = 20_261_107;
const COMMAND_RUNS = 80;
const ACTION_RUNS = 200;
/** Generous: the runs above take a few seconds; this only stops a hung run. */
const TEST_TIMEOUT_MS = 45_000;

const FUZZER = 'U0FUZZ';
const LEAD = 'U0LEAD';
const RELEASE_ID = 'r1';
const ENVIRONMENTS = ['production', 'staging', 'development'];
const PAYLOAD_INVALID = describeUserError({ code: 'payload_invalid' });

let app: SecurityApp;
beforeAll(async () => {
  app = await startSecurityApp({
    env: {
      ROLES: `release_manager=${LEAD}`,
      PERMISSIONS:
        'start=release_manager; cancel=release_manager; reschedule=release_manager; rollback=release_manager; override=release_manager; red_flag=release_manager',
    },
  });
  await app.command('start v1.0 staging minimal', { user_id: LEAD });
  const header = await waitForHeader(app, 'v1.0 → staging');
  await waitForPhase(app, header, 'Before the deploy');
  await waitUntilSettled(app);
});
afterAll(async () => {
  await app?.stop();
});

/**
 * The data must be as before, except that the release's audit trail may have grown by refusals of
 * `user`, each of one of `actions` (guarded actions the fuzzing user may not take).
 */
async function expectUnchangedButRefusals(
  before: Record<string, unknown>,
  user: unknown,
  actions: readonly string[],
): Promise<void> {
  const after = await snapshotData(app.prefix);
  const key = auditKey(app.prefix, RELEASE_ID);
  const { [key]: auditBefore, ...restBefore } = before;
  const { [key]: auditAfter, ...restAfter } = after;
  const entriesBefore = (auditBefore as { value: [string, string[]][] }).value;
  const entriesAfter = (auditAfter as { value: [string, string[]][] }).value;
  // The release keeps the head of its audit hash chain, which moves with every event.
  const releaseKey = `${app.prefix}:{${TEAM_ID}}:release:${RELEASE_ID}`;
  const withoutAuditHead = (data: Record<string, unknown>) =>
    entriesAfter.length === entriesBefore.length ? data : withoutField(data, releaseKey, 'auditHead');
  expect(withoutAuditHead(restAfter)).toEqual(withoutAuditHead(restBefore));
  expect(entriesAfter.slice(0, entriesBefore.length)).toEqual(entriesBefore);
  for (const [, flat] of entriesAfter.slice(entriesBefore.length)) {
    const fields = Object.fromEntries(
      flat.flatMap((value, index) => (index % 2 ? [] : [[value, flat[index + 1]]])),
    );
    expect(fields).toMatchObject({ type: 'refused', user });
    expect(actions).toContain(fields.action);
  }
}

function withoutField(
  data: Record<string, unknown>,
  hashKey: string,
  field: string,
): Record<string, unknown> {
  const hash = data[hashKey] as { type: string; value: [string, string][] };
  return { ...data, [hashKey]: { ...hash, value: hash.value.filter(([name]) => name !== field) } };
}

/** How many refusals of the fuzzing user the release's audit trail holds, per action. */
async function countRefusals(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { fields } of await readAudit(app.prefix, RELEASE_ID)) {
    if (fields.type === 'refused' && fields.user === FUZZER)
      counts[fields.action!] = (counts[fields.action!] ?? 0) + 1;
  }
  return counts;
}

/** Calls that post, change or share something beyond the person who asked: garbage causes none. */
const SHARED_WRITES = new Set([
  'chat.postMessage',
  'chat.update',
  'chat.delete',
  'chat.scheduleMessage',
  'views.publish',
  'conversations.open',
  'files.getUploadURLExternal',
  'files.completeUploadExternal',
]);
function channelWrites(fromIndex: number): string[] {
  return app.standIn.calls
    .slice(fromIndex)
    .map((call) => call.method)
    .filter((method) => SHARED_WRITES.has(method));
}

function expectNoRawMarkup(text: string): void {
  for (const piece of RAW_MARKUP.filter((raw) => raw.startsWith('<'))) expect(text).not.toContain(piece);
}

// ---- /deploy <text> -----------------------------------------------------------------------------

const oddText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom(
    '<!channel>',
    '&lt;!here&gt;',
    '<@U0INJECT>',
    '<https://evil.example|click>',
    '&amp;',
    '|',
    '\u0000',
    '\u202e',
    'x'.repeat(600),
    'v'.repeat(70),
    '9'.repeat(20),
  ),
);
const commandWord = fc.oneof(
  fc.constantFrom(
    'start',
    'START',
    'reschedule',
    'status',
    'list',
    'locks',
    'cancel',
    'Rollback',
    'audit',
    'verify',
    'stats',
    'help',
    'v1.0',
    'V1.0',
    'v2.0',
    '1',
    'staging',
    'production',
    'prod',
    'minimal',
    'standard',
    'at',
    'in',
    'tomorrow',
    '14:00',
    '3d',
    '-1d',
    '400',
    '401',
    'Europe/Berlin',
    'Mars/Olympus',
  ),
  oddText,
);
/** A subcommand on the release's version, then anything, maybe a window: reaches the guarded paths. */
const aimedCommand = fc
  .tuple(
    fc.constantFrom('reschedule', 'cancel', 'rollback', 'start', 'status', 'audit'),
    fc.constantFrom('v1.0', 'v1.0 staging', 'v2.0'),
    fc.array(commandWord, { maxLength: 4 }),
    fc.constantFrom('', 'in 3d', 'at tomorrow 14:00', 'in 0d'),
  )
  .map((parts) => parts.flat().join(' ').trim());
const commandText = fc
  .oneof(
    { weight: 4, arbitrary: aimedCommand },
    {
      weight: 3,
      arbitrary: fc.array(commandWord, { minLength: 1, maxLength: 7 }).map((words) => words.join(' ')),
    },
    { weight: 1, arbitrary: oddText },
  )
  // `log` shares the deployment log in the thread: a write that anyone may cause, so not garbage.
  .filter((text) => {
    const parsed = parseDeployCommand(text, { environments: ENVIRONMENTS, templates: ['minimal'] });
    return !(parsed.ok && parsed.value.kind === 'log');
  });

describe('fuzzing /deploy', () => {
  it(
    'answers any text ephemerally, never 5xx, and changes nothing but audited refusals',
    async () => {
      const callsBefore = app.standIn.calls.length;
      await fc.assert(
        fc.asyncProperty(commandText, async (text) => {
          const before = await snapshotData(app.prefix);
          const sent = await app.command(text, { user_id: FUZZER });
          expect(sent.status).toBe(200);
          let answer: { response_type?: unknown; text?: unknown };
          if (sent.body === '') {
            // Acknowledged empty: the answer comes through the response_url once the work is done.
            await app.standIn.waitFor(
              () => app.standIn.responsesTo(sent.responseTag).length > 0,
              5000,
              'a reply',
            );
            const replies = app.standIn.responsesTo(sent.responseTag);
            expect(replies).toHaveLength(1);
            answer = replies[0]!.body as typeof answer;
          } else {
            // Refused in the acknowledgement itself.
            answer = sent.json as typeof answer;
          }
          expect(answer.response_type).toBe('ephemeral');
          expect(typeof answer.text === 'string' && answer.text.length > 0).toBe(true);
          expectNoRawMarkup(JSON.stringify(answer));
          await expectUnchangedButRefusals(before, FUZZER, ['cancel', 'reschedule', 'rollback']);
        }),
        { seed: SEED, numRuns: COMMAND_RUNS },
      );
      await waitUntilSettled(app);
      expect(channelWrites(callsBefore)).toEqual([]);
      // The runs reached every guarded command, not only the parser's refusals.
      expect(Object.keys(await countRefusals()).sort()).toEqual(['cancel', 'reschedule', 'rollback']);
    },
    TEST_TIMEOUT_MS,
  );
});

// ---- block_actions --------------------------------------------------------------------------------

/** Header buttons behind a permission the fuzzing user lacks. */
const GUARDED_ACTION_IDS = [
  'gate.override.open',
  'release.redflag.open',
  'release.redflag.clear.open',
  'release.go',
  'release.nogo.open',
  'release.rollback.open',
] as const;
const OTHER_ACTION_IDS = ['link.open', 'lock.notify', 'freeze.override.open', 'retro.open'] as const;
const ROUTES = [
  'item.set',
  'item.done',
  'reminder.snooze',
  'checkin.healthy',
  'checkin.issue',
  'checkin.rollback',
  'issue.resolve',
  'owners.open',
] as const;

const minimal = template('minimal');
const realItemIds = new Set([
  ...minimal.phases.flatMap((phase) => phase.items.map((item) => item.id)),
  ...(minimal.rollback?.items ?? []).map((item) => item.id),
]);

const idPart = fc.oneof(
  fc.constantFrom(
    RELEASE_ID,
    'r2',
    'r0',
    'r01',
    'R1',
    'r-1',
    'r1 ',
    'r9999999999999',
    '0',
    '1',
    '-1',
    '1e3',
    'NaN',
    '',
  ),
  fc.constantFrom(...realItemIds, 'no-such-item', 'Tests-Pass', '../../etc', '30m', '1h', 'zz'),
  oddText,
);
const routedActionId = fc
  .tuple(fc.constantFrom(...ROUTES), fc.array(idPart, { minLength: 1, maxLength: 4 }))
  .map(([route, parts]) => [route, ...parts].join('|'));
/** Ids no decoder accepts: every listener must answer them with "I could not read that request". */
const poisonedActionId = fc
  .tuple(fc.constantFrom(...ROUTES), fc.array(idPart, { minLength: 0, maxLength: 3 }))
  .map(([route, parts]) => [route, ...parts, 'bad!'].join('|'));
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  oddText,
  fc.constantFrom(RELEASE_ID, 'r2', ...ENVIRONMENTS.map((env) => `${env} `), '{"version":"v9"}'),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
);
/** A button's value: mostly the release's id, as header buttons carry it, else anything. */
const buttonValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(RELEASE_ID) },
  { weight: 1, arbitrary: fieldValue },
);
const optionList = fc.array(
  fc.record(
    { value: fieldValue, text: fc.constant({ type: 'plain_text', text: 'Done' }) },
    { requiredKeys: [] },
  ),
  { maxLength: 12 },
);

const blockAction = fc.record(
  {
    type: fc.oneof(fc.constantFrom('button', 'checkboxes', 'static_select', 'overflow'), oddText),
    action_id: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...GUARDED_ACTION_IDS) },
      { weight: 1, arbitrary: fc.constantFrom(...OTHER_ACTION_IDS) },
      { weight: 3, arbitrary: routedActionId },
      { weight: 1, arbitrary: poisonedActionId },
    ),
    block_id: oddText,
    value: buttonValue,
    selected_options: fc.oneof(optionList, fieldValue),
    selected_option: fc.oneof(fc.record({ value: fieldValue }), fieldValue),
    action_ts: fc.oneof(fc.constant(createActionTs()), fieldValue),
    text: fc.constant({ type: 'plain_text', text: 'Click' }),
  },
  { requiredKeys: ['action_id'] },
);

const blockActions = fc.record(
  {
    user: fc.oneof(
      {
        weight: 8,
        arbitrary: fc.constant<unknown>({ id: FUZZER, username: 'fuzz', name: 'fuzz', team_id: TEAM_ID }),
      },
      { weight: 1, arbitrary: fc.record({ id: fieldValue }) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, FUZZER, 42) },
    ),
    team: fc.oneof(
      { weight: 8, arbitrary: fc.constant<unknown>({ id: TEAM_ID, domain: 'example' }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom<unknown>(undefined, null, { id: 'T0OTHER' }, { id: 5 }, TEAM_ID),
      },
    ),
    action: blockAction,
    container: fc.oneof(
      {
        weight: 8,
        arbitrary: fc.constant<unknown>({
          type: 'message',
          message_ts: '1.000001',
          channel_id: 'C0DEPLOY',
          is_ephemeral: false,
        }),
      },
      { weight: 1, arbitrary: fieldValue },
    ),
    channel: fc.oneof(
      { weight: 8, arbitrary: fc.constant<unknown>({ id: 'C0DEPLOY', name: 'deploy' }) },
      { weight: 1, arbitrary: fieldValue },
    ),
    state: fc.oneof(
      { weight: 8, arbitrary: fc.constant<unknown>({ values: {} }) },
      { weight: 1, arbitrary: fieldValue },
    ),
  },
  { requiredKeys: ['action'] },
);
type BlockActionsInput = typeof blockActions extends fc.Arbitrary<infer T> ? T : never;

const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value !== '';
const idOf = (value: unknown): unknown =>
  typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;

/**
 * Requests a person may legitimately make, with effects of their own (a tick, a snooze, waiting for an
 * environment): left to the other tests. Everything else, malformed versions of these included, is
 * garbage that must change nothing.
 */
function isLegitimate(input: BlockActionsInput): boolean {
  const { action } = input;
  const { action_id: actionId, value } = action;
  if (!nonEmptyString(idOf(input.user)) || !nonEmptyString(idOf(input.team))) return false;
  const click = decodeItemActionId(actionId);
  if (click) {
    const options = action.selected_options;
    const readable =
      action.type === 'checkboxes' &&
      nonEmptyString(action.action_ts) &&
      Array.isArray(options) &&
      options.length <= 10 &&
      options.every((option) => typeof option.value === 'string');
    return readable && click.releaseId === RELEASE_ID && realItemIds.has(click.itemId);
  }
  const done = decodeItemDoneActionId(actionId);
  if (done) return done.releaseId === RELEASE_ID && realItemIds.has(done.itemId);
  const snooze = decodeReleaseAction(ReleaseRoute.snooze, actionId);
  if (snooze)
    return snooze.releaseId === RELEASE_ID && snooze.extra !== undefined && snooze.extra in SNOOZE_CHOICES;
  return actionId === 'lock.notify' && typeof value === 'string' && ENVIRONMENTS.includes(value);
}

function toPayload(input: BlockActionsInput, tag: string, triggerId: string): Record<string, unknown> {
  const { action, ...rest } = input;
  return {
    type: 'block_actions',
    api_app_id: SLACK_APP_ID,
    token: 'verification-token-not-used',
    trigger_id: triggerId,
    response_url: app.standIn.responseUrl(tag),
    ...rest,
    actions: [action],
  };
}

describe('fuzzing block_actions', () => {
  it(
    'answers any action 200 (400 if Bolt cannot read it), ephemerally, and changes nothing but audited refusals',
    async () => {
      const callsBefore = app.standIn.calls.length;
      const refusalsBefore = await countRefusals();
      const outcomes = { badRequest: 0, unreadable: 0, modal: 0 };
      await fc.assert(
        fc.asyncProperty(
          blockActions.filter((input) => !isLegitimate(input)),
          async (input) => {
            const before = await snapshotData(app.prefix);
            const tag = randomBytes(6).toString('hex');
            const triggerId = createTriggerId();
            const sent = await app.interact(toPayload(input, tag, triggerId));
            // Bolt reads `user.id` and, when there is a channel, `channel.id` before any listener runs.
            const readable = input.user !== undefined && input.user !== null && input.channel !== null;
            expect(sent.status).toBe(readable ? 200 : 400);
            if (!readable) {
              outcomes.badRequest += 1;
              return void (await expectUnchangedButRefusals(before, FUZZER, []));
            }
            expect(sent.body).toBe('');
            const actionId = input.action.action_id;
            if (actionId !== 'link.open') {
              // Every other listener ends by answering the person or opening a modal for them.
              await app.standIn.waitFor(
                () =>
                  app.standIn.responsesTo(tag).length > 0 ||
                  app.standIn.calls.some(
                    (call) => call.method === 'views.open' && call.args.trigger_id === triggerId,
                  ),
                5000,
                'an answer or a modal',
              );
            }
            const replies = app.standIn
              .responsesTo(tag)
              .map((reply) => reply.body as Record<string, unknown>);
            expect(replies.length).toBeLessThanOrEqual(1);
            for (const reply of replies) {
              expect(reply).toMatchObject({ response_type: 'ephemeral', replace_original: false });
              expectNoRawMarkup(JSON.stringify(reply));
            }
            if (/\|bad!$/.test(actionId))
              expect(replies.map((reply) => reply.text)).toEqual([PAYLOAD_INVALID]);
            if (replies.some((reply) => reply.text === PAYLOAD_INVALID)) outcomes.unreadable += 1;
            if (
              app.standIn.calls.some(
                (call) => call.method === 'views.open' && call.args.trigger_id === triggerId,
              )
            )
              outcomes.modal += 1;
            const userId = typeof input.user === 'object' ? (input.user as { id?: unknown }).id : undefined;
            await expectUnchangedButRefusals(before, userId, [
              'go',
              'override',
              'rollback',
              'red_flag',
              'red_flag_resolve',
            ]);
          },
        ),
        { seed: SEED, numRuns: ACTION_RUNS },
      );
      await waitUntilSettled(app);
      expect(channelWrites(callsBefore)).toEqual([]);
      // The runs reached Bolt's refusals, the listeners' own, the modals and every guarded button.
      expect(outcomes.badRequest).toBeGreaterThan(0);
      expect(outcomes.unreadable).toBeGreaterThan(0);
      expect(outcomes.modal).toBeGreaterThan(0);
      const refusals = await countRefusals();
      const newRefusals = Object.keys(refusals).filter(
        (action) => refusals[action]! > (refusalsBefore[action] ?? 0),
      );
      expect(newRefusals.sort()).toEqual(['go', 'override', 'red_flag', 'red_flag_resolve', 'rollback']);
    },
    TEST_TIMEOUT_MS,
  );
});

it('leaks no token or secret in a log line, an answer or a message of the tests above', () => {
  expectNoSecretsLeaked(app);
});
