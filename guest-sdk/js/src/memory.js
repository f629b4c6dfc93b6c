// An in-memory journal for unit tests that follows the host's rules: it
// records what the SDK journals, refuses what the host refuses, and lets a
// test play the outside world (time passing, callbacks, invoked functions).
import { JournalError } from "./errors.js";
import { ENDED } from "./execution.js";

/** One execution's journal held in memory; `events` lists every update, `logs` every log line. */
export class InMemoryJournal {
  constructor(input = "", { arn = "arn:lamina:durable:test:1", functionName = "test" } = {}) {
    this.input = input;
    this.arn = arn;
    this.functionName = functionName;
    this.ops = new Map();
    this.events = [];
    this.logs = [];
    this.ended = false;
  }

  loadState() {
    const operations = [...this.ops.values()].map((op) => ({ ...op }));
    return { arn: this.arn, functionName: this.functionName, input: this.input, operations, nowMs: 0 };
  }

  _guard(op, type, mayExist = true) {
    if (this.ended) throw new JournalError("execution-ended", "the execution has ended");
    const rec = this.ops.get(op.id);
    if (rec) {
      if (rec.type !== type) throw new JournalError("invalid", `operation ${op.id} is a ${rec.type}, not a ${type}`);
      if (ENDED.has(rec.status)) throw new JournalError("invalid", `operation ${op.id} has ended (${rec.status})`);
      if (!mayExist) throw new JournalError("invalid", `operation ${op.id} exists already`);
    }
    if (op.parentId != null) {
      const parent = this.ops.get(op.parentId);
      if (!parent || parent.type !== "CONTEXT") {
        throw new JournalError("invalid", `parent ${op.parentId} of ${op.id} is not a started context`);
      }
    }
    return rec;
  }

  _upsert(op, type, status) {
    let rec = this.ops.get(op.id);
    if (!rec) {
      rec = { id: op.id, parentId: op.parentId, name: op.name, type, subType: op.subType, status, attempt: 0 };
      this.ops.set(op.id, rec);
    }
    rec.status = status;
    return rec;
  }

  _must(op, type) {
    const rec = this._guard(op, type);
    if (!rec) throw new JournalError("invalid", `operation ${op.id} was not started`);
    return rec;
  }

  stepStarted(op, attempt, _waitForCommit) {
    this._guard(op, "STEP");
    this._upsert(op, "STEP", "STARTED").attempt = attempt;
    this.events.push(`StepStarted ${op.id} ${attempt}`);
  }
  stepSucceeded(op, attempt, result) {
    Object.assign(this._must(op, "STEP"), { status: "SUCCEEDED", result, attempt });
    this.events.push(`StepSucceeded ${op.id} ${attempt} ${result}`);
  }
  stepFailed(op, attempt, error) {
    Object.assign(this._must(op, "STEP"), { status: "FAILED", error, attempt });
    this.events.push(`StepFailed ${op.id} ${attempt} ${error.ErrorType}`);
  }
  stepRetry(op, attempt, error, delaySeconds) {
    Object.assign(this._must(op, "STEP"), { status: "PENDING", error, attempt });
    this.events.push(`StepRetry ${op.id} ${attempt} ${delaySeconds}`);
  }
  stepPoll(op, attempt, state, delaySeconds) {
    Object.assign(this._must(op, "STEP"), { status: "PENDING", result: state, attempt });
    this.events.push(`StepPoll ${op.id} ${attempt} ${state} ${delaySeconds}`);
  }
  waitStarted(op, seconds) {
    this._guard(op, "WAIT", false);
    this._upsert(op, "WAIT", "STARTED");
    this.events.push(`WaitStarted ${op.id} ${seconds}`);
  }
  callbackStarted(op, timeoutSeconds, heartbeatTimeoutSeconds) {
    this._guard(op, "CALLBACK", false);
    const rec = this._upsert(op, "CALLBACK", "STARTED");
    rec.callbackId = `cb-${op.id}`;
    this.events.push(`CallbackStarted ${op.id} ${timeoutSeconds} ${heartbeatTimeoutSeconds}`);
    return rec.callbackId;
  }
  contextStarted(op) {
    this._guard(op, "CONTEXT", false);
    this._upsert(op, "CONTEXT", "STARTED");
    this.events.push(`ContextStarted ${op.id} ${op.subType}`);
  }
  contextSucceeded(op, result) {
    Object.assign(this._must(op, "CONTEXT"), { status: "SUCCEEDED", result });
    this.events.push(`ContextSucceeded ${op.id} ${result}`);
  }
  contextFailed(op, error) {
    Object.assign(this._must(op, "CONTEXT"), { status: "FAILED", error });
    this.events.push(`ContextFailed ${op.id} ${error.ErrorType}`);
  }
  invokeStarted(op, fn, payload, tenantId) {
    this._guard(op, "CHAINED_INVOKE", false);
    this._upsert(op, "CHAINED_INVOKE", "STARTED");
    this.events.push(`InvokeStarted ${op.id} ${fn} ${payload} ${tenantId || "-"}`);
  }
  log(level, message) {
    this.logs.push([level, message]);
  }

  // --- the outside world ----------------------------------------------

  /** Ends every started wait and makes every pending retry or poll ready. */
  advanceTime() {
    for (const rec of this.ops.values()) {
      if (rec.type === "WAIT" && rec.status === "STARTED") rec.status = "SUCCEEDED";
      else if (rec.type === "STEP" && rec.status === "PENDING") rec.status = "READY";
    }
  }

  /** Completes callback operation `opId` with a result text, `{errorType}` or `{timedOut: true}`. */
  completeCallback(opId, result, { errorType, timedOut = false } = {}) {
    const rec = this.ops.get(opId);
    if (timedOut) Object.assign(rec, { status: "TIMED_OUT", error: { ErrorType: "Callback.Timeout", ErrorMessage: "timed out" } });
    else if (errorType) Object.assign(rec, { status: "FAILED", error: { ErrorType: errorType, ErrorMessage: "from outside" } });
    else Object.assign(rec, { status: "SUCCEEDED", result });
    this.events.push(`Callback${rec.status} ${opId}`);
  }

  /** Ends chained invoke `opId` with a result text or `{errorType}`. */
  completeInvoke(opId, result, { errorType } = {}) {
    const rec = this.ops.get(opId);
    if (errorType) Object.assign(rec, { status: "FAILED", error: { ErrorType: errorType, ErrorMessage: "the target failed" } });
    else Object.assign(rec, { status: "SUCCEEDED", result });
  }

  /** The id of the (only) started callback. */
  callbackOp() {
    const ids = [...this.ops.values()].filter((r) => r.type === "CALLBACK" && r.status === "STARTED").map((r) => r.id);
    if (ids.length !== 1) throw new Error(`expected one started callback, found ${ids.join(",")}`);
    return ids[0];
  }
}
