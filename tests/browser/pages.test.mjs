// Every dashboard page at a desktop width (1400 px) and a phone width
// (420 px), in a real browser: a screenshot of each into SCREENSHOT_DIR, and
// checks that no table cell breaks a word across lines, that no page is wider
// than the screen, that an unknown execution gets a not-found page, and that
// a declined order reads as a business outcome beside a neutral execution
// status (on the execution page, in the executions list, in the demo's
// banner and recent orders). scripts/browser-test.sh runs it against `lamina serve` of
// examples/lamina.toml (after demo.test.mjs, on the same host).
//
//   LAMINA_URL=http://127.0.0.1:PORT node pages.test.mjs
//
// Environment: LAMINA_URL (required), SCREENSHOT_DIR (default
// ../../target/browser), CHROMIUM (default /usr/bin/chromium).

import { byId, check, log, runInChromium, until as untilMs } from './harness.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = process.env.LAMINA_URL;
const SHOTS = path.resolve(process.env.SCREENSHOT_DIR || path.join(here, '../../target/browser'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const DEADLINE_MS = 150_000;
const STATE_TIMEOUT_MS = 30_000;
const WIDTHS = [1400, 420];
const UNKNOWN_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:order-workflow:$LATEST/durable-execution/nope/nope';
const until = (what, fn, timeout = STATE_TIMEOUT_MS) => untilMs(what, fn, timeout);

if (!BASE) {
  console.error('pages test: set LAMINA_URL to the running host (http://127.0.0.1:PORT)');
  process.exit(2);
}

const text = async (page, id) => ((await byId(page, id).first().textContent()) || '').replace(/\s+/g, ' ').trim();

/**
 * Runs in the page: every word of every visible table cell whose pieces lie
 * on more than one line. A cell that opts in with `overflow-wrap: anywhere`
 * (the history's details, which hold JSON payloads) is not checked: a browser
 * wraps JSON at its own break opportunities (after `,`, before `[`, after a
 * `-` inside an id), which depend on the random order in the payload.
 */
function brokenWords() {
  const bad = [];
  for (const cell of document.querySelectorAll('td, th')) {
    const box = cell.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue; // the narrow layout's clipped header
    const cs = getComputedStyle(cell);
    const inner = cell.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    if (cs.overflowWrap === 'anywhere') continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /\S+/g;
      for (let m = re.exec(node.data); m; m = re.exec(node.data)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const rects = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
        const lines = [];
        for (const r of rects) if (!lines.some((t) => Math.abs(t - r.top) < 3)) lines.push(r.top);
        if (lines.length < 2) continue;
        const width = rects.reduce((sum, r) => sum + r.width, 0);
        const column = cell.dataset.label || cell.closest('table')?.querySelectorAll('thead th')[cell.cellIndex]?.textContent;
        bad.push(`"${m[0]}" in ${cell.tagName.toLowerCase()} ${column ? `(${column.trim()}) ` : ''}` +
          `over ${lines.length} lines, ${Math.round(width)} px in a ${Math.round(inner)} px cell`);
      }
    }
  }
  return bad;
}

let page; // the page under test, for a screenshot when the test fails

/** Starts an order-workflow execution and answers its payment callback with `approved`; resolves to its ARN. */
async function order(approved) {
  await page.goto(`${BASE}/ui/#/demo`);
  await byId(page, 'demo-workflow').selectOption('order-workflow');
  const before = new URL(page.url()).hash;
  await byId(page, 'start-order').click();
  await until('the new order', async () => {
    const h = new URL(page.url()).hash;
    return h.startsWith('#/demo/arn') && h !== before;
  });
  const arn = decodeURIComponent(new URL(page.url()).hash.slice('#/demo/'.length));
  await until('the payment buttons', () => byId(page, approved ? 'approve' : 'decline').isEnabled());
  await byId(page, approved ? 'approve' : 'decline').click();
  const want = approved ? 'fulfilled' : 'declined';
  await until(`the order to be ${want}`, async () => (await byId(page, 'demo-status').getAttribute('data-state')) === want);
  log(`order ${want}: ${arn}`);
  return arn;
}

/** Opens `hash`, waits for `ready`, checks the layout at this width and saves a screenshot. */
async function visit(name, hash, ready, width) {
  await page.goto(`${BASE}/ui/${hash}`);
  await ready();
  await page.waitForFunction(() => /updated \d\d:\d\d:\d\d$/.test(document.getElementById('live-text').textContent));
  const live = await text(page, 'live');
  check(/^live · updated \d\d:\d\d:\d\d$/.test(live), `${name} at ${width} px: the live line is not 24-hour: "${live}"`);
  const shot = path.join(SHOTS, `page-${name}-${width}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
  const broken = await page.evaluate(brokenWords);
  check(broken.length === 0, `${name} at ${width} px: table cells break words:\n  ${broken.join('\n  ')}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `${name} at ${width} px: the page is ${overflow} px wider than the screen`);
}

/** The metering chart spans (nearly) the width of the panel it is in. */
async function chartFillsPanel(name, width) {
  const [chart, panel] = await page.evaluate(() => {
    const svg = document.querySelector('[data-testid="metering-chart"]');
    const slot = svg.closest('[data-slot="metering"]');
    return [svg.getBoundingClientRect().width, slot.clientWidth];
  });
  check(chart >= 0.95 * panel, `${name} at ${width} px: the chart is ${Math.round(chart)} px in a ${panel} px panel`);
}

async function run(browser) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: 'light' });
  page = await context.newPage();
  page.setDefaultTimeout(STATE_TIMEOUT_MS);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    // The unknown execution answers 404 on purpose.
    if (r.status() >= 400 && !r.url().includes('nope')) problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
  });

  /**
   * `where` shows the declined order as a red "Declined" verdict beside a
   * neutral "Execution: succeeded" label, never as a green succeeded badge
   * (`hash`: the page to open first, when not the current one).
   */
  const declinedReadsAsOutcome = async (where, locator, hash) => {
    if (hash) await page.goto(`${BASE}/ui/${hash}`);
    await until(`the declined outcome in ${where}`, async () => (await locator.locator('[data-outcome="declined"]').count()) === 1);
    const words = ((await locator.first().textContent()) || '').replace(/\s+/g, ' ').trim();
    check(/Declined/.test(words) && /Execution: succeeded/.test(words), `${where} shows the declined order as "${words}"`);
    check((await locator.locator('.badge.st-succeeded').count()) === 0, `${where} shows a green succeeded badge for a declined order`);
    check((await locator.locator('.outcome-bad').count()) === 1, `${where} does not show the decline as a bad outcome`);
  };

  const fulfilled = await order(true);
  const declined = await order(false);
  const execPage = (arn) => `#/executions/${encodeURIComponent(arn)}`;
  const execReady = (status) => async () => {
    await until(`the execution page to show ${status}`, async () =>
      (await byId(page, 'execution-status').locator('[data-status]').getAttribute('data-status').catch(() => null)) === status);
    await byId(page, 'metering-chart').waitFor();
    await byId(page, 'history-table').waitFor();
  };

  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    log(`--- ${width} px`);

    await visit('functions', '#/functions', () => byId(page, 'function-row-order-workflow').waitFor(), width);
    check(await byId(page, 'nav-demo').isVisible(), 'the Order demo link is hidden on a host with the order workflow');

    await visit('executions', '#/executions', () => page.locator('[data-testid="execution-row"]').first().waitFor(), width);

    await visit('execution-fulfilled', execPage(fulfilled), execReady('SUCCEEDED'), width);
    await chartFillsPanel('execution-fulfilled', width);

    await visit('execution-declined', execPage(declined), execReady('SUCCEEDED'), width);
    await declinedReadsAsOutcome('the execution page', byId(page, 'execution-status'));
    await declinedReadsAsOutcome('the executions list',
      page.locator(`[data-testid="execution-row"]:has(a[href="${execPage(declined)}"]) td[data-label="Status"]`), '#/executions');

    await visit('execution-unknown', execPage(UNKNOWN_ARN), () => byId(page, 'execution-not-found').waitFor(), width);
    check((await text(page, 'execution-not-found')).includes('Execution not found'), 'the unknown execution has no "Execution not found" heading');
    check((await text(page, 'missing-arn')) === UNKNOWN_ARN, 'the not-found page does not name the ARN asked for');
    check((await page.locator('[data-testid="metering"], [data-testid="execution-summary"]').count()) === 0,
      'the not-found page still shows the skeleton of an execution page');

    await visit('demo', '#/demo', () => byId(page, 'start-order').waitFor(), width);
    await page.goto(`${BASE}/ui/#/demo/${encodeURIComponent(UNKNOWN_ARN)}`);
    await byId(page, 'execution-not-found').waitFor();

    await visit('demo-fulfilled', `#/demo/${encodeURIComponent(fulfilled)}`, () =>
      until('the fulfilled banner', async () => (await byId(page, 'demo-status').getAttribute('data-state')) === 'fulfilled'), width);
    await chartFillsPanel('demo-fulfilled', width);

    await visit('demo-declined', `#/demo/${encodeURIComponent(declined)}`, () =>
      until('the declined banner', async () => (await byId(page, 'demo-status').getAttribute('data-state')) === 'declined'), width);
    // The business outcome (declined) and the execution's status (it ran to completion) are two things.
    const banner = await text(page, 'demo-status');
    const status = await text(page, 'demo-exec-status');
    check(/Order declined/.test(banner), `declined banner: "${banner}"`);
    check(status === 'Execution: succeeded', `the execution status beside a declined order: "${status}"`);
    check((await byId(page, 'demo-exec-status').locator('.badge').count()) === 0,
      'a declined order shows a status badge (a coloured verdict) beside its banner');
    await declinedReadsAsOutcome('the recent orders',
      page.locator(`[data-testid="recent-order"]:has(a[href="#/demo/${encodeURIComponent(declined)}"])`));
  }

  check(problems.length === 0, `the page reported errors:\n  ${problems.join('\n  ')}`);
  await context.close();
}

await runInChromium(
  {
    name: 'pages test',
    executablePath: CHROMIUM,
    deadlineMs: DEADLINE_MS,
    failureShot: path.join(SHOTS, 'pages-failure.png'),
    currentPage: () => page,
  },
  run,
);
