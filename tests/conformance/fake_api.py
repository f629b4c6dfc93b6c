"""A tiny in-process fake of the durable-execution API, only for the runner's
self-test: it checks that run.py drives boto3 correctly (paths, headers,
percent-encoded ARNs, blob and structure payloads, pagination, errors). It
implements no durable semantics: each function name plays a fixed script.

    case-sync   RequestResponse: step "Hello, <Input>!", SUCCEEDED
    case-cb     Event: a callback named <Input>; success/failure ends it
    case-cbf    same as case-cb
    case-wait   Event: a one-hour wait; only StopDurableExecution ends it
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

ACCOUNT = "000000000000"


class Fake:
    def __init__(self):
        self.lock = threading.Lock()
        self.executions: dict[str, dict] = {}
        self.callbacks: dict[str, str] = {}  # callback id -> arn

    def _event(self, ex: dict, etype: str, **kw) -> None:
        ex["Events"].append(dict(EventId=len(ex["Events"]) + 1, EventType=etype,
                                 EventTimestamp=time.time(), **kw))

    def start(self, function: str, name: str, payload: bytes) -> dict:
        arn = (f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}:$LATEST"
               f"/durable-execution/{name}/{uuid.uuid4().hex}")
        event = json.loads(payload or b"null")
        inp = event.get("Input") if isinstance(event, dict) else None
        ex = {"DurableExecutionArn": arn, "DurableExecutionName": name, "Function": function,
              "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}",
              "Status": "RUNNING", "StartTimestamp": time.time(), "Events": []}
        self._event(ex, "ExecutionStarted", Id=name,
                    ExecutionStartedDetails={"Input": {"Payload": payload.decode()}})
        if function == "case-sync":
            result = json.dumps(f"Hello, {inp}!")
            self._event(ex, "StepStarted", SubType="Step", Id="op-1", StepStartedDetails={})
            self._event(ex, "StepSucceeded", SubType="Step", Id="op-1",
                        StepSucceededDetails={"Result": {"Payload": result}})
            self._event(ex, "InvocationCompleted", InvocationCompletedDetails={"RequestId": "r1"})
            self._event(ex, "ExecutionSucceeded", ExecutionSucceededDetails={"Result": {"Payload": result}})
            ex.update(Status="SUCCEEDED", Result=result, EndTimestamp=time.time())
        elif function in ("case-cb", "case-cbf"):
            cid = base64.b64encode(uuid.uuid4().bytes).decode()
            self.callbacks[cid] = arn
            self._event(ex, "CallbackStarted", SubType="Callback", Id="op-1", Name=inp,
                        CallbackStartedDetails={"CallbackId": cid})
            self._event(ex, "InvocationCompleted", InvocationCompletedDetails={"RequestId": "r1"})
        elif function == "case-wait":
            self._event(ex, "WaitStarted", SubType="Wait", Id="op-1",
                        WaitStartedDetails={"Duration": 3600, "ScheduledEndTimestamp": time.time() + 3600})
            self._event(ex, "InvocationCompleted", InvocationCompletedDetails={"RequestId": "r1"})
        else:
            raise KeyError(function)
        self.executions[arn] = ex
        return ex

    def complete_callback(self, cid: str, op: str, body: bytes) -> None:
        ex = self.executions[self.callbacks[cid]]
        if ex["Status"] != "RUNNING":
            raise ValueError("execution is not running")
        if op == "heartbeat":
            ex["Heartbeats"] = ex.get("Heartbeats", 0) + 1
            return
        if op == "succeed":
            self._event(ex, "CallbackSucceeded", SubType="Callback", Id="op-1",
                        CallbackSucceededDetails={"Result": {"Payload": body.decode()}})
            self._event(ex, "InvocationCompleted", InvocationCompletedDetails={"RequestId": "r2"})
            self._event(ex, "ExecutionSucceeded", ExecutionSucceededDetails={"Result": {"Payload": body.decode()}})
            ex.update(Status="SUCCEEDED", Result=body.decode(), EndTimestamp=time.time())
        else:
            error = json.loads(body or b"{}")
            self._event(ex, "CallbackFailed", SubType="Callback", Id="op-1",
                        CallbackFailedDetails={"Error": {"Payload": error}})
            self._event(ex, "InvocationCompleted", InvocationCompletedDetails={"RequestId": "r2"})
            self._event(ex, "ExecutionFailed", ExecutionFailedDetails={"Error": {"Payload": error}})
            ex.update(Status="FAILED", Error=error, EndTimestamp=time.time())


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-durable/0"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, status: int, body=None, headers=None, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str):
        self._send(status, {"Type": "User", "message": message}, {"X-Amzn-ErrorType": code})

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def _route(self, method: str):
        fake: Fake = self.server.fake
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/")[1:]]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        body = self._body()
        with fake.lock:
            try:
                self._dispatch(fake, method, parts, query, body)
            except KeyError as e:
                self._error(404, "ResourceNotFoundException", f"not found: {e}")
            except ValueError as e:
                self._error(409, "InvalidParameterValueException", str(e))

    def _dispatch(self, fake: Fake, method, parts, query, body):
        if method == "POST" and len(parts) == 4 and parts[:2] == ["2015-03-31", "functions"] \
                and parts[3] == "invocations":
            name = self.headers.get("X-Amz-Durable-Execution-Name") or uuid.uuid4().hex
            ex = fake.start(parts[2], name, body)
            hdr = {"X-Amz-Durable-Execution-Arn": ex["DurableExecutionArn"], "X-Amz-Executed-Version": "$LATEST"}
            if self.headers.get("X-Amz-Invocation-Type") == "Event":
                return self._send(202, headers=hdr, raw=b"")
            return self._send(200, headers=hdr, raw=(ex.get("Result") or "null").encode())
        if parts[:1] != ["2025-12-01"]:
            raise KeyError("/".join(parts))
        if method == "GET" and len(parts) == 4 and parts[1] == "functions" and parts[3] == "durable-executions":
            rows = [{k: ex[k] for k in ("DurableExecutionArn", "DurableExecutionName", "FunctionArn",
                                        "Status", "StartTimestamp")}
                    for ex in fake.executions.values()
                    if ex["Function"] == parts[2]
                    and query.get("DurableExecutionName") in (None, ex["DurableExecutionName"])]
            return self._send(200, {"DurableExecutions": rows})
        if parts[1] == "durable-executions" and len(parts) >= 3:
            ex = fake.executions[parts[2]]
            rest = parts[3:]
            if method == "GET" and not rest:
                keys = ("DurableExecutionArn", "DurableExecutionName", "FunctionArn", "Status",
                        "StartTimestamp", "EndTimestamp", "Result", "Error")
                return self._send(200, {k: ex[k] for k in keys if k in ex})
            if method == "GET" and rest == ["history"]:
                start = int(query.get("Marker", "0"))
                size = int(query.get("MaxItems", "0")) or 1000
                page = ex["Events"][start:start + size]
                out = {"Events": page}
                if start + size < len(ex["Events"]):
                    out["NextMarker"] = str(start + size)
                return self._send(200, out)
            if method == "POST" and rest == ["stop"]:
                if ex["Status"] != "RUNNING":
                    raise ValueError("execution is not running")
                fake._event(ex, "ExecutionStopped", ExecutionStoppedDetails={})
                ex.update(Status="STOPPED", EndTimestamp=time.time())
                return self._send(200, {"StopTimestamp": time.time()})
        if method == "POST" and parts[1] == "durable-execution-callbacks" and len(parts) == 4:
            fake.complete_callback(parts[2], parts[3], body)
            return self._send(200, {})
        raise KeyError("/".join(parts))


def serve() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.fake = Fake()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
