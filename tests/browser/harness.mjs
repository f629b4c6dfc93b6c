// What the browser tests share: logging with elapsed time, checks that fail
// with a message, polling until a condition holds, test-id locators, and
// launching Debian's Chromium with the flags this closed network needs.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const t0 = Date.now();

/** Logs `msg` with the seconds since the test started. */
export const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);

/** A failed check (reported by its message alone, without a stack). */
export class Failure extends Error {}

/** Fails the test with `message` unless `ok`. */
export function check(ok, message) {
  if (!ok) throw new Failure(message);
}

/** Polls `fn` until it returns a truthy value; fails with `what` after `timeout` ms. */
export async function until(what, fn, timeout) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > end) throw new Failure(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The elements with `data-testid="id"`. */
export const byId = (page, id) => page.locator(`[data-testid="${id}"]`);

/**
 * Runs `body(browser)` in headless Chromium (`executablePath`) within
 * `deadlineMs`, exits the process with 0 when it passes and 1 when it fails
 * (saving a screenshot of `currentPage()` to `failureShot`). `name` prefixes
 * the verdict lines.
 */
export async function runInChromium({ name, executablePath, deadlineMs, failureShot, currentPage }, body) {
  const watchdog = setTimeout(() => {
    console.error(`${name}: FAILED, not done after ${deadlineMs / 1000} s`);
    process.exit(1);
  }, deadlineMs);
  let browser;
  let code = 0;
  try {
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-default-apps',
        '--disable-sync',
        '--no-first-run',
        '--disable-dev-shm-usage',
      ],
    });
    log(`Chromium ${browser.version()} (${executablePath})`);
    await body(browser);
    log(`${name}: PASSED`);
  } catch (e) {
    console.error(`${name}: FAILED: ${e instanceof Failure ? e.message : e.stack || e}`);
    code = 1;
    const page = currentPage();
    if (page) {
      fs.mkdirSync(path.dirname(failureShot), { recursive: true });
      await page.screenshot({ path: failureShot, fullPage: true }).then(
        () => console.error(`screenshot of the failing page: ${failureShot} (${page.url()})`),
        () => {},
      );
    }
  } finally {
    clearTimeout(watchdog);
    if (browser) await browser.close().catch(() => {});
  }
  process.exit(code);
}
