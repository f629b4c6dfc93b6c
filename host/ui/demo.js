// The order demo: start an order-workflow execution and watch it validate,
// checkpoint, hibernate at await-payment with no instance, and replay once
// the payment callback arrives. The same workflow runs in Rust
// (`order-workflow`), Python (`order-workflow-py`, lamina_sdk.durable) or
// JavaScript (`order-workflow-js`, lamina-sdk): the user picks which one new
// orders start.

import { api } from '/ui/api.js';
import { clock, count, executionLabel, html, ms, parseJson, put, usd } from '/ui/format.js';
import { outcomes, statusWithOutcome } from '/ui/outcome.js';
import { executionHref } from '/ui/executions.js';
import { isNotFound, loadExecution, meteringPanel, notFound, phase, recordSample, statusBadge } from '/ui/execution.js';

const WORKFLOWS = [
  { name: 'order-workflow', label: 'Rust' },
  { name: 'order-workflow-py', label: 'Python' },
  { name: 'order-workflow-js', label: 'JavaScript' },
];
let FUNCTION = WORKFLOWS[0].name;
// The fulfill-order step's result: Rust's is the tracking number, Python's {trackingNumber}.
const trackingOf = (r) => (r && typeof r === 'object' ? r.trackingNumber : r);
const functionOfArn = (arn) => String(arn).split(':')[3] ?? '';
const CATALOG = [
  { sku: 'tea', price: 4.5 },
  { sku: 'coffee', price: 7.25 },
  { sku: 'mug', price: 12 },
  { sku: 'biscuits', price: 3.2 },
];

function newOrder() {
  const id = `o-${Math.random().toString(36).slice(2, 8)}`;
  const picks = [...CATALOG].sort(() => Math.random() - 0.5).slice(0, 1 + Math.floor(Math.random() * 2));
  return { orderId: id, items: picks.map((p) => ({ ...p, qty: 1 + Math.floor(Math.random() * 3) })) };
}

const ICON = { pending: '○', active: '▶', waiting: '‖', done: '✓', skipped: '↷', failed: '✗' };
const WORD = { pending: 'pending', active: 'running', waiting: 'waiting', done: 'done', skipped: 'skipped', failed: 'failed' };

function stage(id, state, title, text) {
  return html`<li class="stage stage-${state}" data-testid="stage-${id}" data-state="${state}">
    <span class="stage-icon" aria-hidden="true">${ICON[state]}</span>
    <div><p class="stage-title"><strong>${title}</strong> <span class="stage-state">${WORD[state]}</span></p>
    <p class="stage-text">${text}</p></div></li>`;
}

function payloadOf(ev) {
  const d = ev?.[`${ev.EventType}Details`];
  return d?.Result?.Payload ?? null;
}

/** Everything the live view shows, derived from the journal and /metrics. */
function analyse(detail, ops, events, metrics) {
  const byName = (n) => ops.find((o) => o.Name === n);
  const validate = byName('validate-order');
  const wait = byName('await-payment');
  const callback = wait && ops.find((o) => o.Type === 'CALLBACK' && o.ParentId === wait.Id);
  const fulfill = byName('fulfill-order');
  const started = (n) => events.filter((e) => e.EventType === 'StepStarted' && e.Name === n).length;
  const invocations = events.filter((e) => e.EventType === 'InvocationCompleted');
  const callbackEnd = callback && events.find((e) => e.Id === callback.Id && /^Callback(Succeeded|Failed|TimedOut)$/.test(e.EventType));
  const validated = events.find((e) => e.EventType === 'StepSucceeded' && e.Name === 'validate-order');
  const result = parseJson(detail.Result ?? 'null');
  const p = phase(detail, events);
  let state;
  if (detail.Status === 'SUCCEEDED') state = result?.status === 'fulfilled' ? 'fulfilled' : 'declined';
  else if (detail.Status !== 'RUNNING') state = 'failed';
  else if (callback?.Status === 'STARTED' && p === 'waiting') state = 'waiting';
  else if (callbackEnd) state = 'resuming';
  else state = 'running';
  const payment = payloadOf(callbackEnd);
  const approved = callbackEnd?.EventType === 'CallbackSucceeded' && parseJson(payment)?.approved === true;
  const waitFrom = invocations[0]?.EventTimestamp ?? callback?.StartTimestamp;
  const waitTo = callbackEnd?.EventTimestamp ?? Date.now() / 1000;
  // Rust returns {orderId, trackingNumber}; Python (the AWS sample's shape) {status, tracking}.
  const tracking = result?.trackingNumber ?? result?.tracking;
  const orderId = parseJson(detail.InputPayload)?.orderId;
  return {
    validate, wait, callback, fulfill, callbackEnd, validated, result, state, payment, approved, tracking, orderId,
    invocations: invocations.length,
    validateRuns: started('validate-order'),
    fulfillRuns: started('fulfill-order'),
    waitedMs: waitFrom ? (waitTo - waitFrom) * 1000 : 0,
    instancesLive: metrics.get('lamina_durable_instances_live', { function: FUNCTION }),
    waitingExecutions: metrics.get('lamina_durable_executions', { function: FUNCTION, state: 'waiting' }),
  };
}

function banner(a, detail) {
  switch (a.state) {
    case 'waiting':
      return html`<span aria-hidden="true">‖</span> <strong>Waiting</strong> — hibernating at <code>await-payment</code>: no instance is running, the execution is only its journal. Approve or decline the payment.`;
    case 'resuming':
      return html`<span aria-hidden="true">▶</span> <strong>Resuming</strong> — the payment arrived; a new invocation is replaying the workflow.`;
    case 'fulfilled':
      return html`<span aria-hidden="true">✓</span> <strong>Order fulfilled</strong> — order ${a.result.orderId ?? a.orderId} shipped with tracking number <code>${a.tracking}</code>.`;
    case 'declined':
      return html`<span aria-hidden="true">✗</span> <strong>Order declined</strong> — the payment was declined; order ${a.result?.orderId ?? a.orderId ?? ''} was not shipped.`;
    case 'failed':
      return html`<span aria-hidden="true">✗</span> <strong>${detail.Status}</strong> — ${detail.Error?.ErrorType ?? ''} ${detail.Error?.ErrorMessage ?? ''}`;
    default:
      return html`<span aria-hidden="true">▶</span> <strong>Running</strong> — invocation 1 is validating the order.`;
  }
}

function stages(a, detail) {
  const ended = detail.Status !== 'RUNNING';
  const out = [];
  // 1. validate-order
  if (a.validate?.Status === 'SUCCEEDED') {
    const total = parseJson(a.validate.StepDetails?.Result)?.total;
    out.push(stage('validate', 'done', 'validate-order',
      html`Completed in ${ms((a.validate.EndTimestamp - a.validate.StartTimestamp) * 1000)} and <strong>checkpointed</strong>:
      its result (total ${total !== undefined ? usd(total) : '?'}) is in the journal${a.validated ? ` (history event #${a.validated.EventId})` : ''},
      so it never runs again for this order.`));
  } else if (a.validate?.Status === 'FAILED') {
    out.push(stage('validate', 'failed', 'validate-order', 'The order is invalid; the execution failed.'));
  } else {
    out.push(stage('validate', 'active', 'validate-order', 'Invocation 1 is checking the order and computing its total…'));
  }
  // 2. await-payment
  if (a.callbackEnd) {
    out.push(stage('await', 'done', 'await-payment',
      html`Hibernated for ${ms(a.waitedMs)} with no instance, until the payment callback arrived at ${clock(a.callbackEnd.EventTimestamp)}.`));
  } else if (a.state === 'waiting') {
    out.push(stage('await', 'waiting', 'await-payment',
      html`<strong>Hibernating</strong> for ${ms(a.waitedMs)}: invocation 1 registered payment callback
      <code data-testid="demo-callback-id">${a.callback.CallbackDetails?.CallbackId}</code> and ended; its instance was dropped.
      Nothing runs until the callback arrives. Live instances of ${FUNCTION}: <strong>${count(a.instancesLive)}</strong>.`));
  } else if (a.wait && !ended) {
    out.push(stage('await', 'active', 'await-payment', 'Registering the payment callback…'));
  } else {
    out.push(stage('await', ended ? 'skipped' : 'pending', 'await-payment', 'Wait for the payment system to call back.'));
  }
  // 3. payment
  if (a.callbackEnd) {
    const text = a.callbackEnd.EventType === 'CallbackFailed'
      ? `Declined: the callback failed (${a.callbackEnd.CallbackFailedDetails?.Error?.Payload?.ErrorType ?? 'error'}).`
      : a.approved ? html`Approved: the callback succeeded with <code>${a.payment}</code>.`
      : a.callbackEnd.EventType === 'CallbackTimedOut' ? 'No answer: the callback timed out.'
      : html`Declined: the callback succeeded with <code>${a.payment}</code>.`;
    out.push(stage('payment', a.approved ? 'done' : 'failed', 'Payment', text));
  } else {
    out.push(stage('payment', 'pending', 'Payment',
      a.state === 'waiting' ? 'Waiting for your decision: approve or decline below.' : 'Not asked yet.'));
  }
  // 4. replay
  if (a.invocations >= 2 && a.callbackEnd) {
    out.push(stage('replay', 'done', 'Replay',
      html`Invocation ${a.invocations} ran the workflow again from the top. <code>validate-order</code> was
      <strong>not re-run</strong> (started ${a.validateRuns} time${a.validateRuns === 1 ? '' : 's'} in total): it returned its
      checkpointed result, and <code>await-payment</code> returned the payment from the journal.`));
  } else if (a.state === 'resuming') {
    out.push(stage('replay', 'active', 'Replay', 'A fresh instance is replaying the journal…'));
  } else {
    out.push(stage('replay', 'pending', 'Replay', 'After the payment, a fresh instance replays the code from the top.'));
  }
  // 5. fulfill-order
  if (a.fulfill?.Status === 'SUCCEEDED') {
    out.push(stage('fulfill', 'done', 'fulfill-order',
      html`Shipped: tracking number <code>${trackingOf(parseJson(a.fulfill.StepDetails?.Result)) ?? ''}</code> (ran ${a.fulfillRuns} time${a.fulfillRuns === 1 ? '' : 's'}).`));
  } else if (a.fulfill) {
    out.push(stage('fulfill', a.fulfill.Status === 'FAILED' ? 'failed' : 'active', 'fulfill-order', 'Shipping…'));
  } else if (a.state === 'declined' || (a.callbackEnd && !a.approved)) {
    out.push(stage('fulfill', 'skipped', 'fulfill-order', 'Skipped: the payment was declined.'));
  } else {
    out.push(stage('fulfill', ended ? 'skipped' : 'pending', 'fulfill-order', 'Ships the order once the payment is approved.'));
  }
  return html`<ol class="stages" data-testid="demo-stages">${out}</ol>`;
}

function facts(a, detail) {
  const m = detail.Metering || {};
  return html`<dl class="numbers facts">
    <div><dt>Live instances (${FUNCTION})</dt><dd data-testid="instances-live">${count(a.instancesLive)}</dd></div>
    <div><dt>Invocations completed</dt><dd data-testid="invocation-count">${count(a.invocations)}</dd></div>
    <div><dt>validate-order runs</dt><dd data-testid="validate-runs">${count(a.validateRuns)}</dd></div>
    <div><dt>fulfill-order runs</dt><dd data-testid="fulfill-runs">${count(a.fulfillRuns)}</dd></div>
    <div><dt>Wall time</dt><dd>${ms(m.WallTimeMs)}</dd></div>
    <div><dt>Active compute</dt><dd>${ms(m.ActiveComputeMs)}</dd></div>
  </dl>`;
}

export function mountDemo(el, arn, ctx) {
  el.innerHTML = `
    <h1>Order demo</h1>
    <p class="actions"><label>Workflow
      <select data-testid="demo-workflow">${WORKFLOWS.map((w) => `<option value="${w.name}">${w.label} (${w.name})</option>`).join('')}</select></label></p>
    <p class="lead">An <code data-slot="fn">${FUNCTION}</code> execution validates the order in a checkpointed step, then waits for a
    payment callback <em>without holding an instance</em>. When you approve or decline, a fresh instance replays the
    code: completed steps return their journaled results instead of running again.</p>
    <div class="actions">
      <button type="button" data-testid="start-order">Start new order</button>
      <p class="form-msg small" data-testid="start-msg" role="status"></p>
    </div>
    <p class="muted" data-testid="demo-unavailable" hidden>This host does not serve <code data-slot="fn">${FUNCTION}</code>:
      run <code>scripts/demo.sh</code> to serve the examples.</p>
    <section class="panel live-view" data-testid="demo-live" hidden>
      <header class="exec-head">
        <h2 data-testid="demo-order">Order</h2>
        <span data-testid="demo-exec-status"></span>
        <a href="#" data-testid="open-execution">Execution page →</a>
      </header>
      <p class="banner" data-testid="demo-status" data-state="running" role="status" aria-live="polite"></p>
      <div class="buttons payment-buttons">
        <button type="button" data-testid="approve" disabled>✓ Approve payment</button>
        <button type="button" data-testid="decline" class="secondary" disabled>✗ Decline payment</button>
      </div>
      <div class="grid">
        <div data-slot="stages"></div>
        <div><div data-slot="facts"></div>
          <p class="tracking" data-testid="tracking-number" hidden></p>
          <pre data-testid="demo-result" hidden></pre></div>
      </div>
      <h3>Metering</h3>
      <div data-slot="metering" data-testid="metering"></div>
    </section>
    <section class="panel">
      <h2>Recent orders</h2>
      <ul class="recent" data-testid="recent-orders"></ul>
    </section>`;
  const $ = (sel) => el.querySelector(sel);
  const startButton = $('[data-testid="start-order"]');
  const startMsg = $('[data-testid="start-msg"]');
  const live = $('[data-testid="demo-live"]');
  const approve = $('[data-testid="approve"]');
  const decline = $('[data-testid="decline"]');
  const statusEl = $('[data-testid="demo-status"]');
  const tracking = $('[data-testid="tracking-number"]');
  const resultEl = $('[data-testid="demo-result"]');
  let callbackId = null;
  let sent = false;
  if (arn && WORKFLOWS.some((w) => w.name === functionOfArn(arn))) FUNCTION = functionOfArn(arn);
  const picker = $('[data-testid="demo-workflow"]');
  picker.value = FUNCTION;
  const showFunction = () => el.querySelectorAll('[data-slot="fn"]').forEach((c) => { c.textContent = FUNCTION; });
  picker.addEventListener('change', () => {
    FUNCTION = picker.value;
    showFunction();
    if (arn) location.hash = '#/demo';
    else ctx.refreshNow();
  });

  startButton.addEventListener('click', async () => {
    startButton.disabled = true;
    const order = newOrder();
    startMsg.textContent = `Starting order ${order.orderId}…`;
    try {
      const newArn = await api.start(FUNCTION, order, `order-${order.orderId}`);
      startMsg.textContent = '';
      location.hash = `#/demo/${encodeURIComponent(newArn)}`;
    } catch (e) {
      startMsg.textContent = `Could not start the order: ${e.message}`;
    } finally {
      startButton.disabled = false;
    }
  });

  const send = async (action) => {
    if (!callbackId) return;
    sent = true;
    approve.disabled = decline.disabled = true;
    statusEl.textContent = action === 'approve' ? 'Sending the approval…' : 'Sending the decline…';
    statusEl.__markup = null; // the next poll redraws the banner
    try {
      if (action === 'approve') await api.succeedCallback(callbackId, { approved: true });
      // The Python and JavaScript workflows (the AWS samples) fail on a failed callback; {approved: false} declines them.
      else if (['order-workflow-py', 'order-workflow-js'].includes(functionOfArn(arn))) await api.succeedCallback(callbackId, { approved: false });
      else await api.failCallback(callbackId, { ErrorType: 'PaymentDeclined', ErrorMessage: 'declined' });
    } catch (e) {
      sent = false;
      statusEl.textContent = `The callback was not accepted: ${e.message}`;
      statusEl.__markup = null;
    }
    ctx.refreshNow();
  };
  approve.addEventListener('click', () => send('approve'));
  decline.addEventListener('click', () => send('decline'));

  if (arn) {
    live.hidden = false;
    $('[data-testid="open-execution"]').href = executionHref(arn);
  }

  return {
    async refresh() {
      const [functions, recent] = await Promise.all([
        api.functions(),
        api.executions(FUNCTION).catch(() => null),
      ]);
      const served = WORKFLOWS.filter((w) => functions.some((f) => f.name === w.name && f.kind === 'durable'));
      for (const o of picker.options) o.hidden = !served.some((w) => w.name === o.value);
      picker.parentElement.hidden = served.length < 2;
      const available = served.some((w) => w.name === FUNCTION);
      $('[data-testid="demo-unavailable"]').hidden = available;
      startButton.hidden = !available;
      const shown = recent?.slice(0, 6) ?? [];
      const outcome = await outcomes(shown);
      put(
        $('[data-testid="recent-orders"]'),
        shown.length
          ? html`${shown.map(
              (e) => html`<li data-testid="recent-order"><a href="#/demo/${encodeURIComponent(e.DurableExecutionArn)}">${e.DurableExecutionName}</a>
                ${statusWithOutcome(e.Status, outcome(e.DurableExecutionArn))} <span class="muted small">${clock(e.StartTimestamp)}</span></li>`,
            )}`
          : html`<li class="muted">No orders yet.</li>`,
      );
      if (!arn) return;

      let loaded;
      try {
        loaded = await loadExecution(arn);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        put(live, notFound(arn));
        return;
      }
      const { detail, ops, events } = loaded;
      // After the journal, so the live-instance count is at least as new as the history.
      const metrics = await api.metrics();
      const samples = recordSample(arn, detail, events);
      const a = analyse(detail, ops, events, metrics);
      const input = parseJson(detail.InputPayload) || {};
      put($('[data-testid="demo-order"]'), html`Order ${input.orderId ?? detail.DurableExecutionName}
        <span class="muted small">${(input.items || []).map((i) => `${i.qty}× ${i.sku}`).join(', ')}</span>`);
      // While the execution runs its phase (waiting, running) is the news; once it has ended, the
      // banner is the business outcome and the execution's status is only a neutral label beside it.
      put($('[data-testid="demo-exec-status"]'), detail.Status === 'RUNNING' ? statusBadge(detail, events) : executionLabel(detail.Status));
      if (!(sent && a.state === 'waiting')) {
        statusEl.dataset.state = a.state;
        put(statusEl, banner(a, detail));
      }
      callbackId = a.callback?.Status === 'STARTED' ? a.callback.CallbackDetails?.CallbackId : null;
      if (!callbackId) sent = false;
      approve.disabled = decline.disabled = !callbackId || sent;
      $('.payment-buttons').hidden = detail.Status !== 'RUNNING';
      put($('[data-slot="stages"]'), stages(a, detail));
      put($('[data-slot="facts"]'), facts(a, detail));
      tracking.hidden = !a.tracking;
      put(tracking, a.tracking ? html`Tracking number: <code>${a.tracking}</code>` : '');
      resultEl.hidden = detail.Result === undefined;
      put(resultEl, html`${detail.Result !== undefined ? JSON.stringify(a.result, null, 2) : ''}`);
      put($('[data-slot="metering"]'), meteringPanel(detail, samples, $('[data-slot="metering"]').clientWidth));
    },
  };
}
