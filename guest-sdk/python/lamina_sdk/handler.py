"""Lambda-style handlers: ``def lambda_handler(event, context)``.

``event`` is the payload parsed from JSON (empty: ``{}``); the return value
is sent back as JSON (``bytes`` as they are).
An exception comes back as a function error whose type is the exception's
class name and whose message is ``str(exception)``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional


@dataclass
class LambdaContext:
    """The ``context`` of a Lambda-style handler."""

    function_name: str
    aws_request_id: str
    remaining_time_ms: int = 0
    memory_limit_in_mb: Optional[str] = None
    function_version: str = "$LATEST"
    invoked_function_arn: Optional[str] = None
    log_group_name: Optional[str] = None
    log_stream_name: Optional[str] = None
    tenant_id: Optional[str] = None
    client_context: Any = None
    identity: Any = None
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def request_id(self) -> str:
        """The invocation's request id (same as ``aws_request_id``)."""
        return self.aws_request_id

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the host stops this invocation."""
        spent = int((time.monotonic() - self._started) * 1000)
        return max(0, self.remaining_time_ms - spent)

    def log(self, msg: Any) -> None:
        """Writes ``msg`` to stderr (the host's log)."""
        import sys

        print(msg, file=sys.stderr)


@dataclass
class HandlerError(Exception):
    """A handler failure as the host receives it."""

    error_type: str
    error_message: str


def decode(payload: bytes) -> Any:
    """The event: the payload parsed from JSON, ``{}`` when empty."""
    text = payload.decode("utf-8").strip() if payload else ""
    return json.loads(text) if text else {}


def encode(value: Any) -> bytes:
    """The response: ``bytes`` as they are, anything else as JSON."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def run_handler(func: Callable[[Any, LambdaContext], Any], context: LambdaContext, payload: bytes) -> bytes:
    """Runs one invocation; raises ``HandlerError`` for a failure."""
    try:
        event = decode(payload)
    except ValueError as err:
        raise HandlerError("InvalidPayload", f"the payload is not JSON: {err}") from None
    try:
        result = func(event, context)
    except Exception as err:
        raise HandlerError(type(err).__name__, str(err)) from None
    try:
        return encode(result)
    except (TypeError, ValueError) as err:
        raise HandlerError("InvalidOutput", f"the result could not be serialized: {err}") from None
