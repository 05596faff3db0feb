import { createHmac, randomBytes, randomInt } from 'node:crypto';

// Builders for the HTTP requests Slack sends to the app: signed slash commands, block_actions and
// view_submission payloads. Shapes follow what Slack actually posts, so handlers see realistic input.

export const SLACK_TEAM = { id: 'T0001', domain: 'example', name: 'Example' } as const;
export const SLACK_APP_ID = 'A0SHIPCHECK';
export const SLACK_BOT_USER_ID = 'UBOT';
export const SLACK_BOT_ID = 'BBOT';
/** The deprecated verification token Slack still puts in every request body; Bolt ignores it. */
export const SLACK_VERIFICATION_TOKEN = 'verification-token-not-used';
export const DEFAULT_CHANNEL_ID = 'C0DEPLOY';
export const DEFAULT_USER_ID = 'U0ALICE';

// ---------------------------------------------------------------------------------------------
// Loose Block Kit types: enough structure to navigate blocks, open to anything else Slack sends.

export interface SlackText {
  type: string;
  text: string;
  emoji?: boolean;
  verbatim?: boolean;
}

export interface SlackOption {
  text: SlackText;
  value: string;
  description?: SlackText;
}

export interface SlackElement {
  type: string;
  action_id?: string;
  text?: SlackText;
  value?: string;
  style?: string;
  options?: SlackOption[];
  initial_options?: SlackOption[];
  initial_option?: SlackOption;
  [key: string]: unknown;
}

export interface SlackBlock {
  type: string;
  block_id?: string;
  text?: SlackText;
  accessory?: SlackElement;
  elements?: SlackElement[];
  element?: SlackElement;
  [key: string]: unknown;
}

/** A message as a client sees it. `blocks` is loose so @slack/types block arrays fit too. */
export interface SlackMessage {
  ts: string;
  channel?: string;
  thread_ts?: string;
  text?: string;
  blocks?: readonly unknown[];
}

export interface StateValue {
  type: string;
  [key: string]: unknown;
}

/** `state.values[block_id][action_id]` */
export type StateValues = Record<string, Record<string, StateValue>>;

export interface SlackView {
  id: string;
  type: string;
  blocks: SlackBlock[];
  team_id?: string;
  callback_id?: string;
  private_metadata?: string;
  external_id?: string;
  state?: { values: StateValues };
  hash?: string;
  title?: SlackText;
  submit?: SlackText | null;
  close?: SlackText | null;
  [key: string]: unknown;
}

export interface SlackUserRef {
  id: string;
  username: string;
  name: string;
  team_id: string;
}

/** A user id, or parts of the user object (id required). */
export type UserInput = string | (Partial<SlackUserRef> & { id: string });

export interface SlackTeamRef {
  id: string;
  domain: string;
}

// ---------------------------------------------------------------------------------------------
// Signing and posting

export interface SlackSignatureHeaders {
  'x-slack-request-timestamp': string;
  'x-slack-signature': string;
}

export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

/** Signs a request body the way Slack does: `v0=` + hex HMAC-SHA256(secret, `v0:<ts>:<body>`). */
export function signSlackRequest(
  signingSecret: string,
  rawBody: string,
  timestampSec: number = nowSec(),
): SlackSignatureHeaders {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${rawBody}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestampSec), 'x-slack-signature': `v0=${digest}` };
}

export interface PostSignedOptions {
  signingSecret: string;
  contentType?: string;
  timestampSec?: number;
  /** Sent instead of the computed signature, to forge a request. */
  signature?: string;
  /** Sets X-Slack-Retry-Num (and X-Slack-Retry-Reason) as Slack does when redelivering. */
  retryNum?: number;
  retryReason?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface PostResult {
  status: number;
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
  /** Time until the whole response was read. Slack gives up after 3000 ms. */
  ms: number;
  headers: Headers;
}

export async function postSigned(
  url: string,
  rawBody: string,
  options: PostSignedOptions,
): Promise<PostResult> {
  const headers: Record<string, string> = {
    // Bolt compares the content type exactly: a charset suffix would stop it parsing form bodies.
    'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    accept: '*/*',
    ...signSlackRequest(options.signingSecret, rawBody, options.timestampSec),
  };
  if (options.signature !== undefined) headers['x-slack-signature'] = options.signature;
  if (options.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(options.retryNum);
    headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
  }
  // Lower-cased so an override replaces a default instead of being sent alongside it.
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;

  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: rawBody,
    signal: options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
  });
  const body = await response.text();
  const ms = performance.now() - started;
  const result: PostResult = { status: response.status, body, ms, headers: response.headers };
  if (body !== '') {
    try {
      result.json = JSON.parse(body);
    } catch {
      // not JSON: leave `json` unset
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Small generators

/** 'U0ALICE' → 'alice', 'C0DEPLOY' → 'deploy'. */
export function nameFromId(id: string): string {
  if (id.startsWith('D')) return 'directmessage';
  return id.replace(/^[A-Z]0?/, '').toLowerCase() || id.toLowerCase();
}

function digits(count: number): string {
  let out = String(randomInt(1, 10));
  while (out.length < count) out += String(randomInt(0, 10));
  return out;
}

export function createTriggerId(): string {
  return `${digits(13)}.${digits(11)}.${randomBytes(16).toString('hex')}`;
}

/** A Slack-looking response_url. Nothing listens there: tests should pass `standIn.responseUrl()`. */
export function createFakeResponseUrl(kind: 'commands' | 'actions' = 'commands'): string {
  return `https://hooks.slack.com/${kind}/${SLACK_TEAM.id}/${digits(13)}/${randomBytes(12).toString('base64url')}`;
}

/** Like Slack's `action_ts`: seconds with six decimals. */
export function createActionTs(ms: number = Date.now()): string {
  return (ms / 1000).toFixed(6);
}

function userRef(user: UserInput = DEFAULT_USER_ID): SlackUserRef {
  const ref = typeof user === 'string' ? { id: user } : user;
  const name = ref.name ?? ref.username ?? nameFromId(ref.id);
  return { id: ref.id, username: ref.username ?? name, name, team_id: ref.team_id ?? SLACK_TEAM.id };
}

function formEncode(fields: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) params.append(name, value);
  return params.toString();
}

// ---------------------------------------------------------------------------------------------
// Slash commands

export interface SlashCommandFields {
  token: string;
  team_id: string;
  team_domain: string;
  enterprise_id?: string;
  enterprise_name?: string;
  channel_id: string;
  channel_name: string;
  user_id: string;
  user_name: string;
  command: string;
  text: string;
  api_app_id: string;
  is_enterprise_install: 'true' | 'false';
  response_url: string;
  trigger_id: string;
}

export function createSlashCommand(overrides: Partial<SlashCommandFields> = {}): SlashCommandFields {
  const channelId = overrides.channel_id ?? DEFAULT_CHANNEL_ID;
  const userId = overrides.user_id ?? DEFAULT_USER_ID;
  return {
    token: SLACK_VERIFICATION_TOKEN,
    team_id: SLACK_TEAM.id,
    team_domain: SLACK_TEAM.domain,
    channel_id: channelId,
    channel_name: nameFromId(channelId),
    user_id: userId,
    user_name: nameFromId(userId),
    command: '/deploy',
    text: '',
    api_app_id: SLACK_APP_ID,
    is_enterprise_install: 'false',
    response_url: createFakeResponseUrl('commands'),
    trigger_id: createTriggerId(),
    ...overrides,
  };
}

export function encodeSlashCommand(fields: SlashCommandFields): string {
  return formEncode({ ...fields });
}

// ---------------------------------------------------------------------------------------------
// Block navigation and state

interface Located {
  block: SlackBlock;
  element: SlackElement;
}

function blocksOf(message: { blocks?: readonly unknown[] }): SlackBlock[] {
  return (message.blocks ?? []) as SlackBlock[];
}

/** Elements a user can interact with: section accessories, actions elements, input elements. */
function interactiveElements(blocks: readonly SlackBlock[]): Located[] {
  const found: Located[] = [];
  for (const block of blocks) {
    if (block.type === 'section' && block.accessory) found.push({ block, element: block.accessory });
    if (block.type === 'actions') for (const element of block.elements ?? []) found.push({ block, element });
    if (block.type === 'input' && block.element) found.push({ block, element: block.element });
  }
  return found;
}

/** The state Slack reports for an element before the user changes it; undefined for stateless ones. */
function initialState(element: SlackElement): StateValue | undefined {
  const { type } = element;
  switch (type) {
    case 'checkboxes':
    case 'multi_static_select':
    case 'multi_external_select':
      return { type, selected_options: element.initial_options ?? [] };
    case 'radio_buttons':
    case 'static_select':
    case 'external_select':
      return { type, selected_option: element.initial_option ?? null };
    case 'users_select':
      return { type, selected_user: element.initial_user ?? null };
    case 'multi_users_select':
      return { type, selected_users: element.initial_users ?? [] };
    case 'conversations_select':
      return { type, selected_conversation: element.initial_conversation ?? null };
    case 'multi_conversations_select':
      return { type, selected_conversations: element.initial_conversations ?? [] };
    case 'channels_select':
      return { type, selected_channel: element.initial_channel ?? null };
    case 'multi_channels_select':
      return { type, selected_channels: element.initial_channels ?? [] };
    case 'datepicker':
      return { type, selected_date: element.initial_date ?? null };
    case 'timepicker':
      return { type, selected_time: element.initial_time ?? null };
    case 'plain_text_input':
    case 'number_input':
    case 'email_text_input':
    case 'url_text_input':
      return { type, value: element.initial_value ?? null };
    default:
      return undefined;
  }
}

function stateOf(blocks: readonly SlackBlock[]): StateValues {
  const values: StateValues = {};
  for (const { block, element } of interactiveElements(blocks)) {
    const state = initialState(element);
    if (state === undefined || block.block_id === undefined || element.action_id === undefined) continue;
    values[block.block_id] ??= {};
    values[block.block_id]![element.action_id] = state;
  }
  return values;
}

function mergeState(base: StateValues, changes: StateValues): StateValues {
  const merged: StateValues = { ...base };
  for (const [blockId, actions] of Object.entries(changes))
    merged[blockId] = { ...merged[blockId], ...actions };
  return merged;
}

function ids(located: Located, what: string): { block_id: string; action_id: string } {
  const { block_id } = located.block;
  const { action_id } = located.element;
  if (block_id === undefined || action_id === undefined) {
    // Slack fills in missing ids when a message is posted; the stand-in does the same.
    throw new Error(`${what} has no block_id/action_id: pass the message as stored by the Slack stand-in`);
  }
  return { block_id, action_id };
}

// ---------------------------------------------------------------------------------------------
// block_actions

export interface BlockAction {
  type: string;
  block_id: string;
  action_id: string;
  action_ts: string;
  [key: string]: unknown;
}

export interface PayloadMessage {
  type: 'message';
  user: string;
  ts: string;
  bot_id: string;
  app_id: string;
  text: string;
  team: string;
  blocks: unknown[];
  thread_ts?: string;
}

export interface BlockActionsPayload {
  type: 'block_actions';
  user: SlackUserRef;
  api_app_id: string;
  token: string;
  container: {
    type: 'message';
    message_ts: string;
    channel_id: string;
    is_ephemeral: boolean;
    thread_ts?: string;
  };
  trigger_id: string;
  team: SlackTeamRef;
  enterprise: null;
  is_enterprise_install: false;
  channel: { id: string; name: string };
  /** Absent when the clicked message is ephemeral: Slack does not send it then. */
  message?: PayloadMessage;
  state: { values: StateValues };
  response_url: string;
  actions: BlockAction[];
}

export interface InteractionOptions {
  user?: UserInput;
  team?: SlackTeamRef;
  /** Defaults to the message's channel, else C0DEPLOY. */
  channel?: string | { id: string; name: string };
  responseUrl?: string;
  triggerId?: string;
  apiAppId?: string;
  token?: string;
  ephemeral?: boolean;
}

export interface BlockActionsOptions extends InteractionOptions {
  message: SlackMessage;
  actions: BlockAction[];
  /** Merged over the state derived from the message's blocks. */
  stateValues?: StateValues;
}

export function createBlockActions(options: BlockActionsOptions): BlockActionsPayload {
  const { message } = options;
  const channelInput = options.channel ?? message.channel ?? DEFAULT_CHANNEL_ID;
  const channel =
    typeof channelInput === 'string' ? { id: channelInput, name: nameFromId(channelInput) } : channelInput;
  const blocks = blocksOf(message);
  const ephemeral = options.ephemeral ?? false;

  const payload: BlockActionsPayload = {
    type: 'block_actions',
    user: userRef(options.user),
    api_app_id: options.apiAppId ?? SLACK_APP_ID,
    token: options.token ?? SLACK_VERIFICATION_TOKEN,
    container: {
      type: 'message',
      message_ts: message.ts,
      channel_id: channel.id,
      is_ephemeral: ephemeral,
      ...(message.thread_ts === undefined ? {} : { thread_ts: message.thread_ts }),
    },
    trigger_id: options.triggerId ?? createTriggerId(),
    team: options.team ?? { id: SLACK_TEAM.id, domain: SLACK_TEAM.domain },
    enterprise: null,
    is_enterprise_install: false,
    channel,
    state: { values: mergeState(stateOf(blocks), options.stateValues ?? {}) },
    response_url: options.responseUrl ?? createFakeResponseUrl('actions'),
    actions: options.actions,
  };
  if (!ephemeral) {
    payload.message = {
      type: 'message',
      user: SLACK_BOT_USER_ID,
      ts: message.ts,
      bot_id: SLACK_BOT_ID,
      app_id: payload.api_app_id,
      text: message.text ?? '',
      team: payload.team.id,
      blocks: [...blocks],
      ...(message.thread_ts === undefined ? {} : { thread_ts: message.thread_ts }),
    };
  }
  return payload;
}

/** Form body Slack posts for any interaction: `payload=<JSON>`. */
export function encodeInteraction(payload: object): string {
  return formEncode({ payload: JSON.stringify(payload) });
}

function describeCheckboxes(blocks: readonly SlackBlock[]): string {
  const lines = interactiveElements(blocks)
    .filter(({ element }) => element.type === 'checkboxes')
    .map(({ block, element }) => {
      const ticked = new Set((element.initial_options ?? []).map((option) => option.value));
      const options = (element.options ?? []).map((o) => `${ticked.has(o.value) ? '[x]' : '[ ]'} ${o.value}`);
      return `  ${block.block_id}/${element.action_id}: ${options.join(', ')}`;
    });
  return lines.length === 0 ? '  (none)' : lines.join('\n');
}

export interface CheckboxTarget {
  optionValue: string;
  blockId?: string;
  actionId?: string;
}

export interface CheckboxClickOptions extends InteractionOptions {
  /** true: the user ticks the box; false: unticks it. */
  selected: boolean;
}

/**
 * The block_actions payload Slack sends when a user ticks or unticks one option of a checkboxes
 * element in `message` (which must be the message as the user currently sees it).
 */
export function clickCheckbox(
  message: SlackMessage,
  target: CheckboxTarget,
  options: CheckboxClickOptions,
): BlockActionsPayload {
  const blocks = blocksOf(message);
  const matches = interactiveElements(blocks).filter(
    ({ block, element }) =>
      element.type === 'checkboxes' &&
      (target.blockId === undefined || block.block_id === target.blockId) &&
      (target.actionId === undefined || element.action_id === target.actionId) &&
      (element.options ?? []).some((option) => option.value === target.optionValue),
  );
  const where = `message ${message.ts}`;
  if (matches.length !== 1) {
    const problem = matches.length === 0 ? 'No clickable checkbox' : 'More than one checkbox';
    throw new Error(
      `${problem} with value "${target.optionValue}"` +
        `${target.blockId ? ` in block ${target.blockId}` : ''}${target.actionId ? ` with action ${target.actionId}` : ''}` +
        ` in ${where}. Checkboxes in it:\n${describeCheckboxes(blocks)}`,
    );
  }
  const located = matches[0]!;
  const { block_id, action_id } = ids(located, `The checkboxes holding "${target.optionValue}"`);
  const ticked = new Set((located.element.initial_options ?? []).map((option) => option.value));
  if (ticked.has(target.optionValue) === options.selected) {
    throw new Error(
      `Checkbox "${target.optionValue}" in ${where} is already ${options.selected ? 'ticked' : 'unticked'}; ` +
        `a click would ${options.selected ? 'untick' : 'tick'} it`,
    );
  }
  if (options.selected) ticked.add(target.optionValue);
  else ticked.delete(target.optionValue);
  const selected_options = (located.element.options ?? []).filter((option) => ticked.has(option.value));

  const { selected: _selected, ...interaction } = options;
  return createBlockActions({
    ...interaction,
    message,
    actions: [{ type: 'checkboxes', block_id, action_id, selected_options, action_ts: createActionTs() }],
    stateValues: { [block_id]: { [action_id]: { type: 'checkboxes', selected_options } } },
  });
}

export interface ButtonTarget {
  actionId: string;
  value?: string;
  blockId?: string;
}

/** The block_actions payload Slack sends when a user clicks a button in `message`. */
export function clickButton(
  message: SlackMessage,
  target: ButtonTarget,
  options: InteractionOptions = {},
): BlockActionsPayload {
  const blocks = blocksOf(message);
  const buttons = interactiveElements(blocks).filter(({ element }) => element.type === 'button');
  const matches = buttons.filter(
    ({ block, element }) =>
      element.action_id === target.actionId &&
      (target.value === undefined || element.value === target.value) &&
      (target.blockId === undefined || block.block_id === target.blockId),
  );
  if (matches.length !== 1) {
    const available = buttons.map(
      ({ block, element }) => `  ${block.block_id}/${element.action_id} = ${element.value}`,
    );
    throw new Error(
      `${matches.length === 0 ? 'No' : 'More than one'} button ${target.actionId}` +
        `${target.value === undefined ? '' : ` with value "${target.value}"`} in message ${message.ts}. ` +
        `Buttons in it:\n${available.join('\n') || '  (none)'}`,
    );
  }
  const located = matches[0]!;
  const { element } = located;
  const action: BlockAction = {
    type: 'button',
    ...ids(located, `Button ${target.actionId}`),
    text: element.text,
    action_ts: createActionTs(),
  };
  // Slack leaves out `value` and `style` when the button has none.
  if (element.value !== undefined) action.value = element.value;
  if (element.style !== undefined) action.style = element.style;
  return createBlockActions({ ...options, message, actions: [action] });
}

// ---------------------------------------------------------------------------------------------
// view_submission

export interface ViewSubmissionPayload {
  type: 'view_submission';
  team: SlackTeamRef;
  user: SlackUserRef;
  api_app_id: string;
  token: string;
  trigger_id: string;
  view: SlackView & { team_id: string; state: { values: StateValues }; hash: string };
  response_urls: unknown[];
  is_enterprise_install: false;
  enterprise: null;
}

export interface ViewSubmissionOptions
  extends Pick<InteractionOptions, 'user' | 'team' | 'triggerId' | 'apiAppId' | 'token'> {
  view: Partial<SlackView> & { id: string };
  responseUrls?: unknown[];
}

export function createViewSubmission(options: ViewSubmissionOptions): ViewSubmissionPayload {
  const team = options.team ?? { id: SLACK_TEAM.id, domain: SLACK_TEAM.domain };
  const apiAppId = options.apiAppId ?? SLACK_APP_ID;
  const { view } = options;
  return {
    type: 'view_submission',
    team,
    user: userRef(options.user),
    api_app_id: apiAppId,
    token: options.token ?? SLACK_VERIFICATION_TOKEN,
    trigger_id: options.triggerId ?? createTriggerId(),
    view: {
      type: 'modal',
      blocks: [],
      private_metadata: '',
      callback_id: '',
      title: { type: 'plain_text', text: 'Modal', emoji: true },
      close: null,
      submit: null,
      clear_on_close: false,
      notify_on_close: false,
      previous_view_id: null,
      root_view_id: view.id,
      app_id: apiAppId,
      external_id: '',
      app_installed_team_id: team.id,
      bot_id: SLACK_BOT_ID,
      ...view,
      team_id: view.team_id ?? team.id,
      state: view.state ?? { values: {} },
      hash: view.hash ?? `${nowSec()}.${randomBytes(4).toString('hex')}`,
    },
    response_urls: options.responseUrls ?? [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** What a test may give for one input: a full state object, or a shorthand value. */
export type SubmittedValue = StateValue | string | string[];

function stateFromShorthand(element: SlackElement, value: string | string[], where: string): StateValue {
  const { type } = element;
  const option = (wanted: string): SlackOption => {
    const found = (element.options ?? []).find((candidate) => candidate.value === wanted);
    if (!found) throw new Error(`${where} (${type}) has no option "${wanted}"`);
    return found;
  };
  const many = Array.isArray(value) ? value : [value];
  const one = Array.isArray(value) ? value[0] : value;
  switch (type) {
    case 'plain_text_input':
    case 'number_input':
    case 'email_text_input':
    case 'url_text_input':
      return { type, value: one ?? null };
    case 'static_select':
    case 'radio_buttons':
      return { type, selected_option: one === undefined ? null : option(one) };
    case 'checkboxes':
    case 'multi_static_select':
      return { type, selected_options: many.map(option) };
    case 'users_select':
      return { type, selected_user: one ?? null };
    case 'multi_users_select':
      return { type, selected_users: many };
    case 'conversations_select':
      return { type, selected_conversation: one ?? null };
    case 'channels_select':
      return { type, selected_channel: one ?? null };
    case 'datepicker':
      return { type, selected_date: one ?? null };
    case 'timepicker':
      return { type, selected_time: one ?? null };
    default:
      throw new Error(`${where} is a ${type}: pass its full state value object instead of a shorthand`);
  }
}

function isRecorded(opened: SlackView | { view: SlackView }): opened is { view: SlackView } {
  return typeof opened.view === 'object' && opened.view !== null;
}

/**
 * The view_submission payload for a modal the app opened (a view recorded by the stand-in, or the
 * view itself) after the user filled in `values[block_id][action_id]`. Values are Slack's state
 * objects, or shorthands: a string for text inputs/selects/pickers, option values for multi-choice.
 * Inputs not mentioned keep their initial state, as in Slack.
 */
export function submitView(
  opened: SlackView | { view: SlackView },
  values: Record<string, Record<string, SubmittedValue>>,
  options: Omit<ViewSubmissionOptions, 'view'> = {},
): ViewSubmissionPayload {
  const view = isRecorded(opened) ? opened.view : opened;
  const located = interactiveElements(view.blocks ?? []);
  const changes: StateValues = {};
  for (const [blockId, actions] of Object.entries(values)) {
    for (const [actionId, value] of Object.entries(actions)) {
      const where = `${blockId}/${actionId}`;
      const target = located.find(
        ({ block, element }) => block.block_id === blockId && element.action_id === actionId,
      );
      if (!target) {
        const known = located.map(({ block, element }) => `${block.block_id}/${element.action_id}`);
        throw new Error(
          `View ${view.callback_id ?? view.id} has no input ${where}. It has: ${known.join(', ') || '(none)'}`,
        );
      }
      changes[blockId] ??= {};
      changes[blockId]![actionId] =
        typeof value === 'object' && !Array.isArray(value)
          ? value
          : stateFromShorthand(target.element, value, `Input ${where}`);
    }
  }
  return createViewSubmission({
    ...options,
    view: { ...view, state: { values: mergeState(stateOf(view.blocks ?? []), changes) } },
  });
}

/**
 * The view_closed payload Slack sends when the user closes (Cancel, ✕) a modal the app opened with
 * notify_on_close. It carries the view as the user left it.
 */
export function closeView(
  opened: SlackView | { view: SlackView },
  options: Omit<ViewSubmissionOptions, 'view'> = {},
): Omit<ViewSubmissionPayload, 'type' | 'trigger_id' | 'response_urls'> & {
  type: 'view_closed';
  is_cleared: boolean;
} {
  const view = isRecorded(opened) ? opened.view : opened;
  const {
    type: _type,
    trigger_id: _trigger,
    response_urls: _urls,
    ...rest
  } = createViewSubmission({
    ...options,
    view: { ...view, state: { values: stateOf(view.blocks ?? []) } },
  });
  return { type: 'view_closed', ...rest, is_cleared: false };
}

// ---------------------------------------------------------------------------------------------
// Convenience: post the payloads above to a running app

export function postSlashCommand(
  url: string,
  fields: SlashCommandFields,
  options: PostSignedOptions,
): Promise<PostResult> {
  return postSigned(url, encodeSlashCommand(fields), options);
}

export function postInteraction(
  url: string,
  payload: object,
  options: PostSignedOptions,
): Promise<PostResult> {
  return postSigned(url, encodeInteraction(payload), options);
}
