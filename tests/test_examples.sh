#!/usr/bin/env bash
# test_examples.sh — each program in examples/ run against a real 3-node PeerToPeer
# cluster on loopback:
#   idle_watcher (node 1) turns a StateChange into an IDLE wake-up line
#   callback     (node 2) prints every event as JSON from agora's I/O thread
#   block_ip     (node 3) publishes a BlockIp, exits 0 after agora_flush
# and the shipped examples/cluster/node*.json configurations are valid. Ports: free
# ones picked in 20000-40000.
. "$(dirname "$0")/test_cli_lib.sh"

EX=${AGORA_BUILD:-$(dirname "$AGORA")}/examples
SRC=${AGORA_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
for p in idle_watcher callback block_ip; do
  [ -x "$EX/$p" ] || { echo "example $p not built in $EX"; exit 1; }
done

for n in 1 2 3; do
  check "examples/cluster/node$n.json is a valid configuration" \
    expect_status 0 "" -- "$AGORA" config check "$SRC/examples/cluster/node$n.json"
done

read -r P1 P2 P3 < <(pick_ports 3)
p2p_config 1 $P1 $P2 $P3
p2p_config 2 $P2 $P1 $P3
p2p_config 3 $P3 $P1 $P2

start_bg "$WORK/idle.out" "$WORK/idle.err" "$EX/idle_watcher" "$WORK/node1.json"
IDLE=$BG
start_bg "$WORK/cb.out" "$WORK/cb.err" "$EX/callback" "$WORK/node2.json"
CB=$BG
joined() {
  wait_for "$WORK/idle.out" '^\[[0-9]+\.[0-9]{6}\] node 2 joined \(127\.0\.0\.1:'$P2'\)' 10000 &&
  wait_for "$WORK/cb.out" '^\{"node":1,"type":"MemberJoined","address":"127\.0\.0\.1:'$P1'"' 10000
}
check "idle_watcher and callback see each other join" joined

check "block_ip publishes and exits 0 after agora_flush" \
  expect_status 0 "" -- "$EX/block_ip" "$WORK/node3.json" 3 198.51.100.0/24 "test block" 600
check "block_ip says where it blocked" grep -q 'block_ip: 198.51.100.0/24 blocked on 2 other node' "$WORK/last.out"
check "idle_watcher received the BlockIp" \
  wait_for "$WORK/idle.out" 'node 3 sent BlockIp: \{"node":3,"type":"BlockIp","address":"198\.51\.100\.0/24","expires":"[0-9T:Z-]+","reason":"test block"\}' 5000
check "callback received the BlockIp" \
  wait_for "$WORK/cb.out" '^\{"node":3,"type":"BlockIp","address":"198\.51\.100\.0/24",.*"reason":"test block"\}$' 5000
check "block_ip refuses a bad address (exit 2)" \
  expect_status 2 'not an IP address' -- "$EX/block_ip" "$WORK/node3.json" 3 300.1.2.3

check "agora publish on node 3: exit 0" expect_status 0 "" -- "$AGORA" publish --config "$WORK/node3.json" \
  '{"type":"StateChange","accountId":42,"changeId":77,"types":["Email","Mailbox"]}'
check "idle_watcher wakes account 42's IDLE sessions" \
  wait_for "$WORK/idle.out" 'IDLE account 42: Email, Mailbox changed \(changeId 77, node 3\) -> waking its IDLE sessions' 5000
check "callback prints the StateChange" \
  wait_for "$WORK/cb.out" '^\{"node":3,"type":"StateChange","accountId":42,"changeId":77,"types":\["Email","Mailbox"\]\}$' 5000

kill -TERM "$IDLE"
wait_exit "$IDLE" 10000
check "idle_watcher exits 0 on SIGTERM" test "$EXIT" -eq 0
check "callback sees idle_watcher leave gracefully" \
  wait_for "$WORK/cb.out" '"node":1,"type":"MemberLeft"' 5000
kill -INT "$CB"
wait_exit "$CB" 10000
check "callback exits 0 on SIGINT" test "$EXIT" -eq 0

finish
