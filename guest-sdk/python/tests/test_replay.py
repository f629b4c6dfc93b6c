"""The replay core against the in-memory journal, which completes
operations the way the host does. Every test runs a handler for one or more
invocations, playing the outside world in between."""

import json

import pytest

from lamina_sdk.durable import (
    BatchItemStatus,
    CallbackConfig,
    CallbackExternalError,
    CallbackSubmitterError,
    CallbackTimeoutError,
    ChildContextError,
    CompletionConfig,
    CompletionReason,
    Duration,
    InvokeConfig,
    InvokeError,
    JitterStrategy,
    MapConfig,
    NestingType,
    ParallelBranch,
    ParallelConfig,
    RetryDecision,
    RetryPresets,
    RetryStrategyConfig,
    SerDes,
    StepConfig,
    StepError,
    StepSemantics,
    ValidationError,
    WaitForCallbackConfig,
    WaitForConditionConfig,
    WaitForConditionDecision,
    WaitForConditionError,
    WaitStrategyConfig,
    create_retry_strategy,
    create_wait_strategy,
    durable_execution,
    durable_step,
    durable_with_child_context,
    run_durable,
)
from lamina_sdk.durable import journal as J
from lamina_sdk.durable.memory import InMemoryJournal

NO_RETRY = StepConfig(retry_strategy=RetryPresets.none())


def run(handler, journal):
    """One invocation; a short text for its outcome."""
    outcome = run_durable(handler, journal)
    journal.events.append("InvocationCompleted")
    if outcome.status == "SUCCEEDED":
        return f"succeeded {outcome.result}"
    if outcome.status == "FAILED":
        return f"failed {outcome.error.type}"
    return "pending"


# --- steps ---------------------------------------------------------------


def test_step_then_wait_replays_the_step_without_running_it():
    journal = InMemoryJournal('"World"')
    runs = []

    def handler(event, ctx):
        greeting = ctx.step(lambda _: runs.append(1) or f"Hello, {event}!", name="greet")
        ctx.wait(Duration.from_seconds(2))
        return greeting

    assert run(handler, journal) == "pending"
    journal.advance_time()
    assert run(handler, journal) == 'succeeded "Hello, World!"'
    assert runs == [1]
    assert journal.events == [
        "StepStarted 1 1", 'StepSucceeded 1 1 "Hello, World!"', "WaitStarted 2 2",
        "InvocationCompleted", "InvocationCompleted",
    ]


def test_failed_attempts_are_retried_after_the_delay_then_succeed():
    journal = InMemoryJournal()
    attempts = []
    config = StepConfig(retry_strategy=create_retry_strategy(RetryStrategyConfig(
        max_attempts=3, initial_delay=Duration.from_seconds(2), jitter_strategy=JitterStrategy.NONE)))

    def flaky(step):
        attempts.append(step.attempt)
        if step.attempt < 3:
            raise ConnectionError("try again")
        return "done"

    handler = lambda event, ctx: ctx.step(flaky, name="flaky", config=config)  # noqa: E731
    assert run(handler, journal) == "pending"
    assert run(handler, journal) == "pending"  # not ready yet: the body does not run
    journal.advance_time()
    assert run(handler, journal) == "pending"
    journal.advance_time()
    assert run(handler, journal) == 'succeeded "done"'
    assert attempts == [1, 2, 3]
    assert [e for e in journal.events if e.startswith("StepRetry")] == ["StepRetry 1 1 2", "StepRetry 1 2 4"]


def test_a_step_that_fails_for_good_raises_step_error_then_and_on_replay():
    journal = InMemoryJournal()
    runs = []
    seen = []

    def handler(event, ctx):
        def boom(_):
            runs.append(1)
            raise KeyError("missing")

        try:
            ctx.step(boom, name="boom", config=NO_RETRY)
        except StepError as err:
            seen.append((err.error_type, type(err.__cause__).__name__))
        ctx.wait(Duration.from_seconds(1))
        return "fallback"

    assert run(handler, journal) == "pending"
    journal.advance_time()
    assert run(handler, journal) == 'succeeded "fallback"'
    assert runs == [1]
    assert seen == [("KeyError", "DurableOperationError")] * 2
    assert "StepFailed 1 1 KeyError" in journal.events


def test_an_uncaught_step_error_fails_the_execution():
    journal = InMemoryJournal()

    def handler(event, ctx):
        return ctx.step(lambda _: 1 / 0, config=NO_RETRY)

    assert run(handler, journal) == "failed StepError"


def test_an_interrupted_at_most_once_step_is_not_run_again():
    journal = InMemoryJournal()
    op = J.OpRef("1", None, "charge", "Step")
    journal.step_started(op, 1, True)  # a crash after the start was journaled
    runs = []
    config = StepConfig(step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY, retry_strategy=RetryPresets.none())
    handler = lambda e, ctx: ctx.step(lambda _: runs.append(1), name="charge", config=config)  # noqa: E731
    assert run(handler, journal) == "failed StepError"
    assert runs == []
    assert journal.ops["1"].error.type == "StepInterruptedError"


def test_an_interrupted_at_least_once_step_runs_again():
    journal = InMemoryJournal()
    journal.step_started(J.OpRef("1", None, "s", "Step"), 1, False)
    runs = []
    handler = lambda e, ctx: ctx.step(lambda step: runs.append(step.attempt) or "ok", name="s")  # noqa: E731
    assert run(handler, journal) == 'succeeded "ok"'
    assert runs == [1]


def test_operations_inside_a_step_are_refused():
    journal = InMemoryJournal()
    errors = []

    def handler(event, ctx):
        def body(_):
            try:
                ctx.wait(Duration.from_seconds(1))
            except ValidationError as err:
                errors.append(str(err))
            return 1

        return ctx.step(body)

    assert run(handler, journal) == "succeeded 1"
    assert errors == ["durable operations cannot run inside a step"]


def test_durable_step_names_the_step_after_the_function():
    journal = InMemoryJournal()

    @durable_step
    def add(step, a, b):
        return a + b

    handler = lambda e, ctx: ctx.step(add(2, 3))  # noqa: E731
    assert run(handler, journal) == "succeeded 5"
    assert journal.ops["1"].name == "add"


def test_custom_serdes_journals_the_step_result_in_its_format():
    class Upper(SerDes):
        def serialize(self, value, _):
            return "UP:" + value.upper()

        def deserialize(self, data, _):
            return data[3:].lower()

    journal = InMemoryJournal()

    def handler(event, ctx):
        value = ctx.step(lambda _: "abc", config=StepConfig(serdes=Upper()))
        ctx.wait(Duration.from_seconds(1))
        return value

    assert run(handler, journal) == "pending"
    assert journal.ops["1"].result == "UP:ABC"
    journal.advance_time()
    assert run(handler, journal) == 'succeeded "abc"'


# --- replay rules --------------------------------------------------------


def test_a_changed_operation_fails_as_non_deterministic_even_if_caught():
    journal = InMemoryJournal()
    assert run(lambda e, ctx: ctx.step(lambda _: 1, name="a") and ctx.wait(Duration(5)), journal) == "pending"

    def changed(event, ctx):
        try:
            ctx.wait(Duration(5), name="other")
        except Exception:
            pass
        return "swallowed"

    assert run(changed, journal) == "failed NonDeterministicExecution"
    outcome = run_durable(changed, journal)
    assert "operation 1 is step/Step/\"a\" in the journal but wait/Wait/\"other\" in the code" in outcome.error.message


def test_a_swallowed_suspension_still_suspends():
    journal = InMemoryJournal()

    def handler(event, ctx):
        try:
            ctx.wait(Duration(10))
        except BaseException:
            pass
        return "too early"

    assert run(handler, journal) == "pending"


def test_the_context_logger_is_silent_while_replaying():
    journal = InMemoryJournal()

    def handler(event, ctx):
        ctx.logger.info("before %s", "wait")
        ctx.step(lambda step: step.logger.info("in step"))
        ctx.wait(Duration(1))
        ctx.logger.info("after")
        return None

    assert run(handler, journal) == "pending"
    journal.advance_time()
    assert run(handler, journal) == "succeeded null"
    assert [m for _, m in journal.logs] == ["before wait", "in step", "after"]


def test_a_refused_journal_update_ends_the_invocation():
    journal = InMemoryJournal()
    journal.ended = True
    assert run(lambda e, ctx: ctx.step(lambda _: 1), journal) == "pending"


def test_empty_input_is_an_empty_dict_and_bad_input_fails():
    assert run(lambda e, ctx: e, InMemoryJournal("")) == "succeeded {}"
    assert run(lambda e, ctx: e, InMemoryJournal("{nope")) == "failed JSONDecodeError"


def test_durable_execution_wraps_and_runs_against_a_journal():
    @durable_execution
    def handler(event, context):
        return context.step(lambda _: event["x"] * 2)

    assert handler.run(InMemoryJournal('{"x": 21}')).result == "42"
    with pytest.raises(TypeError):
        handler({}, None)


# --- waits, callbacks ----------------------------------------------------


def test_a_wait_below_one_second_is_refused_before_anything_is_journaled():
    journal = InMemoryJournal()
    outcome = run_durable(lambda e, ctx: ctx.wait(Duration(0)), journal)
    assert (outcome.status, outcome.error.type) == ("FAILED", "ValidationError")
    assert journal.events == []


def test_create_callback_returns_the_id_and_result_suspends_until_completed():
    journal = InMemoryJournal()
    ids = []

    def handler(event, ctx):
        cb = ctx.create_callback(name="approval", config=CallbackConfig(timeout=Duration.from_minutes(5)))
        ids.append(cb.callback_id)
        ctx.step(lambda _: f"sent {cb.callback_id}", name="send")
        return cb.result()

    assert run(handler, journal) == "pending"
    assert "CallbackStarted 1 300 0" in journal.events
    journal.complete_callback("1", '{"ok":true}')
    assert run(handler, journal) == 'succeeded {"ok":true}'
    assert ids == ["cb-1", "cb-1"]
    assert [e for e in journal.events if e.startswith("StepStarted")] == ["StepStarted 2 1"]


def test_wait_for_callback_records_context_callback_and_submitter_in_order():
    journal = InMemoryJournal()
    submitted = []

    def handler(event, ctx):
        return ctx.wait_for_callback(lambda cid, wctx: submitted.append(cid), name="pay")

    assert run(handler, journal) == "pending"
    assert journal.events[:4] == ["ContextStarted 1 WaitForCallback", "CallbackStarted 1-1 0 0",
                                  "StepStarted 1-2 1", "StepSucceeded 1-2 1 null"]
    assert journal.ops["1-1"].parent_id == "1" and journal.ops["1-1"].name == "pay create callback id"
    journal.complete_callback("1-1", '"paid"')
    assert run(handler, journal) == 'succeeded "paid"'
    assert submitted == ["cb-1-1"]
    assert journal.ops["1"].status == J.SUCCEEDED


@pytest.mark.parametrize(
    "complete, error",
    [
        (dict(error_type="Declined"), CallbackExternalError),
        (dict(timed_out=True), CallbackTimeoutError),
    ],
)
def test_a_failed_or_timed_out_callback_raises_its_error_then_and_on_replay(complete, error):
    journal = InMemoryJournal()
    caught = []

    def handler(event, ctx):
        try:
            ctx.wait_for_callback(lambda cid: None, name="pay", config=WaitForCallbackConfig(
                timeout=Duration.from_seconds(30)))
        except error as err:
            caught.append(type(err).__name__)
        ctx.wait(Duration(1))
        return "handled"

    assert run(handler, journal) == "pending"
    journal.complete_callback("1-1", **complete)
    assert run(handler, journal) == "pending"
    journal.advance_time()
    assert run(handler, journal) == 'succeeded "handled"'
    assert caught == [error.__name__] * 2
    assert journal.ops["1"].status == J.FAILED and journal.ops["1"].error.type == error.__name__


def test_a_failing_submitter_raises_callback_submitter_error():
    journal = InMemoryJournal()

    def submit(cid, ctx):
        raise RuntimeError("queue down")

    def handler(event, ctx):
        return ctx.wait_for_callback(submit, config=WaitForCallbackConfig(retry_strategy=RetryPresets.none()))

    outcome = run_durable(handler, journal)
    assert outcome.status == "FAILED" and outcome.error.type == "CallbackSubmitterError"
    assert outcome.error.message == "queue down"
    assert journal.ops["1-2"].error.type == "RuntimeError"
    caught = []

    def replayed(event, ctx):
        try:
            ctx.wait_for_callback(submit)
        except CallbackSubmitterError as err:
            caught.append(err.message)

    run_durable(replayed, journal)
    assert caught == ["queue down"]


# --- child contexts --------------------------------------------------------


def test_child_contexts_number_operations_below_their_own_id_and_replay_as_one():
    journal = InMemoryJournal()
    runs = []

    @durable_with_child_context
    def shipping(child, weight):
        rate = child.step(lambda _: runs.append(1) or weight * 2, name="rate")
        child.wait(Duration(1))
        return {"rate": rate}

    def handler(event, ctx):
        quote = ctx.run_in_child_context(shipping(3))
        return ctx.step(lambda _: quote["rate"] + 1)

    assert run(handler, journal) == "pending"
    assert journal.ops["1"].name == "shipping" and journal.ops["1-1"].parent_id == "1"
    journal.advance_time()
    assert run(handler, journal) == "succeeded 7"
    assert runs == [1]
    assert journal.ops["1"].result == '{"rate":6}'


def test_a_failing_child_context_raises_child_context_error_with_the_inner_type():
    journal = InMemoryJournal()

    def handler(event, ctx):
        try:
            ctx.run_in_child_context(lambda c: {}["x"], name="bad")
        except ChildContextError as err:
            return err.error_type
        return "no error"

    assert run(handler, journal) == 'succeeded "KeyError"'
    assert journal.events[1] == "ContextFailed 1 KeyError"
    assert run(handler, journal) == 'succeeded "KeyError"'  # replayed from the journal


def test_a_large_child_result_is_rebuilt_from_its_children_on_replay():
    journal = InMemoryJournal()
    big = "x" * (300 * 1024)

    def handler(event, ctx):
        text = ctx.run_in_child_context(lambda c: c.step(lambda _: big))
        ctx.wait(Duration(1))
        return len(text)

    assert run(handler, journal) == "pending"
    assert journal.ops["1"].result == ""
    assert journal.ops["1"].replay_children
    journal.advance_time()
    assert run(handler, journal) == f"succeeded {len(big)}"


def test_an_empty_child_result_is_replayed_not_rebuilt():
    # Only the journaled replay_children flag makes a replay run the body again.
    from lamina_sdk.durable import ChildConfig

    journal = InMemoryJournal()
    bodies = []

    class Raw(SerDes):
        def serialize(self, value, serdes_context):
            return value

        def deserialize(self, data, serdes_context):
            return data

    def handler(event, ctx):
        def body(child):
            bodies.append(1)
            return ""

        text = ctx.run_in_child_context(body, config=ChildConfig(serdes=Raw()))
        ctx.wait(Duration(1))
        return text

    assert run(handler, journal) == "pending"
    assert not journal.ops["1"].replay_children
    journal.advance_time()
    assert run(handler, journal) == 'succeeded ""'
    assert len(bodies) == 1


# --- parallel and map ------------------------------------------------------


def test_a_waiting_branch_does_not_stop_the_others():
    journal = InMemoryJournal()
    ran = []

    def branch(i, wait):
        def body(ctx):
            ran.append(i)
            if wait:
                ctx.wait(Duration(5))
            return ctx.step(lambda _: i * 10)
        return body

    def handler(event, ctx):
        batch = ctx.parallel([branch(0, False), branch(1, True), ParallelBranch(branch(2, False), name="third")],
                             name="fan")
        return batch.get_results()

    assert run(handler, journal) == "pending"
    assert ran == [0, 1, 2]
    assert journal.ops["1-3"].name == "third" and journal.ops["1-1"].name == "parallel-branch-0"
    assert journal.ops["1-1"].sub_type == "ParallelBranch" and journal.ops["1-1"].status == J.SUCCEEDED
    journal.advance_time()
    assert run(handler, journal) == "succeeded [0,10,20]"
    assert ran == [0, 1, 2, 1]  # only the waiting branch runs again


def test_max_concurrency_keeps_a_suspended_branch_in_flight_across_invocations():
    journal = InMemoryJournal()
    started = []

    def item(ctx, value, index, items):
        started.append(index)
        if index == 0:
            ctx.wait(Duration(5))
        return ctx.step(lambda _: value + 1)

    def handler(event, ctx):
        return ctx.map([1, 2, 3], item, name="m", config=MapConfig(max_concurrency=1)).get_results()

    assert run(handler, journal) == "pending"
    assert started == [0]  # item 0 holds the only slot
    assert "1-2" not in journal.ops
    journal.advance_time()
    assert run(handler, journal) == "succeeded [2,3,4]"
    assert started == [0, 0, 1, 2]
    assert journal.ops["1-2"].sub_type == "MapIteration" and journal.ops["1-2"].name == "map-item-1"


def test_fail_fast_is_the_default_and_throw_if_error_raises():
    journal = InMemoryJournal()
    ran = []

    def branch(i):
        def body(ctx):
            ran.append(i)
            if i == 1:
                raise ValueError("bad branch")
            return i
        return body

    def handler(event, ctx):
        batch = ctx.parallel([branch(0), branch(1), branch(2)])
        assert batch.completion_reason is CompletionReason.FAILURE_TOLERANCE_EXCEEDED
        assert [i.status for i in batch.all] == [BatchItemStatus.SUCCEEDED, BatchItemStatus.FAILED]
        batch.throw_if_error()

    outcome = run_durable(handler, journal)
    assert outcome.status == "FAILED" and outcome.error.type == "ChildContextError"
    assert ran == [0, 1]
    batch = json.loads(journal.ops["1"].result)
    assert batch["completionReason"] == "FAILURE_TOLERANCE_EXCEEDED"
    assert batch["all"][1]["error"]["ErrorType"] == "ValueError"


@pytest.mark.parametrize(
    "completion, reason, count",
    [
        (CompletionConfig.all_completed(), "ALL_COMPLETED", 4),
        (CompletionConfig.first_successful(), "MIN_SUCCESSFUL_REACHED", 1),
        (CompletionConfig(tolerated_failure_count=1), "FAILURE_TOLERANCE_EXCEEDED", 4),
        (CompletionConfig(tolerated_failure_percentage=25), "FAILURE_TOLERANCE_EXCEEDED", 4),
        (CompletionConfig(tolerated_failure_percentage=50), "ALL_COMPLETED", 4),
        (CompletionConfig(min_successful=2), "MIN_SUCCESSFUL_REACHED", 3),
    ],
)
def test_completion_rules(completion, reason, count):
    # Items 1 and 3 fail.
    def item(ctx, value, index, items):
        if value % 2:
            raise ValueError(f"odd {value}")
        return value

    outcome = run_durable(
        lambda e, ctx: ctx.map([0, 1, 2, 3], item, config=MapConfig(completion_config=completion)).to_dict(),
        InMemoryJournal(),
    )
    result = json.loads(outcome.result)
    assert (result["completionReason"], len(result["all"])) == (reason, count), result


def test_a_batch_completes_early_reporting_suspended_branches_as_started():
    journal = InMemoryJournal()

    def branch(wait):
        def body(ctx):
            if wait:
                ctx.wait(Duration(60))
            return "fast"
        return body

    def handler(event, ctx):
        batch = ctx.parallel([branch(True), branch(False)],
                             config=ParallelConfig(completion_config=CompletionConfig.first_successful()))
        return [i.status.value for i in batch.all]

    assert run(handler, journal) == 'succeeded ["STARTED","SUCCEEDED"]'


def test_an_invalid_batch_config_is_refused_before_anything_is_journaled():
    with pytest.raises(ValidationError):
        MapConfig(max_concurrency=0)
    journal = InMemoryJournal()
    outcome = run_durable(
        lambda e, ctx: ctx.map([1], lambda c, i, n, a: i, config=MapConfig(
            completion_config=CompletionConfig(min_successful=2))), journal)
    assert outcome.error.type == "ValidationError"
    assert journal.events == []


def test_flat_branches_journal_their_operations_under_the_batch():
    journal = InMemoryJournal()

    def handler(event, ctx):
        return ctx.map(["a", "b"], lambda c, item, i, items: c.step(lambda _: item.upper()),
                       config=MapConfig(nesting_type=NestingType.FLAT)).get_results()

    assert run(handler, journal) == 'succeeded ["A","B"]'
    assert sorted(journal.ops) == ["1", "1-1-1", "1-2-1"]
    assert journal.ops["1-1-1"].parent_id == "1"


def test_callbacks_in_map_items_complete_in_any_order():
    journal = InMemoryJournal()

    def handler(event, ctx):
        return ctx.map(["x", "y"], lambda c, item, i, items: c.wait_for_callback(lambda cid: None),
                       config=MapConfig(completion_config=CompletionConfig.all_completed())).get_results()

    assert run(handler, journal) == "pending"
    journal.complete_callback("1-2-1-1", '"second"')
    assert run(handler, journal) == "pending"
    journal.complete_callback("1-1-1-1", '"first"')
    assert run(handler, journal) == 'succeeded ["first","second"]'


def test_a_batch_too_large_to_journal_is_rebuilt_from_its_branches():
    journal = InMemoryJournal()
    big = "y" * (200 * 1024)

    def handler(event, ctx):
        batch = ctx.map([1, 2], lambda c, item, i, items: c.step(lambda _: big))
        ctx.wait(Duration(1))
        return [len(r) for r in batch.get_results()]

    assert run(handler, journal) == "pending"
    assert json.loads(journal.ops["1"].result)["type"] == "MapResult"
    journal.advance_time()
    assert run(handler, journal) == f"succeeded [{len(big)},{len(big)}]"


# --- wait_for_condition, invoke -------------------------------------------


def test_wait_for_condition_polls_until_the_strategy_is_done():
    journal = InMemoryJournal()
    strategy = create_wait_strategy(WaitStrategyConfig(
        should_continue_polling=lambda s: s["n"] < 3, initial_delay=Duration(2),
        jitter_strategy=JitterStrategy.NONE))
    checks = []

    def check(state, cctx):
        checks.append(cctx.attempt)
        return {"n": state["n"] + 1}

    def handler(event, ctx):
        return ctx.wait_for_condition(check, WaitForConditionConfig(strategy, {"n": 0}), name="poll")

    assert run(handler, journal) == "pending"
    journal.advance_time()
    assert run(handler, journal) == "pending"
    journal.advance_time()
    assert run(handler, journal) == 'succeeded {"n":3}'
    assert checks == [1, 2, 3]
    assert [e for e in journal.events if e.startswith("StepPoll")] == [
        'StepPoll 1 1 {"n":1} 2', 'StepPoll 1 2 {"n":2} 3']


def test_a_failing_check_or_an_exhausted_strategy_fails_wait_for_condition():
    def handler(event, ctx):
        strategy = lambda s, attempt: WaitForConditionDecision.continue_waiting(Duration(1))  # noqa: E731
        return ctx.wait_for_condition(lambda s, c: 1 / 0, WaitForConditionConfig(strategy, 0))

    assert run(handler, InMemoryJournal()) == "failed WaitForConditionError"

    journal = InMemoryJournal()
    exhausted = create_wait_strategy(WaitStrategyConfig(lambda s: True, max_attempts=1))
    caught = []

    def handler2(event, ctx):
        try:
            ctx.wait_for_condition(lambda s, c: s, WaitForConditionConfig(exhausted, 0))
        except WaitForConditionError as err:
            caught.append(err.error_type)
        return "ok"

    assert run(handler2, journal) == 'succeeded "ok"'
    assert caught == ["WaitForConditionError"]


def test_invoke_suspends_until_the_target_ends():
    journal = InMemoryJournal()

    def handler(event, ctx):
        receipt = ctx.invoke("payments", {"amount": 5}, name="charge",
                             config=InvokeConfig(tenant_id="shop-1"))
        try:
            ctx.invoke("refunds", {})
        except InvokeError as err:
            return [receipt, err.error_type]
        return "no error"

    assert run(handler, journal) == "pending"
    assert 'InvokeStarted 1 payments {"amount":5} shop-1' in journal.events
    journal.complete_invoke("1", '{"ok":1}')
    assert run(handler, journal) == "pending"
    journal.complete_invoke("2", error_type="Boom")
    assert run(handler, journal) == 'succeeded [{"ok":1},"Boom"]'


# --- strategies -------------------------------------------------------------


def test_retry_presets_and_backoff():
    assert RetryPresets.none()(ValueError(), 1) == RetryDecision.no_retry()
    linear = RetryPresets.linear()
    assert [linear(ValueError(), n).delay_seconds for n in range(1, 6)] == [1, 2, 3, 4, 5]
    assert not linear(ValueError(), 6).should_retry
    exp = create_retry_strategy(RetryStrategyConfig(max_attempts=10, initial_delay=Duration(2), backoff_rate=3,
                                                    max_delay=Duration(30), jitter_strategy=JitterStrategy.NONE))
    assert [exp(ValueError(), n).delay_seconds for n in range(1, 5)] == [2, 6, 18, 30]
    typed = create_retry_strategy(RetryStrategyConfig(retryable_error_types=[ConnectionError]))
    assert typed(ConnectionError(), 1).should_retry and not typed(ValueError(), 1).should_retry
    by_text = create_retry_strategy(RetryStrategyConfig(retryable_errors=["throttl"]))
    assert by_text(ValueError("throttled"), 1).should_retry and not by_text(ValueError("nope"), 1).should_retry
    full = RetryPresets.default()
    assert all(1 <= full(ValueError(), 1).delay_seconds <= 5 for _ in range(50))


def test_a_virtual_child_context_is_not_journaled_but_numbers_its_operations():
    from lamina_sdk.durable import ChildConfig

    journal = InMemoryJournal()

    def handler(event, ctx):
        value = ctx.run_in_child_context(lambda c: c.step(lambda _: 5), name="v",
                                         config=ChildConfig(is_virtual=True))
        try:
            ctx.run_in_child_context(lambda c: {}["k"], config=ChildConfig(is_virtual=True))
        except ChildContextError as err:
            return [value, err.error_type]

    assert run(handler, journal) == 'succeeded [5,"KeyError"]'
    assert sorted(journal.ops) == ["1-1"] and journal.ops["1-1"].parent_id is None
