"""Conformance fixture in Python: one component whose handler picks the case
by the function name it runs under (``case-<id>``), like the Rust fixture
examples/fixtures/durable-cases. Cases read their input from the event's
``"Input"`` key. Run by tests/conformance/run.py with
``--component target/guests/python/durable_cases.wasm``.
"""

import json

from lamina_sdk.durable import (
    CallbackConfig,
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


# --- dispatch -----------------------------------------------------------------


class UnknownCase(Exception):
    pass


@durable_execution
def lambda_handler(event, context: DurableContext):
    function = context.function_name
    name = function[len("case-"):] if function.startswith("case-") else function
    if name not in CASES:
        raise UnknownCase(f"no case for function {function!r}")
    value = event.get("Input") if isinstance(event, dict) else None
    return CASES[name](value, context)
