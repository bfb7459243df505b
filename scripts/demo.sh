#!/usr/bin/env bash
# demo.sh AGORA_BIN — `make demo`: a 3-node PeerToPeer cluster on loopback and the
# scenarios agora exists for, narrated as they happen:
#   1. a mailbox change on node B reaches an IMAP IDLE watcher on node A (latency)
#   2. an IP block published on one node reaches all the others
#   3. a certificate update is applied everywhere
#   4. a node is killed (SIGKILL) and the others report it failed (detection time)
#   5. it comes back, rejoins, and receives traffic again
#   6. the operator's side: node D serves the admin HTTP API and the web page
#      (`agora serve --http`); `agora top --from` takes a snapshot, C is killed again
#      and `agora members --from` shows it failed, without joining the cluster
# The nodes:  A (node 1) examples/idle_watcher — an embedding program (agora_fd + poll)
#             B (node 2) `agora publish` reading a stream of JSON lines from a FIFO
#             C (node 3) `agora watch --join`, printing every event as a JSON line
#             D (node 4) `agora serve --http`, from scenario 6 on
# Everything runs in a temporary directory on free loopback ports; every process is
# stopped on exit. Exit status 0 only if every scenario worked. Waits are on
# conditions (a line appearing in a node's output), each with a deadline.
# Environment: DEMO_KEEP=1 keeps the temporary directory (logs) afterwards;
# DEMO_HOLD=1 (on a terminal) keeps the cluster running after scenario 6 until Enter
# is pressed, to look at the web page.
set -uo pipefail
export LC_ALL=C

AGORA=${1:-${AGORA_BIN:-build/agora}}
IDLE=${IDLE_WATCHER:-$(dirname "$AGORA")/examples/idle_watcher}
if [ ! -x "$AGORA" ]; then
  echo "demo: $AGORA is not built: run 'make' (or 'make demo') first" >&2; exit 2
fi
if [ ! -x "$IDLE" ]; then
  echo "demo: $IDLE is not built: run 'make' first (it builds examples/)" >&2; exit 2
fi

# ---- time and narration ------------------------------------------------------
now_us() { local t=${1:-$EPOCHREALTIME}; t=${t/[.,]/}; echo $((10#$t)); }
START=$(now_us)
ms() { printf '%d.%03d ms' $(($1 / 1000)) $(($1 % 1000)); }  # µs -> "1.234 ms"
say() {
  local e=$(( ($(now_us) - START) / 1000 ))
  printf '[%3d.%03ds] %s\n' $((e / 1000)) $((e % 1000)) "$*"
}
step() { echo; say "== $* =="; }
ok() { say "   ok: $*"; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/agora-demo.XXXXXX")
PIDS=()
FAILED=0
cleanup() {
  exec 3>&-
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.02; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  if [ "$FAILED" -ne 0 ] || [ -n "${DEMO_KEEP:-}" ]; then
    echo "demo: logs kept in $DIR" >&2
  else
    rm -rf "$DIR"
  fi
}
trap cleanup EXIT
trap 'FAILED=1; exit 130' INT TERM

fail() {
  FAILED=1
  say "FAILED: $*"
  for f in "$DIR"/*.out "$DIR"/*.jsonl "$DIR"/*.err; do
    [ -s "$f" ] || continue
    echo "---- ${f##*/} (last lines)"; tail -n 8 "$f"
  done
  exit 1
}

# wait_for FILE REGEX TIMEOUT_MS [COUNT]: until FILE has COUNT lines matching REGEX.
wait_for() {
  local file=$1 re=$2 deadline=$(( $(now_us) + $3 * 1000 )) want=${4:-1}
  while :; do
    if [ -f "$file" ] && [ "$(grep -cE -- "$re" "$file")" -ge "$want" ]; then return 0; fi
    [ "$(now_us)" -ge "$deadline" ] && return 1
    sleep 0.01
  done
}
# stamp_of FILE REGEX [NTH]: the [seconds.micros] reception stamp of a matching line.
stamp_of() {
  local line; line=$(grep -E -- "$2" "$1" | sed -n "${3:-1}p")
  line=${line%%]*}; echo "${line#[}"
}

# ---- the cluster ---------------------------------------------------------------
free_ports() {
  if command -v python3 >/dev/null; then
    python3 - <<'EOF'
import socket
ss = [socket.socket() for _ in range(6)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
EOF
  else  # pick in 20000-40000 until nothing answers there
    local out=() p
    while [ ${#out[@]} -lt 6 ]; do
      p=$((20000 + RANDOM % 20000))
      (exec 9<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || out+=("$p")
    done
    echo "${out[@]}"
  fi
}
read -r P1 P2 P3 P4 P5 PH < <(free_ports)
SECRET="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
write_config() {  # write_config ID PORT PEER PEER
  cat > "$DIR/node$1.json" <<EOF
{
  "nodeId": $1,
  "codec": "agora",
  "heartbeatInterval": "250ms",
  "failureTimeout": "1500ms",
  "coordinator": {
    "@type": "PeerToPeer",
    "listen": "127.0.0.1:$2",
    "peers": ["127.0.0.1:$3", "127.0.0.1:$4"],
    "secret": "$SECRET"
  }
}
EOF
}
write_config 1 "$P1" "$P2" "$P3"
write_config 2 "$P2" "$P1" "$P3"
write_config 3 "$P3" "$P1" "$P2"

echo "agora demo: a 3-node PeerToPeer cluster on 127.0.0.1 ports $P1 (A), $P2 (B), $P3 (C),"
echo "TLS 1.3 with a pre-shared cluster secret; work directory $DIR"

step "Starting the cluster"
"$IDLE" "$DIR/node1.json" > "$DIR/A.out" 2> "$DIR/A.err" &
PIDS+=($!); PID_A=$!
say "node A (1): examples/idle_watcher — an IMAP server's IDLE side (pid $PID_A)"
"$AGORA" watch --join --config "$DIR/node3.json" > "$DIR/C.jsonl" 2> "$DIR/C.err" &
PIDS+=($!); PID_C=$!
disown "$PID_C"  # it will be SIGKILLed: spare us bash's "Killed" notice
say "node C (3): agora watch --join — a member that prints every event as a JSON line (pid $PID_C)"
mkfifo "$DIR/B.fifo"
"$AGORA" publish --config "$DIR/node2.json" -v --wait-members 10s < "$DIR/B.fifo" \
  > "$DIR/B.out" 2> "$DIR/B.err" &
PIDS+=($!); PID_B=$!
exec 3> "$DIR/B.fifo"  # B publishes every line written here, as it arrives
say "node B (2): agora publish — streams the JSON lines the demo writes (pid $PID_B)"

wait_for "$DIR/A.out" 'node 2 joined' 10000 && wait_for "$DIR/A.out" 'node 3 joined' 10000 \
  || fail "node A did not see B and C join"
wait_for "$DIR/C.jsonl" '"node":1,"type":"MemberJoined"' 10000 \
  && wait_for "$DIR/C.jsonl" '"node":2,"type":"MemberJoined"' 10000 \
  || fail "node C did not see A and B join"
wait_for "$DIR/B.err" 'ready:' 10000 && wait_for "$DIR/B.err" 'node 1 (joined|restarted)' 10000 &&
  wait_for "$DIR/B.err" 'node 3 (joined|restarted)' 10000 || fail "node B did not connect to A and C"
ok "every node sees the two others (A: $(grep -c joined "$DIR/A.out") joins; B: ready; C: 2 MemberJoined)"
say "the view from an observer, which joins nothing (agora members --config node1.json):"
for try in 1 2 3; do  # a loaded machine may need more than one settle window
  "$AGORA" members --config "$DIR/node1.json" --settle 5s \
    > "$DIR/members.json" 2> "$DIR/members.err" 3>&- || fail "agora members failed"
  [ "$(grep -c '"state":"alive"' "$DIR/members.json")" -eq 3 ] && break
  [ "$try" -eq 3 ] && fail "agora members does not list 3 live nodes: $(cat "$DIR/members.json")"
done
sed 's/^/      /' "$DIR/members.json"

# ---- 1. mailbox change -> IDLE -----------------------------------------------------
step "1/6 A mailbox change on node B reaches the IDLE watcher on node A"
say "a message for account 42 was delivered on B; B publishes the StateChange:"
EV='{"type":"StateChange","accountId":42,"changeId":1001,"types":["Email","Mailbox"]}'
say "   $EV"
T_SEND=$EPOCHREALTIME
echo "$EV" >&3
wait_for "$DIR/A.out" 'IDLE account 42:.*changeId 1001' 5000 || fail "A's IDLE watcher got nothing"
T_RECV=$(stamp_of "$DIR/A.out" 'IDLE account 42:.*changeId 1001')
say "A: $(grep -m1 'IDLE account 42:.*changeId 1001' "$DIR/A.out" | cut -d' ' -f2-)"
ok "end-to-end latency B -> A: $(ms $(( $(now_us "$T_RECV") - $(now_us "$T_SEND") )))" \
   "(FIFO write -> agora publish -> TLS -> agora_dispatch on A)"
wait_for "$DIR/C.jsonl" '"changeId":1001' 5000 || fail "C did not get the StateChange"

# ---- 2. IP block ---------------------------------------------------------------------
step "2/6 An IP block published on node B reaches every other node"
EV='{"type":"BlockIp","address":"203.0.113.7/32","expires":"2030-01-01T00:00:00Z","reason":"20 failed logins in 60s"}'
say "B's SMTP sees a password-guessing attack and publishes: $EV"
T_SEND=$EPOCHREALTIME
echo "$EV" >&3
wait_for "$DIR/A.out" 'BlockIp.*203\.0\.113\.7/32' 5000 || fail "A did not get the BlockIp"
T_RECV=$(stamp_of "$DIR/A.out" 'BlockIp.*203\.0\.113\.7/32')
ok "A blocks 203.0.113.7 ($(ms $(( $(now_us "$T_RECV") - $(now_us "$T_SEND") ))) after B published)"
wait_for "$DIR/C.jsonl" '"type":"BlockIp".*203\.0\.113\.7/32' 5000 || fail "C did not get the BlockIp"
ok "C blocks it too: $(grep -m1 '"type":"BlockIp"' "$DIR/C.jsonl")"

# ---- 3. certificate ----------------------------------------------------------------
step "3/6 A renewed certificate is applied everywhere"
CERT_JSON=""
if command -v openssl >/dev/null &&
   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 \
     -subj /CN=mail.example.org -addext subjectAltName=DNS:mail.example.org,DNS:imap.example.org \
     -keyout "$DIR/key.pem" -out "$DIR/cert.pem" >/dev/null 2>&1; then
  FP=$(openssl x509 -in "$DIR/cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
  END=$(openssl x509 -in "$DIR/cert.pem" -noout -enddate | sed 's/notAfter=//')
  NOT_AFTER=$(date -u -d "$END" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo 2030-01-01T00:00:00Z)
  PEM=$(awk '{printf "%s\\n", $0}' "$DIR/cert.pem")
  say "B renewed mail.example.org with ACME (here: openssl), fingerprint sha256 ${FP:0:16}…"
else
  FP=3f0c6a9e2b7d41c58e0a9d6b1c2f3e4a5b6c7d8e9f00112233445566778899aa
  NOT_AFTER=2030-01-01T00:00:00Z
  PEM='-----BEGIN CERTIFICATE-----\nMIIBdemo\n-----END CERTIFICATE-----\n'
  say "B renewed mail.example.org (openssl is missing: a placeholder chain is used)"
fi
EV="{\"type\":\"CertificateUpdate\",\"domains\":[\"mail.example.org\",\"imap.example.org\"],\"notAfter\":\"$NOT_AFTER\",\"sha256\":\"$FP\",\"chain\":\"$PEM\"}"
echo "$EV" >&3
wait_for "$DIR/A.out" "CertificateUpdate.*$FP" 5000 || fail "A did not get the certificate"
ok "A now serves mail.example.org with sha256 ${FP:0:16}… (valid until $NOT_AFTER)"
wait_for "$DIR/C.jsonl" "\"type\":\"CertificateUpdate\".*$FP" 5000 || fail "C did not get the certificate"
ok "C now serves mail.example.org with sha256 ${FP:0:16}…"

# ---- 4. failure ----------------------------------------------------------------------
step "4/6 Node C is killed (SIGKILL) and the others report it failed"
T_KILL=$EPOCHREALTIME
kill -KILL "$PID_C"
while kill -0 "$PID_C" 2>/dev/null; do sleep 0.01; done
PIDS=("$PID_A" "$PID_B")
say "kill -9 $PID_C (node C): no goodbye, its connections just go silent"
wait_for "$DIR/A.out" 'node 3 failed' 10000 || fail "A did not report node 3 failed"
T_DET=$(stamp_of "$DIR/A.out" 'node 3 failed')
ok "A reports node 3 failed $(ms $(( $(now_us "$T_DET") - $(now_us "$T_KILL") ))) after the kill" \
   "(failureTimeout 1500ms)"
wait_for "$DIR/B.err" 'node 3 .*failed: silent' 10000 || fail "B did not report node 3 failed"
ok "B too: $(grep -m1 -E 'node 3 .*failed: silent' "$DIR/B.err" | sed 's/^.*node 2: //')"

# ---- 5. rejoin -----------------------------------------------------------------------
step "5/6 Node C comes back and rejoins"
T_START=$EPOCHREALTIME
"$AGORA" watch --join --config "$DIR/node3.json" > "$DIR/C2.jsonl" 2> "$DIR/C2.err" 3>&- &
PIDS+=($!); PID_C=$!  # (3>&-: only the demo may hold B's input open)
say "node C (3) restarted: agora watch --join (pid $PID_C), a new incarnation"
wait_for "$DIR/A.out" 'node 3 joined' 10000 2 || fail "A did not see node 3 rejoin"
T_JOIN=$(stamp_of "$DIR/A.out" 'node 3 joined' 2)
ok "A: node 3 joined again $(ms $(( $(now_us "$T_JOIN") - $(now_us "$T_START") ))) after the restart"
wait_for "$DIR/C2.jsonl" '"node":1,"type":"MemberJoined"' 10000 \
  && wait_for "$DIR/C2.jsonl" '"node":2,"type":"MemberJoined"' 10000 \
  || fail "the restarted C does not see A and B"
wait_for "$DIR/B.err" 'node 3 (restarted|joined)' 10000 || fail "B did not see node 3 rejoin"
ok "C sees A and B again; B: $(grep -E 'node 3 (restarted|joined)' "$DIR/B.err" | tail -n1 | sed 's/^.*node 2: //')"
EV='{"type":"StateChange","accountId":7,"changeId":1002,"types":["Mailbox"]}'
echo "$EV" >&3
wait_for "$DIR/C2.jsonl" '"changeId":1002' 5000 || fail "the restarted C does not receive events"
ok "a new mailbox change from B reaches the restarted C: $(grep -m1 '"changeId":1002' "$DIR/C2.jsonl")"

# ---- 6. the operator's side ------------------------------------------------------------
step "6/6 The operator's side: look into the cluster without joining it"
write_config 4 "$P5" "$P1" "$P2"
"$AGORA" serve --config "$DIR/node4.json" --http "127.0.0.1:$PH" > "$DIR/D.out" 2> "$DIR/D.err" 3>&- &
PIDS+=($!); PID_D=$!
say "node D (4): agora serve --http 127.0.0.1:$PH — the admin HTTP API and web page (pid $PID_D)"
# show_json: a one-line JSON object, one array element a line, indented
show_json() { sed -e 's/\[{/[\n{/g' -e 's/},{/},\n{/g' | sed 's/^/      /'; }
# members_from: `agora members --from` on D, as JSON, into members-from.json
members_from() {
  "$AGORA" members --from "127.0.0.1:$PH" --json > "$DIR/members-from.json" 2> "$DIR/members-from.err" 3>&-
}
# members_in STATE NODE...: the last members_from lists each NODE in STATE
members_in() {
  local want=$1 n; shift
  for n in "$@"; do
    # a member object: {"node":N,...,"state":"..."} inside the "members" array
    grep -qE "[[,]\\{\"node\":$n,[^}]*\"state\":\"$want\"" "$DIR/members-from.json" || return 1
  done
}
# until_members STATE NODE... TIMEOUT_MS: poll D's API until it says so
until_members() {
  local deadline=$(( $(now_us) + ${*: -1} * 1000 ))
  while :; do
    members_from && members_in "${@:1:$#-1}" && return 0
    [ "$(now_us)" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}
until_members alive 1 2 3 4 10000 || fail "D's API does not list nodes 1-4 alive: $(cat "$DIR/members-from.json" "$DIR/members-from.err" 2>/dev/null)"
ok "D sees the whole cluster"
say "the web page: open http://127.0.0.1:$PH/ in a browser (members, event rates, live events,"
say "the coordinator's configuration and a form that checks an edited one)"
EV='{"type":"StateChange","accountId":42,"changeId":1003,"types":["Email"]}'
echo "$EV" >&3
wait_for "$DIR/C2.jsonl" '"changeId":1003' 5000 || fail "C did not get the StateChange 1003"
say "one snapshot of agora top --from 127.0.0.1:$PH --json --count 1 (per node and per type):"
"$AGORA" top --from "127.0.0.1:$PH" --json --count 1 > "$DIR/top.json" 2> "$DIR/top.err" 3>&- \
  || fail "agora top --from failed: $(cat "$DIR/top.err")"
show_json < "$DIR/top.json"
disown "$PID_C"  # as before: no "Killed" notice from bash
kill -KILL "$PID_C"
while kill -0 "$PID_C" 2>/dev/null; do sleep 0.01; done
PIDS=("$PID_A" "$PID_B" "$PID_D")
say "kill -9 $PID_C (node C) again"
until_members failed 3 10000 || fail "D's API does not report node 3 failed: $(cat "$DIR/members-from.json")"
ok "agora members --from 127.0.0.1:$PH (it joins nothing) reports node 3 failed:"
show_json < "$DIR/members-from.json"
if [ -n "${DEMO_HOLD:-}" ] && [ -t 0 ]; then
  read -r -p "the cluster keeps running: http://127.0.0.1:$PH/ — press Enter to end the demo " _
fi

# ---- graceful end ----------------------------------------------------------------------
step "The end: B's input ends, B flushes and leaves; A and D are stopped with SIGTERM"
exec 3>&-
wait "$PID_B"; RC_B=$?
[ "$RC_B" -eq 0 ] || fail "agora publish on B exited with status $RC_B"
wait_for "$DIR/A.out" 'node 2 left' 5000 || fail "A did not see B leave"
ok "B published every event and left; A saw 'node 2 left' (a goodbye, not a failure)"
kill -TERM "$PID_A" "$PID_D"
wait "$PID_A"; RC_A=$?
wait "$PID_D"; RC_D=$?
[ "$RC_A" -eq 0 ] && [ "$RC_D" -eq 0 ] || fail "A exited with $RC_A, D with $RC_D"
PIDS=()
ok "A and D left cleanly (exit status 0)"
echo
say "demo complete: all 6 scenarios worked"
exit 0
