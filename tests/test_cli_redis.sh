#!/usr/bin/env bash
# test_cli_redis.sh — the agora command on a broker backend (a real redis-server on a
# free loopback port, started and stopped here):
#   - publish/watch with agora's codec: the event arrives, membership works; an
#     observing watch (no node id) gets it too, is reported by nobody, and marks
#     the server's restart with BackendDisconnected / BackendReconnected lines
#   - watch --codec stalwart shows a Stalwart cluster's own batches (written to
#     stwt.agora with redis-cli, as a Stalwart node would) as JSON lines
#   - publish --codec stalwart writes batches that a stalwart-codec watcher reads
# Exit 77 (skipped) when redis-server or redis-cli is not installed, or agora was
# built without the Redis backend.
. "$(dirname "$0")/test_cli_lib.sh"

command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
  { echo "redis-server/redis-cli not installed: skipped"; exit 77; }

read -r RP < <(pick_ports 1)
start_bg "$WORK/redis.out" "$WORK/redis.err" redis-server --port "$RP" --bind 127.0.0.1 \
  --save '' --appendonly no
REDIS=$BG
check "redis-server is up" wait_for "$WORK/redis.out" 'Ready to accept connections' 10000

echo '{"nodeId": 1, "heartbeatInterval": "100ms", "failureTimeout": "1s",
 "coordinator": {"@type": "Redis", "url": "redis://127.0.0.1:'"$RP"'"}}' > "$WORK/redis.json"
SC='{"type":"StateChange","accountId":42,"changeId":9,"types":["Email","Mailbox"]}'
if "$AGORA" watch --config "$WORK/redis.json" --timeout 1ms 2>&1 | grep -q 'has no Redis backend'; then
  echo "this agora was built without the Redis backend (hiredis): skipped"; exit 77
fi
SC_OUT='{"node":1,"type":"StateChange","accountId":42,"changeId":9,"types":["Email","Mailbox"]}'

# ---- agora codec: membership and events over the broker ----
start_bg "$WORK/w.jsonl" "$WORK/w.err" "$AGORA" watch --join --config "$WORK/redis.json" --node-id 2 \
  --timeout 30s -v
W=$BG
start_bg "$WORK/o.jsonl" "$WORK/o.err" "$AGORA" watch --config "$WORK/redis.json" --timeout 60s -v
O=$BG
check "watch on Redis connects" wait_for "$WORK/w.err" 'subscribed|backend connected' 10000
check "the observing watch connects" wait_for "$WORK/o.err" 'subscribed|backend connected' 10000
check "publish over Redis waits for the watcher, exit 0" \
  expect_status 0 "" -- "$AGORA" publish --config "$WORK/redis.json" "$SC"
check "... the watcher saw node 1 join" wait_for "$WORK/w.jsonl" '"node":1,"type":"MemberJoined"' 5000
check "... and received the event" wait_for "$WORK/w.jsonl" '"node":1,"type":"StateChange","accountId":42' 5000
no_received() { sed 's/,"receivedAt":"[-0-9T:.]*Z"}$/}/' "$1"; }
check "... exactly" grep -qxF "$SC_OUT" <(no_received "$WORK/w.jsonl")
check "the observer received it too, exactly" grep -qxF "$SC_OUT" <(no_received "$WORK/o.jsonl")
check "... and saw both members join" wait_for "$WORK/o.jsonl" '"node":2,"type":"MemberJoined"' 5000
kill -TERM "$W"
wait_exit "$W" 10000
check "watch exits 0 on SIGTERM" test "$EXIT" -eq 0
check "the observer sees node 2 leave" wait_for "$WORK/o.jsonl" '"node":2,"type":"MemberLeft"' 5000
not_reported() {  # the member (-v: info logs) never mentioned a node 0 or an observer
  if grep -E 'node 0[^-9]|observer' "$WORK/w.err"; then echo "     logged"; return 1; fi
  if grep -E '"node":0,' "$WORK/w.jsonl"; then echo "     reported"; return 1; fi
}
check "the member never reported the observer" not_reported
# the server restarts under the observer: two lines mark the hole
kill -TERM "$REDIS"
wait_exit "$REDIS" 10000
check "the observer marks the disconnection" \
  wait_for "$WORK/o.jsonl" '^\{"type":"BackendDisconnected","backend":"Redis","server":".*","receivedAt":"' 5000
start_bg "$WORK/redis2.out" "$WORK/redis2.err" redis-server --port "$RP" --bind 127.0.0.1 \
  --save '' --appendonly no
REDIS=$BG
check "redis-server is up again" wait_for "$WORK/redis2.out" 'Ready to accept connections' 10000
check "the observer marks the reconnection" \
  wait_for "$WORK/o.jsonl" '^\{"type":"BackendReconnected","backend":"Redis",' 10000
kill -TERM "$O"
wait_exit "$O" 10000
check "the observing watch exits 0 on SIGTERM" test "$EXIT" -eq 0

# ---- stalwart codec: Stalwart's own batches ----
start_bg "$WORK/s.jsonl" "$WORK/s.err" "$AGORA" watch --config "$WORK/redis.json" --node-id 2 \
  --codec stalwart --count 2 --timeout 30s -v
S=$BG
check "stalwart watcher connects" wait_for "$WORK/s.err" 'subscribed|backend connected' 10000
# A Stalwart node 7 publishing a batch, byte for byte as Stalwart writes it.
echo "$SC" | "$AGORA" encode --codec stalwart --node-id 7 > "$WORK/batch.bin"
check "a raw Stalwart batch published with redis-cli" \
  bash -c 'redis-cli -p "$1" -x publish stwt.agora < "$2" | grep -q "^[1-9]"' _ "$RP" "$WORK/batch.bin"
check "watch --codec stalwart prints it as node 7's" \
  wait_for "$WORK/s.jsonl" '^\{"node":7,"type":"StateChange","accountId":42,"changeId":9,' 5000
check "publish --codec stalwart: exit 0" \
  expect_status 0 "" -- "$AGORA" publish --config "$WORK/redis.json" --codec stalwart "$SC"
wait_exit "$S" 10000
check "watch --codec stalwart --count 2: exit 0" test "$EXIT" -eq 0
check "... the second line is agora's stalwart batch from node 1" \
  bash -c '[ "$(sed -n 2p "$1" | sed "s/,\"receivedAt\":\"[-0-9T:.]*Z\"}\$/}/")" = "$2" ]' _ \
  "$WORK/s.jsonl" "$SC_OUT"

finish
