#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the project needs
# (the wasm32-wasip2 target), builds the example guests, checks formatting and
# lints, then runs every test against the real `lamina` binary, the durable
# conformance cases, and the dashboard's order demo in a real browser.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

step() { printf '\n== %s ==\n' "$*"; }

step "toolchain"
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

step "guests"
bash scripts/build-guests.sh

step "format"
cargo fmt --all -- --check
cargo fmt --all --manifest-path examples/Cargo.toml -- --check

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
CARGO_TARGET_DIR="${LAMINA_TARGET_DIR:-$REPO/target}/guests" \
  cargo clippy --manifest-path examples/Cargo.toml --workspace --release --target wasm32-wasip2 --locked -- -D warnings

step "tests"
cargo test --workspace --locked
# The guest SDK's own tests (replay logic against an in-memory journal) run
# on the host target.
CARGO_TARGET_DIR="${LAMINA_TARGET_DIR:-$REPO/target}/guests" \
  cargo test --manifest-path examples/Cargo.toml -p lamina-sdk --locked

step "PostgreSQL: journal suite and several hosts on one database"
# A throw-away cluster (Debian's postgresql, installed when missing); the
# journal test-suite on it, 3 hosts with one SIGKILLed, a database outage.
bash scripts/test-postgres.sh

step "durable conformance"
# The cases in ../shared/conformance through the AWS API with boto3 (the
# debug host binary was built by the tests above).
bash scripts/conformance.sh

step "auth with boto3"
# boto3 against a host with [auth]: every API works with the configured key,
# every call gets 403 with a wrong secret, an unknown key or no signature.
bash tests/auth/run.sh

step "control plane with boto3"
# Deploy, versions, weighted aliases, bad code, swaps under load, durable
# executions pinned to their code and the replay check, through boto3.
bash tests/deploy/run.sh

step "python guests"
# The Python SDK's unit tests (pytest), then the Python order workflow and a
# Python handler built with componentize-py and driven through boto3 on the
# real host, then every conformance case against the Python fixture.
bash tests/python/run.sh
bash tests/python/run.sh --conformance

step "javascript guests"
# The JS SDK's unit tests (node --test), the JS order workflow and handler
# built with esbuild + ComponentizeJS and driven through boto3, `lamina new
# --lang js|ts` projects, then every conformance case against the JS fixture.
bash tests/js/run.sh
bash tests/js/run.sh --conformance

step "browser"
# The dashboard's order demo clicked through in headless Chromium (installs
# the chromium package and playwright-core when missing; screenshots in
# target/browser).
bash scripts/browser-test.sh

step "quick start"
# The README's quick-start commands, verbatim, with the AWS CLI v1 from PyPI.
bash tests/quickstart/run.sh
