#!/usr/bin/env bash
# Tiered benchmark: a data set ten times larger than the memory budgets, zipfian and uniform keys.
#
#   scripts/bench-tiered.sh [--quick|--full]
#
# Builds Strata and strata-loadgen (release), starts Strata on a free loopback port with a
# temporary data directory and small budgets (hot cache + block cache + memtables), fills it with
# ten times (hot cache + block cache) of 1000-byte values, then measures with 50 clients, no
# pipelining: zipfian (θ 0.99) GET, uniform GET, zipfian 90% GET / 10% SET; and the same zipfian
# GET with the same total split 7:1 between hot cache and block cache; and the same zipfian
# GET on a copy of the data with budgets larger than the data set (every key read once first),
# for the ratio, then three rounds alternating between the two servers. Each run follows a
# warm-up of the same workload. Prints a Markdown table: throughput,
# p50/p99 latency, hot cache hit ratio (INFO hot_cache_hits/misses), the share of requests served
# without leaving memory (1 - INFO strata_disk_reads_offloaded / requests), and the server's
# VmRSS / VmHWM against the sum of its budgets. Takes about 8 minutes (--quick: 3).
# Environment passes through to the server (e.g. MALLOC_CONF for jemalloc).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_build_deps
ensure_packages redis-tools

MODE="${1:---full}"
case "$MODE" in
  # Budgets in MiB; KEYS of VALUE bytes = 10.2x (HOT + BLOCK).
  --full) HOT=64; BLOCK=64; MEMTABLE=64; KEYS=1400000; WARMUP=15; DURATION=30; ROUND=20 ;;
  --quick) HOT=16; BLOCK=16; MEMTABLE=16; KEYS=350000; WARMUP=5; DURATION=10; ROUND=5 ;;
  *) echo "usage: $0 [--quick|--full]" >&2; exit 2 ;;
esac
VALUE=1000
CLIENTS=50
BIG=4096 # MiB: the all-cached run's hot cache and block cache, larger than the data set

cargo build --release --bin strata-server --bin strata-loadgen >&2
STRATA_BIN="$CARGO_TARGET_DIR/release/strata-server"
LOADGEN="$CARGO_TARGET_DIR/release/strata-loadgen"

WORK="$(mktemp -d)"
SPID=""
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
PORT="$(free_port)"

# start HOT_MIB BLOCK_MIB MEMTABLE_MIB [DIR]: Strata on $PORT over DIR ($WORK/data), PID in $SPID.
start() {
  "$STRATA_BIN" conf/strata.conf --port "$PORT" --dir "${4:-$WORK/data}" --logfile "$WORK/strata-$PORT.log" \
    --hot-cache-size "$1mb" --rocksdb-block-cache-size "$2mb" --rocksdb-memtable-budget "$3mb" &
  SPID=$!
  PIDS+=("$SPID")
  for _ in $(seq 1 300); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
  echo "Strata did not start; log:" >&2
  cat "$WORK/strata-$PORT.log" >&2
  exit 1
}
stop() { kill -TERM "$SPID"; wait "$SPID" || true; SPID=""; }
# field SECTION NAME -> the INFO field's value, or empty when the server has no such field.
field() { redis-cli -p "$PORT" info "$1" | tr -d '\r' | awk -F: -v n="$2" '$1 == n { print $2 }'; }
kib() { awk -v f="$1" '$1 == f":" { print $2 }' "/proc/$SPID/status"; }
# loadgen ARGS... -> the result as shell variables: r_ops (requests), r_ops_per_sec, r_p50_ms,
# r_p99_ms (strata-loadgen prints redis-benchmark's --csv shape; the request count from rps).
loadgen() {
  local line
  line=$("$LOADGEN" --port "$PORT" --keys "$KEYS" --value-size "$VALUE" "$@" 2>>"$WORK/loadgen.log" | tail -1 | tr -d '"')
  IFS=, read -r _ r_ops_per_sec _ _ r_p50_ms _ r_p99_ms _ <<< "$line"
  r_ops=$(awk -v r="$r_ops_per_sec" -v s="$LAST_SECONDS" 'BEGIN { printf "%.0f", r * s }')
}
LAST_SECONDS=0
# timed SECONDS ARGS...: a random-key run of SECONDS.
timed() { LAST_SECONDS="$1"; shift; loadgen --seconds "$LAST_SECONDS" "$@"; }
# measure NAME BUDGET_MIB WORKLOAD LOADGEN-ARGS... -> one table row: a warm-up, then the measured run.
measure() {
  local name="$1" budget="$2" workload="$3"
  shift 3
  timed "$WARMUP" --clients "$CLIENTS" --workload "$workload" "$@"
  local hits0 miss0 off0 hits1 miss1 off1 hit_ratio mem_ratio
  hits0=$(field hot_cache hot_cache_hits); miss0=$(field hot_cache hot_cache_misses)
  off0=$(field stats strata_disk_reads_offloaded)
  timed "$DURATION" --clients "$CLIENTS" --workload "$workload" "$@"
  hits1=$(field hot_cache hot_cache_hits); miss1=$(field hot_cache hot_cache_misses)
  off1=$(field stats strata_disk_reads_offloaded)
  if [ -n "$hits1" ]; then
    hit_ratio=$(awk -v h=$((hits1 - hits0)) -v m=$((miss1 - miss0)) 'BEGIN { printf "%.3f", (h + m) ? h / (h + m) : 0 }')
  else
    hit_ratio="n/a"
  fi
  mem_ratio=$(awk -v o=$((off1 - off0)) -v n="$r_ops" 'BEGIN { printf "%.3f", 1 - o / n }')
  local rss hwm
  rss=$(kib VmRSS); hwm=$(kib VmHWM)
  printf '| %s | %.0f | %s / %s | %s | %s | %d / %d | %d |\n' "$name" "$r_ops_per_sec" "$r_p50_ms" "$r_p99_ms" \
    "$hit_ratio" "$mem_ratio" $((rss / 1024)) $((hwm / 1024)) "$budget" >> "$WORK/table"
  echo "$name $r_ops_per_sec $((hwm / 1024))" >> "$WORK/figures"
  echo "$name: $r_ops_per_sec ops/s, hot cache hit ratio $hit_ratio, VmHWM $((hwm / 1024)) MiB" >&2
}

BUDGET=$((HOT + BLOCK + MEMTABLE))
start "$HOT" "$BLOCK" "$MEMTABLE"
BASE_RSS=$(( $(kib VmRSS) / 1024 ))
echo "Loading $KEYS keys of $VALUE bytes..." >&2
t0=$(date +%s)
loadgen --workload fill --clients 4 --pipeline 64
LOAD_SECS=$(( $(date +%s) - t0 ))
LOAD_RATE=$r_ops_per_sec
# Let the load's flushes and compactions finish (the server idle: under 5% of a core for a
# second), so that the first run doesn't share the cores with them; at most three minutes.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SPID/stat"; }
t0=$(date +%s)
for _ in $(seq 1 180); do
  a=$(cpu_ticks); sleep 1; b=$(cpu_ticks)
  [ $((b - a)) -le 5 ] && break
done
SETTLE_SECS=$(( $(date +%s) - t0 ))
DISK_MIB=$(( $(du -sk "$WORK/data" | cut -f1) / 1024 ))

: > "$WORK/table"
measure "zipfian GET" "$BUDGET" get --dist zipf:0.99
measure "uniform GET" "$BUDGET" get --dist uniform
measure "zipfian GET 90% / SET 10%" "$BUDGET" mix:9:1 --dist zipf:0.99
ROCKS="$(redis-cli -p "$PORT" info memory | tr -d '\r' | grep -E '^(rocksdb_|hot_cache_used_bytes|strata_access_table_bytes|used_memory:)' | paste -sd' ')"
HWM_TIERED=$(( $(kib VmHWM) / 1024 ))
stop

# The same memory, most of it given to the hot cache: it keeps just the values asked for,
# where a block cache block of a scattered hot key carries three or four cold ones.
SPLIT_BLOCK=$(( BLOCK / 4 ))
SPLIT_HOT=$(( HOT + BLOCK - SPLIT_BLOCK ))
start "$SPLIT_HOT" "$SPLIT_BLOCK" "$MEMTABLE"
measure "zipfian GET, hot ${SPLIT_HOT} / block ${SPLIT_BLOCK}" "$BUDGET" get --dist zipf:0.99
stop

# The all-cached server runs on a copy of the data next to the tiered one, so that the two
# zipfian GET runs of the ratio can alternate (this box's speed drifts by the minute).
cp -a "$WORK/data" "$WORK/data-cached"
start "$HOT" "$BLOCK" "$MEMTABLE"
PORT_T=$PORT SPID_T=$SPID
PORT="$(free_port)"
start "$BIG" "$BIG" "$MEMTABLE" "$WORK/data-cached"
PORT_C=$PORT SPID_C=$SPID
echo "All-cached run: reading every key once..." >&2
loadgen --workload warm --clients 4 --pipeline 64
measure "zipfian GET, all cached" $((BIG + BIG + MEMTABLE)) get --dist zipf:0.99
PORT=$PORT_T SPID=$SPID_T
timed "$WARMUP" --clients "$CLIENTS" --workload get --dist zipf:0.99
: > "$WORK/rounds"
for round in 1 2 3; do
  PORT=$PORT_T SPID=$SPID_T
  timed "$ROUND" --clients "$CLIENTS" --workload get --dist zipf:0.99
  t=$r_ops_per_sec
  PORT=$PORT_C SPID=$SPID_C
  timed "$ROUND" --clients "$CLIENTS" --workload get --dist zipf:0.99
  c=$r_ops_per_sec
  echo "$round $t $c $(awk -v a="$t" -v b="$c" 'BEGIN { printf "%.2f", a / b }')" >> "$WORK/rounds"
  echo "round $round: tiered $t, all cached $c ops/s" >&2
done
PORT=$PORT_T SPID=$SPID_T; stop
PORT=$PORT_C SPID=$SPID_C; stop

echo "| run | ops/s | p50 / p99 ms | hot cache hit ratio | served from memory | VmRSS / VmHWM MiB | budget MiB |"
echo "|---|---:|---|---:|---:|---:|---:|"
cat "$WORK/table"
echo
tiered=$(awk '$1 == "zipfian" && $2 == "GET" && NF == 4 { print $3 }' "$WORK/figures")
cached=$(awk '/all cached/ { print $(NF-1) }' "$WORK/figures")
split=$(awk '/ block / { print $(NF-1) }' "$WORK/figures")
ratio=$(awk -v a="$tiered" -v b="$cached" 'BEGIN { printf "%.2f", a / b }')
split_ratio=$(awk -v a="$split" -v b="$cached" 'BEGIN { printf "%.2f", a / b }')
echo "Data set: $KEYS keys of $VALUE bytes ($(( KEYS * VALUE / 1048576 )) MiB of values, $DISK_MIB MiB on disk after the load)," \
  "$(awk -v k="$KEYS" -v v="$VALUE" -v b=$((HOT + BLOCK)) 'BEGIN { printf "%.1f", k * v / 1048576 / b }')x" \
  "hot cache + block cache; loaded in ${LOAD_SECS} s ($LOAD_RATE SET/s, 4 clients, pipeline 64)," \
  "compactions settled ${SETTLE_SECS} s later."
echo "Budgets: hot-cache-size ${HOT}mb + rocksdb-block-cache-size ${BLOCK}mb + rocksdb-memtable-budget ${MEMTABLE}mb" \
  "= $BUDGET MiB; RSS of the empty server at start: $BASE_RSS MiB; peak RSS (VmHWM) over load and runs: $HWM_TIERED MiB."
echo "After the tiered runs: $ROCKS"
echo
echo "| round | tiered zipfian GET ops/s | all cached ops/s | ratio |"
echo "|---|---:|---:|---:|"
awk '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' "$WORK/rounds"
alternating=$(awk '{ print $4 }' "$WORK/rounds" | sort -n | sed -n 2p)
echo
echo "Zipfian GET, tiered / all cached: median of the alternating rounds $alternating, of the table's runs $ratio" \
  "(target >= 0.5; with the 7:1 split: $split_ratio); peak RSS $HWM_TIERED MiB vs budget $BUDGET MiB" \
  "($([ "$HWM_TIERED" -le "$BUDGET" ] && echo within || echo OVER))."
echo "$CLIENTS clients, pipeline 1, ${WARMUP} s warm-up then ${DURATION} s per run (rounds: ${ROUND} s each, alternating servers); $(nproc) cores, $(uname -m); loadgen on the same cores."
