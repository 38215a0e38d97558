#!/usr/bin/env bash
# BullMQ framework check: a real BullMQ workload (scripts/bullmq/check.mjs) against a fresh server.
#
#   scripts/bullmq.sh [--target strata|redis] [--monitor FILE]
#
# --target strata (default) builds strata-server (release when $BULLMQ_RELEASE=1, else dev) and
#   runs it with a temporary --dir; --target redis runs the Debian redis-server 7.x instead.
# --monitor FILE (redis only) records `redis-cli monitor` during the run into FILE and prints
#   the commands BullMQ sent, split into those sent by the client and those run by Lua scripts.
# Installs the npm dependencies (npm ci) into scripts/bullmq/node_modules when missing. Exits
# with check.mjs's status: 0 on success.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

TARGET=strata
MONITOR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) TARGET="$2"; shift 2 ;;
    --monitor) MONITOR="$2"; shift 2 ;;
    *) echo "usage: $0 [--target strata|redis] [--monitor FILE]" >&2; exit 2 ;;
  esac
done
case "$TARGET" in strata|redis) ;; *) echo "unknown target: $TARGET" >&2; exit 2 ;; esac
if [ -n "$MONITOR" ] && [ "$TARGET" != redis ]; then
  echo "--monitor needs --target redis" >&2
  exit 2
fi

if [ ! -d scripts/bullmq/node_modules/bullmq ]; then
  command -v npm >/dev/null || { echo "npm is missing (BullMQ needs node >= 18 and npm)" >&2; exit 2; }
  (cd scripts/bullmq && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

WORK="$(mktemp -d)"
SERVER_PID=""
MONITOR_PID=""
cleanup() {
  for p in $MONITOR_PID $SERVER_PID; do kill "$p" 2>/dev/null || true; done
  for p in $MONITOR_PID $SERVER_PID; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(free_port)"
if [ "$TARGET" = redis ]; then
  ensure_packages redis-server redis-tools
  redis-server --port "$PORT" --save '' --bind 127.0.0.1 --dir "$WORK" --logfile "$WORK/server.log" &
  SERVER_PID=$!
else
  ensure_build_deps
  PROFILE=debug
  if [ "${BULLMQ_RELEASE:-0}" = 1 ]; then
    cargo build --release --bin strata-server >&2
    PROFILE=release
  else
    cargo build --bin strata-server >&2
  fi
  "$CARGO_TARGET_DIR/$PROFILE/strata-server" --port "$PORT" --dir "$WORK/data" \
    --loglevel "${BULLMQ_LOGLEVEL:-notice}" --logfile "$WORK/server.log" &
  SERVER_PID=$!
fi

# Wait for the server to answer PING (RESP by hand: redis-cli may be absent for --target strata).
ready=0
for _ in $(seq 1 300); do
  if python3 - "$PORT" <<'EOF' 2>/dev/null; then ready=1; break; fi
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"*1\r\n$4\r\nPING\r\n")
sys.exit(0 if s.recv(64).startswith(b"+PONG") else 1)
EOF
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ "$ready" != 1 ]; then
  echo "FAIL: $TARGET server did not answer PING on port $PORT" >&2
  tail -20 "$WORK/server.log" >&2 || true
  exit 1
fi

if [ -n "$MONITOR" ]; then
  redis-cli -p "$PORT" monitor > "$MONITOR" &
  MONITOR_PID=$!
  sleep 0.2
fi

echo "Running the BullMQ check against $TARGET on port $PORT" >&2
start=$(date +%s.%N)
set +e
PORT="$PORT" node scripts/bullmq/check.mjs
status=$?
set -e
secs=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")

if [ -n "$MONITOR" ]; then
  sleep 0.2
  kill "$MONITOR_PID" 2>/dev/null || true
  wait "$MONITOR_PID" 2>/dev/null || true
  MONITOR_PID=""
  # Monitor lines: 1733300000.123456 [0 127.0.0.1:5555] "CMD" ... ; script calls show "[0 lua]".
  echo "Commands sent by the BullMQ client:"
  grep -v '\[0 lua\]' "$MONITOR" | grep -oE '^[0-9.]+ \[[^]]*\] "[^"]+"' | awk '{print toupper($NF)}' | tr -d '"' \
    | sort | uniq -c | sort -rn
  echo "Commands run by its Lua scripts:"
  grep '\[0 lua\]' "$MONITOR" | grep -oE '\[0 lua\] "[^"]+"' | awk '{print toupper($NF)}' | tr -d '"' \
    | sort | uniq -c | sort -rn
fi

if [ "$status" -ne 0 ] && [ -s "$WORK/server.log" ]; then
  echo "Last lines of the $TARGET server log:" >&2
  tail -30 "$WORK/server.log" >&2
fi
echo "bullmq check against $TARGET: $([ "$status" -eq 0 ] && echo passed || echo "FAILED (exit $status)") in ${secs} s" >&2
exit "$status"
