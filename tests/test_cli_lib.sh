# test_cli_lib.sh — helpers for the shell tests of the agora command (sourced).
# Gives: $AGORA, $WORK (temporary directory, removed on exit), start_bg (processes
# killed on exit), wait_for (a condition with a deadline), expect_status, check,
# pick_ports (free loopback ports), p2p_config, and a summary via finish.
set -uo pipefail
export LC_ALL=C

AGORA=${AGORA_BIN:-${1:-build/agora}}
[ -x "$AGORA" ] || { echo "agora binary not found: $AGORA (set AGORA_BIN)"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/agora-test.XXXXXX")
BG_PIDS=()
FAILS=0
CHECKS=0

_cleanup() {
  for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${BG_PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.02; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  if [ "$FAILS" -ne 0 ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap _cleanup EXIT

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t / 1000)); }

# check DESCRIPTION COMMAND...: run a test command; report.
check() {
  local what=$1; shift
  CHECKS=$((CHECKS + 1))
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; FAILS=$((FAILS + 1)); fi
}

# expect_status WANT STDERR_REGEX -- COMMAND...: exit status WANT and stderr
# matching STDERR_REGEX ("" = anything). Output is in $WORK/last.out / last.err.
expect_status() {
  local want=$1 re=$2; shift 3
  "$@" > "$WORK/last.out" 2> "$WORK/last.err" < /dev/null
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "     exit status $got, expected $want: $*"; sed 's/^/     stderr: /' "$WORK/last.err" | head -5
    return 1
  fi
  if [ -n "$re" ] && ! grep -qE -- "$re" "$WORK/last.err"; then
    echo "     stderr does not match /$re/: $*"; sed 's/^/     stderr: /' "$WORK/last.err" | head -5
    return 1
  fi
  return 0
}

# wait_for FILE REGEX TIMEOUT_MS [COUNT]
wait_for() {
  local file=$1 re=$2 deadline=$(( $(now_ms) + $3 )) want=${4:-1}
  while :; do
    if [ -f "$file" ] && [ "$(grep -cE -- "$re" "$file")" -ge "$want" ]; then return 0; fi
    if [ "$(now_ms)" -ge "$deadline" ]; then
      echo "     timed out waiting for /$re/ in ${file##*/}"; return 1
    fi
    sleep 0.01
  done
}

# wait_exit PID TIMEOUT_MS: wait for a background process; its status in $EXIT.
wait_exit() {
  local pid=$1 deadline=$(( $(now_ms) + $2 ))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(now_ms)" -ge "$deadline" ]; then echo "     pid $pid still running"; EXIT=124; return 1; fi
    sleep 0.01
  done
  wait "$pid"; EXIT=$?
  return 0
}

# start_bg OUT ERR COMMAND...: start in the background; pid in $BG.
start_bg() {
  local out=$1 err=$2; shift 2
  "$@" > "$out" 2> "$err" < /dev/null &
  BG=$!
  BG_PIDS+=("$BG")
}

# pick_ports N: N distinct loopback ports in 20000-40000, free right now. Random, so
# that the same test running in several build trees at once does not clash.
pick_ports() {
  python3 - "$1" <<'EOF'
import random, socket, sys
n, out = int(sys.argv[1]), []
while len(out) < n:
    p = random.randint(20000, 40000)
    if p in out:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        out.append(p)
    except OSError:
        pass
    finally:
        s.close()
print(*out)
EOF
}

# p2p_config ID PORT PEER_PORT...: write $WORK/nodeID.json (loopback PeerToPeer).
p2p_config() {
  local id=$1 port=$2 peers="" p; shift 2
  for p in "$@"; do peers="$peers${peers:+, }\"127.0.0.1:$p\""; done
  cat > "$WORK/node$id.json" <<EOF
{"nodeId": $id, "heartbeatInterval": "100ms", "failureTimeout": "1s",
 "coordinator": {"@type": "PeerToPeer", "listen": "127.0.0.1:$port",
                 "peers": [$peers], "secret": "test-cli-secret"}}
EOF
}

finish() {
  echo "$((CHECKS - FAILS)) of $CHECKS checks passed"
  [ "$FAILS" -eq 0 ]
  exit $?
}
