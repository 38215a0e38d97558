#!/usr/bin/env bash
# Side-by-side throughput of Strata and a real redis-server on this machine.
#
#   scripts/bench.sh [--quick|--full]      (BENCH_ONLY=regex picks workloads, e.g. BENCH_ONLY=zadd)
#
# Builds Strata (release), starts it and redis-server (Debian package; AOF on with
# appendfsync everysec, the durable comparison) on free loopback ports with temporary data
# directories, then runs redis-benchmark against both in alternation (A B A B ...) and prints
# the median requests/second, p50/p99 latencies and the Strata/Redis ratio as a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_build_deps
ensure_packages redis-server redis-tools

MODE="${1:---quick}"
case "$MODE" in
  --quick) ROUNDS=3; REQUESTS=100000 ;;
  --full) ROUNDS=5; REQUESTS=500000 ;;
  *) echo "usage: $0 [--quick|--full]" >&2; exit 2 ;;
esac
CLIENTS=50

cargo build --release --bin strata-server >&2
STRATA_BIN="$CARGO_TARGET_DIR/release/strata-server"

WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

SPORT="$(free_port)"
"$STRATA_BIN" conf/strata.conf --port "$SPORT" --dir "$WORK/strata" --logfile "$WORK/strata.log" &
PIDS+=($!)
RPORT="$(free_port)"
redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$WORK" --save '' --appendonly yes --appendfsync everysec \
  --logfile "$WORK/redis.log" &
PIDS+=($!)
for port in "$SPORT" "$RPORT"; do
  for _ in $(seq 1 300); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done

# run PORT TESTS PIPELINE -> one "name rps p50 p99" line per test redis-benchmark ran (LPOP and
# LRANGE_100 need the list LPUSH fills, so they run after it in one invocation).
run() {
  redis-benchmark -p "$1" -t "$2" -c "$CLIENTS" -n "$REQUESTS" -P "$3" -r 100000 -d 64 --csv 2>/dev/null \
    | awk -F'","' 'NR>1 { gsub(/"/, "", $0); split($0, f, ","); split(f[1], n, " "); print n[1], f[2], f[5], f[7] }'
}
# stream_round PORT -> "XADD ..." and "XREADGROUP ..." lines: XADD to one stream, then XREADGROUP
# of one new entry per call (each read also records a pending entry) from the stream just filled.
stream_round() {
  redis-cli -p "$1" del bench:xs >/dev/null
  redis-cli -p "$1" xgroup create bench:xs g '$' MKSTREAM >/dev/null
  bench_cmd "$1" XADD XADD bench:xs '*' field __rand_int__
  bench_cmd "$1" XREADGROUP XREADGROUP GROUP g c COUNT 1 STREAMS bench:xs '>'
}
# script_round PORT -> "EVALSHA ..." and "PUBLISH ..." lines: EVALSHA of a one-INCR script on
# random keys, then PUBLISH to a channel with one subscriber (redis-cli) reading everything.
script_round() {
  local sha sub
  sha=$(redis-cli -p "$1" script load "return redis.call('INCR', KEYS[1])")
  bench_cmd "$1" EVALSHA EVALSHA "$sha" 1 'bench:ev:__rand_int__'
  redis-cli -p "$1" subscribe bench:ch >/dev/null &
  sub=$!
  for _ in $(seq 1 50); do
    [ "$(redis-cli -p "$1" pubsub numsub bench:ch | tail -1)" = 1 ] && break
    sleep 0.1
  done
  bench_cmd "$1" PUBLISH PUBLISH bench:ch message-of-64-bytes-0123456789012345678901234567890123456789012
  kill "$sub" 2>/dev/null || true
  wait "$sub" 2>/dev/null || true
}
# bench_cmd PORT NAME COMMAND... -> one "NAME rps p50 p99" line for a custom command.
bench_cmd() {
  local port="$1" name="$2"
  shift 2
  redis-benchmark -p "$port" -c "$CLIENTS" -n "$REQUESTS" -r 100000 --csv "$@" 2>/dev/null \
    | awk -F'","' -v n="$name" 'NR>1 { gsub(/"/, "", $0); split($0, f, ","); print n, f[2], f[5], f[7] }'
}
median() { sort -n | awk '{ a[NR]=$1 } END { if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }

# Workloads: "tests-to-run:pipeline:tests-to-report".
WORKLOADS=(
  "set:1:SET" "get:1:GET" "set:16:SET" "get:16:GET"
  "lpush,lpop:1:LPUSH LPOP" "sadd:1:SADD" "hset:1:HSET" "zadd:1:ZADD" "lpush,lrange_100:1:LRANGE_100"
  "xadd,xreadgroup:stream:XADD XREADGROUP" "evalsha,publish:script:EVALSHA PUBLISH"
)
if [ -n "${BENCH_ONLY:-}" ]; then
  mapfile -t WORKLOADS < <(printf '%s\n' "${WORKLOADS[@]}" | grep -iE "$BENCH_ONLY")
fi

echo "| workload | Strata ops/s | Redis ops/s | Strata/Redis | Strata p50/p99 ms | Redis p50/p99 ms |"
echo "|---|---:|---:|---:|---|---|"
for w in "${WORKLOADS[@]}"; do
  IFS=: read -r tests pipeline report <<< "$w"
  : > "$WORK/s"; : > "$WORK/r"
  for _ in $(seq 1 "$ROUNDS"); do
    if [ "$pipeline" = stream ]; then
      stream_round "$SPORT" >> "$WORK/s"
      stream_round "$RPORT" >> "$WORK/r"
    elif [ "$pipeline" = script ]; then
      script_round "$SPORT" >> "$WORK/s"
      script_round "$RPORT" >> "$WORK/r"
    else
      run "$SPORT" "$tests" "$pipeline" >> "$WORK/s"
      run "$RPORT" "$tests" "$pipeline" >> "$WORK/r"
    fi
  done
  case "$pipeline" in stream | script) pipeline=1 ;; esac
  for name in $report; do
    col() { awk -v n="$name" -v c="$2" '$1 == n { print $c }' "$1" | median; }
    s_rps=$(col "$WORK/s" 2); r_rps=$(col "$WORK/r" 2)
    s_p50=$(col "$WORK/s" 3); s_p99=$(col "$WORK/s" 4)
    r_p50=$(col "$WORK/r" 3); r_p99=$(col "$WORK/r" 4)
    ratio=$(awk -v a="$s_rps" -v b="$r_rps" 'BEGIN { printf "%.2f", a / b }')
    printf '| %s c=%d P=%d | %.0f | %.0f | %s | %s / %s | %s / %s |\n' \
      "$name" "$CLIENTS" "$pipeline" "$s_rps" "$r_rps" "$ratio" "$s_p50" "$s_p99" "$r_p50" "$r_p99"
  done
done
echo
echo "Rounds: $ROUNDS alternating, $REQUESTS requests each, 64-byte values, 100k random keys; $(nproc) cores, $(uname -m)."
