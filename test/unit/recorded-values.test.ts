import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, lintTemplateText } from '../../src/cli/lint.js';
import { describeRecords, previewRelease } from '../../src/cli/preview.js';
import { loadTemplates, parseTemplate } from '../../src/config/checklists.js';
import { buildDeploymentLog } from '../../src/domain/deployment-log.js';
import {
  checkRecordedValue,
  type ItemRecord,
  needsValue,
  RECORDED_VALUE_MAX_LENGTH,
  typedValue,
} from '../../src/domain/recorded-value.js';
import type { Release } from '../../src/domain/release.js';
import type { Template } from '../../src/domain/template.js';
import { describeAuditEvent, renderAudit, renderStatus } from '../../src/views/command-replies.js';
import { CallbackId, decodeItemMetadata, decodeItemRecordActionId, ValueField } from '../../src/views/ids.js';
import { renderValueModal } from '../../src/views/recorded-values.js';
import { renderPhaseParts } from '../../src/views/release-messages.js';
import { renderOwnerReminder } from '../../src/views/reminder-message.js';
import { blockKitViolations } from './block-kit-limits.js';
import {
  HOSTILE_MARKUP,
  HOSTILE_TEXT,
  item,
  MINUTE,
  makeAuditEvent,
  makeRelease,
  T0,
  TICKER,
} from './factories.js';

// Items that record a value when ticked (a backup id, a commit SHA): the template field and its lint
// errors, the check of a value, and where a recorded value shows: the item, /deploy status, the audit
// trail, the value form, a reminder's button and both deployment log files.

/** One phase whose first item records a backup id; the record's fields are lines 10 and 11. */
const BASE = `id: recorded
name: Recorded
phases:
  - id: deploy
    name: Deploy
    items:
      - id: backup
        text: Backup taken
        record:
          kind: text
          label: Backup id
      - id: shipped
        text: Shipped
`;

/** BASE with the record's fields (from line 10) replaced by `fields`. */
function withRecord(...fields: string[]): string {
  return BASE.replace(
    '          kind: text\n          label: Backup id\n',
    fields.map((field) => `          ${field}\n`).join(''),
  );
}

function parsed(text: string): Template {
  const result = parseTemplate('recorded.yaml', text);
  if ('problems' in result) throw new Error(result.problems.join('\n'));
  return result.template;
}

function lintLines(text: string): string[] {
  const linted = lintTemplateText('recorded.yaml', text);
  return linted.problems.map((problem) => formatProblem(linted.file, problem));
}

describe('record in the template schema', () => {
  it('reads what an item records, and leaves it off the others', () => {
    const template = parsed(
      withRecord(
        'kind: text',
        'label: Commit SHA',
        "pattern: '[0-9a-f]{7,40}'",
        "example: '4f2a9c1'",
        'optional: true',
      ),
    );
    expect(template.phases[0]!.items[0]!.record).toEqual({
      kind: 'text',
      label: 'Commit SHA',
      pattern: '[0-9a-f]{7,40}',
      example: '4f2a9c1',
      optional: true,
    });
    expect(template.phases[0]!.items[1]!.record).toBeUndefined();
    expect(lintLines(BASE)).toEqual([]);
  });

  it('is used by the shipped templates: backup ids, test runs and commit SHAs, and migrations where they run', async () => {
    const shipped = await loadTemplates(path.resolve('checklists'));
    for (const [id, template] of shipped) {
      const labels = template.phases.flatMap((phase) =>
        phase.items.flatMap((entry) => entry.record?.label ?? []),
      );
      expect(labels, id).toEqual(expect.arrayContaining(['Backup id', 'Test run id or link', 'Commit SHA']));
      if (id !== 'hotfix') expect(labels, id).toContain('Migrations run');
    }
  });

  const LABEL = 'label: Rows';
  it.each([
    {
      misuse: 'an unknown kind',
      text: withRecord('kind: sha', 'label: Commit SHA'),
      expected: '10:17 phases[0].items[0].record.kind: use one of "text", "number", "url"',
    },
    {
      misuse: 'a record without a label',
      text: withRecord('kind: text'),
      expected: '10:11 phases[0].items[0].record.label: required field is missing (expected string)',
    },
    {
      misuse: 'a label too long to show',
      text: withRecord('kind: text', `label: ${'Backup '.repeat(8).trim()}`),
      expected: '11:18 phases[0].items[0].record.label: Too big: expected string to have <=40 characters',
    },
    {
      misuse: 'a pattern on a number',
      text: withRecord('kind: number', LABEL, "pattern: '[0-9]+'"),
      expected:
        '12:20 phases[0].items[0].record.pattern: a pattern checks text values; a number is checked by its kind',
    },
    {
      misuse: 'a pattern that is not a regular expression',
      text: withRecord('kind: text', 'label: Commit SHA', "pattern: '[0-9a-f'"),
      expected: '12:20 phases[0].items[0].record.pattern: not a valid regular expression',
    },
    {
      misuse: 'an example the pattern refuses',
      text: withRecord('kind: text', 'label: Commit SHA', "pattern: '[0-9a-f]{7,40}'", 'example: main'),
      expected:
        '13:20 phases[0].items[0].record.example: the example is not a value the item accepts: That does not look like a Commit SHA: it must match [0-9a-f]{7,40}.',
    },
    {
      misuse: 'an example that is not a link, for a url',
      text: withRecord('kind: url', 'label: Test run', 'example: ci/1234'),
      expected:
        '12:20 phases[0].items[0].record.example: the example is not a value the item accepts: Enter a link that starts with https://.',
    },
    {
      misuse: 'an example that is not a number, for a number',
      text: withRecord('kind: number', LABEL, 'example: many'),
      expected:
        '12:20 phases[0].items[0].record.example: the example is not a value the item accepts: Enter a number, like 42 or 3.5.',
    },
    {
      misuse: 'optional that is not true or false',
      text: withRecord('kind: text', 'label: Backup id', 'optional: sometimes'),
      expected: '12:21 phases[0].items[0].record.optional: Invalid input: expected boolean, received string',
    },
    {
      misuse: 'an unknown field in a record',
      text: withRecord('kind: text', 'label: Backup id', 'required: true'),
      expected:
        '12:11 phases[0].items[0].record.required: unknown field (allowed here: kind, label, pattern, example, optional)',
    },
    {
      misuse: 'a record that is a sentence',
      text: BASE.replace(
        '        record:\n          kind: text\n          label: Backup id\n',
        '        record: Backup id\n',
      ),
      expected: '9:17 phases[0].items[0].record: Invalid input: expected object, received string',
    },
    {
      misuse: 'a rollback item with an unknown kind',
      text: `${BASE}rollback:\n  criteria:\n    - It broke\n  items:\n    - id: rb\n      text: Reverted\n      record:\n        kind: version\n        label: Version\n`,
      expected: '21:15 rollback.items[0].record.kind: use one of "text", "number", "url"',
    },
  ])('reports $misuse at its file, line and column', ({ text, expected }) => {
    expect(lintLines(text)).toEqual([`recorded.yaml:${expected}`]);
    // Lint refuses exactly what the bot refuses at start-up.
    expect(parseTemplate('recorded.yaml', text)).toHaveProperty('problems');
  });
});

describe('checkRecordedValue', () => {
  const backup: ItemRecord = { kind: 'text', label: 'Backup id' };
  const sha: ItemRecord = {
    kind: 'text',
    label: 'Commit SHA',
    pattern: '[0-9a-f]{7,40}',
    example: '4f2a9c1',
  };

  it('keeps a text value without the space around it', () => {
    expect(checkRecordedValue(backup, '  bk-123 ')).toEqual({ ok: true, value: 'bk-123' });
  });

  it('needs a value unless the record is optional', () => {
    expect(checkRecordedValue(backup, '  ')).toEqual({
      ok: false,
      problem: 'Backup id is needed to tick this item.',
    });
    expect(checkRecordedValue({ ...backup, optional: true }, '')).toEqual({ ok: true, value: undefined });
    expect(needsValue({ record: backup })).toBe(true);
    expect(needsValue({ record: { ...backup, optional: true } })).toBe(false);
    expect(needsValue({})).toBe(false);
  });

  it('refuses a value too long, or on more than one line', () => {
    expect(checkRecordedValue(backup, 'x'.repeat(RECORDED_VALUE_MAX_LENGTH)).ok).toBe(true);
    expect(checkRecordedValue(backup, 'x'.repeat(RECORDED_VALUE_MAX_LENGTH + 1))).toEqual({
      ok: false,
      problem: 'Keep it under 500 characters.',
    });
    expect(checkRecordedValue(backup, 'bk-1\nbk-2')).toEqual({ ok: false, problem: 'Write it on one line.' });
  });

  it('matches the pattern against the whole value, and quotes the example when one is wrong', () => {
    expect(checkRecordedValue(sha, '4f2a9c1e')).toEqual({ ok: true, value: '4f2a9c1e' });
    for (const wrong of ['main', 'v4f2a9c1', '4f2a9c1 and more']) {
      expect(checkRecordedValue(sha, wrong)).toEqual({
        ok: false,
        problem: 'That does not look like a Commit SHA: write it like 4f2a9c1.',
      });
    }
    expect(checkRecordedValue({ ...sha, example: undefined }, 'main')).toEqual({
      ok: false,
      problem: 'That does not look like a Commit SHA: it must match [0-9a-f]{7,40}.',
    });
  });

  it('takes numbers as numbers, and links that start with http or https', () => {
    const rows: ItemRecord = { kind: 'number', label: 'Rows migrated' };
    expect(checkRecordedValue(rows, '1200')).toEqual({ ok: true, value: '1200' });
    expect(checkRecordedValue(rows, '-3.5').ok).toBe(true);
    expect(checkRecordedValue(rows, '12 rows')).toEqual({
      ok: false,
      problem: 'Enter a number, like 42 or 3.5.',
    });
    expect(typedValue(rows, '1200')).toBe(1200);
    expect(typedValue(backup, '1200')).toBe('1200');
    const run: ItemRecord = { kind: 'url', label: 'Test run', example: 'https://ci.example.com/runs/1' };
    expect(checkRecordedValue(run, 'https://ci.example.com/runs/42').ok).toBe(true);
    for (const wrong of ['ci.example.com/runs/42', 'ftp://ci.example.com/42', 'javascript:alert(1)']) {
      expect(checkRecordedValue(run, wrong)).toEqual({
        ok: false,
        problem: 'Enter a link that starts with https://, like https://ci.example.com/runs/1.',
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Where a recorded value shows

const BACKUP: ItemRecord = { kind: 'text', label: 'Backup id' };
const RUN: ItemRecord = { kind: 'url', label: 'Test run', example: 'https://ci.example.com/runs/1' };
const ROWS: ItemRecord = { kind: 'number', label: 'Rows migrated' };

const TEMPLATE: Template = {
  id: 'recorded',
  name: 'Recorded',
  phases: [
    {
      id: 'deploy',
      name: 'Deploy',
      deployment: true,
      items: [
        item('backup', { text: 'Backup taken', record: BACKUP }),
        item('tests', { text: 'Tests pass', record: RUN }),
        item('rows', { text: 'Rows migrated', record: ROWS, required: false }),
        item('shipped', { text: 'Shipped' }),
      ],
    },
  ],
};

const TICKED_AT = T0 + 5 * MINUTE;

function withValues(values: Record<string, string>, overrides: Partial<Release> = {}): Release {
  const items: Release['items'] = {};
  for (const [itemId, value] of Object.entries(values))
    items[itemId] = { done: true, by: TICKER, at: TICKED_AT, value };
  return makeRelease({ template: TEMPLATE, items, ...overrides });
}

function itemText(release: Release, itemId: string): string {
  const block = renderPhaseParts(release, 0)[0]!.blocks.find(
    (candidate) => candidate.block_id === `item:${itemId}`,
  );
  return (block as { text: { text: string } }).text.text;
}

describe('the phase message', () => {
  it('says what an open item records, and gives its checkbox the route that asks for the value', () => {
    const release = withValues({});
    expect(itemText(release, 'backup')).toBe('Backup taken  _records Backup id_');
    const block = renderPhaseParts(release, 0)[0]!.blocks.find(
      (candidate) => candidate.block_id === 'item:backup',
    );
    const actionId = (block as { accessory: { action_id: string } }).accessory.action_id;
    expect(decodeItemRecordActionId(actionId)).toEqual({ releaseId: 'r42', itemId: 'backup' });
    const plain = renderPhaseParts(release, 0)[0]!.blocks.find(
      (candidate) => candidate.block_id === 'item:shipped',
    );
    expect((plain as { accessory: { action_id: string } }).accessory.action_id).toBe('item.set|r42|shipped');
  });

  it('shows the value on a ticked item, with who ticked it and when', () => {
    const text = itemText(withValues({ backup: 'bk-123' }), 'backup');
    expect(text).toBe(
      `Backup taken\n:white_check_mark: Backup id: \`bk-123\` — <@${TICKER}> <!date^${TICKED_AT / 1000}^{date_short_pretty} {time}|2026-03-02 09:35 UTC>`,
    );
  });

  it('escapes a hostile value, keeps a backtick from ending the code, and links a URL', () => {
    const release = withValues({
      backup: `${HOSTILE_TEXT} \`code\``,
      tests: 'https://ci.example.com/runs/42?a=1&b=<2>',
      rows: '1200',
    });
    const backup = itemText(release, 'backup');
    for (const markup of HOSTILE_MARKUP) expect(backup).not.toContain(markup);
    expect(backup).toContain('`&lt;!channel&gt; &lt;@U1&gt; &lt;https://evil|x&gt; &amp; more ˋcodeˋ`');
    expect(itemText(release, 'tests')).toContain(
      'Test run: <https://ci.example.com/runs/42?a=1&b=%3C2%3E|https://ci.example.com/runs/42?a=1&amp;b=&lt;2&gt;>',
    );
    expect(itemText(release, 'rows')).toContain('Rows migrated: `1200`');
    for (const part of renderPhaseParts(release, 0)) expect(blockKitViolations(part)).toEqual([]);
  });

  it('shows a ticked item without a value (an optional one left empty) as before', () => {
    const release = makeRelease({
      template: TEMPLATE,
      items: { rows: { done: true, by: TICKER, at: TICKED_AT } },
    });
    expect(itemText(release, 'rows')).toMatch(
      /^Rows migrated {2}_optional_\n:white_check_mark: <@U0TICKER> /,
    );
  });
});

describe('the ids a value item carries', () => {
  it('decode only what they encode', () => {
    expect(decodeItemRecordActionId('item.record|r42|backup')).toEqual({
      releaseId: 'r42',
      itemId: 'backup',
    });
    for (const forged of ['item.set|r42|backup', 'item.record|r42|backup|x', 'item.record|../x|backup', 7]) {
      expect(decodeItemRecordActionId(forged)).toBeUndefined();
    }
    for (const forged of [
      '{',
      '{"teamId":"T1","releaseId":"r1"}',
      '{"teamId":"T1","releaseId":"r1","itemId":"A B"}',
    ]) {
      expect(decodeItemMetadata(forged)).toBeUndefined();
    }
  });
});

describe('/deploy status', () => {
  it('lists the values recorded so far, and what open items will record', () => {
    const { text } = renderStatus(withValues({ backup: 'bk-<123>' }), undefined);
    expect(text).toContain('• Tests pass _(records Test run)_');
    expect(text).toContain(
      `*Recorded:*\n• Backup id: \`bk-&lt;123&gt;\` · <@${TICKER}> <!date^${TICKED_AT / 1000}^`,
    );
    expect(renderStatus(withValues({}), undefined).text).not.toContain('Recorded');
  });
});

describe('the audit trail', () => {
  const release = withValues({});

  it('shows the value a tick recorded and the value an untick cleared, escaped', () => {
    const ticked = makeAuditEvent('ticked', 1, {
      user: TICKER,
      itemId: 'backup',
      phaseIndex: 0,
      value: 'bk-<1>',
    });
    expect(describeAuditEvent(release, ticked)).toBe(
      `<@${TICKER}> ticked “Backup taken” in Deploy (open → done): Backup id: \`bk-&lt;1&gt;\``,
    );
    const unticked = makeAuditEvent('unticked', 2, {
      itemId: 'backup',
      phaseIndex: 0,
      from: 'done',
      to: 'open',
      clearedValue: 'bk-1',
    });
    expect(describeAuditEvent(release, unticked)).toBe(
      '<@U0TICKER> unticked “Backup taken” in Deploy (done → open), clearing Backup id: `bk-1`',
    );
    const plain = makeAuditEvent('ticked', 3, { itemId: 'shipped', phaseIndex: 0 });
    expect(describeAuditEvent(release, plain)).toBe('<@U0STARTER> ticked “Shipped” in Deploy (open → done)');
    expect(blockKitViolations(renderAudit(release, [ticked, unticked, plain]))).toEqual([]);
  });
});

describe('the value form', () => {
  const release = withValues({});

  it('asks for the value by its label, says when closed, and carries only which item it is about', () => {
    const modal = renderValueModal(release, TEMPLATE.phases[0]!.items[0]!, BACKUP);
    expect(modal).toMatchObject({
      type: 'modal',
      callback_id: CallbackId.recordValue,
      notify_on_close: true,
      title: { type: 'plain_text', text: 'Record Backup id' },
      submit: { type: 'plain_text', text: 'Tick it' },
      close: { type: 'plain_text', text: 'Cancel' },
    });
    expect(decodeItemMetadata(modal.private_metadata)).toEqual({
      teamId: 'T0TEAM',
      releaseId: 'r42',
      itemId: 'backup',
    });
    const input = modal.blocks[1] as unknown as Record<string, unknown>;
    expect(input).toMatchObject({
      type: 'input',
      block_id: ValueField.block,
      label: { type: 'plain_text', text: 'Backup id' },
      optional: false,
      element: { type: 'plain_text_input', action_id: ValueField.action, max_length: 500 },
    });
    expect(blockKitViolations(modal)).toEqual([]);
  });

  it('uses the input of the kind, the example as placeholder, and lets an optional value be left out', () => {
    const items = TEMPLATE.phases[0]!.items;
    const url = renderValueModal(release, items[1]!, RUN).blocks[1] as unknown as Record<string, unknown>;
    expect(url.element).toEqual({
      type: 'url_text_input',
      action_id: ValueField.action,
      placeholder: { type: 'plain_text', text: 'https://ci.example.com/runs/1' },
    });
    const rows = renderValueModal(release, items[2]!, { ...ROWS, optional: true })
      .blocks[1] as unknown as Record<string, unknown>;
    expect(rows).toMatchObject({
      optional: true,
      element: { type: 'number_input', is_decimal_allowed: true },
      hint: { type: 'plain_text' },
    });
  });

  it('keeps a long label and hostile item text within Slack’s limits, escaped', () => {
    const record: ItemRecord = { kind: 'text', label: 'A label that is forty characters long!!' };
    const hostile = item('backup', { text: HOSTILE_TEXT, record });
    const modal = renderValueModal(withValues({}, { version: HOSTILE_TEXT }), hostile, record);
    expect(blockKitViolations(modal)).toEqual([]);
    const intro = JSON.stringify(modal.blocks[0]);
    for (const markup of HOSTILE_MARKUP) expect(intro).not.toContain(markup);
  });
});

describe("a reminder's button", () => {
  it('asks for the value of an item that records one (Done…), and ticks the others (Done)', () => {
    const message = renderOwnerReminder(
      withValues({}),
      0,
      'U0STARTER',
      () => undefined,
      undefined,
      undefined,
      T0,
    );
    const buttons = JSON.stringify(message.blocks);
    expect(buttons).toContain(
      '"action_id":"item.record|r42|backup","text":{"type":"plain_text","text":"Done…"}',
    );
    expect(buttons).toContain(
      '"action_id":"item.done|r42|shipped","text":{"type":"plain_text","text":"Done"}',
    );
  });
});

describe('the deployment log', () => {
  const release = withValues({ backup: 'bk-123 *not bold*', rows: '1200' });
  const events = [
    makeAuditEvent('ticked', 1, { itemId: 'backup', phaseIndex: 0, value: 'bk-9' }),
    makeAuditEvent('unticked', 2, {
      itemId: 'backup',
      phaseIndex: 0,
      from: 'done',
      to: 'open',
      clearedValue: 'bk-9',
    }),
    makeAuditEvent('ticked', 3, { itemId: 'backup', phaseIndex: 0, value: 'bk-123 *not bold*' }),
  ];
  const log = buildDeploymentLog(release, events, T0 + 60 * MINUTE);

  it('keeps each item’s record in the JSON, the value typed by its kind, and the values in the events', () => {
    const items = log.json.phases[0]!.items;
    expect(items.find((entry) => entry.id === 'backup')!.record).toEqual({
      label: 'Backup id',
      kind: 'text',
      value: 'bk-123 *not bold*',
    });
    expect(items.find((entry) => entry.id === 'rows')!.record).toEqual({
      label: 'Rows migrated',
      kind: 'number',
      value: 1200,
    });
    expect(items.find((entry) => entry.id === 'tests')!.record).toEqual({ label: 'Test run', kind: 'url' });
    expect(items.find((entry) => entry.id === 'shipped')!.record).toBeUndefined();
    expect(log.json.events.map((event) => [event.value, event.clearedValue])).toEqual([
      ['bk-9', undefined],
      [undefined, 'bk-9'],
      ['bk-123 *not bold*', undefined],
    ]);
  });

  it('shows the values in the Markdown: on the items, in their own table and in the audit trail, escaped', () => {
    const { markdown } = log;
    expect(markdown).toContain(
      '- [x] Backup taken — Backup id: bk-123 \\*not bold\\* — @U0TICKER at 2026-03-02 09:35:00 UTC',
    );
    expect(markdown).toContain(
      '## Recorded values\n\n| Value | Recorded | Item | By |\n| --- | --- | --- | --- |\n| Backup id | bk-123 \\*not bold\\* | Backup taken | @U0TICKER at 2026-03-02 09:35:00 UTC |\n| Rows migrated | 1200 | Rows migrated | @U0TICKER at 2026-03-02 09:35:00 UTC |\n',
    );
    expect(markdown).toContain('“Backup taken” in phase 1 “Deploy” (done → open); cleared Backup id: bk-9 |');
    expect(markdown).toContain(
      '“Backup taken” in phase 1 “Deploy” (open → done); Backup id: bk-123 \\*not bold\\* |',
    );
  });

  it('has no table of values for a template whose items record none', () => {
    const plain = makeRelease();
    expect(buildDeploymentLog(plain, [], T0).markdown).not.toContain('Recorded values');
  });
});

describe('shipcheck preview', () => {
  it('lists the values a template records, and shows the example on a ticked item', () => {
    const template = parsed(
      withRecord('kind: text', 'label: Commit SHA', "pattern: '[0-9a-f]{7,40}'", "example: '4f2a9c1'"),
    );
    expect(describeRecords(template)).toEqual([
      'Recorded values (asked for when the item is ticked):',
      '  deploy/backup: Commit SHA (text, pattern [0-9a-f]{7,40}, like 4f2a9c1)',
    ]);
    expect(describeRecords(parsed(BASE.replace(/ {8}record:\n.*\n.*\n/, '')))).toEqual([
      'Recorded values: none',
    ]);
    const twoPhases: Template = {
      ...template,
      phases: [...template.phases, { id: 'after', name: 'After', items: [item('a')] }],
    };
    expect(previewRelease(twoPhases, 1).items.backup).toMatchObject({ done: true, value: '4f2a9c1' });
  });
});
