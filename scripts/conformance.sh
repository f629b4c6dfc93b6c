#!/usr/bin/env bash
# Durable-execution conformance: runs the language-neutral conformance cases
# against a real `lamina serve` through the boto3 Lambda client.
#
#   scripts/conformance.sh                         # every suite (the default)
#   scripts/conformance.sh --suites all            # every suite
#   scripts/conformance.sh --only 1-1,4-10 -v      # some cases; dump failed histories
#   scripts/conformance.sh --self-test             # the runner's own tests, no host
#
# Needs the host and the guest built first:
#   cargo build -p lamina && scripts/build-guests.sh
# Environment:
#   LAMINA_TARGET_DIR        build output (default <repo>/target); the venv lives in its pyenv/
#   LAMINA_BIN               host binary (default $LAMINA_TARGET_DIR/debug/lamina)
#   LAMINA_CONFORMANCE_GUEST guest component (default .../guests/wasm32-wasip2/release/durable_cases.wasm)
#   LAMINA_CONFORMANCE_DIR   case directory (default <repo>/../shared/conformance, then /work/shared/conformance)
# Extra arguments go to tests/conformance/run.py (see its --help).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${LAMINA_TARGET_DIR:-$REPO/target}"
VENV="$TARGET_DIR/pyenv"
REQUIREMENTS="$REPO/tests/conformance/requirements.txt"
RUNNER="$REPO/tests/conformance/run.py"

die() { echo "conformance: $*" >&2; exit 1; }

command -v python3 >/dev/null 2>&1 || die "python3 not found (Python >= 3.11 is needed)"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "Python >= 3.11 is needed, found $(python3 --version 2>&1)"

# --- Python environment: recreated when the requirements or python3 change.
. "$REPO/scripts/pyenv.sh"
pyenv_ensure "$VENV" "$REQUIREMENTS" conformance || exit 1

# --- Case files: never skipped silently.
CASES=""
if [ -n "${LAMINA_CONFORMANCE_DIR:-}" ]; then
    [ -d "$LAMINA_CONFORMANCE_DIR" ] || die "LAMINA_CONFORMANCE_DIR=$LAMINA_CONFORMANCE_DIR is not a directory"
    CASES="$(cd "$LAMINA_CONFORMANCE_DIR" && pwd)"
elif [ -d "$REPO/../shared/conformance" ]; then
    CASES="$(cd "$REPO/../shared/conformance" && pwd)"
elif [ -d /work/shared/conformance ]; then
    CASES=/work/shared/conformance
fi

# --- The runner's own tests need no host (and check the case files if found).
for arg in "$@"; do
    if [ "$arg" = "--self-test" ]; then
        if [ -n "$CASES" ]; then export LAMINA_CONFORMANCE_DIR="$CASES"; fi
        exec "$PY" "$RUNNER" --self-test
    fi
done

[ -n "$CASES" ] ||
    die "no conformance cases found: set LAMINA_CONFORMANCE_DIR, or put them in $REPO/../shared/conformance or /work/shared/conformance"

# --- Host and guest.
LAMINA="${LAMINA_BIN:-$TARGET_DIR/debug/lamina}"
GUEST="${LAMINA_CONFORMANCE_GUEST:-$TARGET_DIR/guests/wasm32-wasip2/release/durable_cases.wasm}"
[ -x "$LAMINA" ] || die "host binary $LAMINA not found; build it with: cargo build -p lamina (or set LAMINA_BIN)"
[ -f "$GUEST" ] || die "guest $GUEST not found; build it with: scripts/build-guests.sh (or set LAMINA_CONFORMANCE_GUEST)"

exec "$PY" "$RUNNER" --cases "$CASES" --lamina "$LAMINA" --component "$GUEST" "$@"
