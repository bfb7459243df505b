#!/usr/bin/env bash
# chaos.sh — agora's fault-injection suite: `agora watch` and `agora publish` nodes,
# each in its own network namespace (tests/chaos/lab.sh), under partitions, packet
# loss, delay, frozen processes and killed servers. docs/reliability.md tells what
# each scenario asserts; scripts/reliability-report.sh turns the results into its table.
#
#   chaos.sh [--quick] [--results FILE] [--only "NAME ..."] [--list]
#
# --quick: the short subset that `make test` runs (label chaos): one PeerToPeer
# partition-heal and one Redis loss scenario, about a minute. Without it, every
# scenario (`make chaos`, about 17 minutes). Exit 77 (skipped) when this machine
# cannot run network namespaces (not root, no veth or nftables).
#
# Each node K (namespace 10.77.0.K) runs a watcher with node id K, and the publishing
# nodes also run `agora publish` as node 100+K, fed StateChange events (accountId =
# origin, changeId = sequence) at a steady rate from a FIFO. A scenario ends by
# closing the publishers' input and waiting, with a deadline, until every watcher
# has for every origin either received each event or been told of it by a Gap.
#
# Environment: CHAOS_RATE (events/s per publisher), CHAOS_LOSS_SECONDS (length of the
# loss runs, default 60), CHAOS_RSS_LIMIT_KIB (peak RSS allowed per process,
# default 262144), AGORA_BIN.
set -uo pipefail
QUICK=0 RESULTS="" ONLY="" LIST=0
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --results) RESULTS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --list) LIST=1 ;;
    *) echo "usage: chaos.sh [--quick] [--results FILE] [--only \"NAME ...\"] [--list]" >&2; exit 2 ;;
  esac
  shift
done
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lab.sh"

ALL_SCENARIOS="p2p-partition p2p-sigstop p2p-loss1 p2p-loss5 p2p-lossy10 \
redis-loss redis-cut redis-pause redis-kill nats-loss nats-cut nats-pause nats-kill nats-cluster-kill \
kafka-loss kafka-cut kafka-pause kafka-kill kafka-kraft-leader-kill"
QUICK_SCENARIOS="p2p-partition redis-loss"
if [ -z "$ONLY" ]; then
  if [ $QUICK -eq 1 ]; then ONLY=$QUICK_SCENARIOS; else ONLY=$ALL_SCENARIOS; fi
fi
if [ $LIST -eq 1 ]; then echo "$ONLY" | tr ' ' '\n'; exit 0; fi

if ! why=$(lab_supported); then
  echo "SKIP: the fault-injection suite needs Linux network namespaces: $why"
  exit 77
fi

export AGORA_BIN=${AGORA_BIN:-$HERE/../../build/agora}
set --  # test_cli_lib.sh reads its own arguments
. "$HERE/../test_cli_lib.sh"
RESULTS=${RESULTS:-$WORK/results.tsv}
: > "$RESULTS" || exit 1
SCEN_PIDS=() SERVER_PID=""

chaos_cleanup() {
  [ ${#SCEN_PIDS[@]} -eq 0 ] || stop_pids "${SCEN_PIDS[@]}"
  [ -z "$SERVER_PID" ] || stop_server
  _cleanup
  lab_cleanup
}
trap chaos_cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

HB=250 FT=3000                       # heartbeatInterval, failureTimeout (ms)
RATE=${CHAOS_RATE:-$([ $QUICK -eq 1 ] && echo 20 || echo 50)}
LOSS_S=${CHAOS_LOSS_SECONDS:-60}
RSS_LIMIT=${CHAOS_RSS_LIMIT_KIB:-262144}
# How late this script may notice a condition (it polls files); sanitized builds are slower.
SLACK=$([[ ${AGORA_TEST_CFLAGS:-} == *sanitize* ]] && echo 3000 || echo 1000)
CONVERGE_MS=45000                    # > the 6 s tail-gap grace + reconnect backoff (5 s)
SECRET=chaos-suite-secret-0123456789abcdef

# ---------------------------------------------------------------- configurations
BACKEND="" SERVER_PID=""
node_config() {  # node_config ID K: $SD/cfgID.json for the node with id ID in namespace K
  local id=$1 k=$2 coord peers="" x port
  port=$((7900 + id / 100))
  case $BACKEND in
    PeerToPeer)
      for x in "${NODES[@]}"; do
        [ "$x" = "$k" ] && [ "$id" -lt 100 ] && continue
        peers="$peers${peers:+, }\"$(lab_addr "$x"):7900\""
      done
      coord="{\"@type\": \"PeerToPeer\", \"listen\": \"$(lab_addr "$k"):$port\", \"peers\": [$peers], \"secret\": \"$SECRET\"}" ;;
    Redis) coord="{\"@type\": \"Redis\", \"url\": \"redis://$(lab_addr 100):6379\"}" ;;
    Kafka) coord="{\"@type\": \"Kafka\", \"brokers\": [\"$(lab_addr 100):9092\"], \"groupId\": \"chaos\"}" ;;
    KafkaCluster)
      coord="{\"@type\": \"Kafka\", \"brokers\": [\"$(lab_addr 100):9092\", \"$(lab_addr 101):9092\", \"$(lab_addr 102):9092\"], \"groupId\": \"chaos\"}" ;;
    NatsCluster)
      coord="{\"@type\": \"Nats\", \"addresses\": [\"$(lab_addr 100):4222\", \"$(lab_addr 101):4222\", \"$(lab_addr 102):4222\"], \"pingInterval\": \"2s\"}" ;;
    Nats) coord="{\"@type\": \"Nats\", \"addresses\": [\"$(lab_addr 100):4222\"], \"pingInterval\": \"2s\"}" ;;
  esac
  cat > "$SD/cfg$id.json" <<JSON
{"nodeId": $id, "heartbeatInterval": "${HB}ms", "failureTimeout": "${FT}ms",
 "coordinator": $coord}
JSON
}

# ---------------------------------------------------------------- processes
declare -A WPID PPID_ GPID PSTATUS
spawn() {  # spawn OUT ERR K COMMAND...: in namespace K, in the background; pid in $BG
  local out=$1 err=$2 k=$3; shift 3
  ip netns exec "$(lab_ns "$k")" "$@" > "$out" 2> "$err" < /dev/null &
  BG=$!; SCEN_PIDS+=("$BG")
}

start_watcher() {
  local k=$1
  node_config "$k" "$k"
  spawn "$SD/w$k.jsonl" "$SD/w$k.err" "$k" "$AGORA" watch --join --config "$SD/cfg$k.json"
  WPID[$k]=$BG
}

# generate ORIGIN RATE: StateChange lines on stdout at RATE/s (10 ticks a second)
# until $SD/stop exists; the count goes to $SD/gen<ORIGIN>.
generate() {
  local origin=$1 rate=$2 seq=0 tick i per=$(( $2 >= 10 ? $2 / 10 : 1 ))
  exec {tick}<> <(:)
  while [ ! -e "$SD/stop" ]; do
    for ((i = 0; i < per; i++)); do
      seq=$((seq + 1))
      echo "{\"type\":\"StateChange\",\"accountId\":$origin,\"changeId\":$seq,\"types\":[\"Email\"]}" || break 2
    done
    read -r -t 0.1 -u "$tick"
  done
  echo "$seq" > "$SD/gen$origin"
}

start_publisher() {
  local k=$1 id=$((100 + $1))
  node_config "$id" "$k"
  mkfifo "$SD/in$id"
  ip netns exec "$(lab_ns "$k")" "$AGORA" publish --config "$SD/cfg$id.json" -v \
    --wait-members 20s --flush-timeout 30s < "$SD/in$id" > /dev/null 2> "$SD/p$id.err" &
  PPID_[$k]=$!; SCEN_PIDS+=("$!")
  generate "$id" "$RATE" > "$SD/in$id" &
  GPID[$k]=$!; SCEN_PIDS+=("$!")
}

peak_rss() {  # the largest VmHWM (KiB) among the running agora processes
  local p m max=0
  for p in "${WPID[@]}" "${PPID_[@]}"; do
    m=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null)
    [ -n "$m" ] && [ "$m" -gt "$max" ] && max=$m
  done
  echo "$max"
}

# kill_hard PID: SIGKILL, and reap a child here so that bash prints no "Killed" line
kill_hard() { { kill -KILL "$1"; wait "$1"; } 2>/dev/null; }

stop_pids() {
  local p
  for p in "$@"; do kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
  for p in "$@"; do wait_exit "$p" 15000 || { kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; }; done
}

# ---------------------------------------------------------------- membership
notices() { grep -cF "\"node\":$2,\"type\":\"$3\"" "$SD/w$1.jsonl" 2>/dev/null || true; }

declare -A BASE
mark() {  # mark TYPE "WATCHERS" "NODES": remember each watcher's count of TYPE per node
  local w x
  for w in $2; do for x in $3; do BASE[$1,$w,$x]=$(notices "$w" "$x" "$1"); done; done
}
all_new() {  # all_new TYPE "WATCHERS" "NODES": each watcher printed TYPE for each node since mark
  local w x
  for w in $2; do for x in $3; do
    [ "$w" = "$x" ] && continue
    [ "$(notices "$w" "$x" "$1")" -gt "${BASE[$1,$w,$x]:-0}" ] || return 1
  done; done
}
await() {  # await TIMEOUT_MS COMMAND...: poll; elapsed ms in $WAITED; 1 on timeout
  local t0 deadline; t0=$(now_ms); deadline=$((t0 + $1)); shift
  until "$@"; do
    if [ "$(now_ms)" -ge "$deadline" ]; then WAITED=-1; return 1; fi
    sleep 0.05
  done
  WAITED=$(( $(now_ms) - t0 ))
}
ids_of() { local k out=""; for k in "$@"; do out="$out $k"; for p in "${PUBS[@]}"; do [ "$p" = "$k" ] && out="$out $((100 + k))"; done; done; echo "$out"; }
pub_ids() { local k; for k in "${PUBS[@]}"; do printf ' %d' $((100 + k)); done; }
failures_total() { cat "$SD"/w*.jsonl 2>/dev/null | grep -c '"type":"MemberFailed"' || true; }

# ---------------------------------------------------------------- delivery figures
# tally: "expected delivered gaps duplicates silent" over every watcher and origin;
# silent = events neither delivered nor covered by a Gap.
SENT=""
tally() {
  awk -v sent="$SENT" '
    BEGIN { n = split(sent, a, " "); for (i = 1; i <= n; i++) { split(a[i], b, ":"); S[b[1]] = b[2] } }
    FNR == 1 { F[FILENAME] = 1 }
    { if (!match($0, /"node":[0-9]+/)) next; o = substr($0, RSTART + 7, RLENGTH - 7) }
    /"type":"Gap"/ { match($0, /"missed":[0-9]+/); G[FILENAME, o] += substr($0, RSTART + 9, RLENGTH - 9); next }
    /"type":"StateChange"/ {
      match($0, /"changeId":[0-9]+/); c = substr($0, RSTART + 11, RLENGTH - 11)
      if ((FILENAME, o, c) in seen) D[FILENAME, o]++; else { seen[FILENAME, o, c] = 1; R[FILENAME, o]++ }
    }
    END {
      for (f in F) for (o in S) {
        e += S[o]; d += R[f, o]; g += G[f, o]; u += D[f, o]
        m = S[o] - R[f, o] - G[f, o]; if (m > 0) s += m
      }
      printf "%d %d %d %d %d\n", e, d, g, u, s
    }' "$@"
}
converged() { local t; t=$(tally "${WFILES[@]}"); [ "${t##* }" -eq 0 ]; }

# must DESCRIPTION COMMAND...: a check without which the scenario cannot go on
must() { local before=$FAILS; check "$@"; [ "$FAILS" -eq "$before" ]; }

# ---------------------------------------------------------------- scenario frame
SCEN="" FAULT="" EXPECT="" DETECT=-1 RECOVER=-1 FAILS_AT_START=0 EXTRA_CHECKS=""
begin() {  # begin NAME BACKEND FAULT EXPECTED "NODES" "PUBLISHERS"
  SCEN=$1 BACKEND=$2 FAULT=$3 EXPECT=$4
  NODES=($5) PUBS=($6)
  SD=$WORK/$SCEN; mkdir -p "$SD"
  DETECT=-1 RECOVER=-1 EXTRA_CHECKS="" SCEN_PIDS=() WPID=() PPID_=() GPID=() PSTATUS=() BASE=() SRV=() SERVER_PID=""
  SCEN_FAILS_BEFORE=$FAILS SCEN_DONE=0
  echo "---- $SCEN ($BACKEND): $FAULT"
  lab_init || { check "$SCEN: lab set up" false; return 1; }
  local k
  for k in "${NODES[@]}"; do lab_node "$k" || { check "$SCEN: lab set up" false; return 1; }; done
  local srv
  for srv in $(servers); do lab_node "$srv" || return 1; done
  [ "$BACKEND" = PeerToPeer ] || start_server || return 1
  for k in "${NODES[@]}"; do start_watcher "$k"; done
  must "$SCEN: the watchers see each other" \
    await 30000 all_new MemberJoined "${NODES[*]}" "${NODES[*]}" || return 1
  for k in "${PUBS[@]}"; do start_publisher "$k"; done
  ready() { for k in "${PUBS[@]}"; do grep -q 'publish: ready: [1-9]' "$SD/p$((100 + k)).err" || return 1; done; }
  must "$SCEN: the publishers joined" await 30000 ready || return 1
  must "$SCEN: every watcher sees every publisher" \
    await 30000 all_new MemberJoined "${NODES[*]}" "$(pub_ids)" || return 1
  FAILS_AT_START=$(failures_total)
  return 0
}

# settle MS: let the publishers run for MS (the figures need traffic across the fault)
# (in the background, waited for: a trapped SIGINT/SIGTERM ends the wait at once)
settle() { sleep "$(awk -v m="$1" 'BEGIN { print m / 1000 }')" & wait $!; }

finish_scenario() {
  local k rss t id
  rss=$(peak_rss)
  touch "$SD/stop"
  for k in "${PUBS[@]}"; do
    wait_exit "${GPID[$k]}" 30000
    if wait_exit "${PPID_[$k]}" 60000; then PSTATUS[$k]=$EXIT; else kill -KILL "${PPID_[$k]}" 2>/dev/null; PSTATUS[$k]=124; fi
  done
  SENT=""
  local published=0
  for k in "${PUBS[@]}"; do
    id=$((100 + k))
    n=$(sed -n 's/.*publish: \([0-9]*\) events published.*/\1/p' "$SD/p$id.err")
    n=${n:-$(cat "$SD/gen$id" 2>/dev/null || echo 0)}
    SENT="$SENT $id:$n"; published=$((published + n))
  done
  WFILES=(); for k in "${NODES[@]}"; do WFILES+=("$SD/w$k.jsonl"); done
  check "$SCEN: every event delivered to every watcher or reported by a Gap" \
    await $CONVERGE_MS converged
  t=$(tally "${WFILES[@]}")
  local r; r=$(peak_rss); [ "$r" -gt "$rss" ] && rss=$r
  local false_failures=$(( $(failures_total) - FAILS_AT_START ))
  check "$SCEN: peak RSS ${rss} KiB within ${RSS_LIMIT} KiB" test "$rss" -le "$RSS_LIMIT"
  local bad=""
  for k in "${NODES[@]}"; do  # watch exits 0 on SIGTERM; a sanitizer's report does not
    kill -CONT "${WPID[$k]}" 2>/dev/null; kill -TERM "${WPID[$k]}" 2>/dev/null
    wait_exit "${WPID[$k]}" 15000 || kill -KILL "${WPID[$k]}" 2>/dev/null
    [ "$EXIT" -eq 0 ] || bad="$bad watcher $k: $EXIT;"
  done
  for k in "${PUBS[@]}"; do  # 1: not every event handed over in time, under a fault
    [ "${PSTATUS[$k]}" -le 1 ] || bad="$bad publisher $((100 + k)): ${PSTATUS[$k]};"
  done
  check "$SCEN: every agora process exited normally${bad:+ (exit statuses:$bad)}" test -z "$bad"
  check "$SCEN: no sanitizer report" \
    bash -c "! grep -lE 'ERROR: AddressSanitizer|WARNING: ThreadSanitizer|ERROR: LeakSanitizer|runtime error:' '$SD'/*.err"
  stop_server
  lab_cleanup
  SCEN_PIDS=() SCEN_DONE=1
  read -r e d g u s <<< "$t"
  # a scenario's own checks on the figures (e.g. no Gap at all), before the verdict
  [ -z "$EXTRA_CHECKS" ] || "$EXTRA_CHECKS" "$e" "$d" "$g" "$u" "$s"
  local verdict=pass; [ "$FAILS" -eq "$SCEN_FAILS_BEFORE" ] || verdict=FAIL
  echo "     published $published, deliveries expected $e, delivered $d, gaps $g, duplicates $u," \
       "silent $s, failures reported $false_failures, detection ${DETECT} ms, recovery ${RECOVER} ms"
  results_header
  printf '%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n' "$SCEN" "$BACKEND" "$FAULT" \
    "$EXPECT" "$published" "$e" "$d" "$g" "$u" "$s" "$false_failures" "$DETECT" "$RECOVER" "$rss" \
    "$verdict" >> "$RESULTS"
}
# results_header: the machine's facts and the column names, once per results file
results_header() {
  [ -s "$RESULTS" ] && return
  {
    echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "# machine: $(nproc) cores, $(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)," \
         "$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, Linux $(uname -r)"
    echo "# agora: $("$AGORA" version 2>/dev/null | head -1)"
    echo "# faults: $(lab_has_netem && echo "tc netem" || echo "this kernel has no sch_netem: loss through nftables, no delay or reordering")"
    echo "# mode: $([ $QUICK -eq 1 ] && echo quick || echo full), $RATE events/s per publisher (loss runs: $([ $QUICK -eq 1 ] && echo "$RATE" || echo 200)), heartbeatInterval ${HB} ms, failureTimeout ${FT} ms"
    printf 'scenario\tbackend\tfault\texpected\tpublished\tdeliveries\tdelivered\tgaps\tduplicates\tsilent\tfailures\tdetect_ms\trecover_ms\tpeak_rss_kib\tverdict\n'
  } > "$RESULTS"
}
abort_scenario() { [ ${#SCEN_PIDS[@]} -eq 0 ] || stop_pids "${SCEN_PIDS[@]}"; SCEN_PIDS=(); stop_server; lab_cleanup; }

# ---------------------------------------------------------------- servers
servers() {  # the namespaces of this backend's servers
  case $BACKEND in PeerToPeer) ;; NatsCluster|KafkaCluster) echo 100 101 102 ;; *) echo 100 ;; esac
}
declare -A SRV  # NatsCluster, KafkaCluster: namespace -> pid

start_server() {
  if [ "$BACKEND" = NatsCluster ]; then
    local k routes="nats://$(lab_addr 100):6222,nats://$(lab_addr 101):6222,nats://$(lab_addr 102):6222"
    SERVER_PID=""
    for k in 100 101 102; do
      spawn "$SD/server$k.out" "$SD/server$k.err" "$k" nats-server -a "$(lab_addr "$k")" -p 4222 \
        --cluster_name chaos --cluster "nats://$(lab_addr "$k"):6222" --routes "$routes"
      SRV[$k]=$BG; SERVER_PID="$SERVER_PID $BG"
    done
    routed() {  # every server has a route to both others
      for k in 100 101 102; do [ "$(grep -c 'Route connection created' "$SD/server$k.err")" -ge 2 ] || return 1; done
    }
    must "$SCEN: 3-server NATS cluster formed" await 30000 routed
    return
  fi
  if [ "$BACKEND" = KafkaCluster ]; then
    local k bg=()
    # the brokers of a quorum start together: each waits for a majority of the voters
    KRAFT_ID=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    for k in 100 101 102; do kraft_start "$k" & bg+=($!); done
    wait "${bg[@]}"
    SERVER_PID=""
    for k in 100 101 102; do
      SRV[$k]=$(cat "$SD/kafka$k.pid" 2>/dev/null)
      [ -n "${SRV[$k]}" ] || { check "$SCEN: Kafka broker $k started ($(tail -1 "$SD/server$k.err"))" false; return 1; }
      SERVER_PID="$SERVER_PID ${SRV[$k]}"
    done
    return 0
  fi
  case $BACKEND in
    Redis)
      command -v redis-server >/dev/null || { echo "     redis-server not installed"; return 1; }
      spawn "$SD/server.out" "$SD/server.err" 100 redis-server --bind "$(lab_addr 100)" --port 6379 \
        --save "" --appendonly no --protected-mode no --dir "$SD" ;;
    Nats)
      command -v nats-server >/dev/null || { echo "     nats-server not installed"; return 1; }
      spawn "$SD/server.out" "$SD/server.err" 100 nats-server -a "$(lab_addr 100)" -p 4222 ;;
    Kafka)  # not a child: kafka-broker.sh starts it in its own session, with a watchdog
      BG=$(KAFKA_HOST=$(lab_addr 100) AGORA_KAFKA_OWNER=$$ lab_exec 100 \
           "$HERE/../../scripts/kafka-broker.sh" start "$SD/kafka" 9092 2> "$SD/server.err" | tail -1)
      [ -n "$BG" ] || { check "$SCEN: Kafka broker started ($(tail -1 "$SD/server.err"))" false; return 1; } ;;
  esac
  SERVER_PID=$BG
  local port; case $BACKEND in Redis) port=6379 ;; Nats) port=4222 ;; Kafka) port=9092 ;; esac
  listening() { lab_exec 100 bash -c "exec 3<>/dev/tcp/$(lab_addr 100)/$port" 2>/dev/null; }
  must "$SCEN: $BACKEND server up" await 20000 listening
}
stop_server() {
  if [ "$BACKEND" = KafkaCluster ]; then
    local k; for k in 100 101 102; do kraft_kill "$k"; done
  elif [ "$BACKEND" = Kafka ]; then
    kill -CONT "$SERVER_PID" 2>/dev/null
    KAFKA_HOST=$(lab_addr 100) "$HERE/../../scripts/kafka-broker.sh" kill "$SD/kafka" 9092 >/dev/null 2>&1
  elif [ -n "$SERVER_PID" ]; then stop_pids $SERVER_PID; fi
  SERVER_PID=""
}

# ---------------------------------------------------------------- a KRaft cluster
# Three brokers in namespaces 100-102, node.id = namespace number, each a broker and a
# controller (3 voters), topics replicated 3 times with min.insync.replicas 2.
KRAFT_VOTERS="100@$(lab_addr 100):9093,101@$(lab_addr 101):9093,102@$(lab_addr 102):9093"
KRAFT_BROKERS="$(lab_addr 100):9092,$(lab_addr 101):9092,$(lab_addr 102):9092"
KRAFT_ID=""
kraft_start() {  # kraft_start K: start (or restart) broker K; its pid in $SD/kafkaK.pid
  local k=$1
  KAFKA_HOST=$(lab_addr "$k") KAFKA_NODE_ID=$k KAFKA_VOTERS=$KRAFT_VOTERS KAFKA_CLUSTER_ID=$KRAFT_ID \
    KAFKA_REPLICATION=3 KAFKA_MIN_ISR=2 KAFKA_HEAP=${KAFKA_HEAP:-384m} \
    KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-300} AGORA_KAFKA_OWNER=$$ \
    lab_exec "$k" "$HERE/../../scripts/kafka-broker.sh" start "$SD/kafka$k" 9092 \
    2>> "$SD/server$k.err" | tail -1 > "$SD/kafka$k.pid"
}
kraft_kill() {  # kraft_kill K: SIGKILL broker K (and wait until it is gone)
  kill -CONT "${SRV[$1]:-}" 2>/dev/null
  KAFKA_HOST=$(lab_addr "$1") "$HERE/../../scripts/kafka-broker.sh" kill "$SD/kafka$1" 9092 >/dev/null 2>&1
}
# kraft_partition: "LEADER REPLICAS ISRS" of stwt.agora's partition 0 as the brokers
# tell node 1 (replicas and ISRs as counts); empty when no broker answers
kraft_partition() {
  lab_exec 1 kcat -L -b "$KRAFT_BROKERS" -t stwt.agora -m 5 2>/dev/null |
    sed -n 's/.*partition 0, leader \(-\{0,1\}[0-9]*\), replicas: \([0-9,]*\), isrs: \([0-9,]*\).*/\1 \2 \3/p' |
    awk 'NR == 1 { print $1, split($2, r, ","), split($3, i, ",") }'
}

# ---------------------------------------------------------------- scenarios
s_partition() {  # 5 PeerToPeer nodes: {1,2} | {3,4,5}, then heal
  local pubs="1 5"; [ $QUICK -eq 1 ] || pubs="1 2 3 4 5"
  local hold=$([ $QUICK -eq 1 ] && echo 8000 || echo 20000)
  begin p2p-partition PeerToPeer "partition 2|3 for $((hold / 1000)) s, then heal" \
    "both sides report the others failed within failureTimeout ($FT ms) + a heartbeat; rejoin after heal; nothing silent" \
    "1 2 3 4 5" "$pubs" || return
  local A="1 2" B="3 4 5" IA IB
  IA=$(ids_of 1 2) IB=$(ids_of 3 4 5)
  settle 1000
  mark MemberFailed "$A" "$IB"; mark MemberFailed "$B" "$IA"
  lab_partition "$A" "$B"
  both_failed() { all_new MemberFailed "$A" "$IB" && all_new MemberFailed "$B" "$IA"; }
  check "p2p-partition: each side reports the other failed" await $((FT * 3)) both_failed
  DETECT=$WAITED
  check "p2p-partition: ... within failureTimeout + 2 heartbeats (+ the poll's slack)" \
    test "$DETECT" -ge 0 -a "$DETECT" -le $((FT + 2 * HB + SLACK))
  settle $((hold - DETECT > 0 ? hold - DETECT : 0))
  mark MemberJoined "$A" "$IB"; mark MemberJoined "$B" "$IA"
  lab_heal
  both_joined() { all_new MemberJoined "$A" "$IB" && all_new MemberJoined "$B" "$IA"; }
  check "p2p-partition: after the heal both sides see the others rejoin" await 30000 both_joined
  RECOVER=$WAITED
  settle 2000
  finish_scenario
}

s_sigstop() {  # node 3 (watcher and publisher) frozen for 2 x failureTimeout
  begin p2p-sigstop PeerToPeer "node 3 frozen (SIGSTOP) for $((2 * FT / 1000)) s, then SIGCONT" \
    "the others report node 3 failed, then rejoined; its queued events delivered or reported; nothing silent" \
    "1 2 3 4 5" "1 3 5" || return
  local others="1 2 4 5" I3; I3=$(ids_of 3)
  settle 1000
  mark MemberFailed "$others" "$I3"
  kill -STOP "${WPID[3]}" "${PPID_[3]}"
  check "p2p-sigstop: the others report node 3 failed" await $((FT * 3)) all_new MemberFailed "$others" "$I3"
  DETECT=$WAITED
  settle $((2 * FT - DETECT > 0 ? 2 * FT - DETECT : 0))
  mark MemberJoined "$others" "$I3"
  kill -CONT "${WPID[3]}" "${PPID_[3]}"
  check "p2p-sigstop: ... and see it rejoin after SIGCONT" await 30000 all_new MemberJoined "$others" "$I3"
  RECOVER=$WAITED
  settle 2000
  finish_scenario
}

s_loss() {  # s_loss NAME LOSS DELAY JITTER MAX_FAILURES: every link degraded for LOSS_S
  local name=$1 loss=$2 delay=$3 jitter=$4 maxf=$5 how
  if lab_has_netem; then how="${loss}% loss, ${delay} ± ${jitter} ms delay (netem; jitter reorders)"
  else how="${loss}% loss (nftables; this kernel has no netem: no delay)"; fi
  local secs=$LOSS_S; [ $QUICK -eq 1 ] && secs=8
  local rate_saved=$RATE; [ $QUICK -eq 1 ] || RATE=200
  begin "$name" "$BACKEND_OF" "$how for $secs s" \
    "$([ "$maxf" -eq 0 ] && echo 'no failure reported; ')nothing silent" "$NODES_OF" "$NODES_OF" || { RATE=$rate_saved; return; }
  settle 1000
  lab_degrade "$loss" "$delay" "$jitter"
  settle $((secs * 1000))
  lab_heal
  settle 2000
  finish_scenario
  RATE=$rate_saved
  [ "$maxf" -lt 0 ] || check "$name: at most $maxf failures reported" \
    test "$(tail -1 "$RESULTS" | cut -f11)" -le "$maxf"
}

s_cut() {  # node 3 cut off from the broker for 2 x failureTimeout
  local name=$1
  begin "$name" "$BACKEND" "node 3 cut off from the broker for $((2 * FT / 1000)) s" \
    "the others report node 3 failed, then rejoined; nothing silent" "1 2 3" "1 2 3" || return
  local I3; I3=$(ids_of 3)
  settle 1000
  mark MemberFailed "1 2" "$I3"
  lab_cut 3 100
  check "$name: the others report node 3 failed" await $((FT * 3)) all_new MemberFailed "1 2" "$I3"
  DETECT=$WAITED
  settle $((2 * FT - DETECT > 0 ? 2 * FT - DETECT : 0))
  mark MemberJoined "1 2" "$I3"
  lab_heal
  check "$name: ... and see it rejoin" await 60000 all_new MemberJoined "1 2" "$I3"
  RECOVER=$WAITED
  settle 2000
  finish_scenario
}

# mark_flow, then flowing: every watcher received events of every publisher since
events_of() { grep -cF "\"node\":$2,\"type\":\"StateChange\"" "$SD/w$1.jsonl" || true; }
mark_flow() { local w x; for w in "${NODES[@]}"; do for x in $(pub_ids); do BASE[flow,$w,$x]=$(events_of "$w" "$x"); done; done; }
flowing() {
  local w x; for w in "${NODES[@]}"; do for x in $(pub_ids); do
    [ "$(events_of "$w" "$x")" -gt "${BASE[flow,$w,$x]}" ] || return 1
  done; done
}

s_server() {  # s_server NAME pause|kill: the broker frozen or killed mid-stream
  local name=$1 how=$2
  begin "$name" "$BACKEND" "broker $([ "$how" = pause ] && echo "frozen (SIGSTOP) for $((2 * FT / 1000)) s" || echo "killed (SIGKILL) mid-stream, restarted $((2 * FT / 1000)) s later")" \
    "nodes reconnect; every event delivered or reported by a Gap; nothing silent" "1 2 3" "1 2 3" || return
  settle 1000
  if [ "$how" = pause ]; then
    kill -STOP "$SERVER_PID"; settle $((2 * FT)); kill -CONT "$SERVER_PID"
  else
    kill_hard "$SERVER_PID"
    await 10000 eval '! kill -0 "$SERVER_PID" 2>/dev/null'
    settle $((2 * FT)); start_server
  fi
  mark_flow
  check "$name: events flow again to every watcher" await 60000 flowing
  RECOVER=$WAITED
  settle 2000
  finish_scenario
}

s_nats_cluster() {  # 3 NATS servers; the one node 1's watcher uses is killed
  local name=nats-cluster-kill victim="" k
  begin "$name" NatsCluster "of a 3-server NATS cluster, the server node 1 is connected to killed (SIGKILL)" \
    "the nodes on it reconnect to another server; nothing silent" "1 2 3" "1 2 3" || return
  settle 1000
  for k in 100 101 102; do
    lab_exec 1 ss -Htnp state established dst "$(lab_addr "$k")" | grep -q "pid=${WPID[1]}," && victim=$k
  done
  must "$name: node 1's server found" test -n "$victim" || return
  echo "     killing the server at $(lab_addr "$victim")"
  mark_flow
  kill_hard "${SRV[$victim]}"
  check "$name: events flow again to every watcher" await 60000 flowing
  RECOVER=$WAITED
  settle 2000
  finish_scenario
}

s_kafka_kraft() {  # 3-broker KRaft cluster: the partition leader killed, later restarted
  local name=kafka-kraft-leader-kill p leader t0 down=$((2 * FT))
  begin "$name" KafkaCluster "of a 3-broker KRaft cluster (RF 3, min.insync.replicas 2), the partition leader killed (SIGKILL) mid-stream, restarted $((down / 1000)) s later" \
    "a new leader takes over; no Gap, nothing lost; duplicates counted and bounded" "1 2 3" "1 2 3" || return
  settle 1000
  p=$(kraft_partition)
  must "$name: stwt.agora has a leader, 3 replicas, 3 in sync (kcat: '${p:-no answer}')" \
    test -n "$p" -a "${p#* }" = "3 3" || return
  leader=${p%% *}
  must "$name: the leader is one of the brokers (node.id $leader)" test -n "${SRV[$leader]:-}" || return
  echo "     killing the partition leader, broker $leader at $(lab_addr "$leader")"
  mark_flow
  t0=$(now_ms)
  kraft_kill "$leader"
  new_leader() { p=$(kraft_partition); [ -n "$p" ] && [ "${p%% *}" != "$leader" ] && [ "${p%% *}" -ge 0 ]; }
  check "$name: another broker becomes the leader" await 30000 new_leader
  DETECT=$(( WAITED < 0 ? -1 : $(now_ms) - t0 ))
  check "$name: events flow again to every watcher" await 60000 flowing
  RECOVER=$(( WAITED < 0 ? -1 : $(now_ms) - t0 ))
  echo "     new leader after ${DETECT} ms (${p:-?}), events flowing again after ${RECOVER} ms"
  settle $(( down - ($(now_ms) - t0) > 0 ? down - ($(now_ms) - t0) : 0 ))
  kraft_start "$leader"
  must "$name: broker $leader restarted" test -s "$SD/kafka$leader.pid" || return
  SRV[$leader]=$(cat "$SD/kafka$leader.pid")
  in_sync() { p=$(kraft_partition); [ "${p#* }" = "3 3" ]; }
  check "$name: the restarted broker is back in sync" await 60000 in_sync
  settle 2000
  # Kafka keeps every acknowledged event (RF 3, min.insync 2 survive one broker): no
  # Gap; duplicates (re-read after the group's coordinator moved) within 10 s of traffic
  kraft_figures() {
    local bound=$(( RATE * ${#PUBS[@]} * 10 * ${#NODES[@]} ))
    check "$name: no Gap reported ($3 events)" test "$3" -eq 0
    check "$name: duplicates to the application ($4) at most $bound" test "$4" -le "$bound"
  }
  EXTRA_CHECKS=kraft_figures
  finish_scenario
}

run() {
  local s=$1
  case $s in
    p2p-partition) s_partition ;;
    p2p-sigstop) s_sigstop ;;
    p2p-loss1) BACKEND_OF=PeerToPeer NODES_OF="1 2 3 4 5" s_loss p2p-loss1 1 20 10 0 ;;
    p2p-loss5) BACKEND_OF=PeerToPeer NODES_OF="1 2 3 4 5" s_loss p2p-loss5 5 20 10 -1 ;;
    p2p-lossy10) BACKEND_OF=PeerToPeer NODES_OF="1 2 3 4 5" s_loss p2p-lossy10 10 50 25 -1 ;;
    redis-loss) BACKEND_OF=Redis NODES_OF="1 2 3" s_loss redis-loss 5 20 10 -1 ;;
    nats-loss) BACKEND_OF=Nats NODES_OF="1 2 3" s_loss nats-loss 5 20 10 -1 ;;
    redis-cut) BACKEND=Redis s_cut redis-cut ;;
    nats-cut) BACKEND=Nats s_cut nats-cut ;;
    redis-pause) BACKEND=Redis s_server redis-pause pause ;;
    nats-pause) BACKEND=Nats s_server nats-pause pause ;;
    redis-kill) BACKEND=Redis s_server redis-kill kill ;;
    nats-kill) BACKEND=Nats s_server nats-kill kill ;;
    nats-cluster-kill) s_nats_cluster ;;
    kafka-loss) BACKEND_OF=Kafka NODES_OF="1 2 3" s_loss kafka-loss 5 20 10 -1 ;;
    kafka-cut) BACKEND=Kafka s_cut kafka-cut ;;
    kafka-pause) BACKEND=Kafka s_server kafka-pause pause ;;
    kafka-kill) BACKEND=Kafka s_server kafka-kill kill ;;
    kafka-kraft-leader-kill) s_kafka_kraft ;;
    *) echo "unknown scenario: $s (chaos.sh --list)"; FAILS=$((FAILS + 1)); return ;;
  esac
  if [ "${SCEN_DONE:-0}" -ne 1 ]; then
    check "$s: the scenario ran to its end" false
    abort_scenario
    results_header
    printf '%s\t%s\t%s\t%s\t\t\t\t\t\t\t\t\t\t\tFAIL\n' "$s" "$BACKEND" "$FAULT" "$EXPECT" >> "$RESULTS"
  fi
  [ "$FAILS" -eq "${SCEN_FAILS_BEFORE:-$FAILS}" ] || echo "     logs in ${SD:-$WORK}"
}

for s in $ONLY; do run "$s"; done
echo "results: $RESULTS"
finish
