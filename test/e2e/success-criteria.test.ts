import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blockTexts, startTestApp, type TestApp } from '../support/app-harness.js';
import { clickButton, submitView } from '../support/slack-requests.js';
import type { StoredMessage } from '../support/slack-stand-in.js';
import {
  answerCheckinsHealthy,
  current,
  tickAll,
  waitForHeader,
  waitForPhase,
  waitForReply,
} from './helpers.js';

// Success criteria in use, through Slack: a check-in lists the template's criteria, someone records
// what they observed (one met, one missed), the check-in shows the values with their verdicts, and
// the draft retrospective and both log files report the criteria met, missed and not recorded.

const TEMPLATE = `id: measured
name: Measured
phases:
  - id: ship
    name: Ship
    deployment: true
    items:
      - id: shipped
        text: Deployed
success:
  - id: error-rate
    name: Error rate higher than the baseline
    direction: below
    threshold: 1
    unit: '%'
  - id: response-time
    name: Response time slower than the baseline
    direction: below
    threshold: 10
    unit: '%'
  - id: critical-issues
    name: Critical issues found after the deploy
    direction: below
    threshold: 3
    unit: count
`;

const OPS = 'U0OPS';

let checklistsDir: string;
const apps: TestApp[] = [];
beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-success-'));
  await writeFile(path.join(checklistsDir, 'measured.yaml'), TEMPLATE);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});
afterAll(async () => {
  await rm(checklistsDir, { recursive: true, force: true });
});

const text = (message: StoredMessage) => blockTexts(message).join('\n');

/** The action id of the check-in's "Record values…" button, once the check-in is posted. */
function recordActionId(message: StoredMessage): string | undefined {
  return JSON.stringify(message.blocks).match(/"action_id":"(checkin\.record\|[^"]+)"/)?.[1];
}

describe('success criteria at check-ins', () => {
  it('records observed values at a check-in and reports them in the check-in, the retrospective and the log', async () => {
    const app = await startTestApp({ env: { CHECKLISTS_DIR: checklistsDir, CHECKIN_SCHEDULE: '1s' } });
    apps.push(app);
    await app.command('start v1.0 staging measured', { user_id: 'U0LEAD' });
    const header = await waitForHeader(app, 'v1.0 → staging');
    await tickAll(app, await waitForPhase(app, header, 'Ship'), ['shipped']);

    // The check-in lists the criteria with their targets, nothing recorded yet.
    const checkin = await app.standIn.waitFor(
      () =>
        app.standIn
          .messages(header.channel)
          .find((message) => message.thread_ts === header.ts && recordActionId(message) !== undefined),
      5000,
      'the check-in',
    );
    expect(text(checkin)).toContain(
      [
        '*🎯 Success criteria*',
        '• ➖ *Error rate higher than the baseline*: not recorded (target: less than 1 %)',
        '• ➖ *Response time slower than the baseline*: not recorded (target: less than 10 %)',
        '• ➖ *Critical issues found after the deploy*: not recorded (target: fewer than 3)',
      ].join('\n'),
    );

    // "Record values…" opens one number per criterion.
    const viewsBefore = app.standIn.views.length;
    await app.interact(clickButton(checkin as never, { actionId: recordActionId(checkin)! }, { user: OPS }));
    const modal = await app.standIn.waitFor(() => app.standIn.views[viewsBefore], 5000, 'the values form');
    expect(modal.view.callback_id).toBe('checkin.observe');

    // A count is a whole number: the form says so and records nothing.
    const refused = await app.interact(
      submitView(modal, { 'observed:critical-issues': { 'observed.input': '1.5' } }, { user: OPS }),
    );
    expect(refused.json).toEqual({
      response_action: 'errors',
      errors: { 'observed:critical-issues': 'Write a whole number, 0 or more.' },
    });

    const submitted = await app.interact(
      submitView(
        modal,
        {
          'observed:error-rate': { 'observed.input': '0.4' },
          'observed:response-time': { 'observed.input': '14' },
        },
        { user: OPS },
      ),
    );
    expect(submitted.status).toBe(200);
    await app.standIn.waitFor(
      () => text(current(app, checkin)).includes('0.4 % — met'),
      5000,
      'the values on the check-in',
    );
    const shown = text(current(app, checkin));
    expect(shown).toContain(
      '• ✅ *Error rate higher than the baseline*: 0.4 % — met (target: less than 1 %)',
    );
    expect(shown).toContain(
      '• ❌ *Response time slower than the baseline*: 14 % — missed (target: less than 10 %)',
    );
    expect(shown).toContain(
      '• ➖ *Critical issues found after the deploy*: not recorded (target: fewer than 3)',
    );
    expect(shown).toContain(`Last value recorded by <@${OPS}>`);

    // Recorded on the record, one event per value.
    const audit = await app.command('audit v1.0');
    const trail = await waitForReply(app, audit.responseTag, /Audit trail/);
    expect(trail).toContain(`<@${OPS}> recorded *Error rate higher than the baseline* at check-in 1: 0.4 %`);
    expect(trail).toContain(
      `<@${OPS}> recorded *Response time slower than the baseline* at check-in 1: 14 %`,
    );

    // Healthy completes the release: the draft retrospective and the log report the criteria.
    await answerCheckinsHealthy(app, header);
    const draft = await app.standIn.waitFor(
      () =>
        app.standIn
          .messages(header.channel)
          .find((message) => message.thread_ts === header.ts && /Draft retrospective/.test(message.text)),
      5000,
      'the draft retrospective',
    );
    expect(text(draft)).toContain(
      [
        '*🎯 Success criteria*: 1 met, 1 missed, 1 not recorded',
        '• ✅ *Error rate higher than the baseline*: 0.4 % at check-in 1 — met (target: less than 1 %)',
        '• ❌ *Response time slower than the baseline*: 14 % at check-in 1 — missed (target: less than 10 %)',
        '• ➖ *Critical issues found after the deploy*: not recorded (target: fewer than 3)',
      ].join('\n'),
    );

    const [markdown, json] = await app.standIn.waitFor(
      () => (app.standIn.files.filter((file) => file.completed).length === 2 ? app.standIn.files : undefined),
      5000,
      'the log files',
    );
    expect(markdown!.content).toContain(
      `- **Met**: Error rate higher than the baseline, 0.4 % at check-in 1 (target: less than 1 %), recorded by ops (${OPS})`,
    );
    expect(markdown!.content).toContain(
      `- **Missed**: Response time slower than the baseline, 14 % at check-in 1 (target: less than 10 %), recorded by ops (${OPS})`,
    );
    expect(markdown!.content).toContain(
      '- **Not recorded**: Critical issues found after the deploy (target: fewer than 3).',
    );
    const log = JSON.parse(json!.content) as {
      criteria: { id: string; verdict: string; observed?: { value: number; checkin: number; by: string } }[];
    };
    expect(log.criteria.map(({ id, verdict, observed }) => [id, verdict, observed?.value])).toEqual([
      ['error-rate', 'met', 0.4],
      ['response-time', 'missed', 14],
      ['critical-issues', 'not_recorded', undefined],
    ]);

    // The check-in keeps its values, without its buttons, once the release has ended.
    await app.standIn.waitFor(
      () => recordActionId(current(app, checkin)) === undefined,
      5000,
      'the form gone from the check-in',
    );
    expect(text(current(app, checkin))).toContain('14 % — missed');
  });
});
