"""Configuration types, with the AWS SDK's names, fields and defaults."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

from .exceptions import ValidationError

if TYPE_CHECKING:
    from .retries import RetryDecision
    from .serdes import SerDes

T = TypeVar("T")
P = TypeVar("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Duration:
    """A duration in whole seconds."""

    seconds: int = 0

    def __post_init__(self) -> None:
        if self.seconds < 0:
            raise ValidationError("Duration seconds must be positive")

    def to_seconds(self) -> int:
        """The duration in seconds."""
        return self.seconds

    @classmethod
    def from_seconds(cls, value: float) -> Duration:
        """``value`` seconds (truncated)."""
        return cls(seconds=int(value))

    @classmethod
    def from_minutes(cls, value: float) -> Duration:
        """``value`` minutes."""
        return cls(seconds=int(value * 60))

    @classmethod
    def from_hours(cls, value: float) -> Duration:
        """``value`` hours."""
        return cls(seconds=int(value * 3600))

    @classmethod
    def from_days(cls, value: float) -> Duration:
        """``value`` days."""
        return cls(seconds=int(value * 86400))


class NestingType(Enum):
    """How the branches of a map or parallel are journaled."""

    NESTED = "NESTED"
    """Each branch is a CONTEXT operation of its own (the default)."""
    FLAT = "FLAT"
    """Branches are not journaled; their operations belong to the batch operation."""


@dataclass(frozen=True)
class CompletionConfig:
    """When a map or parallel completes.

    It completes when every branch ended, when ``min_successful`` branches
    succeeded, or when more branches failed than tolerated (more than
    ``tolerated_failure_count``, or more than ``tolerated_failure_percentage``
    of all branches). With no field set, the first failure completes it.
    """

    min_successful: int | None = None
    tolerated_failure_count: int | None = None
    tolerated_failure_percentage: int | float | None = None

    def __post_init__(self) -> None:
        if self.min_successful is not None and self.min_successful < 1:
            raise ValidationError(f"min_successful must be at least 1, got: {self.min_successful}")
        if self.tolerated_failure_count is not None and self.tolerated_failure_count < 0:
            raise ValidationError(
                f"tolerated_failure_count must be non-negative, got: {self.tolerated_failure_count}"
            )
        pct = self.tolerated_failure_percentage
        if pct is not None and not (0 <= pct <= 100):
            raise ValidationError(f"tolerated_failure_percentage must be between 0 and 100, got: {pct}")

    def _validate_for_total(self, total: int) -> None:
        if self.min_successful is not None and self.min_successful > total:
            raise ValidationError(
                f"min_successful cannot be greater than total items: {self.min_successful} > {total}"
            )

    @staticmethod
    def first_successful() -> CompletionConfig:
        """The first branch that succeeds completes the batch."""
        return CompletionConfig(min_successful=1)

    @staticmethod
    def all_completed() -> CompletionConfig:
        """Every branch runs, whatever fails."""
        return CompletionConfig(tolerated_failure_percentage=100)

    @staticmethod
    def all_successful() -> CompletionConfig:
        """Every branch must succeed: the first failure completes the batch."""
        return CompletionConfig(tolerated_failure_count=0, tolerated_failure_percentage=0)


def _check_concurrency(value: int | None) -> None:
    if value is not None and value < 1:
        raise ValidationError(f"max_concurrency must be at least 1, got: {value}")


@dataclass(frozen=True)
class ParallelConfig:
    """Settings of ``DurableContext.parallel``."""

    max_concurrency: int | None = None
    completion_config: CompletionConfig = field(default_factory=CompletionConfig.all_successful)
    serdes: SerDes | None = None
    item_serdes: SerDes | None = None
    summary_generator: Callable[[Any], str] | None = None
    nesting_type: NestingType = NestingType.NESTED

    def __post_init__(self) -> None:
        _check_concurrency(self.max_concurrency)


@dataclass(frozen=True)
class ParallelBranch(Generic[T]):
    """A named branch of ``DurableContext.parallel``."""

    func: Callable
    name: str | None = None

    def __call__(self, *args, **kwargs):
        return self.func(*args, **kwargs)


class StepSemantics(Enum):
    """When a step body may run again after the process running it died."""

    AT_MOST_ONCE_PER_RETRY = "AT_MOST_ONCE_PER_RETRY"
    AT_LEAST_ONCE_PER_RETRY = "AT_LEAST_ONCE_PER_RETRY"


@dataclass(frozen=True)
class StepConfig:
    """Settings of a step: retry strategy (default ``RetryPresets.default()``), semantics, serdes."""

    retry_strategy: Callable[[Exception, int], RetryDecision] | None = None
    step_semantics: StepSemantics = StepSemantics.AT_LEAST_ONCE_PER_RETRY
    serdes: SerDes | None = None


@dataclass(frozen=True)
class ChildConfig(Generic[T]):
    """Settings of ``run_in_child_context``."""

    serdes: SerDes | None = None
    sub_type: Any = None
    summary_generator: Callable[[Any], str] | None = None
    is_virtual: bool = False


@dataclass(frozen=True)
class MapConfig(Generic[T]):
    """Settings of ``DurableContext.map``."""

    max_concurrency: int | None = None
    completion_config: CompletionConfig = field(default_factory=CompletionConfig)
    serdes: SerDes | None = None
    item_serdes: SerDes | None = None
    summary_generator: Callable[[Any], str] | None = None
    nesting_type: NestingType = NestingType.NESTED
    item_namer: Callable[[Any, int], str] | None = None

    def __post_init__(self) -> None:
        _check_concurrency(self.max_concurrency)


@dataclass(frozen=True)
class InvokeConfig(Generic[P, R]):
    """Settings of ``DurableContext.invoke``."""

    serdes_payload: SerDes | None = None
    serdes_result: SerDes | None = None
    tenant_id: str | None = None


@dataclass(frozen=True)
class CallbackConfig:
    """Timeouts of a callback (``Duration()``, zero, means none)."""

    timeout: Duration = field(default_factory=Duration)
    heartbeat_timeout: Duration = field(default_factory=Duration)
    serdes: SerDes | None = None

    @property
    def timeout_seconds(self) -> int:
        """The timeout in seconds."""
        return self.timeout.to_seconds()

    @property
    def heartbeat_timeout_seconds(self) -> int:
        """The heartbeat timeout in seconds."""
        return self.heartbeat_timeout.to_seconds()


@dataclass(frozen=True)
class WaitForCallbackConfig(CallbackConfig):
    """Settings of ``wait_for_callback``: the callback's, plus the submitter step's retry strategy."""

    retry_strategy: Callable[[Exception, int], RetryDecision] | None = None


class JitterStrategy(str, Enum):
    """How a computed delay is randomised."""

    NONE = "NONE"
    FULL = "FULL"
    HALF = "HALF"

    def apply_jitter(self, delay: float) -> float:
        """The delay after jitter."""
        if self is JitterStrategy.NONE:
            return delay
        if self is JitterStrategy.HALF:
            return delay / 2 + random.random() * (delay / 2)
        return random.random() * delay

    def finalize_delay(self, base_delay: float) -> int:
        """Jitter, round up, at least one second."""
        return max(1, math.ceil(self.apply_jitter(base_delay)))
