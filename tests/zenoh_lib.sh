# zenoh_lib.sh — helpers of the Zenoh shell tests (sourced after test_cli_lib.sh).
# Gives: $PY (a Python with Zenoh's binding, tests/support/zenoh_py) and $PY_DIR,
# $NOSCOUT, zcfg, zenoh_node_file, and emit (a stream of events on fd 5).
: "${AGORA_SRC:?}" "${AGORA_BUILD:?}"
PY_DIR="$AGORA_SRC/tests/support/zenoh_py"
PY=$("$PY_DIR/venv.sh" "$AGORA_BUILD/zenoh-py") || { echo "FAIL: no Python Zenoh"; exit 1; }
export PYTHONDONTWRITEBYTECODE=1 # keep the source tree clean
# Every link is an explicit endpoint: nothing found by chance.
NOSCOUT='scouting: { multicast: { enabled: false }, gossip: { enabled: false } }'

# zcfg MODE LISTEN_PORT|- CONNECT_PORT...: a Zenoh configuration (JSON5) on loopback TCP.
zcfg() {
  local mode=$1 listen=$2 connect="" p; shift 2
  for p in "$@"; do connect="$connect${connect:+, }\"tcp/127.0.0.1:$p\""; done
  local l="listen: { endpoints: [] }"
  [ "$listen" != - ] && l="listen: { endpoints: [\"tcp/127.0.0.1:$listen\"] }"
  printf '{ mode: "%s", %s, connect: { endpoints: [%s] }, %s }' "$mode" "$l" "$connect" "$NOSCOUT"
}

# zenoh_node_file ID JSON5 [JSON]: write $WORK/nodeID.json, node ID on a Zenoh
# coordinator configured by JSON5, heartbeats every 100 ms and failure after 1 s. JSON
# (an object) adds or replaces node-level fields; its "coordinator" merges into the
# coordinator section (e.g. '{"coordinator":{"secret":"..."}}').
zenoh_node_file() {
  python3 - "$WORK/node$1.json" "$1" "$2" "${3:-{\}}" <<'EOF'
import json, sys
path, node, z, extra = sys.argv[1:]
cfg = {"nodeId": int(node), "heartbeatInterval": "100ms", "failureTimeout": "1s",
       "coordinator": {"@type": "Zenoh", "config": z}}
extra = json.loads(extra)
cfg["coordinator"].update(extra.pop("coordinator", {}))
cfg.update(extra)
json.dump(cfg, open(path, "w"))
EOF
}

# emit K: K more StateChange events on the stream open on fd 5, 20 ms apart; $n counts
# them (their changeId).
n=0
emit() {
  local i
  for i in $(seq "$1"); do
    n=$((n + 1))
    echo "{\"type\":\"StateChange\",\"accountId\":7,\"changeId\":$n,\"types\":[\"Email\"]}" >&5
    sleep 0.02
  done
}
