import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStatusLink } from '../../src/domain/status-link.js';
import { blockTexts, startTestApp, type TestApp } from '../support/app-harness.js';
import { launchChromium, withPage } from '../support/browser.js';
import { submitView } from '../support/slack-requests.js';
import { current, tickAll, waitForHeader, waitForPhase, waitForReply } from './helpers.js';

// The status pages in a real headless Chromium, against the real app and the Slack stand-in: a release
// is started, ticked, deployed and rolled back, and after each step the pages show it. The live board
// updates itself by server-sent events. One browser for the file; a fresh context (no cookie) per page.

const TEMPLATE = `id: pages
name: Pages
rollback:
  criteria:
    - Errors are up
  items:
    - id: rb-done
      text: Previous version deployed again
phases:
  - id: prepare
    name: Prepare
    due: T-1d
    items:
      - id: ready
        text: Ready to ship
  - id: ship
    name: Ship
    due: T-0
    deployment: true
    items:
      - id: shipped
        text: Shipped
  - id: wrap
    name: Wrap up
    due: T+1d
    items:
      - id: wrapped
        text: Wrapped up
`;

const LEAD = 'U0LEAD';
const linkKey = randomBytes(48).toString('base64');

let checklistsDir: string;
let app: TestApp;
let browser: Browser;
let link: string;

/** A console message of level error (a script error, a blocked resource, a CSP violation) fails the page. */
function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

/** The text of the environment's row on /status. */
function row(page: Page, env: string) {
  return page.locator(`#environments tr[data-env="${env}"]`);
}

beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-pages-'));
  await writeFile(path.join(checklistsDir, 'pages.yaml'), TEMPLATE);
  [app, browser] = await Promise.all([
    startTestApp({
      env: {
        CHECKLISTS_DIR: checklistsDir,
        ROLES: `release_manager=${LEAD}`,
        CHECKIN_SCHEDULE: '1h',
        STATUS_LINK_KEY: linkKey,
        STATUS_BASE_URL: 'https://shipcheck.example.test',
        STATUS_LIVE_INTERVAL_MS: '250',
      },
    }),
    launchChromium(),
  ]);
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await rm(checklistsDir, { recursive: true, force: true });
});

describe('status pages in Chromium', () => {
  it('follow a release from its start to its rollback, live', async () => {
    await app.command('start v1.0 production pages in 2d', { user_id: LEAD });
    const header = await waitForHeader(app, 'v1.0 → production');
    const asked = await app.command('status link', { user_id: LEAD });
    const reply = await waitForReply(app, asked.responseTag, /shipcheck\.example\.test/);
    // The link names the public host; the browser reaches this instance directly.
    const handedOut = /https:\/\/shipcheck\.example\.test(\/status\?link=[^"&\s>|]+)/.exec(reply)![1]!;
    link = `${app.baseUrl}${handedOut}`;
    // `/deploy status` carries a button with a fresh link of its own.
    const status = await app.command('status', { user_id: LEAD });
    expect(await waitForReply(app, status.responseTag, /Open status page/)).toMatch(
      /"url":"https:\/\/shipcheck\.example\.test\/status\?link=T0001\.\d+\.[\w-]{43}"/,
    );

    await withPage(browser, 'status-live', async (page) => {
      const errors = watchConsole(page);
      const response = await page.goto(link);
      expect(response?.status()).toBe(200);
      // The link moved into a cookie and left the address bar.
      expect(page.url()).toBe(`${app.baseUrl}/status`);
      await expect.poll(() => row(page, 'production').textContent()).toContain('phase 1/3: Prepare');
      expect(await row(page, 'production').textContent()).toMatch(/0\/3 required items done/);
      expect(await page.locator('#upcoming + table').textContent()).toContain('v1.0');
      expect(await row(page, 'staging').textContent()).toMatch(/nothing deployed on record/);

      // Ticked in Slack: the open page follows without a reload (server-sent events).
      await page.evaluate(() => {
        (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
      });
      await tickAll(app, await waitForPhase(app, header, 'Prepare'), ['ready']);
      await expect
        .poll(() => row(page, 'production').textContent(), { timeout: 5000 })
        .toContain('phase 2/3: Ship');
      expect(
        await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded),
      ).toBe(true);

      // Deployed: the environment runs v1.0, deployed by the one who ticked.
      await tickAll(app, await waitForPhase(app, header, 'Ship'), ['shipped']);
      const deployed = row(page, 'production').locator('td').nth(0);
      await expect.poll(() => deployed.textContent(), { timeout: 5000 }).toMatch(/v1\.0[\s\S]* by /);
      // People are named as Slack names them, with their id at hand.
      expect(await deployed.locator('[title="U0ALICE"]').count()).toBe(1);
      expect(await row(page, 'production').locator('td').nth(2).textContent()).toMatch(/locked by v1\.0/);
      expect(errors).toEqual([]);
    });

    await withPage(browser, 'release-deployed', async (page) => {
      const errors = watchConsole(page);
      await page.goto(link);
      await page.getByRole('link', { name: 'v1.0' }).first().click();
      await page.waitForURL(/\/releases\/r1$/);
      expect(await page.locator('h1').textContent()).toBe('v1.0 → production');
      const prepare = page.locator('#phases tr[data-phase="prepare"]');
      expect(await prepare.textContent()).toMatch(/done/);
      expect(await prepare.textContent()).toMatch(/ticked by /);
      expect(await prepare.locator('[title="U0ALICE"]').count()).toBe(1);
      // Planned: a day before the window; done: today.
      expect(await prepare.locator('td').nth(1).locator('time').count()).toBe(1);
      expect(await prepare.locator('td').nth(3).locator('time').count()).toBe(1);
      expect(await page.locator('#verification').textContent()).toMatch(/verifies/);
      expect(await page.locator('#trail li').count()).toBeGreaterThanOrEqual(4);
      const download = page.waitForEvent('download');
      await page.getByRole('link', { name: 'Deployment log (JSON)' }).click();
      const file = await (await download).path();
      const { readFile } = await import('node:fs/promises');
      const log = JSON.parse(await readFile(file, 'utf8')) as { release: { version: string } };
      expect(log.release.version).toBe('v1.0');
      expect(errors).toEqual([]);
    });

    // Rolled back: the page shows the rollback, and production no longer counts v1.0 as deployed.
    await app.command('rollback v1.0 production Errors are up after the deploy', { user_id: LEAD });
    const confirm = await app.standIn.waitFor(
      () => app.standIn.views.find((view) => view.view.callback_id === 'release.rollback'),
      5000,
      'the rollback confirmation',
    );
    await app.interact(submitView(confirm, {}, { user: LEAD }));
    await app.standIn.waitFor(
      () => blockTexts(current(app, header)).some((text) => /Rolling back/.test(text)),
      5000,
      'rolling back',
    );
    await withPage(browser, 'rolled-back', async (page) => {
      await page.goto(link);
      const production = row(page, 'production');
      expect(await production.locator('td').nth(0).textContent()).toMatch(/nothing deployed on record/);
      expect(await production.locator('td').nth(1).textContent()).toMatch(/rolling back/);
      await page.goto(`${app.baseUrl}/releases/r1`);
      expect(await page.locator('#rollback').textContent()).toMatch(
        /Rollback decided by .*Errors are up after the deploy/,
      );
      expect(await page.locator('#rollback').textContent()).toContain('Previous version deployed again');
    });
  });

  it('draws the delivery charts with one point per week, bin and phase', async () => {
    await withPage(browser, 'stats', async (page) => {
      const errors = watchConsole(page);
      await page.goto(link);
      await page.getByRole('link', { name: 'Delivery figures' }).click();
      await page.waitForURL(/\/stats$/);
      const points = (chart: string, series?: number) =>
        page
          .locator(
            `#${chart} svg [ecmeta_ssr_type="chart"][ecmeta_data_index]${series === undefined ? '' : `[ecmeta_series_index="${series}"]`}`,
          )
          .count();
      // 30 days: 5 weeks; 6 bins of start-to-deployed; two phases done (Prepare, Ship).
      expect(await points('chart-deploys')).toBe(5);
      expect(await points('chart-lead-time')).toBe(6);
      expect(await points('chart-phases')).toBe(2);
      // Rates exist only for weeks with a deployment: this week, on each of the two lines.
      expect(await points('chart-rates', 0)).toBe(1);
      expect(await points('chart-rates', 1)).toBe(1);
      expect(await page.locator('#weeks tbody tr').count()).toBe(5);
      expect(await page.locator('#summary').textContent()).toMatch(/Rollback rate\s*100 % \(1 of 1/);

      // The period form works without script: a GET with the choices in the address.
      await page.selectOption('select[name="days"]', '7');
      await page.getByRole('button', { name: 'Show' }).click();
      await page.waitForURL(/days=7/);
      expect(await points('chart-deploys')).toBe(1);
      expect(errors).toEqual([]);
    });
  });

  it('answers 403 to a forged, an expired or a missing link', async () => {
    const token = new URL(link).searchParams.get('link')!;
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const expired = signStatusLink(linkKey, 'T0001', Date.now() - 60_000);
    await withPage(browser, 'refused', async (page) => {
      for (const [target, words] of [
        [`/status?link=${forged}`, /not valid/],
        [`/stats?link=${expired}`, /expired/],
        ['/releases/r1', /open with a link/],
      ] as const) {
        const response = await page.goto(`${app.baseUrl}${target}`);
        expect(response?.status(), target).toBe(403);
        expect(await page.locator('main').textContent()).toMatch(words);
      }
    });
  });
});
