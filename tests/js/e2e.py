#!/usr/bin/env python3
"""End to end: JavaScript guests built with `lamina build` (esbuild and
ComponentizeJS), served by the real `lamina serve`, driven through boto3.

    e2e.py --lamina target/debug/lamina --guests target/guests/js

Checks the JavaScript order workflow (examples/js/order-workflow) the way
tests/python/e2e.py checks the Python one: it starts, hibernates at
`await-payment` with no live instance, resumes on the callback, and no step
runs twice (the history has one StepStarted per step); a declined payment and
a failed callback; the Lambda-style handler (examples/js/hello-handler):
its context, and an exception coming back as a function error; and the
TypeScript durable template built by `lamina new --lang ts`, if given.

Prints one line per check and a final `N passed, N failed` line; exits 1 if
any failed. Usually started by tests/js/run.sh.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

LISTEN_RE = re.compile(r"listening on (http://\S+)")
ORDER = {"orderId": "o-1", "items": [{"sku": "tea", "qty": 2, "price": 4.5}]}
FN = "order-workflow-js"


class Host:
    """A `lamina serve` process on a free port."""

    def __init__(self, lamina: str, guests: Path, cache: Path | None, extra: dict[str, Path]):
        self.dir = tempfile.TemporaryDirectory(prefix="lamina-js-e2e-")
        root = Path(self.dir.name)
        config = root / "lamina.toml"
        text = f"""
[functions.{FN}]
component = {json.dumps(str(guests / "order_workflow.wasm"))}
timeout_ms = 30000

[functions.hello-handler-js]
component = {json.dumps(str(guests / "hello_handler.wasm"))}
"""
        for name, path in extra.items():
            text += f"\n[functions.{name}]\ncomponent = {json.dumps(str(path))}\ntimeout_ms = 30000\n"
        config.write_text(text, encoding="utf-8")
        args = [lamina, "serve", "--config", str(config), "--listen", "127.0.0.1:0",
                "--state-dir", str(root / "state")]
        if cache is not None:
            args += ["--cache-dir", str(cache)]
        self.log_lines: list[str] = []
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.url = self._wait_listening()
        threading.Thread(target=self._drain, daemon=True).start()
        self.lam = boto3.client(
            "lambda", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="x", aws_secret_access_key="x",
            config=Config(retries={"max_attempts": 1}, read_timeout=120),
        )

    def _wait_listening(self) -> str:
        deadline = time.time() + 300
        assert self.proc.stdout is not None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("lamina serve exited:\n" + "".join(self.log_lines[:15]))
            self.log_lines.append(line)
            m = LISTEN_RE.search(line)
            if m:
                return m.group(1)
        raise RuntimeError("lamina serve did not start in time")

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log_lines.append(line)

    def metric(self, series: str) -> float | None:
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith(series + " "):
                    return float(line.split()[-1])
        return None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.dir.cleanup()


def start(host: Host, name: str | None, payload: dict, function: str = FN) -> str:
    kwargs = {"DurableExecutionName": name} if name else {}
    resp = host.lam.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(payload), **kwargs)
    assert resp["StatusCode"] == 202, resp
    return resp["DurableExecutionArn"]


def history(host: Host, arn: str) -> list[dict]:
    return host.lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]


def wait_callback(host: Host, arn: str) -> str:
    deadline = time.time() + 60
    while time.time() < deadline:
        started = [e for e in history(host, arn) if e["EventType"] == "CallbackStarted"]
        if started:
            return started[0]["CallbackStartedDetails"]["CallbackId"]
        ex = host.lam.get_durable_execution(DurableExecutionArn=arn)
        assert ex["Status"] == "RUNNING", ex
        time.sleep(0.2)
    raise AssertionError(f"no callback started for {arn}")


def wait_done(host: Host, arn: str) -> dict:
    deadline = time.time() + 60
    while time.time() < deadline:
        ex = host.lam.get_durable_execution(DurableExecutionArn=arn)
        if ex["Status"] != "RUNNING":
            return ex
        time.sleep(0.2)
    raise AssertionError(f"{arn} still running")


def steps_started(events: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in events:
        if e["EventType"] == "StepStarted":
            out[e.get("Name") or "-"] = out.get(e.get("Name") or "-", 0) + 1
    return out


# --- checks ------------------------------------------------------------------


def check_order_hibernates_and_resumes(host: Host) -> None:
    arn = start(host, "order-1", ORDER)
    callback_id = wait_callback(host, arn)
    deadline = time.time() + 15
    while True:
        live = host.metric(f'lamina_durable_instances_live{{function="{FN}"}}')
        waiting = host.metric(f'lamina_durable_executions{{function="{FN}",state="waiting"}}')
        if live == 0 and waiting == 1:
            break
        assert time.time() < deadline, f"not hibernating: live {live}, waiting {waiting}"
        time.sleep(0.1)
    assert host.lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"
    assert start(host, "order-1", ORDER) == arn
    assert steps_started(history(host, arn)) == {"validate-order": 1, "await-payment submitter": 1}

    host.lam.send_durable_execution_callback_success(CallbackId=callback_id, Result=json.dumps({"approved": True}))
    done = wait_done(host, arn)
    assert done["Status"] == "SUCCEEDED", done
    result = json.loads(done["Result"])
    assert result["status"] == "fulfilled" and result["tracking"].startswith("TRK-"), result

    events = history(host, arn)
    types = [e["EventType"] for e in events]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded", types
    assert types.count("InvocationCompleted") == 2, types
    # No step ran twice across the two invocations.
    assert steps_started(events) == {"validate-order": 1, "await-payment submitter": 1, "fulfill-order": 1}, types
    context = [e for e in events if e["EventType"] == "ContextStarted"]
    assert [(e["Name"], e["SubType"]) for e in context] == [("await-payment", "WaitForCallback")], context


def check_declined_payment(host: Host) -> None:
    arn = start(host, None, {"orderId": "o-2", "items": [{"sku": "tea", "qty": 1, "price": 4.5}]})
    callback_id = wait_callback(host, arn)
    host.lam.send_durable_execution_callback_success(CallbackId=callback_id, Result=json.dumps({"approved": False}))
    done = wait_done(host, arn)
    assert done["Status"] == "SUCCEEDED", done
    assert json.loads(done["Result"]) == {"status": "declined"}, done["Result"]
    assert "fulfill-order" not in steps_started(history(host, arn))


def check_failed_callback_fails_the_execution(host: Host) -> None:
    arn = start(host, None, {"orderId": "o-3", "items": [{"sku": "tea", "qty": 1, "price": 4.5}]})
    callback_id = wait_callback(host, arn)
    host.lam.send_durable_execution_callback_failure(
        CallbackId=callback_id, Error={"ErrorType": "PaymentDeclined", "ErrorMessage": "card refused"})
    done = wait_done(host, arn)
    assert done["Status"] == "FAILED", done
    assert done["Error"]["ErrorType"] == "CallbackExternalError", done["Error"]
    assert done["Error"]["ErrorMessage"] == "card refused", done["Error"]


def check_handler_context(host: Host) -> None:
    resp = host.lam.invoke(FunctionName="hello-handler-js", Payload=json.dumps({"name": "Ada"}))
    assert "FunctionError" not in resp, resp
    body = json.loads(resp["Payload"].read())
    assert body["greeting"] == "Hello, Ada!", body
    assert body["function"] == "hello-handler-js", body
    assert body["requestId"], body


def check_handler_exception(host: Host) -> None:
    resp = host.lam.invoke(FunctionName="hello-handler-js", Payload=b"{}")
    assert resp.get("FunctionError") == "Unhandled", resp
    body = json.loads(resp["Payload"].read())
    assert body == {"errorType": "TypeError", "errorMessage": "name is required"}, body


def check_typescript_project(host: Host) -> None:
    if "ts-flow" not in host.extra:
        return
    arn = start(host, None, {"name": "Ada"}, function="ts-flow")
    done = wait_done(host, arn)
    assert done["Status"] == "SUCCEEDED", done
    assert json.loads(done["Result"]) == {"message": "Hello, Ada!", "shouted": "HELLO, ADA!", "steps": 2}, done


CHECKS = [
    check_order_hibernates_and_resumes,
    check_declined_payment,
    check_failed_callback_fails_the_execution,
    check_handler_context,
    check_handler_exception,
    check_typescript_project,
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lamina", required=True, help="the lamina binary")
    parser.add_argument("--guests", required=True, help="directory with order_workflow.wasm and hello_handler.wasm")
    parser.add_argument("--cache-dir", help="compiled-component cache to reuse across runs")
    parser.add_argument("--ts-flow", help="a component built from `lamina new --lang ts --template durable`")
    args = parser.parse_args()
    extra = {"ts-flow": Path(args.ts_flow).resolve()} if args.ts_flow else {}
    host = Host(args.lamina, Path(args.guests).resolve(), Path(args.cache_dir).resolve() if args.cache_dir else None, extra)
    host.extra = extra
    passed = failed = 0
    try:
        for check in CHECKS:
            try:
                check(host)
                passed += 1
                print(f"ok   {check.__name__}")
            except Exception:
                failed += 1
                print(f"FAIL {check.__name__}\n{traceback.format_exc()}")
    finally:
        host.stop()
    if failed:
        print("host log (last lines):\n" + "".join(host.log_lines[-40:]))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
