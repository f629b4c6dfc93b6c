"""An in-memory journal for unit tests that follows the host's rules: it
records what the SDK journals, refuses updates the host refuses, and lets a
test play the outside world (time passing, callbacks, invoked functions)."""

from __future__ import annotations

from typing import Optional

from . import journal as J


class InMemoryJournal:
    """One execution's journal held in memory. ``events`` lists every update
    (like the history); ``logs`` every log line."""

    def __init__(self, input: str = "", arn: str = "arn:lamina:durable:test:1", function_name: str = "test"):
        self.input = input
        self.arn = arn
        self.function_name = function_name
        self.ops: dict[str, J.Operation] = {}
        self.events: list[str] = []
        self.logs: list[tuple[str, str]] = []
        self.ended = False  # set to make every update fail with execution-ended

    # --- the host's side ------------------------------------------------

    def load_state(self) -> J.ExecutionState:
        copies = [J.Operation(**vars(op)) for op in self.ops.values()]
        return J.ExecutionState(self.arn, self.function_name, self.input, copies, 0)

    def _guard(self, op: J.OpRef, op_type: str, may_exist: bool = True) -> Optional[J.Operation]:
        if self.ended:
            raise J.JournalRefused("execution-ended", "the execution has ended")
        rec = self.ops.get(op.id)
        if rec is not None:
            if rec.op_type != op_type:
                raise J.JournalRefused("invalid", f"operation {op.id} is a {rec.op_type}, not a {op_type}")
            if rec.status in J.ENDED:
                raise J.JournalRefused("invalid", f"operation {op.id} has ended ({rec.status})")
            if not may_exist:
                raise J.JournalRefused("invalid", f"operation {op.id} exists already")
        if op.parent_id is not None:
            parent = self.ops.get(op.parent_id)
            if parent is None or parent.op_type != J.CONTEXT:
                raise J.JournalRefused("invalid", f"parent {op.parent_id} of {op.id} is not a started context")
        return rec

    def _upsert(self, op: J.OpRef, op_type: str, status: str) -> J.Operation:
        rec = self.ops.get(op.id)
        if rec is None:
            rec = J.Operation(id=op.id, op_type=op_type, status=status, parent_id=op.parent_id,
                              name=op.name, sub_type=op.sub_type)
            self.ops[op.id] = rec
        rec.status = status
        return rec

    def _must(self, op: J.OpRef, op_type: str) -> J.Operation:
        rec = self._guard(op, op_type)
        if rec is None:
            raise J.JournalRefused("invalid", f"operation {op.id} was not started")
        return rec

    def step_started(self, op, attempt, wait_for_commit):
        self._guard(op, J.STEP)
        rec = self._upsert(op, J.STEP, J.STARTED)
        rec.attempt = attempt
        self.events.append(f"StepStarted {op.id} {attempt}")

    def step_succeeded(self, op, attempt, result):
        rec = self._must(op, J.STEP)
        rec.status, rec.result, rec.attempt = J.SUCCEEDED, result, attempt
        self.events.append(f"StepSucceeded {op.id} {attempt} {result}")

    def step_failed(self, op, attempt, error):
        rec = self._must(op, J.STEP)
        rec.status, rec.error, rec.attempt = J.FAILED, error, attempt
        self.events.append(f"StepFailed {op.id} {attempt} {error.type}")

    def step_retry(self, op, attempt, error, delay_seconds):
        self._must(op, J.STEP)
        rec = self._upsert(op, J.STEP, J.PENDING)
        rec.attempt, rec.error = attempt, error
        self.events.append(f"StepRetry {op.id} {attempt} {delay_seconds}")

    def step_poll(self, op, attempt, state, delay_seconds):
        self._must(op, J.STEP)
        rec = self._upsert(op, J.STEP, J.PENDING)
        rec.attempt, rec.result = attempt, state
        self.events.append(f"StepPoll {op.id} {attempt} {state} {delay_seconds}")

    def wait_started(self, op, seconds):
        self._guard(op, J.WAIT, may_exist=False)
        self._upsert(op, J.WAIT, J.STARTED)
        self.events.append(f"WaitStarted {op.id} {seconds}")

    def callback_started(self, op, timeout_seconds, heartbeat_timeout_seconds):
        self._guard(op, J.CALLBACK, may_exist=False)
        rec = self._upsert(op, J.CALLBACK, J.STARTED)
        rec.callback_id = f"cb-{op.id}"
        self.events.append(f"CallbackStarted {op.id} {timeout_seconds} {heartbeat_timeout_seconds}")
        return rec.callback_id

    def context_started(self, op):
        self._guard(op, J.CONTEXT, may_exist=False)
        self._upsert(op, J.CONTEXT, J.STARTED)
        self.events.append(f"ContextStarted {op.id} {op.sub_type}")

    def context_succeeded(self, op, result, replay_children):
        rec = self._must(op, J.CONTEXT)
        rec.status, rec.result, rec.replay_children = J.SUCCEEDED, result, replay_children
        flag = " [replay children]" if replay_children else ""
        self.events.append(f"ContextSucceeded {op.id} {result}{flag}")

    def context_failed(self, op, error):
        rec = self._must(op, J.CONTEXT)
        rec.status, rec.error = J.FAILED, error
        self.events.append(f"ContextFailed {op.id} {error.type}")

    def invoke_started(self, op, function, payload, tenant_id):
        self._guard(op, J.CHAINED_INVOKE, may_exist=False)
        self._upsert(op, J.CHAINED_INVOKE, J.STARTED)
        self.events.append(f"InvokeStarted {op.id} {function} {payload} {tenant_id or '-'}")

    def log(self, level, message):
        self.logs.append((level, message))

    # --- the outside world ----------------------------------------------

    def advance_time(self) -> None:
        """Completes every started wait and makes every pending retry or poll ready."""
        for rec in self.ops.values():
            if rec.op_type == J.WAIT and rec.status == J.STARTED:
                rec.status = J.SUCCEEDED
            elif rec.op_type == J.STEP and rec.status == J.PENDING:
                rec.status = J.READY

    def complete_callback(self, op_id: str, result: Optional[str] = None, *, error_type: Optional[str] = None,
                          timed_out: bool = False) -> None:
        """Completes the callback of operation ``op_id`` with a JSON ``result``,
        a failure of ``error_type``, or a timeout."""
        rec = self.ops[op_id]
        if timed_out:
            rec.status, rec.error = J.TIMED_OUT, J.ErrorObject("timed out", "Callback.Timeout")
        elif error_type is not None:
            rec.status, rec.error = J.FAILED, J.ErrorObject("from outside", error_type)
        else:
            rec.status, rec.result = J.SUCCEEDED, result
        self.events.append(f"Callback{rec.status.title()} {op_id}")

    def complete_invoke(self, op_id: str, result: Optional[str] = None, *, error_type: Optional[str] = None) -> None:
        """Ends the chained invoke ``op_id`` with a JSON result or a failure."""
        rec = self.ops[op_id]
        if error_type is not None:
            rec.status, rec.error = J.FAILED, J.ErrorObject("the target failed", error_type)
        else:
            rec.status, rec.result = J.SUCCEEDED, result

    def callback_op(self) -> str:
        """The id of the (only) started callback."""
        ids = [i for i, r in self.ops.items() if r.op_type == J.CALLBACK and r.status == J.STARTED]
        if len(ids) != 1:
            raise AssertionError(f"expected one started callback, found {ids}")
        return ids[0]
