// Conformance fixture in JavaScript: one component whose handler picks the
// case by the function name it runs under (`case-<id>`), like the Rust
// (examples/fixtures/durable-cases) and Python (examples/python/durable-cases)
// fixtures. Cases read their input from the event's "Input" key. Run by
// tests/js/run.sh --conformance.
import {
  BatchItemStatus, BatchResult, CallbackError, ChildContextError, InvokeError, JitterStrategy, StepError,
  StepSemantics, WaitForConditionError, createRetryStrategy, defaultSerdes, retryPresets, withDurableExecution,
} from "lamina-sdk";

const CASES = {};
const cases = (ids, fn) => { for (const id of ids) CASES[id] = fn; };

class NamedError extends Error {
  constructor(name, message) { super(message); this.name = name; }
}
const intended = (message) => new NamedError("IntendedError", message);

function text(value) {
  if (typeof value !== "string") throw new NamedError("InvalidInput", `expected a string, got ${JSON.stringify(value)}`);
  return value;
}

const NO_RETRY = { retryStrategy: retryPresets.noRetry };
const retries = (maxAttempts, initial = 1, rate = 2) => createRetryStrategy({
  maxAttempts, initialDelay: { seconds: initial }, backoffRate: rate, jitter: JitterStrategy.NONE,
});
function failUntil(attempt, succeedAt) {
  if (attempt < succeedAt) throw intended(`attempt ${attempt} fails on purpose`);
  return attempt;
}
const describe = (err) => `${err.errorType ?? err.name}: ${err.message}`;

// --- 1: steps ------------------------------------------------------------------
cases(["1-1"], async (v, ctx) => { const name = text(v); return ctx.step(async () => `Hello, ${name}!`); });
cases(["1-2"], async (v, ctx) => { const name = text(v); return ctx.step("custom_step_name", async () => `Hello, ${name}!`); });
cases(["1-4"], async (v, ctx) => {
  const tags = v.tags ?? [];
  return ctx.step(async () => ({ user: { name: text(v.name), tags }, count: tags.length }));
});
cases(["1-5"], async (_v, ctx) => ctx.step(async () => null));
cases(["1-7"], async (v, ctx) => {
  const name = text(v);
  return ctx.step(async (step) => {
    step.logger.info(`Greeting step started for: ${name}`);
    const greeting = `Hello, ${name}!`;
    step.logger.info(`Greeting step completed with: ${greeting}`);
    return greeting;
  });
});
cases(["1-8"], async (_v, ctx) => {
  const result = await ctx.step(async () => "computed");
  await ctx.wait({ seconds: 2 });
  return result;
});
cases(["1-10"], async (_v, ctx) => {
  let caught = "no error";
  try {
    await ctx.step(async (step) => { step.logger.info("step executed"); throw intended("step fails permanently"); }, NO_RETRY);
  } catch (err) {
    if (!(err instanceof StepError)) throw err;
    caught = describe(err);
  }
  await ctx.wait({ seconds: 1 });
  return { caught };
});
cases(["1-11"], async (_v, ctx) => ctx.step(async (s) => failUntil(s.attempt, 2) && "Operation succeeded", { retryStrategy: retries(3) }));
cases(["1-13"], async (_v, ctx) => ({ attempts: await ctx.step(async (s) => failUntil(s.attempt, 3)) }));
cases(["1-14"], async (_v, ctx) => ({ attempts: await ctx.step(async (s) => failUntil(s.attempt, 3), { retryStrategy: retries(5, 2, 3) }) }));
cases(["1-16"], async (_v, ctx) => {
  const strategy = (err, attempt) => (err.name === "TransientError" ? { shouldRetry: false } : retryPresets.default(err, attempt));
  return ctx.step(async () => { throw new NamedError("TransientError", "a transient failure"); }, { retryStrategy: strategy });
});
cases(["1-17"], async (v, ctx) => {
  const data = text(v);
  return ctx.step("at_most_once_flaky_step", async (step) => {
    step.logger.info(`processing input: ${data}`);
    process.exit(1);
  }, { retryStrategy: retryPresets.noRetry, semantics: StepSemantics.AtMostOncePerRetry });
});
cases(["1-19"], async (_v, ctx) => ctx.step(async () => { throw intended("this step always fails"); }, NO_RETRY));
cases(["1-20"], async (_v, ctx) => {
  let result;
  try {
    result = await ctx.step(async () => { throw intended("this step fails"); }, NO_RETRY);
  } catch (err) {
    if (!(err instanceof StepError)) throw err;
    result = "fallback_result";
  }
  return ctx.step(async () => result);
});

// --- 2: waits --------------------------------------------------------------------
cases(["2-1"], async (_v, ctx) => { await ctx.wait({ seconds: 2 }); });
cases(["2-2"], async (_v, ctx) => { await ctx.wait("custom_wait_name", { seconds: 2 }); });
cases(["2-4"], async (_v, ctx) => { await ctx.wait({ minutes: 1 }); });
cases(["2-5"], async (_v, ctx) => { await ctx.wait({ hours: 1 }); });

// --- 3: child contexts -------------------------------------------------------------
const echoStep = (ctx, value) => ctx.step(async () => value);
const failingStep = (ctx, strategy) => ctx.step(async (s) => { throw intended(`attempt ${s.attempt} fails on purpose`); }, { retryStrategy: strategy });

cases(["3-1"], async (v, ctx) => { const data = text(v); return ctx.runInChildContext("child", (c) => echoStep(c, data)); });
cases(["3-2"], async (v, ctx) => ctx.runInChildContext(text(v.name), (c) => echoStep(c, text(v.value))));
cases(["3-4"], async (_v, ctx) => ctx.runInChildContext("child", (c) => failingStep(c, retryPresets.noRetry)));
cases(["3-5"], async (v, ctx) => {
  const data = text(v);
  try {
    await ctx.runInChildContext("child", (c) => failingStep(c, retryPresets.noRetry));
  } catch (err) {
    if (!(err instanceof ChildContextError)) throw err;
  }
  return echoStep(ctx, data);
});
cases(["3-7"], async (v, ctx) => {
  const data = text(v);
  return ctx.runInChildContext("child", (c) => c.step(async (s) => failUntil(s.attempt, 2) && data, { retryStrategy: retries(3) }));
});
cases(["3-8"], async (_v, ctx) => ctx.runInChildContext("child", (c) => failingStep(c, retries(2))));
cases(["3-10"], async (v, ctx) => {
  const data = text(v);
  return ctx.runInChildContext("child", async (c) => {
    const result = await echoStep(c, data);
    await c.wait({ seconds: 1 });
    return result;
  });
});
function alwaysLogs(ctx) {
  ctx.configureLogger({ modeAware: false });
}
cases(["3-11"], async (v, ctx) => {
  const data = text(v);
  const large = await ctx.runInChildContext("child", async (c) => {
    alwaysLogs(c);
    c.logger.info(`child context input: ${data}`);
    return (await echoStep(c, "x")).repeat(300 * 1024);
  });
  await ctx.wait({ seconds: 1 });
  return { length: large.length };
});
cases(["3-13"], async (v, ctx) => {
  const data = text(v);
  await ctx.runInChildContext("child", async (c) => { await c.wait({ seconds: 1 }); return data; });
  return echoStep(ctx, data);
});
const verbatim = { serialize: async (v) => v, deserialize: async (d) => d };
cases(["3-14"], async (v, ctx) => {
  const data = text(v);
  return ctx.runInChildContext("child", async (c) => (await echoStep(c, data)).toUpperCase(), { serdes: verbatim });
});
cases(["3-16"], async (_v, ctx) => ctx.runInChildContext("child", async () => null));
cases(["3-17"], async (v, ctx) => {
  const data = text(v);
  const result = await ctx.runInChildContext("child", async (c) => {
    alwaysLogs(c);
    c.logger.info(`child context input: ${data}`);
    return data;
  });
  await ctx.wait({ seconds: 1 });
  return result;
});

// --- 4: callbacks ------------------------------------------------------------------
// Callback results are JSON here (AWS's default hands over the raw text).
const json = { serialize: async (v) => JSON.stringify(v), deserialize: async (d) => (d === undefined ? undefined : JSON.parse(d)) };
async function createAndAwait(ctx, name, config = {}) {
  const [result] = await ctx.createCallback(name, { serdes: json, ...config });
  return result;
}
cases(["4-1"], async (v, ctx) => createAndAwait(ctx, text(v)));
cases(["4-2"], async (_v, ctx) => createAndAwait(ctx, "approval"));
cases(["4-4"], async (v, ctx) => createAndAwait(ctx, text(v), { heartbeatTimeout: { seconds: 5 } }));
cases(["4-5"], async (v, ctx) => createAndAwait(ctx, text(v), { heartbeatTimeout: { seconds: 10 } }));
cases(["4-7"], async (v, ctx) => {
  const [result] = await ctx.createCallback(text(v), { serdes: json });
  await ctx.step(async () => "step done");
  return result;
});
cases(["4-8"], async (v, ctx) => {
  const [result] = await ctx.createCallback(text(v), { serdes: json, timeout: { seconds: 5 } });
  await ctx.step(async () => "step done");
  return result;
});
cases(["4-10"], async (v, ctx) => {
  const [result] = await ctx.createCallback(text(v), { serdes: json });
  await ctx.wait({ seconds: 5 });
  return result;
});
cases(["4-11"], async (v, ctx) => {
  const [result] = await ctx.createCallback(text(v), { serdes: json, timeout: { seconds: 3 } });
  await ctx.wait({ seconds: 6 });
  return result;
});
async function awaitOrMessage(ctx, name, config) {
  try {
    const result = await createAndAwait(ctx, name, config);
    return `callback succeeded: ${JSON.stringify(result)}`;
  } catch (err) {
    if (!(err instanceof CallbackError)) throw err;
    return `callback error: ${describe(err)}`;
  }
}
cases(["4-13"], async (v, ctx) => { const m = await awaitOrMessage(ctx, text(v)); await ctx.wait({ seconds: 2 }); return m; });
cases(["4-14"], async (v, ctx) => {
  const m = await awaitOrMessage(ctx, text(v), { timeout: { seconds: 3 } });
  await ctx.wait({ seconds: 2 });
  return m;
});
cases(["4-16"], async (v, ctx) => {
  const [result] = await ctx.createCallback(text(v));
  const raw = await result;
  const count = parseInt(String(JSON.parse(raw)).trim(), 10);
  return { count, doubled: count * 2 };
});
cases(["4-17"], async (v, ctx) => {
  const a = await createAndAwait(ctx, text(v[0]));
  const b = await createAndAwait(ctx, text(v[1]));
  return [a, b];
});
cases(["4-19"], async (v, ctx) => {
  const [a] = await ctx.createCallback(text(v[0]), { serdes: json });
  const [b] = await ctx.createCallback(text(v[1]), { serdes: json });
  const bResult = await b;
  const aResult = await a;
  return [aResult, bResult];
});

// --- 6: waitForCondition --------------------------------------------------------------
const fixed = (delay, keepPolling) => (state) => (keepPolling(state) ? { shouldContinue: true, delay: { seconds: delay } } : { shouldContinue: false });
const countUp = (ctx, initial, target, delay = 1) => ctx.waitForCondition(async (s) => s + 1, {
  waitStrategy: fixed(delay, (s) => s < target), initialState: initial,
});
cases(["6-1"], async (v, ctx) => countUp(ctx, 0, Number(v)));
cases(["6-2"], async (v, ctx) => { const target = Number(v); return ctx.waitForCondition(async (s) => s, { waitStrategy: fixed(1, (s) => s < target), initialState: 5 }); });
cases(["6-4"], async (v, ctx) => countUp(ctx, 5, Number(v)));
cases(["6-5"], async (v, ctx) => countUp(ctx, 0, Number(v), 2));
const failingCheck = (ctx) => ctx.waitForCondition(async (_s, c) => { throw new NamedError("CheckError", `check ${c.attempt} fails on purpose`); }, {
  waitStrategy: fixed(1, () => true), initialState: 0,
});
cases(["6-7"], async (_v, ctx) => failingCheck(ctx));
cases(["6-8"], async (_v, ctx) => {
  try {
    return await failingCheck(ctx);
  } catch (err) {
    if (!(err instanceof WaitForConditionError)) throw err;
    return "recovered";
  }
});
cases(["6-10"], async (_v, ctx) => ctx.waitForCondition(async () => null, { waitStrategy: fixed(1, () => false), initialState: null }));
const encoded = {
  serialize: async (v) => `len=${v.length};${v}`,
  deserialize: async (d) => {
    const m = /^len=(\d+);(.*)$/s.exec(d);
    if (!m || Number(m[1]) !== m[2].length) throw new Error(`not an encoded state: ${d}`);
    return m[2];
  },
};
cases(["6-11"], async (_v, ctx) => ctx.waitForCondition(async (s) => `${s}x`, { waitStrategy: fixed(1, (s) => s.length < 2), initialState: "", serdes: encoded }));
cases(["6-13"], async (_v, ctx) => { const first = await countUp(ctx, 0, 2); return countUp(ctx, first, 4); });

// --- 7: waitForCallback -------------------------------------------------------------------
const submit = async (callbackId, wctx) => { wctx.logger.info(`submitting callback id ${callbackId}`); };
cases(["7-1", "7-4"], async (v, ctx) => ctx.waitForCallback(text(v), submit, { serdes: json }));
cases(["7-2"], async (_v, ctx) => ctx.waitForCallback("approval", submit, { serdes: json }));
cases(["7-5"], async (v, ctx) => ctx.waitForCallback(text(v), submit, { serdes: json, timeout: { seconds: 3 } }));
cases(["7-7"], async (v, ctx) => ctx.waitForCallback(text(v), async () => { throw new NamedError("SubmitterError", "submitter fails"); }, {
  serdes: json, retryStrategy: retries(2),
}));
cases(["7-8"], async (v, ctx) => { const name = text(v); return ctx.runInChildContext("wrapper", (c) => c.waitForCallback(name, submit, { serdes: json })); });
cases(["7-10"], async (v, ctx) => {
  const name = text(v);
  await ctx.wait({ seconds: 1 });
  await ctx.step(async () => ({ fixed: "data" }));
  return ctx.waitForCallback(name, submit, { serdes: json });
});
cases(["7-11"], async (v, ctx) => (await ctx.waitForCallback(text(v), submit, { serdes: json })).status);
cases(["7-13"], async (v, ctx) => ctx.waitForCallback(text(v), submit, { serdes: json, heartbeatTimeout: { seconds: 10 } }));
cases(["7-14"], async (v, ctx) => {
  try {
    return await ctx.waitForCallback(text(v), submit, { serdes: json, timeout: { seconds: 3 } });
  } catch (err) {
    if (!(err instanceof CallbackError)) throw err;
    return "timed-out-handled";
  }
});

// --- 5: chained invokes ----------------------------------------------------------------------
// AWS's invoke takes (name, funcId, input) when its second argument is a
// string, so calls without a name pass `undefined` first (inputs may be strings).
const ECHO = "target-echo";
const FAIL = "target-fail";
cases(["5-1"], async (v, ctx) => ctx.invoke(undefined, ECHO, v));
cases(["5-2"], async (v, ctx) => ctx.invoke(text(v.name), ECHO, v.payload));
cases(["5-4"], async (_v, ctx) => ctx.invoke(undefined, ECHO, null));
cases(["5-5"], async (v, ctx) => ctx.invoke(undefined, FAIL, v));
cases(["5-7"], async (_v, ctx) => { const echoed = await ctx.invoke(undefined, ECHO, { data: "x".repeat(200000) }); return { length: echoed.data.length }; });
cases(["5-8"], async (v, ctx) => ctx.invoke(undefined, ECHO, v.payload, { tenantId: text(v.tenantId) }));
cases(["5-10"], async (v, ctx) => {
  let caught = "no error";
  try {
    await ctx.invoke(undefined, FAIL, v);
  } catch (err) {
    if (!(err instanceof InvokeError)) throw err;
    caught = err.errorType;
  }
  await ctx.wait({ seconds: 1 });
  return { caught };
});
cases(["5-11"], async (_v, ctx) => ctx.invoke(undefined, ECHO, await ctx.step(async () => "from-step")));
cases(["5-13"], async (_v, ctx) => ctx.runInChildContext("child", (c) => c.invoke(undefined, ECHO, "in-child")));
cases(["5-14"], async (_v, ctx) => [await ctx.invoke(undefined, ECHO, "first"), await ctx.invoke(undefined, ECHO, "second")]);
const upperResult = { serialize: async (v) => v, deserialize: async (d) => d.toUpperCase() };
cases(["5-16"], async (v, ctx) => ctx.invoke(undefined, ECHO, v, { resultSerdes: upperResult }));

// --- 8, 9: parallel and map -------------------------------------------------------------------
function project(batch, keys) {
  const values = {
    completionReason: () => batch.completionReason,
    status: () => batch.status,
    successCount: () => batch.succeeded().length,
    failureCount: () => batch.failed().length,
    startedCount: () => batch.startedCount,
    totalCount: () => batch.totalCount,
    hasFailure: () => batch.hasFailure,
    errorCount: () => batch.getErrors().length,
  };
  return Object.fromEntries(keys.map((k) => [k, values[k]()]));
}
const FULL = ["completionReason", "status", "successCount", "failureCount", "totalCount"];
const COUNTS = ["completionReason", "successCount", "failureCount", "totalCount"];
const constant = (value) => async () => value;
const stepBranch = (value) => async (c) => c.step(async () => value);
const failing = (index) => async () => { throw new NamedError("BranchError", `branch ${index} fails on purpose`); };
const par = (completion) => ({ maxConcurrency: 1, completionConfig: completion });

cases(["8-1"], async (_v, ctx) => (await ctx.parallel("parallel", [stepBranch("task-1"), stepBranch("task-2")], { maxConcurrency: 1 })).getResults());
cases(["8-2"], async (_v, ctx) => (await ctx.parallel([constant("alpha"), constant("beta")], { maxConcurrency: 1 })).getResults());
cases(["8-4"], async (_v, ctx) => (await ctx.parallel("hetero", [constant("hello"), constant(42), constant({ k: "v" })], { maxConcurrency: 1 })).getResults());
cases(["8-5"], async (_v, ctx) => (await ctx.parallel("empty", [])).getResults());
cases(["8-7"], async (_v, ctx) => {
  const batch = await ctx.parallel("throwing", [failing(0), constant("never")], par({ toleratedFailureCount: 0 }));
  batch.throwIfError();
  return batch.getResults();
});
cases(["8-8"], async (_v, ctx) => project(await ctx.parallel("min-successful", [0, 1, 2, 3].map((i) => constant(`b${i}`)), par({ minSuccessful: 2 })), ["completionReason", "successCount", "totalCount"]));
cases(["8-10"], async (_v, ctx) => project(await ctx.parallel("tolerated-exceeded", [failing(0), failing(1), constant("b2")], par({ toleratedFailureCount: 1 })), COUNTS));
cases(["8-11"], async (_v, ctx) => (await ctx.parallel("concurrent", [0, 1, 2].map((i) => constant(`r${i}`)), { maxConcurrency: 2 })).getResults());
cases(["8-13"], async (_v, ctx) => project(await ctx.parallel("tolerated-pct", [failing(0), failing(1), constant("b2"), constant("b3")], par({ toleratedFailurePercentage: 25 })), COUNTS));
cases(["8-14"], async (_v, ctx) => (await ctx.parallel("replay", [stepBranch("b0"), async (c) => { await c.wait({ seconds: 2 }); return "b1"; }], { maxConcurrency: 1 })).getResults());
cases(["8-16"], async (_v, ctx) => project(await ctx.parallel("all-fail", [failing(0), failing(1), failing(2)], par({ toleratedFailureCount: 3 })), FULL));
cases(["8-17"], async (_v, ctx) => project(await ctx.parallel("min-not-reached", [constant("b0"), failing(1), constant("b2")], par({ minSuccessful: 3 })), FULL));
cases(["8-19"], async (_v, ctx) => (await ctx.parallel("bad-concurrency", [constant("b0"), constant("b1")], { maxConcurrency: 0 })).getResults());
cases(["8-20"], async (_v, ctx) => project(await ctx.parallel("accessors", [constant("b0"), failing(1), constant("b2")], par({ toleratedFailureCount: 1 })), ["hasFailure", "successCount", "failureCount", "errorCount"]));
cases(["8-22"], async (_v, ctx) => project(await ctx.parallel("pct-boundary", [failing(0), constant("b1"), constant("b2"), constant("b3")], par({ toleratedFailurePercentage: 25 })), FULL));

function itemsOf(value) {
  if (!Array.isArray(value)) throw new NamedError("InvalidInput", `expected a list, got ${JSON.stringify(value)}`);
  return value;
}
const numbered = (count) => Array.from({ length: count }, (_, i) => `i${i}`);
const seqMap = (completion) => ({ maxConcurrency: 1, completionConfig: completion });

cases(["9-1"], async (v, ctx) => (await ctx.map("map", itemsOf(v), async (c, item) => { const name = text(item); return c.step(async () => `Hello, ${name}!`); }, { maxConcurrency: 1 })).getResults());
cases(["9-2"], async (v, ctx) => (await ctx.map(itemsOf(v), async (_c, item) => item * 2, { maxConcurrency: 1 })).getResults());
cases(["9-4"], async (v, ctx) => (await ctx.map("empty", itemsOf(v), async (_c, item) => item)).getResults());
cases(["9-5"], async (_v, ctx) => project(await ctx.map("failfast", numbered(3), async (_c, _item, index) => {
  if (index) throw new NamedError("BranchError", `branch ${index} fails on purpose`);
  return "ok";
}, seqMap({ toleratedFailureCount: 0 })), FULL));
cases(["9-7"], async (_v, ctx) => project(await ctx.map("min-successful", numbered(4), async (_c, item) => item, seqMap({ minSuccessful: 2 })), ["completionReason", "successCount", "totalCount"]));
cases(["9-8"], async (_v, ctx) => project(await ctx.map("tolerated", numbered(3), async (_c, item, index) => {
  if (index === 1) throw new NamedError("BranchError", `branch ${index} fails on purpose`);
  return item;
}, seqMap({ toleratedFailureCount: 1 })), FULL));
cases(["9-10"], async (_v, ctx) => project(await ctx.map("tolerated-pct", numbered(4), async (_c, item, index) => {
  if (index < 2) throw new NamedError("BranchError", `branch ${index} fails on purpose`);
  return item;
}, seqMap({ toleratedFailurePercentage: 25 })), COUNTS));
cases(["9-11"], async (_v, ctx) => (await ctx.map("concurrent", numbered(3), async (_c, _item, i) => `r${i}`, { maxConcurrency: 2 })).getResults());
cases(["9-13"], async (v, ctx) => (await ctx.map("named-items", itemsOf(v), async (_c, item) => item * 10, {
  maxConcurrency: 1, itemNamer: (item) => `item-${JSON.stringify(item)}`,
})).getResults());
const wrapped = {
  serialize: async (v) => `wrapped:${v}`,
  deserialize: async (d) => {
    if (!d.startsWith("wrapped:")) throw new Error(`not wrapped: ${d}`);
    return d.slice("wrapped:".length);
  },
};
cases(["9-14"], async (_v, ctx) => (await ctx.map("serdes", ["x", "y"], async (_c, item) => text(item).toUpperCase(), { maxConcurrency: 1, itemSerdes: wrapped })).getResults());
cases(["9-16"], async (_v, ctx) => project(await ctx.map("large", [0, 1, 2, 3], async () => "x".repeat(70000), { maxConcurrency: 1 }), ["successCount", "totalCount"]));
cases(["9-17"], async (_v, ctx) => {
  const batch = await ctx.map("then-wait", ["a", "b"], async (_c, item) => text(item).toUpperCase(), { maxConcurrency: 1 });
  await ctx.wait({ seconds: 1 });
  return batch.getResults();
});
const opSerdes = {
  serialize: async (batch) => `OPSERDE:${batch.getResults().join(",")}`,
  deserialize: async (d) => {
    const rest = d.slice("OPSERDE:".length);
    const values = rest ? rest.split(",") : [];
    return new BatchResult(values.map((result, index) => ({ index, status: BatchItemStatus.SUCCEEDED, result })), "ALL_COMPLETED");
  },
};
async function opSerdesCase(ctx, name, thenWait) {
  const batch = await ctx.map(name, ["x", "y"], async (_c, item) => text(item).toUpperCase(), { maxConcurrency: 1, serdes: opSerdes, itemSerdes: defaultSerdes });
  if (thenWait) await ctx.wait({ seconds: 1 });
  return batch.getResults();
}
cases(["9-19"], async (_v, ctx) => opSerdesCase(ctx, "op-serde", false));
cases(["9-20"], async (_v, ctx) => opSerdesCase(ctx, "op-serde-replay", true));

// --- dispatch ----------------------------------------------------------------------------------
export const handler = withDurableExecution(async (event, context) => {
  const fn = context.lambdaContext.functionName;
  const name = fn.startsWith("case-") ? fn.slice("case-".length) : fn;
  if (name === FAIL) throw new NamedError("TargetError", "the target fails on purpose");
  const run = CASES[name];
  if (!run) throw new NamedError("UnknownCase", `no case for function ${JSON.stringify(fn)}`);
  const value = event && typeof event === "object" ? event.Input ?? null : null;
  return run(value, context);
});
