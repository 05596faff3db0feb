import type { ActionsBlock, Button, SectionBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { CriterionEntry } from '../../src/domain/criteria.js';
import type { Release } from '../../src/domain/release.js';
import type { Template } from '../../src/domain/template.js';
import { renderRollbackModal } from '../../src/views/checkin-messages.js';
import { describeGoConfirmation, renderHeader, renderPhaseParts } from '../../src/views/release-messages.js';
import { blockKitViolations } from './block-kit-limits.js';
import {
  HOSTILE_MARKUP,
  HOSTILE_TEXT,
  item,
  makeRelease,
  makeTemplate,
  PHASE,
  tickPhases,
} from './factories.js';

// Where the template's criteria reach Slack: the go/no-go call on the header and its Go confirmation,
// the rollback confirmation, and the items that refer to criteria.

/** Slack refuses a confirmation dialog whose text is longer. */
const CONFIRM_TEXT_LENGTH = 300;

const GO_CRITERIA: CriterionEntry[] = [
  { id: 'backup-verified', name: 'Backup verified' },
  { id: 'open-findings', name: 'Open critical findings', direction: 'at most', threshold: 0, unit: 'count' },
  'Support on standby',
];

/** The tiny template with its deploy phase waiting for the go call, and go criteria when given. */
function goTemplate(criteria?: CriterionEntry[], overrides: Partial<Template> = {}): Template {
  const base = makeTemplate();
  return {
    ...base,
    phases: base.phases.map((phase, index) => (index === PHASE.deploy ? { ...phase, go: true } : phase)),
    ...(criteria ? { go: { criteria } } : {}),
    ...overrides,
  };
}

/** A release whose phases before the deploy are done, so the header asks for the go call. */
function awaitingGo(template: Template, overrides: Partial<Release> = {}): Release {
  return tickPhases(makeRelease({ template, ...overrides }), [PHASE.prepare, PHASE.notes]);
}

function goSection(release: Release): string {
  const blocks = renderHeader(release).blocks;
  const section = blocks.find(
    (block): block is SectionBlock => block.type === 'section' && /Go \/ no-go/.test(block.text?.text ?? ''),
  );
  if (!section?.text) throw new Error('no go/no-go section on the header');
  return section.text.text;
}

function goButton(release: Release): Button {
  const actions = renderHeader(release).blocks.find(
    (block): block is ActionsBlock => block.type === 'actions' && block.block_id === 'go-actions',
  );
  const button = actions?.elements.find((element) => element.type === 'button' && element.text.text === 'Go');
  if (button?.type !== 'button') throw new Error('no Go button on the header');
  return button;
}

function texts(blocks: readonly unknown[]): string {
  return JSON.stringify(blocks);
}

describe('the go/no-go call', () => {
  it("lists the template's go criteria on the header and in the Go confirmation", () => {
    const release = awaitingGo(goTemplate(GO_CRITERIA));

    expect(goSection(release)).toBe(
      [
        '🚦 *Go / no-go*: everything before *Deploy* is done. The release manager makes the call.',
        '*Go when*',
        '• Backup verified',
        '• Open critical findings: none',
        '• Support on standby',
      ].join('\n'),
    );
    const confirmation = goButton(release).confirm?.text.text;
    expect(confirmation).toBe(
      [
        '*Go when*',
        '• Backup verified',
        '• Open critical findings: none',
        '• Support on standby',
        'Start *Deploy* for v2.3.0 → staging? The call is recorded with your name.',
      ].join('\n'),
    );
    expect(describeGoConfirmation(release)).toBe(confirmation);
    expect(blockKitViolations(renderHeader(release))).toEqual([]);
  });

  it('asks only the question when the template has no go criteria', () => {
    const release = awaitingGo(goTemplate());
    expect(goSection(release)).not.toContain('Go when');
    expect(goButton(release).confirm?.text.text).toBe(
      'Start *Deploy* for v2.3.0 → staging? The call is recorded with your name.',
    );
  });

  it('cuts a long list to what the confirmation holds, and says the header has the rest', () => {
    const many: CriterionEntry[] = Array.from({ length: 10 }, (_unused, index) => ({
      id: `criterion-${index + 1}`,
      name: `Criterion ${index + 1}: ${'checked carefully by the team '.repeat(2).trim()}`,
    }));
    const release = awaitingGo(goTemplate(many), { version: `v${'9'.repeat(60)}` });

    const confirmation = describeGoConfirmation(release);
    expect(confirmation.length).toBeLessThanOrEqual(CONFIRM_TEXT_LENGTH);
    expect(confirmation).toMatch(/^\*Go when\*\n• Criterion 1: /);
    expect(confirmation).toMatch(
      /\n…and \d+ more on the release header\nStart \*Deploy\* for v9+ → staging\?/,
    );
    // The header lists every one of them.
    for (const index of [1, 10]) expect(goSection(release)).toContain(`• Criterion ${index}: `);
  });

  it('escapes criterion names and stays inside the confirmation limit', () => {
    const hostile = `${HOSTILE_TEXT} ${'<@U1>'.repeat(20)}`;
    const release = awaitingGo(goTemplate([{ id: 'x', name: hostile }, hostile]), { version: '<!channel>' });
    const header = renderHeader(release);
    const confirmation = describeGoConfirmation(release);

    for (const markup of HOSTILE_MARKUP) {
      expect(goSection(release)).not.toContain(markup);
      expect(confirmation).not.toContain(markup);
    }
    expect(confirmation.length).toBeLessThanOrEqual(CONFIRM_TEXT_LENGTH);
    expect(blockKitViolations(header)).toEqual([]);
  });
});

describe('the rollback confirmation', () => {
  const ROLLBACK_CRITERIA: CriterionEntry[] = [
    { id: 'critical-function-broken', name: 'A critical function no longer works' },
    {
      id: 'performance-drop',
      name: 'Performance worse than the baseline',
      direction: 'above',
      threshold: 50,
      unit: '%',
    },
    'Data looks wrong',
  ];
  const template = makeTemplate({
    rollback: { criteria: ROLLBACK_CRITERIA, items: [item('rb-reverted')] },
  });

  it("shows the template's rollback criteria with their thresholds", () => {
    const view = renderRollbackModal(makeRelease({ template }), undefined, 'T0TEAM');
    expect(view.blocks[0]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: [
          '*Roll back when*',
          '• A critical function no longer works',
          '• Performance worse than the baseline: more than 50 %',
          '• Data looks wrong',
        ].join('\n'),
      },
    });
    expect(blockKitViolations(view)).toEqual([]);
  });

  it('escapes criterion names', () => {
    const hostileTemplate = makeTemplate({
      rollback: {
        criteria: [
          { id: 'x', name: HOSTILE_TEXT, direction: 'above', threshold: 1, unit: '%' },
          HOSTILE_TEXT,
        ],
        items: [item('rb-reverted')],
      },
    });
    const shown = texts(renderRollbackModal(makeRelease({ template: hostileTemplate }), 0, 'T0TEAM').blocks);
    for (const markup of HOSTILE_MARKUP) expect(shown).not.toContain(markup);
    expect(shown).toContain('&amp; more: more than 1 %');
  });
});

describe('items that refer to criteria', () => {
  it('show the criteria they name, and whole lists under their title', () => {
    const base = makeTemplate({
      success: [
        {
          id: 'error-rate',
          name: 'Error rate higher than the baseline',
          direction: 'below',
          threshold: 1,
          unit: '%',
        },
      ],
      redflags: ['The backup failed'],
    });
    const template: Template = {
      ...base,
      phases: base.phases.map((phase, index) =>
        index === PHASE.prepare
          ? {
              ...phase,
              items: [
                item('p0-a', { help: 'Watch the dashboards.', criteria: ['error-rate', 'redflags'] }),
                ...phase.items.slice(1),
              ],
            }
          : phase,
      ),
    };
    const [message] = renderPhaseParts(makeRelease({ template }), PHASE.prepare);
    const shown = texts(message!.blocks);
    expect(shown).toContain(
      [
        '_Watch the dashboards._',
        '• Error rate higher than the baseline: less than 1 %',
        '_Stop if:_',
        '• The backup failed',
      ]
        .join('\n')
        .replaceAll('\n', '\\n'),
    );
    expect(blockKitViolations(message!)).toEqual([]);
  });
});
