#!/usr/bin/env bash
# Local Redis (Debian's redis-server) with AOF persistence: redis.sh up|down|status
# up is idempotent: a server already answering at GRIDHUB_REDIS_URL is used as is.
set -euo pipefail
source "$(dirname "$0")/common.sh"
RDIR="$LOCAL/redis"
PIDFILE="$RDIR/redis.pid"

ping() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

up() {
  command -v redis-server >/dev/null || die "redis-server is missing: run scripts/bootstrap.sh (as root it installs Debian's redis-server)"
  if ping; then log "Redis already answers at $REDIS_HOST:$REDIS_PORT; using it"; return 0; fi
  mkdir -p "$RDIR"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$RDIR" \
    --appendonly yes --appendfsync everysec --daemonize yes \
    --pidfile "$PIDFILE" --logfile "$RDIR/redis.log" --save "" --protected-mode yes
  for _ in $(seq 1 50); do ping && { log "Redis ready at $REDIS_HOST:$REDIS_PORT (AOF on, data in $RDIR)"; return 0; }; sleep 0.1; done
  die "Redis did not answer; see $RDIR/redis.log"
}

down() {
  if ping; then redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true; log "Redis stopped"; else log "Redis is not running"; fi
}

status() {
  if ping; then echo "redis: healthy at $REDIS_HOST:$REDIS_PORT"; else echo "redis: down ($REDIS_HOST:$REDIS_PORT)"; return 1; fi
}

case "${1:-status}" in
  up) up ;; down) down ;; status) status ;;
  *) die "usage: redis.sh up|down|status" ;;
esac
