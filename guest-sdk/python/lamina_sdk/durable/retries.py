"""Retry strategies and presets, with the AWS SDK's names and defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Generic, TypeVar

from .config import Duration, JitterStrategy
from .exceptions import SuspendExecution

if TYPE_CHECKING:
    from .config import ChildConfig

T = TypeVar("T")

_MATCH_ALL = re.compile(r".*")


@dataclass
class RetryDecision:
    """Whether to retry a failed attempt, and after how long."""

    should_retry: bool
    delay: Duration

    @property
    def delay_seconds(self) -> int:
        """The delay in seconds."""
        return self.delay.to_seconds()

    @classmethod
    def retry(cls, delay: Duration) -> RetryDecision:
        """Retry after ``delay``."""
        return cls(should_retry=True, delay=delay)

    @classmethod
    def no_retry(cls) -> RetryDecision:
        """Fail the step."""
        return cls(should_retry=False, delay=Duration())


@dataclass
class RetryStrategyConfig:
    """Exponential backoff: ``initial_delay * backoff_rate**(attempt-1)``, capped, jittered."""

    max_attempts: int = 3
    initial_delay: Duration = field(default_factory=lambda: Duration.from_seconds(5))
    max_delay: Duration = field(default_factory=lambda: Duration.from_minutes(5))
    backoff_rate: int | float = 2.0
    jitter_strategy: JitterStrategy = JitterStrategy.FULL
    retryable_errors: list[str | re.Pattern] | None = None
    retryable_error_types: list[type[Exception]] | None = None

    @property
    def initial_delay_seconds(self) -> int:
        """Initial delay in seconds."""
        return self.initial_delay.to_seconds()

    @property
    def max_delay_seconds(self) -> int:
        """Maximum delay in seconds."""
        return self.max_delay.to_seconds()


@dataclass
class LinearRetryStrategyConfig:
    """Linear backoff: ``initial_delay + increment*(attempt-1)``, capped, jittered."""

    max_attempts: int = 6
    initial_delay: Duration = field(default_factory=lambda: Duration.from_seconds(1))
    increment: Duration = field(default_factory=lambda: Duration.from_seconds(1))
    max_delay: Duration = field(default_factory=lambda: Duration.from_minutes(5))
    jitter_strategy: JitterStrategy = JitterStrategy.FULL
    retryable_errors: list[str | re.Pattern] | None = None
    retryable_error_types: list[type[Exception]] | None = None


def _filters(errors, types):
    if errors is None and types is None:
        return [_MATCH_ALL], []
    return list(errors or []), list(types or [])


def _retryable(error: Exception, errors, types) -> bool:
    text = str(error)
    by_message = any(
        p.search(text) if isinstance(p, re.Pattern) else p in text for p in errors
    )
    return by_message or any(isinstance(error, t) for t in types)


def create_retry_strategy(
    config: RetryStrategyConfig | None = None,
) -> Callable[[Exception, int], RetryDecision]:
    """A strategy from an exponential-backoff config."""
    config = config or RetryStrategyConfig()
    errors, types = _filters(config.retryable_errors, config.retryable_error_types)

    def strategy(error: Exception, attempts_made: int) -> RetryDecision:
        if attempts_made >= config.max_attempts or not _retryable(error, errors, types):
            return RetryDecision.no_retry()
        base = min(
            config.initial_delay_seconds * (config.backoff_rate ** (attempts_made - 1)),
            config.max_delay_seconds,
        )
        return RetryDecision.retry(Duration(seconds=config.jitter_strategy.finalize_delay(base)))

    return strategy


def create_linear_retry_strategy(
    config: LinearRetryStrategyConfig | None = None,
) -> Callable[[Exception, int], RetryDecision]:
    """A strategy from a linear-backoff config."""
    config = config or LinearRetryStrategyConfig()
    errors, types = _filters(config.retryable_errors, config.retryable_error_types)

    def strategy(error: Exception, attempts_made: int) -> RetryDecision:
        if attempts_made >= config.max_attempts or not _retryable(error, errors, types):
            return RetryDecision.no_retry()
        base = min(
            config.initial_delay.to_seconds() + config.increment.to_seconds() * (attempts_made - 1),
            config.max_delay.to_seconds(),
        )
        return RetryDecision.retry(Duration(seconds=config.jitter_strategy.finalize_delay(base)))

    return strategy


class RetryPresets:
    """Ready-made strategies."""

    @classmethod
    def none(cls):
        """One attempt."""
        return create_retry_strategy(RetryStrategyConfig(max_attempts=1))

    @classmethod
    def default(cls):
        """The default of steps: 6 attempts, 5 s initial, x2, 60 s max, full jitter."""
        return create_retry_strategy(
            RetryStrategyConfig(
                max_attempts=6,
                initial_delay=Duration.from_seconds(5),
                max_delay=Duration.from_minutes(1),
                backoff_rate=2,
                jitter_strategy=JitterStrategy.FULL,
            )
        )

    @classmethod
    def transient(cls):
        """3 attempts, x2, half jitter."""
        return create_retry_strategy(
            RetryStrategyConfig(max_attempts=3, backoff_rate=2, jitter_strategy=JitterStrategy.HALF)
        )

    @classmethod
    def resource_availability(cls):
        """5 attempts, 5 s initial, 5 min max, x2."""
        return create_retry_strategy(
            RetryStrategyConfig(
                max_attempts=5,
                initial_delay=Duration.from_seconds(5),
                max_delay=Duration.from_minutes(5),
                backoff_rate=2,
            )
        )

    @classmethod
    def critical(cls):
        """10 attempts, 1 s initial, 1 min max, x1.5, no jitter."""
        return create_retry_strategy(
            RetryStrategyConfig(
                max_attempts=10,
                initial_delay=Duration.from_seconds(1),
                max_delay=Duration.from_minutes(1),
                backoff_rate=1.5,
                jitter_strategy=JitterStrategy.NONE,
            )
        )

    @classmethod
    def linear(cls):
        """1 s, 2 s, 3 s, 4 s, 5 s."""
        return create_linear_retry_strategy(
            LinearRetryStrategyConfig(
                max_attempts=6,
                initial_delay=Duration.from_seconds(1),
                increment=Duration.from_seconds(1),
                jitter_strategy=JitterStrategy.NONE,
            )
        )

    @classmethod
    def fixed(cls, interval: Duration | None = None):
        """5 attempts, a constant delay (5 s by default)."""
        delay = interval if interval is not None else Duration.from_seconds(5)
        return create_retry_strategy(
            RetryStrategyConfig(
                max_attempts=5,
                initial_delay=delay,
                max_delay=delay,
                backoff_rate=1,
                jitter_strategy=JitterStrategy.NONE,
            )
        )


@dataclass(frozen=True)
class WithRetryConfig(Generic[T]):
    """Settings of ``with_retry``."""

    retry_strategy: Callable[[Exception, int], RetryDecision] | None = None
    wrap_with_run_in_child_context: bool = True
    child_context_config: ChildConfig | None = None


def with_retry(context, func, config: WithRetryConfig, name: str | None = None):
    """Runs ``func(ctx, attempt)`` (which may run durable operations), retrying
    the whole body after a durable wait when it raises."""
    strategy = config.retry_strategy or create_retry_strategy()

    def run_loop(ctx):
        attempt = 0
        while True:
            attempt += 1
            try:
                return func(ctx, attempt)
            except SuspendExecution:
                raise
            except Exception as err:
                decision = strategy(err, attempt)
                if not decision.should_retry:
                    raise
                ctx.wait(duration=decision.delay, name=f"{name}-backoff-{attempt}" if name else None)

    if config.wrap_with_run_in_child_context:
        return context.run_in_child_context(run_loop, name=name, config=config.child_context_config)
    return run_loop(context)
