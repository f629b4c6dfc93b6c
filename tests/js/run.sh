#!/usr/bin/env bash
# JavaScript guests: unit tests of lamina-sdk's replay core (node --test, no
# host), then the JavaScript order workflow and handler end to end on the real
# host through boto3 (tests/js/e2e.py), then `lamina new --lang js|ts`
# projects built and served as-is, `lamina build` errors and `lamina bench`
# on the JS order workflow (tests/js/new_project.py).
#
#   tests/js/run.sh                # all of it
#   tests/js/run.sh --unit         # only the node --test unit tests (no host, no build)
#   tests/js/run.sh --conformance  # the conformance cases against the JS fixture
#                                  # (examples/js/durable-cases); needs the Rust echo guest
#                                  # (scripts/build-guests.sh); extra args go to run.py
#
# Needs node (>= 18, with npm) and the host built (cargo build -p lamina).
# Guests are built with `lamina build` into $LAMINA_TARGET_DIR/guests/js/; an
# unchanged guest is not rebuilt (a digest of its bundle is kept beside it),
# and the npm toolchain is installed once into $LAMINA_TARGET_DIR/js-guests/.
# Environment: LAMINA_TARGET_DIR (default <repo>/target), LAMINA_BIN (default
# $LAMINA_TARGET_DIR/debug/lamina).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET_DIR="${LAMINA_TARGET_DIR:-$REPO/target}"
GUESTS="$TARGET_DIR/guests/js"

die() { echo "tests/js: $*" >&2; exit 1; }
command -v node >/dev/null 2>&1 || die "node not found (Node.js >= 18 with npm is needed)"

# Unit tests: the replay core against the in-memory journal.
if [ "${1:-}" != "--conformance" ]; then
    node --test "$REPO/guest-sdk/js/test/"
    [ "${1:-}" = "--unit" ] && exit 0
fi

LAMINA="${LAMINA_BIN:-$TARGET_DIR/debug/lamina}"
[ -x "$LAMINA" ] || die "host binary $LAMINA not found; build it with: cargo build -p lamina (or set LAMINA_BIN)"
# `lamina build` with the SDK and build tool embedded in the binary; its npm
# toolchain lives in $TARGET_DIR/js-guests/ (LAMINA_CACHE_DIR/js-guests).
export LAMINA_CACHE_DIR="$TARGET_DIR"

. "$REPO/scripts/pyenv.sh"
pyenv_ensure "$TARGET_DIR/pyenv" "$REPO/tests/conformance/requirements.txt" tests/js || exit 1

if [ "${1:-}" = "--conformance" ]; then
    shift
    "$LAMINA" build "$REPO/examples/js/durable-cases" -o "$GUESTS/durable_cases.wasm"
    ECHO="$TARGET_DIR/guests/wasm32-wasip2/release/echo.wasm"
    [ -f "$ECHO" ] || die "$ECHO not found; build it with: scripts/build-guests.sh"
    LAMINA_CONFORMANCE_GUEST="$GUESTS/durable_cases.wasm" \
        exec bash "$REPO/scripts/conformance.sh" --echo-component "$ECHO" "$@"
fi

"$LAMINA" build "$REPO/examples/js/order-workflow" -o "$GUESTS/order_workflow.wasm"
"$LAMINA" build "$REPO/examples/js/hello-handler" -o "$GUESTS/hello_handler.wasm"
PYTHONDONTWRITEBYTECODE=1 "$PY" "$REPO/tests/js/e2e.py" --lamina "$LAMINA" \
    --guests "$GUESTS" --cache-dir "$TARGET_DIR/js-guests/cache"
PYTHONDONTWRITEBYTECODE=1 exec "$PY" "$REPO/tests/js/new_project.py" --lamina "$LAMINA" \
    --cache-dir "$TARGET_DIR/js-guests/cache" --order-workflow "$GUESTS/order_workflow.wasm"
