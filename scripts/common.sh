# Shared by the infra scripts: paths and the settings names gridhub itself reads.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
VENV="$LOCAL/venv"
PY="$VENV/bin/python"
GRIDHUB_KAFKA_BOOTSTRAP="${GRIDHUB_KAFKA_BOOTSTRAP:-localhost:9092}"
GRIDHUB_REDIS_URL="${GRIDHUB_REDIS_URL:-redis://localhost:6379/0}"
KAFKA_HOST="${GRIDHUB_KAFKA_BOOTSTRAP%%:*}"
KAFKA_PORT="${GRIDHUB_KAFKA_BOOTSTRAP##*:}"
KAFKA_CONTROLLER_PORT="${GRIDHUB_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
REDIS_HOSTPORT="${GRIDHUB_REDIS_URL#redis://}"
REDIS_HOSTPORT="${REDIS_HOSTPORT%%/*}"
REDIS_HOST="${REDIS_HOSTPORT%%:*}"
REDIS_PORT="${REDIS_HOSTPORT##*:}"
log() { printf '\033[1;34m[gridhub]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[gridhub]\033[0m %s\n' "$*" >&2; exit 1; }
