"""Results of ``parallel`` and ``map``, and the completion rules."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, Optional, TypeVar

from .config import CompletionConfig
from .exceptions import ChildContextError
from .journal import ErrorObject

R = TypeVar("R")


class BatchItemStatus(Enum):
    """How a branch ended, as far as the batch knows."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    STARTED = "STARTED"


class CompletionReason(Enum):
    """Why a batch completed."""

    ALL_COMPLETED = "ALL_COMPLETED"
    MIN_SUCCESSFUL_REACHED = "MIN_SUCCESSFUL_REACHED"
    FAILURE_TOLERANCE_EXCEEDED = "FAILURE_TOLERANCE_EXCEEDED"


@dataclass(frozen=True)
class CompletionPolicy:
    """The completion rules applied to ``total`` branches."""

    total: int
    config: CompletionConfig

    @property
    def has_criteria(self) -> bool:
        c = self.config
        return (
            c.min_successful is not None
            or c.tolerated_failure_count is not None
            or c.tolerated_failure_percentage is not None
        )

    def is_tolerance_exceeded(self, failed: int) -> bool:
        if not self.has_criteria:
            return failed > 0
        c = self.config
        if c.tolerated_failure_count is not None and failed > c.tolerated_failure_count:
            return True
        if c.tolerated_failure_percentage is not None and self.total > 0:
            return failed * 100 / self.total > c.tolerated_failure_percentage
        return False

    def is_complete(self, succeeded: int, failed: int) -> bool:
        if succeeded + failed >= self.total:
            return True
        return self.config.min_successful is not None and succeeded >= self.config.min_successful

    def done(self, succeeded: int, failed: int) -> bool:
        return self.is_complete(succeeded, failed) or self.is_tolerance_exceeded(failed)

    def reason(self, succeeded: int, failed: int) -> CompletionReason:
        if self.is_tolerance_exceeded(failed):
            return CompletionReason.FAILURE_TOLERANCE_EXCEEDED
        if succeeded + failed >= self.total:
            return CompletionReason.ALL_COMPLETED
        if self.config.min_successful is not None and succeeded >= self.config.min_successful:
            return CompletionReason.MIN_SUCCESSFUL_REACHED
        return CompletionReason.ALL_COMPLETED


@dataclass(frozen=True)
class BatchItem(Generic[R]):
    """One started branch (or map item)."""

    index: int
    status: BatchItemStatus
    result: Optional[R] = None
    error: Optional[ErrorObject] = None

    def to_dict(self) -> dict:
        """As journaled: ``{"index", "status", "result"?, "error"?}``."""
        out: dict = {"index": self.index, "status": self.status.value}
        if self.result is not None:
            out["result"] = self.result
        if self.error is not None:
            out["error"] = self.error.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict) -> BatchItem:
        """From its journaled form."""
        error = data.get("error")
        return cls(
            index=data["index"],
            status=BatchItemStatus(data["status"]),
            result=data.get("result"),
            error=ErrorObject.from_dict(error) if error else None,
        )


@dataclass(frozen=True)
class BatchResult(Generic[R]):
    """What ``parallel`` and ``map`` return: the started branches in index
    order and why the batch completed. A failed branch does not fail the call:
    see ``has_failure`` and ``throw_if_error``."""

    all: list
    completion_reason: CompletionReason

    @classmethod
    def from_dict(cls, data: dict, completion_config: Optional[CompletionConfig] = None) -> BatchResult:
        """From ``{"all": [...], "completionReason": ...}``."""
        items = [BatchItem.from_dict(item) for item in data["all"]]
        reason = data.get("completionReason")
        if reason is None:
            succeeded = sum(1 for i in items if i.status is BatchItemStatus.SUCCEEDED)
            failed = sum(1 for i in items if i.status is BatchItemStatus.FAILED)
            policy = CompletionPolicy(len(items), completion_config or CompletionConfig())
            return cls(items, policy.reason(succeeded, failed))
        return cls(items, CompletionReason(reason))

    def to_dict(self) -> dict:
        """As journaled."""
        return {"all": [item.to_dict() for item in self.all], "completionReason": self.completion_reason.value}

    def succeeded(self) -> list:
        """Branches that succeeded."""
        return [i for i in self.all if i.status is BatchItemStatus.SUCCEEDED and i.result is not None]

    def failed(self) -> list:
        """Branches that failed."""
        return [i for i in self.all if i.status is BatchItemStatus.FAILED and i.error is not None]

    def started(self) -> list:
        """Branches started and not ended when the batch completed."""
        return [i for i in self.all if i.status is BatchItemStatus.STARTED]

    @property
    def status(self) -> BatchItemStatus:
        """FAILED if a branch failed, else SUCCEEDED."""
        return BatchItemStatus.FAILED if self.has_failure else BatchItemStatus.SUCCEEDED

    @property
    def has_failure(self) -> bool:
        """Whether a branch failed."""
        return any(i.status is BatchItemStatus.FAILED for i in self.all)

    def throw_if_error(self) -> None:
        """Raises the first failure as a ``ChildContextError``."""
        for item in self.all:
            if item.status is BatchItemStatus.FAILED and item.error is not None:
                item.error.raise_as_operation_error(ChildContextError)

    def get_results(self) -> list:
        """Results of the branches that succeeded, in index order."""
        return [i.result for i in self.all if i.status is BatchItemStatus.SUCCEEDED and i.result is not None]

    def get_errors(self) -> list:
        """Errors of the branches that failed, in index order."""
        return [i.error for i in self.all if i.status is BatchItemStatus.FAILED and i.error is not None]

    @property
    def success_count(self) -> int:
        """How many succeeded."""
        return sum(1 for i in self.all if i.status is BatchItemStatus.SUCCEEDED)

    @property
    def failure_count(self) -> int:
        """How many failed."""
        return sum(1 for i in self.all if i.status is BatchItemStatus.FAILED)

    @property
    def started_count(self) -> int:
        """How many were still running."""
        return sum(1 for i in self.all if i.status is BatchItemStatus.STARTED)

    @property
    def total_count(self) -> int:
        """How many started (branches never started are not counted)."""
        return len(self.all)


def summary_envelope(result: BatchResult, result_type: str, summary: Any = None) -> str:
    """What a batch journals instead of a result over 256 KiB; replay rebuilds
    the result from the branches."""
    fields: dict = {
        "type": result_type,
        "replayChildren": True,
        "totalCount": result.total_count,
        "completionReason": result.completion_reason.value,
        "startedIndexes": [i.index for i in result.started()],
        "startedCount": result.started_count,
        "successCount": result.success_count,
        "failureCount": result.failure_count,
        "status": result.status.value,
    }
    if summary is not None:
        fields["summary"] = summary if isinstance(summary, str) else str(summary)
    return json.dumps(fields, separators=(",", ":"))


def parse_summary(text: Optional[str], result_type: str) -> Optional[dict]:
    """The summary journaled as ``text``, if it is one."""
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("type") == result_type and "totalCount" in data:
        return data
    return None
