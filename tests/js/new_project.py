#!/usr/bin/env python3
"""`lamina new --lang js|ts` projects build with `lamina build` and run as-is.

    new_project.py --lamina target/debug/lamina [--cache-dir DIR] [--order-workflow WASM]

In a temp dir: `lamina new --lang js NAME` (handler template) and `lamina new
--lang ts NAME --template durable`, then in each project `lamina build . -o
NAME.wasm` (the command its README gives) and `lamina serve` there (its own
lamina.toml, port 0), invoked through boto3: the handler answers and raises a
Lambda error on bad input; the TypeScript durable function starts, waits, is
replayed and succeeds with its first step run once. Then `lamina build`
errors (a syntax error, a missing handler export) and `lamina bench` on the
JavaScript order workflow (instantiate and replay). Prints one line per
check and `N passed, N failed`; exits 1 on a failure.
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
from pathlib import Path

import boto3
from botocore.config import Config

LISTEN_RE = re.compile(r"listening on (http://\S+)")


def run(args: list[str], cwd: Path) -> str:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


class Served:
    """`lamina serve` in a project directory (its lamina.toml) on a free port."""

    def __init__(self, lamina: str, project: Path, cache: str | None):
        args = [lamina, "serve", "--listen", "127.0.0.1:0"]
        if cache:
            args += ["--cache-dir", cache]
        self.log: list[str] = []
        self.proc = subprocess.Popen(args, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        deadline = time.time() + 300
        url = None
        while url is None and time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("lamina serve exited:\n" + "".join(self.log[-30:]))
            self.log.append(line)
            m = LISTEN_RE.search(line)
            if m:
                url = m.group(1)
        assert url, "lamina serve did not start"
        threading.Thread(target=lambda: [self.log.append(x) for x in self.proc.stdout], daemon=True).start()
        self.lam = boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x",
                                aws_secret_access_key="x",
                                config=Config(retries={"max_attempts": 1}, read_timeout=120))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def check_js_handler_template(lamina: str, root: Path, cache: str | None) -> None:
    run([lamina, "new", "--lang", "js", "hello-js"], root)
    project = root / "hello-js"
    assert (project / "index.js").is_file() and (project / "package.json").is_file()
    run([lamina, "build", ".", "-o", "hello-js.wasm"], project)
    served = Served(lamina, project, cache)
    try:
        resp = served.lam.invoke(FunctionName="hello-js", Payload=json.dumps({"name": "Ada"}))
        body = json.loads(resp["Payload"].read())
        assert "FunctionError" not in resp and body["message"] == "Hello, Ada!", body
        assert body["functionName"] == "hello-js", body
        resp = served.lam.invoke(FunctionName="hello-js", Payload=b"{}")
        assert resp.get("FunctionError") == "Unhandled", resp
        assert json.loads(resp["Payload"].read()) == {"errorType": "TypeError", "errorMessage": "name is required"}
    finally:
        served.stop()


def check_ts_durable_template(lamina: str, root: Path, cache: str | None) -> None:
    run([lamina, "new", "--lang", "ts", "flow-ts", "--template", "durable"], root)
    project = root / "flow-ts"
    assert (project / "index.ts").is_file()
    run([lamina, "build", ".", "-o", "flow-ts.wasm"], project)
    served = Served(lamina, project, cache)
    try:
        arn = served.lam.invoke(FunctionName="flow-ts", InvocationType="Event",
                                Payload=json.dumps({"name": "Ada"}))["DurableExecutionArn"]
        deadline = time.time() + 60
        while True:
            ex = served.lam.get_durable_execution(DurableExecutionArn=arn)
            if ex["Status"] != "RUNNING":
                break
            assert time.time() < deadline, "the durable template did not finish"
            time.sleep(0.3)
        assert ex["Status"] == "SUCCEEDED", ex
        assert json.loads(ex["Result"]) == {"message": "Hello, Ada!", "shouted": "HELLO, ADA!", "steps": 2}, ex
        events = served.lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
        greets = [e for e in events if e["EventType"] == "StepStarted" and e.get("Name") == "greet"]
        assert len(greets) == 1, [e["EventType"] for e in events]
        assert [e["EventType"] for e in events].count("InvocationCompleted") == 2, events
    finally:
        served.stop()


def check_build_errors(lamina: str, root: Path, cache: str | None) -> None:
    bad = root / "bad"
    bad.mkdir()
    (bad / "index.js").write_text("export const handler = async (event) => {\n  return event.;\n};\n", encoding="utf-8")
    proc = subprocess.run([lamina, "build", ".", "-o", "x.wasm"], cwd=bad, capture_output=True, text=True)
    assert proc.returncode != 0, proc.stdout
    assert "index.js:2:" in proc.stderr, proc.stderr
    missing = root / "missing"
    missing.mkdir()
    (missing / "index.js").write_text("export const main = async () => 1;\n", encoding="utf-8")
    proc = subprocess.run([lamina, "build", ".", "-o", "x.wasm"], cwd=missing, capture_output=True, text=True)
    assert proc.returncode != 0, proc.stdout
    assert "handler" in proc.stderr, proc.stderr


def check_bench_durable(lamina: str, root: Path, cache: str | None, order_workflow: str | None) -> None:
    assert order_workflow, "--order-workflow not given"
    order = {"orderId": "o-1", "items": [{"sku": "tea", "qty": 2, "price": 4.5}]}
    args = [lamina, "bench", order_workflow, "-n", "5", "--warmup", "1", "--resident-sample", "2",
            "--json", "--payload", json.dumps(order)]
    if cache:
        args += ["--cache-dir", cache]
    proc = subprocess.run(args, cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["kind"] == "durable" and report["iterations"] == 5, report
    assert report["replayed_operations"] >= 3, report
    for key in ("instantiate_us", "replay_us"):
        d = report[key]
        assert 0 < d["min"] <= d["p50"] <= d["max"], (key, d)


CHECKS = [check_build_errors, check_js_handler_template, check_ts_durable_template, check_bench_durable]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lamina", required=True)
    parser.add_argument("--cache-dir", help="compiled-component cache for lamina serve and bench")
    parser.add_argument("--order-workflow", help="the built JavaScript order workflow, for lamina bench")
    args = parser.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="lamina-js-new-") as tmp:
        for check in CHECKS:
            try:
                if check is check_bench_durable:
                    check(args.lamina, Path(tmp), args.cache_dir, args.order_workflow)
                else:
                    check(args.lamina, Path(tmp), args.cache_dir)
                passed += 1
                print(f"ok   {check.__name__}")
            except Exception:
                failed += 1
                print(f"FAIL {check.__name__}\n{traceback.format_exc()}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
