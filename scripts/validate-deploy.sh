#!/usr/bin/env bash
# Validates everything under deploy/ plus the Dockerfile, without Docker or a cluster:
#   scripts/validate-deploy.sh [--live STRATA_SERVER_BINARY]
# - Kubernetes manifests against Kubernetes's schemas (strict), ServiceMonitor/PrometheusRule
#   structure, kustomization, generated manifests in sync, config/resources consistency
#   (scripts/validate_deploy.py);
# - the Dockerfile with hadolint; the Grafana dashboard (JSON, targets, PromQL);
# - alerts.yaml with `promtool check rules` and `promtool test rules`;
# - with --live: starts the binary with the container's config on free loopback ports, checks
#   /healthz, /readyz, that /metrics serves every metric deploy/monitoring uses, SIGTERM -> exit 0.
# Tools are installed on first use (Python venv from PyPI, pinned in scripts/deploy-requirements.txt;
# promtool from Debian's prometheus package, extracted without installing its service) and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

live_binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --live)
      live_binary="${2:?--live needs a strata-server binary}"
      [ -x "$live_binary" ] || { echo "not an executable: $live_binary" >&2; exit 2; }
      shift 2 ;;
    *) echo "usage: $0 [--live STRATA_SERVER_BINARY]" >&2; exit 2 ;;
  esac
done

cache="$HOME/.cache/strata"
venv="$cache/deploy-venv"
requirements="scripts/deploy-requirements.txt"
promtool="$cache/prometheus/promtool"
passed=0
current=""
trap 'rc=$?; [ "$rc" -eq 0 ] || echo "deploy: failed at \"$current\" (exit $rc)" >&2' EXIT

step() {
  current="$1"
  echo "== $1"
}
ok() { passed=$((passed + 1)); }

# Python venv with the pinned tools; a stamp of the requirements' hash skips pip when unchanged.
ensure_venv() {
  local stamp="$venv/.requirements.sha256" want
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return
  fi
  if [ ! -x "$venv/bin/python" ]; then
    command -v python3 >/dev/null || ensure_packages python3
    # Debian's python3 ships venv without ensurepip, which comes with python3-venv.
    python3 -c 'import ensurepip, venv' 2>/dev/null || ensure_packages python3-venv
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
}

# promtool from Debian's prometheus package: downloaded and unpacked, not installed (installing
# it would start a Prometheus service).
ensure_promtool() {
  if [ -x "$promtool" ] && "$promtool" --version >/dev/null 2>&1; then
    return
  fi
  command -v apt-get >/dev/null || { echo "promtool missing and no apt-get to fetch it" >&2; return 1; }
  local sudo="" work
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  work="$(mktemp -d)"
  if ! apt-cache show prometheus >/dev/null 2>&1; then
    $sudo apt-get update -qq
  fi
  (cd "$work" && apt-get download -qq prometheus 2>/dev/null || { $sudo apt-get update -qq && apt-get download -qq prometheus; })
  dpkg -x "$work"/prometheus_*.deb "$work/root"
  mkdir -p "$(dirname "$promtool")"
  install -m 0755 "$work/root/usr/bin/promtool" "$promtool"
  rm -rf "$work"
}

step "tools: venv ($venv), promtool ($promtool)"
ensure_venv
ensure_promtool
"$promtool" --version | head -n 1
ok

step "manifests: kustomization, Kubernetes schemas (strict), CRD structure, consistency"
"$venv/bin/python" scripts/validate_deploy.py manifests
if command -v kubectl >/dev/null; then
  # The real kustomize build, where kubectl is installed (not required).
  kubectl kustomize deploy/kubernetes >/dev/null
  echo "kubectl kustomize deploy/kubernetes: builds"
fi
ok

step "Dockerfile: hadolint"
"$venv/bin/hadolint" Dockerfile
echo "hadolint: clean"
ok

step "dashboard: JSON, panels, targets, PromQL"
"$venv/bin/python" scripts/validate_deploy.py dashboard
ok

step "alerts: promtool check rules"
"$promtool" check rules deploy/monitoring/alerts.yaml
ok

step "alerts: promtool test rules"
(cd deploy/monitoring && "$promtool" test rules alerts.test.yaml)
ok

if [ -n "$live_binary" ]; then
  step "live: $live_binary with deploy/docker/strata.conf"
  "$venv/bin/python" scripts/validate_deploy.py live "$live_binary"
  ok
fi

echo "deploy: $passed passed, 0 failed"
