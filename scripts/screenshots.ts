// Takes the screenshots of the status pages in docs/images/: the real app (against real Redis and the
// Slack stand-in) with a few releases driven through Slack as people would, then each page in
// headless Chromium. Run it with `npx tsx scripts/screenshots.ts` (Redis on REDIS_URL, Chromium at
// /usr/bin/chromium).

import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { current, tickAll, waitForHeader, waitForPhase, waitForReply } from '../test/e2e/helpers.js';
import { blockTexts, startTestApp } from '../test/support/app-harness.js';
import { launchChromium } from '../test/support/browser.js';
import { clickButton, submitView } from '../test/support/slack-requests.js';

const TEMPLATE = `id: web
name: Web release
rollback:
  criteria:
    - Errors are up
  items:
    - id: rb-reverted
      text: Previous version deployed again
phases:
  - id: prepare
    name: Prepare
    due: T-1d
    items:
      - id: tests-pass
        text: All tests pass on staging
      - id: notes-written
        text: Release notes written
  - id: deploy
    name: Deploy
    due: T-0
    deployment: true
    items:
      - id: backup-taken
        text: Database backed up
      - id: code-deployed
        text: Release tag deployed
  - id: verify
    name: Verify
    due: T+1h
    items:
      - id: smoke-test
        text: Smoke tests pass
`;

const OUT_DIR = path.resolve('docs/images');

/** A dated production freeze from `inDays` days from now (at midnight UTC), `days` long: always ahead. */
function freezeFromNow(inDays: number, days: number): string {
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  return `production: ${day(inDays)} 00:00 - ${day(inDays + days)} 00:00 UTC`;
}
const LEAD = 'U0LEAD';

const checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-shots-'));
await writeFile(path.join(checklistsDir, 'web.yaml'), TEMPLATE);
const app = await startTestApp({
  env: {
    CHECKLISTS_DIR: checklistsDir,
    ROLES: `release_manager=${LEAD}`,
    CHECKIN_SCHEDULE: '24h,48h',
    FREEZE_WINDOWS: freezeFromNow(3, 2),
    AUDIT_KEY: randomBytes(48).toString('base64'),
    STATUS_LINK_KEY: randomBytes(48).toString('base64'),
    STATUS_BASE_URL: 'https://shipcheck.example.com',
  },
});
const browser = await launchChromium();
try {
  const deploy = async (version: string, env: string, who: string) => {
    await app.command(`start ${version} ${env} web in 2h`, { user_id: LEAD });
    const header = await waitForHeader(app, `${version} → ${env}`);
    await tickAll(app, await waitForPhase(app, header, 'Prepare'), ['tests-pass', 'notes-written'], who);
    await tickAll(app, await waitForPhase(app, header, 'Deploy'), ['backup-taken', 'code-deployed'], who);
    return header;
  };
  // Deployed and verified on staging; deployed on production, then rolled back; a newer one deployed.
  const staging = await deploy('v2.4.0', 'staging', 'U0ALICE');
  await tickAll(app, await waitForPhase(app, staging, 'Verify'), ['smoke-test'], 'U0ALICE');
  const rolledBack = await deploy('v2.3.0', 'production', 'U0BOB');
  await app.command('rollback v2.3.0 production Checkout errors doubled after the deploy', { user_id: LEAD });
  const confirm = await app.standIn.waitFor(
    () => app.standIn.views.find((view) => view.view.callback_id === 'release.rollback'),
    5000,
    'the rollback confirmation',
  );
  await app.interact(submitView(confirm, {}, { user: LEAD }));
  await app.standIn.waitFor(
    () => blockTexts(current(app, rolledBack)).some((text) => /Rolling back/.test(text)),
    5000,
    'rolling back',
  );
  const rollbackList = await app.standIn.waitFor(
    () =>
      app.standIn
        .messages(rolledBack.channel)
        .find((message) => message.thread_ts === rolledBack.ts && message.text.endsWith('rollback checklist')),
    5000,
    'the rollback checklist',
  );
  await tickAll(app, rollbackList, ['rb-reverted'], 'U0BOB');
  await deploy('v2.3.1', 'production', 'U0ALICE');
  // In flight: one planned for next week on production, one stopped by a red flag on development.
  await app.command('start v2.5.0 production web in 7d', { user_id: LEAD });
  await waitForHeader(app, 'v2.5.0 → production');
  await app.command('start v2.6.0-rc1 development web', { user_id: LEAD });
  const flagged = await waitForHeader(app, 'v2.6.0-rc1 → development');
  const opened = app.standIn.views.length;
  await app.interact(
    clickButton(current(app, flagged) as never, { actionId: 'release.redflag.open' }, { user: 'U0CAROL' }),
  );
  const modal = await app.standIn.waitFor(() => app.standIn.views[opened], 5000, 'the red flag form');
  await app.interact(
    submitView(
      modal,
      { condition: { 'condition.select': '0' }, note: { 'note.input': 'Migration failed on the copy of prod' } },
      { user: 'U0CAROL' },
    ),
  );

  const asked = await app.command('status link', { user_id: LEAD });
  const reply = await waitForReply(app, asked.responseTag, /shipcheck\.example\.com/);
  const link = `${app.baseUrl}${/https:\/\/shipcheck\.example\.com(\/status\?link=[^"&\s>|]+)/.exec(reply)![1]!}`;
  await mkdir(OUT_DIR, { recursive: true });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await page.goto(link);
  await page.screenshot({ path: path.join(OUT_DIR, 'status-page.png'), fullPage: true });
  await page.goto(`${app.baseUrl}/releases/r2`);
  await page.screenshot({ path: path.join(OUT_DIR, 'release-page.png'), fullPage: true });
  await page.goto(`${app.baseUrl}/stats`);
  await page.screenshot({ path: path.join(OUT_DIR, 'stats-page.png'), fullPage: true });
  await context.close();
  process.stdout.write(`screenshots written to ${OUT_DIR}\n`);
} finally {
  await browser.close();
  await app.stop();
  await rm(checklistsDir, { recursive: true, force: true });
}
