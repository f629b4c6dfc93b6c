#!/usr/bin/env bash
# The demo, from a clean clone: builds the example guests and the host, then
# serves examples/lamina.toml on 127.0.0.1:8080 with durable executions
# journaled in ./.lamina/journal.redb (redb, embedded in the host: nothing
# else to install or start). The banner prints the dashboard URL
# (http://127.0.0.1:8080/ui): open it, choose "Order demo", pick the Rust or
# the Python or the JavaScript workflow, click "Start new order", then "Approve payment" or
# "Decline payment". Needs python3 (with venv) for the Python guest and node (with npm)
# for the JavaScript one. Ctrl-C stops the host;
# executions survive restarts.
# Extra arguments go to `lamina serve`, e.g. `--listen 127.0.0.1:9000`.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
echo "demo: building the example guests" >&2
bash scripts/build-guests.sh >/dev/null
echo "demo: building the host" >&2
cargo build --locked -p lamina --bin lamina
LAMINA="${LAMINA_TARGET_DIR:-$REPO/target}/debug/lamina"
# The Python order workflow, with `lamina build` (componentize-py is installed
# into target/python-guests/ on first use: about a minute, needs python3).
echo "demo: building the Python order workflow (lamina build; the first time installs componentize-py)" >&2
LAMINA_CACHE_DIR="${LAMINA_TARGET_DIR:-$REPO/target}" "$LAMINA" build examples/python/order-workflow \
    -o "${LAMINA_TARGET_DIR:-$REPO/target}/guests/python/order_workflow.wasm" >&2
# The JavaScript order workflow, with `lamina build` (esbuild and ComponentizeJS
# are installed into target/js-guests/ from npm on first use: about a minute, needs node).
echo "demo: building the JavaScript order workflow (lamina build; the first time installs the npm toolchain)" >&2
LAMINA_CACHE_DIR="${LAMINA_TARGET_DIR:-$REPO/target}" "$LAMINA" build examples/js/order-workflow \
    -o "${LAMINA_TARGET_DIR:-$REPO/target}/guests/js/order_workflow.wasm" >&2
# For scripts that build first and serve later (tests/quickstart/run.sh).
if [ "${LAMINA_DEMO_BUILD_ONLY:-}" = 1 ]; then
    echo "demo: built (LAMINA_DEMO_BUILD_ONLY=1: not serving)" >&2
    exit 0
fi
echo "demo: serving; open the Dashboard URL below and choose \"Order demo\" (Ctrl-C stops)" >&2
exec "$LAMINA" serve --config examples/lamina.toml "$@"
