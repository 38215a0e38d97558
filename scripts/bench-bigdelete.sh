#!/usr/bin/env bash
# Reads of a small hot sorted set before and after deleting a 1M-member one (DESIGN.md §3: a
# big delete must not slow down reads of other keys).
#
#   scripts/bench-bigdelete.sh [members]      (default 1000000)
#
# Starts Strata (release) on a free port with a temporary data directory, fills "big" with
# `members` members and "hot" with 100, then times ZADD and ZRANGE on "hot" with redis-benchmark
# (50 clients) before the DEL, right after it, and once the reclaim thread has compacted the
# deleted range. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_build_deps
ensure_packages redis-tools

MEMBERS="${1:-1000000}"
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

python3 - "$MEMBERS" > "$WORK/load.resp" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
def cmd(*args):
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
for start in range(0, n, 1000):
    args = ["ZADD", "big"]
    for i in range(start, min(n, start + 1000)):
        args += [i, "member:%d" % i]
    cmd(*args)
args = ["ZADD", "hot"]
for i in range(100):
    args += [i, "m%d" % i]
cmd(*args)
PY
load_start=$(date +%s.%N)
redis-cli -p "$PORT" --pipe < "$WORK/load.resp" >/dev/null
load_end=$(date +%s.%N)

measure() {
  local zadd zrange
  zadd=$(redis-benchmark -p "$PORT" -c 50 -n "$REQUESTS" -r 100 --csv ZADD hot __rand_int__ m__rand_int__ 2>/dev/null \
    | awk -F'","' 'NR==2 { gsub(/"/, "", $0); split($0, f, ","); print f[2], f[5], f[7] }')
  zrange=$(redis-benchmark -p "$PORT" -c 50 -n "$REQUESTS" --csv ZRANGE hot 0 9 2>/dev/null \
    | awk -F'","' 'NR==2 { gsub(/"/, "", $0); split($0, f, ","); print f[2], f[5], f[7] }')
  read -r a ap50 ap99 <<< "$zadd"; read -r b bp50 bp99 <<< "$zrange"
  printf '| %s | %.0f | %s / %s | %.0f | %s / %s |\n' "$1" "$a" "$ap50" "$ap99" "$b" "$bp50" "$bp99"
}

echo "Loaded $(redis-cli -p "$PORT" zcard big) members in $(awk -v a="$load_start" -v b="$load_end" 'BEGIN { printf "%.1f", b - a }') s."
echo
echo "| moment | ZADD hot ops/s | p50/p99 ms | ZRANGE hot 0 9 ops/s | p50/p99 ms |"
echo "|---|---:|---|---:|---|"
measure "before DEL big"
del_start=$(date +%s.%N)
redis-cli -p "$PORT" del big >/dev/null
del_end=$(date +%s.%N)
measure "right after DEL big"
for _ in $(seq 1 600); do
  [ "$(redis-cli -p "$PORT" info stats | tr -d '\r' | awk -F: '$1 == "strata_reclaimed_ranges" { print $2 }')" -ge 1 ] && break
  sleep 0.1
done
measure "after reclaim"
echo
echo "DEL of $MEMBERS members took $(awk -v a="$del_start" -v b="$del_end" 'BEGIN { printf "%.1f", (b - a) * 1000 }') ms (redis-cli round trip included); $(nproc) cores."
