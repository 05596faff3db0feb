import { describe, expect, it } from 'vitest';
import type { CheckIn, Release, ReleaseIssue } from '../../src/domain/release.js';
import {
  describeDuration,
  renderCheckin,
  renderCheckinDirect,
  renderCheckinEscalation,
  renderIssueModal,
  renderResolveIssueModal,
  renderRollbackModal,
} from '../../src/views/checkin-messages.js';
import { renderStatus } from '../../src/views/command-replies.js';
import {
  ActionId,
  CallbackId,
  CheckinField,
  decodeReleaseAction,
  decodeReleaseIndexMetadata,
  ReleaseRoute,
} from '../../src/views/ids.js';
import { blockKitViolations, type Surface } from './block-kit-limits.js';
import {
  cancel,
  HOSTILE_MARKUP,
  HOSTILE_TEXT,
  MINUTE,
  makeRelease,
  STARTER,
  T0,
  TICKER,
  tickEverything,
} from './factories.js';

const HOUR = 60 * MINUTE;
const DEPLOYED_AT = T0 + 2 * HOUR;
const DEPLOYER = 'U0DEPLOYER';
const PERMALINK = 'https://acme.slack.com/archives/C0DEPLOYS/p1772443800000200';
const ESCAPED_HOSTILE = '&lt;!channel&gt; &lt;@U1&gt; &lt;https://evil|x&gt; &amp; more';
const LONGEST_HOSTILE = '<@U1>'.repeat(100);

type Json = Record<string, unknown>;

/** A deployed release in its monitoring window: two check-ins, the first posted and waiting. */
function makeMonitored(overrides: Partial<Release> = {}): Release {
  const checkins: CheckIn[] = [
    { index: 0, dueAt: DEPLOYED_AT + 24 * HOUR, postedAt: DEPLOYED_AT + 24 * HOUR, ts: '1.000100' },
    { index: 1, dueAt: DEPLOYED_AT + 48 * HOUR },
  ];
  return {
    ...tickEverything(makeRelease()),
    deployment: { at: DEPLOYED_AT, by: DEPLOYER },
    monitoring: { state: 'open' },
    checkins,
    ...overrides,
  };
}

function makeIssue(overrides: Partial<ReleaseIssue> = {}): ReleaseIssue {
  return {
    id: 1,
    foundBy: TICKER,
    foundAt: DEPLOYED_AT + 25 * HOUR,
    what: 'Checkout is slow',
    severity: 'major',
    checkin: 0,
    ...overrides,
  };
}

/** The release with check-in `index` answered. */
function answered(release: Release, index: number, answer: NonNullable<CheckIn['answer']>): Release {
  const checkins = release.checkins.map((checkin) =>
    checkin.index === index ? { ...checkin, answer } : checkin,
  );
  return { ...release, checkins };
}

function textsOf(blocks: readonly unknown[]): string[] {
  return blocks.flatMap((block) => {
    const json = block as Json;
    const texts: string[] = [];
    const text = json.text as { text?: string } | undefined;
    if (text?.text) texts.push(text.text);
    for (const element of (json.elements as { text?: unknown }[] | undefined) ?? []) {
      if (typeof element.text === 'string') texts.push(element.text);
    }
    return texts;
  });
}

function buttonsOf(blocks: readonly unknown[]): Json[] {
  return blocks.flatMap((block) =>
    (block as Json).type === 'actions' ? ((block as Json).elements as Json[]) : [],
  );
}

const buttonLabels = (blocks: readonly unknown[]) =>
  buttonsOf(blocks).map((button) => (button.text as { text: string }).text);

function markupStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(markupStrings);
  if (typeof value !== 'object' || value === null) return [];
  if ((value as { type?: unknown }).type === 'plain_text') return [];
  return Object.values(value).flatMap(markupStrings);
}

function expectNoHostileMarkup(surface: unknown): void {
  for (const text of markupStrings(surface)) {
    for (const markup of HOSTILE_MARKUP) expect(text).not.toContain(markup);
  }
}

const date = (at: number) => `<!date^${at / 1000}^{date_short_pretty} {time}|`;

describe('renderCheckin', () => {
  it('asks whether the release is healthy, pings the owner, and offers the three answers', () => {
    const message = renderCheckin(makeMonitored(), 0);
    const texts = textsOf(message.blocks);

    expect(texts[0]).toBe(`🩺 *Check-in 1 of 2*\nIs *v2.3.0 → staging* healthy? <@${STARTER}>`);
    expect(texts[1]).toContain(`Deployed ${date(DEPLOYED_AT)}`);
    expect(texts[1]).toContain(`by <@${DEPLOYER}>`);
    const actions = message.blocks.find((block) => block.type === 'actions');
    expect(actions?.block_id).toBe('checkin-actions');
    expect(buttonLabels(message.blocks)).toEqual(['Healthy', 'Issue found…', 'Roll back…']);
    const [healthy, issue, rollback] = buttonsOf(message.blocks);
    expect(healthy?.style).toBe('primary');
    expect(issue?.style).toBeUndefined();
    expect(rollback?.style).toBe('danger');
    expect(decodeReleaseAction(ReleaseRoute.checkinHealthy, healthy?.action_id)).toEqual({
      releaseId: 'r42',
      index: 0,
    });
    expect(decodeReleaseAction(ReleaseRoute.checkinIssue, issue?.action_id)).toEqual({
      releaseId: 'r42',
      index: 0,
    });
    expect(decodeReleaseAction(ReleaseRoute.checkinRollback, rollback?.action_id)).toEqual({
      releaseId: 'r42',
      index: 0,
    });
    expect(blockKitViolations(message)).toEqual([]);
  });

  it('has the fallback text the notification shows', () => {
    expect(renderCheckin(makeMonitored(), 1).text).toBe('Check-in 2: is v2.3.0 → staging healthy?');
  });

  it('calls a follow-up a follow-up', () => {
    const release = makeMonitored();
    release.checkins.push({ index: 2, dueAt: DEPLOYED_AT + 50 * HOUR, followUp: true });

    expect(textsOf(renderCheckin(release, 2).blocks)[0]).toMatch(/^🩺 \*Follow-up check-in 3 of 3\*\n/);
  });

  it.each([
    ['healthy', { kind: 'healthy' as const, by: TICKER, at: T0 }, '✅ Healthy'],
    ['rolled back', { kind: 'rollback' as const, by: TICKER, at: T0 }, '↩️ Rolled back'],
    [
      'an issue',
      { kind: 'issue' as const, by: TICKER, at: T0, issue: 1 },
      '⚠️ Issue found: Checkout is slow (major)',
    ],
    ['an unknown issue', { kind: 'issue' as const, by: TICKER, at: T0, issue: 9 }, '⚠️ Issue found'],
  ])('shows who answered %s and when, with no buttons left', (_name, answer, what) => {
    const release = answered(makeMonitored({ issues: [makeIssue()] }), 0, answer);
    const message = renderCheckin(release, 0);

    expect(textsOf(message.blocks)).toContain(`${what} — <@${TICKER}> ${date(T0)}2026-03-02 09:30 UTC>`);
    expect(buttonsOf(message.blocks)).toEqual([]);
    expect(blockKitViolations(message)).toEqual([]);
  });

  it('escapes the issue text and keeps only its start', () => {
    const issue = makeIssue({ what: `${HOSTILE_TEXT} ${LONGEST_HOSTILE}` });
    const release = answered(makeMonitored({ issues: [issue] }), 0, {
      kind: 'issue',
      by: TICKER,
      at: T0,
      issue: 1,
    });
    const message = renderCheckin(release, 0);

    expect(JSON.stringify(message)).toContain(`⚠️ Issue found: ${ESCAPED_HOSTILE}`);
    expectNoHostileMarkup(message);
    expect(blockKitViolations(message)).toEqual([]);
  });

  it.each([
    ['the monitoring window closed', makeMonitored({ monitoring: { state: 'closed', closedAt: T0 } })],
    ['the release is rolled back', makeMonitored({ status: 'rolled_back', cancelReason: 'x' })],
    ['the release is cancelled', cancel(makeMonitored(), 'x')],
  ])('takes no answer any more once %s', (why, release) => {
    const message = renderCheckin(release, 0);

    expect(textsOf(message.blocks)).toContain(`No answer needed any more: ${why}`);
    expect(buttonsOf(message.blocks)).toEqual([]);
    expect(blockKitViolations(message)).toEqual([]);
  });

  it('says when it was escalated, and to whom', () => {
    const release = makeMonitored();
    release.checkins[0]!.escalatedAt = T0 + 30 * HOUR;
    const texts = textsOf(renderCheckin(release, 0).blocks);

    expect(texts).toContain(`⏰ Escalated to <@${STARTER}> ${date(T0 + 30 * HOUR)}2026-03-03 15:30 UTC>`);
    expect(buttonLabels(renderCheckin(release, 0).blocks)).toHaveLength(3);
  });

  it('escapes a hostile version and env', () => {
    const release = makeMonitored({ version: '<!channel>', env: '<@U1>' });
    const surfaces: Surface[] = [
      renderCheckin(release, 0),
      renderCheckinDirect(release, 0, PERMALINK),
      renderCheckinEscalation(release, 0, HOUR),
    ];

    for (const surface of surfaces) {
      expectNoHostileMarkup(surface);
      expect(blockKitViolations(surface)).toEqual([]);
      expect((surface as { text: string }).text).not.toMatch(/<!channel>|<@U1>/);
    }
  });
});

describe('renderCheckinEscalation', () => {
  it('pings the owner in the thread and says how long the check-in has waited', () => {
    const message = renderCheckinEscalation(makeMonitored(), 0, 2 * HOUR);

    expect(textsOf(message.blocks)).toEqual([
      `⏰ <@${STARTER}>: check-in 1 of *v2.3.0 → staging* has had no answer for 2 h. Please answer it above.`,
    ]);
    expect(message.text).toBe('Check-in 1 of v2.3.0 → staging is unanswered');
    expect(blockKitViolations(message)).toEqual([]);
  });

  it.each([
    [2 * HOUR, '2 h'],
    [90 * MINUTE, '90 min'],
    [30_000, '30 s'],
    [48 * HOUR, '48 h'],
    [MINUTE, '1 min'],
    [90_000, '90 s'],
  ])('words %i ms as %s', (ms, words) => {
    expect(describeDuration(ms)).toBe(words);
  });
});

describe('renderCheckinDirect', () => {
  it('asks the same question with the same answers, and links to the thread', () => {
    const release = makeMonitored();
    const message = renderCheckinDirect(release, 0, PERMALINK);
    const inThread = renderCheckin(release, 0);

    expect(textsOf(message.blocks)[0]).toBe(textsOf(inThread.blocks)[0]);
    expect(buttonsOf(message.blocks).slice(0, 3)).toEqual(buttonsOf(inThread.blocks));
    expect(buttonsOf(message.blocks)[3]).toEqual({
      type: 'button',
      action_id: ActionId.openLink,
      text: { type: 'plain_text', text: 'Open the thread' },
      url: PERMALINK,
    });
    expect(message.text).toBe('Check-in 1 of v2.3.0 → staging is waiting for your answer');
    expect(blockKitViolations(message)).toEqual([]);
  });

  it('has no link button without a permalink', () => {
    expect(buttonLabels(renderCheckinDirect(makeMonitored(), 0, undefined).blocks)).toEqual([
      'Healthy',
      'Issue found…',
      'Roll back…',
    ]);
  });

  it('keeps only the link once the check-in is answered', () => {
    const release = answered(makeMonitored(), 0, { kind: 'healthy', by: TICKER, at: T0 });

    expect(buttonLabels(renderCheckinDirect(release, 0, PERMALINK).blocks)).toEqual(['Open the thread']);
    expect(buttonsOf(renderCheckinDirect(release, 0, undefined).blocks)).toEqual([]);
  });
});

describe('check-in modals', () => {
  const release = makeMonitored({ issues: [makeIssue()] });

  it('renderIssueModal asks what is wrong and how bad it is', () => {
    const view = renderIssueModal(release, 1, 'T0TEAM');

    expect(view).toMatchObject({
      type: 'modal',
      callback_id: CallbackId.reportIssue,
      title: { type: 'plain_text', text: 'Issue found' },
      submit: { type: 'plain_text', text: 'Report' },
      close: { type: 'plain_text', text: 'Cancel' },
    });
    expect(decodeReleaseIndexMetadata(view.private_metadata)).toEqual({
      teamId: 'T0TEAM',
      releaseId: 'r42',
      index: 1,
    });
    expect(view.blocks[0]?.type).toBe('context');
    expect(textsOf(view.blocks)[0]).toContain('*v2.3.0 → staging*');
    expect(view.blocks[1]).toMatchObject({
      type: 'input',
      block_id: CheckinField.whatBlock,
      label: { text: 'What is wrong?' },
      element: {
        type: 'plain_text_input',
        action_id: CheckinField.whatAction,
        multiline: true,
        max_length: 500,
      },
    });
    expect(view.blocks[2]).toMatchObject({
      type: 'input',
      block_id: CheckinField.severityBlock,
      element: {
        type: 'static_select',
        action_id: CheckinField.severityAction,
        options: [
          { text: { type: 'plain_text', text: 'Critical: users cannot work' }, value: 'critical' },
          { text: { type: 'plain_text', text: 'Major: a feature is broken or slow' }, value: 'major' },
          { text: { type: 'plain_text', text: 'Minor: cosmetic or limited' }, value: 'minor' },
        ],
      },
    });
    expect(blockKitViolations(view)).toEqual([]);
  });

  it('renderRollbackModal says what rolling back does and asks why', () => {
    const view = renderRollbackModal(release, 0, 'T0TEAM');

    expect(view).toMatchObject({
      callback_id: CallbackId.rollBack,
      title: { text: 'Roll back' },
      submit: { text: 'Roll back' },
    });
    expect(decodeReleaseIndexMetadata(view.private_metadata)).toEqual({
      teamId: 'T0TEAM',
      releaseId: 'r42',
      index: 0,
    });
    expect(textsOf(view.blocks)[0]).toBe(
      'This ends *v2.3.0 → staging* as rolled back: its checklists close, pending reminders and check-ins stop, and staging is free again. Roll the deployment itself back with your usual tooling.',
    );
    expect(view.blocks[1]).toMatchObject({
      block_id: CheckinField.reasonBlock,
      label: { text: 'Why roll back?' },
      element: { action_id: CheckinField.reasonAction, max_length: 500 },
    });
    expect(blockKitViolations(view)).toEqual([]);
  });

  it('renderResolveIssueModal shows the issue and asks how it was resolved', () => {
    const view = renderResolveIssueModal(release, 1, 'T0TEAM');
    const shown = textsOf(view.blocks).join('\n');

    expect(view).toMatchObject({ callback_id: CallbackId.resolveIssue, title: { text: 'Resolve issue' } });
    expect(decodeReleaseIndexMetadata(view.private_metadata)).toEqual({
      teamId: 'T0TEAM',
      releaseId: 'r42',
      index: 1,
    });
    expect(shown).toContain(`🚨 *Issue #1* (major), found by <@${TICKER}> ${date(DEPLOYED_AT + 25 * HOUR)}`);
    expect(shown).toContain('_Checkout is slow_');
    expect(view.blocks.at(-1)).toMatchObject({
      block_id: CheckinField.resolutionBlock,
      label: { text: 'How was it resolved?' },
      element: { action_id: CheckinField.resolutionAction, max_length: 500 },
    });
    expect(blockKitViolations(view)).toEqual([]);
  });

  it('escapes hostile versions and issue texts in every modal', () => {
    const hostile = makeMonitored({
      version: '<!channel>',
      env: HOSTILE_TEXT,
      issues: [makeIssue({ what: `${HOSTILE_TEXT} ${LONGEST_HOSTILE}` })],
    });
    const views = [
      renderIssueModal(hostile, 0, 'T0TEAM'),
      renderRollbackModal(hostile, 0, 'T0TEAM'),
      renderResolveIssueModal(hostile, 1, 'T0TEAM'),
      renderResolveIssueModal(hostile, 7, 'T0TEAM'),
    ];

    for (const view of views) {
      expectNoHostileMarkup(view);
      expect(blockKitViolations(view)).toEqual([]);
    }
    expect(JSON.stringify(views[2])).toContain(`_${ESCAPED_HOSTILE}`);
  });
});

describe('renderStatus after the deploy', () => {
  it('says when it was deployed, which check-in waits, and the open issues, escaped', () => {
    const release = makeMonitored({ issues: [makeIssue({ what: HOSTILE_TEXT })] });
    const text = renderStatus(release, undefined).text;
    expect(text).toContain('deployed, monitoring');
    expect(text).toContain(`Deployed <!date^${DEPLOYED_AT / 1000}^`);
    expect(text).toContain('Check-in 1 of 2 is waiting for an answer');
    expect(text).toContain(`Issue #1 (major): _${ESCAPED_HOSTILE}_`);
    for (const markup of HOSTILE_MARKUP) expect(text).not.toContain(markup);
  });

  it('names the next check-in while none waits, and says when the window closed', () => {
    const answered = makeMonitored({
      checkins: [
        {
          index: 0,
          dueAt: DEPLOYED_AT + HOUR,
          postedAt: DEPLOYED_AT + HOUR,
          answer: { kind: 'healthy', by: TICKER, at: DEPLOYED_AT + 2 * HOUR },
        },
        { index: 1, dueAt: DEPLOYED_AT + 48 * HOUR },
      ],
    });
    expect(renderStatus(answered, undefined).text).toContain(
      `Next check-in <!date^${(DEPLOYED_AT + 48 * HOUR) / 1000}^`,
    );
    const closed = makeMonitored({ monitoring: { state: 'closed', closedAt: DEPLOYED_AT + 50 * HOUR } });
    expect(renderStatus(closed, undefined).text).toContain('Monitoring closed');
  });

  it('shows a rolled-back release with who and why', () => {
    const release = makeMonitored({
      status: 'rolled_back',
      finishedBy: TICKER,
      finishedAt: DEPLOYED_AT + 25 * HOUR,
      cancelReason: HOSTILE_TEXT,
    });
    const text = renderStatus(release, undefined).text;
    expect(text).toContain('rolled back');
    expect(text).toContain(`Rolled back by <@${TICKER}>: _${ESCAPED_HOSTILE}_`);
  });
});
