#!/usr/bin/env bash
# Runs every test (unit, storage, integration) with cargo-nextest when available, else cargo test.
# Tests build with the release profile: RocksDB is then compiled once for tests, benches and
# the server alike, and storage-heavy tests run at full speed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_build_deps
if cargo nextest --version >/dev/null 2>&1; then
  # The crate has no doctests (nextest does not run them); examples live in tests/.
  cargo nextest run --release --no-fail-fast "$@"
else
  cargo test --release --no-fail-fast "$@"
fi
