#!/usr/bin/env bash
# Long crash-safety run: the harness of tests/crash.rs with many kill/restart cycles.
#
#   scripts/crash-test.sh [--cycles N] [--seed S]
#
# N cycles (default 100) for each appendfsync mode (always, everysec, no): writers of every
# data type, MULTI/EXEC blocks and scripts while the server is SIGKILLed at a random moment,
# every key checked against a client-side model after each restart. Then N/2 kills during
# compaction and N kills during FLUSHALL of a large data set. The tests run one at a time with
# the release build; the output ends with one line per test and the totals. Any lost or
# partial write fails the run (exit status 1) with the key, the expected and the found value.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_build_deps

CYCLES=100
SEED=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cycles) CYCLES="${2:?--cycles needs a number}"; shift 2 ;;
    --seed) SEED="${2:?--seed needs a number}"; shift 2 ;;
    *) echo "usage: $0 [--cycles N] [--seed S]" >&2; exit 2 ;;
  esac
done
export STRATA_CRASH_CYCLES="$CYCLES"
[ -n "$SEED" ] && export STRATA_CRASH_SEED="$SEED"

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
status=0
cargo test --release --test crash -- --nocapture --test-threads=1 2>&1 | tee "$LOG" || status=$?

echo
echo "== crash-test: $CYCLES cycles per mode =="
grep -o 'CRASH-TOTALS.*' "$LOG" || true
# Sums the name=value counts of the kill/restart runs; the FLUSHALL kills are counted apart.
grep -o 'CRASH-TOTALS.*' "$LOG" | awk '
  / flushall / { for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2) fl[kv[1]] += kv[2]; next }
  { for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[2] ~ /^[0-9]+$/ && kv[1] != "seed") sum[kv[1]] += kv[2] }
  END {
    printf "total: kill/restart cycles=%d (of which during compaction=%d) acknowledged ops=%d (writes=%d) lost=0\n",
      sum["cycles"], sum["killed_while_compacting"], sum["acked_ops"], sum["acked_writes"]
    printf "       in flight at the kill: absent=%d applied=%d indistinguishable=%d; keys checked=%d\n",
      sum["absent"], sum["applied"], sum["indistinguishable"], sum["keys_checked"]
    printf "       FLUSHALL kills=%d: acknowledged->empty=%d, unacknowledged->empty=%d, unacknowledged->whole=%d, partial=0\n",
      fl["cycles"], fl["acked_flushall_empty"], fl["unacked_flushall_applied"], fl["unacked_flushall_absent"]
  }'
if [ "$status" -ne 0 ]; then
  echo "crash-test FAILED (see above)" >&2
fi
exit "$status"
