"""Wait strategies of ``wait_for_condition``, with the AWS SDK's names and defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Generic, TypeVar

from .config import Duration, JitterStrategy
from .exceptions import WaitForConditionError

T = TypeVar("T")


@dataclass
class WaitStrategyConfig(Generic[T]):
    """Exponential backoff while ``should_continue_polling(state)``."""

    should_continue_polling: Callable[[T], bool]
    max_attempts: int = 60
    initial_delay: Duration = field(default_factory=lambda: Duration.from_seconds(5))
    max_delay: Duration = field(default_factory=lambda: Duration.from_minutes(5))
    backoff_rate: int | float = 1.5
    jitter_strategy: JitterStrategy = JitterStrategy.FULL


@dataclass(frozen=True)
class WaitForConditionDecision:
    """Whether to check again, and after how long."""

    should_continue: bool
    delay: Duration

    @property
    def delay_seconds(self) -> int:
        """The delay in seconds."""
        return self.delay.to_seconds()

    @classmethod
    def continue_waiting(cls, delay: Duration) -> WaitForConditionDecision:
        """Check again after ``delay``."""
        return cls(should_continue=True, delay=delay)

    @classmethod
    def stop_polling(cls) -> WaitForConditionDecision:
        """The condition is met."""
        return cls(should_continue=False, delay=Duration())


def create_wait_strategy(config: WaitStrategyConfig[T]) -> Callable[[T, int], WaitForConditionDecision]:
    """A strategy from a config; raises ``WaitForConditionError`` when attempts run out."""

    def strategy(state: T, attempts_made: int) -> WaitForConditionDecision:
        if not config.should_continue_polling(state):
            return WaitForConditionDecision.stop_polling()
        if attempts_made >= config.max_attempts:
            raise WaitForConditionError(
                f"wait_for_condition exhausted {config.max_attempts} attempts before the condition was met"
            )
        base = min(
            config.initial_delay.to_seconds() * (config.backoff_rate ** (attempts_made - 1)),
            config.max_delay.to_seconds(),
        )
        # Rounded as step retry delays are (``JitterStrategy.finalize_delay``).
        delay = config.jitter_strategy.finalize_delay(base)
        return WaitForConditionDecision.continue_waiting(Duration(seconds=delay))

    return strategy


@dataclass(frozen=True)
class WaitForConditionConfig(Generic[T]):
    """Settings of ``wait_for_condition``: the strategy, the first state, the serdes."""

    wait_strategy: Callable[[T, int], WaitForConditionDecision]
    initial_state: Any
    serdes: Any = None
