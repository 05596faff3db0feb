import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, viewItem } from '../support/app-harness.js';
import { closeView, createActionTs, createBlockActions, submitView } from '../support/slack-requests.js';
import type { StoredMessage } from '../support/slack-stand-in.js';
import {
  current,
  waitForHeader,
  waitForItem,
  waitForPhase,
  waitForReply,
  waitForValueForm,
} from './helpers.js';

// An item that records a value, end to end: ticking it opens a form at once (views.open with the
// click's trigger_id) and commits nothing; a wrong value is refused in the form, a good one ticks the
// item with it, and the value shows on the item, in /deploy status, in /deploy audit and in both log
// files. Closing the form, or a submission the release refuses, leaves the item unticked and redraws it.

const TEMPLATE = `id: recorded
name: Recorded
phases:
  - id: ship
    name: Ship
    deployment: true
    items:
      - id: tagged
        text: Release tagged
        record:
          kind: text
          label: Commit SHA
          pattern: '[0-9a-f]{7,40}'
          example: '4f2a9c1'
      - id: shipped
        text: Shipped
      - id: qa-run
        text: QA's regression run passes
        role: qa
        record:
          kind: url
          label: Test run
`;

const ALICE = 'U0ALICE';
const QA = 'U0QA';

let checklistsDir: string;
const apps: TestApp[] = [];
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-values-'));
  await writeFile(path.join(checklistsDir, 'recorded.yaml'), TEMPLATE);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});
afterAll(async () => {
  await rm(checklistsDir, { recursive: true, force: true });
});

async function startRelease(version: string, env: Record<string, string> = {}) {
  const app = await startTestApp({ env: { CHECKLISTS_DIR: checklistsDir, ...env } });
  apps.push(app);
  await app.command(`start ${version} staging recorded`, { user_id: ALICE });
  const header = await waitForHeader(app, `${version} → staging`);
  const phase = await waitForPhase(app, header, 'Ship');
  return { app, header, phase };
}

/** Ticks `tagged` as Alice sees the phase now; returns the click's answer and the form it opened. */
async function tickTagged(app: TestApp, phase: StoredMessage) {
  const viewsBefore = app.standIn.views.length;
  const payload = app.tickPayload(current(app, phase), 'tagged', true, ALICE);
  const clicked = await app.interact(payload);
  const form = await waitForValueForm(app, 'tagged', viewsBefore);
  return { clicked, form, triggerId: payload.trigger_id };
}

const itemText = (app: TestApp, phase: StoredMessage, itemId = 'tagged') =>
  viewItem(current(app, phase), itemId)!.text;

describe('an item that records a value', () => {
  it('asks for it when ticked, refuses a wrong one in the form, and shows a good one everywhere', async () => {
    const { app, phase } = await startRelease('v1.0');
    expect(itemText(app, phase)).toContain('_records Commit SHA_');

    const { clicked, form, triggerId } = await tickTagged(app, phase);
    // Acknowledged at once, with the form opened on the click's own trigger_id.
    expect(clicked.status).toBe(200);
    expect(clicked.body).toBe('');
    expect(form).toMatchObject({ method: 'views.open', trigger_id: triggerId });
    expect(form.view).toMatchObject({
      callback_id: 'item.record',
      notify_on_close: true,
      title: { text: 'Record Commit SHA' },
    });
    expect(JSON.stringify(form.view.blocks)).toContain('"text":"Commit SHA"');
    // The click committed nothing.
    const audit = await app.command('audit v1.0', { user_id: ALICE });
    const trail = await waitForReply(app, audit.responseTag, /Audit trail/);
    expect(trail).not.toContain('ticked');

    const wrong = await app.interact(submitView(form, { value: { 'value.input': 'main' } }, { user: ALICE }));
    expect(wrong.status).toBe(200);
    expect(wrong.json).toEqual({
      response_action: 'errors',
      errors: { value: 'That does not look like a Commit SHA: write it like 4f2a9c1.' },
    });
    expect(viewItem(current(app, phase), 'tagged')!.ticked).toBe(false);

    const good = await app.interact(
      submitView(form, { value: { 'value.input': ' 4f2a9c1e ' } }, { user: ALICE }),
    );
    expect(good.status).toBe(200);
    expect(good.body).toBe('');
    await waitForItem(app, phase, 'tagged', true);
    expect(itemText(app, phase)).toMatch(/:white_check_mark: Commit SHA: `4f2a9c1e` — <@U0ALICE> <!date\^/);

    const status = await app.command('status v1.0', { user_id: ALICE });
    expect(await waitForReply(app, status.responseTag, /Recorded/)).toContain(
      '*Recorded:*\\n• Commit SHA: `4f2a9c1e` · <@U0ALICE>',
    );
    const audited = await app.command('audit v1.0', { user_id: ALICE });
    expect(await waitForReply(app, audited.responseTag, /ticked/)).toContain(
      '<@U0ALICE> ticked “Release tagged” in Ship (open → done): Commit SHA: `4f2a9c1e`',
    );

    await app.command('log v1.0', { user_id: ALICE });
    const [markdown, json] = await app.standIn.waitFor(
      () => (app.standIn.files.filter((file) => file.completed).length === 2 ? app.standIn.files : undefined),
      5000,
      'the log files',
    );
    // People by their names at the time, with their ids (issue 16).
    expect(markdown!.content).toContain('- [x] Release tagged — Commit SHA: 4f2a9c1e — alice (U0ALICE) at ');
    expect(markdown!.content).toContain('| Commit SHA | 4f2a9c1e | Release tagged | alice (U0ALICE) at ');
    expect(markdown!.content).toMatch(
      /“Release tagged” in phase 1 “Ship” \(open → done\); Commit SHA: 4f2a9c1e \|/,
    );
    const log = JSON.parse(json!.content) as {
      phases: { items: { id: string; record?: unknown }[] }[];
      events: { type: string; itemId?: string; value?: string }[];
    };
    expect(log.phases[0]!.items.find((entry) => entry.id === 'tagged')!.record).toEqual({
      label: 'Commit SHA',
      kind: 'text',
      value: '4f2a9c1e',
    });
    expect(log.events.filter((event) => event.type === 'ticked')).toEqual([
      expect.objectContaining({ itemId: 'tagged', value: '4f2a9c1e' }),
    ]);

    // An untick clears the value, on the record.
    await app.interact(app.tickPayload(current(app, phase), 'tagged', false, ALICE));
    await waitForItem(app, phase, 'tagged', false);
    expect(itemText(app, phase)).not.toContain('4f2a9c1e');
    const cleared = await app.command('audit v1.0', { user_id: ALICE });
    expect(await waitForReply(app, cleared.responseTag, /unticked/)).toContain(
      'unticked “Release tagged” in Ship (done → open), clearing Commit SHA: `4f2a9c1e`',
    );
  });

  it('stays unticked when the form is closed, and its phase is redrawn so the box goes back', async () => {
    const { app, phase } = await startRelease('v2.0');
    const { form } = await tickTagged(app, phase);
    const before = current(app, phase);
    const blockIdBefore = (before.blocks as { block_id?: string }[]).find((block) =>
      block.block_id?.startsWith('item:tagged:'),
    )!.block_id;

    const closed = await app.interact(closeView(form, { user: ALICE }));
    expect(closed.status).toBe(200);
    // New block ids make Slack clients drop the tick the person made locally.
    await app.standIn.waitFor(
      () =>
        (current(app, phase).blocks as { block_id?: string }[]).some(
          (block) => block.block_id?.startsWith('item:tagged:') && block.block_id !== blockIdBefore,
        ),
      5000,
      'the phase redrawn with new block ids',
    );
    expect(viewItem(current(app, phase), 'tagged')).toMatchObject({ ticked: false, clickable: true });
    const audit = await app.command('audit v2.0', { user_id: ALICE });
    expect(await waitForReply(app, audit.responseTag, /Audit trail/)).not.toContain('ticked');
  });

  it('stays unticked when the release refuses the submission, which is told and redrawn', async () => {
    const { app, phase } = await startRelease('v3.0');
    const { form } = await tickTagged(app, phase);
    await app.command('cancel v3.0 The tag was wrong', { user_id: ALICE });
    await app.standIn.waitFor(
      () => (viewItem(current(app, phase), 'tagged')?.clickable === false ? true : undefined),
      5000,
      'the cancelled release shown read-only',
    );
    const updatesBefore = current(app, phase).updates;

    const submitted = await app.interact(
      submitView(form, { value: { 'value.input': '4f2a9c1' } }, { user: ALICE }),
    );
    expect(submitted.status).toBe(200);
    expect(submitted.body).toBe('');
    const told = await app.standIn.waitFor(
      () =>
        app.standIn.ephemerals.find((message) => message.user === ALICE && /cancelled/.test(message.text)),
      5000,
      'the refusal told in the channel',
    );
    expect(told.text).toContain('nothing was changed');
    await app.standIn.waitFor(() => current(app, phase).updates > updatesBefore, 5000, 'the phase redrawn');
    expect(viewItem(current(app, phase), 'tagged')!.ticked).toBe(false);
  });

  it('opens the same form from a reminder’s “Done…” button, which commits nothing by itself', async () => {
    const { app, phase } = await startRelease('v4.0');
    const viewsBefore = app.standIn.views.length;
    // The button a reminder DM shows for an item that records a value.
    const pressed = await app.interact(
      createBlockActions({
        message: current(app, phase) as never,
        user: ALICE,
        actions: [
          {
            type: 'button',
            block_id: 'reminder-item',
            action_id: 'item.record|r1|tagged',
            text: { type: 'plain_text', text: 'Done…' },
            value: 'tagged',
            action_ts: createActionTs(),
          },
        ],
      }),
    );
    expect(pressed.status).toBe(200);
    const form = await waitForValueForm(app, 'tagged', viewsBefore);
    expect(viewItem(current(app, phase), 'tagged')!.ticked).toBe(false);
    await app.interact(submitView(form, { value: { 'value.input': 'abcdef1' } }, { user: ALICE }));
    await waitForItem(app, phase, 'tagged', true);
    expect(itemText(app, phase)).toContain('Commit SHA: `abcdef1`');
  });

  it('is refused before the form opens to someone without its role, and so is their submission of a holder’s form', async () => {
    const { app, phase } = await startRelease('v5.0', { ROLES: `qa=${QA}` });
    const viewsBefore = app.standIn.views.length;
    const refusedUrl = app.standIn.responseUrl('refused');
    const clicked = await app.interact(
      app.tickPayload(current(app, phase), 'qa-run', true, ALICE, refusedUrl),
    );
    expect(clicked.status).toBe(200);
    expect(await waitForReply(app, 'refused', /Only @qa can tick this item/)).toBeTruthy();
    expect(app.standIn.views.slice(viewsBefore)).toEqual([]);

    // The holder opens the form; someone else submits it (a copied view): refused, and told.
    const holderClick = app.tickPayload(current(app, phase), 'qa-run', true, QA);
    await app.interact(holderClick);
    const form = await waitForValueForm(app, 'qa-run', viewsBefore);
    const submitted = await app.interact(
      submitView(form, { value: { 'value.input': 'https://ci.example.com/runs/7' } }, { user: ALICE }),
    );
    expect(submitted.status).toBe(200);
    await app.standIn.waitFor(
      () => app.standIn.ephemerals.find((message) => message.user === ALICE && /Only @qa/.test(message.text)),
      5000,
      'the submitter told',
    );
    expect(viewItem(current(app, phase), 'qa-run')!.ticked).toBe(false);
    const audit = await app.command('audit v5.0', { user_id: QA });
    const trail = await waitForReply(app, audit.responseTag, /Audit trail/);
    expect(trail.match(/<@U0ALICE> was refused: tick “QA's regression run passes”/g)).toHaveLength(2);

    await app.interact(
      submitView(form, { value: { 'value.input': 'https://ci.example.com/runs/7' } }, { user: QA }),
    );
    await waitForItem(app, phase, 'qa-run', true);
    expect(itemText(app, phase, 'qa-run')).toContain(
      'Test run: <https://ci.example.com/runs/7|https://ci.example.com/runs/7> — <@U0QA>',
    );
  });
});
