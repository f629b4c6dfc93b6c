"""Variable substitution and history matching for the durable conformance cases.

Pure standard library, so `run.py --self-test` needs neither a host nor boto3.

Rules (from the cases' README):
- `${GEN_STR:N}` is a random alphanumeric string of length N; `Variables`
  defines named values that are substituted into Input, ExpectedResult,
  CallbackActions and ExpectedExecutionHistory before a case runs.
- Expected events pair with actual events by `EventId`; actual events that are
  not listed are ignored.
- Only keys written in an expected object are compared, recursively, and a
  written key must be present in the actual object (a written `null` also
  accepts an absent key, since botocore drops nulls). `{}` is any object.
- `'*'` is any value. `${/regex/}` searches the actual value's string form.
- `${NAME}` (not a case variable) binds to the first actual value it meets;
  every later use must be equal to it.
- Lists compare element by element and must have the same length.
- Everything else is literal equality; numbers compare numerically, booleans
  only equal booleans.
"""

from __future__ import annotations

import datetime as _dt
import json
import random
import re
import string
from typing import Any, Callable, Optional

GEN_RE = re.compile(r"\$\{GEN_STR:(\d+)\}")
NAME_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
WHOLE_NAME_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
WHOLE_REGEX_RE = re.compile(r"^\$\{/(.*)/\}$", re.S)
# A template piece: a regex `${/.../}` or a name `${NAME}`.
TEMPLATE_PIECE_RE = re.compile(r"\$\{/(.*?)/\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}", re.S)
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")

ALPHANUMERIC = string.ascii_letters + string.digits

_MISSING = object()


# --------------------------------------------------------------------------
# Substitution


def gen_str(n: int, rng: Optional[random.Random] = None) -> str:
    """A random alphanumeric string of length `n`."""
    r = rng or random.SystemRandom()
    return "".join(r.choice(ALPHANUMERIC) for _ in range(n))


def expand_generators(text: str, rng: Optional[random.Random] = None) -> str:
    """Replaces every `${GEN_STR:N}` in `text` with a fresh random string."""
    return GEN_RE.sub(lambda m: gen_str(int(m.group(1)), rng), text)


def resolve_variables(spec: Optional[dict], rng: Optional[random.Random] = None) -> dict:
    """Evaluates a case's `Variables` mapping (in order; later values may use
    earlier names)."""
    values: dict[str, Any] = {}
    for name, raw in (spec or {}).items():
        if isinstance(raw, str):
            values[name] = substitute(expand_generators(raw, rng), values, rng)
        else:
            values[name] = substitute(raw, values, rng)
    return values


def substitute(obj: Any, values: dict, rng: Optional[random.Random] = None,
               escape: Optional[Callable[[str], str]] = None) -> Any:
    """Returns `obj` with `${GEN_STR:N}` and known `${NAME}`s replaced.

    A string that is exactly `${NAME}` becomes the variable's value (keeping
    its type); inside a longer string the value's text is spliced in (passed
    through `escape` if given, e.g. `re.escape` for regexes). Unknown names
    (binding variables such as `${ID1}`) and `${/regex/}` are left alone.
    """
    if isinstance(obj, str):
        text = expand_generators(obj, rng) if "${GEN_STR:" in obj else obj
        whole = WHOLE_NAME_RE.match(text)
        if whole and whole.group(1) in values:
            value = values[whole.group(1)]
            if escape is not None:
                return escape(to_text(value))
            return value

        def repl(m: re.Match) -> str:
            name = m.group(1)
            if name not in values:
                return m.group(0)
            piece = to_text(values[name])
            return escape(piece) if escape is not None else piece

        return NAME_RE.sub(repl, text)
    if isinstance(obj, dict):
        return {k: substitute(v, values, rng, escape) for k, v in obj.items()}
    if isinstance(obj, list):
        return [substitute(v, values, rng, escape) for v in obj]
    return obj


def to_text(value: Any) -> str:
    """The string form a value is compared as (regexes, templates, logs)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return json.dumps(value, sort_keys=True, default=str)


# --------------------------------------------------------------------------
# Matching


def short(value: Any, limit: int = 120) -> str:
    """A one-line, bounded rendering of a value for mismatch messages."""
    if isinstance(value, str):
        text = json.dumps(value)
    elif value is _MISSING:
        text = "<missing>"
    else:
        try:
            text = json.dumps(value, sort_keys=True, default=to_text)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _same_literal(expected: Any, actual: Any) -> bool:
    if _is_number(expected):
        return _is_number(actual) and expected == actual
    if isinstance(expected, bool):
        return isinstance(actual, bool) and expected == actual
    if expected is None:
        return actual is None
    if isinstance(expected, (_dt.datetime, _dt.date)):
        return to_text(expected) == to_text(actual)
    if isinstance(expected, str):
        return isinstance(actual, str) and expected == actual
    return expected == actual


def values_equal(a: Any, b: Any) -> bool:
    """Deep equality with numeric comparison and bool/number distinction."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            values_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(
            values_equal(x, y) for x, y in zip(a, b))
    return _same_literal(a, b)


def _match_template(expected: str, actual: Any, path: str, binds: dict) -> Optional[str]:
    """A string mixing literal text with `${/re/}` and `${NAME}` pieces."""
    pattern = []
    groups: list[tuple[str, str]] = []  # (group name, variable name)
    pos = 0
    for m in TEMPLATE_PIECE_RE.finditer(expected):
        pattern.append(re.escape(expected[pos:m.start()]))
        if m.group(1) is not None:
            pattern.append("(?:" + m.group(1) + ")")
        else:
            name = m.group(2)
            if name in binds:
                pattern.append(re.escape(to_text(binds[name])))
            elif any(n == name for _, n in groups):
                gname = next(g for g, n in groups if n == name)
                pattern.append(f"(?P={gname})")
            else:
                gname = f"g{len(groups)}"
                groups.append((gname, name))
                pattern.append(f"(?P<{gname}>.*?)")
        pos = m.end()
    pattern.append(re.escape(expected[pos:]))
    if not isinstance(actual, str):
        return f"{path}: expected a string matching {short(expected)}, got {short(actual)}"
    m = re.fullmatch("".join(pattern), actual, re.S)
    if not m:
        return f"{path}: expected {short(expected)}, got {short(actual)}"
    for gname, name in groups:
        binds[name] = m.group(gname)
    return None


def match_value(expected: Any, actual: Any, path: str, binds: dict,
                exact_keys: bool = False) -> Optional[str]:
    """Matches one expected value against an actual one.

    Returns None on a match, else a message naming the path and both values.
    `binds` collects `${NAME}` bindings. With `exact_keys`, objects must have
    the same key set (used for a decoded Result, which is compared whole).
    """
    if isinstance(expected, str):
        if expected == "*":
            return None
        rx = WHOLE_REGEX_RE.match(expected)
        if rx and "${" not in rx.group(1):
            try:
                ok = re.search(rx.group(1), to_text(actual)) is not None
            except re.error as e:
                return f"{path}: bad regex {short(rx.group(1))}: {e}"
            if ok:
                return None
            return f"{path}: expected a match of /{rx.group(1)}/, got {short(actual)}"
        name = WHOLE_NAME_RE.match(expected)
        if name:
            var = name.group(1)
            if var in binds:
                if values_equal(binds[var], actual):
                    return None
                return (f"{path}: expected ${{{var}}} = {short(binds[var])} "
                        f"(bound earlier), got {short(actual)}")
            binds[var] = actual
            return None
        if "${" in expected and TEMPLATE_PIECE_RE.search(expected):
            return _match_template(expected, actual, path, binds)
        if isinstance(actual, str) and expected == actual:
            return None
        return f"{path}: expected {short(expected)}, got {short(actual)}"

    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {short(actual)}"
        for key, exp in expected.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in actual or actual[key] is None:
                if exp is None:
                    continue
                return f"{sub}: expected {short(exp)}, but the key is missing"
            err = match_value(exp, actual[key], sub, binds, exact_keys)
            if err:
                return err
        if exact_keys:
            extra = sorted(k for k in actual if k not in expected)
            if extra:
                return f"{path or 'value'}: unexpected keys {extra} in {short(actual)}"
        return None

    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: expected a list of {len(expected)}, got {short(actual)}"
        if len(expected) != len(actual):
            return (f"{path}: expected a list of {len(expected)}, got {len(actual)} "
                    f"items {short(actual)}")
        for i, (exp, act) in enumerate(zip(expected, actual)):
            err = match_value(exp, act, f"{path}[{i}]", binds, exact_keys)
            if err:
                return err
        return None

    if _same_literal(expected, actual):
        return None
    return f"{path}: expected {short(expected)}, got {short(actual)}"


def _event_id(event: Any) -> Any:
    if isinstance(event, dict):
        eid = event.get("EventId")
        if _is_number(eid):
            return int(eid)
        return eid
    return None


def describe_events(events: list) -> str:
    """`2 StepStarted, 3 StepSucceeded, ...` for messages."""
    return ", ".join(f"{_event_id(e)} {e.get('EventType')}" for e in events) or "none"


def match_history(expected: list, actual: list, binds: Optional[dict] = None) -> Optional[str]:
    """Matches expected events against the actual history; None on a match."""
    binds = {} if binds is None else binds
    if expected is None:
        return None
    if not isinstance(expected, list):
        return "ExpectedExecutionHistory is not a list"
    by_id: dict[Any, dict] = {}
    for event in actual:
        by_id.setdefault(_event_id(event), event)
    for i, exp in enumerate(expected):
        if not isinstance(exp, dict):
            return f"expected event #{i + 1} is not an object"
        eid = _event_id(exp)
        if eid is None:
            return f"expected event #{i + 1} ({exp.get('EventType')}) has no EventId"
        act = by_id.get(eid)
        label = f"event {eid} ({exp.get('EventType')})"
        if act is None:
            return (f"{label}: missing; actual history has {len(actual)} events: "
                    f"{describe_events(actual)}")
        err = match_value(exp, act, label, binds)
        if err:
            return err
    return None


def match_result(expected: Any, actual_json: Optional[str], binds: Optional[dict] = None) -> Optional[str]:
    """Compares an ExpectedResult.Result with GetDurableExecution's Result
    (JSON text, None when absent) after one JSON decode. Objects must have the
    same keys; wildcards and `${...}` forms work as in histories."""
    binds = {} if binds is None else binds
    if actual_json is None:
        decoded = None
    else:
        try:
            decoded = json.loads(actual_json)
        except ValueError as e:
            return f"Result: not JSON ({e}): {short(actual_json)}"
    if expected is None:
        if decoded is None:
            return None
        return f"Result: expected null, got {short(decoded)}"
    return match_value(expected, decoded, "Result", binds, exact_keys=True)


# --------------------------------------------------------------------------
# Callback actions


def callback_name_matches(pattern: Any, name: Any) -> bool:
    if pattern == "*":
        return True
    return isinstance(name, str) and to_text(pattern) == name


def plan_callback_actions(event_name: Any, actions: list, used: list[bool]) -> list[int]:
    """Which `CallbackActions` entries answer a new CallbackStarted named
    `event_name`: the first unused matching entry, and while that entry is a
    heartbeat (not terminal), the next unused matching one too. Marks them used.
    """
    chosen: list[int] = []
    while True:
        idx = next((i for i, a in enumerate(actions)
                    if not used[i] and callback_name_matches(a.get("CallbackName", "*"), event_name)),
                   None)
        if idx is None:
            break
        used[idx] = True
        chosen.append(idx)
        if str(actions[idx].get("Operation", "")).lower() != "heartbeat":
            break
    return chosen


def failure_error(payload: Any) -> dict:
    """The `Error` argument of SendDurableExecutionCallbackFailure: only the
    keys the case gives."""
    error: dict[str, Any] = {}
    if not isinstance(payload, dict):
        if payload is not None:
            error["ErrorMessage"] = to_text(payload)
        return error
    for key in ("ErrorType", "ErrorMessage"):
        if key in payload and payload[key] is not None:
            error[key] = to_text(payload[key])
    if "ErrorData" in payload and payload["ErrorData"] is not None:
        data = payload["ErrorData"]
        error["ErrorData"] = data if isinstance(data, str) else json.dumps(data)
    if "StackTrace" in payload and payload["StackTrace"] is not None:
        trace = payload["StackTrace"]
        error["StackTrace"] = [to_text(t) for t in trace] if isinstance(trace, list) else [to_text(trace)]
    return error


# --------------------------------------------------------------------------
# Logs


def log_regex(message: Any, values: dict) -> re.Pattern:
    """`'/regex/'` (after substituting variables, escaped) or a plain
    substring."""
    text = to_text(message)
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        body = substitute(text[1:-1], values, escape=re.escape)
        return re.compile(to_text(body))
    return re.compile(re.escape(to_text(substitute(text, values))))


def count_log_lines(lines: list[str], arn: str, pattern: re.Pattern) -> int:
    """Lines that mention the execution ARN and match `pattern` (ANSI colour
    codes stripped; the ARN itself is blanked so it cannot match)."""
    n = 0
    for raw in lines:
        line = ANSI_RE.sub("", raw)
        if arn not in line:
            continue
        if pattern.search(line.replace(arn, "")):
            n += 1
    return n
