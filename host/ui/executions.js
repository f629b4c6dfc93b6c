// Executions: durable executions across functions, filtered by function and status.

import { api } from '/ui/api.js';
import { ago, clock, html, ms, put } from '/ui/format.js';
import { outcomes, statusWithOutcome } from '/ui/outcome.js';

export const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'STOPPED'];

export function executionHref(arn) {
  return `#/executions/${encodeURIComponent(arn)}`;
}

export function functionOf(e) {
  return e.FunctionArn.split(':').pop();
}

export function duration(e) {
  const end = e.EndTimestamp ?? Date.now() / 1000;
  return (end - e.StartTimestamp) * 1000;
}

export function mountExecutions(el, query, ctx) {
  const filters = { function: query.get('function') || '', status: query.get('status') || '' };
  el.innerHTML = `
    <h1>Executions</h1>
    <form class="filters" data-testid="execution-filters">
      <label>Function <select name="function" data-testid="filter-function"><option value="">all durable functions</option></select></label>
      <label>Status <select name="status" data-testid="filter-status"><option value="">any status</option>
        ${STATUSES.map((s) => `<option value="${s}">${s}</option>`).join('')}</select></label>
      <p class="muted small" data-testid="execution-count" aria-live="polite"></p>
    </form>
    <div class="table-wrap">
      <table class="cards" data-testid="executions-table">
        <caption class="sr-only">Durable executions, newest first</caption>
        <thead><tr><th scope="col">Execution</th><th scope="col">Function</th><th scope="col">Status</th>
          <th scope="col">Started</th><th scope="col">Duration</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>`;
  const form = el.querySelector('form');
  const fnSelect = form.elements.function;
  const stSelect = form.elements.status;
  stSelect.value = filters.status;
  const tbody = el.querySelector('tbody');
  const countEl = el.querySelector('[data-testid="execution-count"]');
  let durableFunctions = [];

  form.addEventListener('submit', (e) => e.preventDefault());
  form.addEventListener('change', () => {
    filters.function = fnSelect.value;
    filters.status = stSelect.value;
    const q = new URLSearchParams();
    if (filters.function) q.set('function', filters.function);
    if (filters.status) q.set('status', filters.status);
    const qs = q.toString();
    history.replaceState(null, '', `#/executions${qs ? `?${qs}` : ''}`);
    ctx.refreshNow();
  });

  return {
    async refresh() {
      const functions = await api.functions();
      const names = functions.filter((f) => f.kind === 'durable').map((f) => f.name);
      if (names.join() !== durableFunctions.join()) {
        durableFunctions = names;
        fnSelect.innerHTML = '<option value="">all durable functions</option>';
        for (const n of names) fnSelect.add(new Option(n, n));
        fnSelect.value = names.includes(filters.function) ? filters.function : '';
      }
      const wanted = filters.function ? [filters.function] : durableFunctions;
      const lists = await Promise.all(wanted.map((f) => api.executions(f, filters.status)));
      const all = lists.flat().sort((a, b) => b.StartTimestamp - a.StartTimestamp);
      const outcome = await outcomes(all);
      countEl.textContent = durableFunctions.length
        ? `${all.length} execution${all.length === 1 ? '' : 's'}${all.length >= 100 ? ' (the newest 100 per function)' : ''}`
        : 'This host serves no durable functions.';
      put(
        tbody,
        all.length
          ? html`${all.map(
              (e) => html`<tr data-testid="execution-row" data-function="${functionOf(e)}" data-status="${e.Status}">
            <th scope="row" data-label="Execution"><a href="${executionHref(e.DurableExecutionArn)}">${e.DurableExecutionName}</a></th>
            <td data-label="Function">${functionOf(e)}</td>
            <td data-label="Status">${statusWithOutcome(e.Status, outcome(e.DurableExecutionArn))}</td>
            <td data-label="Started">${clock(e.StartTimestamp)} <span class="muted small">${ago(e.StartTimestamp)}</span></td>
            <td data-label="Duration">${ms(duration(e))}${e.EndTimestamp ? '' : html` <span class="muted small">so far</span>`}</td>
          </tr>`,
            )}`
          : html`<tr><td colspan="5" data-testid="no-executions">No executions${filters.status ? ` with status ${filters.status}` : ''}.
              ${durableFunctions.includes('order-workflow') ? html`Start one from the <a href="#/demo">order demo</a>.` : ''}</td></tr>`,
      );
    },
  };
}
