// The host's JSON and text APIs, same origin.

/** An HTTP answer other than 2xx, with the AWS error type when there is one. */
export class HttpError extends Error {
  constructor(status, type, message) {
    super(`${status}${type ? ' ' + type : ''}: ${message}`);
    this.status = status;
    this.type = type;
  }
}

/** Sent with every request: with the session cookie it proves the request
 * comes from this dashboard (a page on another origin cannot add it). */
const CSRF = { 'X-Lamina-CSRF': '1' };

async function request(path, options = {}) {
  let resp;
  try {
    resp = await fetch(path, {
      cache: 'no-store',
      credentials: 'same-origin',
      ...options,
      headers: { ...CSRF, ...(options.headers || {}) },
    });
  } catch (e) {
    throw new HttpError(0, 'Unreachable', `cannot reach the host (${e.message})`);
  }
  if (!resp.ok) {
    const body = await resp.text();
    let type = resp.headers.get('x-amzn-errortype') || '';
    let message = body.trim();
    try {
      const j = JSON.parse(body);
      type = type || j.__type || '';
      message = j.message || j.Message || message;
    } catch { /* plain text */ }
    if (resp.status === 403 && type === 'MissingAuthenticationTokenException') {
      // The host has [auth] and this browser has no session: log in first.
      location.assign(`/ui/login.html${location.hash}`);
    }
    throw new HttpError(resp.status, type, message);
  }
  return resp;
}

async function getJson(path) {
  return (await request(path)).json();
}

const enc = encodeURIComponent;

/** The durable functions the order demo drives (Rust and Python). */
export const ORDER_WORKFLOWS = ['order-workflow', 'order-workflow-py'];

/** True when `functions` (from /api/functions) include an order workflow. */
export const servesOrderWorkflow = (functions) =>
  functions.some((f) => ORDER_WORKFLOWS.includes(f.name) && f.kind === 'durable');

/** Parsed Prometheus text: `get(name, labels)` and `sum(name, labels)`. */
export class Metrics {
  constructor(text) {
    this.samples = [];
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      const labels = {};
      for (const l of (m[2] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      }
      this.samples.push({ name: m[1], labels, value: Number(m[3]) });
    }
  }

  matching(name, labels = {}) {
    return this.samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  }

  /** The first matching sample's value, or `undefined`. */
  get(name, labels = {}) {
    return this.matching(name, labels)[0]?.value;
  }

  sum(name, labels = {}) {
    return this.matching(name, labels).reduce((a, s) => a + s.value, 0);
  }
}

/** Follows `NextMarker` for up to `pages` pages, concatenating `key`. */
async function paged(path, key, pages = 10) {
  const out = [];
  let marker = null;
  for (let i = 0; i < pages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await getJson(marker ? `${path}${sep}Marker=${enc(marker)}` : path);
    out.push(...(page[key] || []));
    marker = page.NextMarker;
    if (!marker) break;
  }
  return out;
}

export const api = {
  functions: async () => (await getJson('/api/functions')).functions,
  metrics: async () => new Metrics(await (await request('/metrics')).text()),

  /** Executions of one durable function, newest first. */
  executions: async (fn, status) => {
    let path = `/2025-12-01/functions/${enc(fn)}/durable-executions?ReverseOrder=true&MaxItems=100`;
    if (status) path += `&Statuses=${enc(status)}`;
    return (await getJson(path)).DurableExecutions || [];
  },
  execution: (arn) => getJson(`/2025-12-01/durable-executions/${enc(arn)}`),
  history: (arn) =>
    paged(`/2025-12-01/durable-executions/${enc(arn)}/history?IncludeExecutionData=true`, 'Events'),
  operations: (arn) =>
    paged(`/2025-12-01/durable-executions/${enc(arn)}/state?CheckpointToken=ui`, 'Operations'),

  /** Starts an execution (named `name`, if given) with an Event invoke; resolves to its ARN. */
  start: async (fn, input, name) => {
    const headers = { 'X-Amz-Invocation-Type': 'Event', 'Content-Type': 'application/json' };
    if (name) headers['X-Amz-Durable-Execution-Name'] = name;
    const resp = await request(`/2015-03-31/functions/${enc(fn)}/invocations`, {
      method: 'POST',
      headers,
      body: JSON.stringify(input),
    });
    const arn = resp.headers.get('X-Amz-Durable-Execution-Arn');
    if (!arn) throw new HttpError(resp.status, '', 'the host returned no execution ARN');
    return arn;
  },
  succeedCallback: (id, result) =>
    request(`/2025-12-01/durable-execution-callbacks/${enc(id)}/succeed`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(result),
    }),
  failCallback: (id, error) =>
    request(`/2025-12-01/durable-execution-callbacks/${enc(id)}/fail`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(error),
    }),
  stop: (arn) =>
    request(`/2025-12-01/durable-executions/${enc(arn)}/stop`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ErrorType: 'StoppedFromDashboard', ErrorMessage: 'stopped from /ui' }),
    }),
};
