#!/usr/bin/env bash
# The dashboard's order demo in a real browser: Debian's Chromium driven by
# playwright-core (tests/browser/demo.test.mjs, then every page at two widths
# in tests/browser/pages.test.mjs) against a real `lamina serve`
# of examples/lamina.toml with a fresh state directory. Installs what it
# needs (the chromium package, the npm packages of tests/browser), builds the
# host and the guests when they are missing, and stops the host at the end.
#
# Screenshots go to $LAMINA_TARGET_DIR/browser (default <repo>/target/browser).
# Environment:
#   LAMINA_TARGET_DIR  build output (default <repo>/target)
#   LAMINA_BIN         host binary (default: $LAMINA_TARGET_DIR/debug/lamina, built here)
#   CHROMIUM           browser (default /usr/bin/chromium, installed with apt-get when missing)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
TARGET_DIR="${LAMINA_TARGET_DIR:-$REPO/target}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
TEST_DIR="$REPO/tests/browser"
START_TIMEOUT=90 # seconds for the host to compile the guests and print its table
TEST_TIMEOUT=170 # seconds for the whole browser run

die() { echo "browser-test: $*" >&2; exit 1; }
say() { echo "browser-test: $*" >&2; }

# --- Chromium (Debian's package).
if [ ! -x "$CHROMIUM" ]; then
    [ "$CHROMIUM" = /usr/bin/chromium ] || die "CHROMIUM=$CHROMIUM is not an executable"
    command -v apt-get >/dev/null 2>&1 || die "no $CHROMIUM and no apt-get to install it; set CHROMIUM to a Chromium binary"
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "installing chromium needs root or sudo"
        SUDO=(sudo)
    fi
    say "installing chromium with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${SUDO[@]}" apt-get install -y --no-install-recommends chromium; then
        "${SUDO[@]}" apt-get update
        "${SUDO[@]}" apt-get install -y --no-install-recommends chromium
    fi
    [ -x "$CHROMIUM" ] || die "apt-get installed chromium but $CHROMIUM is missing"
fi

# --- Node and playwright-core (npm ci again only when the lock file changes).
command -v node >/dev/null 2>&1 || die "node not found (Node.js >= 20 is needed)"
command -v npm >/dev/null 2>&1 || die "npm not found"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
    die "Node.js >= 20 is needed, found $(node --version)"
STAMP="$TEST_DIR/node_modules/.package-lock.sha256"
want="$(sha256sum "$TEST_DIR/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
    say "npm ci in tests/browser"
    (cd "$TEST_DIR" && npm ci --no-audit --no-fund --ignore-scripts)
    echo "$want" >"$STAMP"
fi

# --- Host and guests.
if [ -n "${LAMINA_BIN:-}" ]; then
    LAMINA="$LAMINA_BIN"
else
    LAMINA="$TARGET_DIR/debug/lamina"
    # A no-op when the binary is fresh; otherwise the UI under test is the current one.
    cargo build -p lamina --bin lamina --locked
fi
[ -x "$LAMINA" ] || die "host binary $LAMINA not found"
GUESTS="$TARGET_DIR/guests/wasm32-wasip2/release"
for g in hello_http echo counter io_wait order_workflow; do
    if [ ! -f "$GUESTS/$g.wasm" ]; then
        say "building the example guests"
        bash scripts/build-guests.sh >/dev/null
        break
    fi
done
# examples/lamina.toml also serves the Python order workflow (lamina build)...
LAMINA_CACHE_DIR="$TARGET_DIR" "$LAMINA" build examples/python/order-workflow \
    -o "$TARGET_DIR/guests/python/order_workflow.wasm" >&2
# ... and the JavaScript one (npm toolchain in $TARGET_DIR/js-guests/), so the
# script also runs alone, before tests/js has built it.
LAMINA_CACHE_DIR="$TARGET_DIR" "$LAMINA" build examples/js/order-workflow \
    -o "$TARGET_DIR/guests/js/order_workflow.wasm" >&2

# --- Start the host on a fresh state directory.
STATE="$(mktemp -d "${TMPDIR:-/tmp}/lamina-browser.XXXXXX")"
HOST_PID=""
cleanup() {
    local rc=$?
    if [ -n "$HOST_PID" ] && kill -0 "$HOST_PID" 2>/dev/null; then
        kill "$HOST_PID" 2>/dev/null || true
        wait "$HOST_PID" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] && [ -f "$STATE/host.err" ]; then
        echo "browser-test: last lines of the host's log:" >&2
        tail -n 30 "$STATE/host.err" >&2 || true
    fi
    rm -rf "$STATE"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_host DIR ARGS...: starts `lamina serve ARGS` with its output in DIR
# and waits for its banner; sets HOST_PID and URL.
start_host() {
    local dir="$1"
    shift
    "$LAMINA" serve "$@" --listen 127.0.0.1:0 --state-dir "$dir" \
        >"$dir/host.out" 2>"$dir/host.err" </dev/null &
    HOST_PID=$!
    for _ in $(seq $((START_TIMEOUT * 10))); do
        grep -q '^Metrics:' "$dir/host.out" 2>/dev/null && break
        kill -0 "$HOST_PID" 2>/dev/null || die "the host exited before it was ready"
        sleep 0.1
    done
    grep -q '^Metrics:' "$dir/host.out" || die "the host printed no Metrics: line within ${START_TIMEOUT} s"
    URL="$(sed -n 's/^Lamina .* listening on \(http:[^ ]*\).*/\1/p' "$dir/host.out" | head -n 1)"
}

start_host "$STATE" --config examples/lamina.toml
DASHBOARD="$(sed -n 's/^Dashboard: \(http:[^ ]*\).*/\1/p' "$STATE/host.out" | head -n 1)"
[ -n "$URL" ] || die "no URL in the host's banner"
[ "$DASHBOARD" = "$URL/ui" ] || die "the banner's Dashboard line is '$DASHBOARD', want '$URL/ui'"
say "host $URL (pid $HOST_PID), dashboard $DASHBOARD"

# --- The browser run.
start=$(date +%s)
LAMINA_URL="$URL" LAMINA_DASHBOARD="$DASHBOARD" CHROMIUM="$CHROMIUM" SCREENSHOT_DIR="$TARGET_DIR/browser" \
    timeout --kill-after=5 "$TEST_TIMEOUT" node "$TEST_DIR/demo.test.mjs"
say "passed in $(($(date +%s) - start)) s"

# --- Every page at 1400 px and 420 px: screenshots, words kept whole in table cells.
start=$(date +%s)
LAMINA_URL="$URL" CHROMIUM="$CHROMIUM" SCREENSHOT_DIR="$TARGET_DIR/browser" \
    timeout --kill-after=5 "$TEST_TIMEOUT" node "$TEST_DIR/pages.test.mjs"
say "pages passed in $(($(date +%s) - start)) s"

# --- The dashboard's login, on a second host with [auth].
kill "$HOST_PID" 2>/dev/null || true
wait "$HOST_PID" 2>/dev/null || true
AUTH="$STATE/auth"
mkdir -p "$AUTH"
cat >"$AUTH/lamina.toml" <<TOML
[auth]
access_keys = [{ id = "AKIABROWSERTEST", secret_env = "LAMINA_BROWSER_SECRET" }]

[functions.echo]
component = "$GUESTS/echo.wasm"
TOML
export LAMINA_BROWSER_SECRET="browser-test-secret-$RANDOM$RANDOM"
STATE_SAVED="$STATE"
STATE="$AUTH" # the cleanup prints this host's log on failure (and removes it)
start_host "$AUTH" --config "$AUTH/lamina.toml"
say "host with [auth] $URL (pid $HOST_PID)"
start=$(date +%s)
LAMINA_URL="$URL" LAMINA_KEY_ID=AKIABROWSERTEST LAMINA_SECRET="$LAMINA_BROWSER_SECRET" CHROMIUM="$CHROMIUM" \
    SCREENSHOT_DIR="$TARGET_DIR/browser" timeout --kill-after=5 60 node "$TEST_DIR/login.test.mjs"
say "login passed in $(($(date +%s) - start)) s"
STATE="$STATE_SAVED"
