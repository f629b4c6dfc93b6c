"""``durable_execution``: turns ``handler(event, context: DurableContext)``
into a durable function, and runs one invocation of it against a journal."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Callable, Optional

from . import journal as J
from .context import DurableContext
from .exceptions import CheckpointError, NonDeterministicExecutionError, SuspendExecution
from .serdes import dumps
from .state import ExecutionEnded, Execution


@dataclass
class Outcome:
    """How an invocation ended: ``status`` is ``SUCCEEDED`` (``result``:
    JSON text), ``FAILED`` (``error``) or ``PENDING`` (suspended)."""

    status: str
    result: Optional[str] = None
    error: Optional[J.ErrorObject] = None


class DurableFunction:
    """A handler made durable by ``@durable_execution``. Lamina's component
    glue runs it through ``run``; calling it directly is refused."""

    def __init__(self, func: Callable[[Any, DurableContext], Any]):
        self.func = func
        functools.update_wrapper(self, func)

    def __call__(self, event, context):
        raise TypeError(
            f"{self.func.__name__} is a durable function: build it into a component and "
            "invoke it through Lamina, or run it in tests with lamina_sdk.durable.run_durable"
        )

    def run(self, journal: J.Journal, lambda_context: Any = None) -> Outcome:
        """Runs (or replays) one invocation against ``journal``."""
        return run_durable(self.func, journal, lambda_context)


def durable_execution(func: Optional[Callable] = None, **_options: Any):
    """Decorator making ``handler(event, context)`` a durable function. Also
    usable as ``@durable_execution()``; AWS-only options (``boto3_client``,
    ``plugins``) are accepted and ignored."""
    if func is None:
        return lambda f: DurableFunction(f)
    return DurableFunction(func)


def run_durable(func: Callable[[Any, DurableContext], Any], journal: J.Journal,
                lambda_context: Any = None) -> Outcome:
    """One invocation of ``func`` against ``journal``: loads the state, parses
    the input (empty input is ``{}``), runs ``func`` from the top and turns
    what happened into an ``Outcome``. A halt (non-determinism, a refused
    journal update) wins over whatever ``func`` returned."""
    if isinstance(func, DurableFunction):
        func = func.func
    state = journal.load_state()
    ex = Execution(journal, state)
    raw = (state.input or "").strip()
    try:
        event = json.loads(raw) if raw else {}
    except ValueError as err:
        return Outcome("FAILED", error=J.ErrorObject.from_exception(err))
    context = DurableContext(ex, lambda_context=lambda_context)
    try:
        value = func(event, context)
    except SuspendExecution:
        value = None
    except Exception as err:
        if ex.halt is None and not ex.suspended[0]:
            return Outcome("FAILED", error=J.ErrorObject.from_exception(err))
    if ex.halt is not None:
        if isinstance(ex.halt, ExecutionEnded):
            return Outcome("PENDING")
        if isinstance(ex.halt, NonDeterministicExecutionError):
            return Outcome("FAILED", error=J.ErrorObject(str(ex.halt), "NonDeterministicExecution"))
        if isinstance(ex.halt, CheckpointError):
            return Outcome("FAILED", error=J.ErrorObject(str(ex.halt), "JournalError"))
    if ex.suspended[0]:
        return Outcome("PENDING")
    try:
        return Outcome("SUCCEEDED", result=dumps(value))
    except (TypeError, ValueError) as err:
        return Outcome("FAILED", error=J.ErrorObject(f"the result could not be serialized: {err}", "SerDesError"))
