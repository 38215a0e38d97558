# Sourced by the other scripts: one place for the build environment and system packages.
# shellcheck shell=bash

# RocksDB takes 12-16 minutes to compile on two cores: keep build artifacts outside the clone so
# that every clone (and CI) reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/strata/target}"
mkdir -p "$CARGO_TARGET_DIR"

# Installs the Debian packages given as arguments when any is missing (apt-get, only if needed).
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing missing system packages: ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# The RocksDB bindings run bindgen, which needs libclang; RocksDB itself needs a C++ compiler.
ensure_build_deps() {
  ensure_packages libclang-dev g++ make
}

# Prints a free TCP port on the loopback interface (benchmarks start servers on one).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
