#!/usr/bin/env bash
# The benchmark: Strata side by side with a real redis-server on this machine.
#
#   scripts/bench.sh [--quick|--full]      (about 6 and 30 minutes)
#   BENCH_ONLY=regex scripts/bench.sh      (only the workload groups matching: core, p16, values,
#                                           mixes, always, restart, tiered)
#
# Builds Strata and strata-loadgen (release) and starts, on free loopback ports with temporary
# data directories:
#   strata        conf/strata.conf (appendfsync everysec)
#   redis-aof     redis-server, AOF on, appendfsync everysec: the durable comparison
#   redis-mem     redis-server, no AOF, no RDB: the in-memory comparison
#   strata-always / redis-always   appendfsync always on both (group commit vs Redis's AOF)
# Every workload runs on each server in turn, round after round (A B C A B C ...), and the table
# shows per workload the median throughput over the rounds, median p50/p99 latencies and the
# Strata/Redis ratios. Then: restart time and RSS with a filled key space (Strata opens its data
# without loading it; Redis loads an RDB), and scripts/bench-tiered.sh (a data set ten times the
# memory budget, zipfian and uniform keys). Ends with the targets of the performance issue, each
# marked met or not. The clients (redis-benchmark, strata-loadgen) share the two cores with the
# servers, the same for both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_build_deps
ensure_packages redis-server redis-tools

MODE="${1:---quick}"
case "$MODE" in
  --quick) ROUNDS=3; REQUESTS=50000; RUN_SECS=3; RESTART_KEYS=1000000 ;;
  --full) ROUNDS=5; REQUESTS=200000; RUN_SECS=8; RESTART_KEYS=10000000 ;;
  *) echo "usage: $0 [--quick|--full]" >&2; exit 2 ;;
esac
CLIENTS=50
KEYSPACE=100000
ONLY="${BENCH_ONLY:-.}"
T_START=$(date +%s)

cargo build --release --bin strata-server --bin strata-loadgen >&2
STRATA_BIN="$CARGO_TARGET_DIR/release/strata-server"
LOADGEN="$CARGO_TARGET_DIR/release/strata-loadgen"

WORK="$(mktemp -d)"
declare -A PORT PID
cleanup() {
  for p in "${PID[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# ready PORT: waits until the server answers PONG (not -LOADING), at most 10 minutes.
ready() {
  for _ in $(seq 1 60000); do
    [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.01
  done
  echo "server on port $1 did not start" >&2
  exit 1
}
# start NAME strata|redis ARGS...: a server named NAME on a free port, data in $WORK/NAME.
start() {
  local name="$1" kind="$2"
  shift 2
  mkdir -p "$WORK/$name"
  PORT[$name]="${PORT[$name]:-$(free_port)}"
  if [ "$kind" = strata ]; then
    "$STRATA_BIN" conf/strata.conf --port "${PORT[$name]}" --dir "$WORK/$name" --logfile "$WORK/$name.log" "$@" &
  else
    redis-server --port "${PORT[$name]}" --bind 127.0.0.1 --dir "$WORK/$name" --logfile "$WORK/$name.log" "$@" &
  fi
  PID[$name]=$!
}
stop() { kill -TERM "${PID[$1]}"; wait "${PID[$1]}" || true; unset "PID[$1]"; }
rss_mib() { awk '$1 == "VmRSS:" { printf "%d", $2 / 1024 }' "/proc/${PID[$1]}/status"; }

start strata strata
start redis-aof redis --save '' --appendonly yes --appendfsync everysec
start redis-mem redis --save '' --appendonly no
start strata-always strata --appendfsync always
start redis-always redis --save '' --appendonly yes --appendfsync always
for name in "${!PORT[@]}"; do ready "${PORT[$name]}"; done

# Each measurement appends "ID rps p50_ms p99_ms" lines to $WORK/out.SERVER.
# rb SERVER SUFFIX REDIS-BENCHMARK-ARGS...: one line per test redis-benchmark ran, ID = TEST:SUFFIX.
rb() {
  local name="$1" suffix="$2"
  shift 2
  redis-benchmark -p "${PORT[$name]}" -c "$CLIENTS" -r "$KEYSPACE" --csv "$@" 2>/dev/null \
    | awk -F'","' -v s="$suffix" 'NR>1 { gsub(/"/, "", $0); split($0, f, ","); split(f[1], n, " "); print n[1] ":" s, f[2], f[5], f[7] }' \
    >> "$WORK/out.$name"
}
# lg SERVER ID STRATA-LOADGEN-ARGS...: one line.
lg() {
  local name="$1" id="$2"
  shift 2
  "$LOADGEN" --port "${PORT[$name]}" --keys "$KEYSPACE" "$@" 2>>"$WORK/loadgen.log" | tail -1 | tr -d '"' \
    | awk -F, -v id="$id" '{ print id, $2, $5, $7 }' >> "$WORK/out.$name"
}

# Workload groups: each a function of one server, run in alternation over the rounds.
core() { rb "$1" P1 -n "$REQUESTS" -P 1 -d 64 -t set,get,incr,lpush,hset,zadd; }
p16() { rb "$1" P16 -n $((REQUESTS * 4)) -P 16 -d 64 -t set,get,incr,lpush,hset,zadd; }
values() {
  rb "$1" 1KB -n "$REQUESTS" -P 1 -d 1024 -t set,get
  rb "$1" 16KB -n "$REQUESTS" -P 1 -d 16384 -t set,get
}
# The mixes and MGET read a key space filled first (64-byte values; reads of missing keys would
# flatter everyone).
mixes() {
  "$LOADGEN" --port "${PORT[$1]}" --keys "$KEYSPACE" --workload fill --clients 4 >/dev/null 2>>"$WORK/loadgen.log"
  lg "$1" MIX:90/10 --workload mix:9:1 --seconds "$RUN_SECS"
  lg "$1" MIX:50/50 --workload mix:1:1 --seconds "$RUN_SECS"
  lg "$1" MGET:10keys --workload mget:10 --seconds "$RUN_SECS"
}
always() { lg "$1" SET:always --workload set --seconds "$RUN_SECS"; }

# group NAME SERVERS...: ROUNDS rounds of the group over the servers in turn.
group() {
  local g="$1"
  shift
  [[ $g =~ $ONLY ]] || return 0
  for round in $(seq 1 "$ROUNDS"); do
    for name in "$@"; do
      echo "[$(($(date +%s) - T_START)) s] $g: round $round, $name" >&2
      "$g" "$name"
    done
  done
}
median() { sort -n | awk '{ a[NR]=$1 } END { if (NR == 0) print ""; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
# col SERVER ID COLUMN -> the median of that column over the rounds ("" when never measured).
col() { [ -f "$WORK/out.$1" ] || return 0; awk -v id="$2" -v c="$3" '$1 == id { print $c }' "$WORK/out.$1" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
# row ID STRATA REDIS-AOF [REDIS-MEM]: one table line; the figures also go to $WORK/figures.
row() {
  local id="$1" s="$2" ra="$3" rm="${4:-}"
  local s_rps ra_rps rm_rps
  s_rps=$(col "$s" "$id" 2); ra_rps=$(col "$ra" "$id" 2)
  [ -n "$s_rps" ] || return 0
  rm_rps=""; [ -n "$rm" ] && rm_rps=$(col "$rm" "$id" 2)
  lat() { local p50 p99; p50=$(col "$1" "$id" 3); p99=$(col "$1" "$id" 4); [ -n "$p50" ] && echo "$p50 / $p99" || echo "-"; }
  num() { [ -n "$1" ] && printf '%.0f' "$1" || echo "-"; }
  printf '| %s | %s | %s | %s | **%s** | %s | %s | %s | %s |\n' "${id//:/ }" \
    "$(num "$s_rps")" "$(num "$ra_rps")" "$(num "$rm_rps")" "$(ratio "$s_rps" "$ra_rps")" "$(ratio "$s_rps" "$rm_rps")" \
    "$(lat "$s")" "$(lat "$ra")" "$( [ -n "$rm" ] && lat "$rm" || echo -)"
  echo "$id $(ratio "$s_rps" "$ra_rps") $(ratio "$s_rps" "$rm_rps")" >> "$WORK/figures"
}

: > "$WORK/figures"
group core strata redis-aof redis-mem
group p16 strata redis-aof redis-mem
group values strata redis-aof redis-mem
group mixes strata redis-aof redis-mem
group always strata-always redis-always

# Restart: fill a fresh Strata and a fresh redis-server (no AOF; its RDB written by SAVE, the
# fastest way Redis loads) with RESTART_KEYS keys of 64 bytes, stop both, start both again and
# time each from exec to its first PONG; RSS right then.
restart_test() {
  start strata-big strata
  start redis-big redis --save '' --appendonly no
  ready "${PORT[strata-big]}"; ready "${PORT[redis-big]}"
  for name in strata-big redis-big; do
    echo "[$(($(date +%s) - T_START)) s] restart: filling $name with $RESTART_KEYS keys" >&2
    "$LOADGEN" --port "${PORT[$name]}" --keys "$RESTART_KEYS" --workload fill --clients 4 --value-size 64 \
      >/dev/null 2>>"$WORK/loadgen.log"
  done
  redis-cli -p "${PORT[redis-big]}" save >/dev/null
  local rss_full_s rss_full_r
  rss_full_s=$(rss_mib strata-big); rss_full_r=$(rss_mib redis-big)
  stop strata-big; stop redis-big
  local disk_s disk_r
  disk_s=$(du -sm "$WORK/strata-big" | cut -f1); disk_r=$(du -sm "$WORK/redis-big" | cut -f1)
  local t0 t_s t_r
  t0=$(date +%s%N); start strata-big strata; ready "${PORT[strata-big]}"; t_s=$((($(date +%s%N) - t0) / 1000000))
  t0=$(date +%s%N); start redis-big redis --save '' --appendonly no; ready "${PORT[redis-big]}"; t_r=$((($(date +%s%N) - t0) / 1000000))
  local rss_s rss_r
  rss_s=$(rss_mib strata-big); rss_r=$(rss_mib redis-big)
  # The data is there: the last key of the fill, read after the restart.
  local last
  last=$(printf 'key:%012d' $((RESTART_KEYS - 1)))
  for name in strata-big redis-big; do
    [ "$(redis-cli -p "${PORT[$name]}" strlen "$last")" = 64 ] || { echo "$name lost $last across the restart" >&2; exit 1; }
  done
  stop strata-big; stop redis-big
  {
    echo
    echo "Restart with $RESTART_KEYS keys (64-byte values; Redis loads an RDB written by SAVE):"
    echo
    echo "| | Strata | Redis | Strata/Redis |"
    echo "|---|---:|---:|---:|"
    echo "| start to first PONG, ms | $t_s | $t_r | **$(ratio "$t_s" "$t_r")** |"
    echo "| RSS right after the restart, MiB | $rss_s | $rss_r | **$(ratio "$rss_s" "$rss_r")** |"
    echo "| RSS after the fill, before the restart, MiB | $rss_full_s | $rss_full_r | $(ratio "$rss_full_s" "$rss_full_r") |"
    echo "| data on disk, MiB | $disk_s | $disk_r | $(ratio "$disk_s" "$disk_r") |"
  } > "$WORK/restart"
  echo "restart $(ratio "$t_s" "$t_r") $(ratio "$rss_s" "$rss_r")" >> "$WORK/figures"
}
if [[ restart =~ $ONLY ]]; then restart_test; fi

# Tiered last: it starts its own server, and the others are idle by then.
if [[ tiered =~ $ONLY ]]; then
  echo "[$(($(date +%s) - T_START)) s] tiered" >&2
  scripts/bench-tiered.sh "$MODE" > "$WORK/tiered"
  awk '/^Zipfian GET, tiered/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "rounds") { v = $(i + 1); sub(/,$/, "", v); print "tiered", v }
      if ($i == "peak" && $(i + 1) == "RSS") printf "tiered-rss %.2f\n", $(i + 2) / $(i + 6)
    }
  }' "$WORK/tiered" >> "$WORK/figures"
fi
for name in strata redis-aof redis-mem strata-always redis-always; do stop "$name"; done

echo "## Strata vs Redis $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), $MODE, $(date -u +%Y-%m-%d)"
echo
echo "Machine: $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM," \
  "$(uname -sr), data in $(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $2 }') under ${TMPDIR:-/tmp}; Strata $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
echo "$CLIENTS clients; medians of $ROUNDS alternating rounds; redis-benchmark rows $REQUESTS requests (P16: $((REQUESTS * 4))) over" \
  "$KEYSPACE random keys, strata-loadgen rows (MIX, MGET, always) $RUN_SECS s each, uniform keys. Latencies in ms."
echo
echo "| workload | Strata ops/s | Redis AOF ops/s | Redis no-AOF ops/s | Strata / Redis AOF | Strata / Redis no-AOF | Strata p50 / p99 | Redis AOF p50 / p99 | Redis no-AOF p50 / p99 |"
echo "|---|---:|---:|---:|---:|---:|---|---|---|"
for suffix in P1 P16 1KB 16KB; do
  for t in SET GET INCR LPUSH HSET ZADD; do row "$t:$suffix" strata redis-aof redis-mem; done
done
for id in MIX:90/10 MIX:50/50 MGET:10keys; do row "$id" strata redis-aof redis-mem; done
row SET:always strata-always redis-always
echo
echo "SET always: both servers with appendfsync always (Strata: group commit, one WAL sync per batch; Redis: AOF always)."
[ -f "$WORK/restart" ] && cat "$WORK/restart"
if [ -f "$WORK/tiered" ]; then
  echo
  echo "Tiered (scripts/bench-tiered.sh $MODE):"
  echo
  cat "$WORK/tiered"
fi

# The targets, each met or not.
fig() { awk -v id="$1" -v c="$2" '$1 == id { print $c }' "$WORK/figures"; }
target() {
  local what="$1" value="$2" op="$3" bound="$4"
  [ -n "$value" ] && [ "$value" != - ] || { echo "| $what | not measured | $op $bound | - |"; return; }
  local ok
  ok=$(awk -v v="$value" -v b="$bound" -v op="$op" 'BEGIN { print ((op == ">=" && v >= b) || (op == "<=" && v <= b)) ? "met" : "**NOT met**" }')
  echo "| $what | $value | $op $bound | $ok |"
}
echo
echo "Targets (Strata/Redis in this run; the durable comparison, Redis with AOF everysec):"
echo
echo "| target | measured | wanted | |"
echo "|---|---:|---:|---|"
target "GET c=50 P=1" "$(fig GET:P1 2)" ">=" 1.0
target "SET c=50 P=1" "$(fig SET:P1 2)" ">=" 1.0
target "GET c=50 P=16" "$(fig GET:P16 2)" ">=" 0.8
target "SET c=50 P=16" "$(fig SET:P16 2)" ">=" 0.8
target "SET appendfsync always c=50" "$(fig SET:always 2)" ">=" 1.0
target "tiered zipfian GET / all cached" "$(fig tiered 2)" ">=" 0.5
target "tiered peak RSS / sum of budgets" "$(fig tiered-rss 2)" "<=" 1.0
target "restart time with $RESTART_KEYS keys" "$(fig restart 2)" "<=" 0.1
target "RSS after restart" "$(fig restart 3)" "<=" 0.3
echo
echo "Took $(($(date +%s) - T_START)) s."
