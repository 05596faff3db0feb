import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/domain/audit.js';
import {
  buildDeploymentLog,
  DEPLOYMENT_LOG_SCHEMA,
  escapeMarkdown,
  escapeMarkdownInline,
} from '../../src/domain/deployment-log.js';
import type { Release } from '../../src/domain/release.js';
import type { Template } from '../../src/domain/template.js';
import {
  item,
  MINUTE,
  makeAuditEvent,
  makeRelease,
  makeTemplate,
  OVERRIDER,
  override,
  STARTER,
  T0,
  TICKER,
  tick,
} from './factories.js';

// The deployment log: the Markdown people read and the JSON machines read, from one release and its trail.

/** Text a user could type that would break the Markdown if it were not escaped. */
const HOSTILE_MD = '| <script> **x** # y';
const HOSTILE_MD_ESCAPED = '\\| \\<script\\> \\*\\*x\\*\\* # y';

const GENERATED_AT = T0 + 10 * 60 * MINUTE;

const SECTIONS = [
  'Changes',
  'Expected downtime',
  'Phases',
  'Gate overrides',
  'Go / no-go',
  'Post-deploy check-ins',
  'Success criteria',
  'Issues',
  'Red flags',
  'Rollback',
  'Freeze override',
  'Retrospective',
  'People',
  'Audit trail',
];

/** How the log writes a time for people. */
const human = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
const iso = (ms: number) => new Date(ms).toISOString();

function headings(markdown: string): string[] {
  return [...markdown.matchAll(/^## (.+)$/gm)].map((match) => match[1]!);
}

/** The text of one `## ` section, without its heading. */
function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start === -1) throw new Error(`no section ${title}`);
  const body = markdown.slice(start + title.length + 5);
  const end = body.indexOf('\n## ');
  return (end === -1 ? body : body.slice(0, end)).trim();
}

function auditRows(markdown: string): string[] {
  return section(markdown, 'Audit trail')
    .split('\n')
    .filter((line) => line.startsWith('| '))
    .slice(2);
}

const unescapedPipes = (line: string) => line.match(/(?<!\\)\|/g)?.length ?? 0;

function scriptedTemplate(): Template {
  return makeTemplate({
    id: 'standard',
    name: 'Standard release',
    phases: [
      {
        id: 'prepare',
        name: 'Prepare',
        due: 'T-1d',
        items: [
          item('backup', { text: 'Backup created', role: 'ops' }),
          item('tests', { text: HOSTILE_MD }),
          item('announce', { text: 'Tell support', required: false }),
        ],
      },
      {
        id: 'deploy',
        name: 'Deploy',
        due: 'T-0',
        deployment: true,
        items: [
          item('ship', { text: 'Code deployed', group: 'Rollout' }),
          item('migrate', { text: 'Migrations run', group: 'Rollout' }),
        ],
      },
    ],
    rollback: {
      criteria: ['Error rate above 5 %'],
      items: [item('revert', { text: 'Revert to the last version' }), item('rb-note', { required: false })],
    },
  });
}

/**
 * A release that went all the way: the backup ticked, the hostile item passed by a gate override, the
 * deploy, a check-in answered with an issue that was resolved, a red flag raised and cleared, a
 * follow-up check-in escalated and answered "roll back", and the rollback done.
 */
function scriptedRelease(): { release: Release; events: AuditEvent[] } {
  const at = (minutes: number) => T0 + minutes * MINUTE;
  let release = makeRelease({
    id: 'r12',
    version: 'v2.3+build/5',
    env: 'production',
    template: scriptedTemplate(),
    window: { at: at(60), zone: 'Europe/Berlin' },
    notes: `Faster checkout\n- Fix ${HOSTILE_MD}\n# not a heading`,
    downtime: 'about 10 minutes',
    owners: { ship: 'U0SHIPPER' },
  });
  release = tick(release, ['backup'], at(10));
  release = override(release, 1, { reason: HOSTILE_MD, at: at(20) });
  release = tick(release, ['ship', 'migrate'], at(61));
  release = tick(release, ['revert'], at(200), STARTER);
  release = {
    ...release,
    status: 'rolled_back',
    lockedAt: at(61),
    deployment: { at: at(62), by: TICKER },
    monitoring: { state: 'closed', closedAt: at(201) },
    checkins: [
      {
        index: 0,
        dueAt: at(92),
        postedAt: at(92),
        answer: { kind: 'issue', by: STARTER, at: at(95), issue: 1 },
      },
      {
        index: 1,
        dueAt: at(150),
        followUp: true,
        postedAt: at(150),
        escalatedAt: at(170),
        answer: { kind: 'rollback', by: STARTER, at: at(180) },
      },
    ],
    issues: [
      {
        id: 1,
        foundBy: STARTER,
        foundAt: at(95),
        what: 'Checkout errors',
        severity: 'major',
        checkin: 0,
        resolvedBy: TICKER,
        resolvedAt: at(120),
        resolution: 'Restarted the payment worker',
      },
    ],
    lastRedFlag: {
      number: 1,
      by: TICKER,
      at: at(100),
      condition: 'A major component is down',
      note: 'Payments time out',
      clearedBy: STARTER,
      clearedAt: at(110),
      clearNote: 'Worker restarted',
    },
    rollback: { by: STARTER, at: at(181) },
    cancelReason: 'Error rate above 5 %',
    finishedAt: at(201),
    finishedBy: STARTER,
  };
  const events: AuditEvent[] = [
    makeAuditEvent('started', 0, {
      user: STARTER,
      at: at(0),
      from: 'none',
      to: 'active',
      version: release.version,
      env: release.env,
      templateId: 'standard',
      windowAt: at(60),
      windowZone: 'Europe/Berlin',
    }),
    makeAuditEvent('ticked', 1, { user: TICKER, at: at(10), itemId: 'backup', phaseIndex: 0 }),
    makeAuditEvent('gate_overridden', 2, {
      user: OVERRIDER,
      at: at(20),
      from: 'locked',
      to: 'open',
      phaseIndex: 1,
      blockingPhaseIndex: 0,
      reason: HOSTILE_MD,
    }),
    makeAuditEvent('locked', 3, { user: TICKER, at: at(61), from: 'free', to: 'held', env: 'production' }),
    makeAuditEvent('ticked', 4, { user: TICKER, at: at(61), itemId: 'ship', phaseIndex: 1 }),
    makeAuditEvent('ticked', 5, { user: TICKER, at: at(61) + 1000, itemId: 'migrate', phaseIndex: 1 }),
    makeAuditEvent('deployed', 6, { user: TICKER, at: at(62), phaseIndex: 1, checkins: 1 }),
    makeAuditEvent('checkin_posted', 7, {
      user: 'shipcheck',
      at: at(92),
      from: 'planned',
      to: 'posted',
      checkinIndex: 0,
    }),
    makeAuditEvent('checkin_answered', 8, {
      user: STARTER,
      at: at(95),
      from: 'posted',
      to: 'issue',
      checkinIndex: 0,
    }),
    makeAuditEvent('issue_found', 9, {
      user: STARTER,
      at: at(95),
      from: 'none',
      to: 'open',
      checkinIndex: 0,
      issueId: 1,
      severity: 'major',
      reason: 'Checkout errors',
    }),
    makeAuditEvent('red_flag_raised', 10, {
      user: TICKER,
      at: at(100),
      from: 'running',
      to: 'stopped',
      reason: 'A major component is down: Payments time out',
    }),
    makeAuditEvent('red_flag_cleared', 11, {
      user: STARTER,
      at: at(110),
      from: 'stopped',
      to: 'running',
      reason: 'Worker restarted',
    }),
    makeAuditEvent('issue_resolved', 12, {
      user: TICKER,
      at: at(120),
      from: 'open',
      to: 'resolved',
      issueId: 1,
      checkinIndex: 1,
      reason: 'Restarted the payment worker',
    }),
    makeAuditEvent('checkin_posted', 13, {
      user: 'shipcheck',
      at: at(150),
      from: 'planned',
      to: 'posted',
      checkinIndex: 1,
    }),
    makeAuditEvent('checkin_escalated', 14, {
      user: 'shipcheck',
      at: at(170),
      from: 'posted',
      to: 'escalated',
      checkinIndex: 1,
      recipient: STARTER,
    }),
    makeAuditEvent('checkin_answered', 15, {
      user: STARTER,
      at: at(180),
      from: 'posted',
      to: 'rollback',
      checkinIndex: 1,
    }),
    makeAuditEvent('rollback_started', 16, {
      user: STARTER,
      at: at(181),
      from: 'active',
      to: 'rolling_back',
      reason: 'Error rate above 5 %',
    }),
    makeAuditEvent('ticked', 17, { user: STARTER, at: at(200), itemId: 'revert', phaseIndex: 2 }),
    makeAuditEvent('rolled_back', 18, {
      user: STARTER,
      at: at(201),
      from: 'rolling_back',
      to: 'rolled_back',
      reason: 'Error rate above 5 %',
    }),
  ];
  return { release, events };
}

describe('escapeMarkdown', () => {
  it('escapes inline markup, table pipes and raw HTML', () => {
    expect(escapeMarkdown(HOSTILE_MD)).toBe(HOSTILE_MD_ESCAPED);
    expect(escapeMarkdown('`code` _em_ [link](x) ~~del~~ a\\b')).toBe(
      '\\`code\\` \\_em\\_ \\[link\\](x) \\~\\~del\\~\\~ a\\\\b',
    );
  });

  it('escapes block markers at the start of each line only', () => {
    expect(escapeMarkdown('# title\n> quote\n- item\n1. first\nx # y - z')).toBe(
      '\\# title\n\\> quote\n\\- item\n1\\. first\nx # y - z',
    );
  });

  it('keeps a value on one line for table cells and list items', () => {
    expect(escapeMarkdownInline('  two\nlines | here  ')).toBe('two lines \\| here');
    expect(escapeMarkdownInline('plain text v2.3')).toBe('plain text v2.3');
  });
});

describe('buildDeploymentLog: a release that was deployed and rolled back', () => {
  const { release, events } = scriptedRelease();
  const log = buildDeploymentLog(release, events, GENERATED_AT);
  const { markdown, json } = log;

  it('has the title, the summary table and every section, in order', () => {
    expect(markdown.startsWith('# Deployment log: v2.3+build/5 → production\n')).toBe(true);
    expect(headings(markdown)).toEqual(SECTIONS);
    const summary = markdown.slice(0, markdown.indexOf('\n## '));
    expect(summary).toContain('| Version | v2.3+build/5 |');
    expect(summary).toContain('| Environment | production |');
    expect(summary).toContain('| Template | Standard release (standard) |');
    expect(summary).toContain('| Status | Rolled back |');
    expect(summary).toContain(`| Started | @${STARTER} at 2026-03-02 09:30:00 UTC |`);
    expect(summary).toContain('| Deploy window | 2026-03-02 10:30:00 UTC (set in Europe/Berlin) |');
    expect(summary).toContain(`| Deployed at | ${human(T0 + 62 * MINUTE)} by @${TICKER} |`);
    expect(summary).toContain(
      `| Finished | Rolled back by @${STARTER} at ${human(T0 + 201 * MINUTE)}: Error rate above 5 % |`,
    );
    expect(summary).toContain(`| Generated at | ${human(GENERATED_AT)} |`);
    expect(markdown.endsWith('\n')).toBe(true);
    expect(markdown).not.toMatch(/<@|<!date/);
  });

  it('lists the changes and the expected downtime', () => {
    expect(section(markdown, 'Changes').split('\n')).toEqual([
      '- Faster checkout',
      `- Fix ${HOSTILE_MD_ESCAPED}`,
      '- \\# not a heading',
    ]);
    expect(section(markdown, 'Expected downtime')).toBe('about 10 minutes');
  });

  it('shows each phase with its due time and its items, ticked ones with who and when', () => {
    const phases = section(markdown, 'Phases');
    expect(phases).toContain('### 1. Prepare (due T-1d, 2026-03-01 10:30:00 UTC)');
    expect(phases).toContain('### 2. Deploy (due T-0, 2026-03-02 10:30:00 UTC)');
    expect(phases).toContain('Finishing it marks the release deployed.');
    expect(phases).toContain('#### Rollout');
    const lines = phases.split('\n');
    expect(lines).toContain(`- [x] Backup created · role: ops — @${TICKER} at 2026-03-02 09:40:00 UTC`);
    expect(lines).toContain(`- [ ] ${HOSTILE_MD_ESCAPED} (skipped by a gate override)`);
    expect(lines).toContain('- [ ] Tell support (optional)');
    expect(lines).toContain(
      `- [x] Code deployed · owner: @U0SHIPPER — @${TICKER} at ${human(T0 + 61 * MINUTE)}`,
    );
    expect(lines).toContain(`- [x] Migrations run — @${TICKER} at ${human(T0 + 61 * MINUTE + 1000)}`);
    expect(phases.indexOf('### 1. Prepare')).toBeLessThan(phases.indexOf('### 2. Deploy'));
  });

  it('records the override, the check-ins, the issue, the red flag and the rollback', () => {
    expect(section(markdown, 'Gate overrides')).toBe(
      `- Gate to phase 2 “Deploy” opened by @${OVERRIDER} at ${human(T0 + 20 * MINUTE)}: ${HOSTILE_MD_ESCAPED}`,
    );
    expect(section(markdown, 'Go / no-go')).toBe('None.');
    const checkins = section(markdown, 'Post-deploy check-ins');
    expect(checkins).toContain(`The monitoring window closed at ${human(T0 + 201 * MINUTE)}.`);
    expect(checkins).toContain(
      `- Check-in 1, due ${human(T0 + 92 * MINUTE)}; posted ${human(T0 + 92 * MINUTE)}; answered “issue found” (issue #1) by @${STARTER} at ${human(T0 + 95 * MINUTE)}.`,
    );
    expect(checkins).toContain(
      `- Check-in 2 (follow-up), due ${human(T0 + 150 * MINUTE)}; posted ${human(T0 + 150 * MINUTE)}; answered “roll back” by @${STARTER} at ${human(T0 + 180 * MINUTE)}; escalated ${human(T0 + 170 * MINUTE)} to @${STARTER}.`,
    );
    expect(section(markdown, 'Issues')).toBe(
      `- #1 (major), found by @${STARTER} at ${human(T0 + 95 * MINUTE)} at check-in 1: Checkout errors. Resolved by @${TICKER} at ${human(T0 + 120 * MINUTE)}: Restarted the payment worker`,
    );
    expect(section(markdown, 'Red flags')).toBe(
      `- #1, raised by @${TICKER} at ${human(T0 + 100 * MINUTE)}: **A major component is down**: Payments time out. Cleared by @${STARTER} at ${human(T0 + 110 * MINUTE)}: Worker restarted`,
    );
    const rollback = section(markdown, 'Rollback');
    expect(rollback).toContain(`Decided by @${STARTER} at ${human(T0 + 181 * MINUTE)}: Error rate above 5 %`);
    expect(rollback).toContain(`Rolled back at ${human(T0 + 201 * MINUTE)}.`);
    expect(rollback).toContain('- Error rate above 5 %');
    expect(rollback).toContain('### Rollback checklist');
    expect(rollback).toContain(
      `- [x] Revert to the last version — @${STARTER} at ${human(T0 + 200 * MINUTE)}`,
    );
    expect(rollback).toContain('- [ ] Item rb-note (optional)');
    expect(section(markdown, 'Freeze override')).toBe('None.');
  });

  it('puts every audit event in the table, in order, one row each', () => {
    const rows = auditRows(markdown);
    expect(rows).toHaveLength(events.length);
    rows.forEach((row, index) => {
      const event = events[index]!;
      expect(row.startsWith(`| ${human(event.at)} | `)).toBe(true);
      expect(unescapedPipes(row)).toBe(5);
    });
    const labels = rows.map((row) => row.split(/(?<!\\)\|/)[3]!.trim());
    expect(labels).toEqual([
      'Started',
      'Ticked',
      'Gate overridden',
      'Environment locked',
      'Ticked',
      'Ticked',
      'Deployed',
      'Check-in posted',
      'Check-in answered',
      'Issue found',
      'Red flag raised',
      'Red flag cleared',
      'Issue resolved',
      'Check-in posted',
      'Check-in escalated',
      'Check-in answered',
      'Rollback started',
      'Ticked',
      'Rolled back',
    ]);
    expect(rows[0]).toContain(
      `| @${STARTER} | Started | v2.3+build/5 → production, template standard, window 2026-03-02 10:30:00 UTC (Europe/Berlin) |`,
    );
    expect(rows[1]).toContain('| Ticked | “Backup created” in phase 1 “Prepare” (open → done) |');
    expect(rows[2]).toContain(
      `unlocked phase 2 “Deploy” while phase 1 “Prepare” had open items: ${HOSTILE_MD_ESCAPED} |`,
    );
    expect(rows[7]).toContain('| shipcheck | Check-in posted | check-in 1 |');
    expect(rows[14]).toContain(`check-in 2 went unanswered; escalated to @${STARTER}`);
    expect(rows[17]).toContain('“Revert to the last version” in the rollback checklist');
  });

  it('never lets user text through unescaped', () => {
    expect(markdown).not.toContain('<script>');
    expect(markdown).not.toContain('**x**');
    expect(markdown).not.toMatch(/^# (?!Deployment log)/m);
    // Every table row keeps its columns: two in the summary, four in the audit trail.
    const summaryRows = markdown
      .slice(0, markdown.indexOf('\n## '))
      .split('\n')
      .filter((line) => line.startsWith('|'));
    for (const row of summaryRows) expect(unescapedPipes(row)).toBe(3);
  });

  it('gives the JSON every field, with ISO times', () => {
    expect(json.schema).toBe(DEPLOYMENT_LOG_SCHEMA);
    expect(json.generatedAt).toBe(iso(GENERATED_AT));
    expect(json.release).toEqual({
      id: 'r12',
      version: 'v2.3+build/5',
      env: 'production',
      template: { id: 'standard', name: 'Standard release' },
      status: 'rolled_back',
      startedBy: STARTER,
      startedAt: '2026-03-02T09:30:00.000Z',
      window: { at: '2026-03-02T10:30:00.000Z', zone: 'Europe/Berlin' },
      deployedAt: iso(T0 + 62 * MINUTE),
      deployedBy: TICKER,
      lockedAt: iso(T0 + 61 * MINUTE),
      finishedAt: iso(T0 + 201 * MINUTE),
      finishedBy: STARTER,
      reason: 'Error rate above 5 %',
      monitoring: { state: 'closed', closedAt: iso(T0 + 201 * MINUTE) },
    });
    expect(json.notes).toBe(release.notes);
    expect(json.downtime).toBe('about 10 minutes');
    expect(json.phases.map((phase) => [phase.name, phase.due, phase.dueAt])).toEqual([
      ['Prepare', 'T-1d', '2026-03-01T10:30:00.000Z'],
      ['Deploy', 'T-0', '2026-03-02T10:30:00.000Z'],
    ]);
    expect(json.phases[0]!.items).toEqual([
      {
        id: 'backup',
        text: 'Backup created',
        required: true,
        role: 'ops',
        done: true,
        by: TICKER,
        at: '2026-03-02T09:40:00.000Z',
      },
      { id: 'tests', text: HOSTILE_MD, required: true, done: false, skipped: true },
      { id: 'announce', text: 'Tell support', required: false, done: false },
    ]);
    // The override passed Prepare with an item open; the release has ended, so it was skipped.
    expect(json.phases[0]!.state).toBe('skipped');
    expect(json.phases[1]).toMatchObject({ deployment: true, state: 'done' });
    expect(json.phases[1]!.items[0]).toMatchObject({ owner: 'U0SHIPPER', group: 'Rollout', done: true });
    expect(json.rollback).toEqual({
      decidedBy: STARTER,
      decidedAt: iso(T0 + 181 * MINUTE),
      reason: 'Error rate above 5 %',
      criteria: ['Error rate above 5 %'],
      items: [
        {
          id: 'revert',
          text: 'Revert to the last version',
          required: true,
          done: true,
          by: STARTER,
          at: iso(T0 + 200 * MINUTE),
        },
        { id: 'rb-note', text: 'Item rb-note', required: false, done: false },
      ],
    });
    expect(json.overrides).toEqual([
      { phaseIndex: 1, phase: 'Deploy', by: OVERRIDER, at: iso(T0 + 20 * MINUTE), reason: HOSTILE_MD },
    ]);
    expect(json.checkins[1]).toEqual({
      index: 1,
      dueAt: iso(T0 + 150 * MINUTE),
      followUp: true,
      postedAt: iso(T0 + 150 * MINUTE),
      escalatedAt: iso(T0 + 170 * MINUTE),
      escalatedTo: STARTER,
      answer: { kind: 'rollback', by: STARTER, at: iso(T0 + 180 * MINUTE) },
    });
    expect(json.issues).toEqual([
      {
        id: 1,
        foundBy: STARTER,
        foundAt: iso(T0 + 95 * MINUTE),
        what: 'Checkout errors',
        severity: 'major',
        checkin: 0,
        resolvedBy: TICKER,
        resolvedAt: iso(T0 + 120 * MINUTE),
        resolution: 'Restarted the payment worker',
      },
    ]);
    expect(json.redFlags).toEqual([
      {
        number: 1,
        raisedBy: TICKER,
        raisedAt: iso(T0 + 100 * MINUTE),
        condition: 'A major component is down',
        note: 'Payments time out',
        clearedBy: STARTER,
        clearedAt: iso(T0 + 110 * MINUTE),
        clearNote: 'Worker restarted',
      },
    ]);
    expect(json.go).toBeUndefined();
    expect(json.freezeOverride).toBeUndefined();
  });

  it('carries every audit event into the JSON, in order, with all its fields', () => {
    expect(json.events.map((event) => event.id)).toEqual(events.map((event) => event.id));
    expect(json.events[0]).toEqual({
      id: events[0]!.id,
      at: '2026-03-02T09:30:00.000Z',
      type: 'started',
      user: STARTER,
      from: 'none',
      to: 'active',
      version: 'v2.3+build/5',
      env: 'production',
      templateId: 'standard',
      windowAt: '2026-03-02T10:30:00.000Z',
      windowZone: 'Europe/Berlin',
    });
    expect(json.events[14]).toMatchObject({ type: 'checkin_escalated', checkinIndex: 1, recipient: STARTER });
    expect(json.events[2]).toMatchObject({ phaseIndex: 1, blockingPhaseIndex: 0, reason: HOSTILE_MD });
    // Nothing undefined hides in it: what is written to the file is what the object holds.
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('names its files with safe characters only', () => {
    expect(log.fileStem).toBe('deployment-log-v2.3-build-5-production-r12');
    const odd = buildDeploymentLog(
      makeRelease({ id: 'r7', version: '../../etc/passwd', env: 'prod eu/west' }),
      [],
      GENERATED_AT,
    );
    expect(odd.fileStem).toBe('deployment-log-etc-passwd-prod-eu-west-r7');
    expect(odd.fileStem).toMatch(/^[A-Za-z0-9._-]+$/);
  });

  it('is deterministic and leaves its inputs alone', () => {
    const before = structuredClone({ release, events });
    const again = buildDeploymentLog(release, events, GENERATED_AT);
    expect(again).toEqual(log);
    expect(again.markdown).toBe(markdown);
    expect(JSON.stringify(again.json)).toBe(JSON.stringify(json));
    expect({ release, events }).toEqual(before);
  });
});

describe('buildDeploymentLog: people by name', () => {
  const { release, events } = scriptedRelease();
  const recordedAt = T0 - MINUTE;
  const people = new Map([
    [STARTER, { name: 'Stella | <b>*S*</b>', realName: 'Stella Starter', at: recordedAt }],
    [TICKER, { name: '# [Tim](https://evil.example) `x`', at: recordedAt }],
  ]);
  const named = buildDeploymentLog(release, events, GENERATED_AT, people);
  const plain = buildDeploymentLog(release, events, GENERATED_AT);

  it('names each recorded person with their id, escaped, everywhere the log names them', () => {
    const starter = `Stella \\| \\<b\\>\\*S\\*\\</b\\> (${STARTER})`;
    const ticker = `\\# \\[Tim\\](https://evil.example) \\\`x\\\` (${TICKER})`;
    expect(named.markdown).toContain(`| Started | ${starter} at 2026-03-02 09:30:00 UTC |`);
    expect(named.markdown).toContain(`| Deployed at | ${human(T0 + 62 * MINUTE)} by ${ticker} |`);
    expect(named.markdown).not.toContain(`@${STARTER}`);
    expect(named.markdown).not.toContain(`@${TICKER}`);
    // Someone the record has no name for keeps their id.
    expect(named.markdown).toContain(`@${OVERRIDER}`);
    for (const row of auditRows(named.markdown)) expect(unescapedPipes(row)).toBe(5);
    expect(named.markdown).not.toMatch(/<b>|(?<!\\)\]\(https/);
    expect(headings(named.markdown)).toEqual(SECTIONS);
  });

  it('lists who is who, with real names and when the names were recorded', () => {
    expect(section(named.markdown, 'People').split('\n')).toEqual([
      'Names as they were when the release first named each person.',
      '',
      `- Stella \\| \\<b\\>\\*S\\*\\</b\\> (${STARTER}), real name Stella Starter; as of ${human(recordedAt)}`,
      `- \\# \\[Tim\\](https://evil.example) \\\`x\\\` (${TICKER}); as of ${human(recordedAt)}`,
    ]);
    expect(section(plain.markdown, 'People')).toBe('No names recorded: people are shown by their Slack ids.');
  });

  it('keeps ids in the JSON and adds the names as recorded, by id', () => {
    expect(named.json.release.startedBy).toBe(STARTER);
    expect(named.json.events.every((event) => !event.user.includes(' '))).toBe(true);
    expect(named.json.people).toEqual({
      [STARTER]: { name: 'Stella | <b>*S*</b>', realName: 'Stella Starter', recordedAt: iso(recordedAt) },
      [TICKER]: { name: '# [Tim](https://evil.example) `x`', recordedAt: iso(recordedAt) },
    });
    expect(Object.keys(named.json.people)).toEqual([STARTER, TICKER]);
    expect(plain.json.people).toEqual({});
    const { people: _people, ...rest } = named.json;
    const { people: _none, ...plainRest } = plain.json;
    expect(rest).toEqual(plainRest);
  });
});

describe('buildDeploymentLog: a release just started', () => {
  const release = makeRelease({ id: 'r1', version: 'v1.0', env: 'staging' });
  const started = makeAuditEvent('started', 0, {
    user: STARTER,
    from: 'none',
    to: 'active',
    version: 'v1.0',
    env: 'staging',
    templateId: 'tiny',
  });
  const log = buildDeploymentLog(release, [started], GENERATED_AT);

  it('says "None." where there is nothing to say, and keeps the phases and the trail', () => {
    expect(log.markdown.startsWith('# Deployment log: v1.0 → staging\n')).toBe(true);
    expect(headings(log.markdown)).toEqual(SECTIONS);
    expect(section(log.markdown, 'Changes')).toBe('None given.');
    for (const title of [
      'Expected downtime',
      'Gate overrides',
      'Go / no-go',
      'Post-deploy check-ins',
      'Issues',
      'Red flags',
      'Rollback',
      'Freeze override',
      'Retrospective',
    ]) {
      expect(section(log.markdown, title), title).toBe('None.');
    }
    const phases = section(log.markdown, 'Phases');
    expect(phases).toContain('### 1. Prepare (due T-1d)');
    expect(phases).toContain('### 2. Notes\n');
    expect(phases).not.toContain('[x]');
    expect(phases.match(/^- \[ \] /gm)).toHaveLength(8);
    expect(auditRows(log.markdown)).toHaveLength(1);
    expect(log.markdown).toContain('| Status | Active |');
    expect(log.markdown).toContain('| Deploy window | Not set |');
    expect(log.markdown).toContain('| Deployed at | Not deployed |');
    expect(log.markdown).toContain('| Finished | Not yet |');
    expect(log.fileStem).toBe('deployment-log-v1.0-staging-r1');
  });

  it('leaves optional JSON fields out and lists empty', () => {
    expect(log.json.release).toEqual({
      id: 'r1',
      version: 'v1.0',
      env: 'staging',
      template: { id: 'tiny', name: 'Tiny release' },
      status: 'active',
      startedBy: STARTER,
      startedAt: iso(T0),
    });
    expect(log.json).not.toHaveProperty('notes');
    expect(log.json).not.toHaveProperty('rollback');
    expect(log.json).not.toHaveProperty('go');
    expect(log.json).toMatchObject({ overrides: [], checkins: [], issues: [], redFlags: [] });
    expect(log.json.phases.map((phase) => phase.state)).toEqual(['open', 'locked', 'locked', 'locked']);
    expect(log.json.phases[0]!.items.every((entry) => !entry.done && entry.by === undefined)).toBe(true);
  });

  it('says "None." under the audit trail when it is empty', () => {
    const bare = buildDeploymentLog(release, [], GENERATED_AT);
    expect(section(bare.markdown, 'Audit trail')).toBe('None.');
    expect(bare.json.events).toEqual([]);
  });
});

describe('buildDeploymentLog: phases a gate override passed', () => {
  const template = makeTemplate({
    phases: [
      { id: 'plan', name: 'Plan', items: [item('a-1')] },
      { id: 'test', name: 'Test', items: [item('b-1'), item('b-opt', { required: false })] },
      { id: 'ship', name: 'Ship', items: [item('c-1')] },
    ],
  });
  const passed = override(makeRelease({ template }), 2);
  const states = (release: Release) =>
    buildDeploymentLog(release, [], GENERATED_AT).json.phases.map((phase) => phase.state);

  it('keeps them open or locked while the release is active: they can still be ticked', () => {
    expect(states(passed)).toEqual(['open', 'locked', 'open']);
  });

  it('says they were skipped once the release has ended', () => {
    const completed: Release = {
      ...tick(passed, ['c-1']),
      status: 'completed',
      finishedAt: T0 + 60 * MINUTE,
    };
    expect(states(completed)).toEqual(['skipped', 'skipped', 'done']);
    expect(states({ ...passed, status: 'rolled_back' })).toEqual(['skipped', 'skipped', 'open']);
  });

  it('leaves a phase nobody passed as it was when the release was cancelled', () => {
    expect(states({ ...makeRelease({ template }), status: 'cancelled' })).toEqual([
      'open',
      'locked',
      'locked',
    ]);
  });
});

describe('buildDeploymentLog: a no-go inside a freeze, with a red flag still up', () => {
  const template = makeTemplate({
    phases: [
      { id: 'prep', name: 'Prepare', items: [item('p-a')] },
      { id: 'ship', name: 'Ship', go: true, deployment: true, items: [item('s-a')] },
    ],
  });

  it('reports the freeze override, the red flag and a pending go call', () => {
    const release = tick(
      makeRelease({
        template,
        freezeOverride: {
          reason: 'Security fix',
          window: 'Fri 16:00 - Mon 08:00',
          endsAt: T0 + 3 * 60 * MINUTE,
        },
        redFlag: {
          number: 1,
          by: TICKER,
          at: T0 + 5 * MINUTE,
          condition: 'Data integrity is in doubt',
          note: '',
        },
      }),
      ['p-a'],
    );
    const events = [
      makeAuditEvent('freeze_overridden', 0, { user: STARTER, reason: 'Security fix', env: 'staging' }),
    ];
    const { markdown, json } = buildDeploymentLog(release, events, GENERATED_AT);
    expect(markdown).toContain('| Status | Active (stopped by a red flag) |');
    expect(section(markdown, 'Go / no-go')).toBe('Not called yet; phase 2 “Ship” waits for it.');
    expect(section(markdown, 'Phases')).toContain(
      'It waits for the go/no-go call. Finishing it marks the release deployed.',
    );
    expect(section(markdown, 'Red flags')).toContain('Still up: the release is stopped.');
    expect(section(markdown, 'Freeze override')).toBe(
      `Started inside the freeze “Fri 16:00 - Mon 08:00” (until ${human(T0 + 3 * 60 * MINUTE)}) by @${STARTER} at ${human(T0)}: Security fix`,
    );
    expect(json.freezeOverride).toEqual({
      reason: 'Security fix',
      window: 'Fri 16:00 - Mon 08:00',
      endsAt: iso(T0 + 3 * 60 * MINUTE),
      by: STARTER,
      at: iso(T0),
    });
    expect(json.redFlags).toEqual([
      {
        number: 1,
        raisedBy: TICKER,
        raisedAt: iso(T0 + 5 * MINUTE),
        condition: 'Data integrity is in doubt',
        note: '',
      },
    ]);
  });

  it('reports a no-go with its reason', () => {
    const release = makeRelease({
      template,
      status: 'cancelled',
      finishedAt: T0 + 40 * MINUTE,
      finishedBy: STARTER,
      cancelReason: 'No-go: load test failed',
    });
    const events = [
      makeAuditEvent('go_decided', 0, {
        user: STARTER,
        from: 'waiting',
        to: 'no_go',
        reason: 'load test failed',
      }),
      makeAuditEvent('cancelled', 1, {
        user: STARTER,
        from: 'active',
        to: 'cancelled',
        reason: 'No-go: load test failed',
      }),
    ];
    const { markdown, json } = buildDeploymentLog(release, events, GENERATED_AT);
    expect(section(markdown, 'Go / no-go')).toBe(
      `No-go, called by @${STARTER} at ${human(T0)}: load test failed`,
    );
    expect(json.go).toEqual({ decision: 'no-go', by: STARTER, at: iso(T0), reason: 'load test failed' });
    expect(markdown).toContain(
      `| Finished | Cancelled by @${STARTER} at ${human(T0 + 40 * MINUTE)}: No-go: load test failed |`,
    );
    const rows = auditRows(markdown);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('| Go / no-go | no-go: load test failed |');
  });
});
