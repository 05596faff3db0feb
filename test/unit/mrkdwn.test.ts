import { describe, expect, it } from 'vitest';
import {
  escapeMrkdwn,
  formatSlackDate,
  linkTo,
  mentionChannel,
  mentionUser,
  truncate,
} from '../../src/views/mrkdwn.js';
import { HOSTILE_MARKUP, HOSTILE_TEXT } from './factories.js';

describe('escapeMrkdwn', () => {
  it('escapes &, < and > so that no ping, mention or link survives', () => {
    const escaped = escapeMrkdwn(HOSTILE_TEXT);

    expect(escaped).toBe('&lt;!channel&gt; &lt;@U1&gt; &lt;https://evil|x&gt; &amp; more');
    for (const markup of HOSTILE_MARKUP) expect(escaped).not.toContain(markup);
    expect(escaped).not.toMatch(/[<>]/);
  });

  it('escapes & first, so that text which looks escaped stays as typed', () => {
    expect(escapeMrkdwn('&lt;!here&gt;')).toBe('&amp;lt;!here&amp;gt;');
  });

  it('leaves other text, formatting characters included, alone', () => {
    expect(escapeMrkdwn('*bold* _it_ `code` ~x~ 🚀')).toBe('*bold* _it_ `code` ~x~ 🚀');
    expect(escapeMrkdwn('')).toBe('');
  });
});

describe('mentionUser and mentionChannel', () => {
  it.each(['U0123ABC', 'W0123ABC'])('mentions the user id %s', (userId) => {
    expect(mentionUser(userId)).toBe(`<@${userId}>`);
  });

  it.each([
    ['a lowercase id', 'u0123abc', 'u0123abc'],
    ['a channel ping', '<!channel>', '&lt;!channel&gt;'],
    ['a mention with a label', 'U1|bob', 'U1|bob'],
    ['an id with markup after it', 'U1><!here', 'U1&gt;&lt;!here'],
    ['an empty string', '', ''],
  ])('escapes %s instead of mentioning it', (_name, userId, expected) => {
    expect(mentionUser(userId)).toBe(expected);
  });

  it('links a channel', () => {
    expect(mentionChannel('C0DEPLOYS')).toBe('<#C0DEPLOYS>');
  });
});

describe('formatSlackDate', () => {
  it('formats a time for each reader, with a UTC fallback to the minute', () => {
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

    expect(formatSlackDate(at)).toBe(
      `<!date^${Math.floor(at / 1000)}^{date_short_pretty} {time}|2026-01-02 03:04 UTC>`,
    );
  });

  it('uses the format it is given', () => {
    expect(formatSlackDate(Date.UTC(2025, 11, 31, 23, 59, 59), '{date_num} {time_secs}')).toBe(
      '<!date^1767225599^{date_num} {time_secs}|2025-12-31 23:59 UTC>',
    );
  });

  it('rounds milliseconds down to the second', () => {
    expect(formatSlackDate(1_999)).toBe('<!date^1^{date_short_pretty} {time}|1970-01-01 00:00 UTC>');
  });
});

describe('linkTo', () => {
  it('links a URL with an escaped label', () => {
    expect(linkTo('https://example.slack.com/archives/C1/p1', 'v2.3 → prod')).toBe(
      '<https://example.slack.com/archives/C1/p1|v2.3 → prod>',
    );
  });

  it('keeps the URL from closing the link early and the label from adding a second one', () => {
    const link = linkTo('https://x.test/a|b<c>', 'label <!channel> | more');

    expect(link).toBe('<https://x.test/a%7Cb%3Cc%3E|label &lt;!channel&gt; ¦ more>');
    expect(link.match(/[<>|]/g)).toEqual(['<', '|', '>']);
  });
});

describe('truncate', () => {
  it('keeps text that fits', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('', 3)).toBe('');
  });

  it('cuts text that does not fit to exactly the limit, marking the cut', () => {
    const cut = truncate('abcdef', 4);

    expect(cut).toBe('abc…');
    expect(cut).toHaveLength(4);
  });

  it('cuts long text to the Block Kit section limit', () => {
    expect(truncate('x'.repeat(5000), 3000)).toHaveLength(3000);
  });
});
