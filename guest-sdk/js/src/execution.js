// State shared by every context of one invocation (the loaded journal, the
// replay flag, suspension scopes, the halt) and one run of a durable handler.
import { JournalError, NonDeterministicExecutionError, errorObjectFrom } from "./errors.js";

/** Operation statuses that end an operation. */
export const ENDED = new Set(["SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "STOPPED"]);
/** Operation statuses that end an operation without success. */
export const FAILED_LIKE = new Set(["FAILED", "CANCELLED", "TIMED_OUT", "STOPPED"]);

/** A promise that never settles: what a suspended operation returns. */
export function never() {
  return new Promise(() => {});
}

/** Runs `fn` once every microtask queued so far (and those they queue) has run. */
function whenQuiet(fn) {
  if (typeof setTimeout === "function") {
    setTimeout(fn, 0);
    return;
  }
  let hops = 0;
  const hop = () => (++hops < 1000 ? Promise.resolve().then(hop) : fn());
  hop();
}

/** A suspension scope: the top level, or one parallel/map branch. Once an
 * operation in it suspends, `blocked` resolves when nothing else can run. */
export class Scope {
  constructor() {
    this.suspended = false;
    this._scheduled = false;
    this.blocked = new Promise((resolve) => { this._resolve = resolve; });
  }

  /** Marks the scope suspended. */
  suspend() {
    this.suspended = true;
    if (!this._scheduled) {
      this._scheduled = true;
      whenQuiet(() => this._resolve());
    }
  }
}

/** The execution ended on the host (stopped, timed out): the invocation ends as pending. */
class ExecutionEnded extends Error {
  constructor(message) { super(message); this.name = "ExecutionEnded"; }
}

/** One invocation of a durable execution. */
export class Execution {
  constructor(journal, state) {
    this.journal = journal;
    this.arn = state.arn;
    this.functionName = state.functionName;
    this.input = state.input;
    this.ops = new Map();
    for (const op of state.operations) if (op.type !== "EXECUTION") this.ops.set(op.id, op);
    this.ended = new Set([...this.ops.values()].filter((op) => ENDED.has(op.status)).map((op) => op.id));
    this.visited = new Set();
    this.replaying = this.ops.size > 0;
    this.halt = null;
    this.root = new Scope();
  }

  /** Throws the halt, if any; false when `scope` is suspended (start nothing). */
  enter(scope) {
    this.raiseHalt();
    return !scope.suspended;
  }

  /** Throws the invocation's halt, if any. */
  raiseHalt() {
    if (this.halt) throw freshHalt(this.halt);
  }

  /** Marks `scope` suspended; returns the promise the operation returns. */
  suspend(scope) {
    this.raiseHalt();
    scope.suspend();
    return never();
  }

  /** Records a halt (non-determinism wins over everything) and ends the invocation. */
  setHalt(error) {
    if (!(this.halt instanceof NonDeterministicExecutionError)) this.halt = error;
    this.root.suspend();
    return freshHalt(this.halt);
  }

  /** Calls a journal import; a refusal halts the invocation. */
  call(method, ...args) {
    try {
      return this.journal[method](...args);
    } catch (err) {
      if (err instanceof JournalError) {
        throw this.setHalt(err.kind === "execution-ended" ? new ExecutionEnded(err.message) : err);
      }
      throw err;
    }
  }

  /** The recorded operation for `op`, after checking it is the same kind. */
  lookup(op, type) {
    const rec = this.ops.get(op.id);
    if (!rec) {
      this.replaying = false;
      return undefined;
    }
    const differs = rec.type !== type
      || (rec.subType != null && rec.subType !== op.subType)
      || (rec.name != null && op.name != null && rec.name !== op.name);
    if (differs) {
      const message = `operation ${rec.id} is ${describe(rec.type, rec.subType, rec.name)} in the journal `
        + `but ${describe(type, op.subType, op.name)} in the code`;
      throw this.setHalt(new NonDeterministicExecutionError(message));
    }
    this.visit(rec);
    return rec;
  }

  visit(rec) {
    if (!ENDED.has(rec.status)) {
      if (rec.type !== "CONTEXT") this.replaying = false;
      return;
    }
    this.visited.add(rec.id);
    if (rec.type === "CONTEXT") {
      const prefix = rec.id + "-";
      for (const id of this.ended) if (id.startsWith(prefix)) this.visited.add(id);
    }
    if (this.visited.size >= this.ended.size) this.replaying = false;
  }
}

function freshHalt(halt) {
  const copy = new halt.constructor(halt.kind ? halt.message.slice(halt.kind.length + 2) : halt.message);
  if (halt.kind) copy.kind = halt.kind;
  return copy;
}

function describe(type, subType, name) {
  return `${type.toLowerCase().replace("_", "-")}/${subType || "-"}/${name == null ? "-" : `"${name}"`}`;
}

/** How a run ended: `{status: "SUCCEEDED", result}`, `{status: "FAILED", error}` or `{status: "PENDING"}`. */
export function outcomeOf(ex, settled) {
  if (ex.halt) {
    if (ex.halt instanceof ExecutionEnded) return { status: "PENDING" };
    if (ex.halt instanceof NonDeterministicExecutionError) {
      return { status: "FAILED", error: { ErrorType: "NonDeterministicExecution", ErrorMessage: ex.halt.message } };
    }
    return { status: "FAILED", error: { ErrorType: "JournalError", ErrorMessage: ex.halt.message } };
  }
  if (settled.blocked || ex.root.suspended) return { status: "PENDING" };
  if (!settled.ok) return { status: "FAILED", error: errorObjectFrom(settled.error) };
  try {
    const text = JSON.stringify(settled.value);
    return { status: "SUCCEEDED", result: text === undefined ? "null" : text };
  } catch (err) {
    return { status: "FAILED", error: { ErrorType: "SerdesError", ErrorMessage: `the result could not be serialized: ${err.message}` } };
  }
}
