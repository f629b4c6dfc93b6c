"""Exceptions of lamina_sdk.durable, named and shaped like the AWS Durable
Execution SDK for Python's (``aws_durable_execution_sdk_python.exceptions``).

``SuspendExecution`` derives from ``BaseException`` (like ``SystemExit``) so
that ``except Exception`` in user code does not swallow a suspension.
"""

from __future__ import annotations

from enum import Enum


class TerminationReason(Enum):
    """Why a durable execution terminated."""

    UNHANDLED_ERROR = "UNHANDLED_ERROR"
    INVOCATION_ERROR = "INVOCATION_ERROR"
    EXECUTION_ERROR = "EXECUTION_ERROR"
    CHECKPOINT_FAILED = "CHECKPOINT_FAILED"
    NON_DETERMINISTIC_EXECUTION = "NON_DETERMINISTIC_EXECUTION"
    STEP_INTERRUPTED = "STEP_INTERRUPTED"
    SERIALIZATION_ERROR = "SERIALIZATION_ERROR"


class DurableExecutionsError(Exception):
    """Base class of the SDK's exceptions."""


class UnrecoverableError(DurableExecutionsError):
    """An error that ends the execution."""

    def __init__(self, message: str, termination_reason: TerminationReason):
        super().__init__(message)
        self.termination_reason = termination_reason


class ExecutionError(UnrecoverableError):
    """Fails the execution without retry."""

    def __init__(
        self,
        message: str,
        termination_reason: TerminationReason = TerminationReason.EXECUTION_ERROR,
    ):
        super().__init__(message, termination_reason)


class InvocationError(UnrecoverableError):
    """Fails the invocation (AWS retries it)."""

    def __init__(
        self,
        message: str,
        termination_reason: TerminationReason = TerminationReason.INVOCATION_ERROR,
    ):
        super().__init__(message, termination_reason)

    def is_retryable(self) -> bool:
        """Whether a new invocation may succeed."""
        return True


class NonDeterministicExecutionError(ExecutionError):
    """The code and the journal disagree about an operation."""

    def __init__(self, message: str, step_id: str | None = None):
        super().__init__(message, TerminationReason.NON_DETERMINISTIC_EXECUTION)
        self.step_id = step_id


class CheckpointError(InvocationError):
    """The host refused or could not store a journal update."""

    def __init__(self, message: str):
        super().__init__(message, TerminationReason.CHECKPOINT_FAILED)


class ValidationError(DurableExecutionsError):
    """Incorrect arguments to a durable operation."""


class InvalidStateError(DurableExecutionsError):
    """An operation on an object in an invalid state."""


class SerDesError(DurableExecutionsError):
    """Serialization failed."""


class DurableOperationError(DurableExecutionsError):
    """Base class of typed per-operation failures.

    ``error_type`` is the type name of the error that escaped the operation
    (e.g. ``"ValueError"``); ``data`` and ``stack_trace`` are carried along.
    The escaping error is ``__cause__``.
    """

    def __init__(
        self,
        message: str | None = None,
        error_type: str | None = None,
        data: str | None = None,
        stack_trace: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message: str | None = message
        self.error_type: str = error_type or type(self).__name__
        self.data: str | None = data
        self.stack_trace: list[str] | None = stack_trace

    @classmethod
    def from_error_fields(
        cls,
        error_type: str | None,
        message: str | None,
        data: str | None,
        stack_trace: list[str] | None,
    ) -> DurableOperationError:
        """The SDK's own error class named ``error_type``, else this base."""
        target = _REGISTRY.get(error_type or "", DurableOperationError)
        return target(message=message, error_type=error_type, data=data, stack_trace=stack_trace)


class StepError(DurableOperationError):
    """A step failed for good."""


class InvokeError(DurableOperationError):
    """A chained invoke failed, timed out or was stopped."""


class ChildContextError(DurableOperationError):
    """A child context (run_in_child_context, a map item, a parallel branch) failed."""


class WaitForConditionError(DurableOperationError):
    """A wait_for_condition check failed, or its strategy gave up."""


class CallbackError(DurableOperationError):
    """Base class of callback failures."""


class CallbackExternalError(CallbackError):
    """The external system completed the callback with a failure."""


class CallbackTimeoutError(CallbackError):
    """The callback timed out (its timeout or its heartbeat timeout)."""


class CallbackSubmitterError(CallbackError):
    """The submitter step of a wait_for_callback failed."""


_REGISTRY: dict[str, type[DurableOperationError]] = {
    cls.__name__: cls
    for cls in (
        StepError,
        InvokeError,
        ChildContextError,
        WaitForConditionError,
        CallbackError,
        CallbackExternalError,
        CallbackTimeoutError,
        CallbackSubmitterError,
    )
}


class StepInterruptedError(InvocationError):
    """An at-most-once step attempt was interrupted before it was journaled as ended."""

    def __init__(self, message: str, step_id: str | None = None):
        super().__init__(message, TerminationReason.STEP_INTERRUPTED)
        self.step_id = step_id


class SuspendExecution(BaseException):
    """Suspends the execution: the invocation ends and the host re-invokes later.

    Raised by operations that have to wait. Let it propagate.
    """

    def __init__(self, message: str = "the execution is suspended"):
        super().__init__(message)


class TimedSuspendExecution(SuspendExecution):
    """A suspension with a known resume time (Unix seconds)."""

    def __init__(self, message: str, scheduled_timestamp: float):
        super().__init__(message)
        self.scheduled_timestamp = scheduled_timestamp


class OrphanedChildException(BaseException):
    """A branch ran on after its batch completed (not raised by Lamina: branches run in turn)."""

    def __init__(self, message: str, operation_id: str):
        super().__init__(message)
        self.operation_id = operation_id
