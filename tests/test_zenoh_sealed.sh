#!/usr/bin/env bash
# test_zenoh_sealed.sh — the Zenoh backend with a "secret" (sealed messages,
# docs/sealing.md), against a Python Zenoh peer that plays the attacker:
#   - an unsealed agora message (a forged BlockIp 0.0.0.0/0) and one sealed with
#     another secret are dropped, logged with their cause and never delivered
#   - a sealed event from an agora node with the right secret is delivered
. "$(dirname "$0")/test_cli_lib.sh"
: "${AGORA_SRC:?}" "${AGORA_BUILD:?}"
PY_DIR="$AGORA_SRC/tests/support/zenoh_py"
PY=$("$PY_DIR/venv.sh" "$AGORA_BUILD/zenoh-py") || { echo "FAIL: no Python Zenoh"; exit 1; }
export PYTHONDONTWRITEBYTECODE=1
SECRET="zenoh-cluster-secret-0123456789"
OTHER="another-cluster-secret-42424242"

read -r P1 < <(pick_ports 1)
# zcfg LISTEN_PORT|- CONNECT_PORT|-: a peer-mode Zenoh configuration on loopback.
zcfg() {
  local l="[]" c="[]"
  [ "$1" != - ] && l="[\"tcp/127.0.0.1:$1\"]"
  [ "$2" != - ] && c="[\"tcp/127.0.0.1:$2\"]"
  printf '{ mode: "peer", listen: { endpoints: %s }, connect: { endpoints: %s }, scouting: { multicast: { enabled: false }, gossip: { enabled: false } } }' "$l" "$c"
}
node_file() { # node_file ID JSON5
  python3 - "$WORK/node$1.json" "$1" "$2" "$SECRET" <<'EOF'
import json, sys
path, node, z, secret = sys.argv[1:]
json.dump({"nodeId": int(node), "heartbeatInterval": "100ms", "failureTimeout": "1s",
           "coordinator": {"@type": "Zenoh", "config": z, "secret": secret}}, open(path, "w"))
EOF
}
node_file 1 "$(zcfg "$P1" -)"
node_file 2 "$(zcfg - "$P1")"

echo '{"type":"BlockIp","address":"0.0.0.0/0","reason":"forged"}' > "$WORK/forged.jsonl"
"$AGORA" encode --codec agora --node-id 2 < "$WORK/forged.jsonl" > "$WORK/plain.bin"
"$AGORA" encode --codec agora --node-id 2 --secret "$OTHER" < "$WORK/forged.jsonl" > "$WORK/other.bin"
check "the forged messages were made" test -s "$WORK/plain.bin" -a -s "$WORK/other.bin"

start_bg "$WORK/w1.jsonl" "$WORK/w1.err" "$AGORA" watch --config "$WORK/node1.json" \
  --events-only --count 1 --timeout 90s
W1=$BG
# forged PATTERN FILE: the Python peer puts FILE until node 1 logs PATTERN (a payload
# can be lost while a new Zenoh link settles: docs/zenoh.md).
forged() {
  local i
  for i in 1 2 3 4 5; do
    "$PY" "$PY_DIR/pub.py" "$(zcfg - "$P1")" "$2" > /dev/null 2>> "$WORK/pub.err"
    wait_for "$WORK/w1.err" "$1" 3000 && return 0
  done
  return 1
}
check "an unsealed message is dropped with its cause" \
  forged 'dropped a message that did not open \(not sealed\)' "$WORK/plain.bin"
check "a message sealed with another secret is dropped with its cause" \
  forged 'dropped a message that did not open \((unknown key|bad tag)' "$WORK/other.bin"

echo '{"type":"StateChange","accountId":7,"changeId":9,"types":["Email"]}' > "$WORK/real.jsonl"
delivered() { # node 2 publishes until node 1's watch has its event and exits
  local i
  for i in 1 2 3 4 5; do
    "$AGORA" publish --config "$WORK/node2.json" < "$WORK/real.jsonl" > /dev/null 2>> "$WORK/pub2.err"
    wait_exit "$W1" 5000 && return 0
  done
  return 1
}
check "a sealed event from node 2 reaches node 1" delivered
check "... node 1's watch exits 0" test "${EXIT:-1}" -eq 0
check "... and printed node 2's StateChange" grep -q '"node":2,"type":"StateChange"' "$WORK/w1.jsonl"
check "the forged BlockIp was never delivered" bash -c "! grep -q BlockIp '$WORK/w1.jsonl'"
check "no secret in any output" bash -c "! grep -q -e '$SECRET' -e '$OTHER' '$WORK/w1.jsonl' '$WORK/w1.err' '$WORK/pub2.err'"
finish
