"""Conformance fixture in Python: one component whose handler picks the case
by the function name it runs under (``case-<id>``), like the Rust fixture
examples/fixtures/durable-cases. Cases read their input from the event's
``"Input"`` key. Run by tests/conformance/run.py with
``--component target/guests/python/durable_cases.wasm``.
"""

import json

from lamina_sdk.durable import (
    BatchItem,
    BatchItemStatus,
    BatchResult,
    CallbackConfig,
    CompletionConfig,
    CompletionReason,
    InvokeConfig,
    InvokeError,
    JsonSerDes,
    MapConfig,
    ParallelConfig,
    CallbackError,
    ChildContextError,
    DurableContext,
    Duration,
    JitterStrategy,
    RetryDecision,
    RetryPresets,
    RetryStrategyConfig,
    SerDes,
    StepConfig,
    StepError,
    StepSemantics,
    WaitForCallbackConfig,
    WaitForConditionConfig,
    WaitForConditionDecision,
    WaitForConditionError,
    create_retry_strategy,
    durable_execution,
)

CASES = {}


def case(*ids):
    def register(func):
        for case_id in ids:
            CASES[case_id] = func
        return func

    return register


class IntendedError(Exception):
    pass


class TransientError(Exception):
    pass


class SubmitterError(Exception):
    pass


class CheckError(Exception):
    pass


class InvalidInput(Exception):
    pass


def text(value):
    if not isinstance(value, str):
        raise InvalidInput(f"expected a string, got {json.dumps(value)}")
    return value


NO_RETRY = StepConfig(retry_strategy=RetryPresets.none())


def retries(max_attempts, initial=1, rate=2.0):
    return create_retry_strategy(RetryStrategyConfig(
        max_attempts=max_attempts, initial_delay=Duration(initial), backoff_rate=rate,
        jitter_strategy=JitterStrategy.NONE))


def fail_until(attempt, succeed_at):
    if attempt < succeed_at:
        raise IntendedError(f"attempt {attempt} fails on purpose")
    return attempt


def describe(err):
    return f"{getattr(err, 'error_type', type(err).__name__)}: {getattr(err, 'message', str(err))}"


# --- 1: steps ----------------------------------------------------------------


@case("1-1")
def step_basic(value, ctx):
    name = text(value)
    return ctx.step(lambda _: f"Hello, {name}!")


@case("1-2")
def step_named(value, ctx):
    name = text(value)
    return ctx.step(lambda _: f"Hello, {name}!", name="custom_step_name")


@case("1-4")
def step_complex(value, ctx):
    tags = value.get("tags", [])
    return ctx.step(lambda _: {"user": {"name": text(value["name"]), "tags": tags}, "count": len(tags)})


@case("1-5")
def step_null(value, ctx):
    return ctx.step(lambda _: None)


@case("1-7")
def step_logger(value, ctx):
    name = text(value)

    def body(step):
        step.logger.info(f"Greeting step started for: {name}")
        greeting = f"Hello, {name}!"
        step.logger.info(f"Greeting step completed with: {greeting}")
        return greeting

    return ctx.step(body)


@case("1-8")
def step_then_wait(value, ctx):
    result = ctx.step(lambda _: "computed")
    ctx.wait(Duration(2))
    return result


@case("1-10")
def step_replayed_failure(value, ctx):
    def body(step):
        step.logger.info("step executed")
        raise IntendedError("step fails permanently")

    try:
        ctx.step(body, config=NO_RETRY)
        caught = "no error"
    except StepError as err:
        caught = describe(err)
    ctx.wait(Duration(1))
    return {"caught": caught}


@case("1-11")
def step_retry_then_succeed(value, ctx):
    return ctx.step(lambda s: fail_until(s.attempt, 2) and "Operation succeeded",
                    config=StepConfig(retry_strategy=retries(3)))


@case("1-13")
def step_default_retry(value, ctx):
    return {"attempts": ctx.step(lambda s: fail_until(s.attempt, 3))}


@case("1-14")
def step_custom_backoff(value, ctx):
    return {"attempts": ctx.step(lambda s: fail_until(s.attempt, 3),
                                 config=StepConfig(retry_strategy=retries(5, 2, 3.0)))}


@case("1-16")
def step_non_retryable(value, ctx):
    default = RetryPresets.default()

    def strategy(err, attempt):
        return RetryDecision.no_retry() if isinstance(err, TransientError) else default(err, attempt)

    def body(_):
        raise TransientError("a transient failure")

    return ctx.step(body, config=StepConfig(retry_strategy=strategy))


@case("1-17")
def step_at_most_once_crash(value, ctx):
    data = text(value)

    def body(step):
        step.logger.info(f"processing input: {data}")
        import os

        os._exit(1)

    return ctx.step(body, name="at_most_once_flaky_step", config=StepConfig(
        retry_strategy=RetryPresets.none(), step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY))


@case("1-19")
def step_fails_permanently(value, ctx):
    def body(_):
        raise IntendedError("this step always fails")

    return ctx.step(body, config=NO_RETRY)


@case("1-20")
def step_caught_failure(value, ctx):
    def body(_):
        raise IntendedError("this step fails")

    try:
        result = ctx.step(body, config=NO_RETRY)
    except StepError:
        result = "fallback_result"
    return ctx.step(lambda _: result)


# --- 2: waits ------------------------------------------------------------------


@case("2-1")
def wait_basic(value, ctx):
    ctx.wait(Duration(2))


@case("2-2")
def wait_named(value, ctx):
    ctx.wait(Duration(2), name="custom_wait_name")


@case("2-4")
def wait_minutes(value, ctx):
    ctx.wait(Duration.from_minutes(1))


@case("2-5")
def wait_hours(value, ctx):
    ctx.wait(Duration.from_hours(1))


# --- 3: child contexts -----------------------------------------------------------


def echo_step(ctx, value):
    return ctx.step(lambda _: value)


def failing_step(ctx, strategy):
    def body(step):
        raise IntendedError(f"attempt {step.attempt} fails on purpose")

    return ctx.step(body, config=StepConfig(retry_strategy=strategy))


@case("3-1")
def child_step(value, ctx):
    data = text(value)
    return ctx.run_in_child_context(lambda c: echo_step(c, data), name="child")


@case("3-2")
def child_named(value, ctx):
    return ctx.run_in_child_context(lambda c: echo_step(c, text(value["value"])), name=text(value["name"]))


@case("3-4")
def child_failing(value, ctx):
    return ctx.run_in_child_context(lambda c: failing_step(c, RetryPresets.none()), name="child")


@case("3-5")
def child_caught(value, ctx):
    data = text(value)
    try:
        ctx.run_in_child_context(lambda c: failing_step(c, RetryPresets.none()), name="child")
    except ChildContextError:
        pass
    return echo_step(ctx, data)


@case("3-7")
def child_retry(value, ctx):
    data = text(value)

    def body(c):
        return c.step(lambda s: fail_until(s.attempt, 2) and data, config=StepConfig(retry_strategy=retries(3)))

    return ctx.run_in_child_context(body, name="child")


@case("3-8")
def child_exhausted(value, ctx):
    return ctx.run_in_child_context(lambda c: failing_step(c, retries(2)), name="child")


@case("3-10")
def child_step_and_wait(value, ctx):
    data = text(value)

    def body(c):
        result = echo_step(c, data)
        c.wait(Duration(1))
        return result

    return ctx.run_in_child_context(body, name="child")


@case("3-11")
def child_large(value, ctx):
    data = text(value)

    def body(c):
        c.logger.including_replays().info(f"child context input: {data}")
        return echo_step(c, "x") * (300 * 1024)

    large = ctx.run_in_child_context(body, name="child")
    ctx.wait(Duration(1))
    return {"length": len(large)}


@case("3-13")
def child_wait_then_step(value, ctx):
    data = text(value)

    def body(c):
        c.wait(Duration(1))
        return data

    ctx.run_in_child_context(body, name="child")
    return echo_step(ctx, data)


class Verbatim(SerDes):
    def serialize(self, value, _):
        return value

    def deserialize(self, data, _):
        return data


@case("3-14")
def child_uppercase(value, ctx):
    from lamina_sdk.durable import ChildConfig

    data = text(value)
    return ctx.run_in_child_context(lambda c: echo_step(c, data).upper(), name="child",
                                    config=ChildConfig(serdes=Verbatim()))


@case("3-16")
def child_null(value, ctx):
    return ctx.run_in_child_context(lambda c: None, name="child")


@case("3-17")
def child_logging(value, ctx):
    data = text(value)

    def body(c):
        c.logger.including_replays().info(f"child context input: {data}")
        return data

    result = ctx.run_in_child_context(body, name="child")
    ctx.wait(Duration(1))
    return result


# --- 4: callbacks -----------------------------------------------------------------


def create_and_await(ctx, name, config=None):
    return ctx.create_callback(name=name, config=config).result()


@case("4-1")
def callback_basic(value, ctx):
    return create_and_await(ctx, text(value))


@case("4-2")
def callback_named(value, ctx):
    return create_and_await(ctx, "approval")


@case("4-4")
def callback_heartbeat_timeout(value, ctx):
    return create_and_await(ctx, text(value), CallbackConfig(heartbeat_timeout=Duration(5)))


@case("4-5")
def callback_heartbeat_success(value, ctx):
    return create_and_await(ctx, text(value), CallbackConfig(heartbeat_timeout=Duration(10)))


@case("4-7")
def callback_step_then_failure(value, ctx):
    callback = ctx.create_callback(name=text(value))
    ctx.step(lambda _: "step done")
    return callback.result()


@case("4-8")
def callback_step_then_timeout(value, ctx):
    callback = ctx.create_callback(name=text(value), config=CallbackConfig(timeout=Duration(5)))
    ctx.step(lambda _: "step done")
    return callback.result()


@case("4-10")
def callback_wait_then_failure(value, ctx):
    callback = ctx.create_callback(name=text(value))
    ctx.wait(Duration(5))
    return callback.result()


@case("4-11")
def callback_wait_then_timeout(value, ctx):
    callback = ctx.create_callback(name=text(value), config=CallbackConfig(timeout=Duration(3)))
    ctx.wait(Duration(6))
    return callback.result()


def await_or_message(ctx, name, config=None):
    try:
        result = create_and_await(ctx, name, config)
        return f"callback succeeded: {json.dumps(result)}"
    except CallbackError as err:
        return f"callback error: {describe(err)}"


@case("4-13")
def callback_caught_failure(value, ctx):
    message = await_or_message(ctx, text(value))
    ctx.wait(Duration(2))
    return message


@case("4-14")
def callback_caught_timeout(value, ctx):
    message = await_or_message(ctx, text(value), CallbackConfig(timeout=Duration(3)))
    ctx.wait(Duration(2))
    return message


@case("4-16")
def callback_numeric(value, ctx):
    raw = ctx.create_callback(name=text(value)).result()
    count = int(raw.strip()) if isinstance(raw, str) else int(raw)
    return {"count": count, "doubled": count * 2}


@case("4-17")
def callback_two_in_sequence(value, ctx):
    a = create_and_await(ctx, text(value[0]))
    b = create_and_await(ctx, text(value[1]))
    return [a, b]


@case("4-19")
def callback_two_in_reverse(value, ctx):
    a = ctx.create_callback(name=text(value[0]))
    b = ctx.create_callback(name=text(value[1]))
    b_result = b.result()
    a_result = a.result()
    return [a_result, b_result]


# --- 6: wait_for_condition -----------------------------------------------------------


def fixed(delay, keep_polling):
    def strategy(state, attempt):
        if keep_polling(state):
            return WaitForConditionDecision.continue_waiting(Duration(delay))
        return WaitForConditionDecision.stop_polling()

    return strategy


def count_up(ctx, initial, target, delay=1):
    return ctx.wait_for_condition(lambda s, c: s + 1,
                                  WaitForConditionConfig(fixed(delay, lambda s: s < target), initial))


@case("6-1")
def condition_basic(value, ctx):
    return count_up(ctx, 0, int(value))


@case("6-2")
def condition_immediate(value, ctx):
    target = int(value)
    return ctx.wait_for_condition(lambda s, c: s, WaitForConditionConfig(fixed(1, lambda s: s < target), 5))


@case("6-4")
def condition_initial_state(value, ctx):
    return count_up(ctx, 5, int(value))


@case("6-5")
def condition_fixed_delay(value, ctx):
    return count_up(ctx, 0, int(value), 2)


def failing_check(ctx):
    def check(state, c):
        raise CheckError(f"check {c.attempt} fails on purpose")

    return ctx.wait_for_condition(check, WaitForConditionConfig(fixed(1, lambda s: True), 0))


@case("6-7")
def condition_check_fails(value, ctx):
    return failing_check(ctx)


@case("6-8")
def condition_check_fails_caught(value, ctx):
    try:
        return failing_check(ctx)
    except WaitForConditionError:
        return "recovered"


@case("6-10")
def condition_null_state(value, ctx):
    return ctx.wait_for_condition(lambda s, c: None, WaitForConditionConfig(fixed(1, lambda s: False), None))


class Encoded(SerDes):
    def serialize(self, value, _):
        return f"len={len(value)};{value}"

    def deserialize(self, data, _):
        length, _, value = data[len("len="):].partition(";")
        if not data.startswith("len=") or int(length) != len(value):
            raise ValueError(f"not an encoded state: {data}")
        return value


@case("6-11")
def condition_custom_serdes(value, ctx):
    return ctx.wait_for_condition(lambda s, c: s + "x",
                                  WaitForConditionConfig(fixed(1, lambda s: len(s) < 2), "", serdes=Encoded()))


@case("6-13")
def condition_sequential(value, ctx):
    first = count_up(ctx, 0, 2)
    return count_up(ctx, first, 4)


# --- 7: wait_for_callback ---------------------------------------------------------------


def submit(callback_id, wctx):
    wctx.logger.info(f"submitting callback id {callback_id}")


@case("7-1", "7-4")
def wfc_basic(value, ctx):
    return ctx.wait_for_callback(submit, name=text(value))


@case("7-2")
def wfc_named(value, ctx):
    return ctx.wait_for_callback(submit, name="approval")


@case("7-5")
def wfc_timeout(value, ctx):
    return ctx.wait_for_callback(submit, name=text(value), config=WaitForCallbackConfig(timeout=Duration(3)))


@case("7-7")
def wfc_submitter_exhausted(value, ctx):
    attempts = []

    def failing(callback_id, wctx):
        attempts.append(1)
        raise SubmitterError("submitter fails")

    return ctx.wait_for_callback(failing, name=text(value),
                                 config=WaitForCallbackConfig(retry_strategy=retries(2)))


@case("7-8")
def wfc_inside_child(value, ctx):
    name = text(value)
    return ctx.run_in_child_context(lambda c: c.wait_for_callback(submit, name=name), name="wrapper")


@case("7-10")
def wfc_after_wait_and_step(value, ctx):
    name = text(value)
    ctx.wait(Duration(1))
    ctx.step(lambda _: {"fixed": "data"})
    return ctx.wait_for_callback(submit, name=name)


@case("7-11")
def wfc_json_result(value, ctx):
    return ctx.wait_for_callback(submit, name=text(value))["status"]


@case("7-13")
def wfc_heartbeat(value, ctx):
    return ctx.wait_for_callback(submit, name=text(value),
                                 config=WaitForCallbackConfig(heartbeat_timeout=Duration(10)))


@case("7-14")
def wfc_timeout_caught(value, ctx):
    try:
        return ctx.wait_for_callback(submit, name=text(value), config=WaitForCallbackConfig(timeout=Duration(3)))
    except CallbackError:
        return "timed-out-handled"


# --- 5: chained invokes -------------------------------------------------------------

ECHO, FAIL = "target-echo", "target-fail"


class TargetError(Exception):
    pass


@case("5-1")
def invoke_basic(value, ctx):
    return ctx.invoke(ECHO, value)


@case("5-2")
def invoke_named(value, ctx):
    return ctx.invoke(ECHO, value.get("payload"), name=text(value["name"]))


@case("5-4")
def invoke_null_payload(value, ctx):
    return ctx.invoke(ECHO, None)


@case("5-5")
def invoke_target_fails(value, ctx):
    return ctx.invoke(FAIL, value)


@case("5-7")
def invoke_large_payload(value, ctx):
    echoed = ctx.invoke(ECHO, {"data": "x" * 200_000})
    return {"length": len(echoed["data"])}


@case("5-8")
def invoke_tenant(value, ctx):
    return ctx.invoke(ECHO, value.get("payload"), config=InvokeConfig(tenant_id=text(value["tenantId"])))


@case("5-10")
def invoke_failure_replayed(value, ctx):
    try:
        ctx.invoke(FAIL, value)
        caught = "no error"
    except InvokeError as err:
        caught = err.error_type
    ctx.wait(Duration(1))
    return {"caught": caught}


@case("5-11")
def invoke_after_step(value, ctx):
    return ctx.invoke(ECHO, ctx.step(lambda _: "from-step"))


@case("5-13")
def invoke_in_child(value, ctx):
    return ctx.run_in_child_context(lambda c: c.invoke(ECHO, "in-child"), name="child")


@case("5-14")
def invoke_sequential(value, ctx):
    return [ctx.invoke(ECHO, "first"), ctx.invoke(ECHO, "second")]


class UpperResult(SerDes):
    def serialize(self, value, _):
        return value

    def deserialize(self, data, _):
        return data.upper()


@case("5-16")
def invoke_result_serdes(value, ctx):
    return ctx.invoke(ECHO, value, config=InvokeConfig(serdes_result=UpperResult()))


# --- 8, 9: parallel and map ---------------------------------------------------------------


class BranchError(Exception):
    pass


def project(batch, keys):
    values = {
        "completionReason": lambda: batch.completion_reason.value,
        "status": lambda: batch.status.value,
        "successCount": lambda: len(batch.succeeded()),
        "failureCount": lambda: len(batch.failed()),
        "startedCount": lambda: batch.started_count,
        "totalCount": lambda: batch.total_count,
        "hasFailure": lambda: batch.has_failure,
        "errorCount": lambda: len(batch.get_errors()),
    }
    return {key: values[key]() for key in keys}


FULL = ["completionReason", "status", "successCount", "failureCount", "totalCount"]
COUNTS = ["completionReason", "successCount", "failureCount", "totalCount"]


def constant(value):
    return lambda ctx: value


def step_branch(value):
    return lambda ctx: ctx.step(lambda _: value)


def failing(index):
    def branch(ctx):
        raise BranchError(f"branch {index} fails on purpose")

    return branch


def par(*keys, **completion):
    return ParallelConfig(max_concurrency=1, completion_config=CompletionConfig(**completion))


@case("8-1")
def parallel_basic(value, ctx):
    return ctx.parallel([step_branch("task-1"), step_branch("task-2")], name="parallel",
                        config=ParallelConfig(max_concurrency=1)).get_results()


@case("8-2")
def parallel_unnamed(value, ctx):
    return ctx.parallel([constant("alpha"), constant("beta")],
                        config=ParallelConfig(max_concurrency=1)).get_results()


@case("8-4")
def parallel_heterogeneous(value, ctx):
    return ctx.parallel([constant("hello"), constant(42), constant({"k": "v"})], name="hetero",
                        config=ParallelConfig(max_concurrency=1)).get_results()


@case("8-5")
def parallel_empty(value, ctx):
    return ctx.parallel([], name="empty").get_results()


@case("8-7")
def parallel_throw_if_error(value, ctx):
    batch = ctx.parallel([failing(0), constant("never")], name="throwing", config=par(tolerated_failure_count=0))
    batch.throw_if_error()
    return batch.get_results()


@case("8-8")
def parallel_min_successful(value, ctx):
    batch = ctx.parallel([constant(f"b{i}") for i in range(4)], name="min-successful",
                         config=par(min_successful=2))
    return project(batch, ["completionReason", "successCount", "totalCount"])


@case("8-10")
def parallel_tolerated_count_exceeded(value, ctx):
    batch = ctx.parallel([failing(0), failing(1), constant("b2")], name="tolerated-exceeded",
                         config=par(tolerated_failure_count=1))
    return project(batch, COUNTS)


@case("8-11")
def parallel_concurrent(value, ctx):
    return ctx.parallel([constant(f"r{i}") for i in range(3)], name="concurrent",
                        config=ParallelConfig(max_concurrency=2)).get_results()


@case("8-13")
def parallel_tolerated_percentage_exceeded(value, ctx):
    batch = ctx.parallel([failing(0), failing(1), constant("b2"), constant("b3")], name="tolerated-pct",
                         config=par(tolerated_failure_percentage=25))
    return project(batch, COUNTS)


@case("8-14")
def parallel_replay_after_wait(value, ctx):
    def waiting(c):
        c.wait(Duration(2))
        return "b1"

    return ctx.parallel([step_branch("b0"), waiting], name="replay",
                        config=ParallelConfig(max_concurrency=1)).get_results()


@case("8-16")
def parallel_all_fail(value, ctx):
    batch = ctx.parallel([failing(0), failing(1), failing(2)], name="all-fail",
                         config=par(tolerated_failure_count=3))
    return project(batch, FULL)


@case("8-17")
def parallel_min_not_reached(value, ctx):
    batch = ctx.parallel([constant("b0"), failing(1), constant("b2")], name="min-not-reached",
                         config=par(min_successful=3))
    return project(batch, FULL)


@case("8-19")
def parallel_bad_concurrency(value, ctx):
    return ctx.parallel([constant("b0"), constant("b1")], name="bad-concurrency",
                        config=ParallelConfig(max_concurrency=0)).get_results()


@case("8-20")
def parallel_accessors(value, ctx):
    batch = ctx.parallel([constant("b0"), failing(1), constant("b2")], name="accessors",
                         config=par(tolerated_failure_count=1))
    return project(batch, ["hasFailure", "successCount", "failureCount", "errorCount"])


@case("8-22")
def parallel_percentage_boundary(value, ctx):
    batch = ctx.parallel([failing(0), constant("b1"), constant("b2"), constant("b3")], name="pct-boundary",
                         config=par(tolerated_failure_percentage=25))
    return project(batch, FULL)


def items_of(value):
    if not isinstance(value, list):
        raise InvalidInput(f"expected a list, got {json.dumps(value)}")
    return value


def numbered(count):
    return [f"i{i}" for i in range(count)]


def seq_map(**completion):
    return MapConfig(max_concurrency=1, completion_config=CompletionConfig(**completion))


@case("9-1")
def map_basic(value, ctx):
    def greet(c, item, index, items):
        name = text(item)
        return c.step(lambda _: f"Hello, {name}!")

    return ctx.map(items_of(value), greet, name="map", config=MapConfig(max_concurrency=1)).get_results()


@case("9-2")
def map_unnamed(value, ctx):
    return ctx.map(items_of(value), lambda c, item, i, items: item * 2,
                   config=MapConfig(max_concurrency=1)).get_results()


@case("9-4")
def map_empty(value, ctx):
    return ctx.map(items_of(value), lambda c, item, i, items: item, name="empty").get_results()


@case("9-5")
def map_fail_fast(value, ctx):
    def item_fn(c, item, index, items):
        if index:
            raise BranchError(f"branch {index} fails on purpose")
        return "ok"

    return project(ctx.map(numbered(3), item_fn, name="failfast", config=seq_map(tolerated_failure_count=0)), FULL)


@case("9-7")
def map_min_successful(value, ctx):
    batch = ctx.map(numbered(4), lambda c, item, i, items: item, name="min-successful",
                    config=seq_map(min_successful=2))
    return project(batch, ["completionReason", "successCount", "totalCount"])


@case("9-8")
def map_tolerated_count(value, ctx):
    def item_fn(c, item, index, items):
        if index == 1:
            raise BranchError(f"branch {index} fails on purpose")
        return item

    return project(ctx.map(numbered(3), item_fn, name="tolerated", config=seq_map(tolerated_failure_count=1)),
                   FULL)


@case("9-10")
def map_tolerated_percentage_exceeded(value, ctx):
    def item_fn(c, item, index, items):
        if index < 2:
            raise BranchError(f"branch {index} fails on purpose")
        return item

    batch = ctx.map(numbered(4), item_fn, name="tolerated-pct", config=seq_map(tolerated_failure_percentage=25))
    return project(batch, COUNTS)


@case("9-11")
def map_concurrent(value, ctx):
    return ctx.map(numbered(3), lambda c, item, i, items: f"r{i}", name="concurrent",
                   config=MapConfig(max_concurrency=2)).get_results()


@case("9-13")
def map_item_namer(value, ctx):
    config = MapConfig(max_concurrency=1, item_namer=lambda item, index: f"item-{json.dumps(item)}")
    return ctx.map(items_of(value), lambda c, item, i, items: item * 10, name="named-items",
                   config=config).get_results()


class Wrapped(SerDes):
    def serialize(self, value, _):
        return f"wrapped:{value}"

    def deserialize(self, data, _):
        if not data.startswith("wrapped:"):
            raise ValueError(f"not wrapped: {data}")
        return data[len("wrapped:"):]


@case("9-14")
def map_item_serdes(value, ctx):
    return ctx.map(["x", "y"], lambda c, item, i, items: text(item).upper(), name="serdes",
                   config=MapConfig(max_concurrency=1, item_serdes=Wrapped())).get_results()


@case("9-16")
def map_large_result(value, ctx):
    batch = ctx.map([0, 1, 2, 3], lambda c, item, i, items: "x" * 70_000, name="large",
                    config=MapConfig(max_concurrency=1))
    return project(batch, ["successCount", "totalCount"])


@case("9-17")
def map_then_wait(value, ctx):
    batch = ctx.map(["a", "b"], lambda c, item, i, items: text(item).upper(), name="then-wait",
                    config=MapConfig(max_concurrency=1))
    ctx.wait(Duration(1))
    return batch.get_results()


class OpSerDes(SerDes):
    def serialize(self, value, _):
        return "OPSERDE:" + ",".join(value.get_results())

    def deserialize(self, data, _):
        rest = data[len("OPSERDE:"):]
        values = rest.split(",") if rest else []
        return BatchResult([BatchItem(i, BatchItemStatus.SUCCEEDED, v) for i, v in enumerate(values)],
                           CompletionReason.ALL_COMPLETED)


def op_serdes(ctx, name, then_wait):
    batch = ctx.map(["x", "y"], lambda c, item, i, items: text(item).upper(), name=name,
                    config=MapConfig(max_concurrency=1, serdes=OpSerDes(), item_serdes=JsonSerDes()))
    if then_wait:
        ctx.wait(Duration(1))
    return batch.get_results()


@case("9-19")
def map_op_serdes_fresh(value, ctx):
    return op_serdes(ctx, "op-serde", False)


@case("9-20")
def map_op_serdes_replay(value, ctx):
    return op_serdes(ctx, "op-serde-replay", True)


# --- dispatch -----------------------------------------------------------------


class UnknownCase(Exception):
    pass


@durable_execution
def lambda_handler(event, context: DurableContext):
    function = context.function_name
    name = function[len("case-"):] if function.startswith("case-") else function
    if name == FAIL:
        raise TargetError("the target fails on purpose")
    if name not in CASES:
        raise UnknownCase(f"no case for function {function!r}")
    value = event.get("Input") if isinstance(event, dict) else None
    return CASES[name](value, context)
