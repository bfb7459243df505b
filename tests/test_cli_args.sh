#!/usr/bin/env bash
# test_cli_args.sh — `agora serve|watch|publish|members`: help, argument and
# configuration errors (exit 2, naming the culprit), a lone PeerToPeer publisher
# (a free loopback port: warns, exit 0), and the behaviour that needs no network, on
# the Disabled coordinator: watch timeouts (exit 3), signals (exit 0), publish from
# arguments and from a stream with a bad line, members' JSON.
. "$(dirname "$0")/test_cli_lib.sh"

DIS=$WORK/disabled.json
echo '{"nodeId": 5, "coordinator": {"@type": "Disabled"}}' > "$DIS"
NOID=$WORK/noid.json
echo '{"@type": "Disabled"}' > "$NOID"
BAD=$WORK/bad.json
echo '{"nodeId": 5, "heartbeatInterval": "soon", "coordinator": {"@type": "Disabled"}}' > "$BAD"
BROKEN=$WORK/broken.json
printf '{"nodeId": 5,\n  "coordinator": {"@type": "Disabled",}\n}\n' > "$BROKEN"
REDIS=$WORK/redis.json
echo '{"nodeId": 5, "coordinator": {"@type": "Redis"}}' > "$REDIS"
SC='{"type":"StateChange","accountId":42,"changeId":7,"types":["Email"]}'

help_ok() {  # help_ok CMD FLAG: a man-page-like help on stdout, exit 0
  expect_status 0 "" -- "$AGORA" "$1" "$2" || return 1
  for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES "agora $1" "--config"; do
    grep -q -- "$s" "$WORK/last.out" || { echo "     help of $1 lacks '$s'"; return 1; }
  done
}

for cmd in serve watch publish members; do
  check "$cmd --help" help_ok "$cmd" --help
  check "$cmd -h" help_ok "$cmd" -h
  check "$cmd without --config: exit 2" \
    expect_status 2 "agora $cmd: --config FILE is required" -- "$AGORA" "$cmd"
  check "$cmd unknown option: exit 2" \
    expect_status 2 "agora $cmd: unknown option '--bogus'" -- "$AGORA" "$cmd" --config "$DIS" --bogus
  check "$cmd --config without value: exit 2" \
    expect_status 2 "option --config needs a value" -- "$AGORA" "$cmd" --config
  check "$cmd --node-id out of range: exit 2" \
    expect_status 2 "--node-id: expected an integer from 0 to 65535, got \"70000\"" -- \
    "$AGORA" "$cmd" --config "$DIS" --node-id 70000
  check "$cmd --node-id not a number: exit 2" \
    expect_status 2 "--node-id: expected an integer" -- "$AGORA" "$cmd" --config "$DIS" --node-id=x
  check "$cmd missing config file: exit 2, names it" \
    expect_status 2 "agora $cmd: .*nonexistent\.json" -- "$AGORA" "$cmd" --config "$WORK/nonexistent.json"
  check "$cmd bad field: exit 2, names the field" \
    expect_status 2 "heartbeatInterval: expected a duration" -- "$AGORA" "$cmd" --config "$BAD"
  check "$cmd malformed JSON: exit 2, line and column" \
    expect_status 2 "line 2, column" -- "$AGORA" "$cmd" --config "$BROKEN"
  check "$cmd bad --codec: exit 2" \
    expect_status 2 "--codec: expected \"agora\" or \"stalwart\", got \"json\"" -- \
    "$AGORA" "$cmd" --config "$DIS" --codec json
  check "$cmd bad --listen: exit 2" \
    expect_status 2 "--listen: expected HOST:PORT" -- "$AGORA" "$cmd" --config "$DIS" --listen nowhere
done
# The commands that join need a node id and take --listen (PeerToPeer only); watch
# joins only with --join (it observes otherwise, as members does).
for cmd in serve publish "watch --join"; do
  # shellcheck disable=SC2086 # "watch --join" is two words
  check "$cmd no node id: exit 2" \
    expect_status 2 "nodeId.*--node-id" -- "$AGORA" $cmd --config "$NOID"
  # shellcheck disable=SC2086
  check "$cmd --listen on a non-PeerToPeer coordinator: exit 2" \
    expect_status 2 "--listen applies to the PeerToPeer coordinator only" -- \
    "$AGORA" $cmd --config "$DIS" --listen 127.0.0.1:1
done
check "watch (an observer) needs no node id: exit 0" \
  expect_status 0 "" -- "$AGORA" watch --config "$NOID" --timeout 100ms
observer_notes() {
  expect_status 0 "note: --node-id is ignored" -- \
    "$AGORA" watch --config "$DIS" --node-id 7 --listen 127.0.0.1:1 --timeout 100ms || return 1
  grep -q "note: --listen is ignored" "$WORK/last.err" || { echo "     no --listen note"; return 1; }
}
check "watch --node-id / --listen: accepted, a note says they change nothing" observer_notes
check "watch bad --format: exit 2" expect_status 2 "--format: expected \"json\" or \"table\", got \"xml\"" -- \
  "$AGORA" watch --config "$DIS" --format xml
check "members on a coordinator without membership: exit 2, says why" \
  expect_status 2 "runs no membership" -- "$AGORA" members --config "$NOID"

check "watch --count 0: exit 2" expect_status 2 "--count: expected at least 1" -- \
  "$AGORA" watch --config "$DIS" --count 0
check "watch bad --timeout: exit 2" expect_status 2 "--timeout: expected a duration" -- \
  "$AGORA" watch --config "$DIS" --timeout 5x
check "watch --events-only=1: exit 2" expect_status 2 "--events-only takes no value" -- \
  "$AGORA" watch --config "$DIS" --events-only=1
check "watch stray operand: exit 2" expect_status 2 "unexpected argument 'extra'" -- \
  "$AGORA" watch --config "$DIS" extra
check "members bad --settle: exit 2" expect_status 2 "--settle: expected a duration" -- \
  "$AGORA" members --config "$DIS" --settle forever
check "serve bad --status-interval: exit 2" expect_status 2 "--status-interval: expected a duration" -- \
  "$AGORA" serve --config "$DIS" --status-interval often
check "publish bad --wait-members: exit 2" expect_status 2 "--wait-members: expected a duration" -- \
  "$AGORA" publish --config "$DIS" --wait-members x "$SC"
check "publish invalid EVENT_JSON: exit 2, names argument and field" \
  expect_status 2 "argument 2: types\[0\]: unknown data type \"Emial\"" -- \
  "$AGORA" publish --config "$DIS" "$SC" '{"type":"StateChange","accountId":1,"changeId":1,"types":["Emial"]}'
check "publish a local notice as argument: exit 2" \
  expect_status 2 "argument 1: MemberJoined is a local notice" -- \
  "$AGORA" publish --config "$DIS" '{"type":"MemberJoined","incarnation":1}'
check "publish agora-only kind with the stalwart codec: exit 2, says why" \
  expect_status 2 "argument 1: BlockIp cannot be carried by the stalwart codec" -- \
  "$AGORA" publish --config "$DIS" --codec stalwart '{"type":"BlockIp","address":"192.0.2.1"}'
# all or nothing: a valid argument beside one the codec cannot carry is not published
check "publish --codec stalwart, a valid and an uncarriable argument: exit 2, nothing published" \
  expect_status 2 "argument 2: BlockIp cannot be carried by the stalwart codec.*nothing published" -- \
  "$AGORA" publish --config "$DIS" --codec stalwart -v "$SC" '{"type":"BlockIp","address":"192.0.2.1"}'

P2P=$WORK/p2p.json
read -r PA < <(pick_ports 1)
echo '{"nodeId": 5, "coordinator": {"@type": "PeerToPeer", "listen": "127.0.0.1:'$PA'", "secret": "s"}}' > "$P2P"
# --codec is checked like the file's "codec" (agora_config_set), before the node starts.
check "watch --codec stalwart on PeerToPeer: exit 2, says why" \
  expect_status 2 "agora watch: codec: \"stalwart\" works only with a broker coordinator" -- \
  "$AGORA" watch --config "$P2P" --codec stalwart
node_id_override() {
  expect_status 0 "node 77: started" -- "$AGORA" publish --config "$DIS" --node-id 77 -v "$SC"
}
check "--node-id overrides the file's nodeId" node_id_override

# an event over the backend's message limit: said so, with the limit
SMALL=$WORK/p2p-small.json
echo '{"nodeId": 5, "coordinator": {"@type": "PeerToPeer", "listen": "127.0.0.1:'$PA'", "secret": "s", "maxFrameSize": 2048}}' > "$SMALL"
BIG="{\"type\":\"Custom\",\"name\":\"x\",\"data\":\"$(head -c 3000 /dev/zero | base64 -w0)\"}"
check "publish an event over the size limit: exit 2 (nothing published), says so with the limit" \
  expect_status 2 "argument 1: cannot publish Custom: it takes 3007 bytes encoded, more than the 1920 bytes one event may take" -- \
  "$AGORA" publish --config "$SMALL" --wait-members 0 "$BIG"
check "publish alone in a PeerToPeer cluster: warns after --wait-members, sent nowhere: exit 4" \
  expect_status 4 "warning: no other member is alive after 300 ms; publishing anyway" -- \
  "$AGORA" publish --config "$P2P" --wait-members 300ms "$SC"

# Durations: a bare number is milliseconds; 0 means "do not wait" / "never".
check "publish --wait-members 1 (1 ms): accepted, warns, exit 4 (nobody alive)" \
  expect_status 4 "warning: no other member is alive after 1 ms; publishing anyway" -- \
  "$AGORA" publish --config "$P2P" --wait-members 1 "$SC"
publish_no_wait() {
  expect_status 4 "no other member was alive: the 1 events were sent nowhere" -- \
    "$AGORA" publish --config "$P2P" --wait-members 0 "$SC" || return 1
  ! grep -q warning "$WORK/last.err" || { echo "     --wait-members 0 waited"; cat "$WORK/last.err"; return 1; }
}
check "publish --wait-members 0: does not wait (no warning), sent nowhere: exit 4" publish_no_wait

# ---- behaviour on the Disabled coordinator (no network) ----
t0=$(now_ms)
check "watch --timeout (no --count) ran as asked: exit 0" \
  expect_status 0 "" -- "$AGORA" watch --config "$DIS" --timeout 300ms
t1=$(now_ms)
check "watch --timeout 300ms lasts about 300ms" test $((t1 - t0)) -ge 300 -a $((t1 - t0)) -lt 5000
check "watch --count 1 --timeout: exit 3, says how many" \
  expect_status 3 "timed out after 0 of 1 lines" -- "$AGORA" watch --config "$DIS" --count 1 --timeout 200ms
check "publish arguments: exit 0" expect_status 0 "" -- "$AGORA" publish --config "$DIS" "$SC" "$SC"

stream_bad_line() {
  printf '%s\n\nnot json\n{"node":3,"type":"MemberJoined","address":"x","incarnation":9}\n%s' "$SC" "$SC" |
    "$AGORA" publish --config "$DIS" -v > "$WORK/pub.out" 2> "$WORK/pub.err"
  local rc=$?
  [ "$rc" -eq 1 ] || { echo "     exit status $rc, expected 1"; return 1; }
  grep -q 'agora publish: line 3: column 1: ' "$WORK/pub.err" || { echo "     no 'line 3' error"; cat "$WORK/pub.err"; return 1; }
  grep -q '2 events published, 1 notices skipped, 1 bad' "$WORK/pub.err" || { echo "     wrong summary"; cat "$WORK/pub.err"; return 1; }
}
check "publish stream: bad line reported by number, the others published, exit 1" stream_bad_line

members_nobody() {  # a PeerToPeer file whose seeds are not there: nobody heard
  expect_status 4 "agora members: no member was heard within 300 ms" -- \
    "$AGORA" members --config "$P2P" --settle 300ms || return 1
  [ "$(tr -d ' \n' < "$WORK/last.out")" = "[]" ] || { echo "     stdout: $(cat "$WORK/last.out")"; return 1; }
}
check "members that hears nobody: prints [], says so, exit 4" members_nobody

SIGRUN=0
signal_exit() {  # signal_exit SIG WANT CMD...: runs until SIG, then exits with WANT
  local sig=$1 want=$2 err=$WORK/sig$((++SIGRUN)).err; shift 2
  start_bg /dev/null "$err" "$@"
  local pid=$BG
  # -v logs the node's start: the signal handlers are in place by then.
  wait_for "$err" 'started' 5000 || return 1
  kill -"$sig" "$pid"
  wait_exit "$pid" 10000 || return 1
  [ "$EXIT" -eq "$want" ] || { echo "     exit status $EXIT after SIG$sig, expected $want"; cat "$err"; return 1; }
}
serve_signal() {
  local err=$WORK/serve$((++SIGRUN)).err
  start_bg /dev/null "$err" "$AGORA" serve --config "$DIS" --status-interval 100ms
  local pid=$BG
  wait_for "$err" 'status: 0 other members alive' 5000 || return 1
  kill -"$1" "$pid"
  wait_exit "$pid" 10000 || return 1
  [ "$EXIT" -eq 0 ] || { echo "     exit status $EXIT"; return 1; }
  grep -q "SIG$1 received: leaving the cluster" "$err" || { cat "$err"; return 1; }
}
check "serve: periodic status, SIGTERM -> exit 0" serve_signal TERM
check "serve: SIGINT -> exit 0" serve_signal INT
check "watch without --count: SIGTERM -> exit 0" signal_exit TERM 0 "$AGORA" watch --config "$DIS" -v
check "watch --count: SIGINT before K lines -> exit 3" \
  signal_exit INT 3 "$AGORA" watch --config "$DIS" -v --count 2
check "watch --timeout 0 (never): runs until SIGTERM -> exit 0" \
  signal_exit TERM 0 "$AGORA" watch --config "$DIS" -v --timeout 0
serve_no_status() {
  signal_exit TERM 0 "$AGORA" serve --config "$DIS" -v --status-interval 0 || return 1
  ! grep -q 'status:' "$WORK/sig$SIGRUN.err" || { echo "     a status line with --status-interval 0"; return 1; }
}
check "serve --status-interval 0 (never): no status line, SIGTERM -> exit 0" serve_no_status
publish_stream_signal() {
  local fifo=$WORK/pub.fifo err=$WORK/pubsig.err
  mkfifo "$fifo"
  "$AGORA" publish --config "$DIS" -v < "$fifo" > /dev/null 2> "$err" &
  local pid=$!
  BG_PIDS+=("$pid")
  exec 7> "$fifo"
  echo "$SC" >&7
  echo "$SC" >&7
  wait_for "$err" 'ready:' 5000 || return 1
  kill -TERM "$pid"
  wait_exit "$pid" 10000
  exec 7>&-
  [ "$EXIT" -eq 0 ] || { echo "     exit status $EXIT"; cat "$err"; return 1; }
  grep -q '2 events published' "$err" || { echo "     lines before the signal not published"; cat "$err"; return 1; }
}
check "publish stream: SIGTERM ends the stream after what was read, exit 0" publish_stream_signal

finish
