import path from 'node:path';
import { expect } from 'vitest';
import { loadTemplates } from '../../src/config/checklists.js';
import type { Template } from '../../src/domain/template.js';
import {
  blockTexts,
  type TestApp as FullTestApp,
  findHeader,
  findPhaseMessage,
  viewItem,
} from '../support/app-harness.js';
import { clickButton, submitView } from '../support/slack-requests.js';
import type { RecordedView, StoredMessage } from '../support/slack-stand-in.js';

/** What these helpers need of an app: the Slack side of the conversation. In-process or spawned. */
type TestApp = Pick<FullTestApp, 'standIn' | 'command' | 'interact' | 'tickPayload'>;

export const templates: Map<string, Template> = await loadTemplates(path.resolve('checklists'));

export function template(id: string): Template {
  const found = templates.get(id);
  if (!found) throw new Error(`no template ${id}`);
  return found;
}

export function requiredItemIds(templateId: string, phaseIndex: number): string[] {
  return template(templateId)
    .phases[phaseIndex]!.items.filter((item) => item.required)
    .map((item) => item.id);
}

/** The required items of a phase that a click ticks at once: those that record no value. */
export function plainItemIds(templateId: string, phaseIndex: number): string[] {
  return template(templateId)
    .phases[phaseIndex]!.items.filter((item) => item.required && !item.record)
    .map((item) => item.id);
}

/** Whether ticking the item in this message opens the form asking for its value. */
export function recordsValue(message: StoredMessage, itemId: string): boolean {
  return ((message.blocks ?? []) as { accessory?: { action_id?: string } }[]).some((block) => {
    const actionId = block.accessory?.action_id ?? '';
    return actionId.startsWith('item.record|') && actionId.endsWith(`|${itemId}`);
  });
}

/** The value form opened for `itemId` since `viewsBefore` views were recorded. */
export async function waitForValueForm(app: TestApp, itemId: string, viewsBefore = 0): Promise<RecordedView> {
  return app.standIn.waitFor(
    () =>
      app.standIn.views
        .slice(viewsBefore)
        .find(
          (record) =>
            record.view.callback_id === 'item.record' &&
            (JSON.parse(String(record.view.private_metadata)) as { itemId?: string }).itemId === itemId,
        ),
    5000,
    `the value form of ${itemId}`,
  );
}

/** A value the form accepts: its example when it shows one, else one of the input's kind. */
function sampleValue(form: RecordedView): string {
  const input = (
    form.view.blocks as { block_id?: string; element?: { type?: string; placeholder?: { text?: string } } }[]
  ).find((block) => block.block_id === 'value')?.element;
  if (input?.placeholder?.text) return input.placeholder.text;
  if (input?.type === 'url_text_input') return 'https://ci.example.com/runs/1';
  if (input?.type === 'number_input') return '1';
  return 'recorded-by-test';
}

export async function waitForHeader(app: TestApp, title: string, channel?: string): Promise<StoredMessage> {
  return app.standIn.waitFor(() => findHeader(app.standIn, title, channel), 5000, `header "${title}"`);
}

export async function waitForPhase(
  app: TestApp,
  header: StoredMessage,
  phaseName: string,
): Promise<StoredMessage> {
  return app.standIn.waitFor(
    () => findPhaseMessage(app.standIn, header.ts, phaseName, header.channel),
    5000,
    `phase "${phaseName}"`,
  );
}

export function current(app: TestApp, message: StoredMessage): StoredMessage {
  const found = app.standIn.message(message.channel, message.ts);
  if (!found) throw new Error(`message ${message.ts} is gone`);
  return found;
}

/**
 * Clicks an item as `user` sees the message now, and checks that Slack got a 200 at once. A tick of an
 * item that records a value opens a form; it is submitted with a value the form accepts.
 */
export async function click(
  app: TestApp,
  message: StoredMessage,
  itemId: string,
  selected: boolean,
  user = 'U0ALICE',
) {
  return clickInView(app, current(app, message), itemId, selected, user);
}

/** {@link click} on a given view of the message, such as a stale one. */
export async function clickInView(
  app: TestApp,
  view: StoredMessage,
  itemId: string,
  selected: boolean,
  user = 'U0ALICE',
) {
  const viewsBefore = app.standIn.views.length;
  const response = await app.interact(app.tickPayload(view, itemId, selected, user));
  expect(response.status).toBe(200);
  if (!selected || !recordsValue(view, itemId)) return response;
  const form = await waitForValueForm(app, itemId, viewsBefore);
  const submitted = await app.interact(
    submitView(form, { value: { 'value.input': sampleValue(form) } }, { user }),
  );
  expect(submitted.status).toBe(200);
  return submitted;
}

export async function waitForItem(app: TestApp, message: StoredMessage, itemId: string, ticked: boolean) {
  await app.standIn.waitFor(
    () => viewItem(current(app, message), itemId)?.ticked === ticked,
    5000,
    `item ${itemId} shown ${ticked ? 'ticked' : 'unticked'}`,
  );
}

/** Ticks items one after another, each click made on the message as it is shown at that moment. */
export async function tickAll(app: TestApp, message: StoredMessage, itemIds: string[], user = 'U0ALICE') {
  for (const itemId of itemIds) {
    if (viewItem(current(app, message), itemId)?.ticked) continue;
    await click(app, message, itemId, true, user);
  }
  for (const itemId of itemIds) await waitForItem(app, message, itemId, true);
}

/** The ephemeral answers a slash command got through its response_url. */
export function repliesTo(app: TestApp, responseTag: string): string[] {
  return app.standIn.responsesTo(responseTag).map((response) => {
    const body = response.body as { text?: string; blocks?: unknown[] };
    return [body.text ?? '', JSON.stringify(body.blocks ?? [])].join('\n');
  });
}

export async function waitForReply(app: TestApp, responseTag: string, pattern: RegExp): Promise<string> {
  return app.standIn.waitFor(
    () => repliesTo(app, responseTag).find((text) => pattern.test(text)),
    5000,
    `a reply matching ${pattern}`,
  );
}

/**
 * Answers each post-deploy check-in of the release "Healthy" as it is posted, until the header says
 * the release is completed. The app should run with a short CHECKIN_SCHEDULE.
 */
export async function answerCheckinsHealthy(app: TestApp, header: StoredMessage, user = 'U0ALICE') {
  const answered = new Set<string>();
  const deadline = Date.now() + 10_000;
  while (!blockTexts(current(app, header)).some((text) => text.includes('✅ Completed'))) {
    if (Date.now() > deadline)
      throw new Error(`release not completed after its check-ins\n${app.standIn.describeCalls()}`);
    for (const message of app.standIn.messages(header.channel)) {
      if (message.thread_ts !== header.ts || answered.has(message.ts)) continue;
      const actionId = JSON.stringify(message.blocks).match(/"action_id":"(checkin\.healthy\|[^"]+)"/)?.[1];
      if (!actionId) continue;
      answered.add(message.ts);
      const response = await app.interact(clickButton(message as never, { actionId }, { user }));
      expect(response.status).toBe(200);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
