// The dashboard shell: hash routing and the one-second polling loop.
//
// Routes: #/functions, #/executions[?function=F&status=S],
// #/executions/<url-encoded ARN>, #/demo, #/demo/<url-encoded ARN>.
// Each page module exports mount(el, params, ctx) returning { refresh() }.

import { mountFunctions } from '/ui/functions.js';
import { mountExecutions } from '/ui/executions.js';
import { mountExecution } from '/ui/execution.js';
import { mountDemo } from '/ui/demo.js';
import { api, servesOrderWorkflow } from '/ui/api.js';
import { clockSeconds } from '/ui/format.js';

const POLL_MS = 1000;
const view = document.getElementById('view');
const liveText = document.getElementById('live-text');
const live = document.querySelector('.live');

let generation = 0;
let timer = null;
let page = null;

function parseHash() {
  const hash = location.hash.replace(/^#/, '') || '/functions';
  const [path, query = ''] = hash.split('?');
  const parts = path.split('/').filter(Boolean);
  return { parts, query: new URLSearchParams(query) };
}

function pick({ parts, query }) {
  const [section, id] = parts;
  switch (section) {
    case 'executions':
      return id
        ? ['executions', (el, ctx) => mountExecution(el, decodeURIComponent(id), ctx)]
        : ['executions', (el, ctx) => mountExecutions(el, query, ctx)];
    case 'demo':
      return ['demo', (el, ctx) => mountDemo(el, id ? decodeURIComponent(id) : null, ctx)];
    case 'functions':
    default:
      return ['functions', (el, ctx) => mountFunctions(el, ctx)];
  }
}

function setLive(ok, message) {
  live.classList.toggle('down', !ok);
  liveText.textContent = message;
}

let inFlight = null; // the generation whose refresh is running
let again = false; // a refresh was asked for while one was running

async function tick(gen) {
  if (gen !== generation || !page) return;
  if (inFlight === gen) {
    again = true;
    return;
  }
  inFlight = gen;
  again = false;
  clearTimeout(timer);
  try {
    await page.refresh();
    if (gen === generation) setLive(true, `live · updated ${clockSeconds()}`);
  } catch (e) {
    if (gen === generation) setLive(false, `not updated: ${e.message}`);
    console.warn('refresh failed', e);
  }
  if (inFlight === gen) inFlight = null;
  if (gen !== generation) return;
  if (again) {
    again = false;
    tick(gen);
    return;
  }
  timer = setTimeout(() => tick(gen), POLL_MS);
}

function route() {
  generation += 1;
  const gen = generation;
  clearTimeout(timer);
  const target = parseHash();
  const [section, mount] = pick(target);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  // A fresh element per page, so listeners of the last page go with it.
  const root = document.createElement('div');
  root.className = `page page-${section}`;
  view.replaceChildren(root);
  const ctx = {
    // Pages call this after an action to show its effect at once.
    refreshNow: () => tick(gen),
    isCurrent: () => gen === generation,
  };
  page = mount(root, ctx);
  tick(gen);
}

// The Order demo link shows only on hosts that serve an order workflow.
async function showDemoLink() {
  try {
    const functions = await api.functions();
    const link = document.querySelector('[data-nav="demo"]');
    link.hidden = !servesOrderWorkflow(functions);
    link.dataset.decided = 'true'; // for tests: shown or hidden on this host's function list
  } catch (e) {
    console.warn('could not list the functions', e);
  }
}

window.addEventListener('hashchange', () => {
  route();
  showDemoLink();
});
route();
showDemoLink();
