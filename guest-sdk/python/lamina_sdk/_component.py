"""Glue between componentize-py's generated bindings (module ``wit_world``)
and the SDK. Imported at build time (componentize-py pre-initializes the app, and only
modules imported then are in the component): the app module that
``scripts/build-python-guests.sh`` writes calls ``durable_export`` or
``handler_export`` with the user's handler and exports the class it returns
as ``Handler``."""

from __future__ import annotations

from typing import Any, Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import types as T

from .durable import journal as J
from .durable.execution import run_durable
from .handler import HandlerError, LambdaContext, run_handler

try:  # only in the durable world
    from wit_world.imports import journal as _wit_journal
except ImportError:  # the function world has no journal
    _wit_journal = None


def durable_export(func: Any):
    """The ``lamina:durable/handler`` export running ``func`` (a
    ``@durable_execution`` handler) against the host's journal."""
    class Handler(exports.Handler):
        def handle(self) -> T.Outcome:
            outcome = run_durable(func, WitJournal())
            if outcome.status == "SUCCEEDED":
                return T.Outcome_Succeeded(outcome.result or "null")
            if outcome.status == "FAILED":
                return T.Outcome_Failed(_wit_error(outcome.error or J.ErrorObject()))
            return T.Outcome_Pending()

    return Handler


def handler_export(func: Any):
    """The ``lamina:function/handler`` export running a Lambda-style
    ``func(event, context)``."""
    class Handler(exports.Handler):
        def handle(self, invocation: T.Invocation, payload: bytes) -> bytes:
            context = LambdaContext(
                function_name=invocation.function_name,
                aws_request_id=invocation.request_id,
                remaining_time_ms=invocation.remaining_time_ms,
            )
            try:
                return run_handler(func, context, payload)
            except HandlerError as err:
                raise Err(T.FunctionError(error_type=err.error_type, error_message=err.error_message)) from None

    return Handler


_OP_TYPES = {0: J.EXECUTION, 1: J.CONTEXT, 2: J.STEP, 3: J.WAIT, 4: J.CALLBACK, 5: J.CHAINED_INVOKE}
_STATUSES = {
    0: J.STARTED, 1: J.PENDING, 2: J.READY, 3: J.SUCCEEDED,
    4: J.FAILED, 5: J.CANCELLED, 6: J.TIMED_OUT, 7: J.STOPPED,
}
_LEVELS = {"debug": 0, "info": 1, "warn": 2, "error": 3}


def _wit_error(error: J.ErrorObject):
    return T.ErrorObject(
        error_type=error.type,
        error_message=error.message,
        error_data=error.data,
        stack_trace=[str(line) for line in (error.stack_trace or [])],
    )


def _sdk_error(error) -> Optional[J.ErrorObject]:
    if error is None:
        return None
    return J.ErrorObject(error.error_message, error.error_type, error.error_data, list(error.stack_trace) or None)


def _op_ref(op: J.OpRef):
    return T.OpRef(id=op.id, parent_id=op.parent_id, name=op.name, sub_type=op.sub_type)


def _refused(err: Err) -> J.JournalRefused:
    value = err.value
    if isinstance(value, T.JournalError_ExecutionEnded):
        return J.JournalRefused("execution-ended", value.value)
    if isinstance(value, T.JournalError_Invalid):
        return J.JournalRefused("invalid", value.value)
    return J.JournalRefused("storage", getattr(value, "value", str(value)))


class WitJournal:
    """The host's ``lamina:durable/journal`` imports."""

    def __init__(self) -> None:
        self._j = _wit_journal

    def _call(self, name: str, *args):
        try:
            return getattr(self._j, name)(*args)
        except Err as err:
            raise _refused(err) from None

    def load_state(self) -> J.ExecutionState:
        state = self._j.load_state()
        ops = [
            J.Operation(
                id=op.id,
                op_type=_OP_TYPES[op.op_type.value],
                status=_STATUSES[op.status.value],
                parent_id=op.parent_id,
                name=op.name,
                sub_type=op.sub_type,
                result=op.result,
                error=_sdk_error(op.error),
                attempt=op.attempt,
                next_attempt_ms=op.next_attempt_ms,
                callback_id=op.callback_id,
                wait_end_ms=op.wait_end_ms,
                replay_children=op.replay_children,
            )
            for op in state.operations
        ]
        return J.ExecutionState(state.arn, state.function_name, state.input, ops, state.now_ms)

    def step_started(self, op, attempt, wait_for_commit):
        self._call("step_started", _op_ref(op), attempt, wait_for_commit)

    def step_succeeded(self, op, attempt, result):
        self._call("step_succeeded", _op_ref(op), attempt, result)

    def step_failed(self, op, attempt, error):
        self._call("step_failed", _op_ref(op), attempt, _wit_error(error))

    def step_retry(self, op, attempt, error, delay_seconds):
        self._call("step_retry", _op_ref(op), attempt, _wit_error(error), delay_seconds)

    def step_poll(self, op, attempt, state, delay_seconds):
        self._call("step_poll", _op_ref(op), attempt, state, delay_seconds)

    def wait_started(self, op, seconds):
        self._call("wait_started", _op_ref(op), seconds)

    def callback_started(self, op, timeout_seconds, heartbeat_timeout_seconds):
        return self._call("callback_started", _op_ref(op), timeout_seconds, heartbeat_timeout_seconds)

    def context_started(self, op):
        self._call("context_started", _op_ref(op))

    def context_succeeded(self, op, result, replay_children):
        self._call("context_succeeded", _op_ref(op), result, replay_children)

    def context_failed(self, op, error):
        self._call("context_failed", _op_ref(op), _wit_error(error))

    def invoke_started(self, op, function, payload, tenant_id):
        self._call("invoke_started", _op_ref(op), function, payload, tenant_id)

    def log(self, level, message):
            self._j.log(T.LogLevel(_LEVELS.get(level, 1)), message)
