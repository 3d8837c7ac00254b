#!/usr/bin/env bash
# Starts, stops and lists gridhub's own processes: services.sh up|down|status
# Each service runs in the background with its pid and log under .local/run/.
# A service whose code is not in the tree yet is skipped, so this works at every stage.
set -euo pipefail
source "$(dirname "$0")/common.sh"
RUN="$LOCAL/run"
mkdir -p "$RUN"
BIN="$VENV/bin"

# name | module that must exist | command | where to look
SERVICES=(
  "streams|streams/app.py|$BIN/python -m streams worker|worker; metrics on :${GRIDHUB_STREAMS_PORT:-6066}"
  "intake|connectors/app.py|$BIN/python -m connectors|http://127.0.0.1:${GRIDHUB_INTAKE_PORT:-8081}/docs"
  "dispatch|dispatch/app.py|$BIN/python -m dispatch|http://127.0.0.1:${GRIDHUB_DISPATCH_PORT:-8082}/docs"
  "wallboard-summaries|wallboard/summaries.py|$BIN/python -m wallboard summarizer|hub summaries, once for every gateway"
  "wallboard-feeder|wallboard/feeder.py|$BIN/python -m wallboard feeder --no-summaries|Kafka -> wallboard Redis stream"
  "wallboard|wallboard/app.py|$BIN/python -m wallboard gateway --feeder-standby|http://127.0.0.1:${GRIDHUB_WALLBOARD_PORT:-8083}/ (feeder standby)"
  "simulator|gridhub/simulate/__init__.py|$BIN/gridhub simulate --rate 2 --live|demo feed: 2 matters/s through intake"
)

alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

up() {
  for entry in "${SERVICES[@]}"; do
    IFS='|' read -r name module cmd where <<<"$entry"
    [ -f "$ROOT/$module" ] || continue
    if alive "$name"; then log "$name already running (pid $(cat "$RUN/$name.pid"))"; continue; fi
    # exec: no shell stays behind holding the caller's stdout (make run | tail must end)
    (cd "$ROOT" && exec nohup $cmd >>"$RUN/$name.log" 2>&1 </dev/null) &
    echo $! >"$RUN/$name.pid"
    log "started $name (pid $(cat "$RUN/$name.pid")), log $RUN/$name.log"
  done
}

down() {
  for entry in "${SERVICES[@]}"; do
    IFS='|' read -r name _ _ _ <<<"$entry"
    if alive "$name"; then
      pid=$(cat "$RUN/$name.pid"); kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
      log "stopped $name"
    fi
    rm -f "$RUN/$name.pid"
  done
}

status() {
  for entry in "${SERVICES[@]}"; do
    IFS='|' read -r name module _ where <<<"$entry"
    if [ ! -f "$ROOT/$module" ]; then continue; fi
    if alive "$name"; then printf '  %-10s running  %s\n' "$name" "$where"; else printf '  %-10s stopped  (log %s)\n' "$name" "$RUN/$name.log"; fi
  done
}

case "${1:-status}" in
  up) up ;; down) down ;; status) status ;;
  *) die "usage: services.sh up|down|status" ;;
esac
