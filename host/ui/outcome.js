// The business outcome of an ended execution (an order declined), read from
// its result, shown as the prominent verdict; the execution's own status
// ("it ran to completion") is then only a neutral label beside it. An
// execution that succeeded with a declined order is not a green success.

import { api } from '/ui/api.js';
import { badge, executionLabel, html, parseJson } from '/ui/format.js';

const GOOD = new Set(['fulfilled', 'approved', 'accepted', 'completed', 'complete', 'shipped', 'paid', 'ok', 'done']);
const BAD = new Set(['declined', 'rejected', 'denied', 'refused', 'failed', 'cancelled', 'canceled', 'error']);

/**
 * The business outcome of a succeeded execution: the `status` string of a
 * JSON object result (the order workflows return `{"status": "declined"}`),
 * with a tone; null when the result has none.
 */
export function outcomeOf(detail) {
  if (detail.Status !== 'SUCCEEDED' || detail.Result === undefined) return null;
  const r = parseJson(detail.Result);
  const word = r && typeof r === 'object' && !Array.isArray(r) && typeof r.status === 'string' ? r.status.trim() : '';
  if (!word) return null;
  const key = word.toLowerCase();
  return { word, tone: GOOD.has(key) ? 'good' : BAD.has(key) ? 'bad' : 'neutral' };
}

/** The outcome as a verdict: icon and word, the colour only repeats them. */
export function outcomeBadge(o) {
  const icon = o.tone === 'good' ? '✓' : o.tone === 'bad' ? '✗' : '•';
  const word = o.word.charAt(0).toUpperCase() + o.word.slice(1);
  return html`<span class="outcome outcome-${o.tone}" data-outcome="${o.word}"><span aria-hidden="true">${icon}</span> ${word}</span>`;
}

/**
 * An execution's status where a list or header shows it: the outcome and a
 * neutral "Execution: succeeded" label when it has an outcome, else its
 * status badge (running, failed, … are the news themselves).
 */
export function statusWithOutcome(status, outcome) {
  return outcome ? html`${outcomeBadge(outcome)} ${executionLabel(status)}` : badge(status);
}

// Outcomes of ended executions by ARN (an ended execution's result never changes).
const known = new Map();

/**
 * Looks up the outcomes of the succeeded executions in `list` (execution
 * summaries, which carry no result; at most `limit` new ones per call) and
 * returns a function from ARN to outcome (or null).
 */
export async function outcomes(list, limit = 40) {
  const missing = list.filter((e) => e.Status === 'SUCCEEDED' && !known.has(e.DurableExecutionArn)).slice(0, limit);
  await Promise.all(
    missing.map(async (e) => {
      try {
        known.set(e.DurableExecutionArn, outcomeOf(await api.execution(e.DurableExecutionArn)));
      } catch {
        // Deleted meanwhile, or the host is down: shown by its status alone.
      }
    }),
  );
  return (arn) => known.get(arn) ?? null;
}
