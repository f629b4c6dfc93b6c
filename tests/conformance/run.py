#!/usr/bin/env python3
"""Durable-execution conformance runner for Lamina.

Starts `lamina serve` with one function per case (all backed by the
durable_cases guest component), drives every case through the real boto3
Lambda client (Invoke, GetDurableExecution, GetDurableExecutionHistory,
SendDurableExecutionCallback*, StopDurableExecution), and checks the final
status, result, history and guest logs against the case files.

    run.py --lamina target/debug/lamina \\
           --component target/guests/wasm32-wasip2/release/durable_cases.wasm \\
           --cases ../shared/conformance [--suites step,wait] [--only 1-1,4-10]
    run.py --self-test          # matcher unit tests, no host needed

Usually started through scripts/conformance.sh, which sets up a venv with the
pinned boto3 and PyYAML.
"""

from __future__ import annotations

import argparse
import concurrent.futures as futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import matcher as M  # noqa: E402

ALL_SUITES = ["step", "wait", "child", "callback", "invoke", "wait_for_condition",
              "wait_for_callback", "parallel", "map"]
DEFAULT_SUITES = list(ALL_SUITES)

POLL_INTERVAL_S = 1.0
IDLE_LIMIT_S = 30.0
CASE_LIMIT_S = 150.0
HOST_START_LIMIT_S = 120.0
LISTEN_RE = re.compile(r"listening on (http://[^\s]+)")

STOP = threading.Event()  # set on Ctrl-C / SIGTERM: every case winds down


# --------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    id: str
    suite: str
    path: Path
    spec: dict

    @property
    def function(self) -> str:
        return f"case-{self.id}"

    @property
    def optional(self) -> bool:
        return bool(self.spec.get("optional"))


def case_sort_key(case_id: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[-.]", case_id))


def load_cases(cases_dir: Path, suites: list[str], only: Optional[set[str]]) -> list[Case]:
    import yaml

    cases: list[Case] = []
    for suite in suites:
        d = cases_dir / suite
        if not d.is_dir():
            raise SystemExit(f"error: suite directory {d} does not exist")
        files = sorted(list(d.glob("*.yaml")) + list(d.glob("*.yml")), key=lambda p: case_sort_key(p.stem))
        for f in files:
            if only is not None and f.stem not in only:
                continue
            with f.open(encoding="utf-8") as fh:
                spec = yaml.safe_load(fh) or {}
            if not isinstance(spec, dict):
                raise SystemExit(f"error: {f} is not a mapping")
            cases.append(Case(f.stem, suite, f, spec))
    if only is not None:
        missing = only - {c.id for c in cases}
        if missing:
            raise SystemExit(f"error: no such case(s) in suites {','.join(suites)}: "
                             f"{', '.join(sorted(missing, key=case_sort_key))}")
    ids = [c.id for c in cases]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise SystemExit(f"error: duplicate case ids: {', '.join(sorted(dup))}")
    return cases


@dataclass
class Prepared:
    """A case with its variables generated and substituted."""
    values: dict
    input: Any
    expected_result: Optional[dict]
    actions: list
    history: Optional[list]
    logs: list
    is_async: bool


def prepare(case: Case) -> Prepared:
    spec = case.spec
    values = M.resolve_variables(spec.get("Variables"))
    expected_result = spec.get("ExpectedResult")
    return Prepared(
        values=values,
        input=M.substitute(spec.get("Input"), values),
        expected_result=M.substitute(expected_result, values) if expected_result is not None else None,
        actions=M.substitute(spec.get("CallbackActions") or [], values),
        history=M.substitute(spec.get("ExpectedExecutionHistory"), values),
        logs=spec.get("ExpectedLogs") or [],
        is_async=bool(spec.get("AsyncInvoke")),
    )


# --------------------------------------------------------------------------
# Results


@dataclass
class Outcome:
    case: Case
    passed: bool = False
    reason: str = ""
    note: str = ""
    seconds: float = 0.0
    arn: Optional[str] = None
    history: list = field(default_factory=list)
    execution: Optional[dict] = None
    invoke_payload: Optional[str] = None
    prepared: Optional[Prepared] = None

    def fail(self, reason: str) -> None:
        if self.passed or not self.reason:
            self.reason = reason
        self.passed = False

    @property
    def label(self) -> str:
        if self.passed:
            return "PASS"
        return "FAIL (optional)" if self.case.optional else "FAIL"


# --------------------------------------------------------------------------
# AWS client


def make_client(endpoint: str):
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    return session.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="lamina",
        aws_secret_access_key="lamina",
        config=Config(retries={"max_attempts": 1, "mode": "standard"},
                      read_timeout=180, connect_timeout=5),
    )


def api_error(e: Exception) -> str:
    """`Operation: Code: message (HTTP n)` for botocore errors."""
    resp = getattr(e, "response", None)
    if isinstance(resp, dict) and "Error" in resp:
        err = resp.get("Error") or {}
        status = (resp.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        op = getattr(e, "operation_name", "?")
        return f"{op}: {err.get('Code', '?')}: {err.get('Message', '')} (HTTP {status})"
    return f"{type(e).__name__}: {e}"


def read_history(client, arn: str, page_size: int) -> list:
    events: list = []
    marker = None
    seen_markers: set = set()
    while True:
        kwargs: dict[str, Any] = {"DurableExecutionArn": arn, "IncludeExecutionData": True}
        if page_size > 0:
            kwargs["MaxItems"] = page_size
        if marker:
            kwargs["Marker"] = marker
        resp = client.get_durable_execution_history(**kwargs)
        events.extend(resp.get("Events") or [])
        marker = resp.get("NextMarker")
        if not marker:
            break
        if marker in seen_markers:
            raise RuntimeError(f"GetDurableExecutionHistory returned marker {marker!r} twice")
        seen_markers.add(marker)
    events.sort(key=lambda e: e.get("EventId") if isinstance(e.get("EventId"), int) else 0)
    return events


def jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=M.to_text))


# --------------------------------------------------------------------------
# Running one case


class CallbackDriver:
    """Answers CallbackStarted events with the case's CallbackActions, each
    chain on its own thread so polling continues."""

    def __init__(self, client, actions: list, done: threading.Event):
        self.client = client
        self.actions = actions
        self.used = [False] * len(actions)
        self.done = done
        self.errors: list[str] = []
        self.log: list[str] = []
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def on_callback_started(self, event: dict) -> None:
        details = event.get("CallbackStartedDetails") or {}
        callback_id = details.get("CallbackId")
        name = event.get("Name")
        chain = M.plan_callback_actions(name, self.actions, self.used)
        if not chain:
            return
        if not callback_id:
            with self.lock:
                self.errors.append(f"event {event.get('EventId')} CallbackStarted has no "
                                   f"CallbackStartedDetails.CallbackId; cannot send actions")
            return
        steps = [self.actions[i] for i in chain]
        t = threading.Thread(target=self._run_chain, args=(callback_id, name, steps), daemon=True)
        self.threads.append(t)
        t.start()

    def _run_chain(self, callback_id: str, name: Any, steps: list) -> None:
        for step in steps:
            delay = float(step.get("Delay") or 0)
            if delay > 0 and (self.done.wait(delay) or STOP.is_set()):
                return
            if self.done.is_set() or STOP.is_set():
                return
            op = str(step.get("Operation", "")).lower()
            try:
                if op == "success":
                    kwargs: dict[str, Any] = {"CallbackId": callback_id}
                    if "Payload" in step:
                        kwargs["Result"] = json.dumps(step["Payload"]).encode()
                    self.client.send_durable_execution_callback_success(**kwargs)
                elif op == "failure":
                    self.client.send_durable_execution_callback_failure(
                        CallbackId=callback_id, Error=M.failure_error(step.get("Payload")))
                elif op == "heartbeat":
                    self.client.send_durable_execution_callback_heartbeat(CallbackId=callback_id)
                else:
                    raise ValueError(f"unknown CallbackActions Operation {op!r}")
                with self.lock:
                    self.log.append(f"{op} -> {name}")
            except Exception as e:  # noqa: BLE001 - reported as the case's failure
                if self.done.is_set() or STOP.is_set():
                    return
                with self.lock:
                    self.errors.append(f"callback {op} for {name!r} failed: {api_error(e)}")
                return


def run_case(case: Case, endpoint: str, page_size: int) -> Outcome:
    out = Outcome(case)
    t0 = time.monotonic()
    done = threading.Event()
    try:
        prep = prepare(case)
        out.prepared = prep
        _drive(case, prep, out, endpoint, page_size, t0, done)
    except Exception as e:  # noqa: BLE001 - any error fails the case
        out.fail(f"error: {api_error(e)}")
    finally:
        done.set()
        out.seconds = time.monotonic() - t0
    return out


def _drive(case: Case, prep: Prepared, out: Outcome, endpoint: str, page_size: int,
           t0: float, done: threading.Event) -> None:
    client = make_client(endpoint)
    name = f"{case.function}-{M.gen_str(8)}"
    payload = json.dumps({"Input": prep.input}).encode()
    resp = client.invoke(
        FunctionName=case.function,
        InvocationType="Event" if prep.is_async else "RequestResponse",
        DurableExecutionName=name,
        Payload=payload,
    )
    body = resp.get("Payload")
    if body is not None:
        raw = body.read()
        out.invoke_payload = raw.decode("utf-8", "replace")
    arn = resp.get("DurableExecutionArn")
    if not arn:
        listed = client.list_durable_executions_by_function(
            FunctionName=case.function, DurableExecutionName=name).get("DurableExecutions") or []
        if listed:
            arn = listed[0].get("DurableExecutionArn")
            out.note = "Invoke answered without a DurableExecutionArn header"
    if not arn:
        out.fail(f"Invoke ({'Event' if prep.is_async else 'RequestResponse'}) returned no "
                 f"DurableExecutionArn (status {resp.get('StatusCode')}, "
                 f"FunctionError {resp.get('FunctionError')}, payload {M.short(out.invoke_payload)})")
        return
    out.arn = arn

    driver = CallbackDriver(client, prep.actions, done)
    seen: set = set()
    last_new = time.monotonic()
    desc: dict = {}
    events: list = []
    no_result = prep.expected_result is None
    while True:
        if STOP.is_set():
            out.fail("interrupted")
            return
        desc = client.get_durable_execution(DurableExecutionArn=arn)
        status = desc.get("Status")
        events = read_history(client, arn, page_size)
        out.history = events
        now = time.monotonic()
        for ev in events:
            eid = ev.get("EventId")
            if eid in seen:
                continue
            seen.add(eid)
            last_new = now
            if ev.get("EventType") == "CallbackStarted":
                driver.on_callback_started(ev)
        if no_result and status == "RUNNING" and M.match_history(prep.history, events) is None:
            out.execution = desc
            try:
                client.stop_durable_execution(DurableExecutionArn=arn)
                out.note = "no ExpectedResult: history matched, execution stopped"
            except Exception as e:  # noqa: BLE001
                out.note = f"no ExpectedResult: history matched; StopDurableExecution failed: {api_error(e)}"
            out.passed = True
            if driver.errors:
                out.fail(driver.errors[0])
            return
        if status != "RUNNING":
            break
        stuck = None
        if now - last_new > IDLE_LIMIT_S:
            stuck = f"no new history event for {IDLE_LIMIT_S:.0f} s"
        elif now - t0 > CASE_LIMIT_S:
            stuck = f"case time limit {CASE_LIMIT_S:.0f} s reached"
        if stuck:
            out.execution = desc
            why = driver.errors[0] if driver.errors else M.match_history(prep.history, events)
            out.fail(f"{stuck}, status RUNNING; " + (why or f"events: {M.describe_events(events)}"))
            return
        STOP.wait(POLL_INTERVAL_S)

    done.set()
    out.execution = desc
    check_outcome(prep, desc, events, out)
    if out.passed and driver.errors:
        out.fail(driver.errors[0])


def check_outcome(prep: Prepared, desc: dict, events: list, out: Outcome) -> None:
    """Status, Result and history checks (logs are checked after all cases)."""
    expected = prep.expected_result or {}
    status = desc.get("Status")
    if "ExecutionStatus" in expected and expected["ExecutionStatus"] != status:
        err = desc.get("Error")
        extra = f"; Error {M.short(err)}" if err else ""
        hist = M.match_history(prep.history, events)
        extra += f"; history: {hist}" if hist else "; history matches"
        out.fail(f"ExecutionStatus: expected {expected['ExecutionStatus']}, got {status}{extra}")
        return
    if "Result" in expected:
        err = M.match_result(expected["Result"], desc.get("Result"))
        if err:
            out.fail(err)
            return
    err = M.match_history(prep.history, events)
    if err:
        out.fail(err)
        return
    out.passed = True


def check_logs(out: Outcome, log_lines: list[str]) -> None:
    prep = out.prepared
    if prep is None or not prep.logs or not out.passed:
        return
    if not out.arn:
        out.fail("ExpectedLogs: no execution ARN to find log lines by")
        return
    for i, item in enumerate(prep.logs):
        match = (item or {}).get("match") or {}
        unknown = set(match) - {"message"}
        if unknown or "message" not in match:
            out.fail(f"ExpectedLogs[{i}]: unsupported match keys {sorted(match)}")
            return
        try:
            pattern = M.log_regex(match["message"], prep.values)
        except re.error as e:
            out.fail(f"ExpectedLogs[{i}]: bad regex {match['message']!r}: {e}")
            return
        want = int(item.get("count", 1))
        got = M.count_log_lines(log_lines, out.arn, pattern)
        if got != want:
            out.fail(f"ExpectedLogs[{i}] /{pattern.pattern}/: expected {want} line(s), got {got}")
            return


# --------------------------------------------------------------------------
# Host


def toml_str(s: str) -> str:
    return json.dumps(s)  # a TOML basic string is JSON-compatible for paths


# Functions the chained-invoke cases call (besides the case functions).
TARGET_ECHO = "target-echo"   # the echo example: a handler returning its payload
TARGET_FAIL = "target-fail"   # durable_cases dispatching `target-fail`: fails with TargetError


def write_config(tmp: Path, cases: list[Case], component: Path, echo: Path) -> Path:
    lines = ["# written by tests/conformance/run.py", "[host]", ""]
    for c in cases:
        lines += [f"[functions.{toml_str(c.function)}]",
                  f"component = {toml_str(str(component))}",
                  "timeout_ms = 60000", ""]
    lines += [f"[functions.{toml_str(TARGET_ECHO)}]",
              f"component = {toml_str(str(echo))}",
              "timeout_ms = 60000", "",
              f"[functions.{toml_str(TARGET_FAIL)}]",
              f"component = {toml_str(str(component))}",
              "timeout_ms = 60000", ""]
    path = tmp / "lamina.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _die_with_parent() -> None:
    """Host process: get SIGTERM if the runner dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort
        pass


class Host:
    def __init__(self, lamina: Path, config: Path, state_dir: Path, log_path: Path):
        self.log_path = log_path
        self.log_file = log_path.open("wb")
        env = dict(os.environ)
        env.setdefault("NO_COLOR", "1")
        self.proc = subprocess.Popen(
            [str(lamina), "serve", "--config", str(config), "--listen", "127.0.0.1:0",
             "--state-dir", str(state_dir)],
            stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=subprocess.STDOUT,
            env=env, preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )

    def wait_url(self, limit: float) -> str:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if STOP.is_set():
                raise KeyboardInterrupt
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
            m = LISTEN_RE.search(M.ANSI_RE.sub("", text))
            if m:
                return m.group(1).rstrip("/")
            if self.proc.poll() is not None:
                raise RuntimeError(f"lamina serve exited with status {self.proc.returncode} before listening")
            time.sleep(0.1)
        raise RuntimeError(f"lamina serve printed no 'listening on' line within {limit:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log_file.close()


def log_tail(path: Path, n: int = 40) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as e:
        return f"(cannot read {path}: {e})"
    return "\n".join(M.ANSI_RE.sub("", line) for line in lines[-n:])


# --------------------------------------------------------------------------
# Report


def print_table(outcomes: list[Outcome]) -> None:
    rows = [("CASE", "SUITE", "RESULT", "SECS", "DETAIL")]
    for o in outcomes:
        detail = o.reason if not o.passed else o.note
        if not o.passed and o.note:
            detail = f"{detail} [{o.note}]"
        rows.append((o.case.id, o.case.suite, o.label, f"{o.seconds:.1f}", detail))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])


def dump_failure(o: Outcome) -> None:
    print(f"\n--- {o.case.id} ({o.case.path}) ---")
    print(f"reason: {o.reason}")
    if o.arn:
        print(f"arn: {o.arn}")
    if o.prepared is not None:
        print(f"input: {json.dumps(o.prepared.input)}")
        if o.prepared.values:
            print(f"variables: {json.dumps(o.prepared.values)}")
    if o.invoke_payload is not None:
        print(f"invoke payload: {o.invoke_payload}")
    if o.execution is not None:
        ex = {k: v for k, v in o.execution.items() if k != "ResponseMetadata"}
        print("execution: " + json.dumps(jsonable(ex), indent=2))
    print("history: " + json.dumps(jsonable(o.history), indent=2))


# --------------------------------------------------------------------------
# Main


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Durable-execution conformance runner for Lamina.")
    p.add_argument("--self-test", action="store_true", help="run the matcher unit tests and exit")
    p.add_argument("--cases", type=Path, help="conformance case directory (holds one folder per suite)")
    p.add_argument("--lamina", type=Path, help="the lamina host binary")
    p.add_argument("--component", type=Path, help="durable_cases.wasm guest component")
    p.add_argument("--echo-component", type=Path,
                   help=f"echo.wasm, run as the invoke target {TARGET_ECHO} "
                        f"(default: echo.wasm next to --component)")
    p.add_argument("--suites",
                   help=f"comma-separated suites, or 'all' (default {','.join(DEFAULT_SUITES)}; "
                        f"with --only: all)")
    p.add_argument("--only", help="comma-separated case ids, e.g. 1-1,4-10")
    p.add_argument("--endpoint", help="use an already running host at this URL instead of starting one")
    p.add_argument("--host-log", type=Path, help="with --endpoint: that host's log, for ExpectedLogs")
    p.add_argument("--jobs", type=int, default=0, help="cases at once (default: all)")
    p.add_argument("--page-size", type=int, default=10,
                   help="MaxItems per GetDurableExecutionHistory page (0: leave to the host)")
    p.add_argument("--verbose", "-v", action="store_true", help="dump the actual history of failed cases")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return p.parse_args(argv)


def parse_suites(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    if names == ["all"]:
        return list(ALL_SUITES)
    unknown = [s for s in names if s not in ALL_SUITES]
    if unknown:
        raise SystemExit(f"error: unknown suite(s) {', '.join(unknown)}; known: {', '.join(ALL_SUITES)}, all")
    return names


def _on_sigterm(signum, frame):  # noqa: ARG001
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.self_test:
        import selftest

        return selftest.main()

    if args.cases is None:
        raise SystemExit("error: --cases DIR is required")
    if not args.cases.is_dir():
        raise SystemExit(f"error: case directory {args.cases} does not exist")
    only = {s.strip() for s in args.only.split(",") if s.strip()} if args.only else None
    if args.suites:
        suites = parse_suites(args.suites)
    elif only:
        suites = [s for s in ALL_SUITES if (args.cases / s).is_dir()]
    else:
        suites = list(DEFAULT_SUITES)
    cases = load_cases(args.cases, suites, only)
    if not cases:
        raise SystemExit("error: no cases selected")

    if args.endpoint is None:
        if args.echo_component is None and args.component is not None:
            args.echo_component = args.component.parent / "echo.wasm"
        for flag, path in (("--lamina", args.lamina), ("--component", args.component),
                           ("--echo-component", args.echo_component)):
            if path is None:
                raise SystemExit(f"error: {flag} is required (or use --endpoint)")
            if not path.is_file():
                raise SystemExit(f"error: {flag} {path} does not exist")

    signal.signal(signal.SIGTERM, _on_sigterm)
    tmp = Path(tempfile.mkdtemp(prefix="lamina-conformance-"))
    host: Optional[Host] = None
    log_path: Optional[Path] = args.host_log
    keep = args.keep
    pool: Optional[futures.ThreadPoolExecutor] = None
    try:
        if args.endpoint is None:
            config = write_config(tmp, cases, args.component.resolve(), args.echo_component.resolve())
            log_path = tmp / "host.log"
            host = Host(args.lamina.resolve(), config, tmp / "state", log_path)
            try:
                url = host.wait_url(HOST_START_LIMIT_S)
            except RuntimeError as e:
                keep = True
                print(f"error: {e}\nhost log: {log_path}\n{log_tail(log_path)}", file=sys.stderr)
                return 2
        else:
            url = args.endpoint.rstrip("/")
        used = [s for s in suites if any(c.suite == s for c in cases)]
        print(f"conformance: {len(cases)} case(s) from {', '.join(used)} against {url}", flush=True)

        jobs = args.jobs if args.jobs > 0 else len(cases)
        pool = futures.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="case")
        pending = {pool.submit(run_case, c, url, args.page_size): c for c in cases}
        outcomes: dict[str, Outcome] = {}
        while pending:
            done, _ = futures.wait(list(pending), timeout=0.5, return_when=futures.FIRST_COMPLETED)
            for f in done:
                c = pending.pop(f)
                o = f.result()
                outcomes[c.id] = o
                print(f"  {o.label:<15} {c.id:<6} {o.seconds:5.1f}s", flush=True)
        pool.shutdown(wait=True)
        pool = None

        if any(o.prepared and o.prepared.logs for o in outcomes.values()):
            if log_path is None:
                for o in outcomes.values():
                    if o.prepared and o.prepared.logs and o.passed:
                        o.fail("ExpectedLogs: no host log (give --host-log with --endpoint)")
            else:
                time.sleep(0.5)  # let the host finish writing the last lines
                lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
                for o in outcomes.values():
                    check_logs(o, lines)

        ordered = [outcomes[c.id] for c in cases]
        print()
        print_table(ordered)
        passed = sum(o.passed for o in ordered)
        failed = [o for o in ordered if not o.passed and not o.case.optional]
        optional_failed = [o for o in ordered if not o.passed and o.case.optional]
        print(f"\n{passed} passed, {len(failed)} failed, {len(optional_failed)} optional failed "
              f"of {len(ordered)} case(s)")
        if args.verbose:
            for o in failed + optional_failed:
                dump_failure(o)
        if failed or optional_failed:
            if log_path is not None:
                print(f"\nhost log: {log_path}")
                print(log_tail(log_path))
            if host is not None:
                keep = True
        return 1 if failed else 0
    except KeyboardInterrupt:
        STOP.set()
        print("\ninterrupted", file=sys.stderr)
        if host is not None:
            host.stop()
            host = None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        return 130
    finally:
        STOP.set()
        if host is not None:
            host.stop()
        if keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    if STOP.is_set() and code == 130:
        os._exit(code)  # worker threads may still sit in HTTP calls
    sys.exit(code)
