#!/usr/bin/env bash
# Side-by-side load test: `lamina serve` in standard mode and in managed mode
# vs `wasmtime serve` (48.0.8, its defaults: a fresh instance per request for
# a wasi:http 0.2 component) on the same hello-http component, on 127.0.0.1,
# same load generator (wrk), same duration, alternating runs. Prints req/s,
# p50 and p99 for each and the ratios Lamina / wasmtime (medians over the
# rounds). For reference it also runs `wasmtime serve` with instance reuse
# (`--max-instance-reuse-count 128`, its default for wasi:http 0.3), the
# closest thing to managed mode it has for a 0.2 component.
#
#   bash benches/vs-wasmtime.sh            # 3 rounds of 10 s each
#   ROUNDS=5 SECS=20 CONNS=64 bash benches/vs-wasmtime.sh
#
# Installs what it needs on first use: wasmtime-cli 48.0.8 from crates.io
# into target/bench-tools (cargo install --locked; takes a while once) and
# wrk from Debian's packages.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
ROUNDS="${ROUNDS:-3}"
SECS="${SECS:-10}"
CONNS="${CONNS:-32}"
THREADS="${THREADS:-1}"
TARGET="${LAMINA_TARGET_DIR:-$REPO/target}"
TOOLS="$TARGET/bench-tools"
WASMTIME="$TOOLS/bin/wasmtime"

if ! [ -x "$WASMTIME" ] || ! "$WASMTIME" --version | grep -q '^wasmtime 48\.0\.8'; then
  echo "installing wasmtime-cli 48.0.8 into $TOOLS (one-time, several minutes)" >&2
  cargo install --locked --quiet wasmtime-cli --version 48.0.8 --root "$TOOLS"
fi
if ! command -v wrk >/dev/null; then
  echo "installing wrk from Debian's packages" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi
fi

bash scripts/build-guests.sh >/dev/null
cargo build --release --locked -q -p lamina --bin lamina
LAMINA="$TARGET/release/lamina"
WASM="$TARGET/guests/wasm32-wasip2/release/hello_http.wasm"
STATE="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$STATE"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "server at $1 did not come up" >&2; return 1; }

# Prints "req_per_s p50_ms p99_ms" for one wrk run against $1.
load() {
  local out
  out="$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "$1")"
  echo "$out" | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps=$2 }
    $1=="50%" { p50=ms($2) }
    $1=="99%" { p99=ms($2) }
    /Non-2xx/ { bad=$4 }
    END { if (bad>0) { print "non-2xx responses: " bad > "/dev/stderr"; exit 1 } printf "%s %.3f %.3f\n", rps, p50, p99 }'
}

# Extra arguments go to `wasmtime serve`.
run_wasmtime() {
  local port; port="$(free_port)"
  "$WASMTIME" serve -S cli -O pooling-allocator "$@" --addr "127.0.0.1:$port" "$WASM" >/dev/null 2>&1 &
  local pid=$!
  wait_up "http://127.0.0.1:$port/"
  load "http://127.0.0.1:$port/"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# Managed mode: the hello-http function with the default scaling policy.
printf '[functions.hello-http]\ncomponent = "%s"\nmode = "managed"\n' "$WASM" >"$STATE/managed.toml"

# $1: standard or managed.
run_lamina() {
  local port; port="$(free_port)"
  local source=("$WASM")
  [ "$1" = managed ] && source=(--config "$STATE/managed.toml")
  LAMINA_LOG=warn "$LAMINA" serve "${source[@]}" --listen "127.0.0.1:$port" --state-dir "$STATE" >/dev/null &
  local pid=$!
  wait_up "http://127.0.0.1:$port/hello-http/"
  load "http://127.0.0.1:$port/hello-http/"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(uname -m); wrk -t$THREADS -c$CONNS -d${SECS}s; $ROUNDS rounds, alternating" >&2
: >"$STATE/wasmtime.txt"; : >"$STATE/lamina.txt"; : >"$STATE/managed.txt"; : >"$STATE/reuse.txt"
for r in $(seq 1 "$ROUNDS"); do
  w="$(run_wasmtime)"; echo "$w" >>"$STATE/wasmtime.txt"; echo "round $r wasmtime:         $w" >&2
  u="$(run_wasmtime --max-instance-reuse-count 128)"; echo "$u" >>"$STATE/reuse.txt"; echo "round $r wasmtime reuse:   $u" >&2
  l="$(run_lamina standard)"; echo "$l" >>"$STATE/lamina.txt"; echo "round $r lamina standard:  $l" >&2
  m="$(run_lamina managed)"; echo "$m" >>"$STATE/managed.txt"; echo "round $r lamina managed:   $m" >&2
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c="$2" '{print $c}' "$1" | median; }
W_RPS="$(col "$STATE/wasmtime.txt" 1)"; L_RPS="$(col "$STATE/lamina.txt" 1)"; M_RPS="$(col "$STATE/managed.txt" 1)"
echo
echo "| server | req/s | p50 ms | p99 ms |"
echo "| --- | --- | --- | --- |"
echo "| wasmtime serve 48.0.8 | $W_RPS | $(col "$STATE/wasmtime.txt" 2) | $(col "$STATE/wasmtime.txt" 3) |"
echo "| wasmtime serve --max-instance-reuse-count 128 | $(col "$STATE/reuse.txt" 1) | $(col "$STATE/reuse.txt" 2) | $(col "$STATE/reuse.txt" 3) |"
echo "| lamina serve (standard) | $L_RPS | $(col "$STATE/lamina.txt" 2) | $(col "$STATE/lamina.txt" 3) |"
echo "| lamina serve (managed) | $M_RPS | $(col "$STATE/managed.txt" 2) | $(col "$STATE/managed.txt" 3) |"
awk -v l="$L_RPS" -v w="$W_RPS" 'BEGIN { printf "\nLamina standard / wasmtime req/s: %.2f\n", l / w }'
awk -v m="$M_RPS" -v w="$W_RPS" 'BEGIN { printf "Lamina managed / wasmtime req/s: %.2f\n", m / w }'
