"""Contexts handed to step bodies, submitters and condition checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OperationContext:
    """What every operation body gets: a logger."""

    logger: Any


@dataclass(frozen=True)
class StepContext(OperationContext):
    """What a step body gets: a logger and the attempt (1-based)."""

    attempt: int


@dataclass(frozen=True)
class WaitForCallbackContext(OperationContext):
    """What a ``wait_for_callback`` submitter gets."""


@dataclass(frozen=True)
class WaitForConditionCheckContext(OperationContext):
    """What a ``wait_for_condition`` check gets: a logger and the attempt (1-based)."""

    attempt: int
