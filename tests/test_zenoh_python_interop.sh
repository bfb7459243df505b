#!/usr/bin/env bash
# The Zenoh shim against Zenoh's own implementation: its Python binding (eclipse-zenoh,
# pinned in tests/support/zenoh_py/venv.sh, installed into $AGORA_BUILD/zenoh-py on the
# first run). Payloads cross byte-exact in both directions, peer to peer on loopback
# TCP, then through a Python Zenoh router with both ends in client mode.
set -euo pipefail
: "${AGORA_SRC:?}" "${AGORA_BUILD:?}"
PY_DIR="$AGORA_SRC/tests/support/zenoh_py"
PEER="$AGORA_BUILD/tests/zenoh_shim_peer"
py=$("$PY_DIR/venv.sh" "$AGORA_BUILD/zenoh-py")
export PYTHONDONTWRITEBYTECODE=1   # keep the source tree clean

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# A configuration: MODE, then "listen" or "connect", then the port. A side that
# connects listens nowhere, and nobody scouts or follows gossip: one link between two
# programs (a second one, to a default listener learnt by gossip, can cost the first
# payloads when Zenoh closes one of the two).
config() {
  local listen_none=""
  [ "$2" = connect ] && listen_none='listen: { endpoints: [] }, '
  printf '{ mode: "%s", %s: { endpoints: ["tcp/127.0.0.1:%s"] }, %sscouting: { multicast: { enabled: false }, gossip: { enabled: false } } }' "$1" "$2" "$3" "$listen_none"
}
# Wait (30 s at most) for "ready" in the file $1, the output of the child pid $2.
await_ready() {
  for _ in $(seq 300); do
    grep -qx ready "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "FAIL: $1's program exited before ready"; return 1; }
    sleep 0.1
  done
  echo "FAIL: no ready in $1 within 30 s"; return 1
}

# Payloads: empty, tiny, a typical batch, and ones Zenoh must fragment.
mkdir -p "$work/in"
files=()
i=0
for size in 0 1 200 5000 70000 300000; do
  head -c "$size" /dev/urandom >"$work/in/$i"
  files+=("$work/in/$i")
  i=$((i + 1))
done
n=${#files[@]}

passed=0
failed=0
# check NAME DIR: the files received in DIR equal the ones sent, in order.
check() {
  local ok=1
  for k in $(seq 0 $((n - 1))); do
    cmp -s "$work/in/$k" "$2/$k" || { ok=0; echo "  payload $k differs or is missing"; }
  done
  if [ $ok = 1 ]; then echo "PASS $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi
}

# run_case NAME SUB_KIND SUB_CONFIG PUB_KIND PUB_CONFIG: start the subscriber (c or py),
# await its ready, run the publisher, await the subscriber's exit, compare.
run_case() {
  local name=$1 sub_kind=$2 sub_cfg=$3 pub_kind=$4 pub_cfg=$5
  local out="$work/$name" rc=0
  mkdir -p "$out"
  if [ "$sub_kind" = c ]; then
    "$PEER" sub "$sub_cfg" "$n" "$out" >"$out.log" &
  else
    "$py" "$PY_DIR/sub.py" "$sub_cfg" "$n" "$out" >"$out.log" &
  fi
  local sub_pid=$!
  pids+=("$sub_pid")
  await_ready "$out.log" "$sub_pid" || { failed=$((failed + 1)); return 0; }
  if [ "$pub_kind" = c ]; then
    "$PEER" pub "$pub_cfg" "${files[@]}" || rc=$?
  else
    "$py" "$PY_DIR/pub.py" "$pub_cfg" "${files[@]}" || rc=$?
  fi
  wait "$sub_pid" || rc=$?
  if [ $rc != 0 ]; then
    echo "FAIL $name: a program failed (status $rc)"; failed=$((failed + 1))
  else
    check "$name" "$out"
  fi
}

p=$(free_port)
run_case python-peer-to-c c "$(config peer listen "$p")" py "$(config peer connect "$p")"
p=$(free_port)
run_case c-peer-to-python py "$(config peer listen "$p")" c "$(config peer connect "$p")"

p=$(free_port)
"$py" "$PY_DIR/router.py" "tcp/127.0.0.1:$p" >"$work/router.log" &
router=$!
pids+=("$router")
if await_ready "$work/router.log" "$router"; then
  run_case python-to-c-via-router c "$(config client connect "$p")" py "$(config client connect "$p")"
  run_case c-to-python-via-router py "$(config client connect "$p")" c "$(config client connect "$p")"
else
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
