import type { ModalView } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { TemplateCriterion } from '../../src/domain/criteria.js';
import type { Release } from '../../src/domain/release.js';
import { draftRetrospective } from '../../src/domain/retrospective.js';
import type { DeliveryStats } from '../../src/domain/stats.js';
import {
  renderCheckin,
  renderCheckinDirect,
  renderObservationsModal,
} from '../../src/views/checkin-messages.js';
import { renderAudit } from '../../src/views/command-replies.js';
import {
  CallbackId,
  decodeReleaseAction,
  decodeReleaseIndexMetadata,
  ObservationField,
  ReleaseRoute,
} from '../../src/views/ids.js';
import { renderRetroDraft } from '../../src/views/retrospective.js';
import { renderDeliveryStats } from '../../src/views/stats-message.js';
import { blockKitViolations } from './block-kit-limits.js';
import {
  complete,
  HOSTILE_MARKUP,
  HOSTILE_TEXT,
  MINUTE,
  makeAuditEvent,
  makeRelease,
  makeTemplate,
  T0,
  TICKER,
} from './factories.js';
import { DEPLOYED_AT, makeMeasured, RECORDER, SUCCESS } from './measured-release.js';

// Success criteria where people see them: each check-in lists them with what was observed there and a
// form to record values; the draft retrospective and /deploy stats report them.

type Json = Record<string, unknown>;

const texts = (blocks: readonly unknown[]): string[] =>
  blocks.flatMap((block) => {
    const json = block as Json;
    const found: string[] = [];
    const text = json.text as { text?: string } | undefined;
    if (text?.text) found.push(text.text);
    for (const element of (json.elements as { text?: unknown }[] | undefined) ?? [])
      if (typeof element.text === 'string') found.push(element.text);
    return found;
  });

const buttons = (blocks: readonly unknown[]): Json[] =>
  blocks.flatMap((block) => ((block as Json).type === 'actions' ? ((block as Json).elements as Json[]) : []));

const labels = (blocks: readonly unknown[]) => buttons(blocks).map((button) => (button.text as Json).text);

const date = (at: number) => `<!date^${at / 1000}^{date_short_pretty} {time}|`;

/** Every string a mrkdwn renderer put in the surface (plain_text is shown as written, so skipped). */
function markupStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(markupStrings);
  if (typeof value !== 'object' || value === null) return [];
  if ((value as { type?: unknown }).type === 'plain_text') return [];
  return Object.values(value).flatMap(markupStrings);
}

function expectNoHostileMarkup(surface: unknown): void {
  for (const text of markupStrings(surface))
    for (const markup of HOSTILE_MARKUP) expect(text).not.toContain(markup);
}

describe('a check-in of a template with success criteria', () => {
  it('lists each criterion with the value observed there and its verdict, and offers the form', () => {
    const message = renderCheckin(makeMeasured(), 0);
    expect(blockKitViolations(message)).toEqual([]);
    const all = texts(message.blocks);
    expect(all).toContain(
      [
        '*🎯 Success criteria*',
        '• ✅ *Error rate higher than the baseline*: 0.4 % — met (target: less than 1 %)',
        '• ❌ *Response time slower*: 14 % — missed (target: less than 10 %)',
        '• ➖ *Stakeholder satisfaction*: not recorded (target: more than 8/10)',
        '• ➖ *Critical issues*: not recorded (target: none)',
      ].join('\n'),
    );
    expect(all.join('\n')).toContain(
      `Last value recorded by <@${RECORDER}> ${date(DEPLOYED_AT + 71 * MINUTE)}`,
    );
    expect(labels(message.blocks)).toEqual(['Healthy', 'Issue found…', 'Roll back…', 'Record values…']);
    expect(decodeReleaseAction(ReleaseRoute.checkinRecord, buttons(message.blocks)[3]?.action_id)).toEqual({
      releaseId: 'r42',
      index: 0,
    });
  });

  it('judges each check-in on its own values: a boundary value of "below" is missed', () => {
    const all = texts(renderCheckin(makeMeasured(), 1).blocks).join('\n');
    expect(all).toContain('• ❌ *Error rate higher than the baseline*: 1 % — missed (target: less than 1 %)');
    expect(all).toContain('• ➖ *Response time slower*: not recorded (target: less than 10 %)');
    expect(all).toContain(`Last value recorded by <@${TICKER}>`);
  });

  it('lists the criteria without values before anyone records one', () => {
    const release = makeMeasured();
    const fresh = {
      ...release,
      checkins: release.checkins.map(({ observed: _observed, ...checkin }) => checkin),
    };
    const all = texts(renderCheckin(fresh, 0).blocks).join('\n');
    expect(all.match(/not recorded/g)).toHaveLength(4);
    expect(all).not.toContain('Last value recorded');
    expect(labels(renderCheckin(fresh, 0).blocks)).toContain('Record values…');
  });

  it('keeps the form after an answer while the release is active, and shows the values once it ended', () => {
    const release = makeMeasured();
    const answered: Release = {
      ...release,
      checkins: release.checkins.map((checkin) => ({
        ...checkin,
        answer: { kind: 'healthy', by: TICKER, at: checkin.dueAt + MINUTE },
      })),
    };
    expect(labels(renderCheckin(answered, 0).blocks)).toEqual(['Record values…']);
    const ended = complete(answered);
    const message = renderCheckin(ended, 0);
    expect(buttons(message.blocks)).toEqual([]);
    expect(texts(message.blocks).join('\n')).toContain('0.4 % — met');
  });

  it('shows the same in the owner’s direct message, with its link to the thread', () => {
    const message = renderCheckinDirect(makeMeasured(), 0, 'https://acme.slack.com/archives/C0/p1');
    expect(texts(message.blocks).join('\n')).toContain('14 % — missed');
    expect(labels(message.blocks)).toEqual([
      'Healthy',
      'Issue found…',
      'Roll back…',
      'Record values…',
      'Open the thread',
    ]);
  });

  it('escapes criterion names', () => {
    const hostile: TemplateCriterion = { ...SUCCESS[0]!, name: HOSTILE_TEXT };
    const release = makeMeasured({ template: makeTemplate({ success: [hostile] }) });
    const message = renderCheckin(release, 0);
    expectNoHostileMarkup(message.blocks);
    expect(texts(message.blocks).join('\n')).toContain('&lt;!channel&gt; &lt;@U1&gt;');
  });
});

describe('a check-in of a template without success criteria (every older release)', () => {
  it('renders as before: no criteria, no form', () => {
    const release: Release = {
      ...makeRelease(),
      deployment: { at: DEPLOYED_AT, by: TICKER },
      monitoring: { state: 'open' },
      checkins: [{ index: 0, dueAt: DEPLOYED_AT, postedAt: DEPLOYED_AT }],
    };
    const message = renderCheckin(release, 0);
    expect(texts(message.blocks).join('\n')).not.toContain('Success criteria');
    expect(labels(message.blocks)).toEqual(['Healthy', 'Issue found…', 'Roll back…']);
  });
});

describe('the "Record values…" form', () => {
  const modal: ModalView = renderObservationsModal(makeMeasured(), 0, 'T0TEAM');
  const inputs = modal.blocks.filter((block) => block.type === 'input') as unknown as {
    block_id: string;
    optional: boolean;
    label: { text: string };
    hint?: { text: string };
    element: Json;
  }[];

  it('asks for one optional number per criterion, in its unit, filled in with what this check-in has', () => {
    expect(blockKitViolations(modal)).toEqual([]);
    expect(modal.callback_id).toBe(CallbackId.recordObservations);
    expect(decodeReleaseIndexMetadata(modal.private_metadata)).toEqual({
      teamId: 'T0TEAM',
      releaseId: 'r42',
      index: 0,
    });
    expect(
      inputs.map((input) => [input.block_id, input.label.text, input.hint?.text, input.optional]),
    ).toEqual([
      ['observed:error-rate', 'Error rate higher than the baseline (in %)', 'Target: less than 1 %', true],
      ['observed:response-time', 'Response time slower (in %)', 'Target: less than 10 %', true],
      [
        'observed:satisfaction',
        'Stakeholder satisfaction (a score out of 10)',
        'Target: more than 8/10',
        true,
      ],
      ['observed:critical-issues', 'Critical issues (a number)', 'Target: none', true],
    ]);
    expect(inputs.map((input) => input.element)).toEqual([
      {
        type: 'number_input',
        action_id: ObservationField.action,
        is_decimal_allowed: true,
        min_value: '-100',
        initial_value: '0.4',
      },
      {
        type: 'number_input',
        action_id: ObservationField.action,
        is_decimal_allowed: true,
        min_value: '-100',
        initial_value: '14',
      },
      {
        type: 'number_input',
        action_id: ObservationField.action,
        is_decimal_allowed: true,
        min_value: '0',
        max_value: '10',
      },
      { type: 'number_input', action_id: ObservationField.action, is_decimal_allowed: false, min_value: '0' },
    ]);
  });

  it('names the release in mrkdwn, escaped', () => {
    const hostile = renderObservationsModal(makeMeasured({ version: HOSTILE_TEXT }), 1, 'T0TEAM');
    expectNoHostileMarkup(hostile.blocks);
    expect(blockKitViolations(hostile)).toEqual([]);
  });
});

describe('recordings in /deploy audit', () => {
  it('say who recorded which criterion at which check-in, and what it replaced', () => {
    const release = makeMeasured();
    const reply = renderAudit(release, [
      makeAuditEvent('criterion_recorded', 1, {
        user: RECORDER,
        checkinIndex: 0,
        criterionId: 'satisfaction',
        from: 'none',
        to: '7.5',
      }),
      makeAuditEvent('criterion_recorded', 2, {
        user: TICKER,
        checkinIndex: 0,
        criterionId: 'satisfaction',
        from: '7.5',
        to: 'none',
      }),
    ]);
    const all = JSON.stringify(reply);
    expect(all).toContain(`<@${RECORDER}> recorded *Stakeholder satisfaction* at check-in 1: 7.5/10`);
    expect(all).toContain(
      `<@${TICKER}> recorded *Stakeholder satisfaction* at check-in 1: cleared (was 7.5/10)`,
    );
  });
});

describe('the draft retrospective', () => {
  it('reports each criterion met, missed or not recorded, with the latest value and its check-in', () => {
    const release = complete(
      makeMeasured({ monitoring: { state: 'closed', closedAt: T0 + 6 * 60 * MINUTE } }),
    );
    const message = renderRetroDraft(release, draftRetrospective(release, []));
    expect(blockKitViolations(message)).toEqual([]);
    expect(texts(message.blocks)).toContain(
      [
        '*🎯 Success criteria*: 0 met, 2 missed, 2 not recorded',
        '• ❌ *Error rate higher than the baseline*: 1 % at check-in 2 — missed (target: less than 1 %)',
        '• ❌ *Response time slower*: 14 % at check-in 1 — missed (target: less than 10 %)',
        '• ➖ *Stakeholder satisfaction*: not recorded (target: more than 8/10)',
        '• ➖ *Critical issues*: not recorded (target: none)',
      ].join('\n'),
    );
  });

  it('has no criteria section for a release whose template sets none', () => {
    const release = complete(makeRelease());
    const message = renderRetroDraft(release, draftRetrospective(release, []));
    expect(texts(message.blocks).join('\n')).not.toContain('Success criteria');
  });

  it('fits twenty long criteria in Slack’s limits', () => {
    const many: TemplateCriterion[] = Array.from({ length: 20 }, (_unused, index) => ({
      id: `c${index}`,
      name: `${HOSTILE_TEXT} ${'x'.repeat(120)}`,
      direction: 'at least',
      threshold: index,
      unit: 'min',
    }));
    const release = complete(makeMeasured({ template: makeTemplate({ success: many }) }));
    const message = renderRetroDraft(release, draftRetrospective(release, []));
    expect(blockKitViolations(message)).toEqual([]);
    expect(
      texts(message.blocks)
        .join('\n')
        .match(/not recorded \(target/g),
    ).toHaveLength(20);
    expectNoHostileMarkup(message.blocks);
    const checkin = renderCheckin({ ...release, status: 'active' }, 0);
    expect(blockKitViolations(checkin)).toEqual([]);
    expect(
      blockKitViolations(renderObservationsModal({ ...release, status: 'active' }, 0, 'T0TEAM')),
    ).toEqual([]);
  });
});

describe('/deploy stats', () => {
  const base: DeliveryStats = {
    period: { from: T0, to: T0 + 30 * 24 * 60 * MINUTE },
    releasesStarted: 4,
    deployments: 3,
    deploymentsPerWeek: [{ env: 'production', perWeek: 0.7 }],
    startToDeployed: { median: 60 * MINUTE, p90: 60 * MINUTE, count: 3 },
    phaseTimes: [],
    changeFailureRate: { failed: 0, of: 3, rate: 0 },
    rollbackRate: { rolledBack: 0, of: 3, rate: 0, goal: 0.05, met: true },
    timeToResolve: { median: undefined, count: 0, goalMs: 7_200_000, met: undefined },
    insideWindow: { inside: 0, of: 0, rate: undefined },
    criteria: [],
  };

  it('reports per criterion how many releases recorded it and how many of those met it', () => {
    const message = renderDeliveryStats(
      {
        ...base,
        criteria: [
          {
            id: 'error-rate',
            name: HOSTILE_TEXT,
            target: 'less than 1 %',
            releases: 3,
            recorded: 2,
            met: 1,
            recordedRate: 2 / 3,
            metRate: 0.5,
          },
          {
            id: 'satisfaction',
            name: 'Satisfaction',
            target: 'more than 8/10',
            releases: 3,
            recorded: 0,
            met: 0,
            recordedRate: 0,
          },
        ],
      },
      T0,
    );
    expect(blockKitViolations(message)).toEqual([]);
    expectNoHostileMarkup(message.blocks);
    const all = texts(message.blocks).join('\n');
    expect(all).toContain(
      '• *&lt;!channel&gt; &lt;@U1&gt; &lt;https://evil|x&gt; &amp; more* (less than 1 %): met by 1 of 2 that recorded it (50 %) · recorded by 2 of 3 releases',
    );
    expect(all).toContain('• *Satisfaction* (more than 8/10): recorded by 0 of 3 releases');
  });

  it('has no criteria section when no deployed release’s template sets any', () => {
    expect(texts(renderDeliveryStats(base, T0).blocks).join('\n')).not.toContain('Success criteria');
  });
});
