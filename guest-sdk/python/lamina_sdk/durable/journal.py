"""The journal the replay core talks to: the host's ``lamina:durable/journal``
imports (wit/durable/durable.wit) as a small Python interface.

Two implementations: ``lamina_sdk._component.WitJournal`` (the real imports,
inside a component) and ``lamina_sdk.durable.memory.InMemoryJournal`` (unit
tests, following the host's rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Protocol

from .exceptions import DurableOperationError

# Operation types (AWS OperationType).
EXECUTION, CONTEXT, STEP, WAIT, CALLBACK, CHAINED_INVOKE = (
    "EXECUTION", "CONTEXT", "STEP", "WAIT", "CALLBACK", "CHAINED_INVOKE",
)
# Operation statuses (AWS OperationStatus).
STARTED, PENDING, READY, SUCCEEDED, FAILED, CANCELLED, TIMED_OUT, STOPPED = (
    "STARTED", "PENDING", "READY", "SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "STOPPED",
)
ENDED = frozenset({SUCCEEDED, FAILED, CANCELLED, TIMED_OUT, STOPPED})
FAILED_LIKE = frozenset({FAILED, CANCELLED, TIMED_OUT, STOPPED})


@dataclass
class ErrorObject:
    """An error as the journal records it (AWS ``ErrorObject``)."""

    message: Optional[str] = None
    type: Optional[str] = None
    data: Optional[str] = None
    stack_trace: Optional[list] = None

    @classmethod
    def from_exception(cls, exception: BaseException) -> ErrorObject:
        """The error's class name as type and ``str(e)`` as message; a
        ``DurableOperationError`` keeps its message, data and stack trace."""
        if isinstance(exception, DurableOperationError):
            return cls(exception.message, type(exception).__name__, exception.data, exception.stack_trace)
        return cls(str(exception), type(exception).__name__, None, None)

    @classmethod
    def from_dict(cls, data: dict) -> ErrorObject:
        """From ``{"ErrorType", "ErrorMessage", "ErrorData", "StackTrace"}``."""
        return cls(data.get("ErrorMessage"), data.get("ErrorType"), data.get("ErrorData"), data.get("StackTrace"))

    def to_dict(self) -> dict:
        """As ``{"ErrorType", "ErrorMessage", "ErrorData", "StackTrace"}`` (absent fields left out)."""
        out: dict = {}
        if self.type is not None:
            out["ErrorType"] = self.type
        if self.message is not None:
            out["ErrorMessage"] = self.message
        if self.data is not None:
            out["ErrorData"] = self.data
        if self.stack_trace:
            out["StackTrace"] = list(self.stack_trace)
        return out

    def raise_as_operation_error(self, cls: type[DurableOperationError]):
        """Raises ``cls`` with this error's fields, ``__cause__`` rebuilt from them."""
        cause = DurableOperationError.from_error_fields(self.type, self.message, self.data, self.stack_trace)
        raise cls(message=self.message, error_type=self.type, data=self.data, stack_trace=self.stack_trace) from cause


@dataclass
class OpRef:
    """Names the operation a journal call is about."""

    id: str
    parent_id: Optional[str]
    name: Optional[str]
    sub_type: str


@dataclass
class Operation:
    """One recorded operation as the journal holds it now."""

    id: str
    op_type: str
    status: str
    parent_id: Optional[str] = None
    name: Optional[str] = None
    sub_type: Optional[str] = None
    result: Optional[str] = None
    error: Optional[ErrorObject] = None
    attempt: int = 0
    next_attempt_ms: Optional[int] = None
    callback_id: Optional[str] = None
    wait_end_ms: Optional[int] = None
    # Contexts: the result was too large to journal; ``result`` only stands
    # for it and a replay rebuilds it from the children (AWS ReplayChildren).
    replay_children: bool = False


@dataclass
class ExecutionState:
    """Everything a (re)play needs."""

    arn: str
    function_name: str
    input: str
    operations: list = field(default_factory=list)
    now_ms: int = 0


class JournalRefused(Exception):
    """A journal call the host refused: ``kind`` is ``execution-ended``, ``invalid`` or ``storage``."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class Journal(Protocol):
    """One method per ``lamina:durable/journal`` import; each raises
    ``JournalRefused`` when the host refuses the update."""

    def load_state(self) -> ExecutionState: ...
    def step_started(self, op: OpRef, attempt: int, wait_for_commit: bool) -> None: ...
    def step_succeeded(self, op: OpRef, attempt: int, result: str) -> None: ...
    def step_failed(self, op: OpRef, attempt: int, error: ErrorObject) -> None: ...
    def step_retry(self, op: OpRef, attempt: int, error: ErrorObject, delay_seconds: int) -> None: ...
    def step_poll(self, op: OpRef, attempt: int, state: str, delay_seconds: int) -> None: ...
    def wait_started(self, op: OpRef, seconds: int) -> None: ...
    def callback_started(self, op: OpRef, timeout_seconds: int, heartbeat_timeout_seconds: int) -> str: ...
    def context_started(self, op: OpRef) -> None: ...
    def context_succeeded(self, op: OpRef, result: str, replay_children: bool) -> None: ...
    def context_failed(self, op: OpRef, error: ErrorObject) -> None: ...
    def invoke_started(self, op: OpRef, function: str, payload: str, tenant_id: Optional[str]) -> None: ...
    def log(self, level: str, message: str) -> None: ...
