"""Log lines from durable code, sent to the host (``journal.log``)."""

from __future__ import annotations

import traceback
from typing import Any, Mapping, Optional


class Logger:
    """A logger with the standard ``logging`` method names. The logger of a
    ``DurableContext`` is silent while the code replays operations the journal
    already has; the logger of a step always logs (a step body only runs when
    it is not replayed)."""

    def __init__(self, execution, replay_aware: bool = True, extra: Optional[Mapping[str, Any]] = None):
        self._exec = execution
        self._replay_aware = replay_aware
        self._extra = dict(extra or {})

    def including_replays(self) -> Logger:
        """This logger, logging while replaying too (a Lamina extension)."""
        return Logger(self._exec, False, self._extra)

    def with_extra(self, **extra: Any) -> Logger:
        """This logger with more fields appended to each line."""
        return Logger(self._exec, self._replay_aware, {**self._extra, **extra})

    def debug(self, msg: object, *args: object, extra: Optional[Mapping[str, object]] = None) -> None:
        """Logs at level debug."""
        self._log("debug", msg, args, extra)

    def info(self, msg: object, *args: object, extra: Optional[Mapping[str, object]] = None) -> None:
        """Logs at level info."""
        self._log("info", msg, args, extra)

    def warning(self, msg: object, *args: object, extra: Optional[Mapping[str, object]] = None) -> None:
        """Logs at level warn."""
        self._log("warn", msg, args, extra)

    warn = warning

    def error(self, msg: object, *args: object, extra: Optional[Mapping[str, object]] = None) -> None:
        """Logs at level error."""
        self._log("error", msg, args, extra)

    def exception(self, msg: object, *args: object, extra: Optional[Mapping[str, object]] = None) -> None:
        """Logs at level error, with the exception being handled."""
        text = _format(msg, args)
        trace = traceback.format_exc()
        if trace and trace.strip() != "NoneType: None":
            text = f"{text}\n{trace.rstrip()}"
        self._log("error", text, (), extra)

    def _log(self, level: str, msg: object, args: tuple, extra) -> None:
        if self._replay_aware and self._exec.replaying:
            return
        text = _format(msg, args)
        fields = {**self._extra, **dict(extra or {})}
        if fields:
            text += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        self._exec.journal.log(level, text)


def _format(msg: object, args: tuple) -> str:
    text = str(msg)
    if args:
        try:
            text = text % args
        except (TypeError, ValueError):
            text = " ".join([text, *map(str, args)])
    return text
