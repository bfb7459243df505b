#!/usr/bin/env bash
# test_cli_cluster.sh — the agora command on a real 3-node PeerToPeer cluster on
# loopback (free ports picked in 20000-40000):
#   - members, run as an observer (node 9, --listen), lists nodes 1-3 alive
#   - events published on node 1 (arguments) reach watchers on nodes 2 and 3 exactly
#     (same JSON as agora's own encode/decode round trip gives), and nothing else
#   - publish reads stdin as a stream: a line is delivered while the input is open
#   - watch --timeout on a quiet cluster exits 3
#   - serve runs a node that the others see, and leaves gracefully on SIGTERM
#   - a SIGKILLed node is printed as MemberFailed by watch within the failure timeout
. "$(dirname "$0")/test_cli_lib.sh"

read -r P1 P2 P3 PO < <(pick_ports 4)
p2p_config 1 $P1 $P2 $P3
p2p_config 2 $P2 $P1 $P3
p2p_config 3 $P3 $P1 $P2

# ---- a node run by serve; watchers on 2 and 3 ----
start_bg /dev/null "$WORK/serve1.err" "$AGORA" serve --config "$WORK/node1.json" --status-interval 200ms
SERVE=$BG
start_bg "$WORK/w2.jsonl" "$WORK/w2.err" "$AGORA" watch --config "$WORK/node2.json" --timeout 60s
W2=$BG
start_bg "$WORK/w3.jsonl" "$WORK/w3.err" "$AGORA" watch --config "$WORK/node3.json" --timeout 60s
W3=$BG

formed() {
  wait_for "$WORK/w2.jsonl" '"node":1,"type":"MemberJoined"' 10000 &&
  wait_for "$WORK/w2.jsonl" '"node":3,"type":"MemberJoined"' 10000 &&
  wait_for "$WORK/w3.jsonl" '"node":1,"type":"MemberJoined"' 10000 &&
  wait_for "$WORK/w3.jsonl" '"node":2,"type":"MemberJoined"' 10000 &&
  wait_for "$WORK/serve1.err" 'status: 2 other members alive' 10000
}
check "3-node cluster forms (watch prints MemberJoined, serve logs the view)" formed

members_all_alive() {  # members_all_alive CONFIG ARGS...: 1, 2, 3 alive (+ self)
  expect_status 0 '"backend":"PeerToPeer","connected":true' -- \
    "$AGORA" members --config "$@" --settle 5s || return 1
  python3 - "$WORK/last.out" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
alive = sorted(m["node"] for m in v if m["state"] == "alive")
assert alive == [1, 2, 3, 9], ("alive", alive, v)
for m in v:
    assert set(m) >= {"node", "state", "address", "lastSeenMs"}, m
    assert m["address"].startswith("127.0.0.1:"), m
    assert m.get("self", False) == (m["node"] == 9), m
    assert m.get("self") or 0 <= m["lastSeenMs"] < 1000, m
EOF
}
members_eventually() {  # a loaded machine may need more than one settle window
  local try
  for try in 1 2 3; do
    members_all_alive "$@" && return 0
    echo "     (attempt $try: $(tr -d '\n' < "$WORK/last.out"))"
  done
  return 1
}
check "members (observer node 9) lists nodes 1, 2, 3 alive" \
  members_eventually "$WORK/node1.json" --node-id 9 --listen 127.0.0.1:$PO

# a node with the wrong secret reaches nobody: its events were sent nowhere (exit 4)
sed 's/test-cli-secret/not-the-secret/' "$WORK/node1.json" > "$WORK/wrong-secret.json"
check "publish with the wrong secret: no member alive, exit 4, says so" \
  expect_status 4 "no other member was alive: the 1 events were sent nowhere" -- \
  "$AGORA" publish --config "$WORK/wrong-secret.json" --node-id 8 --listen 127.0.0.1:$PO \
  --wait-members 1s '{"type":"StateChange","accountId":1,"changeId":99,"types":["Email"]}'

serve_logs_membership() {
  wait_for "$WORK/serve1.err" 'node 2 joined at 127\.0\.0\.1:'$P2 5000 &&
  wait_for "$WORK/serve1.err" 'node 3 joined at 127\.0\.0\.1:'$P3 5000 &&
  wait_for "$WORK/serve1.err" 'node 9 left' 5000
}
check "serve logs membership changes (joins, the observer leaving)" serve_logs_membership

# ---- publish arguments on node 1 (the serve node stops first: same node id) ----
kill -TERM "$SERVE"
wait_exit "$SERVE" 10000
check "serve exits 0 on SIGTERM" test "$EXIT" -eq 0
check "the others see serve's node leave (MemberLeft, not MemberFailed)" \
  wait_for "$WORK/w2.jsonl" '"node":1,"type":"MemberLeft"' 5000

cat > "$WORK/events.jsonl" <<'EOF'
{"type":"StateChange","accountId":42,"changeId":18446744073709551615,"types":["Email","Mailbox","Thread"]}
{"type":"BlockIp","address":"203.0.113.0/24","expires":"2030-01-01T00:00:00Z","reason":"brute force"}
{"type":"CertificateUpdate","domains":["mail.example.org"],"notAfter":"2027-01-01T00:00:00Z","sha256":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff","chain":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
{"type":"CacheInvalidate","items":[{"kind":"Account","id":7},{"kind":"Domain","id":3}]}
{"type":"RegistryReload","object":"Certificate"}
EOF
# What a receiver must print: agora's own round trip of the same events from node 1.
"$AGORA" encode --codec agora --node-id 1 < "$WORK/events.jsonl" |
  "$AGORA" decode --codec agora > "$WORK/expected.jsonl" 2>/dev/null
check "expected output computed (encode | decode)" test "$(wc -l < "$WORK/expected.jsonl")" -eq 5

mapfile -t EVS < "$WORK/events.jsonl"
check "publish 5 events as arguments on node 1: exit 0" \
  expect_status 0 "" -- "$AGORA" publish --config "$WORK/node1.json" "${EVS[@]}"

exact_events() {  # exact_events FILE: the non-member lines equal expected.jsonl
  wait_for "$1" '"type":"RegistryReload"' 10000 || return 1
  grep -v '"type":"Member' "$1" > "$1.events"
  diff -u "$WORK/expected.jsonl" "$1.events" || return 1
}
check "watch on node 2 received exactly the 5 events, in order" exact_events "$WORK/w2.jsonl"
check "watch on node 3 received exactly the 5 events, in order" exact_events "$WORK/w3.jsonl"

kill -TERM "$W2" "$W3"
wait_exit "$W2" 10000; E2=$EXIT
wait_exit "$W3" 10000; E3=$EXIT
check "watch without --count exits 0 on SIGTERM" test "$E2" -eq 0 -a "$E3" -eq 0

# ---- streaming: --count, --events-only, a line delivered while stdin is open ----
start_bg "$WORK/s2.jsonl" "$WORK/s2.err" "$AGORA" watch --config "$WORK/node2.json" \
  --events-only --count 2 --timeout 60s -v
S2=$BG
start_bg "$WORK/s3.jsonl" "$WORK/s3.err" "$AGORA" watch --config "$WORK/node3.json" \
  --events-only --count 2 --timeout 60s -v
S3=$BG
see_each_other() {  # -v shows the library's membership log lines
  wait_for "$WORK/s2.err" 'node 3 (joined|restarted)' 10000 &&
  wait_for "$WORK/s3.err" 'node 2 (joined|restarted)' 10000
}
check "stream watchers see each other" see_each_other
mkfifo "$WORK/in.fifo"
"$AGORA" publish --config "$WORK/node1.json" -v < "$WORK/in.fifo" > /dev/null 2> "$WORK/pub.err" &
PUB=$!
BG_PIDS+=("$PUB")
exec 5> "$WORK/in.fifo"
echo '{"type":"StateChange","accountId":1,"changeId":1,"types":["Email"]}' >&5
check "a streamed line arrives while publish's input is still open" \
  wait_for "$WORK/s2.jsonl" '"changeId":1,' 10000
check "watch --events-only prints no membership notices" \
  bash -c "! grep -q Member '$WORK/s2.jsonl' '$WORK/s3.jsonl'"
echo '{"type":"StateChange","accountId":1,"changeId":2,"types":["Email"]}' >&5
exec 5>&-
wait_exit "$PUB" 15000
check "publish exits 0 at the end of its input" test "$EXIT" -eq 0
wait_exit "$S2" 10000; E2=$EXIT
wait_exit "$S3" 10000; E3=$EXIT
check "watch --count 2 exits 0 after 2 lines" test "$E2" -eq 0 -a "$E3" -eq 0
check "... and printed exactly 2 lines" \
  test "$(wc -l < "$WORK/s2.jsonl")" -eq 2 -a "$(wc -l < "$WORK/s3.jsonl")" -eq 2

# ---- a quiet cluster: watch --timeout exits 3 ----
start_bg /dev/null "$WORK/q3.err" "$AGORA" serve --config "$WORK/node3.json"
Q3=$BG
t0=$(now_ms)
check "watch --count 1 --timeout 1s with no traffic: exit 3" \
  expect_status 3 "timed out after 0 of 1 lines" -- \
  "$AGORA" watch --config "$WORK/node2.json" --events-only --count 1 --timeout 1s
t1=$(now_ms)
check "... after about 1s" test $((t1 - t0)) -ge 1000 -a $((t1 - t0)) -lt 8000

# ---- SIGKILL: watch prints MemberFailed within the failure timeout (1s) ----
start_bg "$WORK/f2.jsonl" "$WORK/f2.err" "$AGORA" watch --config "$WORK/node2.json" --timeout 30s
check "watch sees the serve node" wait_for "$WORK/f2.jsonl" '"node":3,"type":"MemberJoined"' 10000
kill -KILL "$Q3"
t0=$(now_ms)
check "watch prints MemberFailed for a SIGKILLed node" \
  wait_for "$WORK/f2.jsonl" '"node":3,"type":"MemberFailed","address":"127\.0\.0\.1:'$P3'"' 10000
t1=$(now_ms)
check "... within the failure timeout plus a heartbeat ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 2500

finish
