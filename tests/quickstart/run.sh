#!/usr/bin/env bash
# The README's quick start, verbatim: the commands between the
# `<!-- quickstart:begin -->` and `<!-- quickstart:end -->` markers of
# README.md are extracted (so this test breaks when the README changes) and
# run one by one in a fresh shell (`env -i`, only PATH and HOME; the AWS CLI
# v1 from PyPI on the PATH) against the demo host started as the README's
# step 1 says, `./scripts/demo.sh` (with a fresh state directory). Every
# command must succeed; at the end the order the commands started must have
# SUCCEEDED with its payment approved.
#
# The README's URLs say 127.0.0.1:8080: the host and the commands run in a
# network namespace of their own (`unshare -rn`), where that port is free
# whatever runs on the machine. Without unshare, port 8080 must be free.
#
# Needs what `./scripts/demo.sh` needs (cargo, python3 with venv, node with
# npm), plus curl. Builds run before entering the namespace (with network);
# the AWS CLI is installed into ${LAMINA_TARGET_DIR:-target}/quickstart/venv.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET_DIR="${LAMINA_TARGET_DIR:-$REPO/target}"
WORK="$TARGET_DIR/quickstart"
VENV="$WORK/venv"
START_TIMEOUT=300 # seconds for the demo host to print its table

die() { echo "quickstart: $*" >&2; exit 1; }
say() { echo "quickstart: $*" >&2; }

# The commands: the ```sh block between the markers, comment lines dropped,
# continuation lines joined, one command per line of the output.
extract() {
    python3 - "$REPO/README.md" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"<!-- quickstart:begin[^>]*-->\s*```sh\n(.*?)```\s*<!-- quickstart:end -->", text, re.S)
if not m:
    sys.exit("README.md has no ```sh block between <!-- quickstart:begin --> and <!-- quickstart:end -->")
cmd = ""
for line in m.group(1).splitlines():
    if not cmd and (not line.strip() or line.lstrip().startswith("#")):
        continue
    if line.endswith("\\"):
        cmd += line[:-1]
        continue
    print(cmd + line)
    cmd = ""
if cmd:
    print(cmd)
PY
}

if [ "${1:-}" != "--inside" ]; then
    command -v curl >/dev/null 2>&1 || die "curl not found"
    extract >/dev/null || die "cannot extract the quick start from README.md"
    . "$REPO/scripts/pyenv.sh"
    pyenv_ensure "$VENV" "$REPO/tests/quickstart/requirements.txt" quickstart || exit 1
    "$VENV/bin/aws" --version >&2
    # Everything the demo builds (host, guests, the Python and JavaScript
    # order workflows), while the network is there for first-time installs.
    say "building what the demo serves (scripts/demo.sh with LAMINA_DEMO_BUILD_ONLY=1)"
    LAMINA_DEMO_BUILD_ONLY=1 bash "$REPO/scripts/demo.sh" >&2
    if command -v unshare >/dev/null 2>&1 && unshare -rn true 2>/dev/null; then
        exec unshare -rn bash "$0" --inside
    fi
    say "unshare -rn is not available: using the machine's port 8080"
    if curl -s -o /dev/null --max-time 2 http://127.0.0.1:8080/; then
        die "port 8080 is in use: the README's commands need it"
    fi
    exec bash "$0" --inside
fi

# --- In the namespace (or not): a loopback of our own.
if command -v ip >/dev/null 2>&1; then ip link set lo up 2>/dev/null || true; fi
rm -rf "$WORK/state" "$WORK/cwd"
mkdir -p "$WORK/state" "$WORK/cwd"
HOST_LOG="$WORK/host.log"
say "starting the demo host: ./scripts/demo.sh --state-dir $WORK/state (log: $HOST_LOG)"
(cd "$REPO" && exec ./scripts/demo.sh --state-dir "$WORK/state") >"$HOST_LOG" 2>&1 &
HOST_PID=$!
cleanup() { kill "$HOST_PID" 2>/dev/null || true; wait "$HOST_PID" 2>/dev/null || true; }
trap cleanup EXIT
deadline=$((SECONDS + START_TIMEOUT))
until grep -q '^Metrics:' "$HOST_LOG" 2>/dev/null; do
    kill -0 "$HOST_PID" 2>/dev/null || { cat "$HOST_LOG" >&2; die "the demo host exited"; }
    [ "$SECONDS" -lt "$deadline" ] || { cat "$HOST_LOG" >&2; die "the demo host did not start in ${START_TIMEOUT} s"; }
    sleep 0.5
done
grep -q 'listening on http://127.0.0.1:8080' "$HOST_LOG" || { cat "$HOST_LOG" >&2; die "the demo host is not on 127.0.0.1:8080"; }

# One shell runs every command (a variable set by one is used by the next),
# each wrapped so its exit status is recorded; the commands run from a
# directory inside the repository (cargo finds the workspace from there).
SCRIPT="$WORK/commands.sh"
{
    echo 'failed=0; n=0'
    echo 'step() { n=$((n + 1)); echo; echo "--- [$n] $1"; }'
    echo 'check() { if [ "$1" -eq 0 ]; then echo "ok [$n]"; else echo "FAILED [$n] (exit $1)"; failed=$((failed + 1)); fi; }'
    while IFS= read -r cmd; do
        printf 'step %q\n' "$cmd"
        printf '%s\n' "$cmd"
        echo 'check $?'
    done < <(extract)
    # The order the commands started: approved and fulfilled.
    cat <<'SH'
step "the order ran to the end"
status=""
for _ in $(seq 100); do
    status=$(curl -s "http://127.0.0.1:8080/2025-12-01/durable-executions/$(printf %s "$ARN" | sed 's/:/%3A/g')" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); print(d.get("Status", ""), json.loads(d.get("Result") or "{}").get("status", ""))' || true)
    case "$status" in RUNNING*|"") sleep 0.2 ;; *) break ;; esac
done
echo "execution: $status"
[ "$status" = "SUCCEEDED fulfilled" ]
check $?
echo
echo "quick start: $n commands, $failed failed"
exit "$failed"
SH
} >"$SCRIPT"

say "running the README's quick-start commands in a fresh shell"
set +e
(cd "$WORK/cwd" && env -i HOME="$HOME" PATH="$VENV/bin:$PATH" ${CARGO_HOME:+CARGO_HOME="$CARGO_HOME"} \
    ${RUSTUP_HOME:+RUSTUP_HOME="$RUSTUP_HOME"} bash --noprofile --norc "$SCRIPT")
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    echo "--- host log (last 40 lines)" >&2
    tail -n 40 "$HOST_LOG" >&2
    die "$rc quick-start command(s) failed"
fi
say "all quick-start commands succeeded"
