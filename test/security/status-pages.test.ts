import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigError, loadConfig } from '../../src/config/env.js';
import { signStatusLink } from '../../src/domain/status-link.js';
import { html } from '../../src/views/html/html.js';
import { current, tickAll, waitForHeader, waitForPhase, waitForReply } from '../e2e/helpers.js';
import { blockTexts, startTestApp, type TestApp } from '../support/app-harness.js';
import { clickButton, type SubmittedValue, submitView } from '../support/slack-requests.js';
import type { StoredMessage } from '../support/slack-stand-in.js';
import { type SecurityApp, startSecurityApp, TEAM_ID } from './support.js';

// The status pages: every value a person typed (release notes, downtime, red flag notes, override,
// cancel and rollback reasons, issue text) reaches the page escaped, in text and in attributes; no page
// opens without a valid link of the workspace (signature and expiry checked); and no secret (bot token,
// signing secret, link key, audit key, the link itself) is ever in a page.

const TEMPLATE = `id: escape
name: Escape
rollback:
  criteria:
    - Errors are up
  items:
    - id: rb-done
      text: Previous version deployed again
phases:
  - id: prepare
    name: Prepare
    items:
      - id: ready
        text: Ready
  - id: ship
    name: Ship
    deployment: true
    items:
      - id: shipped
        text: Shipped
  - id: wrap
    name: Wrap up
    items:
      - id: wrapped
        text: Wrapped up
`;

const LEAD = 'U0LEAD';
const ALICE = 'U0ALICE';
/** Breaks out of an attribute, opens a script, runs an event handler: all of it must show as text. */
const HOSTILE = `"><script>alert(1)</script><img src=x onerror=alert(2)> 'q' \`t\` R&D`;
const HOSTILE_ESCAPED =
  '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; &#39;q&#39; &#96;t&#96; R&amp;D';
/** Pieces that, found raw in a page, would be markup. */
const RAW_PIECES = ['<script>alert', '<img src=x', 'alert(2)>', "'q'", '`t`', 'R&D'];
const typed = (label: string) => `${label}: ${HOSTILE}`;
const escaped = (label: string) => `${label}: ${HOSTILE_ESCAPED}`;

const linkKey = randomBytes(48).toString('base64');
const auditKey = randomBytes(48).toString('base64');

let checklistsDir: string;
let app: SecurityApp;
/** A link token `/deploy status link` handed out. */
let token: string;
/** The cookie a checked link is kept in. */
let cookie: string;

async function get(
  target: TestApp,
  pathname: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(`${target.baseUrl}${pathname}`, { method, headers, redirect: 'manual' });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

const text = (message: StoredMessage) => blockTexts(message).join('\n');

async function press(message: StoredMessage, actionId: string, user: string) {
  const response = await app.interact(clickButton(current(app, message) as never, { actionId }, { user }));
  expect(response.status).toBe(200);
}

async function fillModal(
  message: StoredMessage,
  actionId: string,
  values: Record<string, Record<string, SubmittedValue>>,
  user: string,
) {
  const opened = app.standIn.views.length;
  await press(message, actionId, user);
  const modal = await app.standIn.waitFor(() => app.standIn.views[opened], 5000, `the modal of ${actionId}`);
  expect((await app.interact(submitView(modal, values, { user }))).status).toBe(200);
}

beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-status-'));
  await writeFile(path.join(checklistsDir, 'escape.yaml'), TEMPLATE);
  app = await startSecurityApp({
    env: {
      CHECKLISTS_DIR: checklistsDir,
      ROLES: `release_manager=${LEAD}`,
      CHECKIN_SCHEDULE: '1s',
      CHECKIN_ESCALATE_AFTER: '1h',
      AUDIT_KEY: auditKey,
      STATUS_LINK_KEY: linkKey,
      STATUS_BASE_URL: 'https://status.example.test/',
    },
  });
  app.secrets.push(linkKey, auditKey);

  // A: notes and downtime from the start form, and a red flag left up.
  await app.command('start', { user_id: LEAD });
  const form = await app.standIn.waitFor(() => app.standIn.views[0], 5000, 'the start form');
  await app.interact(
    submitView(
      form,
      {
        version: { 'version.input': 'v1.0' },
        env: { 'env.select': 'staging' },
        template: { 'template.select': 'escape' },
        notes: { 'notes.input': typed('notes') },
        downtime: { 'downtime.input': typed('downtime') },
      },
      { user: LEAD },
    ),
  );
  const a = await waitForHeader(app, 'v1.0 → staging').catch((err) => {
    console.log(app.logLines.filter((l) => /error/.test(l)).join('\n'));
    throw err;
  });
  await fillModal(
    a,
    'release.redflag.open',
    { condition: { 'condition.select': '0' }, note: { 'note.input': typed('flag') } },
    ALICE,
  );
  await app.standIn.waitFor(() => /Stopped by a red flag/.test(text(current(app, a))), 5000, 'the red flag');

  // B: a gate override, then a cancel whose reason Slack sends HTML-escaped.
  await app.command('start v2.0 development escape', { user_id: LEAD });
  const b = await waitForHeader(app, 'v2.0 → development');
  await fillModal(
    b,
    'gate.override.open',
    { phase: { 'phase.select': '1' }, reason: { 'reason.input': typed('override') } },
    ALICE,
  );
  await app.standIn.waitFor(() => /overrid/i.test(text(current(app, b))), 5000, 'the override');
  const slackEscaped = typed('cancel').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const cancel = await app.command(`cancel v2.0 development ${slackEscaped}`, { user_id: LEAD });
  await waitForReply(app, cancel.responseTag, /Cancelled v2\.0/);

  // C: deployed, an issue at its check-in, then rolled back by command.
  await app.command('start v3.0 production escape', { user_id: LEAD });
  const c = await waitForHeader(app, 'v3.0 → production');
  await tickAll(app, await waitForPhase(app, c, 'Prepare'), ['ready']);
  await tickAll(app, await waitForPhase(app, c, 'Ship'), ['shipped']);
  const checkin = await app.standIn.waitFor(
    () =>
      app.standIn
        .messages(c.channel)
        .find((message) => message.thread_ts === c.ts && /Check-in 1/.test(text(message))),
    5000,
    'check-in 1',
  );
  await fillModal(
    checkin,
    'checkin.issue|r3|0',
    { what: { 'what.input': typed('issue') }, severity: { 'severity.select': 'major' } },
    ALICE,
  );
  await app.command(`rollback v3.0 production ${typed('rollback')}`, { user_id: LEAD });
  const confirm = await app.standIn.waitFor(
    () =>
      app.standIn.views.find(
        (view) => view.view.callback_id === 'release.rollback' && /v3\.0/.test(JSON.stringify(view.view)),
      ),
    5000,
    'the rollback confirmation',
  );
  await app.interact(submitView(confirm, {}, { user: LEAD }));
  await app.standIn.waitFor(() => /Rolling back/.test(text(current(app, c))), 5000, 'rolling back');

  const asked = await app.command('status link', { user_id: ALICE });
  const reply = await waitForReply(app, asked.responseTag, /status\.example\.test/);
  token = decodeURIComponent(/[?&]link=([^"&\s>|]+)/.exec(reply)![1]!);
  const opened = await get(app, `/status?link=${encodeURIComponent(token)}`);
  expect(opened.status).toBe(303);
  cookie = opened.headers.get('set-cookie')!.split(';')[0]!;
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await rm(checklistsDir, { recursive: true, force: true });
});

describe('status pages: user text', () => {
  it('is escaped on /status and on each release page, and never shown raw', async () => {
    const pages = {
      status: await get(app, '/status', { cookie }),
      a: await get(app, '/releases/r1', { cookie }),
      b: await get(app, '/releases/r2', { cookie }),
      c: await get(app, '/releases/r3', { cookie }),
    };
    for (const page of Object.values(pages)) expect(page.status).toBe(200);
    // Where each text must be found, escaped.
    const expected: Record<string, (keyof typeof pages)[]> = {
      notes: ['a'],
      downtime: ['a'],
      flag: ['status', 'a'],
      override: ['b'],
      cancel: ['b'],
      issue: ['c'],
      rollback: ['c'],
    };
    for (const [label, where] of Object.entries(expected)) {
      for (const name of where) expect(pages[name].body, `${label} on ${name}`).toContain(escaped(label));
    }
    for (const [name, page] of Object.entries(pages)) {
      for (const piece of RAW_PIECES)
        expect(page.body.includes(piece), `${piece} raw on ${name}`).toBe(false);
      expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    }
  });

  it('is escaped inside attribute values by the one HTML helper', () => {
    const rendered = html`<a title="${HOSTILE}" href="/x?q=${HOSTILE}">${HOSTILE}</a>`.text;
    // The attribute cannot be closed early: every quote inside it is an entity.
    expect(rendered).toBe(
      `<a title="${HOSTILE_ESCAPED}" href="/x?q=${HOSTILE_ESCAPED}">${HOSTILE_ESCAPED}</a>`,
    );
    expect(rendered.match(/"/g)).toHaveLength(4);
  });
});

describe('status pages: access', () => {
  const privatePaths = ['/status', '/status/live', '/releases/r1', '/releases/r1/log.json', '/stats'];

  it('refuses every page without a link', async () => {
    for (const pathname of privatePaths) {
      const page = await get(app, pathname);
      expect(page.status, pathname).toBe(403);
      expect(page.body).not.toContain('v1.0');
    }
  });

  it('checks the signature, the workspace and the expiry of a link, as a link and as a cookie', async () => {
    const [team, expiry, mac] = token.split('.') as [string, string, string];
    const flipped = `${mac.slice(0, -2)}${mac.at(-2) === 'A' ? 'B' : 'A'}${mac.at(-1)}`;
    const refused: Record<string, string> = {
      'a flipped MAC': `${team}.${expiry}.${flipped}`,
      'a later expiry': `${team}.${Number(expiry) + 3600}.${mac}`,
      'another workspace': `T0OTHER.${expiry}.${mac}`,
      'another key': signStatusLink(randomBytes(48).toString('base64'), TEAM_ID, Date.now() + 3600_000),
      expired: signStatusLink(linkKey, TEAM_ID, Date.now() - 1000),
      garbage: 'not-a-link',
    };
    for (const [name, bad] of Object.entries(refused)) {
      for (const pathname of ['/status', '/releases/r1', '/stats']) {
        const asLink = await get(app, `${pathname}?link=${encodeURIComponent(bad)}`);
        expect(asLink.status, `${name} as a link on ${pathname}`).toBe(403);
        expect(asLink.headers.get('set-cookie')).toBeNull();
        const asCookie = await get(app, pathname, { cookie: `shipcheck_status=${bad}` });
        expect(asCookie.status, `${name} as a cookie on ${pathname}`).toBe(403);
      }
    }
    expect((await get(app, `/status?link=${refused.expired}`)).body).toMatch(/expired/);
    // The handed-out link works, is kept in an HttpOnly cookie, and leaves the address bar.
    const opened = await get(app, `/releases/r1?link=${encodeURIComponent(token)}`);
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toBe('/releases/r1');
    expect(opened.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Lax; Secure/);
    expect((await get(app, '/releases/r1', { cookie })).status).toBe(200);
  });

  it('opens only the workspace the link names', async () => {
    const other = signStatusLink(linkKey, 'T0OTHER', Date.now() + 3600_000);
    const cookieOther = `shipcheck_status=${other}`;
    expect((await get(app, '/releases/r1', { cookie: cookieOther })).status).toBe(404);
    const board = await get(app, '/status', { cookie: cookieOther });
    expect(board.status).toBe(200);
    expect(board.body).not.toContain('v1.0');
  });

  it('answers only GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      expect((await get(app, '/status', { cookie }, method)).status).toBe(405);
      expect((await get(app, '/releases/r1', { cookie }, method)).status).toBe(405);
    }
  });

  it('shows no secret and no link in any page, file or refusal', async () => {
    const bodies = await Promise.all(
      [
        '/status',
        '/stats',
        '/stats?days=7&env=production',
        '/releases/r1',
        '/releases/r2',
        '/releases/r3',
        '/releases/r3/log.md',
        '/releases/r3/log.json',
        '/releases/r99',
        '/status/assets/live.js',
      ].map(async (pathname) => (await get(app, pathname, { cookie })).body),
    );
    bodies.push((await get(app, '/status')).body, (await get(app, '/status?link=x')).body);
    const everything = bodies.join('\n');
    expect(everything).toContain('v3.0');
    for (const secret of [...app.secrets, token, token.split('.')[2]!]) {
      expect(everything.includes(secret), `a secret (${secret.slice(0, 4)}…) in a page`).toBe(false);
    }
    // Nor in a log line: the link is handed to the person, not written down.
    expect(app.logLines.join('\n').includes(token)).toBe(false);
  });
});

describe('status pages: public mode and configuration', () => {
  it('shows /status alone to anyone, read-only, without links to the private pages', async () => {
    const wall = await startTestApp({
      prefix: app.prefix,
      standIn: app.standIn,
      env: {
        CHECKLISTS_DIR: checklistsDir,
        STATUS_LINK_KEY: linkKey,
        STATUS_BASE_URL: 'https://status.example.test',
        STATUS_PUBLIC: 'true',
        STATUS_PUBLIC_TEAM: TEAM_ID,
      },
    });
    try {
      const board = await get(wall, '/status');
      expect(board.status).toBe(200);
      expect(board.body).toContain('v1.0');
      expect(board.body).not.toMatch(/href="\/releases\//);
      expect(board.body).not.toMatch(/href="\/stats/);
      for (const pathname of ['/releases/r1', '/releases/r1/log.md', '/stats']) {
        expect((await get(wall, pathname)).status, pathname).toBe(403);
      }
      // A bad link is refused even here: whoever sent it should learn that it does not work.
      expect((await get(wall, '/status?link=forged')).status).toBe(403);
    } finally {
      // The instance shares the prefix and the stand-in: stop it without clearing either.
      await wall.shipcheck.stop();
    }
  });

  it('turns the pages on only with a long key and a base URL', () => {
    const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret' };
    expect(loadConfig(base).statusPages).toBeUndefined();
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...base, ...env });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ STATUS_LINK_KEY: 'short' }).join('\n')).toMatch(/STATUS_LINK_KEY: must be at least 32/);
    expect(problems({ STATUS_LINK_KEY: linkKey }).join('\n')).toMatch(/STATUS_BASE_URL: required/);
    expect(problems({ STATUS_PUBLIC: 'true' }).join('\n')).toMatch(/STATUS_PUBLIC: needs STATUS_LINK_KEY/);
    const problemText = problems({ STATUS_LINK_KEY: linkKey, STATUS_PUBLIC: 'true' }).join('\n');
    expect(problemText).toMatch(/STATUS_PUBLIC_TEAM: required/);
    // The key's value never appears in a problem.
    expect(problemText).not.toContain(linkKey);
    expect(problems({ STATUS_LINK_KEY: linkKey, STATUS_BASE_URL: 'https://x.example' })).toEqual([]);
  });
});
