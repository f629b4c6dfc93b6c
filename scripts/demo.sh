#!/usr/bin/env bash
# Builds the example guests and the host, then serves the examples on
# 127.0.0.1 with the embedded state under ./.lamina (prints the URL).
# Extra arguments go to `lamina serve`, e.g. `--listen 127.0.0.1:9000`.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
bash scripts/build-guests.sh >/dev/null
cargo build --locked -p lamina --bin lamina
exec "${LAMINA_TARGET_DIR:-$REPO/target}/debug/lamina" serve --config examples/lamina.toml "$@"
