"""The public surface: AWS module paths and names, Lambda-style handlers."""

import importlib

import pytest

from lamina_sdk.handler import HandlerError, LambdaContext, run_handler


@pytest.mark.parametrize(
    "module, names",
    [
        ("lamina_sdk.durable", [
            "BatchResult", "CallbackError", "CallbackExternalError", "CallbackSubmitterError",
            "CallbackTimeoutError", "ChildContextError", "DurableContext", "DurableExecutionsError",
            "DurableOperationError", "ExecutionError", "InvocationError", "InvokeError", "ParallelBranch",
            "StepContext", "StepError", "ValidationError", "WaitForConditionError", "WithRetryConfig",
            "durable_execution", "durable_parallel_branch", "durable_step", "durable_wait_for_callback",
            "durable_with_child_context", "with_retry",
        ]),
        ("lamina_sdk.durable.config", [
            "Duration", "StepConfig", "StepSemantics", "CallbackConfig", "WaitForCallbackConfig",
            "ParallelConfig", "MapConfig", "CompletionConfig", "ChildConfig", "InvokeConfig", "NestingType",
            "JitterStrategy", "ParallelBranch",
        ]),
        ("lamina_sdk.durable.retries", [
            "RetryDecision", "RetryStrategyConfig", "RetryPresets", "create_retry_strategy",
            "LinearRetryStrategyConfig", "create_linear_retry_strategy",
        ]),
        ("lamina_sdk.durable.waits", [
            "WaitStrategyConfig", "WaitForConditionDecision", "WaitForConditionConfig", "create_wait_strategy",
        ]),
        ("lamina_sdk.durable.serdes", ["SerDes", "SerDesContext", "JsonSerDes", "PassThroughSerDes"]),
        ("lamina_sdk.durable.types", ["StepContext", "WaitForCallbackContext", "WaitForConditionCheckContext"]),
        ("lamina_sdk.durable.context", ["DurableContext", "durable_step", "durable_with_child_context"]),
        ("lamina_sdk.durable.execution", ["durable_execution"]),
        ("lamina_sdk.durable.concurrency.models", ["BatchItem", "BatchItemStatus", "BatchResult",
                                                   "CompletionReason"]),
        ("lamina_sdk.durable.lambda_service", ["ErrorObject", "OperationSubType"]),
    ],
)
def test_aws_module_paths_hold_the_aws_names(module, names):
    mod = importlib.import_module(module)
    missing = [n for n in names if not hasattr(mod, n)]
    assert missing == []


def test_defaults_match_the_aws_sdk():
    from lamina_sdk.durable.config import CompletionConfig, MapConfig, ParallelConfig, StepConfig, StepSemantics
    from lamina_sdk.durable.retries import RetryStrategyConfig
    from lamina_sdk.durable.waits import WaitStrategyConfig

    assert StepConfig().step_semantics is StepSemantics.AT_LEAST_ONCE_PER_RETRY
    assert ParallelConfig().completion_config == CompletionConfig.all_successful()
    assert MapConfig().completion_config == CompletionConfig()
    r = RetryStrategyConfig()
    assert (r.max_attempts, r.initial_delay.seconds, r.max_delay.seconds, r.backoff_rate) == (3, 5, 300, 2.0)
    w = WaitStrategyConfig(should_continue_polling=bool)
    assert (w.max_attempts, w.initial_delay.seconds, w.max_delay.seconds, w.backoff_rate) == (60, 5, 300, 1.5)


def context():
    return LambdaContext(function_name="greeter", aws_request_id="req-1", remaining_time_ms=5000)


def test_a_handler_gets_the_event_and_the_context():
    def handler(event, ctx):
        return {"name": event["name"], "fn": ctx.function_name, "id": ctx.aws_request_id,
                "left": ctx.get_remaining_time_in_millis()}

    out = run_handler(handler, context(), b'{"name": "Ada"}')
    body = __import__("json").loads(out)
    assert body["name"] == "Ada" and body["fn"] == "greeter" and body["id"] == "req-1"
    assert 0 < body["left"] <= 5000


def test_empty_payload_is_an_empty_dict_and_bytes_pass_through():
    assert run_handler(lambda e, c: e, context(), b"") == b"{}"
    assert run_handler(lambda e, c: b"raw", context(), b"") == b"raw"


def test_an_exception_comes_back_with_its_type_and_message():
    def handler(event, ctx):
        raise PermissionError("not allowed")

    with pytest.raises(HandlerError) as err:
        run_handler(handler, context(), b"{}")
    assert (err.value.error_type, err.value.error_message) == ("PermissionError", "not allowed")


def test_bad_payload_and_unserializable_results_are_errors():
    with pytest.raises(HandlerError) as err:
        run_handler(lambda e, c: e, context(), b"{nope")
    assert err.value.error_type == "InvalidPayload"
    with pytest.raises(HandlerError) as err:
        run_handler(lambda e, c: object(), context(), b"{}")
    assert err.value.error_type == "InvalidOutput"
