#!/usr/bin/env bash
# test_cli_secrets.sh — secrets never appear in any output (issue #14). Distinctive
# secrets are planted in every secret-bearing field of every backend (secret, the bus
# "secret" list, authSecret, sentinelSecret, credentials, passwords in URLs and in
# addresses), then every output path is searched for them: `config check` of valid
# and invalid files, the errors of the node commands, their logs at -v -v (serve,
# watch, publish, members), the status JSON and the members output. The brokers are
# not running (their addresses are closed ports): connection errors are an output
# path too. A PeerToPeer pair runs for real, so status and members have content.
. "$(dirname "$0")/test_cli_lib.sh"

TOKEN=PlantedSecret
read -r P1 P2 CLOSED < <(pick_ports 3)

# ---- one file per backend, every secret field planted ----
cat > "$WORK/p2p1.json" <<EOF
{"nodeId": 1, "heartbeatInterval": "100ms", "failureTimeout": "1s",
 "coordinator": {"@type": "PeerToPeer", "listen": "127.0.0.1:$P1", "peers": ["127.0.0.1:$P2"],
                 "secret": "${TOKEN}P2p"}, "httpToken": "${TOKEN}HttpToken"}
EOF
sed -e "s/\"nodeId\": 1/\"nodeId\": 2/" -e "s/127.0.0.1:$P1\", \"peers\": \[\"127.0.0.1:$P2\"\]/127.0.0.1:$P2\", \"peers\": [\"127.0.0.1:$P1\"]/" \
  "$WORK/p2p1.json" > "$WORK/p2p2.json"
cat > "$WORK/redis.json" <<EOF
{"nodeId": 3, "coordinator": {"@type": "Redis", "url": "redis://user:${TOKEN}RedisUrl@127.0.0.1:$CLOSED",
 "secret": ["${TOKEN}Bus1", "${TOKEN}Bus2"]}}
EOF
cat > "$WORK/cluster.json" <<EOF
{"nodeId": 3, "coordinator": {"@type": "RedisCluster",
 "urls": ["redis://u:${TOKEN}ClusterUrl@127.0.0.1:$CLOSED"], "authUsername": "u",
 "authSecret": "${TOKEN}ClusterAuth", "secret": "${TOKEN}ClusterBus"}}
EOF
cat > "$WORK/sentinel.json" <<EOF
{"nodeId": 3, "coordinator": {"@type": "RedisSentinel",
 "urls": ["redis://:${TOKEN}SentinelUrl@127.0.0.1:$CLOSED"], "authSecret": "${TOKEN}SentAuth",
 "sentinelUsername": "s", "sentinelSecret": "${TOKEN}SentinelSecret", "secret": "${TOKEN}SentBus"}}
EOF
cat > "$WORK/nats.json" <<EOF
{"nodeId": 3, "coordinator": {"@type": "Nats", "addresses": ["127.0.0.1:$CLOSED"],
 "authUsername": "u", "authSecret": "${TOKEN}NatsAuth", "secret": "${TOKEN}NatsBus",
 "maxReconnects": 0}}
EOF
cat > "$WORK/natscred.json" <<EOF
{"nodeId": 3, "coordinator": {"@type": "Nats", "addresses": ["127.0.0.1:$CLOSED"],
 "credentials": "${TOKEN}NatsCredentials", "secret": "${TOKEN}NatsBus2"}}
EOF
cat > "$WORK/kafka.json" <<EOF
{"nodeId": 3, "coordinator": {"@type": "Kafka", "brokers": ["127.0.0.1:$CLOSED"],
 "groupId": "g", "secret": "${TOKEN}KafkaBus"}}
EOF
VALID="p2p1 redis cluster sentinel nats natscred kafka"

# ---- invalid files: credentials where they are refused, and other errors next to secrets ----
cat > "$WORK/bad-natsurl.json" <<EOF
{"nodeId": 3, "coordinator": {"@type": "Nats", "addresses": ["nats://u:${TOKEN}NatsAddr@127.0.0.1:4222"]}}
EOF
cat > "$WORK/bad-kafkaurl.json" <<EOF
{"nodeId": 3, "coordinator": {"@type": "Kafka", "groupId": "g",
 "brokers": ["u:${TOKEN}KafkaBroker@127.0.0.1:9092", "kafka://${TOKEN}KafkaLone@h:1"]}}
EOF
cat > "$WORK/bad-redisurl.json" <<EOF
{"nodeId": 3, "coordinator": {"@type": "Redis", "url": "redis://u:${TOKEN}BadRedis@127.0.0.1:x/y?z",
 "secret": "${TOKEN}BadBus", "timeout": "soon"}}
EOF
cat > "$WORK/bad-p2p.json" <<EOF
{"nodeId": 3, "coordinator": {"@type": "PeerToPeer", "secret": "${TOKEN}BadP2p", "listen": 5}}
EOF
cat > "$WORK/bad-secret.json" <<EOF
{"nodeId": 3, "coordinator": {"@type": "Redis", "secret": ["${TOKEN}Dup", "${TOKEN}Dup"]}}
EOF
cat > "$WORK/bad-type.json" <<EOF
{"nodeId": 3, "coordinator": {"@type": "Nats", "authSecret": 7, "credentials": ["${TOKEN}List"],
 "secret": {"k": "${TOKEN}Obj"}}}
EOF
INVALID="bad-natsurl bad-kafkaurl bad-redisurl bad-p2p bad-secret bad-type"

# no_secret FILE...: none of the planted secrets is in the files
no_secret() {
  if grep -l -- "$TOKEN" "$@" 2>/dev/null; then
    grep -h -- "$TOKEN" "$@" | head -3 | sed 's/^/     leaked: /'
    return 1
  fi
  return 0
}

for f in $VALID; do
  check "config check $f.json: valid" \
    expect_status 0 "" -- "$AGORA" config check "$WORK/$f.json"
  cp "$WORK/last.out" "$WORK/check-$f.out"; cp "$WORK/last.err" "$WORK/check-$f.err"
  check "... no secret in its output" no_secret "$WORK/check-$f.out" "$WORK/check-$f.err"
  check "... secrets printed masked" grep -q '\*\*\*\*\*\*\*\*' "$WORK/check-$f.out"
done
for f in $INVALID; do
  check "config check $f.json: refused" \
    expect_status 2 "$f.json: " -- "$AGORA" config check "$WORK/$f.json"
  cp "$WORK/last.out" "$WORK/check-$f.out"; cp "$WORK/last.err" "$WORK/check-$f.err"
  check "... no secret in the errors" no_secret "$WORK/check-$f.out" "$WORK/check-$f.err"
  for cmd in serve watch; do
    "$AGORA" "$cmd" --config "$WORK/$f.json" -v -v > "$WORK/$cmd-$f.out" 2> "$WORK/$cmd-$f.err" < /dev/null
    check "... $cmd refuses it without a secret in its error" \
      no_secret "$WORK/$cmd-$f.out" "$WORK/$cmd-$f.err"
  done
done

# ---- the brokers, down: open, connection errors, logs at -v -v ----
for f in redis cluster sentinel nats natscred kafka; do
  "$AGORA" watch --config "$WORK/$f.json" -v -v --timeout 1500ms > "$WORK/watch-$f.out" 2> "$WORK/watch-$f.err" < /dev/null
  "$AGORA" publish --config "$WORK/$f.json" -v -v --wait-members 0 --flush-timeout 500ms \
    '{"type":"CacheInvalidateAll"}' > "$WORK/publish-$f.out" 2> "$WORK/publish-$f.err" < /dev/null
  start_bg "$WORK/serve-$f.out" "$WORK/serve-$f.err" "$AGORA" serve --config "$WORK/$f.json" \
    -v -v --status-interval 300ms
  S=$BG
  wait_for "$WORK/serve-$f.err" 'status: ' 5000 >/dev/null
  kill -TERM "$S" 2>/dev/null; wait_exit "$S" 10000
  check "$f: watch, publish, serve at -v -v: no secret in any output" \
    no_secret "$WORK/"{watch,publish,serve}-"$f".{out,err}
done

# ---- a PeerToPeer pair, for real: status JSON, members, events ----
start_bg "$WORK/serve-p2p.out" "$WORK/serve-p2p.err" "$AGORA" serve --config "$WORK/p2p1.json" \
  -v -v --status-interval 300ms --http 127.0.0.1:0
S=$BG
start_bg "$WORK/watch-p2p.out" "$WORK/watch-p2p.err" "$AGORA" watch --config "$WORK/p2p2.json" \
  --join -v -v --count 2 --timeout 20s
W=$BG
check "p2p: the watcher sees node 1" wait_for "$WORK/watch-p2p.out" '"type":"MemberJoined"' 10000
check "p2p: publish (node 3, listening elsewhere)" \
  expect_status 0 "" -- "$AGORA" publish --config "$WORK/p2p1.json" --node-id 3 \
  --listen "127.0.0.1:$CLOSED" -v -v '{"type":"CacheInvalidateAll"}'
cp "$WORK/last.err" "$WORK/publish-p2p.err"
check "p2p: members" expect_status 0 "" -- "$AGORA" members --config "$WORK/p2p1.json" \
  --node-id 4 --listen "127.0.0.1:$CLOSED" -v -v
cp "$WORK/last.out" "$WORK/members-p2p.out"; cp "$WORK/last.err" "$WORK/members-p2p.err"
check "... members printed the view" grep -q '"node"' "$WORK/members-p2p.out"
check "p2p: serve logged its status JSON" wait_for "$WORK/serve-p2p.err" 'status: .*"backend":"PeerToPeer"' 5000
# The admin endpoint (httpToken planted in the node file): every route it answers.
check "p2p: serve --http is listening" wait_for "$WORK/serve-p2p.err" 'admin endpoint on http://' 5000
URL=$(grep -o 'admin endpoint on http://[^ ]*' "$WORK/serve-p2p.err" | head -1 | sed 's/^admin endpoint on //')
printf '%s' "${TOKEN}HttpToken" > "$WORK/token"
for route in metrics api/status api/members api/config "api/config/schema?type=node" \
             "api/config/schema?type=PeerToPeer"; do
  curl -s -H "Authorization: Bearer ${TOKEN}HttpToken" "${URL%/}/$route" >> "$WORK/http.out" 2>&1
done
curl -s -X POST --data-binary @"$WORK/bad-natsurl.json" -H "Authorization: Bearer ${TOKEN}HttpToken" \
  "${URL%/}/api/config/check" >> "$WORK/http.out" 2>&1
curl -s "${URL%/}/api/status" >> "$WORK/http.out" 2>&1 # refused: no token
check "p2p: the admin endpoint answered" grep -qE '"httpToken": ?"\*{8}"' "$WORK/http.out"
"$AGORA" status --from "${URL#http://}" --token-file "$WORK/token" --json > "$WORK/status-from.out" 2>&1
"$AGORA" members --from "${URL#http://}" --token-file "$WORK/token" --json > "$WORK/members-from.out" 2>&1
check "p2p: no secret in the admin endpoint's answers, nor in status/members --from" \
  no_secret "$WORK/http.out" "$WORK/status-from.out" "$WORK/members-from.out"
kill -TERM "$S"; wait_exit "$S" 10000
kill -TERM "$W" 2>/dev/null; wait_exit "$W" 10000
check "p2p: no secret in serve, watch, publish, members output" \
  no_secret "$WORK/"{serve,watch}-p2p.{out,err} "$WORK/publish-p2p.err" "$WORK/members-p2p".{out,err}
check "nothing anywhere in the work directory but the configuration and token files" \
  bash -c '! grep -rl -- "$1" "$2" | grep -v -e "\.json$" -e "/token$"' _ "$TOKEN" "$WORK"
finish
