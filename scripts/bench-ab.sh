#!/usr/bin/env bash
# Before/after throughput of two Strata binaries (a change to the per-command path):
#
#   scripts/bench-ab.sh BEFORE_BINARY AFTER_BINARY [ROUNDS]
#
# Builds nothing: give it two release builds (e.g. one from `git worktree add` of the base
# commit). Each round starts each binary in turn (A B A B ...) on a free loopback port with a
# fresh data directory and the default configuration (an older binary may not know today's
# conf/strata.conf), runs redis-benchmark SET and GET at 50 clients with
# pipeline 1 and 16 (200,000 requests, 100,000 random keys, 64-byte values), and stops it. Prints
# the median requests/second of each binary and the after/before ratio as a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_packages redis-tools

A="${1:?usage: $0 BEFORE_BINARY AFTER_BINARY [ROUNDS]}"
B="${2:?usage: $0 BEFORE_BINARY AFTER_BINARY [ROUNDS]}"
ROUNDS="${3:-3}"
for bin in "$A" "$B"; do [ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }; done

WORK="$(mktemp -d)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# one BINARY LABEL ROUND -> "LABEL TEST PIPELINE rps" lines.
one() {
  local port dir="$WORK/$2-$3"
  port="$(free_port)"
  "$1" --port "$port" --dir "$dir" --logfile "$WORK/$2.log" &
  PID=$!
  for _ in $(seq 1 300); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  for p in 1 16; do
    redis-benchmark -p "$port" -t set,get -c 50 -n 200000 -r 100000 -d 64 -P "$p" --csv 2>/dev/null \
      | awk -F'","' -v l="$2" -v p="$p" 'NR>1 { gsub(/"/, "", $0); split($0, f, ","); print l, f[1], p, f[2] }'
  done
  kill "$PID"
  wait "$PID" 2>/dev/null || true
  PID=""
}

for r in $(seq 1 "$ROUNDS"); do
  one "$A" before "$r"
  one "$B" after "$r"
done >"$WORK/results"

median() { sort -n | awk '{ a[NR]=$1 } END { if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
echo "| test | pipeline | before (ops/s, median of $ROUNDS) | after | after/before |"
echo "|---|---|---|---|---|"
for t in SET GET; do
  for p in 1 16; do
    a=$(awk -v t="$t" -v p="$p" '$1=="before" && $2==t && $3==p { print $4 }' "$WORK/results" | median)
    b=$(awk -v t="$t" -v p="$p" '$1=="after" && $2==t && $3==p { print $4 }' "$WORK/results" | median)
    echo "| $t | $p | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }') |"
  done
done
echo
echo "all runs (label test pipeline rps):"
cat "$WORK/results"
