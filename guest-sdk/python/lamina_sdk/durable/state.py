"""State shared by every context of one invocation: the loaded journal, the
replay flag, suspension scopes and whether the invocation must stop."""

from __future__ import annotations

from typing import Optional

from . import journal as J
from .exceptions import CheckpointError, NonDeterministicExecutionError, SuspendExecution, ValidationError


class ExecutionEnded(SuspendExecution):
    """The host ended the execution (stopped, timed out): the invocation ends as pending."""


class Execution:
    """One invocation of a durable execution."""

    def __init__(self, journal: J.Journal, state: J.ExecutionState):
        self.journal = journal
        self.arn = state.arn
        self.function_name = state.function_name
        self.input = state.input
        self.ops = {op.id: op for op in state.operations if op.op_type != J.EXECUTION}
        self.ended = {op.id for op in self.ops.values() if op.status in J.ENDED}
        self.visited: set = set()
        self.replaying = bool(self.ops)
        self.in_step = False
        # The error that stops the whole invocation (non-determinism, journal trouble).
        self.halt: Optional[BaseException] = None
        # Suspension scopes, innermost last (each parallel/map branch has one).
        self.suspended = [False]

    # --- stopping -------------------------------------------------------

    def check(self) -> None:
        """Raises if no operation may start now."""
        self.raise_halt()
        if self.suspended[-1]:
            raise SuspendExecution("an earlier operation suspended the execution")
        if self.in_step:
            raise ValidationError("durable operations cannot run inside a step")

    def raise_halt(self) -> None:
        """Raises the invocation's halt, if any."""
        if self.halt is not None:
            raise _fresh(self.halt)

    def suspend(self, message: str = "the execution is suspended") -> BaseException:
        """Marks the current scope suspended; returns the exception to raise."""
        if self.halt is not None:
            return _fresh(self.halt)
        self.suspended[-1] = True
        return SuspendExecution(message)

    def fail_non_deterministic(self, message: str, op_id: str) -> BaseException:
        """Records a non-determinism (wins over everything)."""
        self.halt = NonDeterministicExecutionError(message, op_id)
        return _fresh(self.halt)

    def journal_failed(self, err: J.JournalRefused) -> BaseException:
        """Records a refused journal call; returns the exception to raise."""
        if not isinstance(self.halt, NonDeterministicExecutionError):
            if err.kind == "execution-ended":
                self.halt = ExecutionEnded(err.message)
            else:
                self.halt = CheckpointError(f"{err.kind} update: {err.message}")
        return _fresh(self.halt)

    def call(self, method: str, *args):
        """Calls a journal import, recording a refusal as the invocation's halt."""
        try:
            return getattr(self.journal, method)(*args)
        except J.JournalRefused as err:
            raise self.journal_failed(err) from None

    # --- replay ---------------------------------------------------------

    def lookup(self, op: J.OpRef, op_type: str) -> Optional[J.Operation]:
        """The recorded operation for ``op``, after checking it is the same kind."""
        recorded = self.ops.get(op.id)
        if recorded is None:
            self.replaying = False
            return None
        message = mismatch(recorded, op_type, op.sub_type, op.name)
        if message is not None:
            raise self.fail_non_deterministic(message, op.id)
        self._visit(recorded)
        return recorded

    def _visit(self, op: J.Operation) -> None:
        if op.status not in J.ENDED:
            if op.op_type != J.CONTEXT:
                self.replaying = False
            return
        self.visited.add(op.id)
        if op.op_type == J.CONTEXT:
            prefix = op.id + "-"
            self.visited.update(i for i in self.ended if i.startswith(prefix))
        if len(self.visited) >= len(self.ended):
            self.replaying = False


def _fresh(halt: BaseException) -> BaseException:
    """A new exception like ``halt`` (an exception object should be raised once)."""
    if isinstance(halt, NonDeterministicExecutionError):
        return NonDeterministicExecutionError(str(halt), halt.step_id)
    return type(halt)(str(halt) if not isinstance(halt, CheckpointError) else str(halt))


def mismatch(recorded: J.Operation, op_type: str, sub_type: str, name: Optional[str]) -> Optional[str]:
    """How the recorded operation differs from the code's, or None. Names are
    compared only when both sides have one, sub-types only when the journal has one."""
    differs = (
        recorded.op_type != op_type
        or (recorded.sub_type is not None and recorded.sub_type != sub_type)
        or (recorded.name is not None and name is not None and recorded.name != name)
    )
    if not differs:
        return None
    return (
        f"operation {recorded.id} is {_describe(recorded.op_type, recorded.sub_type, recorded.name)} "
        f"in the journal but {_describe(op_type, sub_type, name)} in the code"
    )


def _describe(op_type: str, sub_type: Optional[str], name: Optional[str]) -> str:
    shown = "-" if name is None else '"' + name + '"'
    return f"{op_type.lower().replace('_', '-')}/{sub_type or '-'}/{shown}"
