// withDurableExecution and one invocation of a durable handler against a journal.
import { DurableContext } from "./context.js";
import { Execution, outcomeOf } from "./execution.js";
import { errorObjectFrom } from "./errors.js";

const DURABLE = Symbol.for("lamina.durable.handler");

/** Makes `handler(event, context)` a durable function. The result is what the
 * module exports as `handler`; Lamina's component glue runs it. `config`
 * (AWS's client and plugin options) is accepted and ignored. */
export function withDurableExecution(handler, config) {
  void config;
  const wrapped = function durableHandler() {
    throw new TypeError(
      "this is a durable function: build it with `lamina build` and invoke it through Lamina, "
      + "or run it in tests with runDurable from lamina-sdk",
    );
  };
  wrapped[DURABLE] = handler;
  return wrapped;
}

/** Whether `value` was made by withDurableExecution. */
export function isDurableHandler(value) {
  return typeof value === "function" && typeof value[DURABLE] === "function";
}

/** Runs (or replays) one invocation of `handler` against `journal`; resolves to
 * `{status: "SUCCEEDED", result}`, `{status: "FAILED", error}` or `{status: "PENDING"}`. */
export async function runDurable(handler, journal, lambdaContext) {
  const fn = isDurableHandler(handler) ? handler[DURABLE] : handler;
  const state = journal.loadState();
  const ex = new Execution(journal, state);
  const raw = (state.input || "").trim();
  let event;
  try {
    event = raw ? JSON.parse(raw) : {};
  } catch (err) {
    return { status: "FAILED", error: errorObjectFrom(err) };
  }
  const context = new DurableContext(ex, {
    lambdaContext: lambdaContext || {
      functionName: state.functionName,
      awsRequestId: undefined,
      getRemainingTimeInMillis: () => 0,
    },
  });
  const settled = await new Promise((resolve) => {
    let running;
    try {
      running = Promise.resolve(fn(event, context));
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then((value) => resolve({ ok: true, value }), (error) => resolve({ ok: false, error }));
    ex.root.blocked.then(() => resolve({ blocked: true }));
  });
  return outcomeOf(ex, settled);
}
