#!/usr/bin/env bash
# Python guests: unit tests of the SDK's replay core (pytest, plain CPython),
# then the end-to-end check of the Python order workflow and handler on the
# real host through boto3 (tests/python/e2e.py), then `lamina new`/`lamina build`
# projects served as-is (tests/python/new_project.py).
#
#   tests/python/run.sh                # both
#   tests/python/run.sh --unit         # only the pytest unit tests (no host, no build)
#   tests/python/run.sh --conformance  # the conformance cases against the Python fixture
#                                      # (examples/python/durable-cases); needs the Rust echo
#                                      # guest (scripts/build-guests.sh); extra args go to run.py
#
# Needs the host built (cargo build -p lamina); builds the Python guests with
# `lamina build` (--conformance: scripts/build-python-guests.sh), and checks
# `lamina new --lang python` projects (tests/python/new_project.py). Environment: LAMINA_TARGET_DIR (default
# <repo>/target), LAMINA_BIN (default $LAMINA_TARGET_DIR/debug/lamina).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET_DIR="${LAMINA_TARGET_DIR:-$REPO/target}"
ENV_DIR="$TARGET_DIR/python-guests/testenv"
REQUIREMENTS="$REPO/tests/python/requirements.txt"

die() { echo "tests/python: $*" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || die "python3 not found"

mkdir -p "$TARGET_DIR/python-guests"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$TARGET_DIR/python-guests/testenv.lock"
    flock 9
fi
want="$(cat "$REQUIREMENTS"; python3 --version)"
if [ ! -x "$ENV_DIR/bin/python" ] || [ "$(cat "$ENV_DIR/.stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "tests/python: setting up $ENV_DIR" >&2
    python3 -m venv --clear "$ENV_DIR" || die "python3 -m venv failed"
    "$ENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" ||
        die "pip install -r $REQUIREMENTS failed"
    printf '%s' "$want" >"$ENV_DIR/.stamp"
fi
if command -v flock >/dev/null 2>&1; then exec 9>&-; fi
PY="$ENV_DIR/bin/python"

LAMINA="${LAMINA_BIN:-$TARGET_DIR/debug/lamina}"
if [ "${1:-}" = "--conformance" ]; then
    shift
    bash "$REPO/scripts/build-python-guests.sh" "$REPO/examples/python/durable-cases"
    ECHO="$TARGET_DIR/guests/wasm32-wasip2/release/echo.wasm"
    [ -f "$ECHO" ] || die "$ECHO not found; build it with: scripts/build-guests.sh"
    LAMINA_CONFORMANCE_GUEST="$TARGET_DIR/guests/python/durable_cases.wasm" \
        exec bash "$REPO/scripts/conformance.sh" --echo-component "$ECHO" "$@"
fi

# Unit tests: the replay core against the in-memory journal.
(cd "$REPO/guest-sdk/python" && PYTHONDONTWRITEBYTECODE=1 "$PY" -m pytest -q -p no:cacheprovider tests)
[ "${1:-}" = "--unit" ] && exit 0

[ -x "$LAMINA" ] || die "host binary $LAMINA not found; build it with: cargo build -p lamina (or set LAMINA_BIN)"
# `lamina build` (the SDK and build script embedded in the binary) makes the
# guests the end-to-end check runs; its componentize-py venv is the one under
# $TARGET_DIR/python-guests/, shared with scripts/build-python-guests.sh.
export LAMINA_CACHE_DIR="$TARGET_DIR"
"$LAMINA" build "$REPO/examples/python/order-workflow" -o "$TARGET_DIR/guests/python/order_workflow.wasm"
"$LAMINA" build "$REPO/examples/python/hello-handler" -o "$TARGET_DIR/guests/python/hello_handler.wasm"
PYTHONDONTWRITEBYTECODE=1 "$PY" "$REPO/tests/python/e2e.py" --lamina "$LAMINA" \
    --guests "$TARGET_DIR/guests/python" --cache-dir "$TARGET_DIR/python-guests/cache"
# `lamina new --lang python` projects (handler, durable) build and serve as-is;
# `lamina build`'s errors (syntax, no handler, a native dependency).
# `lamina bench` on the Python order workflow (instantiate and replay).
PYTHONDONTWRITEBYTECODE=1 exec "$PY" "$REPO/tests/python/new_project.py" --lamina "$LAMINA" \
    --cache-dir "$TARGET_DIR/python-guests/cache" \
    --order-workflow "$TARGET_DIR/guests/python/order_workflow.wasm"
