#!/usr/bin/env bash
# Installs what gridhub needs on a fresh machine: Debian packages (as root),
# the Python venv with pinned packages, the Kafka jars, and the vendored web assets.
# Idempotent and quick when everything is already there.
set -euo pipefail
source "$(dirname "$0")/common.sh"
mkdir -p "$LOCAL"

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v mvn >/dev/null || need_apt+=(maven)
command -v java >/dev/null || need_apt+=(openjdk-17-jre-headless)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "installing Debian packages: ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    die "missing ${need_apt[*]}: install them (sudo apt-get install ${need_apt[*]}) or run as root"
  fi
fi

stamp="$LOCAL/.pip-stamp"
if [ ! -x "$PY" ]; then log "creating the venv"; python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"; fi
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  log "installing Python packages"
  "$VENV/bin/pip" install -q -U pip
  "$VENV/bin/pip" install -q -e "$ROOT[dev]"
  touch "$stamp"
fi

if ! ls "$LOCAL"/kafka/libs/kafka_2.13-*.jar >/dev/null 2>&1; then
  log "fetching Kafka jars with Maven"
  (cd "$ROOT/infra" && mvn -q -B package)
fi

if [ -f "$ROOT/wallboard/web/package.json" ] && [ ! -f "$ROOT/wallboard/web/vendor/.stamp" ]; then
  log "vendoring wallboard assets from npm"
  (cd "$ROOT/wallboard/web" && npm install --no-audit --no-fund --silent && npm run --silent vendor && touch vendor/.stamp)
fi
