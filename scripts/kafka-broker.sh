#!/usr/bin/env bash
# kafka-broker.sh — a single-node Apache Kafka broker (KRaft, broker+controller in one
# process) on loopback, for agora's tests and benchmarks.
#
#   scripts/kafka-broker.sh fetch                 download Kafka + deps with mvn (cached)
#   scripts/kafka-broker.sh start  [DIR] [PORT]   format DIR (first time) and start; prints pid
#   scripts/kafka-broker.sh stop   [DIR]          SIGTERM, wait (SIGKILL after 20 s)
#   scripts/kafka-broker.sh kill   [DIR]          SIGKILL (tests of crash recovery)
#   scripts/kafka-broker.sh status [DIR]          prints pid and exits 0 if running
#
# DIR defaults to /tmp/agora-kafka-PORT, PORT to 29092. The broker listens on
# HOST:PORT (clients) and HOST:PORT+1 (controller), HOST being $KAFKA_HOST (default
# 127.0.0.1; the fault-injection suite gives a network namespace's address). Restarting with the same
# DIR keeps the data (topics, committed offsets).
#
# Environment: KAFKA_VERSION (default 4.1.1), KAFKA_HEAP (default 512m),
# KAFKA_GC (the JVM's collector options; default -XX:+UseSerialGC: small and quiet for
# tests; its stop-the-world pauses grow with load, so benchmarks pass Kafka's own
# production choice, "-XX:+UseG1GC -XX:MaxGCPauseMillis=20"),
# KAFKA_START_TIMEOUT (seconds, default 180), KAFKA_JVM_OPTS (extra JVM options),
# AGORA_KAFKA_OWNER (a pid: the broker is
# stopped when that process exits, so a crashed test leaves no broker behind).
# KAFKA_SECURE_DIR (tests of transport security): a directory holding server.p12 (the
# broker's key and certificate, store password in KAFKA_SECURE_STOREPASS) and ca.pem;
# the broker then also listens with TLS on PORT+2 (client certificate required) and
# with SASL_SSL on PORT+3 (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for the user
# KAFKA_SASL_USER / KAFKA_SASL_PASSWORD).
# A multi-broker cluster (the fault-injection suite's KRaft scenario): every broker gets
# its own DIR, HOST and KAFKA_NODE_ID (default 1), the same KAFKA_VOTERS (the
# controller.quorum.voters list, "ID@HOST:PORT,..."; default this node alone) and
# KAFKA_CLUSTER_ID (formatting needs one id for all; default a random one), and
# KAFKA_REPLICATION / KAFKA_MIN_ISR (the topics' default replication factor and
# min.insync.replicas, internal topics included; default 1). The brokers of a quorum
# must be started together: each waits until a majority of the voters runs.
set -euo pipefail

cmd=${1:-}
KAFKA_VERSION=${KAFKA_VERSION:-4.1.1}
HOME=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
CACHE=${AGORA_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agora-kafka}/$KAFKA_VERSION
CPFILE=$CACHE/classpath.txt

HOST=${KAFKA_HOST:-127.0.0.1}
NODE_ID=${KAFKA_NODE_ID:-1}
RF=${KAFKA_REPLICATION:-1}
MIN_ISR=${KAFKA_MIN_ISR:-1}
die() { echo "kafka-broker: $*" >&2; exit 1; }

classpath_ok() {
  [ -s "$CPFILE" ] || return 1
  local jar
  IFS=: read -r -a jars < "$CPFILE"
  for jar in "${jars[@]}"; do [ -f "$jar" ] || return 1; done
}

fetch() {
  command -v mvn >/dev/null || die "mvn not found (run scripts/install-deps.sh)"
  mkdir -p "$CACHE"
  # Several test programs may fetch at once: one does the work, the others wait.
  exec 9>"$CACHE/.lock"
  flock -w 600 9 || die "timed out waiting for another fetch"
  if classpath_ok; then exec 9>&-; return 0; fi
  cat > "$CACHE/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>agora.test</groupId>
  <artifactId>agora-kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- Kafka logs through SLF4J 1.7; a simple backend writing to stderr. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-simple</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
EOF
  echo "kafka-broker: fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION with mvn" >&2
  if ! mvn -B -q -f "$CACHE/pom.xml" dependency:build-classpath \
       -Dmdep.outputFile="$CPFILE.tmp" >"$CACHE/mvn.log" 2>&1; then
    tail -n 30 "$CACHE/mvn.log" >&2
    die "mvn could not fetch Kafka $KAFKA_VERSION (log: $CACHE/mvn.log)"
  fi
  mv "$CPFILE.tmp" "$CPFILE"
  classpath_ok || die "classpath incomplete after fetch"
  exec 9>&-
}

java_bin() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME/bin/java"
  else command -v java || die "java not found (run scripts/install-deps.sh)"; fi
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

running_pid() {  # pid of the broker of DIR if it runs
  local pid
  [ -f "$DIR/broker.pid" ] || return 1
  pid=$(cat "$DIR/broker.pid")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid.
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $DIR/server.properties" || return 1
  echo "$pid"
}

write_config() {
  local listeners="PLAINTEXT://$HOST:$PORT" protomap="PLAINTEXT:PLAINTEXT"
  if [ -n "${KAFKA_SECURE_DIR:-}" ]; then
    listeners="$listeners,SSL://$HOST:$((PORT + 2)),SASL_SSL://$HOST:$((PORT + 3))"
    protomap="$protomap,SSL:SSL,SASL_SSL:SASL_SSL"
  fi
  cat > "$DIR/server.properties" <<EOF
# Written by agora's scripts/kafka-broker.sh: a KRaft node (broker and controller).
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.voters=${KAFKA_VOTERS:-$NODE_ID@$HOST:$CPORT}
listeners=$listeners,CONTROLLER://$HOST:$CPORT
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protomap,CONTROLLER:PLAINTEXT
log.dirs=$DIR/data
num.partitions=1
default.replication.factor=$RF
min.insync.replicas=$MIN_ISR
offsets.topic.replication.factor=$RF
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$RF
transaction.state.log.min.isr=$MIN_ISR
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$RF
share.coordinator.state.topic.min.isr=$MIN_ISR
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
EOF
  [ -n "${KAFKA_SECURE_DIR:-}" ] || return 0
  local sd=$KAFKA_SECURE_DIR pw=${KAFKA_SECURE_STOREPASS:-} u=${KAFKA_SASL_USER:-} p=${KAFKA_SASL_PASSWORD:-}
  cat >> "$DIR/server.properties" <<EOF
ssl.keystore.type=PKCS12
ssl.keystore.location=$sd/server.p12
ssl.keystore.password=$pw
ssl.key.password=$pw
ssl.truststore.type=PEM
ssl.truststore.location=$sd/ca.pem
listener.name.ssl.ssl.client.auth=required
listener.name.sasl_ssl.ssl.client.auth=none
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$u="$p";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
}

start() {
  local pid java cp deadline started
  if pid=$(running_pid); then echo "$pid"; return 0; fi
  port_open "$PORT" && die "port $PORT is already in use"
  port_open "$CPORT" && die "port $CPORT is already in use"
  fetch
  java=$(java_bin)
  cp=$(cat "$CPFILE")
  mkdir -p "$DIR"
  write_config
  if [ ! -f "$DIR/data/meta.properties" ]; then
    local id=${KAFKA_CLUSTER_ID:-}
    [ -n "$id" ] || id=$("$java" -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    [ -n "$id" ] || die "StorageTool random-uuid failed"
    local scram=()
    if [ -n "${KAFKA_SECURE_DIR:-}" ]; then
      # SCRAM credentials live in the cluster metadata: written when formatting.
      scram=(--add-scram "SCRAM-SHA-256=[name=\"$KAFKA_SASL_USER\",password=\"$KAFKA_SASL_PASSWORD\"]"
             --add-scram "SCRAM-SHA-512=[name=\"$KAFKA_SASL_USER\",password=\"$KAFKA_SASL_PASSWORD\"]")
    fi
    "$java" -Xmx256m -cp "$cp" kafka.tools.StorageTool format -t "$id" \
      -c "$DIR/server.properties" "${scram[@]}" >"$DIR/format.log" 2>&1 \
      || { tail -n 20 "$DIR/format.log" >&2; die "formatting $DIR/data failed"; }
  fi
  [ -f "$DIR/broker.log" ] && mv -f "$DIR/broker.log" "$DIR/broker.log.1"
  # setsid: the broker lives in its own session, away from the caller's terminal signals.
  # shellcheck disable=SC2086
  setsid "$java" -Xms64m -Xmx"${KAFKA_HEAP:-512m}" ${KAFKA_GC:--XX:+UseSerialGC} ${KAFKA_JVM_OPTS:-} \
    -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info \
    -Dorg.slf4j.simpleLogger.showDateTime=true \
    -cp "$cp" kafka.Kafka "$DIR/server.properties" >"$DIR/broker.log" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" > "$DIR/broker.pid"
  deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-180}))
  started=0
  while [ $SECONDS -lt $deadline ]; do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$DIR/broker.log" >&2; die "broker exited during start (log: $DIR/broker.log)"; }
    # "Kafka Server started" is logged once the broker was unfenced by its controller.
    if grep -q "Kafka Server started" "$DIR/broker.log" 2>/dev/null && port_open "$PORT"; then started=1; break; fi
    sleep 0.2
  done
  if [ $started -ne 1 ]; then
    kill -9 "$pid" 2>/dev/null || true
    tail -n 30 "$DIR/broker.log" >&2
    die "broker did not start within ${KAFKA_START_TIMEOUT:-180}s (log: $DIR/broker.log)"
  fi
  if [ -n "${AGORA_KAFKA_OWNER:-}" ]; then
    # Watchdog: stop the broker when its owner (a test program) is gone.
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
                    kill -9 "$2" 2>/dev/null' watchdog "$AGORA_KAFKA_OWNER" "$pid" \
      >/dev/null 2>&1 < /dev/null &
  fi
  echo "$pid"
}

stop() {  # $1 = TERM or KILL
  local pid i
  pid=$(running_pid) || return 0
  kill -"$1" "$pid" 2>/dev/null || true
  for i in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$DIR/broker.pid"
}

case "$cmd" in
  fetch) fetch; echo "$CPFILE" ;;
  start|stop|kill|status)
    PORT=${3:-29092}
    DIR=${2:-/tmp/agora-kafka-$PORT}
    [[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -gt 0 ] && [ "$PORT" -lt 65535 ] || die "bad port $PORT"
    CPORT=$((PORT + 1))
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    case "$cmd" in
      start) start ;;
      stop) stop TERM ;;
      kill) stop KILL ;;
      status) running_pid || { echo "not running" >&2; exit 1; } ;;
    esac ;;
  *) echo "usage: $0 {fetch|start|stop|kill|status} [DIR] [PORT]" >&2; exit 2 ;;
esac
