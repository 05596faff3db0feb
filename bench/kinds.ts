import { CallbackId, StartField } from '../src/views/ids.js';
import { findHeader } from '../test/support/app-harness.js';
import {
  createBlockActions,
  createSlashCommand,
  encodeInteraction,
  encodeSlashCommand,
  postSigned,
  type SlackElement,
  type SlackMessage,
  submitView,
} from '../test/support/slack-requests.js';
import type { StoredMessage } from '../test/support/slack-stand-in.js';
import {
  type BodyTemplate,
  bodyTemplate,
  type RequestPicker,
  renderBody,
  SLOT_USER,
  SLOTS,
} from './clicks.js';
import { auditKey, type Context, sendStart } from './releases.js';

// The request kinds besides checkbox clicks, each a body Slack would send and each safe to repeat
// thousands of times: a read-only slash command, a button that opens a modal, and two modal
// submissions. All of them are built from what shipcheck really posted to the Slack stand-in.

export const KINDS_VERSION = 'bench-kinds';
export const KINDS_TEMPLATE = 'standard';
const KINDS_CHANNEL = 'C0BENCHKND';
const KINDS_USER = 'U0KND000';
/** Fails the start form's version check ("v 2.3" has a space), so the form answers with errors. */
export const INVALID_VERSION = 'v 2.3';
const STATUS_TAG = 'bench-kinds-status';

export type KindId = 'command' | 'button' | 'view-errors' | 'view-owners';

export interface RequestKind {
  id: KindId;
  /** What Slack sends, for the report. */
  label: string;
  /** What shipcheck does with it, for the report. */
  detail: string;
  template: BodyTemplate;
  bodyBytes: number;
}

export interface PreparedKinds {
  kinds: RequestKind[];
  releaseId: string;
  /** Audit events of the kinds' release before the load: the kinds must add none. */
  auditBefore: number;
  auditKey: string;
}

interface Located {
  blockId: string;
  element: SlackElement;
}

function findButton(message: StoredMessage, prefix: string): Located | undefined {
  for (const block of message.blocks as { type: string; block_id?: string; elements?: SlackElement[] }[]) {
    if (block.type !== 'actions' || !block.block_id) continue;
    const element = block.elements?.find(
      (candidate) => candidate.type === 'button' && candidate.action_id?.startsWith(prefix),
    );
    if (element) return { blockId: block.block_id, element };
  }
  return undefined;
}

export function kindPicker(kind: RequestKind): (offset: number) => RequestPicker {
  return () => (_k, clicker) => ({
    template: kind.template,
    userId: `U0KND${String(clicker).padStart(3, '0')}`,
  });
}

async function post(url: string, ctx: Context, template: BodyTemplate) {
  return postSigned(url, renderBody(template, KINDS_USER), {
    signingSecret: ctx.signingSecret,
    timeoutMs: 10_000,
  });
}

/**
 * Starts a `standard` release, clicks its "Assign owners…" once and opens the start form once, to
 * build the kinds from what shipcheck posted; then sends one of each to both servers and checks that
 * each is answered as the kind intends.
 */
export async function prepareKinds(ctx: Context, bareUrl: string): Promise<PreparedKinds> {
  const { standIn, progress } = ctx;
  progress(`kinds: starting ${KINDS_VERSION} (${KINDS_TEMPLATE} template) and opening its modals`);
  await sendStart(ctx, KINDS_VERSION, KINDS_TEMPLATE, KINDS_CHANNEL);
  const title = `${KINDS_VERSION} → production`;
  const planning = await standIn.waitFor(
    () => {
      const header = findHeader(standIn, title, KINDS_CHANNEL);
      if (!header) return undefined;
      return standIn
        .messages(KINDS_CHANNEL)
        .find((message) => message.thread_ts === header.ts && findButton(message, 'owners.open|'));
    },
    30_000,
    `the first phase message of ${title}, with its "Assign owners…" button`,
  );
  const button = findButton(planning, 'owners.open|')!;
  const releaseId = String(button.element.action_id).split('|')[1]!;
  const buttonPayload = createBlockActions({
    message: planning as unknown as SlackMessage,
    user: SLOT_USER,
    triggerId: SLOTS.triggerId,
    actions: [
      {
        type: 'button',
        block_id: button.blockId,
        action_id: String(button.element.action_id),
        text: button.element.text,
        action_ts: SLOTS.actionTs,
      },
    ],
  });
  const buttonTemplate = bodyTemplate(encodeInteraction(buttonPayload));

  // The button opens the owners modal: that view, saved as it opened, is the owners submission.
  const viewsBefore = standIn.views.length;
  const buttonAnswer = await post(ctx.shipUrl, ctx, buttonTemplate);
  if (buttonAnswer.status !== 200) throw new Error(`"Assign owners…" answered ${buttonAnswer.status}`);
  const ownersModal = await standIn.waitFor(
    () =>
      standIn.views.slice(viewsBefore).find((record) => record.view.callback_id === CallbackId.assignOwners),
    10_000,
    'the owners modal (views.open)',
  );
  const ownersTemplate = bodyTemplate(
    encodeInteraction(submitView(ownersModal, {}, { user: SLOT_USER, triggerId: SLOTS.triggerId })),
  );

  // `/deploy start` alone opens the start form.
  const startForm = createSlashCommand({
    text: 'start',
    channel_id: KINDS_CHANNEL,
    channel_name: 'bench',
    user_id: KINDS_USER,
    response_url: standIn.responseUrl('bench-kinds-form'),
  });
  const formAnswer = await postSigned(ctx.shipUrl, encodeSlashCommand(startForm), {
    signingSecret: ctx.signingSecret,
    timeoutMs: 10_000,
  });
  if (formAnswer.status !== 200) throw new Error(`/deploy start (the form) answered ${formAnswer.status}`);
  const form = await standIn.waitFor(
    () => standIn.views.find((record) => record.view.callback_id === CallbackId.startRelease),
    10_000,
    'the start form (views.open)',
  );
  const formTemplate = bodyTemplate(
    encodeInteraction(
      submitView(
        form,
        { [StartField.versionBlock]: { [StartField.versionAction]: INVALID_VERSION } },
        { user: SLOT_USER, triggerId: SLOTS.triggerId },
      ),
    ),
  );

  const statusTemplate = bodyTemplate(
    encodeSlashCommand(
      createSlashCommand({
        text: `status ${KINDS_VERSION}`,
        channel_id: KINDS_CHANNEL,
        channel_name: 'bench',
        user_id: SLOTS.userId,
        user_name: SLOTS.userId,
        trigger_id: SLOTS.triggerId,
        response_url: standIn.responseUrl(STATUS_TAG),
      }),
    ),
  );

  const size = (template: BodyTemplate) => Buffer.byteLength(renderBody(template, KINDS_USER));
  const kinds: RequestKind[] = [
    {
      id: 'command',
      label: `slash command \`/deploy status ${KINDS_VERSION}\``,
      detail: 'acked empty at once; then the release is read from Redis and the answer goes to response_url',
      template: statusTemplate,
      bodyBytes: size(statusTemplate),
    },
    {
      id: 'button',
      label: 'block_actions: the "Assign owners…" button on the first phase message of a `standard` release',
      detail:
        'acked empty at once; then the release is read from Redis and the owners modal opened (views.open)',
      template: buttonTemplate,
      bodyBytes: size(buttonTemplate),
    },
    {
      id: 'view-errors',
      label: `view_submission: the start form with an invalid version (\`${INVALID_VERSION}\`)`,
      detail:
        'checked without I/O and answered in the ack with `response_action: errors` (a valid start would create a release per request)',
      template: formTemplate,
      bodyBytes: size(formTemplate),
    },
    {
      id: 'view-owners',
      label: 'view_submission: the "Assign owners" modal saved without changes',
      detail: 'acked empty at once; then the release is read from Redis and nothing is written',
      template: ownersTemplate,
      bodyBytes: size(ownersTemplate),
    },
  ];

  // One of each to both servers: each must be answered the way its kind intends.
  const statusBefore = standIn.responsesTo(STATUS_TAG).length;
  for (const kind of kinds) {
    for (const [server, url] of [
      ['shipcheck', ctx.shipUrl],
      ['bare bolt', bareUrl],
    ] as const) {
      const answer = await post(url, ctx, kind.template);
      const json = answer.json as { response_action?: string; errors?: Record<string, string> } | undefined;
      const ok =
        answer.status === 200 &&
        (kind.id === 'view-errors'
          ? json?.response_action === 'errors' && json.errors?.[StartField.versionBlock] !== undefined
          : answer.body === '');
      if (!ok) {
        throw new Error(`${kind.id}: ${server} answered ${answer.status} ${answer.body.slice(0, 300)}`);
      }
    }
  }
  await standIn.waitFor(
    () => standIn.responsesTo(STATUS_TAG).length > statusBefore,
    10_000,
    `the answer to /deploy status ${KINDS_VERSION} at its response_url`,
  );
  const key = auditKey(ctx.prefix, releaseId);
  return { kinds, releaseId, auditBefore: await ctx.redis.xlen(key), auditKey: key };
}
