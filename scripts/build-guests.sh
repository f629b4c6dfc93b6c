#!/usr/bin/env bash
# Builds the example and fixture guest components (examples/ workspace) for
# wasm32-wasip2 and prints the paths of the resulting .wasm files.
#
# Output goes to "${LAMINA_TARGET_DIR:-<repo>/target}/guests"; extra arguments
# are passed to `cargo build` (e.g. `-p echo`).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET=wasm32-wasip2
PROFILE=release

if ! rustup target list --installed | grep -qx "$TARGET"; then
    echo "installing Rust target $TARGET" >&2
    rustup target add "$TARGET"
fi

export CARGO_TARGET_DIR="${LAMINA_TARGET_DIR:-$REPO/target}/guests"

cargo build --release --locked --target "$TARGET" \
    --manifest-path "$REPO/examples/Cargo.toml" "$@"

out="$CARGO_TARGET_DIR/$TARGET/$PROFILE"
shopt -s nullglob
wasms=("$out"/*.wasm)
if [ "${#wasms[@]}" -eq 0 ]; then
    echo "error: no .wasm files in $out" >&2
    exit 1
fi
for wasm in "${wasms[@]}"; do
    echo "$wasm"
done
