#!/usr/bin/env bash
# boto3 against a host with [auth]: every API Lamina serves works with the
# configured key and answers 403 to a wrong secret, an unknown key id and an
# unsigned request. Uses the same Python environment as scripts/conformance.sh
# (boto3/botocore pinned in tests/conformance/requirements.txt).
#
#   tests/auth/run.sh          # needs `cargo build -p lamina` and the guests built
# Environment: LAMINA_TARGET_DIR (default <repo>/target), LAMINA_BIN.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET_DIR="${LAMINA_TARGET_DIR:-$REPO/target}"
VENV="$TARGET_DIR/pyenv"
REQUIREMENTS="$REPO/tests/conformance/requirements.txt"

die() { echo "auth test: $*" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || die "python3 not found"

# The venv, set up as scripts/conformance.sh does (same stamp, same lock).
stamp_value() {
    {
        cat "$REQUIREMENTS"
        python3 -c 'import sys; print(sys.version, sys.executable)'
    } | python3 -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'
}
STAMP="$VENV/.requirements.stamp"
want="$(stamp_value)"
mkdir -p "$TARGET_DIR"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$TARGET_DIR/pyenv.lock"
    flock 9
fi
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c '' 2>/dev/null ||
    [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
    echo "auth test: setting up $VENV" >&2
    python3 -m venv --clear "$VENV" || die "python3 -m venv failed"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" ||
        die "pip install -r $REQUIREMENTS failed"
    echo "$want" >"$STAMP"
fi
if command -v flock >/dev/null 2>&1; then exec 9>&-; fi

BIN="${LAMINA_BIN:-$TARGET_DIR/debug/lamina}"
GUESTS="$TARGET_DIR/guests/wasm32-wasip2/release"
[ -x "$BIN" ] || die "no host binary at $BIN (cargo build -p lamina)"
for g in echo durable_cases; do
    [ -f "$GUESTS/$g.wasm" ] || die "no guest $GUESTS/$g.wasm (scripts/build-guests.sh)"
done
exec "$VENV/bin/python" "$REPO/tests/auth/boto3_auth.py" --bin "$BIN" --guests "$GUESTS" \
    --cache-dir "$TARGET_DIR/test-cache"
