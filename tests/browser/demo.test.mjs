// The order demo in a real browser: Debian's Chromium driven by
// playwright-core against a running `lamina serve` (scripts/browser-test.sh
// starts it and sets LAMINA_URL).
//
//   LAMINA_URL=http://127.0.0.1:PORT node demo.test.mjs
//
// Environment: LAMINA_URL (required), LAMINA_DASHBOARD (the banner's
// Dashboard URL, default LAMINA_URL/ui), SCREENSHOT_DIR (default
// ../../target/browser), CHROMIUM (default /usr/bin/chromium),
// WAIT_SECONDS (how long the first order waits before approval, default 5).

import { byId, check, log, runInChromium, until as untilMs } from './harness.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = process.env.LAMINA_URL;
const SHOTS = path.resolve(process.env.SCREENSHOT_DIR || path.join(here, '../../target/browser'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT_SECONDS = Number(process.env.WAIT_SECONDS || 5);
const DEADLINE_MS = 150_000;
const STATE_TIMEOUT_MS = 30_000;
const until = (what, fn, timeout = STATE_TIMEOUT_MS) => untilMs(what, fn, timeout);

if (!BASE) {
  console.error('browser test: set LAMINA_URL to the running host (http://127.0.0.1:PORT)');
  process.exit(2);
}

const text = async (page, id) => ((await byId(page, id).first().textContent()) || '').replace(/\s+/g, ' ').trim();

async function demoState(page) {
  return byId(page, 'demo-status').getAttribute('data-state');
}

async function waitDemoState(page, state) {
  await until(`the demo to show "${state}"`, async () => (await demoState(page)) === state);
  log(`demo status: ${await text(page, 'demo-status')}`);
}

async function stageState(page, id) {
  return byId(page, `stage-${id}`).getAttribute('data-state');
}

async function checkStatic() {
  for (const [p, type] of [
    ['/ui', 'text/html'],
    ['/ui/', 'text/html'],
    ['/ui/app.js', 'text/javascript'],
    ['/ui/style.css', 'text/css'],
  ]) {
    const r = await fetch(BASE + p);
    check(r.status === 200, `GET ${p}: ${r.status}`);
    check((r.headers.get('content-type') || '').startsWith(type), `GET ${p}: content-type ${r.headers.get('content-type')}`);
    check(r.headers.get('cache-control') === 'no-cache', `GET ${p}: cache-control ${r.headers.get('cache-control')}`);
  }
  const missing = await fetch(`${BASE}/ui/nope.js`);
  check(missing.status === 404, `GET /ui/nope.js: ${missing.status}, want 404`);
  log('static assets: types, no-cache and 404 as expected');
}

/** Starts an order from the demo page and waits until it hibernates at await-payment. */
async function startOrder(page, previousHash) {
  await byId(page, 'nav-demo').click();
  await byId(page, 'start-order').click();
  await until('the live view of the new order', async () => {
    const h = new URL(page.url()).hash;
    return h.startsWith('#/demo/arn') && h !== previousHash;
  });
  const hash = new URL(page.url()).hash;
  log(`started ${decodeURIComponent(hash.slice('#/demo/'.length))}`);
  await waitDemoState(page, 'waiting');
  const status = await text(page, 'demo-status');
  check(/await-payment/.test(status) && /no instance/.test(status), `waiting banner: ${status}`);
  check((await stageState(page, 'validate')) === 'done', 'validate-order stage is not done');
  check(/checkpointed/.test(await text(page, 'stage-validate')), 'validate-order stage does not say it was checkpointed');
  check((await stageState(page, 'await')) === 'waiting', 'await-payment stage is not waiting');
  check(/Hibernating/.test(await text(page, 'stage-await')), 'await-payment stage does not say hibernating');
  // The instance is dropped just after its invocation is journaled as completed.
  await until('0 live instances while waiting', async () => (await text(page, 'instances-live')) === '0', 5000);
  check((await text(page, 'invocation-count')) === '1', `invocations while waiting: ${await text(page, 'invocation-count')}`);
  check((await text(page, 'validate-runs')) === '1', `validate-order runs: ${await text(page, 'validate-runs')}`);
  await until('the Approve button to be enabled', () => byId(page, 'approve').isEnabled());
  check(await byId(page, 'decline').isEnabled(), 'the Decline button is disabled while waiting');
  log('waiting: validate-order checkpointed, hibernating at await-payment with 0 live instances');
  return hash;
}

const meteringMs = async (page, id) => Number(await byId(page, id).first().getAttribute('data-ms'));

let page; // the page under test, for a screenshot when the test fails

async function run(browser) {
  await checkStatic();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.setDefaultTimeout(STATE_TIMEOUT_MS);

  // Functions page.
  await page.goto(process.env.LAMINA_DASHBOARD || `${BASE}/ui`);
  await byId(page, 'function-row-order-workflow').waitFor();
  check(/durable/.test(await text(page, 'function-row-order-workflow')), 'order-workflow is not listed as durable');
  log('Functions page lists order-workflow');

  // Order 1: wait, approve, replay, fulfilled.
  const first = await startOrder(page, '');
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, 'demo-waiting.png'), fullPage: true });
  const wall0 = await meteringMs(page, 'metering-wall');
  const active0 = await meteringMs(page, 'metering-active');
  await page.waitForTimeout(WAIT_SECONDS * 1000);
  check((await demoState(page)) === 'waiting', `after ${WAIT_SECONDS} s the order is ${await demoState(page)}, not waiting`);
  const wall1 = await meteringMs(page, 'metering-wall');
  const active1 = await meteringMs(page, 'metering-active');
  log(`while waiting ${WAIT_SECONDS} s: wall ${wall0} → ${wall1} ms, active ${active0} → ${active1} ms`);
  check(wall1 - wall0 >= (WAIT_SECONDS - 1.5) * 1000, 'wall time did not keep climbing during the wait');
  check(active1 === active0, 'active compute time grew during the wait');
  check((await text(page, 'instances-live')) === '0', 'an instance is live during the wait');
  await byId(page, 'approve').click();
  log('clicked Approve payment');
  await waitDemoState(page, 'fulfilled');
  const tracking = await text(page, 'tracking-number');
  check(/TRK-[A-Z0-9]+/.test(tracking), `tracking number: ${tracking}`);
  check((await stageState(page, 'payment')) === 'done', 'payment stage is not done');
  check((await stageState(page, 'replay')) === 'done', 'replay stage is not done');
  check(/not re-run/.test(await text(page, 'stage-replay')), 'replay stage does not say validate-order was not re-run');
  check((await stageState(page, 'fulfill')) === 'done', 'fulfill-order stage is not done');
  check((await text(page, 'invocation-count')) === '2', `invocations after replay: ${await text(page, 'invocation-count')}`);
  check((await text(page, 'validate-runs')) === '1', `validate-order ran again: ${await text(page, 'validate-runs')}`);
  check((await text(page, 'fulfill-runs')) === '1', `fulfill-order runs: ${await text(page, 'fulfill-runs')}`);
  log(`fulfilled: ${tracking.match(/TRK-[A-Z0-9]+/)[0]}; 2 invocations, validate-order started once`);
  await page.screenshot({ path: path.join(SHOTS, 'demo-fulfilled.png'), fullPage: true });

  // Its execution page.
  await byId(page, 'open-execution').click();
  await until('the execution page', async () => new URL(page.url()).hash.startsWith('#/executions/arn'));
  await until('SUCCEEDED on the execution page', async () =>
    (await byId(page, 'execution-status').locator('[data-status]').getAttribute('data-status')) === 'SUCCEEDED');
  await byId(page, 'metering-chart').waitFor();
  const wall = await meteringMs(page, 'metering-wall');
  const active = await meteringMs(page, 'metering-active');
  log(`metering panel: wall ${wall} ms, active ${active} ms (${((100 * active) / wall).toFixed(2)}%), ` +
    `${await text(page, 'metering-operations')} operations, ${await text(page, 'metering-bytes')} journaled, cost ${await text(page, 'metering-cost')}`);
  check(wall >= WAIT_SECONDS * 1000, `wall time ${wall} ms is shorter than the ${WAIT_SECONDS} s wait`);
  check(active < 0.1 * wall, `active compute ${active} ms is not below 10% of wall time ${wall} ms`);
  for (const name of ['validate-order', 'await-payment', 'fulfill-order']) {
    const op = page.locator(`[data-testid="op"][data-op-name="${name}"]`);
    check((await op.count()) === 1, `operation ${name} is not in the tree once`);
    check((await op.getAttribute('data-status')) === 'SUCCEEDED', `operation ${name} is not SUCCEEDED`);
  }
  check((await page.locator('[data-op-name="await-payment"] [data-op-type="CALLBACK"]').count()) === 1,
    'the callback is not nested under await-payment');
  const invocations = await page.locator('[data-testid="history-event"][data-event-type="InvocationCompleted"]').count();
  check(invocations === 2, `history shows ${invocations} InvocationCompleted events, want 2`);
  check(/TRK-/.test(await text(page, 'execution-result')), 'the result panel has no tracking number');
  const shot = path.join(SHOTS, 'execution.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
  // The same page on a phone-sized screen: one column, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const narrow = path.join(SHOTS, 'execution-narrow.png');
  await page.screenshot({ path: narrow, fullPage: true });
  console.log(`screenshot: ${narrow}`);
  check(overflow <= 1, `the execution page is ${overflow}px wider than a 390px screen`);
  await page.setViewportSize({ width: 1280, height: 900 });

  // Order 2: declined.
  await startOrder(page, first);
  await byId(page, 'decline').click();
  log('clicked Decline payment');
  await waitDemoState(page, 'declined');
  check((await stageState(page, 'payment')) === 'failed', 'payment stage does not show the decline');
  check(/Declined/.test(await text(page, 'stage-payment')), 'payment stage does not say declined');
  check((await stageState(page, 'fulfill')) === 'skipped', 'fulfill-order was not skipped');
  check(/"declined"/.test(await text(page, 'demo-result')), 'the result is not declined');
  check((await text(page, 'fulfill-runs')) === '0', 'fulfill-order ran for a declined order');
  log('declined: fulfill-order skipped');

  // The execution page's own controls: complete a pending callback, stop an execution.
  let previous = await startOrder(page, first);
  await byId(page, 'open-execution').click();
  const form = page.locator('form.callback');
  await form.waitFor();
  await form.locator('textarea').fill('{"approved": true}');
  await form.getByRole('button', { name: /Succeed/ }).click();
  await until('the callback form to finish the execution', async () =>
    (await byId(page, 'execution-status').locator('[data-status]').getAttribute('data-status')) === 'SUCCEEDED');
  check(/fulfilled/.test(await text(page, 'execution-result')), 'the callback form did not approve the order');
  previous = await startOrder(page, previous);
  await byId(page, 'open-execution').click();
  await byId(page, 'stop-execution').click();
  await byId(page, 'stop-execution').click(); // confirm
  await until('the execution to stop', async () =>
    (await byId(page, 'execution-status').locator('[data-status]').getAttribute('data-status')) === 'STOPPED');
  log('execution page: callback form and Stop work');

  // Executions page: the orders, and the filters.
  await byId(page, 'nav-executions').click();
  const rows = page.locator('[data-testid="execution-row"][data-function="order-workflow"]');
  await until('two order-workflow executions on the Executions page', async () => (await rows.count()) >= 2);
  await byId(page, 'filter-function').selectOption('order-workflow');
  await byId(page, 'filter-status').selectOption('SUCCEEDED');
  await until('the status filter', async () => {
    const statuses = await page.locator('[data-testid="execution-row"]').evaluateAll((r) => r.map((e) => e.dataset.status));
    return statuses.length >= 2 && statuses.every((s) => s === 'SUCCEEDED');
  });
  await byId(page, 'filter-status').selectOption('RUNNING');
  await until('no running executions', async () => (await byId(page, 'no-executions').count()) === 1);
  await byId(page, 'filter-status').selectOption('STOPPED');
  await until('one stopped execution', async () => (await page.locator('[data-testid="execution-row"]').count()) === 1);
  log('Executions page lists order-workflow executions; the filters work');
  await byId(page, 'filter-status').selectOption('');
  await until('both orders listed again', async () => (await rows.count()) >= 2);
  await page.screenshot({ path: path.join(SHOTS, 'executions.png'), fullPage: true });

  // Functions page again: the invocations are counted.
  await byId(page, 'nav-functions').click();
  await until('order-workflow invocations on the Functions page', async () =>
    Number((await text(page, 'invocations-order-workflow')).replace(/,/g, '')) >= 4);
  log(`Functions page: order-workflow invocations ${await text(page, 'invocations-order-workflow')}`);
  await page.screenshot({ path: path.join(SHOTS, 'functions.png'), fullPage: true });

  // The same demo with the Python order workflow (lamina_sdk.durable, built by lamina build).
  await byId(page, 'nav-demo').click();
  await byId(page, 'demo-workflow').selectOption('order-workflow-py');
  await startOrder(page, new URL(page.url()).hash);
  await byId(page, 'approve').click();
  await waitDemoState(page, 'fulfilled');
  const pyTracking = await text(page, 'tracking-number');
  check(/TRK-[A-Za-z0-9-]+/.test(pyTracking), `Python tracking number: ${pyTracking}`);
  check((await text(page, 'validate-runs')) === '1', `Python validate-order ran again: ${await text(page, 'validate-runs')}`);
  check((await text(page, 'invocation-count')) === '2', `Python invocations: ${await text(page, 'invocation-count')}`);
  log(`Python order fulfilled: ${pyTracking}; 2 invocations, validate-order started once`);
  await page.screenshot({ path: path.join(SHOTS, 'demo-python-fulfilled.png'), fullPage: true });

  check(problems.length === 0, `the page reported errors:\n  ${problems.join('\n  ')}`);
  await context.close();
}

await runInChromium(
  {
    name: 'browser test',
    executablePath: CHROMIUM,
    deadlineMs: DEADLINE_MS,
    failureShot: path.join(SHOTS, 'failure.png'),
    currentPage: () => page,
  },
  run,
);
