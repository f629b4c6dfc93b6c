#!/usr/bin/env bash
# The random kill -9 campaign at length: one host on one journal, executions
# of the `chaos` durable workflow (at-most-once steps recording their effects,
# a wait, a callback), the host SIGKILLed at random moments and restarted on
# the same journal and port. Prints `lost=N duplicated=N stuck=N failed=N`
# and fails unless all are zero (see docs/testing.md).
#
#   scripts/chaos.sh                                  # 100 executions, 10 kills
#   scripts/chaos.sh --executions 300 --kills 30 --seed 42
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

executions=100
kills=10
seed=""
while [ $# -gt 0 ]; do
  case "$1" in
    --executions) executions="$2"; shift 2 ;;
    --kills) kills="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--executions N] [--kills K] [--seed S]" >&2; exit 2 ;;
  esac
done

export LAMINA_CHAOS_EXECUTIONS="$executions" LAMINA_CHAOS_KILLS="$kills"
[ -z "$seed" ] || export LAMINA_CHAOS_SEED="$seed"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
RUST_BACKTRACE=0 cargo test -p lamina --test integration \
  chaos::random_kill_campaign_loses_duplicates_and_strands_nothing -- --exact --nocapture \
  >"$log" 2>&1 || status=$?
grep -E '^chaos: ' "$log" || tail -40 "$log"
exit "$status"
