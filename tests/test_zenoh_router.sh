#!/usr/bin/env bash
# test_zenoh_router.sh — the Zenoh backend in client mode through a Zenoh router
# (Zenoh's own, from its Python binding), and over TLS:
#   - two watchers and a publisher, all clients of one router: a stream crosses it;
#     the router is killed mid-stream and started again on the same endpoint: every
#     node reconnects, and each watcher accounts for every event of the stream,
#     received in order or reported in a Gap (never silently lost)
#   - two peers over a TLS endpoint, with a certificate authority and a server
#     certificate made by openssl here: events cross; a peer that does not trust the
#     certificate receives nothing
. "$(dirname "$0")/test_cli_lib.sh"
. "$(dirname "$0")/zenoh_lib.sh"
node_file() { zenoh_node_file "$1" "$2" '{"failureTimeout":"1500ms"}'; } # node_file ID JSON5

read -r PR PT < <(pick_ports 2)

# ---- client mode through a router, restarted mid-stream ----
start_router() {
  start_bg "$WORK/router$1.out" "$WORK/router$1.err" "$PY" "$PY_DIR/router.py" "tcp/127.0.0.1:$PR"
  ROUTER=$BG
  wait_for "$WORK/router$1.out" '^ready$' 30000
}
check "a Python Zenoh router is ready" start_router 1
CLIENT="{ mode: \"client\", connect: { endpoints: [\"tcp/127.0.0.1:$PR\"] }, $NOSCOUT }"
for id in 1 2 3; do node_file $id "$CLIENT"; done
start_bg "$WORK/w1.jsonl" "$WORK/w1.err" "$AGORA" watch --join --config "$WORK/node1.json" --timeout 120s -v
start_bg "$WORK/w2.jsonl" "$WORK/w2.err" "$AGORA" watch --join --config "$WORK/node2.json" --timeout 120s -v
mkfifo "$WORK/in.fifo"
"$AGORA" publish --config "$WORK/node3.json" -v < "$WORK/in.fifo" > /dev/null 2> "$WORK/pub.err" &
PUB=$!
BG_PIDS+=("$PUB")
exec 5> "$WORK/in.fifo"
joined() {
  wait_for "$WORK/w1.jsonl" '"node":3,"type":"MemberJoined"' 15000 &&
  wait_for "$WORK/w2.jsonl" '"node":3,"type":"MemberJoined"' 15000 &&
  wait_for "$WORK/pub.err" 'agora publish: ready: 2 other' 15000
}
check "three clients of the router see each other" joined
n=0
emit 40
kill -KILL "$ROUTER"
check "the nodes notice the router is gone" \
  wait_for "$WORK/w1.err" 'Zenoh backend disconnected' 10000
emit 20
{ check "the router starts again on the same endpoint" start_router 2; } 5>&-
reconnected() {
  wait_for "$WORK/w1.err" 'Zenoh backend connected' 20000 2 &&
  wait_for "$WORK/w2.err" 'Zenoh backend connected' 20000 2 &&
  wait_for "$WORK/pub.err" 'Zenoh backend connected' 20000 2
}
check "every node reconnects" reconnected
emit 40
exec 5>&-
wait_exit "$PUB" 20000
check "the publisher exits 0 (every event handed over)" test "$EXIT" -eq 0
accounted() {  # accounted FILE: each of the n events received in order, or in a Gap
  local deadline=$(( $(now_ms) + 20000 ))
  while :; do
    python3 - "$1" "$n" <<'EOF' && return 0
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
missed = sum(l["missed"] for l in lines if l["type"] == "Gap" and l["node"] == 3)
ids = [l["changeId"] for l in lines if l["type"] == "StateChange"]
ok = ids == sorted(set(ids)) and all(1 <= i <= n for i in ids) and len(ids) + missed == n
if not ok:
    sys.exit(1)
print("     %d received, %d reported missed" % (len(ids), missed))
EOF
    if [ "$(now_ms)" -ge "$deadline" ]; then
      echo "     not accounted for: $(grep -c StateChange "$1") received, gaps: $(grep Gap "$1" | tr '\n' ' ')"
      return 1
    fi
    sleep 0.2
  done
}
check "watcher 1 accounts for all $n events (received in order, or a Gap)" accounted "$WORK/w1.jsonl"
check "watcher 2 too" accounted "$WORK/w2.jsonl"
check "the stream's last events arrived after the restart" \
  grep -q "\"changeId\":$n," "$WORK/w1.jsonl"

# ---- TLS, with certificates made here ----
( cd "$WORK" &&
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=agora test CA" \
    -keyout ca.key -out ca.pem &&
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr &&
  printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' > ext.cnf &&
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile ext.cnf -out server.pem &&
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
    -keyout other.key -out other.pem ) > "$WORK/openssl.log" 2>&1
check "openssl made a CA and a certificate for localhost" test -s "$WORK/server.pem"
node_file 4 "{ mode: \"peer\", listen: { endpoints: [\"tls/localhost:$PT\"] }, $NOSCOUT,
  transport: { link: { tls: { root_ca_certificate: \"$WORK/ca.pem\",
    listen_private_key: \"$WORK/server.key\", listen_certificate: \"$WORK/server.pem\" } } } }"
node_file 5 "{ mode: \"peer\", listen: { endpoints: [] }, connect: { endpoints: [\"tls/localhost:$PT\"] },
  $NOSCOUT, transport: { link: { tls: { root_ca_certificate: \"$WORK/ca.pem\" } } } }"
node_file 6 "{ mode: \"peer\", listen: { endpoints: [] }, connect: { endpoints: [\"tls/localhost:$PT\"] },
  $NOSCOUT, transport: { link: { tls: { root_ca_certificate: \"$WORK/other.pem\" } } } }"
start_bg "$WORK/t4.jsonl" "$WORK/t4.err" "$AGORA" watch --join --config "$WORK/node4.json" --timeout 60s
T4=$BG
check "a peer that trusts the CA joins over TLS" \
  expect_status 0 "" -- "$AGORA" publish --config "$WORK/node5.json" \
  '{"type":"BlockIp","address":"198.51.100.9/32","reason":"tls"}'
check "... and its event arrives" wait_for "$WORK/t4.jsonl" '"node":5,"type":"BlockIp"' 10000
check "a peer that does not trust the certificate reaches nobody (exit 4: sent nowhere)" \
  expect_status 4 "sent nowhere" -- "$AGORA" publish --config "$WORK/node6.json" \
  --wait-members 2s --flush-timeout 1s '{"type":"BlockIp","address":"198.51.100.10/32","reason":"untrusted"}'
check "... and nothing from it arrives" bash -c "! grep -q '\"node\":6' '$WORK/t4.jsonl'"

finish
