"""Durable functions for Lamina, with the public API of the AWS Durable
Execution SDK for Python (``aws_durable_execution_sdk_python``): code written
for it runs with its import lines changed to ``lamina_sdk.durable``.

    from lamina_sdk.durable import DurableContext, durable_execution

    @durable_execution
    def lambda_handler(event, context: DurableContext):
        greeting = context.step(lambda _: f"Hello, {event['name']}!", name="greet")
        return {"greeting": greeting}

The submodules mirror the AWS package's: ``config``, ``retries``, ``waits``,
``serdes``, ``exceptions``, ``types``. See docs/python.md.
"""

from .batch import BatchItem, BatchItemStatus, BatchResult, CompletionReason
from .config import (
    CallbackConfig,
    ChildConfig,
    CompletionConfig,
    Duration,
    InvokeConfig,
    JitterStrategy,
    MapConfig,
    NestingType,
    ParallelBranch,
    ParallelConfig,
    StepConfig,
    StepSemantics,
    WaitForCallbackConfig,
)
from .context import (
    Callback,
    DurableContext,
    durable_parallel_branch,
    durable_step,
    durable_wait_for_callback,
    durable_with_child_context,
)
from .exceptions import (
    CallbackError,
    CallbackExternalError,
    CallbackSubmitterError,
    CallbackTimeoutError,
    ChildContextError,
    DurableExecutionsError,
    DurableOperationError,
    ExecutionError,
    InvocationError,
    InvokeError,
    NonDeterministicExecutionError,
    StepError,
    StepInterruptedError,
    SuspendExecution,
    ValidationError,
    WaitForConditionError,
)
from .execution import DurableFunction, Outcome, durable_execution, run_durable
from .journal import ErrorObject
from .retries import (
    LinearRetryStrategyConfig,
    RetryDecision,
    RetryPresets,
    RetryStrategyConfig,
    WithRetryConfig,
    create_linear_retry_strategy,
    create_retry_strategy,
    with_retry,
)
from .serdes import JsonSerDes, PassThroughSerDes, SerDes, SerDesContext
from .types import StepContext, WaitForCallbackContext, WaitForConditionCheckContext
from .waits import (
    WaitForConditionConfig,
    WaitForConditionDecision,
    WaitStrategyConfig,
    create_wait_strategy,
)

__version__ = "0.1.0"

__all__ = [name for name in dir() if not name.startswith("_")]
