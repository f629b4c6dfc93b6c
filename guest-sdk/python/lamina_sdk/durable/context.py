"""``DurableContext``: the handle a durable handler runs its operations through."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from . import journal as J
from .batch import (
    BatchItem,
    BatchItemStatus,
    BatchResult,
    CompletionPolicy,
    parse_summary,
    summary_envelope,
)
from .config import (
    CallbackConfig,
    ChildConfig,
    CompletionConfig,
    Duration,
    InvokeConfig,
    MapConfig,
    NestingType,
    ParallelBranch,
    ParallelConfig,
    StepConfig,
    StepSemantics,
    WaitForCallbackConfig,
)
from .exceptions import (
    CallbackError,
    CallbackExternalError,
    CallbackSubmitterError,
    CallbackTimeoutError,
    ChildContextError,
    DurableOperationError,
    InvokeError,
    StepError,
    StepInterruptedError,
    SuspendExecution,
    ValidationError,
    WaitForConditionError,
)
from .logger import Logger
from .retries import RetryPresets
from .serdes import SerDes, deserialize, dumps, serialize
from .state import Execution
from .types import StepContext, WaitForCallbackContext, WaitForConditionCheckContext

#: The largest result journaled as is (the host's payload limit).
CHECKPOINT_SIZE_LIMIT_BYTES = 256 * 1024


@dataclass(frozen=True)
class ExecutionContext:
    """Read-only facts about the execution."""

    durable_execution_arn: str


def durable_step(func):
    """Turns ``f(step_context, *args)`` into ``f(*args)`` returning a step body
    named after ``f``: ``context.step(f(1, 2))``."""

    def wrapper(*args, **kwargs):
        def body(step_context):
            return func(step_context, *args, **kwargs)

        body._original_name = func.__name__
        return body

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def durable_with_child_context(func):
    """Turns ``f(child_context, *args)`` into ``f(*args)`` returning a child
    context body named after ``f``: ``context.run_in_child_context(f(1, 2))``."""

    def wrapper(*args, **kwargs):
        def body(child_context):
            return func(child_context, *args, **kwargs)

        body._original_name = func.__name__
        return body

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def durable_parallel_branch(name: Optional[str] = None):
    """Turns ``f(ctx, *args)`` into ``f(*args)`` returning a ``ParallelBranch``."""

    def decorator(func):
        def wrapper(*args, **kwargs):
            return ParallelBranch(func=lambda ctx: func(ctx, *args, **kwargs), name=name)

        return wrapper

    return decorator


def durable_wait_for_callback(func):
    """Turns ``f(callback_id, ctx, *args)`` into ``f(*args)`` returning a submitter."""

    def wrapper(*args, **kwargs):
        def submitter(callback_id, context):
            return func(callback_id, context, *args, **kwargs)

        submitter._original_name = func.__name__
        return submitter

    return wrapper


class Callback:
    """A created callback: hand ``callback_id`` to the system that completes
    it, then call ``result()``."""

    def __init__(self, execution: Execution, callback_id: str, operation_id: str, recorded, serdes):
        self._exec = execution
        self.callback_id: str = callback_id
        self.operation_id: str = operation_id
        self._recorded: Optional[J.Operation] = recorded
        self.serdes: Optional[SerDes] = serdes

    def result(self) -> Any:
        """The payload the callback was completed with (parsed from JSON unless
        a serdes is set). Suspends while it is not completed; raises
        ``CallbackExternalError`` or ``CallbackTimeoutError`` if it failed or
        timed out."""
        self._exec.check()
        rec = self._recorded
        if rec is None or rec.status not in J.ENDED:
            raise self._exec.suspend("waiting for callback " + self.callback_id)
        if rec.status == J.SUCCEEDED:
            if rec.result is None:
                return None
            if self.serdes is not None:
                return deserialize(self.serdes, rec.result, self.operation_id, self._exec.arn)
            try:
                return json.loads(rec.result)
            except ValueError:
                return rec.result
        error = rec.error or J.ErrorObject()
        if rec.status == J.TIMED_OUT:
            raise CallbackTimeoutError(
                message=error.message or "Callback timed out", data=error.data, stack_trace=error.stack_trace
            )
        raise CallbackExternalError(
            message=error.message or "Callback failed", data=error.data, stack_trace=error.stack_trace
        )


def _takes_one_argument(func: Any) -> bool:
    """Whether ``func`` takes exactly one positional argument (a submitter
    written as ``lambda callback_id: ...``; AWS passes two)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return False
    return len(positional) == 1


def _item_error(err: Exception) -> J.ErrorObject:
    """The error a failed branch is reported with: the escaping error's."""
    if isinstance(err, ChildContextError) and err.error_type != "ChildContextError":
        return J.ErrorObject(err.message, err.error_type, err.data, err.stack_trace)
    return J.ErrorObject.from_exception(err)


class DurableContext:
    """Runs durable operations. Each gets a deterministic id from a
    per-context counter: ``"1"``, ``"2"``, … at the top level and
    ``"{parent}-1"``, … inside the context operation ``parent``. Run the same
    operations in the same order on every invocation."""

    def __init__(
        self,
        execution: Execution,
        parent_id: Optional[str] = None,
        step_id_prefix: Optional[str] = None,
        lambda_context: Any = None,
    ):
        self._exec = execution
        self._parent_id = parent_id
        self._prefix = step_id_prefix if step_id_prefix is not None else parent_id
        self._counter = 0
        self.lambda_context = lambda_context
        self.execution_context = ExecutionContext(execution.arn)
        self.logger = Logger(execution, replay_aware=True)

    # --- helpers --------------------------------------------------------

    @property
    def state(self) -> Execution:
        """The invocation's state (read it, do not change it)."""
        return self._exec

    @property
    def function_name(self) -> str:
        """The function the execution runs under."""
        return self._exec.function_name

    def is_replaying(self) -> bool:
        """Whether the code is replaying operations the journal already has."""
        return self._exec.replaying

    def set_logger(self, new_logger) -> None:
        """Replaces the context's logger."""
        self.logger = new_logger

    def create_child_context(self, operation_id: str, *, is_virtual: bool = False) -> DurableContext:
        """The context of the context operation ``operation_id``."""
        parent = self._parent_id if is_virtual else operation_id
        return DurableContext(self._exec, parent_id=parent, step_id_prefix=operation_id,
                              lambda_context=self.lambda_context)

    def _next_op(self, name: Optional[str], sub_type: str) -> J.OpRef:
        self._counter += 1
        op_id = str(self._counter) if self._prefix is None else f"{self._prefix}-{self._counter}"
        return J.OpRef(id=op_id, parent_id=self._parent_id, name=name, sub_type=sub_type)

    @staticmethod
    def _resolve_name(name: Optional[str], func: Any) -> Optional[str]:
        return name or getattr(func, "_original_name", None)

    # --- step -----------------------------------------------------------

    def step(self, func: Callable[[StepContext], Any], name: Optional[str] = None,
             config: Optional[StepConfig] = None) -> Any:
        """Runs ``func(step_context)`` and journals its result; replays return
        the journaled result without running it. A failed attempt goes to the
        retry strategy: a retry journals the failure and suspends until the
        delay passed; giving up journals it and raises ``StepError``."""
        ex = self._exec
        ex.check()
        config = config or StepConfig()
        op = self._next_op(self._resolve_name(name, func), "Step")
        rec = ex.lookup(op, J.STEP)
        attempt = 1
        if rec is not None:
            if rec.status == J.SUCCEEDED:
                return None if rec.result is None else deserialize(config.serdes, rec.result, op.id, ex.arn)
            if rec.status in J.FAILED_LIKE:
                (rec.error or J.ErrorObject("step failed", "StepError")).raise_as_operation_error(StepError)
            if rec.status == J.PENDING:
                raise ex.suspend(f"step {op.id} waits for its retry")
            if rec.status == J.READY:
                attempt = rec.attempt + 1
            elif rec.status == J.STARTED:
                attempt = max(rec.attempt, 1)
                if config.step_semantics is StepSemantics.AT_MOST_ONCE_PER_RETRY:
                    interrupted = StepInterruptedError(
                        f"Step operation_id={op.id} name={op.name} was previously interrupted", op.id
                    )
                    self._fail_attempt(op, config, attempt, interrupted)
        at_most_once = config.step_semantics is StepSemantics.AT_MOST_ONCE_PER_RETRY
        ex.call("step_started", op, attempt, at_most_once)
        step_context = StepContext(logger=Logger(ex, replay_aware=False), attempt=attempt)
        ex.in_step = True
        try:
            value = func(step_context)
        except Exception as err:  # SuspendExecution is not an Exception
            ex.in_step = False
            self._fail_attempt(op, config, attempt, err)
        finally:
            ex.in_step = False
        text = serialize(config.serdes, value, op.id, ex.arn)
        ex.call("step_succeeded", op, attempt, text)
        return None if text is None else deserialize(config.serdes, text, op.id, ex.arn)

    def _fail_attempt(self, op: J.OpRef, config: StepConfig, attempt: int, err: Exception):
        ex = self._exec
        ex.raise_halt()
        error = J.ErrorObject.from_exception(err)
        strategy = config.retry_strategy or RetryPresets.default()
        decision = strategy(err, attempt)
        if decision.should_retry:
            ex.call("step_retry", op, attempt, error, max(1, decision.delay_seconds))
            raise ex.suspend(f"step {op.id} retries in {decision.delay_seconds} s")
        ex.call("step_failed", op, attempt, error)
        error.raise_as_operation_error(StepError)

    # --- wait -----------------------------------------------------------

    def wait(self, duration: Duration, name: Optional[str] = None) -> None:
        """Waits ``duration`` (at least one second) without holding an instance."""
        seconds = duration.to_seconds()
        if seconds < 1:
            raise ValidationError("duration must be at least 1 second")
        ex = self._exec
        ex.check()
        op = self._next_op(name, "Wait")
        rec = ex.lookup(op, J.WAIT)
        if rec is None:
            ex.call("wait_started", op, seconds)
            raise ex.suspend(f"wait {op.id} for {seconds} s")
        if rec.status == J.SUCCEEDED:
            return None
        if rec.status in J.FAILED_LIKE:
            (rec.error or J.ErrorObject("wait ended without success", "WaitError")).raise_as_operation_error(
                DurableOperationError
            )
        raise ex.suspend(f"wait {op.id} is not over")

    # --- callbacks ------------------------------------------------------

    def create_callback(self, name: Optional[str] = None, config: Optional[CallbackConfig] = None) -> Callback:
        """Creates a callback (on replay: finds the one created before). Does not suspend."""
        config = config or CallbackConfig()
        ex = self._exec
        ex.check()
        op = self._next_op(name, "Callback")
        rec = ex.lookup(op, J.CALLBACK)
        if rec is None:
            callback_id = ex.call("callback_started", op, config.timeout_seconds, config.heartbeat_timeout_seconds)
            return Callback(ex, callback_id, op.id, None, config.serdes)
        if not rec.callback_id:
            raise CallbackError(f"Missing callback details for operation: {op.id}")
        return Callback(ex, rec.callback_id, op.id, rec, config.serdes)

    def wait_for_callback(self, submitter: Callable[[str, WaitForCallbackContext], Any],
                          name: Optional[str] = None, config: Optional[WaitForCallbackConfig] = None) -> Any:
        """Creates a callback, runs ``submitter(callback_id, ctx)`` in a step,
        and returns the callback's result, all in a child context of sub-type
        ``WaitForCallback``. Raises ``CallbackExternalError``,
        ``CallbackTimeoutError`` or ``CallbackSubmitterError``."""
        step_name = self._resolve_name(name, submitter)
        prefix = f"{step_name} " if step_name else ""

        def body(child: DurableContext):
            callback = child.create_callback(name=f"{prefix}create callback id", config=config)

            def submit(step_context: StepContext):
                if _takes_one_argument(submitter):
                    return submitter(callback.callback_id)
                return submitter(callback.callback_id, WaitForCallbackContext(logger=step_context.logger))

            step_config = StepConfig(retry_strategy=config.retry_strategy) if config else None
            child.step(submit, name=f"{prefix}submitter", config=step_config)
            return callback.result()

        try:
            return self._run_child(body, step_name, "WaitForCallback", None)
        except ChildContextError as err:
            cause = err.__cause__
            if isinstance(cause, CallbackError):
                raise cause from None
            if isinstance(cause, StepError) or err.error_type == "StepError":
                raise CallbackSubmitterError(
                    err.message or "Callback submitter failed", data=err.data, stack_trace=err.stack_trace
                ) from cause
            raise

    # --- child contexts -------------------------------------------------

    def run_in_child_context(self, func: Callable[[DurableContext], Any], name: Optional[str] = None,
                             config: Optional[ChildConfig] = None) -> Any:
        """Runs ``func(child_context)`` as a child context: its operations get
        ids below this one and its result is journaled as one; failures raise
        ``ChildContextError``."""
        sub_type = "RunInChildContext"
        if config is not None and config.sub_type:
            sub_type = getattr(config.sub_type, "value", config.sub_type)
        return self._run_child(func, self._resolve_name(name, func), sub_type, config)

    def _run_child(self, func, name, sub_type, config: Optional[ChildConfig]):
        ex = self._exec
        ex.check()
        op = self._next_op(name, sub_type)
        serdes = config.serdes if config else None
        virtual = bool(config and config.is_virtual)
        if virtual:
            # Not journaled: its operations belong to this context's parent.
            try:
                return func(self.create_child_context(op.id, is_virtual=True))
            except Exception as err:
                ex.raise_halt()
                J.ErrorObject.from_exception(err).raise_as_operation_error(ChildContextError)

        return self._context_op(
            op,
            func,
            lambda value: serialize(serdes, value, op.id, ex.arn),
            lambda text: deserialize(serdes, text, op.id, ex.arn),
        )

    def _context_op(self, op: J.OpRef, func, encode, decode):
        """Runs (or replays) the context operation ``op`` of this context."""
        ex = self._exec
        replay_children = False
        rec = ex.lookup(op, J.CONTEXT)
        if rec is None:
            ex.call("context_started", op)
        elif rec.status == J.SUCCEEDED:
            if rec.replay_children:
                # Too large to journal: rebuilt by running the body over its journaled children.
                replay_children = True
            elif rec.result is None:
                return None
            else:
                return decode(rec.result)
        elif rec.status in J.FAILED_LIKE:
            (rec.error or J.ErrorObject("child context failed", "ChildContextError")).raise_as_operation_error(
                ChildContextError
            )
        child = self.create_child_context(op.id)
        try:
            value = func(child)
        except Exception as err:
            ex.raise_halt()
            error = J.ErrorObject.from_exception(err)
            if not replay_children:
                ex.call("context_failed", op, error)
            error.raise_as_operation_error(ChildContextError)
        ex.raise_halt()
        if ex.suspended[-1]:
            raise SuspendExecution("a child context operation suspended")
        if replay_children:
            return value
        text = encode(value)
        stored = "null" if text is None else text
        too_large = len(stored.encode("utf-8")) > CHECKPOINT_SIZE_LIMIT_BYTES
        if too_large:
            stored = ""
        ex.call("context_succeeded", op, stored, too_large)
        return value

    # --- parallel and map -----------------------------------------------

    def parallel(self, functions: Sequence[Any], name: Optional[str] = None,
                 config: Optional[ParallelConfig] = None) -> BatchResult:
        """Runs ``functions`` (callables of a context, or ``ParallelBranch``)
        as branches of one ``Parallel`` operation; returns a ``BatchResult``.
        Branches run in turn; a branch that has to wait suspends only itself."""
        config = config or ParallelConfig()
        branches = []
        for index, fn in enumerate(functions):
            branch_name = fn.name if isinstance(fn, ParallelBranch) and fn.name else None
            branch_name = branch_name or getattr(fn, "_original_name", None) or f"parallel-branch-{index}"
            body = fn.func if isinstance(fn, ParallelBranch) else fn
            branches.append((branch_name, body))
        return self._batch(name, "Parallel", "ParallelBranch", "ParallelResult", branches, config)

    def map(self, inputs: Sequence[Any], func: Callable[..., Any], name: Optional[str] = None,
            config: Optional[MapConfig] = None) -> BatchResult:
        """Runs ``func(ctx, item, index, inputs)`` for each item as an iteration
        of one ``Map`` operation; returns a ``BatchResult``."""
        config = config or MapConfig()
        items = list(inputs)
        branches = []
        for index, item in enumerate(items):
            item_name = config.item_namer(item, index) if config.item_namer else f"map-item-{index}"
            branches.append((item_name, (lambda i, it: lambda ctx: func(ctx, it, i, items))(index, item)))
        return self._batch(self._resolve_name(name, func), "Map", "MapIteration", "MapResult", branches, config)

    def _batch(self, name, sub_type, item_sub_type, result_type, branches, config) -> BatchResult:
        ex = self._exec
        ex.check()
        total = len(branches)
        completion: CompletionConfig = config.completion_config or CompletionConfig()
        completion._validate_for_total(total)
        policy = CompletionPolicy(total, completion)
        item_serdes = config.item_serdes or config.serdes
        op = self._next_op(name, sub_type)
        rec = ex.lookup(op, J.CONTEXT)
        batch_ctx = self.create_child_context(op.id)
        if rec is None:
            ex.call("context_started", op)
        elif rec.status == J.SUCCEEDED:
            summary = parse_summary(rec.result, result_type)
            if summary is not None:
                return batch_ctx._replay_batch(op.id, branches, summary, item_sub_type, config, item_serdes)
            if config.serdes is not None:
                return deserialize(config.serdes, rec.result or "null", op.id, ex.arn)
            return BatchResult.from_dict(json.loads(rec.result or "null"), completion)
        elif rec.status in J.FAILED_LIKE:
            (rec.error or J.ErrorObject("batch failed", "ChildContextError")).raise_as_operation_error(
                ChildContextError
            )
        limit = config.max_concurrency or total or 1
        succeeded = failed = in_flight = 0
        items = []
        for index, (item_name, body) in enumerate(branches):
            if policy.done(succeeded, failed) or in_flight >= limit:
                break
            item = batch_ctx._branch(op.id, index, item_name, body, item_sub_type, config, item_serdes)
            if item.status is BatchItemStatus.SUCCEEDED:
                succeeded += 1
            elif item.status is BatchItemStatus.FAILED:
                failed += 1
            else:
                in_flight += 1
            items.append(item)
        if not policy.done(succeeded, failed):
            raise ex.suspend(f"{sub_type.lower()} {op.id} waits for its branches")
        result = BatchResult(items, policy.reason(succeeded, failed))
        if config.serdes is not None:
            text = serialize(config.serdes, result, op.id, ex.arn)
        else:
            text = dumps(result.to_dict())
        too_large = len(text.encode("utf-8")) > CHECKPOINT_SIZE_LIMIT_BYTES
        if too_large:
            custom = config.summary_generator(result) if config.summary_generator else None
            text = summary_envelope(result, result_type, custom)
        ex.call("context_succeeded", op, text, too_large)
        return result

    def _replay_batch(self, batch_id, branches, summary, item_sub_type, config, item_serdes) -> BatchResult:
        from .batch import CompletionReason

        started = set(summary.get("startedIndexes") or [])
        items = []
        for index, (item_name, body) in enumerate(branches[: summary["totalCount"]]):
            if index in started:
                items.append(BatchItem(index, BatchItemStatus.STARTED))
                continue
            items.append(self._branch(batch_id, index, item_name, body, item_sub_type, config, item_serdes))
        return BatchResult(items, CompletionReason(summary["completionReason"]))

    def _branch(self, batch_id, index, item_name, body, item_sub_type, config, item_serdes) -> BatchItem:
        """Runs (or replays) branch ``index`` of the batch ``batch_id`` (this
        context) in a suspension scope of its own."""
        ex = self._exec
        op_id = f"{batch_id}-{index + 1}"
        ex.suspended.append(False)
        suspended = False
        outcome: Any = None
        try:
            if config.nesting_type is NestingType.FLAT:
                child = DurableContext(ex, parent_id=self._parent_id, step_id_prefix=op_id,
                                       lambda_context=self.lambda_context)
                outcome = ("ok", body(child))
            else:
                op = J.OpRef(id=op_id, parent_id=batch_id, name=item_name, sub_type=item_sub_type)
                outcome = ("ok", self._context_op(
                    op,
                    body,
                    lambda value: serialize(item_serdes, value, op_id, ex.arn),
                    lambda text: deserialize(item_serdes, text, op_id, ex.arn),
                ))
        except SuspendExecution:
            suspended = True
        except Exception as err:
            outcome = ("err", err)
        finally:
            suspended = ex.suspended.pop() or suspended
        ex.raise_halt()
        if suspended:
            return BatchItem(index, BatchItemStatus.STARTED)
        if outcome[0] == "ok":
            return BatchItem(index, BatchItemStatus.SUCCEEDED, result=outcome[1])
        return BatchItem(index, BatchItemStatus.FAILED, error=_item_error(outcome[1]))

    # --- wait_for_condition ---------------------------------------------

    def wait_for_condition(self, check: Callable[[Any, WaitForConditionCheckContext], Any], config,
                           name: Optional[str] = None) -> Any:
        """Runs ``check(state, ctx)`` until ``config.wait_strategy`` says the
        condition is met, sleeping durably between checks; returns the last
        state. A failing check or strategy raises ``WaitForConditionError``."""
        if check is None:
            raise ValidationError("`check` is required for wait_for_condition")
        if not config:
            raise ValidationError("`config` is required for wait_for_condition")
        ex = self._exec
        ex.check()
        op = self._next_op(name, "WaitForCondition")
        serdes = config.serdes
        rec = ex.lookup(op, J.STEP)
        state, attempt = config.initial_state, 1
        if rec is not None:
            if rec.status == J.SUCCEEDED:
                return None if rec.result is None else deserialize(serdes, rec.result, op.id, ex.arn)
            if rec.status in J.FAILED_LIKE:
                (rec.error or J.ErrorObject("condition failed", "WaitForConditionError")).raise_as_operation_error(
                    WaitForConditionError
                )
            if rec.status == J.PENDING:
                raise ex.suspend(f"wait_for_condition {op.id} waits for its next check")
            if rec.result is not None:
                state = deserialize(serdes, rec.result, op.id, ex.arn)
            attempt = rec.attempt + 1 if rec.status == J.READY else max(rec.attempt, 1)
        ex.call("step_started", op, attempt, False)
        check_ctx = WaitForConditionCheckContext(logger=Logger(ex, replay_aware=False), attempt=attempt)
        ex.in_step = True
        try:
            try:
                new_state = check(state, check_ctx)
            finally:
                ex.in_step = False
            decision = config.wait_strategy(new_state, attempt)
            text = serialize(serdes, new_state, op.id, ex.arn)
        except Exception as err:
            ex.raise_halt()
            error = J.ErrorObject.from_exception(err)
            ex.call("step_failed", op, attempt, error)
            error.raise_as_operation_error(WaitForConditionError)
        if decision.should_continue:
            ex.call("step_poll", op, attempt, text, max(1, decision.delay_seconds))
            raise ex.suspend(f"wait_for_condition {op.id} checks again in {decision.delay_seconds} s")
        ex.call("step_succeeded", op, attempt, text)
        return deserialize(serdes, text, op.id, ex.arn)

    # --- invoke ---------------------------------------------------------

    def invoke(self, function_name: str, payload: Any, name: Optional[str] = None,
               config: Optional[InvokeConfig] = None) -> Any:
        """Invokes the function ``function_name`` with ``payload`` and returns
        its result, suspending meanwhile; failures raise ``InvokeError``."""
        if not function_name:
            raise ValidationError("the function name of an invoke must not be empty")
        config = config or InvokeConfig()
        ex = self._exec
        ex.check()
        op = self._next_op(name, "ChainedInvoke")
        rec = ex.lookup(op, J.CHAINED_INVOKE)
        if rec is None:
            text = serialize(config.serdes_payload, payload, op.id, ex.arn)
            ex.call("invoke_started", op, function_name, text, config.tenant_id)
            raise ex.suspend(f"invoke {op.id} of {function_name} is running")
        if rec.status == J.SUCCEEDED:
            return None if rec.result is None else deserialize(config.serdes_result, rec.result, op.id, ex.arn)
        if rec.status in J.FAILED_LIKE:
            error = rec.error or J.ErrorObject(
                f"the invoke of {function_name} (operation {op.id}) ended {rec.status.lower()}", "InvokeError"
            )
            error.raise_as_operation_error(InvokeError)
        raise ex.suspend(f"invoke {op.id} of {function_name} is running")

