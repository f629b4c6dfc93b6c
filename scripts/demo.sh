#!/usr/bin/env bash
# The demo, from a clean clone: builds the example guests and the host, then
# serves examples/lamina.toml on 127.0.0.1:8080 with durable executions
# journaled in ./.lamina/journal.redb (redb, embedded in the host: nothing
# else to install or start). The banner prints the dashboard URL
# (http://127.0.0.1:8080/ui): open it, choose "Order demo", click "Start new
# order", then "Approve payment" or "Decline payment". Ctrl-C stops the host;
# executions survive restarts.
# Extra arguments go to `lamina serve`, e.g. `--listen 127.0.0.1:9000`.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
echo "demo: building the example guests" >&2
bash scripts/build-guests.sh >/dev/null
echo "demo: building the host" >&2
cargo build --locked -p lamina --bin lamina
echo "demo: serving; open the Dashboard URL below and choose \"Order demo\" (Ctrl-C stops)" >&2
exec "${LAMINA_TARGET_DIR:-$REPO/target}/debug/lamina" serve --config examples/lamina.toml "$@"
