#!/usr/bin/env bash
# Runs every fuzz target at length and prints how many inputs each tried.
#
#   scripts/fuzz.sh                 # 10 minutes in all
#   scripts/fuzz.sh --minutes 30    # 30 minutes, shared between the targets
#   scripts/fuzz.sh --cases 100000  # a fixed number of inputs per target
#
# The targets (see docs/testing.md): the API's request parsing and the
# journal's batch application (`fuzz_tests` modules in host/src, proptest),
# and random malformed requests to the real host
# (tests/integration/fuzz_http.rs). In the normal `cargo test` each runs a
# small default number of inputs; here LAMINA_FUZZ_SECONDS (time per
# target) or LAMINA_FUZZ_CASES (inputs per target) raise it. Exits non-zero
# if a target failed; its output says the (shrunk) failing input.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

minutes=10
cases=""
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --cases) cases="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--minutes M | --cases N]" >&2; exit 2 ;;
  esac
done

cargo test -p lamina --lib --test integration --no-run --quiet 2>/dev/null ||
  cargo test -p lamina --lib --test integration --no-run

lib_targets=$(cargo test -q -p lamina --lib fuzz_tests -- --list 2>/dev/null |
  sed -n 's/^\(.*fuzz_tests::fuzz_[a-z_]*\): test$/\1/p')
targets=()
for t in $lib_targets; do targets+=("lib $t"); done
targets+=("integration fuzz_http::random_malformed_requests_get_no_5xx_and_leave_the_host_serving")

if [ -n "$cases" ]; then
  export LAMINA_FUZZ_CASES="$cases"
  echo "fuzzing ${#targets[@]} targets, $cases inputs each"
else
  per=$(( minutes * 60 / ${#targets[@]} ))
  [ "$per" -ge 1 ] || per=1
  export LAMINA_FUZZ_SECONDS="$per"
  echo "fuzzing ${#targets[@]} targets for $minutes min ($per s each)"
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
failed=0
for entry in "${targets[@]}"; do
  kind="${entry%% *}"
  name="${entry#* }"
  if [ "$kind" = lib ]; then
    args=(--lib)
  else
    args=(--test integration)
  fi
  if ! RUST_BACKTRACE=0 cargo test -q -p lamina "${args[@]}" "$name" -- --exact --nocapture \
      --test-threads=1 >"$log" 2>&1; then
    failed=$((failed + 1))
    echo "---- $name FAILED:"
    grep -E "minimal failing input|failed after|kinds of request|^fuzz http-requests: [0-9]+ x" -A3 "$log" |
      cut -c1-400 | head -40 || tail -20 "$log"
  fi
  grep -E '^fuzz [a-z-]+: [0-9]+ inputs tried' "$log" || echo "fuzz $name: no count (see above)"
done
echo
if [ "$failed" -gt 0 ]; then
  echo "$failed target(s) failed"
  exit 1
fi
echo "all targets passed"
