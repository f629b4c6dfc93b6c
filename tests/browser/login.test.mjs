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

import { byId, check, log, runInChromium, until as untilMs } from './harness.mjs';
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
const until = (what, fn, timeout = STATE_TIMEOUT_MS) => untilMs(what, fn, timeout);

if (!BASE || !KEY_ID || !SECRET) {
  console.error('login test: set LAMINA_URL, LAMINA_KEY_ID and LAMINA_SECRET');
  process.exit(2);
}

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
  // This host serves no order workflow: neither the nav link nor the callout offers the order demo.
  await page.locator('[data-testid="nav-demo"][data-decided]').waitFor({ state: 'attached' });
  check(!(await byId(page, 'nav-demo').isVisible()), 'the Order demo link shows on a host without an order workflow');
  check(!(await byId(page, 'demo-callout').isVisible()), 'the order demo callout shows on a host without an order workflow');
  log('no order workflow served: the Order demo link and callout are hidden');
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

await runInChromium(
  {
    name: 'login test',
    executablePath: CHROMIUM,
    deadlineMs: DEADLINE_MS,
    failureShot: path.join(SHOTS, 'login-failure.png'),
    currentPage: () => page,
  },
  run,
);
