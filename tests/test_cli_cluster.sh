#!/usr/bin/env bash
# test_cli_cluster.sh — the agora command on a real 3-node PeerToPeer cluster on
# loopback (free ports picked in 20000-40000):
#   - members (an observer: --node-id 9 and --listen are ignored) lists nodes 1-3
#     alive and not itself; the nodes log nothing about it
#   - watch as an observer with node 1's own file: every event, node 1's included,
#     with "receivedAt", and a warning that node 1's id is in use; --format table
#   - watch --join on nodes 2 and 3 (members, as every watch was before 0.2)
#   - events published on node 1 (arguments) reach watchers on nodes 2 and 3 exactly
#     (same JSON as agora's own encode/decode round trip gives), and nothing else
#   - publish reads stdin as a stream: a line is delivered while the input is open
#   - watch --timeout on a quiet cluster exits 3
#   - serve runs a node that the others see, and leaves gracefully on SIGTERM
#   - a SIGKILLed node is printed as MemberFailed by watch within the failure timeout,
#     and listed failed by members; with every node down members exits 4
. "$(dirname "$0")/test_cli_lib.sh"

read -r P1 P2 P3 PO < <(pick_ports 4)
p2p_config 1 $P1 $P2 $P3
p2p_config 2 $P2 $P1 $P3
p2p_config 3 $P3 $P1 $P2

# ---- a node run by serve; watchers on 2 and 3 ----
start_bg /dev/null "$WORK/serve1.err" "$AGORA" serve --config "$WORK/node1.json" --status-interval 200ms
SERVE=$BG
start_bg "$WORK/w2.jsonl" "$WORK/w2.err" "$AGORA" watch --join --config "$WORK/node2.json" --timeout 60s
W2=$BG
start_bg "$WORK/w3.jsonl" "$WORK/w3.err" "$AGORA" watch --join --config "$WORK/node3.json" --timeout 60s
W3=$BG
# observers: node 1's own file (node 1 is live), and a table
start_bg "$WORK/wo.jsonl" "$WORK/wo.err" "$AGORA" watch --config "$WORK/node1.json" --timeout 60s
WO=$BG
start_bg "$WORK/wt.txt" "$WORK/wt.err" "$AGORA" watch --config "$WORK/node2.json" --format table \
  --events-only --count 5 --timeout 60s
WT=$BG

formed() {
  wait_for "$WORK/w2.jsonl" '"node":1,"type":"MemberJoined"' 10000 &&
  wait_for "$WORK/w2.jsonl" '"node":3,"type":"MemberJoined"' 10000 &&
  wait_for "$WORK/w3.jsonl" '"node":1,"type":"MemberJoined"' 10000 &&
  wait_for "$WORK/w3.jsonl" '"node":2,"type":"MemberJoined"' 10000 &&
  wait_for "$WORK/serve1.err" 'status: 2 other members alive' 10000
}
check "3-node cluster forms (watch prints MemberJoined, serve logs the view)" formed

members_all_alive() {  # members_all_alive CONFIG ARGS...: 1, 2, 3 alive (no self)
  expect_status 0 '"backend":"PeerToPeer","connected":true' -- \
    "$AGORA" members --config "$@" --settle 5s || return 1
  python3 - "$WORK/last.out" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
alive = sorted(m["node"] for m in v if m["state"] == "alive")
assert alive == [1, 2, 3], ("alive", alive, v)
for m in v:
    assert set(m) >= {"node", "state", "address", "lastSeenMs", "sinceMs"}, m
    assert m["address"].startswith("127.0.0.1:"), m
    assert "self" not in m, m
    assert 0 <= m["lastSeenMs"] < 1000, m
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
check "members (an observer; --node-id 9 and --listen ignored) lists nodes 1, 2, 3 alive" \
  members_eventually "$WORK/node1.json" --node-id 9 --listen 127.0.0.1:$PO

# a node with the wrong secret reaches nobody: its events were sent nowhere (exit 4)
sed 's/test-cli-secret/not-the-secret/' "$WORK/node1.json" > "$WORK/wrong-secret.json"
check "publish with the wrong secret: no member alive, exit 4, says so" \
  expect_status 4 "no other member was alive: the 1 events were sent nowhere" -- \
  "$AGORA" publish --config "$WORK/wrong-secret.json" --node-id 8 --listen 127.0.0.1:$PO \
  --wait-members 1s '{"type":"StateChange","accountId":1,"changeId":99,"types":["Email"]}'

serve_logs_membership() {
  wait_for "$WORK/serve1.err" 'node 2 joined at 127\.0\.0\.1:'$P2 5000 &&
  wait_for "$WORK/serve1.err" 'node 3 joined at 127\.0\.0\.1:'$P3 5000 || return 1
  if grep -E 'node (0|9)[^0-9]|observer' "$WORK/serve1.err" "$WORK/w2.err" "$WORK/w3.err"; then
    echo "     a member logged the observers"; return 1
  fi
  if grep -E '"node":(0|9),' "$WORK/w2.jsonl" "$WORK/w3.jsonl"; then
    echo "     a member reported an observer"; return 1
  fi
}
check "serve logs membership changes (joins), nothing about the observers" serve_logs_membership

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
strip_received() {  # strip_received FILE: every line ends with a receivedAt; print them without
  python3 - "$1" <<'EOF'
import re, sys
for line in open(sys.argv[1]):
    at = re.search(r',"receivedAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"}$', line)
    assert at, ("no receivedAt at the end", line)
    print(line[:at.start()] + "}")
EOF
}
received_events() {  # received_events FILE: exact_events on the lines without receivedAt
  wait_for "$1" '"type":"RegistryReload"' 10000 || return 1
  strip_received "$1" > "$1.stripped" || return 1
  exact_events "$1.stripped"
}
check "watch on node 2 received exactly the 5 events, in order" received_events "$WORK/w2.jsonl"
check "watch on node 3 received exactly the 5 events, in order" received_events "$WORK/w3.jsonl"
check "the observer with node 1's file received node 1's 5 events too" \
  received_events "$WORK/wo.jsonl"
check "... and warned that node 1's id is in use" \
  wait_for "$WORK/wo.err" 'warning: traffic from node 1, the id .*node1\.json gives' 1000
table_rows() {
  wait_exit "$WT" 10000
  [ "$EXIT" -eq 0 ] || { echo "     watch --format table --count 5: exit $EXIT"; return 1; }
  python3 - "$WORK/wt.txt" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines[0].split() == ["RECEIVED", "NODE", "TYPE", "FIELDS"], lines[0]
types = []
for l in lines[1:]:
    m = re.match(r'^(\d{4}-\d\d-\d\dT[\d:.]+Z)\s+1\s+(\w+)\s+(\{.*\})$', l)
    assert m, ("bad row", l)
    types.append(m.group(2))
assert types == ["StateChange", "BlockIp", "CertificateUpdate", "CacheInvalidate", "RegistryReload"], types
EOF
}
check "watch --format table: a header and one row per event" table_rows
kill -TERM "$WO"
wait_exit "$WO" 10000

kill -TERM "$W2" "$W3"
wait_exit "$W2" 10000; E2=$EXIT
wait_exit "$W3" 10000; E3=$EXIT
check "watch without --count exits 0 on SIGTERM" test "$E2" -eq 0 -a "$E3" -eq 0

# ---- streaming: --count, --events-only, a line delivered while stdin is open ----
start_bg "$WORK/s2.jsonl" "$WORK/s2.err" "$AGORA" watch --join --config "$WORK/node2.json" \
  --events-only --count 2 --timeout 60s -v
S2=$BG
start_bg "$WORK/s3.jsonl" "$WORK/s3.err" "$AGORA" watch --join --config "$WORK/node3.json" \
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
start_bg /dev/null "$WORK/q1.err" "$AGORA" serve --config "$WORK/node1.json"
Q1=$BG
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

# ---- members lists the failed node too (from node 1's view, gossiped) ----
members_failed() {
  expect_status 0 "" -- "$AGORA" members --config "$WORK/node2.json" --settle 5s || return 1
  python3 - "$WORK/last.out" <<'EOF'
import json, sys
v = {m["node"]: m for m in json.load(open(sys.argv[1]))}
assert v.get(1, {}).get("state") == "alive", v
assert v.get(3, {}).get("state") == "failed", v
assert v[3]["sinceMs"] > 0 and v[3]["lastSeenMs"] >= v[3]["sinceMs"], v[3]
EOF
}
check "members after the SIGKILL: node 1 alive, node 3 failed (with since)" members_failed
kill -TERM "$Q1"
wait_exit "$Q1" 10000
check "members with every node down: prints [], exit 4" \
  expect_status 4 "no member was heard within 500 ms" -- \
  "$AGORA" members --config "$WORK/node2.json" --settle 500ms

finish
