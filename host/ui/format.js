// Formatting and safe HTML building.

/** HTML that must not be escaped again. */
export class Raw {
  constructor(s) {
    this.s = s;
  }
  toString() {
    return this.s;
  }
}

export const raw = (s) => new Raw(s);

export function esc(s) {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

function part(v) {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Raw) return v.s;
  if (Array.isArray(v)) return v.map(part).join('');
  return esc(v);
}

/** A template tag: interpolated values are escaped unless they are `Raw`. */
export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((v, i) => {
    out += part(v) + strings[i + 1];
  });
  return new Raw(out);
}

/**
 * Text (a JSON payload) that wraps between its tokens, never inside a word:
 * hyphenated words (an order id "o-3rlh9v") stay on one line, where a
 * browser would break after the hyphen, and a line may break after every
 * comma (`<wbr>`), where it would otherwise find no place to break but
 * inside a word. Words longer than `max` characters (wider than a phone's
 * cell) may still break.
 */
export function keepWords(text, max = 48) {
  const s = String(text);
  const piece = (t) => esc(t).replace(/,/g, ',<wbr>');
  const out = [];
  let last = 0;
  for (const m of s.matchAll(/[^\s{}[\],"]+/g)) {
    if (!m[0].includes('-') || m[0].length > max) continue;
    out.push(piece(s.slice(last, m.index)), `<span class="nobr">${esc(m[0])}</span>`);
    last = m.index + m[0].length;
  }
  out.push(piece(s.slice(last)));
  return raw(out.join(''));
}

/** Milliseconds as a short duration: 0.42 ms, 18.9 ms, 5.21 s, 3 min 5 s. */
export function ms(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (v === 0) return '0 ms';
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 100) return `${v.toFixed(1)} ms`;
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
  const s = Math.round(v / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  const h = Math.floor(s / 3600);
  if (h < 48) return `${h} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function bytes(v) {
  if (v === null || v === undefined) return '—';
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KiB`;
  return `${(v / 1024 / 1024).toFixed(1)} MiB`;
}

/** US dollars; tiny amounts keep three significant digits. */
export function usd(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (v === 0) return '$0';
  if (v >= 0.01) return `$${v.toFixed(2)}`;
  if (v >= 1e-9) return `$${v.toPrecision(3)}`;
  return `$${v.toExponential(2)}`;
}

export function count(v) {
  return v === null || v === undefined ? '—' : Number(v).toLocaleString('en-US');
}

export function percent(part, whole) {
  if (!whole) return '—';
  const p = (100 * part) / whole;
  return `${p < 0.1 ? p.toFixed(3) : p < 10 ? p.toFixed(2) : p.toFixed(1)}%`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** Epoch seconds (AWS timestamps) as local 24-hour clock time with milliseconds. */
export function clock(epochSeconds) {
  if (epochSeconds === null || epochSeconds === undefined) return '—';
  const d = new Date(epochSeconds * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** A Date as local 24-hour clock time to the second (every time on the dashboard is 24-hour). */
export function clockSeconds(d = new Date()) {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Epoch seconds as "12 s ago". */
export function ago(epochSeconds) {
  if (!epochSeconds) return '';
  const d = Date.now() - epochSeconds * 1000;
  return d < 1500 ? 'just now' : `${ms(d)} ago`;
}

/** A JSON text pretty-printed (or left as is when it is not JSON). */
export function prettyJson(text) {
  if (text === null || text === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text);
  }
}

export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function truncate(s, n) {
  s = String(s);
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Icons and words for every status, so no state depends on colour. */
const STATUS = {
  RUNNING: ['▶', 'running'],
  STARTED: ['▶', 'started'],
  PENDING: ['…', 'pending'],
  READY: ['◦', 'ready'],
  SUCCEEDED: ['✓', 'succeeded'],
  FAILED: ['✗', 'failed'],
  TIMED_OUT: ['◷', 'timed out'],
  STOPPED: ['■', 'stopped'],
  CANCELLED: ['⊘', 'cancelled'],
  WAITING: ['‖', 'waiting'],
};

/** A status badge: icon and word; the colour only repeats them. */
export function badge(status, label) {
  const [icon, word] = STATUS[status] || ['•', String(status).toLowerCase()];
  const cls = String(status).toLowerCase().replace(/_/g, '-');
  return html`<span class="badge st-${cls}" data-status="${status}"><span aria-hidden="true">${icon}</span> ${label || word}</span>`;
}

/**
 * The execution's status as a neutral label ("Execution: succeeded"), for
 * pages where a business outcome (an order declined) is shown beside it and
 * must not read as the same thing.
 */
export function executionLabel(status) {
  const [, word] = STATUS[status] || ['•', String(status).toLowerCase()];
  return html`<span class="exec-label" data-status="${status}">Execution: ${word}</span>`;
}

/**
 * Sets `el.innerHTML` only when the markup changed (keeps focus and
 * selection), and keeps open `<details data-key>` open across updates.
 */
export function put(el, markup) {
  const s = String(markup);
  if (el.__markup === s) return;
  const open = new Set([...el.querySelectorAll('details[data-key][open]')].map((d) => d.dataset.key));
  el.innerHTML = s;
  el.__markup = s;
  for (const d of el.querySelectorAll('details[data-key]')) {
    if (open.has(d.dataset.key)) d.open = true;
  }
}
