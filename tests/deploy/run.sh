#!/usr/bin/env bash
# The Lambda control plane with the real boto3 client: create, update,
# versions, aliases (weighted), bad code, delete, a load loop across code
# updates and a durable execution pinned to its code across an update and
# a restart. Uses the same Python environment as scripts/conformance.sh
# (boto3/botocore pinned in tests/conformance/requirements.txt).
#
#   tests/deploy/run.sh          # needs `cargo build -p lamina` and the guests built
# Environment: LAMINA_TARGET_DIR (default <repo>/target), LAMINA_BIN.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET_DIR="${LAMINA_TARGET_DIR:-$REPO/target}"
VENV="$TARGET_DIR/pyenv"
REQUIREMENTS="$REPO/tests/conformance/requirements.txt"

die() { echo "deploy test: $*" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || die "python3 not found"

. "$REPO/scripts/pyenv.sh"
pyenv_ensure "$VENV" "$REQUIREMENTS" "deploy test" || exit 1

BIN="${LAMINA_BIN:-$TARGET_DIR/debug/lamina}"
GUESTS="$TARGET_DIR/guests/wasm32-wasip2/release"
[ -x "$BIN" ] || die "no host binary at $BIN (cargo build -p lamina)"
for g in echo faults durable_cases; do
    [ -f "$GUESTS/$g.wasm" ] || die "no guest $GUESTS/$g.wasm (scripts/build-guests.sh)"
done
exec "$PY" "$REPO/tests/deploy/boto3_deploy.py" --bin "$BIN" --guests "$GUESTS" \
    --cache-dir "$TARGET_DIR/test-cache"
