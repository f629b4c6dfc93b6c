// The replay core against the in-memory journal (no host): node --test test/
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  InMemoryJournal, runDurable, withDurableExecution, StepError, ChildContextError, CallbackExternalError,
  CallbackTimeoutError, CallbackSubmitterError, InvokeError, WaitForConditionError, StepSemantics,
  createRetryStrategy, createWaitStrategy, retryPresets, JitterStrategy, BatchItemStatus,
} from "../src/index.js";

const order = withDurableExecution(async (event, context) => {
  const o = await context.step("validate-order", async () => ({ orderId: event.orderId, total: 9 }));
  const approval = await context.waitForCallback("await-payment", async () => {});
  if (!JSON.parse(approval).approved) return { status: "declined" };
  const r = await context.step("fulfill-order", async () => ({ tracking: `TRK-${o.orderId}` }));
  return { status: "fulfilled", tracking: r.tracking };
});

test("order workflow: suspends at the callback, resumes, no step runs twice", async () => {
  const j = new InMemoryJournal('{"orderId": "o-1"}');
  assert.deepEqual(await runDurable(order, j), { status: "PENDING" });
  assert.deepEqual(j.events, [
    "StepStarted 1 1", 'StepSucceeded 1 1 {"orderId":"o-1","total":9}', "ContextStarted 2 WaitForCallback",
    "CallbackStarted 2-1 0 0", "StepStarted 2-2 1", "StepSucceeded 2-2 1 null",
  ]);
  j.completeCallback(j.callbackOp(), '{"approved": true}');
  const out = await runDurable(order, j);
  assert.deepEqual(out, { status: "SUCCEEDED", result: '{"status":"fulfilled","tracking":"TRK-o-1"}' });
  const started = j.events.filter((e) => e.startsWith("StepStarted"));
  assert.deepEqual(started, ["StepStarted 1 1", "StepStarted 2-2 1", "StepStarted 3 1"]);
  // Replaying the finished execution runs nothing again.
  const before = j.events.length;
  assert.equal((await runDurable(order, j)).status, "SUCCEEDED");
  assert.equal(j.events.length, before);
});

test("declined and failed callbacks", async () => {
  const j = new InMemoryJournal('{"orderId": "o-2"}');
  await runDurable(order, j);
  j.completeCallback(j.callbackOp(), '{"approved": false}');
  assert.deepEqual(await runDurable(order, j), { status: "SUCCEEDED", result: '{"status":"declined"}' });

  const k = new InMemoryJournal('{"orderId": "o-3"}');
  await runDurable(order, k);
  k.completeCallback(k.callbackOp(), undefined, { errorType: "Rejected" });
  const out = await runDurable(order, k);
  assert.equal(out.status, "FAILED");
  assert.equal(out.error.ErrorType, "CallbackExternalError");
});

test("a failing step retries, then fails with StepError, the same on replay", async () => {
  let runs = 0;
  const fn = withDurableExecution(async (_e, ctx) => {
    try {
      await ctx.step("flaky", async () => { runs++; throw new TypeError("boom"); },
        { retryStrategy: createRetryStrategy({ maxAttempts: 2, jitter: JitterStrategy.NONE, initialDelay: { seconds: 3 } }) });
    } catch (err) {
      return { caught: err.constructor.name, type: err.errorType, message: err.message, cause: err.cause.name };
    }
  });
  const j = new InMemoryJournal();
  assert.equal((await runDurable(fn, j)).status, "PENDING");
  assert.deepEqual(j.events, ["StepStarted 1 1", "StepRetry 1 1 3"]);
  assert.equal((await runDurable(fn, j)).status, "PENDING"); // not ready yet: nothing runs
  assert.equal(runs, 1);
  j.advanceTime();
  const out = await runDurable(fn, j);
  assert.equal(out.status, "SUCCEEDED");
  assert.deepEqual(JSON.parse(out.result), { caught: "StepError", type: "StepError", message: "boom", cause: "TypeError" });
  assert.equal(runs, 2);
  assert.deepEqual(await runDurable(fn, j), out);
  assert.equal(runs, 2);
});

test("an uncaught error fails the execution with its name and message", async () => {
  const fn = withDurableExecution(async (_e, ctx) => {
    await ctx.step("s", async () => { throw new RangeError("too far"); }, { retryStrategy: retryPresets.noRetry });
  });
  const out = await runDurable(fn, new InMemoryJournal());
  assert.deepEqual(out, { status: "FAILED", error: { ErrorType: "StepError", ErrorMessage: "too far", ErrorData: undefined, StackTrace: undefined } });
  const plain = withDurableExecution(async () => { throw new RangeError("plain"); });
  assert.equal((await runDurable(plain, new InMemoryJournal())).error.ErrorType, "RangeError");
});

test("wait suspends until time passes; unnamed operations get counter ids", async () => {
  const fn = withDurableExecution(async (_e, ctx) => {
    await ctx.wait({ seconds: 5 });
    await ctx.wait("named", { minutes: 1 });
    return ctx.step(async () => 42);
  });
  const j = new InMemoryJournal();
  assert.equal((await runDurable(fn, j)).status, "PENDING");
  j.advanceTime();
  assert.equal((await runDurable(fn, j)).status, "PENDING");
  j.advanceTime();
  assert.deepEqual(await runDurable(fn, j), { status: "SUCCEEDED", result: "42" });
  assert.deepEqual(j.events.slice(0, 2), ["WaitStarted 1 5", "WaitStarted 2 60"]);
});

test("child contexts journal their result; a failure is a ChildContextError", async () => {
  let inner = 0;
  const fn = withDurableExecution(async (_e, ctx) => {
    const a = await ctx.runInChildContext("child", async (c) => {
      const x = await c.step("in", async () => { inner++; return 2; });
      return x * 10;
    });
    try {
      await ctx.runInChildContext(async () => { throw new Error("bad"); });
    } catch (err) {
      return { a, err: err.constructor.name, msg: err.message };
    }
  });
  const j = new InMemoryJournal();
  const out = await runDurable(fn, j);
  assert.deepEqual(JSON.parse(out.result), { a: 20, err: "ChildContextError", msg: "bad" });
  assert.ok(j.events.includes("StepStarted 1-1 1"));
  assert.ok(j.events.includes("ContextFailed 2 Error"));
  assert.deepEqual(await runDurable(fn, j), out);
  assert.equal(inner, 1);
});

test("createCallback: the result promise suspends only when awaited", async () => {
  const fn = withDurableExecution(async (_e, ctx) => {
    const [result, id] = await ctx.createCallback("cb", { timeout: { minutes: 5 } });
    await ctx.step("notify", async () => id);
    return { got: await result };
  });
  const j = new InMemoryJournal();
  assert.equal((await runDurable(fn, j)).status, "PENDING");
  assert.deepEqual(j.events, ["CallbackStarted 1 300 0", "StepStarted 2 1", 'StepSucceeded 2 1 "cb-1"']);
  j.completeCallback("1", "plain text");
  assert.deepEqual(await runDurable(fn, j), { status: "SUCCEEDED", result: '{"got":"plain text"}' });
  const t = new InMemoryJournal();
  await runDurable(fn, t);
  t.completeCallback("1", undefined, { timedOut: true });
  const fn2 = withDurableExecution(async (_e, ctx) => {
    const [result] = await ctx.createCallback("cb", { timeout: { minutes: 5 } });
    await ctx.step("notify", async () => "x");
    try { await result; } catch (err) { return err instanceof CallbackTimeoutError; }
  });
  assert.deepEqual(await runDurable(fn2, t), { status: "SUCCEEDED", result: "true" });
});

test("waitForCallback: a failing submitter is a CallbackSubmitterError", async () => {
  const fn = withDurableExecution(async (_e, ctx) => {
    try {
      await ctx.waitForCallback("pay", async () => { throw new Error("no"); }, { retryStrategy: retryPresets.noRetry });
    } catch (err) {
      return [err.constructor.name, err instanceof CallbackSubmitterError];
    }
  });
  const out = await runDurable(fn, new InMemoryJournal());
  assert.deepEqual(JSON.parse(out.result), ["CallbackSubmitterError", true]);
});

test("parallel: branches run, a waiting branch suspends only itself", async () => {
  const fn = withDurableExecution(async (_e, ctx) => {
    const res = await ctx.parallel("p", [
      async (c) => { await c.wait({ seconds: 2 }); return "slow"; },
      { name: "fast", func: async (c) => c.step("s", async () => "fast") },
      async () => { throw new Error("x"); },
    ], { completionConfig: { toleratedFailureCount: 1 } });
    return { results: res.getResults(), reason: res.completionReason, statuses: res.all.map((i) => i.status), errors: res.getErrors().map((e) => e.message) };
  });
  const j = new InMemoryJournal();
  assert.equal((await runDurable(fn, j)).status, "PENDING");
  assert.ok(j.events.includes("WaitStarted 1-1-1 2"));
  assert.ok(j.events.includes('StepSucceeded 1-2-1 1 "fast"'));
  j.advanceTime();
  const out = await runDurable(fn, j);
  assert.deepEqual(JSON.parse(out.result), {
    results: ["slow", "fast"], reason: "ALL_COMPLETED", statuses: ["SUCCEEDED", "SUCCEEDED", "FAILED"], errors: ["x"],
  });
  assert.deepEqual(await runDurable(fn, j), out);
});

test("map with minSuccessful completes early; items named by itemNamer", async () => {
  const fn = withDurableExecution(async (_e, ctx) => {
    const res = await ctx.map("m", [1, 2, 3], async (c, item) => c.step(async () => item * 2), {
      completionConfig: { minSuccessful: 2 }, itemNamer: (item) => `item-${item}`,
    });
    return { r: res.getResults(), reason: res.completionReason, total: res.totalCount };
  });
  const j = new InMemoryJournal();
  const out = await runDurable(fn, j);
  assert.deepEqual(JSON.parse(out.result), { r: [2, 4], reason: "MIN_SUCCESSFUL_REACHED", total: 2 });
  assert.equal(j.ops.get("1-1").name, "item-1");
  assert.equal(j.ops.get("1-1").subType, "MapIteration");
});

test("waitForCondition polls durably until the strategy stops", async () => {
  const fn = withDurableExecution(async (_e, ctx) => ctx.waitForCondition("poll", async (state) => state + 1, {
    initialState: 0,
    waitStrategy: createWaitStrategy({ shouldContinuePolling: (s) => s < 3, jitter: JitterStrategy.NONE, initialDelay: { seconds: 2 } }),
  }));
  const j = new InMemoryJournal();
  for (let i = 0; i < 2; i++) {
    assert.equal((await runDurable(fn, j)).status, "PENDING");
    j.advanceTime();
  }
  assert.deepEqual(await runDurable(fn, j), { status: "SUCCEEDED", result: "3" });
  assert.deepEqual(j.events.filter((e) => e.startsWith("StepPoll")), ["StepPoll 1 1 1 2", "StepPoll 1 2 2 3"]);
  const failing = withDurableExecution(async (_e, ctx) => {
    try {
      await ctx.waitForCondition(async () => { throw new Error("check"); }, { initialState: 0, waitStrategy: () => ({ shouldContinue: false }) });
    } catch (err) { return err instanceof WaitForConditionError; }
  });
  assert.deepEqual(await runDurable(failing, new InMemoryJournal()), { status: "SUCCEEDED", result: "true" });
});

test("invoke suspends until the target ends; failures are InvokeError", async () => {
  const fn = withDurableExecution(async (_e, ctx) => {
    try {
      return await ctx.invoke("call", "other-fn", { a: 1 }, { tenantId: "t1" });
    } catch (err) { return { err: err instanceof InvokeError, type: err.cause.name }; }
  });
  const j = new InMemoryJournal();
  assert.equal((await runDurable(fn, j)).status, "PENDING");
  assert.deepEqual(j.events, ['InvokeStarted 1 other-fn {"a":1} t1']);
  j.completeInvoke("1", '{"ok":true}');
  assert.deepEqual(await runDurable(fn, j), { status: "SUCCEEDED", result: '{"ok":true}' });
  const k = new InMemoryJournal();
  await runDurable(fn, k);
  k.completeInvoke("1", undefined, { errorType: "Boom" });
  assert.deepEqual(JSON.parse((await runDurable(fn, k)).result), { err: true, type: "Boom" });
});

test("a code path that no longer matches the journal fails as non-deterministic, even if caught", async () => {
  const j = new InMemoryJournal();
  await runDurable(withDurableExecution(async (_e, ctx) => { await ctx.step("a", async () => 1); await ctx.wait({ seconds: 1 }); }), j);
  const changed = withDurableExecution(async (_e, ctx) => {
    try { await ctx.step("b", async () => 1); } catch { return "swallowed"; }
  });
  const out = await runDurable(changed, j);
  assert.equal(out.status, "FAILED");
  assert.equal(out.error.ErrorType, "NonDeterministicExecution");
});

test("at-most-once step interrupted before it ended", async () => {
  const j = new InMemoryJournal();
  j.ops.set("1", { id: "1", type: "STEP", subType: "Step", name: "once", status: "STARTED", attempt: 1 });
  const fn = withDurableExecution(async (_e, ctx) => {
    try {
      await ctx.step("once", async () => "ran", { semantics: StepSemantics.AtMostOncePerRetry, retryStrategy: retryPresets.noRetry });
    } catch (err) { return [err.constructor.name, err.cause.name]; }
  });
  assert.deepEqual(JSON.parse((await runDurable(fn, j)).result), ["StepError", "StepInterruptedError"]);
});

test("an ended execution ends the invocation as pending; the logger is silent on replay", async () => {
  const fn = withDurableExecution(async (_e, ctx) => {
    ctx.logger.info("hello", { a: 1 });
    await ctx.step("s", async () => 1);
    await ctx.wait({ seconds: 1 });
  });
  const j = new InMemoryJournal();
  await runDurable(fn, j);
  assert.deepEqual(j.logs, [["info", 'hello {"a":1}']]);
  await runDurable(fn, j);
  assert.equal(j.logs.length, 1);
  j.ended = true;
  j.advanceTime();
  const k = new InMemoryJournal();
  k.ended = true;
  assert.deepEqual(await runDurable(fn, k), { status: "PENDING" });
});

test("calling a durable handler directly is refused", () => {
  assert.throws(() => order({}, {}), TypeError);
});
