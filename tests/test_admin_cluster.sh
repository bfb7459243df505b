#!/usr/bin/env bash
# test_admin_cluster.sh — the admin HTTP endpoint (agora serve --http) on a real
# 3-node PeerToPeer cluster on loopback, node 1 serving it with an "httpToken":
#   - /metrics passes `promtool check metrics` and holds the expected series
#   - /api/status, /api/members, /api/config (secrets masked), /api/config/schema
#   - POST /api/config/check: 422 with field paths for a bad configuration, 200 else
#   - malformed requests get a 4xx with a JSON error; the token is enforced
#   - /api/events delivers published events; a client that connects and never reads
#     does not hold up delivery to the node or its answers
#   - members/status/top --from read it; an unreachable node exits 1
. "$(dirname "$0")/test_cli_lib.sh"
command -v promtool >/dev/null || { echo "promtool missing (scripts/install-deps.sh installs prometheus)"; exit 1; }

read -r P1 P2 P3 PO PX < <(pick_ports 5)
p2p_config 1 $P1 $P2 $P3
p2p_config 2 $P2 $P1 $P3
p2p_config 3 $P3 $P1 $P2
TOKEN=test-admin-token-0123456789
python3 - "$WORK/node1.json" "$TOKEN" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1])); c["httpToken"] = sys.argv[2]
json.dump(c, open(sys.argv[1], "w"))
PYEOF
printf '%s\n' "$TOKEN" > "$WORK/token"

start_bg /dev/null "$WORK/serve1.err" "$AGORA" serve --config "$WORK/node1.json" --http 127.0.0.1:0 --status-interval 0
S1=$BG
start_bg /dev/null "$WORK/serve2.err" "$AGORA" serve --config "$WORK/node2.json" --status-interval 0
start_bg /dev/null "$WORK/serve3.err" "$AGORA" serve --config "$WORK/node3.json" --status-interval 0
S3=$BG
check "serve --http logs its address" wait_for "$WORK/serve1.err" 'admin endpoint on http://127\.0\.0\.1:[0-9]+/' 5000
HTTP=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$WORK/serve1.err" | head -1)
AUTH="Authorization: Bearer $TOKEN"

# get PATH [CURL ARGS...]: body in $WORK/body, status code in $CODE
get() {
  local path=$1; shift
  CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 5 "$@" "$HTTP$path")
}
# json_check PYTHON_EXPR: evaluate with b = the parsed body
json_check() {
  python3 - "$WORK/body" "$1" <<'PYEOF'
import json, sys
b = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
if not ok:
    print("     body:", json.dumps(b)[:600])
sys.exit(0 if ok else 1)
PYEOF
}

all_alive() {
  local deadline=$(( $(now_ms) + 10000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    get /api/members -H "$AUTH"
    [ "$CODE" = 200 ] && json_check 'sorted(m["node"] for m in b["members"] if m["state"]=="alive")==[1,2,3]' >/dev/null && return 0
    sleep 0.05
  done
  json_check 'False'
}
check "/api/members lists nodes 1, 2, 3 alive" all_alive

# ---- events from an extra node (7) through node 1 ----
EVS=()
for i in 1 2 3; do EVS+=("{\"type\":\"BlockIp\",\"address\":\"203.0.113.$i/32\",\"reason\":\"test\"}"); done
start_bg "$WORK/sse.out" "$WORK/sse.err" curl -sN --max-time 60 -H "$AUTH" "$HTTP/api/events?type=BlockIp&node=7"
SSE=$BG
check "/api/events opens a stream" wait_for "$WORK/sse.out" '^: agora events' 5000
check "publish 3 BlockIp from node 7" expect_status 0 "" -- "$AGORA" publish --config "$WORK/node2.json" \
  --node-id 7 --listen 127.0.0.1:$PO "${EVS[@]}"
check "the stream carries the 3 events with receivedAt" \
  wait_for "$WORK/sse.out" '^data: \{"node":7,"type":"BlockIp",.*"receivedAt":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z"\}$' 5000 3

get /api/status -H "$AUTH"
check "/api/status: 200, node, version, uptime, status, per-type counts" json_check \
  'b["node"]==1 and b["version"]=="0.1.0" and b["uptimeSeconds"]>0 and b["status"]["backend"]=="PeerToPeer" and b["status"]["connected"] is True and b["eventTypes"]["BlockIp"]=={"published":0,"received":3}'
get /api/members -H "$AUTH"
check "/api/members: node 7 sent 3 events; every field there" json_check \
  '[m["eventsIn"] for m in b["members"] if m["node"]==7]==[3] and all(set(m)>={"node","state","self","address","incarnation","lastHeardSeconds","sinceSeconds","eventsIn","eventsPerSecond"} for m in b["members"]) and [m["node"] for m in b["members"] if m["self"]]==[1]'

get /metrics -H "$AUTH"
check "/metrics: 200, text/plain version 0.0.4" test "$CODE" = 200
check "/metrics passes promtool check metrics" bash -c "promtool check metrics < '$WORK/body' > '$WORK/promtool.out' 2>&1 || { cat '$WORK/promtool.out'; false; }"
metrics_series() {
  grep -qx 'agora_events_received_total{type="BlockIp"} 3' "$WORK/body" &&
  grep -qx 'agora_member_events_received_total{node="7"} 3' "$WORK/body" &&
  grep -qxE "agora_member_state\{node=\"2\",address=\"127.0.0.1:$P2\",state=\"(alive|suspect)\"\} 1" "$WORK/body" &&
  grep -qxE "agora_member_state\{node=\"2\",address=\"127.0.0.1:$P2\",state=\"failed\"\} 0" "$WORK/body" &&
  grep -qE '^agora_member_last_heard_seconds\{node="3"\} [0-9.]+$' "$WORK/body" &&
  grep -qx 'agora_backend_connected 1' "$WORK/body" &&
  grep -qxE 'agora_peers [2-9]' "$WORK/body" &&
  grep -qE '^agora_bytes_received_total [1-9][0-9]*$' "$WORK/body" &&
  grep -qx '# TYPE agora_gaps_total counter' "$WORK/body"
}
check "/metrics holds the expected series" metrics_series
check "/metrics content type" bash -c "curl -s -o /dev/null -w '%{content_type}' -H '$AUTH' $HTTP/metrics | grep -q '^text/plain; version=0.0.4'"

get /api/config -H "$AUTH"
check "/api/config: the effective configuration, secrets masked" json_check \
  'b["nodeId"]==1 and b["httpToken"]=="********" and b["coordinator"]["secret"]=="********" and b["coordinator"]["reconnectMax"]=="5s"'
check "/api/config shows neither secret" bash -c "! grep -qE 'test-cli-secret|$TOKEN' '$WORK/body'"
get "/api/config/schema" -H "$AUTH"
check "/api/config/schema: the running type's fields" json_check \
  'any(f["name"]=="listen" and f["default"]==["127.0.0.1:7911"] for f in b) and any(f["name"]=="secret" and f["secret"] for f in b)'
get "/api/config/schema?type=Kafka" -H "$AUTH"
check "/api/config/schema?type=Kafka" json_check 'any(f["name"]=="groupId" and f["required"] for f in b)'
get "/api/config/schema?type=Nope" -H "$AUTH"
check "/api/config/schema?type=Nope: 404 JSON error" json_check '"Nope" in b["error"]'

# ---- config check ----
get /api/config/check -H "$AUTH" -X POST --data-binary '{"nodeId":70000,"coordinator":{"@type":"PeerToPeer","listen":"127.0.0.1:99999","secret":"s"}}'
check "POST check, bad configuration: 422" test "$CODE" = 422
check "... errors with field paths, as agora config check says" json_check \
  'b["ok"] is False and {"nodeId","coordinator.listen"} <= {e["field"] for e in b["errors"]} and all(e["message"] for e in b["errors"])'
echo '{"nodeId":70000,"coordinator":{"@type":"PeerToPeer","listen":"127.0.0.1:99999","secret":"s"}}' > "$WORK/bad.json"
"$AGORA" config check "$WORK/bad.json" > /dev/null 2> "$WORK/check.err"
same_texts() {
  python3 - "$WORK/body" "$WORK/check.err" <<'PYEOF'
import json, sys
b = json.load(open(sys.argv[1]))
cli = open(sys.argv[2]).read()
for e in b["errors"]:
    if e["field"] + ": " + e["message"] not in cli:
        print("     not in agora config check's output:", e); sys.exit(1)
PYEOF
}
check "... the same texts as agora config check" same_texts
get /api/config/check -H "$AUTH" -X POST --data-binary @"$WORK/node2.json"
check "POST check, good configuration: 200 ok, masked" json_check 'b["ok"] is True and b["config"]["coordinator"]["secret"]=="********"'
get /api/config/check -H "$AUTH" -X POST --data-binary 'not json'
check "POST check, not JSON: 422 with the parser's message" json_check 'b["ok"] is False and "invalid JSON" in b["errors"][0]["message"]'
head -c 1100000 /dev/zero | tr '\0' ' ' > "$WORK/big"
get /api/config/check -H "$AUTH" -X POST --data-binary @"$WORK/big"
check "POST check over 1 MiB: 413 JSON error" bash -c "[ $CODE = 413 ] && grep -q '\"error\"' '$WORK/body'"

# ---- bad requests and the token ----
bad_requests() {
  get /api/nope -H "$AUTH"; [ "$CODE" = 404 ] && json_check '"error" in b' || return 1
  get /api/config/check -H "$AUTH"; [ "$CODE" = 405 ] && json_check '"error" in b' || return 1
  get /api/status -H "$AUTH" -X DELETE; [ "$CODE" = 405 ] && json_check '"error" in b' || return 1
  get "/api/events?type=NoSuchType" -H "$AUTH"; [ "$CODE" = 400 ] && json_check '"NoSuchType" in b["error"]' || return 1
  get "/api/events?node=x" -H "$AUTH"; [ "$CODE" = 400 ] && json_check '"node" in b["error"]' || return 1
}
check "bad requests: 4xx with a JSON error" bad_requests
token_enforced() {
  local p
  for p in /metrics /api/status /api/members /api/config /api/config/schema /api/events; do
    get $p; [ "$CODE" = 401 ] && json_check '"token" in b["error"]' || { echo "     $p: $CODE"; return 1; }
    get $p -H "Authorization: Bearer wrong-token-wrong-token"; [ "$CODE" = 401 ] || { echo "     $p (wrong token): $CODE"; return 1; }
  done
  get / ; [ "$CODE" != 401 ] || { echo "     the page wants the token"; return 1; }
}
check "the token is enforced on every route but the page" token_enforced
check "refusals are logged once (rate-limited)" bash -c "[ \$(grep -c 'refused a request' '$WORK/serve1.err') -eq 1 ]"
check "the token never appears in a log" bash -c "! grep -q '$TOKEN' '$WORK/serve1.err'"

# ---- a client that never reads does not hold anything up ----
python3 - "$HTTP" "$TOKEN" "$WORK/stalled.ready" "$WORK/stalled.drain" "$WORK/stalled.out" <<'PYEOF' &
import socket, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((u.hostname, u.port))
s.sendall(("GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % sys.argv[2]).encode())
open(sys.argv[3], "w").close()
import os
while not os.path.exists(sys.argv[4]):   # reads nothing until told to
    time.sleep(0.05)
s.settimeout(30)
got = b""
told = False
try:
    while b"BlockIp" not in got:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
        if not told and b"event: gap" in got:
            open(sys.argv[5] + ".gap", "w").close()   # now the test publishes more
            told = True
except socket.timeout:
    pass
open(sys.argv[5], "wb").write(got)
PYEOF
STALLED=$!
BG_PIDS+=("$STALLED")
wait_for "$WORK/stalled.ready" '' 5000 0 >/dev/null
sleep 0.2   # (only lets the request reach the server; nothing is asserted on it)
python3 - "$WORK/custom.jsonl" <<'PYEOF'
import base64, json, sys
data = base64.b64encode(b"x" * 30000).decode()
with open(sys.argv[1], "w") as f:
    for i in range(400):
        f.write(json.dumps({"type": "Custom", "name": "load%d" % i, "data": data}) + "\n")
PYEOF
check "publish 400 Custom events of 30 kB from node 8" expect_status 0 "" -- bash -c \
  "'$AGORA' publish --config '$WORK/node2.json' --node-id 8 --listen 127.0.0.1:$PX < '$WORK/custom.jsonl'"
delivered_despite_stalled() {
  local deadline=$(( $(now_ms) + 15000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    get /api/status -H "$AUTH"
    [ "$CODE" = 200 ] && json_check 'b["eventTypes"].get("Custom",{}).get("received")==400 and b["status"]["queueDepth"]==0' >/dev/null && return 0
    sleep 0.05
  done
  json_check 'False'
}
check "with a stalled event client the node takes all 400 events, status answers" delivered_despite_stalled
check "the stalled client is still connected (its queue dropped, not the node)" kill -0 $STALLED
check "the reading stream saw the later BlockIp events only (filter type+node)" \
  bash -c "! grep -q Custom '$WORK/sse.out'"
touch "$WORK/stalled.drain"
check "the stalled client, reading at last, is told of a gap" wait_for "$WORK/stalled.out.gap" '' 20000 0
check "publish one more BlockIp from node 7" expect_status 0 "" -- "$AGORA" publish --config "$WORK/node2.json" \
  --node-id 7 --listen 127.0.0.1:$PO "${EVS[0]}"
wait_exit $STALLED 30000
check "... how many it missed, and then the events published since" \
  bash -c "grep -q '^event: gap' '$WORK/stalled.out' && grep -qE '^data: \{\"missed\":[1-9]' '$WORK/stalled.out' && grep -q BlockIp '$WORK/stalled.out'"

# ---- the inspecting commands ----
check "members --from (piped: JSON)" expect_status 0 "" -- "$AGORA" members --from "${HTTP#http://}" --token-file "$WORK/token"
cp "$WORK/last.out" "$WORK/body"
check "... nodes 1, 2, 3 alive" json_check 'sorted(m["node"] for m in b["members"] if m["state"]=="alive")==[1,2,3]'
check "status --from (piped: JSON)" expect_status 0 "" -- "$AGORA" status --from "$HTTP" --token-file "$WORK/token"
cp "$WORK/last.out" "$WORK/body"
check "... the status object" json_check 'b["node"]==1 and b["status"]["backend"]=="PeerToPeer"'
check "top --from --json --count 2" expect_status 0 "" -- "$AGORA" top --from "${HTTP#http://}" --token-file "$WORK/token" --json --count 2 --interval 300ms
top_snapshots() {
  python3 - "$WORK/last.out" <<'PYEOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 2, lines
for l in lines:
    s = json.loads(l)
    assert s["node"] == 1 and s["connected"] is True and s["intervalSeconds"] > 0.2, s
    assert {m["node"] for m in s["members"] if m["state"] in ("alive", "suspect")} >= {1, 2, 3}, s
    assert "BlockIp" in s["types"] and "receivedPerSecond" in s["types"]["BlockIp"], s
PYEOF
}
check "... two snapshot objects with members and types" top_snapshots
check "status without the token: exit 1, says 401" expect_status 1 "answered 401" -- "$AGORA" status --from "$HTTP"
check "status without --from: exit 2" expect_status 2 "--from HOST:PORT is required" -- "$AGORA" status
check "members --from an unreachable node: exit 1" expect_status 1 "cannot reach" -- "$AGORA" members --from 127.0.0.1:$PO --timeout 2s
check "top --from an unreachable node: exit 1" expect_status 1 "cannot reach" -- "$AGORA" top --from 127.0.0.1:$PO --json --count 1

# ---- a killed node turns failed in the endpoint's view ----
kill -KILL $S3
failed_seen() {
  local deadline=$(( $(now_ms) + 10000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    "$AGORA" members --from "$HTTP" --token-file "$WORK/token" --json > "$WORK/body" 2>/dev/null &&
      json_check '[m["state"] for m in b["members"] if m["node"]==3]==["failed"]' >/dev/null && return 0
    sleep 0.1
  done
  json_check 'False'
}
check "after SIGKILL node 3 is failed in members --from" failed_seen

# ---- binding: beyond loopback without a token is warned about; bad addresses refused ----
echo '{"nodeId": 5, "coordinator": {"@type": "Disabled"}}' > "$WORK/off.json"
start_bg /dev/null "$WORK/open.err" "$AGORA" serve --config "$WORK/off.json" --http 0.0.0.0:0 --status-interval 0
OPEN=$BG
check "--http 0.0.0.0 without httpToken: a warning at start" \
  wait_for "$WORK/open.err" 'warn: .*reachable beyond this host and has no token' 5000
kill -TERM $OPEN
wait_exit $OPEN 10000
check "--http with a bad address: exit 2, says why" expect_status 2 "--http: " -- \
  "$AGORA" serve --config "$WORK/off.json" --http 127.0.0.1:99999
check "--http on a port in use: exit 2, names it" expect_status 2 "cannot listen on ${HTTP#http://}" -- \
  "$AGORA" serve --config "$WORK/off.json" --http "${HTTP#http://}"

kill -TERM $S1
wait_exit $S1 10000
check "serve --http exits 0 on SIGTERM, with a stream open" test "$EXIT" -eq 0
finish
