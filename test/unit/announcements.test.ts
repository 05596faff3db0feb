import { describe, expect, it } from 'vitest';
import {
  ANNOUNCEMENT_PLACEHOLDERS,
  announcementWording,
  DEFAULT_ANNOUNCEMENT_WORDING,
  fillWording,
} from '../../src/domain/announcements.js';
import type { Release, ReleaseIssue } from '../../src/domain/release.js';
import { ANNOUNCEMENT_EVENTS, type AnnouncementEvent } from '../../src/domain/template.js';
import { renderAnnouncement } from '../../src/views/announcement-message.js';
import { blockKitViolations } from './block-kit-limits.js';
import {
  cancel,
  complete,
  HOSTILE_MARKUP,
  HOSTILE_TEXT,
  MINUTE,
  makeRelease,
  makeTemplate,
  STARTER,
  T0,
  TICKER,
} from './factories.js';

const PERMALINK = 'https://acme.slack.com/archives/C0DEPLOYS/p1772443800000100';
const NOW = T0 + 90 * MINUTE;
const FINDER = 'U0FINDER';
const DEPLOYER = 'U0DEPLOYER';
const ESCAPED_HOSTILE = '&lt;!channel&gt; &lt;@U1&gt; &lt;https://evil|x&gt; &amp; more';

const seconds = (ms: number) => Math.floor(ms / 1000);

function makeIssue(overrides: Partial<ReleaseIssue> = {}): ReleaseIssue {
  return {
    id: 1,
    foundBy: FINDER,
    foundAt: T0 + 70 * MINUTE,
    what: 'Checkout latency doubled',
    severity: 'major',
    ...overrides,
  };
}

/** A release as it stands when the event is announced. */
function releaseFor(event: AnnouncementEvent, overrides: Partial<Release> = {}): Release {
  const base = makeRelease({
    window: { at: T0 + 60 * MINUTE, zone: 'Europe/Berlin' },
    notes: 'Faster checkout; new invoice layout.',
    downtime: 'about 5 minutes',
    stakeholderChannels: ['C0STAKE1'],
    ...overrides,
  });
  const deployed: Release = { ...base, deployment: { at: T0 + 62 * MINUTE, by: DEPLOYER } };
  switch (event) {
    case 'planned':
      return { ...base, window: undefined };
    case 'scheduled':
    case 'started':
      return base;
    case 'red_flag':
      return {
        ...deployed,
        redFlag: {
          number: 1,
          by: DEPLOYER,
          at: T0 + 70 * MINUTE,
          condition: 'A critical dependency is unavailable',
          note: 'The payment provider is down',
        },
      };
    case 'red_flag_cleared':
      return {
        ...deployed,
        lastRedFlag: {
          number: 1,
          by: DEPLOYER,
          at: T0 + 70 * MINUTE,
          condition: 'A critical dependency is unavailable',
          note: 'The payment provider is down',
          clearedBy: DEPLOYER,
          clearedAt: T0 + 80 * MINUTE,
          clearNote: 'Provider is back',
        },
      };
    case 'rolling_back':
      return {
        ...deployed,
        status: 'rolling_back',
        cancelReason: 'Payments fail for EU cards',
        rollback: { by: DEPLOYER, at: T0 + 90 * MINUTE },
      };
    case 'freeze_overridden':
      return {
        ...base,
        freezeOverride: {
          reason: 'Security fix; cannot wait',
          window: 'production: Fri 15:00 - Mon 08:00 UTC',
          endsAt: T0,
        },
      };
    case 'deployed':
      return deployed;
    case 'issue_found':
      return { ...deployed, issues: [makeIssue()] };
    case 'rolled_back':
      return {
        ...deployed,
        status: 'rolled_back',
        finishedAt: T0 + 80 * MINUTE,
        finishedBy: TICKER,
        cancelReason: 'Error rate above budget',
      };
    case 'completed':
      return complete(deployed, T0 + 85 * MINUTE);
    case 'cancelled':
      return cancel(base, 'Vendor outage');
  }
}

/** Renders with the permalink unless given `null` (no permalink known). */
function render(release: Release, event: AnnouncementEvent, permalink: string | null = PERMALINK) {
  return renderAnnouncement(release, event, event === 'issue_found' ? 1 : 0, permalink ?? undefined, NOW);
}

function firstSectionText(message: ReturnType<typeof render>): string {
  const block = message.blocks[0];
  if (block?.type !== 'section' || !block.text) throw new Error('the first block is not a section with text');
  return block.text.text;
}

describe('DEFAULT_ANNOUNCEMENT_WORDING', () => {
  it.each(ANNOUNCEMENT_EVENTS)('words "%s" with the version and the environment', (event) => {
    const wording = DEFAULT_ANNOUNCEMENT_WORDING[event];
    expect(wording.trim()).not.toBe('');
    expect(wording).toContain('{version}');
    expect(wording).toContain('{env}');
    for (const [, name] of wording.matchAll(/\{(\w+)\}/g)) {
      expect(ANNOUNCEMENT_PLACEHOLDERS).toContain(name);
    }
  });

  it('lists a planned release’s phases, since it has no window to tell', () => {
    expect(DEFAULT_ANNOUNCEMENT_WORDING.planned).toContain('{phases}');
    expect(DEFAULT_ANNOUNCEMENT_WORDING.planned).not.toMatch(/deploy(ing|ment) .*begun|being deployed/);
  });

  it('says when a release is scheduled, what was found and why it was stopped', () => {
    expect(DEFAULT_ANNOUNCEMENT_WORDING.scheduled).toContain('{when}');
    expect(DEFAULT_ANNOUNCEMENT_WORDING.issue_found).toContain('{issue}');
    expect(DEFAULT_ANNOUNCEMENT_WORDING.rolled_back).toContain('{reason}');
    expect(DEFAULT_ANNOUNCEMENT_WORDING.cancelled).toContain('{reason}');
  });
});

describe('fillWording', () => {
  it('fills known placeholders, as often as they appear', () => {
    expect(fillWording('{version} to {env}; {version} again', { version: 'v1', env: 'prod' })).toBe(
      'v1 to prod; v1 again',
    );
  });

  it('leaves an unknown placeholder as written', () => {
    expect(fillWording('{version} by {team} {Version}', { version: 'v1' })).toBe('v1 by {team} {Version}');
  });

  it('takes extra names from the values as known', () => {
    expect(fillWording('{version} {extra}', { version: 'v1', extra: 'more' })).toBe('v1 more');
  });

  it('drops a placeholder without a value and tidies the spaces around it', () => {
    expect(fillWording('{version} is scheduled for {env} {when}.', { version: 'v1', env: 'prod' })).toBe(
      'v1 is scheduled for prod.',
    );
    expect(fillWording('{version} by {by} today', { version: 'v1', by: '' })).toBe('v1 by today');
    expect(fillWording('{by} started {version}', { version: 'v1' })).toBe('started v1');
  });

  it('drops a separator left dangling at the end', () => {
    expect(fillWording('v1 was cancelled: {reason}', {})).toBe('v1 was cancelled');
    expect(fillWording('v1 was cancelled: {reason}.', {})).toBe('v1 was cancelled.');
    expect(fillWording('planned for prod, {when}.', { when: '' })).toBe('planned for prod.');
    expect(fillWording('cancelled: {reason} {by}', {})).toBe('cancelled');
  });

  it('keeps the separator when more words follow', () => {
    expect(fillWording('found in {env}: {issue} {version}', { env: 'prod', version: 'v1' })).toBe(
      'found in prod: v1',
    );
  });

  it('never reads placeholders inside the values it inserts', () => {
    expect(fillWording('{notes} on {env}', { notes: '{env} {version}', env: 'prod' })).toBe(
      '{env} {version} on prod',
    );
  });

  it('leaves spacing inside values alone', () => {
    expect(fillWording('{notes}', { notes: 'a  b\n  c' })).toBe('a  b\n  c');
  });
});

describe('announcementWording', () => {
  it('uses the template wording for the events it words, the built-in wording for the others', () => {
    const template = makeTemplate({ announcements: { deployed: ':tada: {version} shipped!' } });
    expect(announcementWording(template, 'deployed')).toBe(':tada: {version} shipped!');
    expect(announcementWording(template, 'started')).toBe(DEFAULT_ANNOUNCEMENT_WORDING.started);
    expect(announcementWording(makeTemplate(), 'cancelled')).toBe(DEFAULT_ANNOUNCEMENT_WORDING.cancelled);
  });

  it('ignores a blank template wording', () => {
    const template = makeTemplate({ announcements: { started: '   ' } });
    expect(announcementWording(template, 'started')).toBe(DEFAULT_ANNOUNCEMENT_WORDING.started);
  });
});

describe('renderAnnouncement', () => {
  it.each(ANNOUNCEMENT_EVENTS)('renders "%s" within Block Kit limits', (event) => {
    const message = render(releaseFor(event), event);
    expect(blockKitViolations(message)).toEqual([]);
    expect(firstSectionText(message)).toContain('v2.3.0');
    expect(firstSectionText(message)).toContain('staging');
  });

  it.each(ANNOUNCEMENT_EVENTS)('stays within the limits for "%s" with the longest texts', (event) => {
    const longest = '<@U1>&'.repeat(2000);
    const release = releaseFor(event, { notes: longest, downtime: longest });
    const stopped =
      release.status === 'active' || release.status === 'completed'
        ? release
        : { ...release, cancelReason: longest };
    const withIssue = { ...stopped, issues: stopped.issues.map((issue) => ({ ...issue, what: longest })) };
    const template = makeTemplate({
      announcements: {
        [event]: '{version} {env} {when} {by} {reason} {issue} {downtime} {notes} {phases}',
      },
    });
    const message = render({ ...withIssue, template }, event);
    expect(blockKitViolations(message)).toEqual([]);
    expect(JSON.stringify(message)).not.toContain('<@U1>');
  });

  it('gives a short plain fallback text', () => {
    expect(render(releaseFor('deployed'), 'deployed').text).toBe('v2.3.0 is live in staging');
    expect(render(releaseFor('cancelled'), 'cancelled').text).toBe('v2.3.0 for staging was cancelled');
    const hostile = render(releaseFor('started', { version: '<!here>', env: '<@U1>' }), 'started').text;
    expect(hostile).toBe('&lt;!here&gt; is being deployed to &lt;@U1&gt;');
    expect(render(releaseFor('planned'), 'planned').text).toBe('v2.3.0 for staging is being prepared');
  });

  it('tells a planned release’s phases in order, with the deployment phase marked, and when it was started', () => {
    const template = makeTemplate();
    const deployable = {
      ...template,
      phases: template.phases.map((phase) =>
        phase.id === 'deploy' ? { ...phase, deployment: true } : phase,
      ),
    };
    const message = render(releaseFor('planned', { template: deployable }), 'planned');
    expect(firstSectionText(message)).toBe(
      '📋 Work on *v2.3.0* for *staging* has started, with no deploy time set yet. ' +
        'Its phases: Prepare → Notes → Deploy (deploy) → Verify.',
    );
    expect(JSON.stringify(message.blocks[1])).toContain(`<!date^${seconds(T0)}^`);
    const hostile = {
      ...deployable,
      phases: deployable.phases.map((phase, index) =>
        index === 0 ? { ...phase, name: HOSTILE_TEXT } : phase,
      ),
    };
    const escaped = firstSectionText(render(releaseFor('planned', { template: hostile }), 'planned'));
    expect(escaped).toContain(`Its phases: ${ESCAPED_HOSTILE} → Notes`);
    for (const markup of HOSTILE_MARKUP) expect(escaped).not.toContain(markup);
  });

  it('says when an unscheduled release began deploying: its first deployment tick, else now', () => {
    const unscheduled = releaseFor('started', { window: undefined });
    expect(JSON.stringify(render(unscheduled, 'started').blocks[1])).toContain(`<!date^${seconds(NOW)}^`);
    const ticked = { ...unscheduled, lockedAt: T0 + 30 * MINUTE };
    expect(JSON.stringify(render(ticked, 'started').blocks[1])).toContain(
      `<!date^${seconds(T0 + 30 * MINUTE)}^`,
    );
  });

  it('shows the deploy window in each reader’s own time zone', () => {
    const release = releaseFor('scheduled');
    const message = render(release, 'scheduled');
    const tag = `<!date^${seconds(release.window!.at)}^`;
    expect(firstSectionText(message)).toContain(tag);
    expect(JSON.stringify(message.blocks[1])).toContain(tag);
  });

  it('says when a scheduled release without a window is due: now', () => {
    const message = render(releaseFor('scheduled', { window: undefined }), 'scheduled');
    expect(firstSectionText(message)).toContain(`<!date^${seconds(NOW)}^`);
  });

  it('shows the moment of the event after the deploy', () => {
    expect(firstSectionText(render(releaseFor('scheduled'), 'scheduled'))).toContain('<!date^');
    const deployed = render(releaseFor('deployed'), 'deployed');
    expect(JSON.stringify(deployed.blocks[1])).toContain(`<!date^${seconds(T0 + 62 * MINUTE)}^`);
    const issue = render(releaseFor('issue_found'), 'issue_found');
    expect(JSON.stringify(issue.blocks[1])).toContain(`<!date^${seconds(T0 + 70 * MINUTE)}^`);
  });

  it('names who did it', () => {
    const template = makeTemplate({
      announcements: Object.fromEntries(ANNOUNCEMENT_EVENTS.map((event) => [event, '{version} by {by}'])),
    });
    const who = (event: AnnouncementEvent) =>
      firstSectionText(render(releaseFor(event, { template }), event)).replace('v2.3.0 by ', '');
    expect(who('planned')).toBe(`<@${STARTER}>`);
    expect(who('scheduled')).toBe(`<@${STARTER}>`);
    expect(who('started')).toBe(`<@${STARTER}>`);
    expect(who('deployed')).toBe(`<@${DEPLOYER}>`);
    expect(who('issue_found')).toBe(`<@${FINDER}>`);
    expect(who('rolled_back')).toBe(`<@${TICKER}>`);
    expect(who('cancelled')).toBe(`<@${STARTER}>`);
    expect(who('completed')).toBe(`<@${TICKER}>`);
  });

  it('tells what was found, with its severity', () => {
    const message = render(releaseFor('issue_found'), 'issue_found');
    expect(firstSectionText(message)).toContain('Checkout latency doubled (major)');
    expect(JSON.stringify(message.blocks[1])).toContain('*Severity*\\nmajor');
  });

  it('tells why a release was rolled back or cancelled', () => {
    expect(firstSectionText(render(releaseFor('rolled_back'), 'rolled_back'))).toMatch(
      /rolled back: Error rate above budget$/,
    );
    expect(firstSectionText(render(releaseFor('cancelled'), 'cancelled'))).toMatch(/: Vendor outage$/);
  });

  it('leaves no dangling colon when no reason was given', () => {
    const release = { ...releaseFor('cancelled'), cancelReason: undefined };
    expect(firstSectionText(render(release, 'cancelled'))).toMatch(/called off$/);
  });

  it('lists environment, version, when, downtime and the release notes', () => {
    const json = JSON.stringify(render(releaseFor('started'), 'started').blocks);
    expect(json).toContain('*Environment*\\nstaging');
    expect(json).toContain('*Version*\\nv2.3.0');
    expect(json).toContain('*When*\\n<!date^');
    expect(json).toContain('*Expected downtime*\\nabout 5 minutes');
    expect(json).toContain('*Release notes*\\nFaster checkout; new invoice layout.');
  });

  it('leaves out downtime and notes that were not given', () => {
    const json = JSON.stringify(
      render(releaseFor('started', { notes: undefined, downtime: undefined }), 'started').blocks,
    );
    expect(json).not.toContain('Expected downtime');
    expect(json).not.toContain('Release notes');
  });

  it('cuts long release notes', () => {
    const message = render(releaseFor('started', { notes: 'n'.repeat(5000) }), 'started');
    const notes = message.blocks.find((block) => JSON.stringify(block).includes('Release notes'));
    const text = notes?.type === 'section' ? (notes.text?.text ?? '') : '';
    expect(text.length).toBeLessThan(1100);
    expect(text.endsWith('…')).toBe(true);
  });

  it('links to the release thread when there is a permalink', () => {
    const withLink = JSON.stringify(render(releaseFor('deployed'), 'deployed', PERMALINK).blocks);
    expect(withLink).toContain(`<${PERMALINK}|View the release thread>`);
    const without = render(releaseFor('deployed'), 'deployed', null);
    expect(JSON.stringify(without.blocks)).not.toContain('View the release thread');
    expect(without.blocks.some((block) => block.type === 'context')).toBe(false);
    expect(blockKitViolations(without)).toEqual([]);
  });

  describe('user text is escaped', () => {
    const cases: [string, Release, AnnouncementEvent][] = [
      ['notes', releaseFor('started', { notes: HOSTILE_TEXT }), 'started'],
      ['downtime', releaseFor('started', { downtime: HOSTILE_TEXT }), 'started'],
      ['a cancel reason', { ...releaseFor('cancelled'), cancelReason: HOSTILE_TEXT }, 'cancelled'],
      ['a rollback reason', { ...releaseFor('rolled_back'), cancelReason: HOSTILE_TEXT }, 'rolled_back'],
      [
        'an issue',
        { ...releaseFor('issue_found'), issues: [makeIssue({ what: HOSTILE_TEXT })] },
        'issue_found',
      ],
    ];
    it.each(cases)('in %s', (_what, release, event) => {
      const template = makeTemplate({
        announcements: { [event]: '{version}: {reason} {issue} {downtime} {notes}' },
      });
      for (const subject of [release, { ...release, template }]) {
        const message = render(subject, event);
        const json = JSON.stringify(message);
        for (const markup of HOSTILE_MARKUP) expect(json).not.toContain(markup);
        expect(json).toContain(ESCAPED_HOSTILE);
      }
    });

    it('but keeps the markup of the team’s own wording', () => {
      const template = makeTemplate({ announcements: { started: '<!channel> {version} is on its way' } });
      const message = render(releaseFor('started', { template, notes: HOSTILE_TEXT }), 'started');
      expect(firstSectionText(message)).toBe('<!channel> v2.3.0 is on its way');
      expect(message.text).not.toContain('<!channel>');
    });
  });
});
