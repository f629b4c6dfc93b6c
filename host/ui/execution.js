// One durable execution: status, metering (numbers and chart), operation
// tree, input and result, history. Pieces are shared with the order demo.

import { api, HttpError } from '/ui/api.js';
import { meteringChart } from '/ui/chart.js';
import { badge, bytes, clock, count, html, keepWords, ms, percent, prettyJson, put, truncate, usd } from '/ui/format.js';
import { functionOf } from '/ui/executions.js';
import { outcomeOf, statusWithOutcome } from '/ui/outcome.js';

/** Everything the pages show of one execution. */
export async function loadExecution(arn) {
  const [detail, ops, events] = await Promise.all([
    api.execution(arn),
    api.operations(arn),
    api.history(arn),
  ]);
  return { detail, ops, events };
}

/** What the execution is doing: running an invocation, or waiting with no instance. */
export function phase(detail, events) {
  if (detail.Status !== 'RUNNING') return 'ended';
  const last = events[events.length - 1];
  return last && last.EventType === 'InvocationCompleted' ? 'waiting' : 'active';
}

export function statusBadge(detail, events) {
  const p = phase(detail, events);
  if (p === 'waiting') return badge('WAITING', 'waiting · no instance');
  if (p === 'active') return badge('RUNNING', 'running · invocation in progress');
  // Ended: a business outcome in the result (an order declined) is the verdict.
  return statusWithOutcome(detail.Status, outcomeOf(detail));
}

// Metering samples per execution ARN, one per poll, kept across pages.
const series = new Map();
const MAX_SAMPLES = 240;

/**
 * Records this poll's metering and returns the samples so far. The first
 * time an execution is seen, the time before it is filled in from the
 * history's invocation spans, so an execution opened late still shows how
 * its wall and active times grew.
 */
export function recordSample(arn, detail, events) {
  const m = detail.Metering;
  if (!m) return [];
  const now = { wall: m.WallTimeMs, active: m.ActiveComputeMs };
  let s = series.get(arn);
  if (!s) {
    s = backfill(detail, events, now);
    series.set(arn, s);
  }
  const last = s[s.length - 1];
  if (!last || now.wall > last.wall) s.push(now);
  else if (now.wall === last.wall) last.active = Math.max(last.active, now.active);
  if (s.length > MAX_SAMPLES) {
    // Thin the older half; keep the start and the latest samples.
    const half = Math.floor(s.length / 2);
    series.set(arn, [...s.slice(0, half).filter((_, i) => i % 2 === 0), ...s.slice(half)]);
  }
  return series.get(arn);
}

function backfill(detail, events, now) {
  const start = detail.StartTimestamp * 1000;
  const pts = [{ wall: 0, active: 0 }];
  let active = 0;
  for (const e of events) {
    const d = e.InvocationCompletedDetails;
    if (e.EventType !== 'InvocationCompleted' || !d) continue;
    const from = d.StartTimestamp * 1000 - start;
    const to = d.EndTimestamp * 1000 - start;
    pts.push({ wall: from, active });
    active += Math.max(0, to - from);
    pts.push({ wall: to, active });
  }
  return pts
    .filter((p) => p.wall >= 0 && p.wall < now.wall)
    .map((p) => ({ wall: p.wall, active: Math.min(p.active, now.active) }));
}

/** The metering panel: numbers, the chart (`width` px wide, the panel's width) and the cost. */
export function meteringPanel(detail, samples, width) {
  const m = detail.Metering;
  if (!m) return html`<p class="muted">No metering for this execution.</p>`;
  const c = m.Cost || {};
  // What the same wall time would cost if the execution had held its instance throughout.
  const held = m.ActiveComputeMs > 0 ? (c.Compute * m.WallTimeMs) / m.ActiveComputeMs : null;
  return html`
  <div class="metering-body">
    <dl class="numbers">
      <div><dt>Wall time</dt><dd data-testid="metering-wall" data-ms="${m.WallTimeMs}">${ms(m.WallTimeMs)}</dd></div>
      <div><dt>Active compute</dt><dd data-testid="metering-active" data-ms="${m.ActiveComputeMs}">${ms(m.ActiveComputeMs)}</dd></div>
      <div><dt>Active share of wall time</dt><dd data-testid="metering-ratio">${percent(m.ActiveComputeMs, m.WallTimeMs)}</dd></div>
      <div><dt>Invocations</dt><dd data-testid="metering-invocations">${count(m.Invocations)}</dd></div>
      <div><dt>Operations</dt><dd data-testid="metering-operations">${count(m.Operations)}</dd></div>
      <div><dt>Bytes journaled</dt><dd data-testid="metering-bytes" data-bytes="${m.BytesJournaled}">${bytes(m.BytesJournaled)}</dd></div>
      <div><dt>Memory</dt><dd>${count(m.MemoryMb)} MB</dd></div>
      <div><dt>Cost</dt><dd data-testid="metering-cost" data-usd="${c.Total}">${usd(c.Total)}</dd></div>
    </dl>
    <figure class="chart-box">
      ${meteringChart(samples, width)}
      <figcaption class="legend"><span class="legend-item"><span class="key wall-key" aria-hidden="true"></span> wall time (solid)</span>
        <span class="legend-item"><span class="key active-key" aria-hidden="true"></span> active compute (dashed, squares: one per poll)</span></figcaption>
    </figure>
  </div>
  <details class="cost" data-key="cost">
    <summary>Cost breakdown</summary>
    <table class="plain">
      <tr><th scope="row">Compute (active GB-seconds)</th><td>${usd(c.Compute)}</td></tr>
      <tr><th scope="row">Requests (invocations)</th><td>${usd(c.Requests)}</td></tr>
      <tr><th scope="row">Durable operations</th><td>${usd(c.Operations)}</td></tr>
      <tr><th scope="row">Data written</th><td>${usd(c.DataWritten)}</td></tr>
      <tr><th scope="row">Data retained</th><td>${usd(c.DataRetained)}</td></tr>
      <tr><th scope="row">Total</th><td>${usd(c.Total)}</td></tr>
      ${held !== null ? html`<tr><th scope="row">Compute if an instance were held for the whole wall time</th><td data-testid="metering-held">${usd(held)}</td></tr>` : ''}
    </table>
  </details>`;
}

function opLabel(op, parent) {
  if (op.Name) return op.Name;
  if (op.Type === 'STEP' && parent?.SubType === 'WaitForCallback') return 'submitter';
  if (op.Type === 'EXECUTION') return 'execution';
  return op.SubType || op.Type.toLowerCase();
}

function opTiming(op) {
  const start = op.StartTimestamp;
  if (op.EndTimestamp) return `${ms((op.EndTimestamp - start) * 1000)}`;
  return `${ms(Date.now() - start * 1000)} so far`;
}

function opDetails(op) {
  const d = op.StepDetails || op.CallbackDetails || op.ContextDetails || op.ChainedInvokeDetails || {};
  const out = [];
  if (op.StepDetails?.Attempt > 1) out.push(html`<span>attempt ${op.StepDetails.Attempt}</span>`);
  if (op.StepDetails?.NextAttemptTimestamp)
    out.push(html`<span>retry at ${clock(op.StepDetails.NextAttemptTimestamp)}</span>`);
  if (op.WaitDetails?.ScheduledEndTimestamp)
    out.push(html`<span>until ${clock(op.WaitDetails.ScheduledEndTimestamp)}</span>`);
  if (op.CallbackDetails?.CallbackId)
    out.push(html`<span>callback id <code data-testid="callback-id">${op.CallbackDetails.CallbackId}</code></span>`);
  if (d.Result !== undefined) out.push(html`<span>result <code>${truncate(d.Result, 120)}</code></span>`);
  if (d.Error) out.push(html`<span class="err">error <code>${d.Error.ErrorType || ''}${d.Error.ErrorMessage ? `: ${d.Error.ErrorMessage}` : ''}</code></span>`);
  return out;
}

/**
 * The operations nested by ParentId under the execution. The root shows the
 * execution's own status and end (`detail`), which the journal's EXECUTION
 * operation may not carry.
 */
export function operationTree(ops, detail) {
  const byParent = new Map();
  const byId = new Map(ops.map((o) => [o.Id, o]));
  const found = ops.find((o) => o.Type === 'EXECUTION');
  const root = found && detail
    ? { ...found, Status: detail.Status, EndTimestamp: found.EndTimestamp ?? detail.EndTimestamp }
    : found;
  for (const o of ops) {
    if (o === found) continue;
    const p = o.ParentId && byId.has(o.ParentId) ? o.ParentId : root?.Id ?? '';
    if (!byParent.has(p)) byParent.set(p, []);
    byParent.get(p).push(o);
  }
  for (const list of byParent.values()) list.sort((a, b) => a.StartTimestamp - b.StartTimestamp);
  const node = (o, parent) => {
    const kids = byParent.get(o.Id) || [];
    const label = opLabel(o, parent);
    return html`<li data-testid="op" data-op-id="${o.Id}" data-op-name="${label}" data-op-type="${o.Type}" data-status="${o.Status}">
      <div class="op">
        ${badge(o.Status)}
        <span class="op-type">${o.Type}${o.SubType && o.SubType.toUpperCase() !== o.Type ? ` · ${o.SubType}` : ''}</span>
        <strong class="op-name">${label}</strong>
        <span class="muted small">#${o.Id} · ${clock(o.StartTimestamp)} · ${opTiming(o)}</span>
        <span class="op-details small">${opDetails(o)}</span>
      </div>
      ${kids.length ? html`<ul>${kids.map((k) => node(k, o))}</ul>` : ''}
    </li>`;
  };
  if (!root) return html`<p class="muted">No operations yet.</p>`;
  return html`<ul class="tree" data-testid="op-tree">${node(root, null)}</ul>`;
}

function eventSummary(e) {
  const d = e[`${e.EventType}Details`] || {};
  const parts = [];
  const payload = d.Result?.Payload ?? d.Input?.Payload;
  if (payload !== undefined) parts.push(`${d.Result ? 'result' : 'input'} ${truncate(payload, 140)}`);
  const err = d.Error?.Payload ?? d.Error;
  if (err && (err.ErrorType || err.ErrorMessage))
    parts.push(`error ${err.ErrorType || ''}${err.ErrorMessage ? `: ${truncate(err.ErrorMessage, 120)}` : ''}`);
  if (d.CallbackId) parts.push(`callback id ${d.CallbackId}`);
  if (d.RetryDetails?.CurrentAttempt > 1) parts.push(`attempt ${d.RetryDetails.CurrentAttempt}`);
  if (d.ScheduledEndTimestamp) parts.push(`until ${clock(d.ScheduledEndTimestamp)}`);
  if (e.EventType === 'InvocationCompleted' && d.StartTimestamp && d.EndTimestamp)
    parts.push(`invocation ran ${ms((d.EndTimestamp - d.StartTimestamp) * 1000)}`);
  return parts.join(' · ');
}

/** The history events as a table (times relative to the start). */
export function historyTable(events, startTimestamp) {
  return html`<div class="table-wrap"><table class="cards history" data-testid="history-table">
    <caption class="sr-only">History events, oldest first</caption>
    <thead><tr><th scope="col">#</th><th scope="col">At</th><th scope="col">Event</th>
      <th scope="col">Operation</th><th scope="col">Details</th></tr></thead>
    <tbody>${events.map(
      (e) => html`<tr data-testid="history-event" data-event-type="${e.EventType}">
        <td data-label="#">${e.EventId}</td>
        <td data-label="At" title="${clock(e.EventTimestamp)}">+${ms((e.EventTimestamp - startTimestamp) * 1000)}</td>
        <td data-label="Event"><code>${e.EventType}</code></td>
        <td data-label="Operation">${e.Name || ''}${e.Id ? html` <span class="muted small">#${e.Id}</span>` : ''}</td>
        <td data-label="Details" class="small">${keepWords(eventSummary(e))}</td>
      </tr>`,
    )}</tbody></table></div>`;
}

function ioPanel(detail) {
  return html`
    <h3>Input</h3>
    <pre data-testid="execution-input">${prettyJson(detail.InputPayload) || '—'}</pre>
    <h3>${detail.Error ? 'Error' : 'Result'}</h3>
    ${detail.Error
      ? html`<pre class="err" data-testid="execution-error">${prettyJson(JSON.stringify(detail.Error))}</pre>`
      : html`<pre data-testid="execution-result">${detail.Result !== undefined ? prettyJson(detail.Result) : detail.Status === 'RUNNING' ? '(not finished yet)' : '—'}</pre>`}`;
}

function callbackForms(ops) {
  const pending = ops.filter((o) => o.Type === 'CALLBACK' && o.Status === 'STARTED' && o.CallbackDetails?.CallbackId);
  if (!pending.length) return '';
  return html`<section class="panel" data-testid="pending-callbacks">
    <h2>Waiting for ${pending.length === 1 ? 'a callback' : `${pending.length} callbacks`}</h2>
    ${pending.map(
      (o) => html`<form class="callback" data-callback-id="${o.CallbackDetails.CallbackId}">
        <p>Callback <code>${o.CallbackDetails.CallbackId}</code> (operation #${o.Id}${o.ParentId ? `, in #${o.ParentId}` : ''})</p>
        <label>Result (JSON) or error message
          <textarea name="payload" rows="2" spellcheck="false">{}</textarea></label>
        <div class="buttons">
          <button type="submit" name="action" value="succeed">✓ Succeed</button>
          <button type="submit" name="action" value="fail" class="secondary">✗ Fail</button>
        </div>
        <p class="form-msg small" role="status"></p>
      </form>`,
    )}</section>`;
}

/** True for the host's answer to an execution it does not know. */
export function isNotFound(e) {
  return e instanceof HttpError && (e.status === 404 || e.type === 'ResourceNotFoundException');
}

/** The page for an ARN the host does not know: what was asked for and where to go instead. */
export function notFound(arn) {
  return html`<section class="not-found" data-testid="execution-not-found">
    <p class="crumbs"><a href="#/executions">Executions</a> ›</p>
    <h1>Execution not found</h1>
    <p>This host has no durable execution with the ARN</p>
    <p><code data-testid="missing-arn">${arn}</code></p>
    <p class="muted">It may have been deleted by retention, belong to another host or state directory, or the link may be
      mistyped.</p>
    <p><a class="button" href="#/executions">All executions</a></p>
  </section>`;
}

export function mountExecution(el, arn, ctx) {
  el.innerHTML = `
    <p class="crumbs"><a href="#/executions">Executions</a> ›</p>
    <header class="exec-head">
      <h1 data-testid="execution-name">…</h1>
      <span data-testid="execution-status"></span>
      <button type="button" class="secondary small-button" data-testid="stop-execution" hidden>■ Stop</button>
    </header>
    <dl class="summary" data-testid="execution-summary"></dl>
    <div data-slot="callbacks"></div>
    <div class="grid">
      <section class="panel" data-testid="metering"><h2>Metering</h2><div data-slot="metering"></div></section>
      <section class="panel" data-testid="io"><h2>Input and result</h2><div data-slot="io"></div></section>
    </div>
    <section class="panel"><h2>Operations</h2><div data-slot="tree"></div></section>
    <section class="panel"><h2>History</h2><div data-slot="history"></div></section>`;
  const slot = (n) => el.querySelector(`[data-slot="${n}"]`);
  const stopButton = el.querySelector('[data-testid="stop-execution"]');
  let armed = false;
  stopButton.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      stopButton.textContent = '■ Confirm stop';
      return;
    }
    stopButton.disabled = true;
    try {
      await api.stop(arn);
    } catch (e) {
      alert(`Could not stop the execution: ${e.message}`);
    }
    ctx.refreshNow();
  });
  el.addEventListener('submit', async (ev) => {
    const form = ev.target.closest('form.callback');
    if (!form) return;
    ev.preventDefault();
    const id = form.dataset.callbackId;
    const action = ev.submitter?.value || 'succeed';
    const text = form.elements.payload.value.trim();
    const msg = form.querySelector('.form-msg');
    try {
      if (action === 'succeed') {
        let value;
        try {
          value = text ? JSON.parse(text) : null;
        } catch (e) {
          msg.textContent = `Not JSON: ${e.message}`;
          return;
        }
        await api.succeedCallback(id, value);
      } else {
        await api.failCallback(id, { ErrorType: 'CallbackFailed', ErrorMessage: text || 'failed from the dashboard' });
      }
      msg.textContent = 'Sent.';
    } catch (e) {
      msg.textContent = `Not sent: ${e.message}`;
    }
    ctx.refreshNow();
  });

  return {
    async refresh() {
      let loaded;
      try {
        loaded = await loadExecution(arn);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        document.title = 'Execution not found · Lamina';
        put(el, notFound(arn));
        return;
      }
      const { detail, ops, events } = loaded;
      const samples = recordSample(arn, detail, events);
      document.title = `${detail.DurableExecutionName} · Lamina`;
      put(el.querySelector('[data-testid="execution-name"]'), html`${detail.DurableExecutionName}`);
      put(el.querySelector('[data-testid="execution-status"]'), statusBadge(detail, events));
      stopButton.hidden = detail.Status !== 'RUNNING';
      const fn = functionOf(detail);
      put(
        el.querySelector('[data-testid="execution-summary"]'),
        html`<div><dt>Function</dt><dd><a href="#/executions?function=${encodeURIComponent(fn)}">${fn}</a></dd></div>
        <div><dt>Started</dt><dd>${clock(detail.StartTimestamp)}</dd></div>
        <div><dt>Ended</dt><dd>${detail.EndTimestamp ? clock(detail.EndTimestamp) : '—'}</dd></div>
        <div><dt>Events</dt><dd>${events.length}</dd></div>
        <div><dt>Code</dt><dd><code data-testid="execution-code" title="${detail.CodeSha256 || ''}">${detail.CodeSha256 ? detail.CodeSha256.slice(0, 12) : '—'}</code></dd></div>
        <div class="wide"><dt>ARN</dt><dd><code data-testid="execution-arn">${detail.DurableExecutionArn}</code></dd></div>`,
      );
      put(slot('callbacks'), callbackForms(ops));
      put(slot('metering'), meteringPanel(detail, samples, slot('metering').clientWidth));
      put(slot('io'), ioPanel(detail));
      put(slot('tree'), operationTree(ops, detail));
      put(slot('history'), historyTable(events, detail.StartTimestamp));
    },
  };
}
