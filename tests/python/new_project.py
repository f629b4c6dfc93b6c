#!/usr/bin/env python3
"""`lamina new --lang python` projects build with `lamina build` and run as-is.

    new_project.py --lamina target/debug/lamina [--cache-dir DIR]

For each template (handler, durable), in a temp dir: `lamina new`, then in the
project `lamina build . -o NAME.wasm` (the command its README gives), then
`lamina serve` there (its own lamina.toml, port 0), then invoke it through
boto3: the handler answers its greeting and raises a Lambda error on bad
input; the durable function starts, waits, is replayed and succeeds, its
first step having run once; `lamina build` errors; `lamina bench` on a durable
component (--order-workflow). Set LAMINA_CACHE_DIR to reuse componentize-py.
Prints one line per check and `N passed, N failed`; exits 1 on a failure.
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
        self.proc = subprocess.Popen(args, cwd=project, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        deadline = time.time() + 300
        url = None
        while url is None and time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("lamina serve exited:\n" + "".join(self.log[-30:]))
            self.log.append(line)
            m = LISTEN_RE.search(line)
            url = m.group(1) if m else None
        if url is None:
            raise RuntimeError("lamina serve did not start in time")
        threading.Thread(target=self._drain, daemon=True).start()
        self.lam = boto3.client(
            "lambda", endpoint_url=url, region_name="us-east-1",
            aws_access_key_id="x", aws_secret_access_key="x",
            config=Config(retries={"max_attempts": 1}, read_timeout=120),
        )

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def new_and_build(lamina: str, root: Path, name: str, template: str) -> Path:
    out = run([lamina, "new", "--lang", "python", "--template", template, name], root)
    assert f"created {name}/" in out, out
    project = root / name
    assert (project / "lambda_function.py").is_file() and (project / "lamina.toml").is_file()
    assert f"lamina build . -o {name}.wasm" in (project / "README.md").read_text(encoding="utf-8")
    out = run([lamina, "build", ".", "-o", f"{name}.wasm"], project)
    assert f"built {project / (name + '.wasm')}" in out, out
    assert (project / f"{name}.wasm").stat().st_size > 1_000_000
    return project


def check_handler_template(lamina: str, root: Path, cache: str | None) -> None:
    project = new_and_build(lamina, root, "hello-py", "handler")
    host = Served(lamina, project, cache)
    try:
        resp = host.lam.invoke(FunctionName="hello-py", Payload=json.dumps({"name": "Ada"}))
        assert "FunctionError" not in resp, resp
        body = json.loads(resp["Payload"].read())
        assert body["message"] == "Hello, Ada!" and body["functionName"] == "hello-py", body
        resp = host.lam.invoke(FunctionName="hello-py", Payload=b"{}")
        assert resp.get("FunctionError") == "Unhandled", resp
        body = json.loads(resp["Payload"].read())
        assert body == {"errorType": "ValueError", "errorMessage": "name is required"}, body
    except Exception:
        print("".join(host.log[-30:]))
        raise
    finally:
        host.stop()


def check_durable_template(lamina: str, root: Path, cache: str | None) -> None:
    project = new_and_build(lamina, root, "greet-flow", "durable")
    host = Served(lamina, project, cache)
    try:
        resp = host.lam.invoke(FunctionName="greet-flow", InvocationType="Event",
                               Payload=json.dumps({"name": "Ada"}))
        assert resp["StatusCode"] == 202, resp
        arn = resp["DurableExecutionArn"]
        deadline = time.time() + 60
        while True:
            ex = host.lam.get_durable_execution(DurableExecutionArn=arn)
            if ex["Status"] != "RUNNING":
                break
            assert time.time() < deadline, f"{arn} still running"
            time.sleep(0.2)
        assert ex["Status"] == "SUCCEEDED", ex
        assert json.loads(ex["Result"]) == {"message": "Hello, Ada!", "shouted": "HELLO, ADA!", "steps": 2}, ex
        events = host.lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
        types = [e["EventType"] for e in events]
        # Invoked twice (before and after the wait): the first step ran once.
        assert types.count("InvocationCompleted") == 2, types
        greet = [e for e in events if e["EventType"] == "StepStarted" and e.get("Name") == "greet"]
        assert len(greet) == 1, types
        assert (project / ".lamina").is_dir(), "state_dir .lamina not used"
    except Exception:
        print("".join(host.log[-30:]))
        raise
    finally:
        host.stop()


def check_build_errors(lamina: str, root: Path, cache: str | None) -> None:
    bad = root / "bad"
    bad.mkdir()
    cases = {
        "syntax.py": ("def lambda_handler(event, context:\n    return 1\n", "syntax error"),
        "nohandler.py": ("def handler(event, context):\n    return 1\n", "defines no handler 'lambda_handler'"),
    }
    for file, (text, expected) in cases.items():
        (bad / file).write_text(text, encoding="utf-8")
        proc = subprocess.run([lamina, "build", file, "-o", "x.wasm"], cwd=bad, capture_output=True, text=True)
        assert proc.returncode != 0, (file, proc.stdout, proc.stderr)
        assert expected in proc.stderr, (file, proc.stderr)
    dep = root / "native-dep"
    dep.mkdir()
    (dep / "handler.py").write_text("def lambda_handler(event, context):\n    return 1\n", encoding="utf-8")
    (dep / "requirements.txt").write_text("numpy==2.1.3\n", encoding="utf-8")
    proc = subprocess.run([lamina, "build", ".", "-o", "x.wasm"], cwd=dep, capture_output=True, text=True)
    assert proc.returncode != 0, proc.stdout
    assert "only pure-Python packages" in proc.stderr, proc.stderr


def check_bench_durable(lamina: str, root: Path, cache: str | None, order_workflow: str | None) -> None:
    """`lamina bench` on the Python order workflow reports instantiate and replay."""
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
    # validate-order (a step), await-payment (a context) and its callback.
    assert report["replayed_operations"] >= 3, report
    for key in ("instantiate_us", "replay_us"):
        d = report[key]
        assert 0 < d["min"] <= d["p50"] <= d["max"], (key, d)


CHECKS = [check_build_errors, check_handler_template, check_durable_template, check_bench_durable]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lamina", required=True, help="the lamina binary")
    parser.add_argument("--cache-dir", help="compiled-component cache for lamina serve and bench")
    parser.add_argument("--order-workflow", help="the built Python order workflow, for lamina bench")
    args = parser.parse_args()
    lamina = str(Path(args.lamina).resolve())
    if args.cache_dir:
        args.cache_dir = str(Path(args.cache_dir).resolve())
    if args.order_workflow:
        args.order_workflow = str(Path(args.order_workflow).resolve())
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="lamina-py-new-") as tmp:
        for check in CHECKS:
            try:
                if check is check_bench_durable:
                    check(lamina, Path(tmp), args.cache_dir, args.order_workflow)
                else:
                    check(lamina, Path(tmp), args.cache_dir)
                passed += 1
                print(f"ok   {check.__name__}")
            except Exception:
                failed += 1
                print(f"FAIL {check.__name__}\n{traceback.format_exc()}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
