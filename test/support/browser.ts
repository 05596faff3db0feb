import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

// Debian's headless Chromium, driven by playwright-core. One browser per test file, a page per test.
// Without the background-networking flags Chromium keeps calling Google's services, which on a closed
// network means a stream of failing connections.

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Where failing browser tests leave their screenshots (gitignored). */
export const ARTIFACTS_DIR = path.resolve('test-artifacts');

/**
 * Runs `work` with a fresh page; when it throws, the page is saved as a full-page screenshot under
 * test-artifacts/ (named after `name`) before the error goes on.
 */
export async function withPage<T>(
  browser: Browser,
  name: string,
  work: (page: Page) => Promise<T>,
): Promise<T> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  try {
    return await work(page);
  } catch (err) {
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    const file = path.join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    throw err;
  } finally {
    await context.close();
  }
}
