"""How values become the text the journal stores, and back."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .exceptions import ExecutionError

T = TypeVar("T")


@dataclass(frozen=True)
class SerDesContext:
    """What is being serialized."""

    operation_id: str = ""
    durable_execution_arn: str = ""


class SerDes(ABC, Generic[T]):
    """A custom format for journaled values. Both directions must agree."""

    @abstractmethod
    def serialize(self, value: T, serdes_context: SerDesContext) -> str:
        """The text to journal for ``value``."""

    @abstractmethod
    def deserialize(self, data: str, serdes_context: SerDesContext) -> T:
        """The value journaled as ``data``."""


class PassThroughSerDes(SerDes[T]):
    """Journals strings as they are."""

    def serialize(self, value, _):
        return value

    def deserialize(self, data, _):
        return data


class JsonSerDes(SerDes[T]):
    """JSON (the default)."""

    def serialize(self, value, _):
        return dumps(value)

    def deserialize(self, data, _):
        return json.loads(data)


DEFAULT_JSON_SERDES: SerDes[Any] = JsonSerDes()


def dumps(value: Any) -> str:
    """Compact JSON."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def serialize(serdes: SerDes | None, value: Any, operation_id: str, arn: str) -> str:
    """``value`` as text, with ``serdes`` or as JSON; ``ExecutionError`` if it fails."""
    try:
        return (serdes or DEFAULT_JSON_SERDES).serialize(value, SerDesContext(operation_id, arn))
    except Exception as e:
        raise ExecutionError(f"Serialization failed for id: {operation_id}, error: {e}.") from e


def deserialize(serdes: SerDes | None, data: str, operation_id: str, arn: str) -> Any:
    """The value journaled as ``data``; ``ExecutionError`` if it fails."""
    try:
        return (serdes or DEFAULT_JSON_SERDES).deserialize(data, SerDesContext(operation_id, arn))
    except Exception as e:
        raise ExecutionError(f"Deserialization failed for id: {operation_id}") from e
