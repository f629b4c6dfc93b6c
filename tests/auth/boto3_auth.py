#!/usr/bin/env python3
"""boto3 against a Lamina host with [auth] (run by tests/auth/run.sh).

Starts `lamina serve` with one access key, then calls every API Lamina serves
through boto3's lambda client:

* with the configured key, each call succeeds (invoke RequestResponse, Event
  and DryRun; durable list, get, history, state, stop; callback heartbeat,
  success and failure);
* with a wrong secret (InvalidSignatureException), an unknown key id
  (UnrecognizedClientException) and no signature at all
  (MissingAuthenticationTokenException) every one of those calls raises
  ClientError with HTTP 403 and that code, and changes nothing.

Prints one line per check and a final `N passed, N failed`; exits 1 on any
failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

KEY_ID = "AKIDLAMINABOTO3TEST1"
SECRET = "boto3/auth+test/secret/0123456789abcdef"
REGION = "eu-west-1"

PASSED = 0
FAILED = 0


def check(name: str, ok: bool, detail: str = "") -> None:
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print(f"ok    {name}")
    else:
        FAILED += 1
        print(f"FAIL  {name}: {detail}")


def start_host(args: argparse.Namespace, state: str) -> tuple[subprocess.Popen, str]:
    config = os.path.join(state, "lamina.toml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(
            "[auth]\n"
            f'access_keys = [{{ id = "{KEY_ID}", secret_env = "LAMINA_BOTO3_TEST_SECRET" }}]\n'
            "[functions.echo]\n"
            f"component = {json.dumps(os.path.join(args.guests, 'echo.wasm'))}\n"
            "[functions.bench-steps]\n"
            f"component = {json.dumps(os.path.join(args.guests, 'durable_cases.wasm'))}\n"
        )
    env = dict(os.environ, LAMINA_LOG="warn", LAMINA_BOTO3_TEST_SECRET=SECRET)
    proc = subprocess.Popen(
        [args.bin, "serve", "--config", config, "--listen", "127.0.0.1:0",
         "--state-dir", state, "--cache-dir", args.cache_dir],
        stdout=subprocess.PIPE, text=True, env=env,
    )
    url = None
    deadline = time.time() + 300
    assert proc.stdout is not None
    for line in proc.stdout:
        if "listening on " in line:
            url = line.split("listening on ", 1)[1].strip()
        if line.startswith("Metrics:") or time.time() > deadline:
            break
    if url is None:
        proc.kill()
        raise SystemExit("auth test: the host did not start")
    # Keep draining stdout so the host never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return proc, url


def client(url: str, key: str | None, secret: str | None):
    cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=60,
                 connect_timeout=5)
    if key is None:
        cfg = cfg.merge(Config(signature_version=UNSIGNED))
    return boto3.session.Session().client(
        "lambda", endpoint_url=url, region_name=REGION,
        aws_access_key_id=key or "unused", aws_secret_access_key=secret or "unused",
        config=cfg,
    )


def start_waiting_execution(c) -> tuple[str, str]:
    """Starts a bench-steps execution that waits for a callback; returns
    (ARN, callback id)."""
    r = c.invoke(FunctionName="bench-steps", InvocationType="Event",
                 Payload=json.dumps({"steps": 1, "then": "callback"}).encode())
    arn = r["DurableExecutionArn"]
    deadline = time.time() + 60
    while time.time() < deadline:
        state = c.get_durable_execution_state(DurableExecutionArn=arn, CheckpointToken="t")
        for op in state.get("Operations", []):
            cb = (op.get("CallbackDetails") or {}).get("CallbackId")
            if cb:
                return arn, cb
        time.sleep(0.1)
    raise RuntimeError(f"execution {arn} never created its callback")


def calls(arn: str, callback_a: str, callback_b: str, stop_arn: str) -> list[tuple[str, Callable[[Any], Any]]]:
    """Every API Lamina serves, as (name, call(client) -> response)."""
    return [
        ("Invoke RequestResponse", lambda c: c.invoke(
            FunctionName="echo", InvocationType="RequestResponse", Payload=b'{"n":1}')),
        ("Invoke Event", lambda c: c.invoke(
            FunctionName="echo", InvocationType="Event", Payload=b'{"n":2}')),
        ("Invoke DryRun", lambda c: c.invoke(
            FunctionName="echo", InvocationType="DryRun", Payload=b'{"n":3}')),
        ("Invoke durable Event", lambda c: c.invoke(
            FunctionName="bench-steps", InvocationType="Event", Payload=b'{"steps":1}')),
        ("ListDurableExecutionsByFunction", lambda c: c.list_durable_executions_by_function(
            FunctionName="bench-steps", MaxItems=10)),
        ("GetDurableExecution", lambda c: c.get_durable_execution(DurableExecutionArn=arn)),
        ("GetDurableExecutionHistory", lambda c: c.get_durable_execution_history(
            DurableExecutionArn=arn, IncludeExecutionData=True)),
        ("GetDurableExecutionState", lambda c: c.get_durable_execution_state(
            DurableExecutionArn=arn, CheckpointToken="t")),
        ("SendDurableExecutionCallbackHeartbeat",
         lambda c: c.send_durable_execution_callback_heartbeat(CallbackId=callback_a)),
        ("SendDurableExecutionCallbackSuccess",
         lambda c: c.send_durable_execution_callback_success(
             CallbackId=callback_a, Result=b'"approved"')),
        ("SendDurableExecutionCallbackFailure",
         lambda c: c.send_durable_execution_callback_failure(
             CallbackId=callback_b, Error={"ErrorType": "Rejected", "ErrorMessage": "no"})),
        ("StopDurableExecution", lambda c: c.stop_durable_execution(
            DurableExecutionArn=stop_arn,
            Error={"ErrorType": "Stopped", "ErrorMessage": "by the auth test"})),
    ]


def expect_denied(label: str, c, code: str, ops) -> None:
    for name, call in ops:
        try:
            call(c)
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            got = e.response.get("Error", {}).get("Code")
            check(f"{label}: {name} -> 403 {code}", status == 403 and got == code,
                  f"HTTP {status} {got}")
            continue
        except Exception as e:  # noqa: BLE001 - any other failure is a failed check
            check(f"{label}: {name} -> 403 {code}", False, f"{type(e).__name__}: {e}")
            continue
        check(f"{label}: {name} -> 403 {code}", False, "the call succeeded")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", required=True)
    p.add_argument("--guests", required=True)
    p.add_argument("--cache-dir", required=True)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="lamina-auth-") as state:
        proc, url = start_host(args, state)
        try:
            good = client(url, KEY_ID, SECRET)
            # Executions for the denied calls first: they must stay untouched.
            d_arn, d_cb = start_waiting_execution(good)
            e_arn, e_cb = start_waiting_execution(good)
            denied_ops = calls(d_arn, d_cb, e_cb, d_arn)
            expect_denied("wrong secret", client(url, KEY_ID, "not-the-secret"),
                          "InvalidSignatureException", denied_ops)
            expect_denied("unknown key id", client(url, "AKIDNOSUCHKEY0000000", SECRET),
                          "UnrecognizedClientException", denied_ops)
            expect_denied("unsigned", client(url, None, None),
                          "MissingAuthenticationTokenException", denied_ops)
            for i, arn in enumerate((d_arn, e_arn)):
                st = good.get_durable_execution(DurableExecutionArn=arn)["Status"]
                check(f"denied calls left execution {i + 1} RUNNING", st == "RUNNING", st)

            # Now the same calls with the right key.
            a_arn, a_cb = start_waiting_execution(good)
            b_arn, b_cb = start_waiting_execution(good)
            c_arn, _ = start_waiting_execution(good)
            expected_status = {
                "Invoke RequestResponse": 200, "Invoke Event": 202, "Invoke DryRun": 204,
                "Invoke durable Event": 202,
            }
            for name, call in calls(a_arn, a_cb, b_cb, c_arn):
                try:
                    r = call(good)
                    status = r["ResponseMetadata"]["HTTPStatusCode"]
                    want = expected_status.get(name, 200)
                    ok = status == want
                    detail = f"HTTP {status}, expected {want}"
                    if ok and name == "Invoke RequestResponse":
                        body = r["Payload"].read()
                        ok, detail = json.loads(body) == {"n": 1}, f"payload {body!r}"
                    check(f"right key: {name}", ok, detail)
                except Exception as e:  # noqa: BLE001
                    check(f"right key: {name}", False, f"{type(e).__name__}: {e}")
            for arn, want in ((a_arn, "SUCCEEDED"), (b_arn, "FAILED"), (c_arn, "STOPPED")):
                deadline = time.time() + 30
                st = ""
                while time.time() < deadline:
                    st = good.get_durable_execution(DurableExecutionArn=arn)["Status"]
                    if st == want:
                        break
                    time.sleep(0.1)
                check(f"right key: execution ended {want}", st == want, st)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"{PASSED} passed, {FAILED} failed")
    return 0 if FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
