#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) without Docker: kafka.sh up|down|status
# up is idempotent: a broker already answering at GRIDHUB_KAFKA_BOOTSTRAP is used as is.
set -euo pipefail
source "$(dirname "$0")/common.sh"
KDIR="$LOCAL/kafka"
LIBS="$KDIR/libs"
DATA="$KDIR/data"
PIDFILE="$KDIR/kafka.pid"
LOGFILE="$KDIR/server.log"
PROPS="$KDIR/server.properties"

ready() { "$PY" "$ROOT/scripts/kafka_ready.py" "$GRIDHUB_KAFKA_BOOTSTRAP" "${1:-2}"; }

fetch_jars() {
  if ! ls "$LIBS"/kafka_2.13-*.jar >/dev/null 2>&1; then
    log "fetching Kafka jars with Maven (once)"
    (cd "$ROOT/infra" && mvn -q -B package) || die "Maven could not fetch Kafka"
  fi
}

write_props() {
  mkdir -p "$DATA"
  cat > "$PROPS" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://localhost:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA
num.partitions=4
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
log.retention.hours=168
log.segment.bytes=268435456
delete.topic.enable=true
PROPS
}

up() {
  if ready 0; then log "Kafka already answers at $GRIDHUB_KAFKA_BOOTSTRAP; using it"; return 0; fi
  fetch_jars
  exec 9>"$KDIR/.lock"; flock 9
  if ready 0; then return 0; fi
  write_props
  if [ ! -f "$DATA/meta.properties" ]; then
    log "formatting the KRaft log dir"
    local cid; cid=$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    java -cp "$LIBS/*" kafka.tools.StorageTool format --cluster-id "$cid" -c "$PROPS" \
      --ignore-formatted >>"$LOGFILE" 2>&1 \
      || die "formatting the Kafka log dir failed; see $LOGFILE"
  fi
  log "starting Kafka on $GRIDHUB_KAFKA_BOOTSTRAP"
  local t0; t0=$(date +%s%N)
  nohup java -Xmx1g -Xms256m -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$ROOT/infra/log4j2.yaml" \
    -cp "$LIBS/*" kafka.Kafka "$PROPS" >>"$LOGFILE" 2>&1 &
  echo $! > "$PIDFILE"
  if ready 90; then
    log "Kafka ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms (pid $(cat "$PIDFILE"))"
  else
    tail -n 30 "$LOGFILE" >&2; die "Kafka did not answer a metadata request in 90 s; see $LOGFILE"
  fi
}

down() {
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    local pid; pid=$(cat "$PIDFILE"); kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    log "Kafka stopped"
  else
    log "no Kafka started by this script is running"
  fi
  rm -f "$PIDFILE"
}

status() {
  if ready 2; then echo "kafka: healthy at $GRIDHUB_KAFKA_BOOTSTRAP"; else echo "kafka: down ($GRIDHUB_KAFKA_BOOTSTRAP)"; return 1; fi
}

case "${1:-status}" in
  up) up ;; down) down ;; status) status ;;
  *) die "usage: kafka.sh up|down|status" ;;
esac
