#!/usr/bin/env bash
# `lamina bench` (and `lamina serve`) on a component built outside this
# project: a Python wasi:http app compiled by componentize-py (from PyPI; it
# embeds CPython, ~18 MB), against the wasi:http WIT that ships in the
# wasmtime-wasi-http crate Lamina links. Prints the bench table and checks
# that `lamina serve` answers a request with it.
#
# Usage: benches/external-component.sh [-n ITERATIONS]   (default 300)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${LAMINA_TARGET_DIR:-$REPO/target}"
TOOLS="$TARGET/bench-tools"
N=300
if [ "${1:-}" = "-n" ] && [ -n "${2:-}" ]; then N="$2"; fi

venv="$TOOLS/pyenv-componentize"
if [ ! -x "$venv/bin/componentize-py" ]; then
    echo "installing componentize-py 0.25.1 into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet componentize-py==0.25.1
fi

cargo build --release --locked -p lamina >&2
LAMINA="$TARGET/release/lamina"

# The wasi:http WIT of the wasmtime-wasi-http version Lamina is built with.
WIT="$(cd "$REPO" && cargo metadata --format-version 1 --locked 2>/dev/null | python3 -c '
import json, os, sys
meta = json.load(sys.stdin)
for p in meta["packages"]:
    if p["name"] == "wasmtime-wasi-http":
        print(os.path.join(os.path.dirname(p["manifest_path"]), "wit"))
        break
')"
[ -d "$WIT" ] || { echo "error: wasi:http WIT not found (got '$WIT')" >&2; exit 1; }

work="$(mktemp -d)"
trap 'kill "${host_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/app.py" <<'PY'
from wit_world import exports
from wit_world.imports.types import (
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
)
from componentize_py_types import Ok


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: IncomingRequest, response_out: ResponseOutparam) -> None:
        body = f"hello from Python at {request.path_with_query()}\n".encode()
        headers = Fields.from_list([("content-type", b"text/plain")])
        response = OutgoingResponse(headers)
        out = response.body()
        ResponseOutparam.set(response_out, Ok(response))
        stream = out.write()
        stream.blocking_write_and_flush(body)
        stream.__exit__(None, None, None)
        OutgoingBody.finish(out, None)
PY
echo "building py_hello.wasm with componentize-py" >&2
(cd "$work" && "$venv/bin/componentize-py" -d "$WIT" -w wasi:http/proxy componentize app -o py_hello.wasm >&2)
ls -l "$work/py_hello.wasm" >&2

"$LAMINA" bench "$work/py_hello.wasm" -n "$N" --warmup 20 --resident-sample 20

# And it serves unmodified.
"$LAMINA" serve "$work/py_hello.wasm" --listen 127.0.0.1:0 --state-dir "$work/state" \
    >"$work/serve.out" 2>"$work/serve.err" &
host_pid=$!
url=""
for _ in $(seq 1 600); do
    url="$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/serve.out" | head -1)"
    if [ -n "$url" ] && grep -q '^Metrics:' "$work/serve.out"; then break; fi
    sleep 0.1
done
[ -n "$url" ] || { echo "error: lamina serve did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
answer="$(curl -fsS "$url/py-hello/some/path")"
echo "GET $url/py-hello/some/path -> $answer"
case "$answer" in
    *"hello from Python at /some/path"*) echo "ok: served unmodified" ;;
    *) echo "error: unexpected answer" >&2; exit 1 ;;
esac
