// Functions: every function of the host with its counters, code, versions and aliases.

import { api, servesOrderWorkflow } from '/ui/api.js';
import { count, html, ms, put } from '/ui/format.js';

function latency(v) {
  if (v === null || v === undefined) return '—';
  if (v === '+Inf') return '> 10 s';
  return `≤ ${ms(v)}`;
}

function environments(f) {
  if (!f.environments) return html`<span class="muted">per request</span>`;
  const ready = f.environments.filter((e) => e.ready).length;
  return html`${ready} live${ready !== f.environments.length ? ` (${f.environments.length - ready} starting)` : ''}
    <span class="muted">· ${count(f.in_flight)} in flight</span>`;
}

function errors(f) {
  const reasons = Object.entries(f.errors_by_reason || {});
  if (!f.errors) return html`0`;
  return html`<strong>${count(f.errors)}</strong> <span class="muted">(${reasons.map(([r, n]) => `${r} ${n}`).join(', ')})</span>`;
}

function deployment(f) {
  const code = f.code_sha256 ? `code ${f.code_sha256.slice(0, 12)}` : '';
  const versions = (f.versions || []).length ? `versions ${f.versions.join(', ')}` : '';
  const aliases = (f.aliases || []).map((a) => {
    const extra = Object.entries(a.weights || {}).map(([v, w]) => ` + ${v} at ${Math.round(w * 100)}%`).join('');
    return `${a.name} → ${a.version}${extra}`;
  }).join('; ');
  const text = [code, versions, aliases].filter(Boolean).join(' · ');
  return html`<span class="muted small" data-testid="deployment-${f.name}" title="${f.code_sha256 || ''}">${text}</span>`;
}

function durable(f, metrics) {
  if (f.kind !== 'durable') return html`<span class="muted">—</span>`;
  const waiting = metrics.get('lamina_durable_executions', { function: f.name, state: 'waiting' }) ?? 0;
  const active = metrics.get('lamina_durable_executions', { function: f.name, state: 'active' }) ?? 0;
  return html`<a href="#/executions?function=${encodeURIComponent(f.name)}&amp;status=RUNNING">${count(active)} active · ${count(waiting)} waiting</a>`;
}

export function mountFunctions(el) {
  el.innerHTML = `
    <h1>Functions</h1>
    <aside class="callout" data-testid="demo-callout" hidden>
      <p><strong>Order demo:</strong> watch a durable workflow checkpoint a step, hibernate with no
      instance while it waits for a payment, and replay when the payment arrives.</p>
      <a class="button" href="#/demo" data-testid="demo-link">Open the order demo →</a>
    </aside>
    <div class="table-wrap">
      <table class="cards" data-testid="functions-table">
        <caption class="sr-only">Functions served by this host</caption>
        <thead><tr>
          <th scope="col">Function</th><th scope="col">Kind</th><th scope="col">Mode</th>
          <th scope="col">Environments</th><th scope="col">Instances live</th>
          <th scope="col">Invocations</th><th scope="col">Errors</th>
          <th scope="col">Run p50</th><th scope="col">Run p99</th><th scope="col">Durable executions</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p class="muted small">Latency is the guest's run time per invocation; p50 and p99 are the upper
    bounds of their histogram buckets (as in <code>/metrics</code>).</p>`;
  const tbody = el.querySelector('tbody');
  const callout = el.querySelector('[data-testid="demo-callout"]');
  return {
    async refresh() {
      const [functions, metrics] = await Promise.all([api.functions(), api.metrics()]);
      callout.hidden = !servesOrderWorkflow(functions);
      put(
        tbody,
        functions.length
          ? html`${functions.map(
              (f) => html`<tr data-testid="function-row-${f.name}" data-function="${f.name}">
            <th scope="row" data-label="Function"><span class="fname">${f.name}</span>
              <span class="muted small path nowrap" title="${f.component}">${f.component.split('/').pop()}</span>
              ${deployment(f)}</th>
            <td data-label="Kind"><span class="tag">${f.kind}</span></td>
            <td data-label="Mode">${f.kind === 'durable' ? 'durable' : f.mode}</td>
            <td data-label="Environments">${environments(f)}</td>
            <td data-label="Instances live" data-testid="instances-${f.name}">${count(f.instances_live)}</td>
            <td data-label="Invocations" data-testid="invocations-${f.name}">${count(f.invocations)}</td>
            <td data-label="Errors">${errors(f)}</td>
            <td data-label="Run p50" class="nowrap">${latency(f.latency?.p50_ms)}</td>
            <td data-label="Run p99" class="nowrap">${latency(f.latency?.p99_ms)}</td>
            <td data-label="Durable executions">${durable(f, metrics)}</td>
          </tr>`,
            )}`
          : html`<tr><td colspan="10">This host serves no functions.</td></tr>`,
      );
    },
  };
}
