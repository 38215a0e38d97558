#!/usr/bin/env bash
# Builds Strata (release) and starts it on 127.0.0.1:6379 with data in ./data and
# conf/strata.conf. Extra arguments are passed on as `--directive value` overrides, e.g.
#   scripts/run.sh --port 7000 --dir /tmp/s1
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_build_deps
cargo build --release --bin strata-server
exec "$CARGO_TARGET_DIR/release/strata-server" conf/strata.conf "$@"
