#!/usr/bin/env python3
"""The Lambda control plane with the real boto3 client (run by tests/deploy/run.sh).

Starts `lamina serve` (one durable function declared in lamina.toml) and
checks, through boto3's lambda client:

* create -> invoke -> update code -> invoke shows the new behaviour, in the
  same host process (no restart);
* publish versions and an alias; invoke by qualifier answers ExecutedVersion;
* a weighted alias (version 2 at 0.3) splits 600 invocations within
  +/-0.08 of 0.3 (over 5 standard deviations of the binomial);
* bad code (not wasm, a core module, a component with no known export, a zip
  without a .wasm) -> 400 InvalidParameterValueException with the reason,
  and the previous version still serving;
* 409 on a duplicate create and on deleting a version an alias routes to;
  delete -> 404 on invoke and get;
* a load loop (standard and managed mode) keeps invoking while the code is
  updated 5 times: zero failed requests;
* a durable execution waiting on a callback is flagged divergent by the
  replay check for code that renames its callback, survives that update and
  a restart, then completes on its original code, while a new execution runs
  the new code.

Prints one line per check and a final `N passed, N failed`; exits 1 on any
failure.
"""

from __future__ import annotations

import argparse
import hashlib
import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/lamina"
PASSED = 0
FAILED = 0


def check(name: str, ok: bool, detail: str = "") -> None:
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print(f"ok    {name}", flush=True)
    else:
        FAILED += 1
        print(f"FAIL  {name}: {detail}", flush=True)


class Host:
    """A `lamina serve` process on a state directory."""

    def __init__(self, args: argparse.Namespace, state: str) -> None:
        self.args, self.state = args, state
        self.config = os.path.join(state, "lamina.toml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(
                "[functions.bench-steps]\n"
                f"component = {json.dumps(os.path.join(args.guests, 'durable_cases.wasm'))}\n"
            )
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> None:
        env = dict(os.environ, LAMINA_LOG="warn")
        self.proc = subprocess.Popen(
            [self.args.bin, "serve", "--config", self.config, "--listen", "127.0.0.1:0",
             "--state-dir", os.path.join(self.state, "state"), "--cache-dir", self.args.cache_dir],
            stdout=subprocess.PIPE, text=True, env=env,
        )
        assert self.proc.stdout is not None
        url = None
        for line in self.proc.stdout:
            if "listening on " in line:
                url = line.split("listening on ", 1)[1].strip()
            if line.startswith("Metrics:"):
                break
        if url is None:
            self.proc.kill()
            raise SystemExit("deploy test: the host did not start")
        self.url = url
        out = self.proc.stdout
        threading.Thread(target=lambda: [None for _ in out], daemon=True).start()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def client(self):
        cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120,
                     connect_timeout=5, max_pool_connections=32)
        return boto3.session.Session().client(
            "lambda", endpoint_url=self.url, region_name=REGION,
            aws_access_key_id="test", aws_secret_access_key="test", config=cfg,
        )


def zipped(wasm: bytes, name: str = "function.wasm") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt", "a component")
        z.writestr(name, wasm)
    return buf.getvalue()


def invoke(c, name: str, payload: dict, qualifier: str | None = None) -> tuple[dict, str, str | None]:
    kw = {"Qualifier": qualifier} if qualifier else {}
    r = c.invoke(FunctionName=name, Payload=json.dumps(payload).encode(), **kw)
    return json.loads(r["Payload"].read()), r.get("ExecutedVersion", ""), r.get("FunctionError")


def error_of(call) -> tuple[int, str, str]:
    try:
        call()
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"],
                e.response["Error"]["Code"], e.response["Error"].get("Message", ""))
    return (200, "", "the call succeeded")


def lifecycle(c, echo: bytes, faults: bytes) -> None:
    ok = {"action": "ok"}
    r = c.create_function(FunctionName="greet", Role=ROLE, Code={"ZipFile": zipped(echo)},
                          Timeout=5, MemorySize=128)
    want_sha = base64.b64encode(hashlib.sha256(echo).digest()).decode()
    check("CreateFunction answers the configuration",
          r["FunctionName"] == "greet" and r["Version"] == "$LATEST"
          and r["CodeSha256"] == want_sha and r["State"] == "Active"
          and r["ResponseMetadata"]["HTTPStatusCode"] == 201, json.dumps(r, default=str)[:300])
    body, ver, _ = invoke(c, "greet", ok)
    check("invoke after create runs the code (echo)", body == ok and ver == "$LATEST", f"{body} {ver}")

    c.update_function_code(FunctionName="greet", ZipFile=faults)
    body, _, _ = invoke(c, "greet", ok)
    check("invoke after UpdateFunctionCode shows the new behaviour", body == {"ok": True}, str(body))

    v1 = c.publish_version(FunctionName="greet")["Version"]
    c.update_function_code(FunctionName="greet", ZipFile=zipped(echo))
    v2 = c.publish_version(FunctionName="greet")["Version"]
    check("PublishVersion numbers versions 1, 2", (v1, v2) == ("1", "2"), f"{v1} {v2}")
    again = c.publish_version(FunctionName="greet")["Version"]
    check("PublishVersion of an unchanged $LATEST returns the last version", again == "2", again)
    body, ver, _ = invoke(c, "greet", ok, "1")
    check("invoke Qualifier=1 runs version 1 (faults)", body == {"ok": True} and ver == "1", f"{body} {ver}")
    body, ver, _ = invoke(c, "greet", ok, "2")
    check("invoke Qualifier=2 runs version 2 (echo)", body == ok and ver == "2", f"{body} {ver}")
    body, ver, _ = invoke(c, "greet:1", ok)
    check("invoke greet:1 (qualified name) runs version 1", ver == "1" and body == {"ok": True}, f"{body} {ver}")

    c.create_alias(FunctionName="greet", Name="live", FunctionVersion="1")
    body, ver, _ = invoke(c, "greet", ok, "live")
    check("invoke by alias runs its version", ver == "1" and body == {"ok": True}, f"{body} {ver}")
    c.update_alias(FunctionName="greet", Name="live", FunctionVersion="1",
                   RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
    n, to_2 = 600, 0
    for _ in range(n):
        body, ver, _ = invoke(c, "greet", ok, "live")
        to_2 += ver == "2"
        if (ver == "2") != (body == ok):
            check("weighted alias: the body matches ExecutedVersion", False, f"{ver} {body}")
            break
    share = to_2 / n
    check(f"weighted alias sends 0.3 +/- 0.08 to version 2 (got {share:.3f})",
          abs(share - 0.3) <= 0.08, f"{share}")
    a = c.get_alias(FunctionName="greet", Name="live")
    check("GetAlias shows the routing",
          a["FunctionVersion"] == "1" and a["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.3},
          json.dumps(a, default=str)[:300])
    names = [x["Name"] for x in c.list_aliases(FunctionName="greet")["Aliases"]]
    check("ListAliases", names == ["live"], str(names))
    versions = [v["Version"] for v in c.list_versions_by_function(FunctionName="greet")["Versions"]]
    check("ListVersionsByFunction", versions == ["$LATEST", "1", "2"], str(versions))
    fns = sorted(f["FunctionName"] for f in c.list_functions()["Functions"])
    check("ListFunctions has the declared and the created function",
          fns == ["bench-steps", "greet"], str(fns))
    cfg = c.update_function_configuration(FunctionName="greet", Timeout=7, MemorySize=256,
                                          Environment={"Variables": {"GREETING": "hi"}})
    got = c.get_function(FunctionName="greet")["Configuration"]
    check("UpdateFunctionConfiguration is applied and shown by GetFunction",
          got["Timeout"] == 7 and got["MemorySize"] == 256
          and got["Environment"]["Variables"] == {"GREETING": "hi"}
          and got["RevisionId"] == cfg["RevisionId"], json.dumps(got, default=str)[:300])
    got = c.get_function_configuration(FunctionName="greet", Qualifier="1")
    check("GetFunctionConfiguration Qualifier=1", got["Version"] == "1" and got["Timeout"] == 5, str(got.get("Version")))
    body, _, _ = invoke(c, "greet", ok)
    check("still serving after the configuration change", body == ok, str(body))

    bad = [
        ("not WebAssembly", b"definitely not wasm", "not a WebAssembly file"),
        ("a core module", b"\0asm\x01\0\0\0", "core WebAssembly module"),
        ("a component with no known export", b"\0asm\x0d\0\x01\0", "exports none of"),
        ("a zip without a .wasm", zip_without_wasm(), "exactly one .wasm"),
    ]
    for label, code, reason in bad:
        status, kind, msg = error_of(lambda: c.update_function_code(FunctionName="greet", ZipFile=code))
        check(f"bad code ({label}) -> 400 InvalidParameterValueException naming the reason",
              status == 400 and kind == "InvalidParameterValueException" and reason in msg,
              f"{status} {kind} {msg}")
        body, ver, _ = invoke(c, "greet", ok)
        check(f"after bad code ({label}) the previous version still serves", body == ok and ver == "$LATEST", str(body))
    status, kind, _ = error_of(lambda: c.create_function(
        FunctionName="greet", Role=ROLE, Code={"ZipFile": echo}))
    check("CreateFunction of an existing name -> 409 ResourceConflictException",
          status == 409 and kind == "ResourceConflictException", f"{status} {kind}")
    status, kind, _ = error_of(lambda: c.delete_function(FunctionName="greet", Qualifier="2"))
    check("deleting a version an alias routes to -> 409", status == 409, f"{status} {kind}")
    status, kind, _ = error_of(lambda: invoke(c, "greet", ok, "7"))
    check("invoke an unknown version -> 404", status == 404 and kind == "ResourceNotFoundException", f"{status} {kind}")
    c.delete_alias(FunctionName="greet", Name="live")
    c.delete_function(FunctionName="greet", Qualifier="1")
    versions = [v["Version"] for v in c.list_versions_by_function(FunctionName="greet")["Versions"]]
    check("DeleteFunction Qualifier=1 deletes that version", versions == ["$LATEST", "2"], str(versions))
    c.delete_function(FunctionName="greet")
    status, kind, _ = error_of(lambda: invoke(c, "greet", ok))
    check("invoke after DeleteFunction -> 404 ResourceNotFoundException",
          status == 404 and kind == "ResourceNotFoundException", f"{status} {kind}")
    status, kind, _ = error_of(lambda: c.get_function(FunctionName="greet"))
    check("GetFunction after DeleteFunction -> 404", status == 404, f"{status} {kind}")


def zip_without_wasm() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("notes.txt", "no component here")
    return buf.getvalue()


def load_loop(host: Host, echo: bytes, faults: bytes, managed: bool) -> None:
    name = "busy-managed" if managed else "busy"
    c = host.client()
    extra = {}
    if managed:
        extra["CapacityProviderConfig"] = {"LambdaManagedInstancesCapacityProviderConfig": {
            "CapacityProviderArn": "arn:aws:lambda:us-east-1:000000000000:capacity-provider:x",
            "PerExecutionEnvironmentMaxConcurrency": 4}}
    c.create_function(FunctionName=name, Role=ROLE, Code={"ZipFile": echo}, **extra)
    stop = threading.Event()
    counts = {"ok": 0, "failed": 0}
    failures: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        wc = host.client()
        while not stop.is_set():
            try:
                body, _, err = invoke(wc, name, {"action": "ok"})
                good = err is None and body in ({"action": "ok"}, {"ok": True})
            except Exception as e:  # noqa: BLE001 - any failure counts
                good, body = False, f"{type(e).__name__}: {e}"
            with lock:
                counts["ok" if good else "failed"] += 1
                if not good and len(failures) < 5:
                    failures.append(str(body))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    for i in range(5):
        c.update_function_code(FunctionName=name, ZipFile=faults if i % 2 == 0 else echo)
        time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    mode = "managed" if managed else "standard"
    check(f"load loop ({mode}): {counts['ok']} requests during 5 code updates, zero failed",
          counts["failed"] == 0 and counts["ok"] > 50, f"{counts} {failures}")
    c.delete_function(FunctionName=name)


def wait_for_callback(c, arn: str) -> tuple[str, str]:
    deadline = time.time() + 60
    while time.time() < deadline:
        state = c.get_durable_execution_state(DurableExecutionArn=arn, CheckpointToken="t")
        for op in state.get("Operations", []):
            cb = (op.get("CallbackDetails") or {}).get("CallbackId")
            if cb:
                return cb, op.get("Name", "")
        time.sleep(0.1)
    raise RuntimeError(f"execution {arn} never created its callback")


def wait_status(c, arn: str) -> dict:
    deadline = time.time() + 60
    while time.time() < deadline:
        e = c.get_durable_execution(DurableExecutionArn=arn)
        if e["Status"] != "RUNNING":
            return e
        time.sleep(0.1)
    return e


def durable_pinning(host: Host, durable: bytes) -> None:
    c = host.client()
    payload = json.dumps({"steps": 2, "then": "callback"}).encode()
    arn = c.invoke(FunctionName="bench-steps", InvocationType="Event", Payload=payload)["DurableExecutionArn"]
    cb, name = wait_for_callback(c, arn)
    check("durable execution waits on its callback `resume`", name == "resume", name)
    # New code: the same workflow with the callback renamed.
    renamed = durable.replace(b"tepsthenresume", b"tepsthenresumX")
    check("the renamed variant differs", renamed != durable and len(renamed) == len(durable), "")
    # The deploy-time replay check (Lamina's own route) flags it first.
    import urllib.request
    req = urllib.request.Request(
        f"{host.url}/2015-03-31/functions/bench-steps/replay-check", method="POST",
        data=json.dumps({"ZipFile": base64.b64encode(renamed).decode()}).encode())
    report = json.loads(urllib.request.urlopen(req, timeout=120).read())
    verdicts = {v["DurableExecutionArn"]: v for v in report["Executions"]}
    mine = verdicts.get(arn, {})
    check("the replay check flags the waiting execution as divergent for the new code",
          mine.get("Result") == "DIVERGENT" and "resume" in mine.get("Detail", ""), json.dumps(report)[:400])
    r = c.update_function_code(FunctionName="bench-steps", ZipFile=renamed)
    check("UpdateFunctionCode of the durable function",
          r["CodeSha256"] == base64.b64encode(hashlib.sha256(renamed).digest()).decode(), str(r.get("CodeSha256")))
    host.stop()
    host.start()
    c = host.client()
    got = c.get_function(FunctionName="bench-steps")["Configuration"]["CodeSha256"]
    check("the update survives a restart",
          got == base64.b64encode(hashlib.sha256(renamed).digest()).decode(), got)
    c.send_durable_execution_callback_success(CallbackId=cb, Result=b'"approved"')
    e = wait_status(c, arn)
    check("the waiting execution completes on its original code after update + restart",
          e["Status"] == "SUCCEEDED" and json.loads(e.get("Result", "null")) == 2,
          json.dumps(e, default=str)[:400])
    arn2 = c.invoke(FunctionName="bench-steps", InvocationType="Event", Payload=payload)["DurableExecutionArn"]
    _, name2 = wait_for_callback(c, arn2)
    check("a new execution runs the new code (callback `resumX`)", name2 == "resumX", name2)
    c.stop_durable_execution(DurableExecutionArn=arn2, Error={"ErrorType": "Done", "ErrorMessage": "test"})


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", required=True)
    p.add_argument("--guests", required=True)
    p.add_argument("--cache-dir", required=True)
    args = p.parse_args()
    read = lambda n: open(os.path.join(args.guests, n), "rb").read()  # noqa: E731
    echo, faults, durable = read("echo.wasm"), read("faults.wasm"), read("durable_cases.wasm")
    with tempfile.TemporaryDirectory(prefix="lamina-deploy-") as state:
        host = Host(args, state)
        host.start()
        try:
            pid = host.proc.pid if host.proc else None
            lifecycle(host.client(), echo, faults)
            load_loop(host, echo, faults, managed=False)
            load_loop(host, echo, faults, managed=True)
            check("all of the above without a restart", host.proc is not None and host.proc.pid == pid
                  and host.proc.poll() is None, "")
            durable_pinning(host, durable)
        except Exception as e:  # noqa: BLE001 - report, then fail
            check("no unexpected exception", False, f"{type(e).__name__}: {e}")
        finally:
            host.stop()
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
