#!/usr/bin/env bash
# test_zenoh_agora.sh — the Zenoh backend through the agora command, against Zenoh's
# own implementation (its Python binding, tests/support/zenoh_py) and among agora
# nodes; every link is an explicit loopback TCP endpoint, with multicast scouting and
# gossip off (one link per pair, nothing found by chance):
#   - Stalwart's vectors published by a Python peer: `agora watch --codec stalwart`
#     prints exactly the matching .jsonl
#   - `agora publish --codec stalwart` of each .jsonl: the Python subscriber receives
#     bytes identical to the .bin
#   - a 3-node agora cluster in peer mode (+ a publishing node): delivery with the
#     agora codec, a SIGKILLed node reported failed, its restart seen as a rejoin, and
#     a stream published throughout reaches the live nodes whole (no Gap)
#   - bad configurations: not JSON5, an unknown key, an unreachable endpoint
. "$(dirname "$0")/test_cli_lib.sh"
. "$(dirname "$0")/zenoh_lib.sh"
: "${AGORA_VECTORS:?}"
VEC="$AGORA_VECTORS/stalwart"
node_file() { zenoh_node_file "$1" "$3" "{\"codec\":\"$2\"}"; } # node_file ID CODEC JSON5

# same_events A B: the JSON lines of A and B are the same events (key order aside).
same_events() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
a, b = ([json.loads(l) for l in open(p) if l.strip()] for p in sys.argv[1:])
for e in a + b:
    e.pop("receivedAt", None)  # watch's receive time is no part of the event
if a != b:
    print("     got:     ", a, "\n     expected:", b)
    sys.exit(1)
EOF
}

read -r PW PP P1 P2 P3 P4 < <(pick_ports 6)
VECTORS=(01-state-change 02-blocked-ip-and-cert 03-cache 04-push 05-empty-batch)

# ---- Python peer -> agora watch --codec stalwart ----
node_file 7 agora "$(zcfg peer "$PW")"
for v in "${VECTORS[@]}"; do cat "$VEC/$v.jsonl"; done > "$WORK/vectors.jsonl"
NV=$(grep -c . "$WORK/vectors.jsonl")
start_bg "$WORK/watch.jsonl" "$WORK/watch.err" "$AGORA" watch --config "$WORK/node7.json" \
  --codec stalwart --events-only --count "$NV" --timeout 60s
W=$BG
BINS=()
for v in "${VECTORS[@]}"; do BINS+=("$VEC/$v.bin"); done
check "a Python Zenoh peer publishes the Stalwart vectors" \
  expect_status 0 "" -- "$PY" "$PY_DIR/pub.py" "$(zcfg peer - "$PW")" "${BINS[@]}"
wait_exit "$W" 30000
kill "$W" 2>/dev/null || true # still running on a failure: it must not answer on $PW later
check "agora watch --codec stalwart exits 0 after $NV events" test "$EXIT" -eq 0
check "... and printed exactly the vectors' .jsonl" same_events "$WORK/watch.jsonl" "$WORK/vectors.jsonl"

# ---- agora publish --codec stalwart -> Python subscriber ----
mkdir -p "$WORK/recv"
NB=$((${#VECTORS[@]} - 1)) # the empty batch has no event to publish
start_bg "$WORK/sub.out" "$WORK/sub.err" "$PY" "$PY_DIR/sub.py" "$(zcfg peer "$PP")" "$NB" "$WORK/recv"
SUB=$BG
check "the Python subscriber is ready" wait_for "$WORK/sub.out" '^ready$' 30000
node_file 8 stalwart "$(zcfg peer - "$PP")"
k=0
for v in "${VECTORS[@]:0:$NB}"; do
  node=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["node"])' "$VEC/$v.jsonl")
  mapfile -t EVS < "$VEC/$v.jsonl"
  check "agora publish --codec stalwart --node-id $node of $v.jsonl exits 0" \
    expect_status 0 "" -- "$AGORA" publish --config "$WORK/node8.json" --node-id "$node" "${EVS[@]}"
  k=$((k + 1))
done
wait_exit "$SUB" 30000
check "the Python subscriber received $NB payloads" test "$EXIT" -eq 0
k=0
for v in "${VECTORS[@]:0:$NB}"; do
  check "... payload $k is byte for byte $v.bin" cmp "$WORK/recv/$k" "$VEC/$v.bin"
  k=$((k + 1))
done

# ---- a 3-node agora cluster in peer mode, and node 4 publishing ----
# Node i dials the nodes before it, so that each pair has one link.
node_file 1 agora "$(zcfg peer "$P1")"
node_file 2 agora "$(zcfg peer "$P2" "$P1")"
node_file 3 agora "$(zcfg peer "$P3" "$P1" "$P2")"
node_file 4 agora "$(zcfg peer "$P4" "$P1" "$P2" "$P3")"
start_bg "$WORK/w1.jsonl" "$WORK/w1.err" "$AGORA" watch --join --config "$WORK/node1.json" --timeout 120s
W1=$BG
start_bg "$WORK/w2.jsonl" "$WORK/w2.err" "$AGORA" watch --join --config "$WORK/node2.json" --timeout 120s
W2=$BG
start_bg /dev/null "$WORK/s3.err" "$AGORA" serve --config "$WORK/node3.json"
S3=$BG
formed() {
  wait_for "$WORK/w1.jsonl" '"node":2,"type":"MemberJoined"' 15000 &&
  wait_for "$WORK/w1.jsonl" '"node":3,"type":"MemberJoined"' 15000 &&
  wait_for "$WORK/w2.jsonl" '"node":1,"type":"MemberJoined"' 15000 &&
  wait_for "$WORK/w2.jsonl" '"node":3,"type":"MemberJoined"' 15000
}
check "3 nodes on Zenoh see each other join" formed

cat > "$WORK/events.jsonl" <<'EOF'
{"type":"StateChange","accountId":42,"changeId":18446744073709551615,"types":["Email","Mailbox"]}
{"type":"BlockIp","address":"203.0.113.0/24","expires":"2030-01-01T00:00:00Z","reason":"brute force"}
{"type":"Custom","name":"x-test","data":"AAEC"}
EOF
"$AGORA" encode --codec agora --node-id 4 < "$WORK/events.jsonl" |
  "$AGORA" decode --codec agora > "$WORK/expected.jsonl" 2>/dev/null
mapfile -t EVS < "$WORK/events.jsonl"
check "publish 3 events (agora codec) from node 4: exit 0" \
  expect_status 0 "" -- "$AGORA" publish --config "$WORK/node4.json" "${EVS[@]}"
arrived() {  # arrived FILE: the events from node 4 equal expected.jsonl
  wait_for "$1" '"node":4,"type":"Custom"' 10000 || return 1
  grep '"node":4,"type":"[^M]' "$1" | sed 's/,"receivedAt":"[-0-9T:.]*Z"}$/}/' > "$1.events"
  diff -u "$WORK/expected.jsonl" "$1.events"
}
check "node 1 received exactly the 3 events" arrived "$WORK/w1.jsonl"
check "node 2 received exactly the 3 events" arrived "$WORK/w2.jsonl"
check "node 4's graceful close is seen as MemberLeft" \
  wait_for "$WORK/w1.jsonl" '"node":4,"type":"MemberLeft"' 5000

# A stream from node 4 throughout the failure and the restart of node 3.
mkfifo "$WORK/in.fifo"
"$AGORA" publish --config "$WORK/node4.json" -v < "$WORK/in.fifo" > /dev/null 2> "$WORK/pub4.err" &
PUB=$!
BG_PIDS+=("$PUB")
exec 5> "$WORK/in.fifo"
check "the stream's publisher is ready" wait_for "$WORK/pub4.err" 'agora publish: ready' 15000
n=0
emit 25
kill -KILL "$S3"
t0=$(now_ms)
check "a SIGKILLed node is reported MemberFailed" \
  wait_for "$WORK/w1.jsonl" '"node":3,"type":"MemberFailed"' 10000
t1=$(now_ms)
check "... within the failure timeout plus a margin ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 4000
check "... on node 2 too" wait_for "$WORK/w2.jsonl" '"node":3,"type":"MemberFailed"' 5000
emit 25
# (without the stream's descriptor: the stream must end when we close it)
{ start_bg /dev/null "$WORK/s3b.err" "$AGORA" serve --config "$WORK/node3.json" -v; } 5>&-
check "the restarted node rejoins (node 1 sees it)" \
  wait_for "$WORK/w1.jsonl" '"node":3,"type":"MemberJoined"' 15000 2
check "... node 2 too" wait_for "$WORK/w2.jsonl" '"node":3,"type":"MemberJoined"' 15000 2
check "... and it sees nodes 1 and 2" bash -c \
  "$(declare -f wait_for now_ms); wait_for '$WORK/s3b.err' 'node 1 (joined|restarted)' 10000 && wait_for '$WORK/s3b.err' 'node 2 (joined|restarted)' 10000"
emit 25
exec 5>&-
wait_exit "$PUB" 15000
check "the stream's publisher exits 0" test "$EXIT" -eq 0
whole_stream() {  # whole_stream FILE: changeIds 1..n from node 4, in order, no Gap
  wait_for "$1" "\"node\":4,\"type\":\"StateChange\",\"accountId\":7,\"changeId\":$n," 10000 || return 1
  python3 - "$1" "$n" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
gaps = [l for l in lines if l["type"] == "Gap"]
ids = [l["changeId"] for l in lines if l["type"] == "StateChange" and l.get("accountId") == 7]
want = list(range(1, int(sys.argv[2]) + 1))
if gaps or ids != want:
    print("     gaps:", gaps, "\n     changeIds:", ids)
    sys.exit(1)
EOF
}
check "node 1 received the whole stream ($n events, in order, no Gap)" whole_stream "$WORK/w1.jsonl"
check "node 2 received the whole stream too" whole_stream "$WORK/w2.jsonl"

# ---- bad configurations: clear errors, non-zero exit ----
bad() {  # bad NAME JSON5 STATUS REGEX COMMAND...
  local name=$1 z=$2 want=$3 re=$4; shift 4
  node_file 9 agora "$z"
  expect_status "$want" "$re" -- "$@" "$WORK/node9.json"
}
check "config check: not JSON5 -> exit 2 naming coordinator.config" \
  bad syntax '{ mode: peer' 2 'coordinator\.config: zenoh configuration' "$AGORA" config check
check "config check: an unknown key -> exit 2 with Zenoh's message" \
  bad key '{ mode: "peer", bogus: 1 }' 2 'coordinator\.config: zenoh configuration: unknown field `bogus`' \
  "$AGORA" config check
check "config check: a good configuration -> exit 0" \
  bad good "$(zcfg peer "$P1")" 0 '' "$AGORA" config check
check "config check: a password and an inline key in the Zenoh configuration are masked" \
  bad secret "{ mode: 'peer', transport: { auth: { usrpwd: { user: 'u', password: 'pw-hunter2' } }, link: { tls: { listen_private_key_base64: 'S0VZLWJ5dGVz' } } } }" \
  0 '' "$AGORA" config check
check "... (neither value is printed)" bash -c \
  "grep -qF \"password: '********'\" '$WORK/last.out' && ! grep -qE 'hunter2|S0VZ' '$WORK/last.out'"
check "watch on an unreachable router (client mode) -> exit 1 naming the endpoint" \
  bad unreachable "$(zcfg client - "$PW")" 1 "coordinator\.config: zenoh open: .*127\.0\.0\.1:$PW" \
  "$AGORA" watch --count 1 --timeout 5s --config
check "... and Zenoh's source locations are not in the message" \
  bash -c "! grep -q '\.rs:' '$WORK/last.err'"
check "watch on an endpoint that cannot be bound -> exit 1" \
  bad unbindable '{ mode: "peer", listen: { endpoints: ["tcp/192.0.2.1:7447"] } }' 1 \
  'coordinator\.config: zenoh open: .*192\.0\.2\.1:7447' "$AGORA" watch --count 1 --timeout 5s --config

finish
