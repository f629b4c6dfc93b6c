// Glue between the `lamina:durable/durable-function` world and the SDK: the
// host's journal imports as the SDK's journal, and the `handler` export.
import * as wit from "lamina:durable/journal@0.1.0";
import "./process-exit.js";
import { runDurable } from "./durable.js";
import { JournalError } from "./errors.js";

const OP_TYPES = {
  execution: "EXECUTION", context: "CONTEXT", step: "STEP", wait: "WAIT", callback: "CALLBACK", "chained-invoke": "CHAINED_INVOKE",
};
const num = (v) => (v === undefined || v === null ? undefined : Number(v));

function witError(e) {
  return {
    errorType: e.ErrorType ?? undefined,
    errorMessage: e.ErrorMessage ?? undefined,
    errorData: e.ErrorData ?? undefined,
    stackTrace: (e.StackTrace || []).map(String),
  };
}

function sdkError(e) {
  if (!e) return undefined;
  return { ErrorType: e.errorType, ErrorMessage: e.errorMessage, ErrorData: e.errorData, StackTrace: e.stackTrace && e.stackTrace.length ? e.stackTrace : undefined };
}

const opRef = (op) => ({ id: op.id, parentId: op.parentId ?? undefined, name: op.name ?? undefined, subType: op.subType });

function call(name, ...args) {
  try {
    return wit[name](...args);
  } catch (err) {
    const payload = err && err.payload;
    if (payload && payload.tag) throw new JournalError(payload.tag, String(payload.val));
    throw err;
  }
}

/** The host's journal imports. */
export const witJournal = {
  loadState() {
    const s = wit.loadState();
    return {
      arn: s.arn,
      functionName: s.functionName,
      input: s.input,
      nowMs: num(s.nowMs),
      operations: s.operations.map((op) => ({
        id: op.id,
        parentId: op.parentId,
        name: op.name,
        type: OP_TYPES[op.opType] || String(op.opType).toUpperCase(),
        subType: op.subType,
        status: String(op.status).toUpperCase().replace("-", "_"),
        result: op.result,
        error: sdkError(op.error),
        attempt: op.attempt,
        nextAttemptMs: num(op.nextAttemptMs),
        callbackId: op.callbackId,
        waitEndMs: num(op.waitEndMs),
      })),
    };
  },
  stepStarted: (op, attempt, waitForCommit) => call("stepStarted", opRef(op), attempt, waitForCommit),
  stepSucceeded: (op, attempt, result) => call("stepSucceeded", opRef(op), attempt, result),
  stepFailed: (op, attempt, error) => call("stepFailed", opRef(op), attempt, witError(error)),
  stepRetry: (op, attempt, error, delay) => call("stepRetry", opRef(op), attempt, witError(error), delay),
  stepPoll: (op, attempt, state, delay) => call("stepPoll", opRef(op), attempt, state, delay),
  waitStarted: (op, seconds) => call("waitStarted", opRef(op), BigInt(seconds)),
  callbackStarted: (op, timeout, heartbeat) => call("callbackStarted", opRef(op), BigInt(Math.round(timeout)), BigInt(Math.round(heartbeat))),
  contextStarted: (op) => call("contextStarted", opRef(op)),
  contextSucceeded: (op, result) => call("contextSucceeded", opRef(op), result),
  contextFailed: (op, error) => call("contextFailed", opRef(op), witError(error)),
  invokeStarted: (op, fn, payload, tenantId) => call("invokeStarted", opRef(op), fn, payload, tenantId ?? undefined),
  log: (level, message) => wit.log(level, message),
};

/** The `lamina:durable/handler` export running `handler` (made by withDurableExecution). */
export function durableExport(handler) {
  return {
    async handle() {
      const outcome = await runDurable(handler, witJournal);
      if (outcome.status === "SUCCEEDED") return { tag: "succeeded", val: outcome.result };
      if (outcome.status === "FAILED") return { tag: "failed", val: witError(outcome.error || {}) };
      return { tag: "pending" };
    },
  };
}
