#!/usr/bin/env bash
# Runs every test (unit, storage, integration) with cargo-nextest when available, else cargo test.
# Tests build with the release profile: RocksDB is then compiled once for tests, benches and
# the server alike, and storage-heavy tests run at full speed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_build_deps
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --release --no-fail-fast "$@"
  # nextest does not run doctests.
  cargo test --release --doc
else
  cargo test --release --no-fail-fast "$@"
fi
