#!/usr/bin/env bash
# The tests that need a real PostgreSQL: the journal test-suite and the lease
# tests on the PostgreSQL journal, then several hosts on one database (a host
# SIGKILLed mid-run, a database outage under load). Starts a throw-away
# cluster with scripts/postgres.sh (installing Debian's postgresql when
# missing) and deletes it afterwards.
#   bash scripts/test-postgres.sh
# LAMINA_SCALE_EXECUTIONS (default 300) sizes the multi-host test.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
bash scripts/postgres.sh bash -c '
  set -euo pipefail
  cargo test -p lamina --locked --lib journal::tests -- --include-ignored
  cargo test -p lamina --locked --test integration scale:: -- --include-ignored --test-threads 1 --nocapture
'
