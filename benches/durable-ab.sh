#!/usr/bin/env bash
# Compares the durable criterion benches (benches/durable.rs) of BASE_REV and
# of the working tree in the same run: builds BASE_REV in a git worktree
# (sharing this checkout's target directory, so only lamina itself is built
# twice), then runs the two bench binaries alternately, base first, ROUNDS
# times, and prints each bench's median time per side and the ratio
# head / base (below 1.00: the working tree is faster).
#
#   bash benches/durable-ab.sh BASE_REV            # e.g. 0949db9
#   ROUNDS=5 BENCH_ARGS="--warm-up-time 1 --measurement-time 5" bash benches/durable-ab.sh 0949db9
#
# Each side uses the guests built from its own sources (the base's go to
# target/ab-base/guests). The worktree is left in target/ab-base/src for the
# next run (`git worktree remove` it when done).
set -euo pipefail

BASE_REV="${1:?usage: benches/durable-ab.sh BASE_REV}"
ROUNDS="${ROUNDS:-3}"
BENCH_ARGS="${BENCH_ARGS:---warm-up-time 1 --measurement-time 4}"
FILTER="${FILTER:-}"

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
AB="$TARGET/ab-base"
BASE_SRC="$AB/src"
OUT="$AB/runs"
mkdir -p "$AB" "$OUT"

if [ -d "$BASE_SRC" ]; then
    git -C "$BASE_SRC" checkout --quiet --detach "$BASE_REV"
else
    git -C "$REPO" worktree add --quiet --detach "$BASE_SRC" "$BASE_REV"
fi
# Warm start for the base's guests: same toolchain and dependencies.
if [ ! -d "$AB/guests" ] && [ -d "$TARGET/guests" ]; then
    cp -r "$TARGET/guests" "$AB/guests"
fi

# Builds the durable bench of the checkout in $1 and prints its executable.
bench_exe() {
    (cd "$1" && CARGO_TARGET_DIR="$TARGET" cargo bench -p lamina --bench durable --no-run \
        --message-format=json 2>/dev/null) |
        python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "durable" and m.get("executable"):
        print(m["executable"])
'
}

echo "building the base ($BASE_REV) and the head benches" >&2
BASE_EXE="$(bench_exe "$BASE_SRC")"
HEAD_EXE="$(bench_exe "$REPO")"
[ -n "$BASE_EXE" ] && [ -n "$HEAD_EXE" ] || {
    echo "error: a bench failed to build (run cargo bench --no-run to see why)" >&2
    exit 1
}
# The bench binaries build their guests on first use; do it before timing.
LAMINA_TARGET_DIR="$AB" bash "$BASE_SRC/scripts/build-guests.sh" >/dev/null
bash "$REPO/scripts/build-guests.sh" >/dev/null

rm -f "$OUT"/*.txt
for round in $(seq 1 "$ROUNDS"); do
    for side in base head; do
        echo "round $round: $side" >&2
        if [ "$side" = base ]; then
            # shellcheck disable=SC2086
            (cd "$BASE_SRC/host" && LAMINA_TARGET_DIR="$AB" CRITERION_HOME="$AB/criterion-base" \
                "$BASE_EXE" --bench $BENCH_ARGS $FILTER) >"$OUT/$side-$round.txt"
        else
            # shellcheck disable=SC2086
            (cd "$REPO/host" && CRITERION_HOME="$AB/criterion-head" \
                "$HEAD_EXE" --bench $BENCH_ARGS $FILTER) >"$OUT/$side-$round.txt"
        fi
    done
done

python3 - "$OUT" "$ROUNDS" <<'EOF'
import re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
unit = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
pat = re.compile(r"^(\S+)\s*\n?\s*time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", re.M)
times = {}
for side in ("base", "head"):
    for r in range(1, rounds + 1):
        text = open(f"{out}/{side}-{r}.txt").read()
        for name, value, u in pat.findall(text):
            times.setdefault(name, {}).setdefault(side, []).append(float(value) * unit[u])
print(f"{'bench':34} {'base':>10} {'head':>10} {'head/base':>9}   per round")
for name, t in times.items():
    if "base" not in t or "head" not in t:
        continue
    b, h = statistics.median(t["base"]), statistics.median(t["head"])
    rounds_ratio = " ".join(f"{x / y:.2f}" for x, y in zip(t["head"], t["base"]))
    fmt = lambda s: f"{s * 1e3:.3f}ms"
    print(f"{name:34} {fmt(b):>10} {fmt(h):>10} {h / b:9.3f}   {rounds_ratio}")
EOF
