#!/usr/bin/env bash
# Trimming and deleting a big stream (issue 4: both must stay cheap), and reads of a small
# stream next to it.
#
#   scripts/bench-bigstream.sh [entries]      (default 1000000)
#
# Starts Strata (release) on a free port with a temporary data directory, fills "big" with
# `entries` entries (pipelined XADD), then times XTRIM big MAXLEN 1000, refills it, times DEL
# big, and runs XADD/XRANGE on a 100-entry stream "hot" with redis-benchmark (50 clients)
# before and after. Prints the timings and a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_build_deps
ensure_packages redis-tools

ENTRIES="${1:-1000000}"
REQUESTS=200000
cargo build --release --bin strata-server >&2
STRATA_BIN="$CARGO_TARGET_DIR/release/strata-server"
WORK="$(mktemp -d)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

PORT="$(free_port)"
"$STRATA_BIN" conf/strata.conf --port "$PORT" --dir "$WORK/strata" --logfile "$WORK/strata.log" &
PID=$!
for _ in $(seq 1 300); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
fill() {
  local t0 t1
  t0=$(now)
  redis-benchmark -p "$PORT" -c 50 -P 100 -n "$ENTRIES" XADD big '*' field __rand_int__ >/dev/null 2>&1
  t1=$(now)
  echo "Filled big with $(redis-cli -p "$PORT" xlen big) entries in $(secs "$t0" "$t1") s."
}
measure() {
  local xadd xrange
  xadd=$(redis-benchmark -p "$PORT" -c 50 -n "$REQUESTS" -r 100000 --csv XADD hot MAXLEN 100 '*' f __rand_int__ 2>/dev/null \
    | awk -F'","' 'NR==2 { gsub(/"/, "", $0); split($0, f, ","); print f[2], f[5], f[7] }')
  xrange=$(redis-benchmark -p "$PORT" -c 50 -n "$REQUESTS" --csv XREVRANGE hot + - COUNT 10 2>/dev/null \
    | awk -F'","' 'NR==2 { gsub(/"/, "", $0); split($0, f, ","); print f[2], f[5], f[7] }')
  read -r a ap50 ap99 <<< "$xadd"; read -r b bp50 bp99 <<< "$xrange"
  ROWS+=("$(printf '| %s | %.0f | %s / %s | %.0f | %s / %s |' "$1" "$a" "$ap50" "$ap99" "$b" "$bp50" "$bp99")")
}
ROWS=()

fill
measure "next to a big stream"
t0=$(now)
trimmed=$(redis-cli -p "$PORT" xtrim big MAXLEN 1000)
t1=$(now)
echo "XTRIM big MAXLEN 1000 removed $trimmed entries in $(secs "$t0" "$t1") s (redis-cli round trip included)."
measure "right after the XTRIM"
fill
t0=$(now)
redis-cli -p "$PORT" del big >/dev/null
t1=$(now)
echo "DEL big ($ENTRIES+ entries) took $(secs "$t0" "$t1") s (redis-cli round trip included)."
measure "right after the DEL"
echo
echo "| moment | XADD hot MAXLEN 100 ops/s | p50/p99 ms | XREVRANGE hot + - COUNT 10 ops/s | p50/p99 ms |"
echo "|---|---:|---|---:|---|"
printf '%s\n' "${ROWS[@]}"
