// DurableContext: the handle a durable handler runs its operations through,
// with the AWS Durable Execution SDK for JavaScript's method signatures.
import {
  CallbackError, CallbackExternalError, CallbackSubmitterError, CallbackTimeoutError, ChildContextError,
  DurableOperationError, InvokeError, StepInterruptedError, WaitForConditionError, errorObjectFrom, operationError,
} from "./errors.js";
import { BatchItemStatus, BatchResult, CompletionPolicy, NestingType, parseSummary, summaryEnvelope } from "./batch.js";
import { durationToSeconds } from "./duration.js";
import { ENDED, FAILED_LIKE, Scope, never } from "./execution.js";
import { retryPresets } from "./retry.js";
import { defaultSerdes } from "./serdes.js";
import { Logger } from "./logger.js";

/** The largest result journaled as is (the host's payload limit). */
export const CHECKPOINT_SIZE_LIMIT_BYTES = 256 * 1024;

/** Step semantics: run at most or at least once per retry attempt. */
export const StepSemantics = Object.freeze({
  AtMostOncePerRetry: "AT_MOST_ONCE_PER_RETRY",
  AtLeastOncePerRetry: "AT_LEAST_ONCE_PER_RETRY",
});

/** A promise that starts its work when first awaited (AWS's DurablePromise).
 * Lamina's operations start when called and hand their running promise in. */
export class DurablePromise {
  constructor(executor) {
    this._executor = executor;
    this._promise = null;
  }
  _ensure() {
    if (!this._promise) this._promise = Promise.resolve().then(() => this._executor());
    return this._promise;
  }
  then(onFulfilled, onRejected) { return this._ensure().then(onFulfilled, onRejected); }
  catch(onRejected) { return this._ensure().catch(onRejected); }
  finally(onFinally) { return this._ensure().finally(onFinally); }
  get [Symbol.toStringTag]() { return "DurablePromise"; }
  /** Whether the promise has been awaited. */
  get isExecuted() { return this._promise !== null; }
}

function started(promise) {
  promise.catch(() => {});
  const dp = new DurablePromise(() => promise);
  return dp;
}

const utf8Length = (text) => (typeof TextEncoder === "function" ? new TextEncoder().encode(text).length : text.length);

function sdCtx(ex, id) {
  return { entityId: id, durableExecutionArn: ex.arn };
}

/** Runs durable operations. Ids: "1", "2", ... at the top level and
 * "{parent}-1", ... inside the context operation `parent`. */
export class DurableContext {
  constructor(ex, { parentId, prefix, scope, lambdaContext, serdes, logger } = {}) {
    this._ex = ex;
    this._parentId = parentId;
    this._prefix = prefix !== undefined ? prefix : parentId;
    this._scope = scope || ex.root;
    this._counter = 0;
    this._serdes = serdes || { defaultSerdes, defaultCallbackDeserializer: passThroughSerdes };
    this.lambdaContext = lambdaContext;
    this.executionContext = Object.freeze({ durableExecutionArn: ex.arn });
    this._loggerState = logger || { custom: undefined, modeAware: true };
    this.logger = new Logger(ex, this._loggerState, true);
    const self = this;
    this.promise = {
      all: (a, b) => started(Promise.all(b ?? a)),
      allSettled: (a, b) => started(Promise.allSettled(b ?? a)),
      any: (a, b) => started(Promise.any(b ?? a)),
      race: (a, b) => started(Promise.race(b ?? a)),
    };
    void self;
  }

  /** Replaces the logger (`customLogger`) or whether it is silent on replay (`modeAware`). */
  configureLogger(config = {}) {
    if (config.customLogger !== undefined) this._loggerState.custom = config.customLogger;
    if (config.modeAware !== undefined) this._loggerState.modeAware = config.modeAware;
  }

  /** Sets the serdes used when an operation names none. */
  configureSerdes(config = {}) {
    if (config.defaultSerdes) this._serdes.defaultSerdes = config.defaultSerdes;
    if (config.defaultCallbackDeserializer) this._serdes.defaultCallbackDeserializer = config.defaultCallbackDeserializer;
  }

  _child(operationId, { virtual = false, scope } = {}) {
    return new DurableContext(this._ex, {
      parentId: virtual ? this._parentId : operationId,
      prefix: operationId,
      scope: scope || this._scope,
      lambdaContext: this.lambdaContext,
      serdes: this._serdes,
      logger: this._loggerState,
    });
  }

  _nextOp(name, subType) {
    this._counter += 1;
    const id = this._prefix === undefined ? String(this._counter) : `${this._prefix}-${this._counter}`;
    return { id, parentId: this._parentId, name: name ?? undefined, subType };
  }

  async _serialize(serdes, value, id) {
    return (serdes || this._serdes.defaultSerdes).serialize(value, sdCtx(this._ex, id));
  }

  async _deserialize(serdes, text, id) {
    return (serdes || this._serdes.defaultSerdes).deserialize(text ?? undefined, sdCtx(this._ex, id));
  }

  // --- step -----------------------------------------------------------

  /** `step([name,] fn, config?)`: runs `fn(stepContext)` once and journals its result. */
  step(nameOrFn, fnOrConfig, maybeConfig) {
    const named = typeof nameOrFn === "string" || nameOrFn === undefined;
    const name = named ? nameOrFn : undefined;
    const fn = named ? fnOrConfig : nameOrFn;
    const config = (named ? maybeConfig : fnOrConfig) || {};
    const op = this._nextOp(name, "Step");
    return started(this._step(op, fn, config));
  }

  async _step(op, fn, config) {
    const ex = this._ex;
    if (!ex.enter(this._scope)) return never();
    const rec = ex.lookup(op, "STEP");
    const atMostOnce = config.semantics === StepSemantics.AtMostOncePerRetry;
    let attempt = 1;
    if (rec) {
      if (rec.status === "SUCCEEDED") return this._deserialize(config.serdes, rec.result, op.id);
      if (FAILED_LIKE.has(rec.status)) {
        throw DurableOperationError.fromErrorObject(rec.error || { ErrorType: "StepError", ErrorMessage: "Step failed" });
      }
      if (rec.status === "PENDING") return ex.suspend(this._scope);
      if (rec.status === "READY") attempt = rec.attempt + 1;
      else if (rec.status === "STARTED") {
        attempt = Math.max(rec.attempt, 1);
        if (atMostOnce) return this._failAttempt(op, config, attempt, new StepInterruptedError(op.id, op.name));
      }
    }
    ex.call("stepStarted", op, attempt, atMostOnce);
    let value;
    try {
      value = await fn({ logger: new Logger(ex, this._loggerState, false), attempt });
    } catch (err) {
      return this._failAttempt(op, config, attempt, err);
    }
    ex.raiseHalt();
    const text = await this._serialize(config.serdes, value, op.id);
    ex.call("stepSucceeded", op, attempt, text === undefined ? "null" : text);
    return text === undefined ? undefined : this._deserialize(config.serdes, text, op.id);
  }

  _failAttempt(op, config, attempt, err) {
    const ex = this._ex;
    ex.raiseHalt();
    const error = errorObjectFrom(err);
    const strategy = config.retryStrategy || retryPresets.default;
    const decision = strategy(err instanceof Error ? err : new Error(String(err)), attempt);
    if (decision.shouldRetry) {
      const delay = decision.delay ? durationToSeconds(decision.delay) : 1;
      ex.call("stepRetry", op, attempt, error, Math.max(1, Math.round(delay)));
      return ex.suspend(this._scope);
    }
    ex.call("stepFailed", op, attempt, error);
    throw DurableOperationError.fromErrorObject(error);
  }

  // --- wait -----------------------------------------------------------

  /** `wait([name,] duration)`: waits durably (at least one second); no instance is held. */
  wait(nameOrDuration, maybeDuration) {
    const named = typeof nameOrDuration === "string";
    const name = named ? nameOrDuration : undefined;
    const duration = named ? maybeDuration : nameOrDuration;
    const op = this._nextOp(name, "Wait");
    return started(this._wait(op, duration));
  }

  async _wait(op, duration) {
    const seconds = durationToSeconds(duration);
    if (!(seconds >= 1)) throw new Error("wait duration must be at least 1 second");
    const ex = this._ex;
    if (!ex.enter(this._scope)) return never();
    const rec = ex.lookup(op, "WAIT");
    if (!rec) {
      ex.call("waitStarted", op, Math.round(seconds));
      return ex.suspend(this._scope);
    }
    if (rec.status === "SUCCEEDED") return undefined;
    if (FAILED_LIKE.has(rec.status)) {
      throw DurableOperationError.fromErrorObject(rec.error || { ErrorType: "StepError", ErrorMessage: "wait ended without success" });
    }
    return ex.suspend(this._scope);
  }

  // --- callbacks ------------------------------------------------------

  /** `createCallback([name,] config?)`: resolves to `[resultPromise, callbackId]`. */
  createCallback(nameOrConfig, maybeConfig) {
    const named = typeof nameOrConfig === "string" || (nameOrConfig === undefined && maybeConfig !== undefined);
    const name = named ? nameOrConfig : undefined;
    const config = (named ? maybeConfig : nameOrConfig) || {};
    const op = this._nextOp(name, "Callback");
    return started(this._createCallback(op, config));
  }

  async _createCallback(op, config) {
    const ex = this._ex;
    if (!ex.enter(this._scope)) return never();
    const rec = ex.lookup(op, "CALLBACK");
    let callbackId;
    if (!rec) {
      callbackId = ex.call("callbackStarted", op, durationToSeconds(config.timeout), durationToSeconds(config.heartbeatTimeout));
    } else {
      if (!rec.callbackId) throw new CallbackError(`Missing callback details for operation: ${op.id}`);
      callbackId = rec.callbackId;
    }
    const scope = this._scope;
    const serdes = config.serdes || this._serdes.defaultCallbackDeserializer;
    const result = new DurablePromise(async () => {
      if (!rec || !ENDED.has(rec.status)) return ex.suspend(scope);
      if (rec.status === "SUCCEEDED") return serdes.deserialize(rec.result ?? undefined, sdCtx(ex, op.id));
      const error = rec.error || {};
      if (rec.status === "TIMED_OUT") throw new CallbackTimeoutError(error.ErrorMessage || "Callback timed out", undefined, error.ErrorData);
      throw new CallbackExternalError(error.ErrorMessage || "Callback failed", undefined, error.ErrorData);
    });
    return [result, callbackId];
  }

  /** `waitForCallback([name,] submitter, config?)`: creates a callback, runs
   * `submitter(callbackId, ctx)` in a step and resolves to the callback's result. */
  waitForCallback(nameOrSubmitter, submitterOrConfig, maybeConfig) {
    const named = typeof nameOrSubmitter === "string" || nameOrSubmitter === undefined;
    const name = named ? nameOrSubmitter : undefined;
    const submitter = named ? submitterOrConfig : nameOrSubmitter;
    const config = (named ? maybeConfig : submitterOrConfig) || {};
    const op = this._nextOp(name, "WaitForCallback");
    const prefix = name ? `${name} ` : "";
    const body = async (child) => {
      const [result, callbackId] = await child.createCallback(`${prefix}create callback id`, {
        timeout: config.timeout, heartbeatTimeout: config.heartbeatTimeout, serdes: config.serdes,
      });
      await child.step(`${prefix}submitter`, async (stepCtx) => {
        await submitter(callbackId, { logger: stepCtx.logger });
      }, config.retryStrategy ? { retryStrategy: config.retryStrategy } : undefined);
      return result;
    };
    return started(this._runChildOp(op, body, undefined).catch((err) => {
      if (err instanceof ChildContextError) {
        const inner = err.cause;
        if (inner && (inner.name === "CallbackExternalError" || inner.name === "CallbackTimeoutError")) {
          const Cls = inner.name === "CallbackTimeoutError" ? CallbackTimeoutError : CallbackExternalError;
          throw new Cls(err.message, undefined, err.errorData);
        }
        if (inner && inner.name === "StepError" || (inner && inner.name !== "ChildContextError")) {
          throw new CallbackSubmitterError(err.message || "Callback submitter failed", err, err.errorData);
        }
      }
      throw err;
    }));
  }

  // --- child contexts -------------------------------------------------

  /** `runInChildContext([name,] fn, config?)`: runs `fn(childContext)` as one journaled operation. */
  runInChildContext(nameOrFn, fnOrConfig, maybeConfig) {
    const named = typeof nameOrFn === "string" || nameOrFn === undefined;
    const name = named ? nameOrFn : undefined;
    const fn = named ? fnOrConfig : nameOrFn;
    const config = (named ? maybeConfig : fnOrConfig) || {};
    const op = this._nextOp(name, config.subType || "RunInChildContext");
    return started(this._runChildOp(op, fn, config));
  }

  async _runChildOp(op, fn, config) {
    const ex = this._ex;
    if (!ex.enter(this._scope)) return never();
    if (config && config.virtualContext) {
      try {
        return await fn(this._child(op.id, { virtual: true }));
      } catch (err) {
        ex.raiseHalt();
        throw mapError(config, operationError(ChildContextError, errorObjectFrom(err)));
      }
    }
    const serdes = config && config.serdes;
    return this._contextOp(op, fn, {
      encode: (v) => this._serialize(serdes, v, op.id),
      decode: (t) => this._deserialize(serdes, t, op.id),
      summary: config && config.summaryGenerator,
      config,
    });
  }

  async _contextOp(op, fn, { encode, decode, summary, config, scope }) {
    const ex = this._ex;
    let replayChildren = false;
    const rec = ex.lookup(op, "CONTEXT");
    if (!rec) ex.call("contextStarted", op);
    else if (rec.status === "SUCCEEDED") {
      if (rec.result === "") replayChildren = true;
      else if (rec.result == null) return undefined;
      else return decode(rec.result);
    } else if (FAILED_LIKE.has(rec.status)) {
      throw mapError(config, operationError(ChildContextError, rec.error || { ErrorType: "ChildContextError" }));
    }
    const child = this._child(op.id, { scope });
    const childScope = scope || this._scope;
    let value;
    try {
      value = await fn(child);
    } catch (err) {
      ex.raiseHalt();
      if (childScope.suspended) return never();
      const error = errorObjectFrom(err);
      if (!replayChildren) ex.call("contextFailed", op, error);
      throw mapError(config, operationError(ChildContextError, error));
    }
    ex.raiseHalt();
    if (childScope.suspended) return never();
    if (replayChildren) return value;
    const text = await encode(value);
    let stored = text === undefined ? "null" : text;
    if (utf8Length(stored) > CHECKPOINT_SIZE_LIMIT_BYTES) stored = "";
    void summary;
    ex.call("contextSucceeded", op, stored);
    return value;
  }

  // --- parallel and map -----------------------------------------------

  /** `parallel([name,] branches, config?)`: branches (functions of a context, or
   * `{name, func}`) as one Parallel operation; resolves to a BatchResult. */
  parallel(nameOrBranches, branchesOrConfig, maybeConfig) {
    const named = typeof nameOrBranches === "string" || nameOrBranches === undefined;
    const name = named ? nameOrBranches : undefined;
    const list = named ? branchesOrConfig : nameOrBranches;
    const config = (named ? maybeConfig : branchesOrConfig) || {};
    const branches = list.map((b, i) => (typeof b === "function"
      ? { name: `parallel-branch-${i}`, body: b }
      : { name: b.name || `parallel-branch-${i}`, body: b.func }));
    const op = this._nextOp(name, "Parallel");
    const completion = config.completionConfig || {};
    return started(this._batch(op, "ParallelBranch", "ParallelResult", branches, config, completion));
  }

  /** `map([name,] items, fn, config?)`: `fn(ctx, item, index, items)` per item as one Map operation. */
  map(nameOrItems, itemsOrFn, fnOrConfig, maybeConfig) {
    const named = typeof nameOrItems === "string" || nameOrItems === undefined;
    const name = named ? nameOrItems : undefined;
    const items = named ? itemsOrFn : nameOrItems;
    const fn = named ? fnOrConfig : itemsOrFn;
    const config = (named ? maybeConfig : fnOrConfig) || {};
    const branches = items.map((item, i) => ({
      name: config.itemNamer ? config.itemNamer(item, i) : `map-item-${i}`,
      body: (ctx) => fn(ctx, item, i, items),
    }));
    const op = this._nextOp(name, "Map");
    return started(this._batch(op, "MapIteration", "MapResult", branches, config, config.completionConfig || {}));
  }

  async _batch(op, itemSubType, resultType, branches, config, completion) {
    const ex = this._ex;
    if (config.maxConcurrency != null && !(config.maxConcurrency > 0)) {
      throw new Error(`Invalid maxConcurrency: ${config.maxConcurrency}. Must be a positive number or undefined for unlimited concurrency.`);
    }
    if (!ex.enter(this._scope)) return never();
    const total = branches.length;
    const policy = new CompletionPolicy(total, completion, branches.map((b) => b.name));
    const itemSerdes = config.itemSerdes || undefined;
    const rec = ex.lookup(op, "CONTEXT");
    const batchCtx = this._child(op.id);
    if (!rec) ex.call("contextStarted", op);
    else if (rec.status === "SUCCEEDED") {
      const summary = parseSummary(rec.result, resultType);
      if (summary) return batchCtx._replayBatch(op.id, branches, summary, itemSubType, config, itemSerdes);
      if (config.serdes) return config.serdes.deserialize(rec.result ?? "null", sdCtx(ex, op.id));
      return BatchResult.fromJSON(JSON.parse(rec.result || "null") || { all: [] });
    } else if (FAILED_LIKE.has(rec.status)) {
      throw operationError(ChildContextError, rec.error || { ErrorType: "ChildContextError" });
    }
    const limit = config.maxConcurrency || total || 1;
    let succeeded = 0, failed = 0, inFlight = 0;
    const items = [];
    for (let index = 0; index < total; index++) {
      if (policy.done(succeeded, failed) || inFlight >= limit) break;
      const item = await batchCtx._branch(op.id, index, branches[index], itemSubType, config, itemSerdes);
      if (item.status === BatchItemStatus.SUCCEEDED) succeeded++;
      else if (item.status === BatchItemStatus.FAILED) failed++;
      else inFlight++;
      items.push(item);
      policy.observe(items, succeeded, failed);
    }
    if (!policy.done(succeeded, failed)) return ex.suspend(this._scope);
    const result = new BatchResult(items, policy.reason(succeeded, failed));
    let text = config.serdes
      ? await config.serdes.serialize(result, sdCtx(ex, op.id))
      : JSON.stringify(result);
    if (text === undefined) text = "null";
    if (utf8Length(text) > CHECKPOINT_SIZE_LIMIT_BYTES) {
      const custom = config.summaryGenerator ? config.summaryGenerator(result) : undefined;
      text = summaryEnvelope(result, resultType, custom);
    }
    ex.call("contextSucceeded", op, text);
    return result;
  }

  async _replayBatch(batchId, branches, summary, itemSubType, config, itemSerdes) {
    const startedIdx = new Set(summary.startedIndexes || []);
    const items = [];
    for (let index = 0; index < Math.min(summary.totalCount, branches.length); index++) {
      if (startedIdx.has(index)) items.push({ index, status: BatchItemStatus.STARTED });
      else items.push(await this._branch(batchId, index, branches[index], itemSubType, config, itemSerdes));
    }
    return new BatchResult(items, summary.completionReason);
  }

  /** Runs (or replays) one branch in a suspension scope of its own. */
  async _branch(batchId, index, branch, itemSubType, config, itemSerdes) {
    const ex = this._ex;
    const opId = `${batchId}-${index + 1}`;
    const scope = new Scope();
    let running;
    if (config.nesting === NestingType.FLAT) {
      const child = new DurableContext(ex, {
        parentId: this._parentId, prefix: opId, scope, lambdaContext: this.lambdaContext,
        serdes: this._serdes, logger: this._loggerState,
      });
      running = Promise.resolve().then(() => branch.body(child));
    } else {
      const op = { id: opId, parentId: batchId, name: branch.name, subType: itemSubType };
      running = this._contextOp(op, branch.body, {
        encode: (v) => this._serialize(itemSerdes, v, opId),
        decode: (t) => this._deserialize(itemSerdes, t, opId),
        scope,
      });
    }
    const outcome = await Promise.race([
      running.then((value) => ({ ok: true, value }), (error) => ({ ok: false, error })),
      scope.blocked.then(() => ({ blocked: true })),
    ]);
    ex.raiseHalt();
    if (outcome.blocked || scope.suspended) return { index, status: BatchItemStatus.STARTED };
    if (outcome.ok) return { index, status: BatchItemStatus.SUCCEEDED, result: outcome.value };
    return { index, status: BatchItemStatus.FAILED, error: itemError(outcome.error) };
  }

  // --- waitForCondition -----------------------------------------------

  /** `waitForCondition([name,] check, config)`: runs `check(state, ctx)` until
   * `config.waitStrategy` says stop, sleeping durably between checks. */
  waitForCondition(nameOrCheck, checkOrConfig, maybeConfig) {
    const named = typeof nameOrCheck === "string" || nameOrCheck === undefined;
    const name = named ? nameOrCheck : undefined;
    const check = named ? checkOrConfig : nameOrCheck;
    const config = named ? maybeConfig : checkOrConfig;
    const op = this._nextOp(name, "WaitForCondition");
    return started(this._waitForCondition(op, check, config));
  }

  async _waitForCondition(op, check, config) {
    if (typeof check !== "function") throw new TypeError("waitForCondition requires a check function");
    if (!config || typeof config.waitStrategy !== "function") throw new TypeError("waitForCondition requires config.waitStrategy");
    const ex = this._ex;
    if (!ex.enter(this._scope)) return never();
    const rec = ex.lookup(op, "STEP");
    let state = config.initialState;
    let attempt = 1;
    if (rec) {
      if (rec.status === "SUCCEEDED") return this._deserialize(config.serdes, rec.result, op.id);
      if (FAILED_LIKE.has(rec.status)) {
        throw operationError(WaitForConditionError, rec.error || { ErrorType: "WaitForConditionError" });
      }
      if (rec.status === "PENDING") return ex.suspend(this._scope);
      if (rec.result != null) state = await this._deserialize(config.serdes, rec.result, op.id);
      attempt = rec.status === "READY" ? rec.attempt + 1 : Math.max(rec.attempt, 1);
    }
    ex.call("stepStarted", op, attempt, false);
    let decision, text;
    try {
      const next = await check(state, { logger: new Logger(ex, this._loggerState, false), attempt });
      decision = config.waitStrategy(next, attempt);
      text = await this._serialize(config.serdes, next, op.id);
    } catch (err) {
      ex.raiseHalt();
      const error = errorObjectFrom(err);
      ex.call("stepFailed", op, attempt, error);
      throw operationError(WaitForConditionError, error);
    }
    if (text === undefined) text = "null";
    if (decision.shouldContinue) {
      const delay = decision.delay ? durationToSeconds(decision.delay) : 1;
      ex.call("stepPoll", op, attempt, text, Math.max(1, Math.round(delay)));
      return ex.suspend(this._scope);
    }
    ex.call("stepSucceeded", op, attempt, text);
    return this._deserialize(config.serdes, text, op.id);
  }

  // --- invoke ---------------------------------------------------------

  /** `invoke([name,] funcId, input?, config?)`: invokes another function and resolves to its result. */
  invoke(nameOrFuncId, funcIdOrInput, inputOrConfig, maybeConfig) {
    const named = typeof funcIdOrInput === "string";
    const name = named ? nameOrFuncId : undefined;
    const funcId = named ? funcIdOrInput : nameOrFuncId;
    const input = named ? inputOrConfig : funcIdOrInput;
    const config = (named ? maybeConfig : inputOrConfig) || {};
    const op = this._nextOp(name, "ChainedInvoke");
    return started(this._invoke(op, funcId, input, config));
  }

  async _invoke(op, funcId, input, config) {
    if (!funcId) throw new TypeError("the function name of an invoke must not be empty");
    const ex = this._ex;
    if (!ex.enter(this._scope)) return never();
    const rec = ex.lookup(op, "CHAINED_INVOKE");
    if (!rec) {
      const text = await this._serialize(config.payloadSerdes, input, op.id);
      ex.call("invokeStarted", op, funcId, text === undefined ? "null" : text, config.tenantId);
      return ex.suspend(this._scope);
    }
    if (rec.status === "SUCCEEDED") return this._deserialize(config.resultSerdes, rec.result, op.id);
    if (FAILED_LIKE.has(rec.status)) {
      throw operationError(InvokeError, rec.error || {
        ErrorType: "InvokeError", ErrorMessage: `the invoke of ${funcId} (operation ${op.id}) ended ${rec.status.toLowerCase()}`,
      });
    }
    return ex.suspend(this._scope);
  }
}

/** Returns the callback's payload as it is (AWS's default callback deserializer). */
export const passThroughSerdes = {
  serialize: async (value) => value,
  deserialize: async (data) => data,
};

function mapError(config, error) {
  return config && typeof config.errorMapper === "function" ? config.errorMapper(error) : error;
}

/** The ChildContextError a failed branch reports; keeps the escaping error's type. */
function itemError(err) {
  if (err instanceof ChildContextError) return err;
  return operationError(ChildContextError, errorObjectFrom(err));
}
