// The dashboard's login in a real browser: Debian's Chromium driven by
// playwright-core against a running `lamina serve` whose config has
// `[auth] access_keys` (scripts/browser-test.sh starts it and sets the
// environment).
//
//   LAMINA_URL=http://127.0.0.1:PORT LAMINA_KEY_ID=AK LAMINA_SECRET=S node login.test.mjs
//
// Checks: the dashboard sends a browser without a session to the login page;
// a wrong secret is refused on the page; the right key logs in and the
// Functions page shows the host's functions (its API calls carry the session
// cookie and the CSRF header); logging out (POST /ui/logout) ends the session.
// Environment: LAMINA_URL, LAMINA_KEY_ID, LAMINA_SECRET (required),
// SCREENSHOT_DIR (default ../../target/browser), CHROMIUM (default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = process.env.LAMINA_URL;
const KEY_ID = process.env.LAMINA_KEY_ID;
const SECRET = process.env.LAMINA_SECRET;
const SHOTS = path.resolve(process.env.SCREENSHOT_DIR || path.join(here, '../../target/browser'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const DEADLINE_MS = 60_000;
const STATE_TIMEOUT_MS = 15_000;

if (!BASE || !KEY_ID || !SECRET) {
  console.error('login test: set LAMINA_URL, LAMINA_KEY_ID and LAMINA_SECRET');
  process.exit(2);
}

const t0 = Date.now();
const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);

class Failure extends Error {}
function check(ok, message) {
  if (!ok) throw new Failure(message);
}

/** Polls `fn` until it returns a truthy value; fails with `what` after `timeout` ms. */
async function until(what, fn, timeout = STATE_TIMEOUT_MS) {
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

const byId = (page, id) => page.locator(`[data-testid="${id}"]`);

let page;

async function run(browser) {
  // Without a session the API refuses the browser, as it refuses any unsigned client.
  const unsigned = await fetch(`${BASE}/api/functions`);
  check(unsigned.status === 403, `GET /api/functions without a session: ${unsigned.status}, want 403`);

  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

  await page.goto(`${BASE}/ui/`);
  await until('the login page', async () => new URL(page.url()).pathname === '/ui/login.html');
  log('a browser without a session is sent to /ui/login.html');
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, 'login.png'), fullPage: true });

  await byId(page, 'login-key').fill(KEY_ID);
  await byId(page, 'login-secret').fill(`${SECRET}-wrong`);
  await byId(page, 'login-submit').click();
  await until('the refusal of a wrong secret', async () => /Login failed/.test(await byId(page, 'login-error').textContent()));
  check(new URL(page.url()).pathname === '/ui/login.html', `a wrong secret left the login page: ${page.url()}`);
  log(`wrong secret: "${(await byId(page, 'login-error').textContent()).trim()}"`);

  await byId(page, 'login-secret').fill(SECRET);
  await byId(page, 'login-submit').click();
  await until('the dashboard after login', async () => new URL(page.url()).pathname === '/ui/');
  await until('the echo function on the Functions page', async () => (await byId(page, 'function-row-echo').count()) === 1);
  log('logged in: the Functions page lists echo');
  await page.screenshot({ path: path.join(SHOTS, 'functions-logged-in.png'), fullPage: true });

  // The session cookie is HttpOnly: page scripts cannot read it.
  const visible = await page.evaluate(() => document.cookie);
  check(!/lamina/i.test(visible), `the session cookie is visible to scripts: ${visible}`);
  const cookies = await context.cookies();
  check(cookies.some((c) => c.httpOnly && c.sameSite === 'Strict'), `no HttpOnly SameSite=Strict cookie: ${JSON.stringify(cookies)}`);

  // Logging out ends the session: the next API call sends the browser back to the login page.
  const out = await page.evaluate(async () =>
    (await fetch('/ui/logout', { method: 'POST', headers: { 'X-Lamina-CSRF': '1' }, credentials: 'same-origin' })).status);
  check(out >= 200 && out < 300, `POST /ui/logout: ${out}`);
  await page.goto(`${BASE}/ui/#/functions`);
  await until('the login page after logout', async () => new URL(page.url()).pathname === '/ui/login.html');
  log('after logout the dashboard asks to log in again');

  check(problems.length === 0, `the page reported errors:\n  ${problems.join('\n  ')}`);
  await context.close();
}

const watchdog = setTimeout(() => {
  console.error(`login test: FAILED, not done after ${DEADLINE_MS / 1000} s`);
  process.exit(1);
}, DEADLINE_MS);

let browser;
let code = 0;
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
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
  await run(browser);
  log('login test: PASSED');
} catch (e) {
  console.error(`login test: FAILED: ${e instanceof Failure ? e.message : e.stack || e}`);
  code = 1;
  if (page) {
    const shot = path.join(SHOTS, 'login-failure.png');
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: shot, fullPage: true }).then(
      () => console.error(`screenshot of the failing page: ${shot} (${page.url()})`),
      () => {},
    );
  }
} finally {
  clearTimeout(watchdog);
  if (browser) await browser.close().catch(() => {});
}
process.exit(code);
