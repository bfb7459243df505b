#!/usr/bin/env bash
# `agora config check`: output, exit statuses, error lines, secrets, --node-id, --help.
set -u
BIN=${AGORA_BIN:?AGORA_BIN must point at build/agora}
[ -x "$BIN" ] || { echo "not executable: $BIN" >&2; exit 1; }
T=$(mktemp -d /tmp/agora-config-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# run ARGS...: sets rc, out, errout
run() {
    "$BIN" "$@" >"$T/out" 2>"$T/err" </dev/null
    rc=$?
    out=$(cat "$T/out")
    errout=$(cat "$T/err")
}
# run_in STDIN ARGS...
run_in() {
    local input=$1
    shift
    printf '%s' "$input" | "$BIN" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    out=$(cat "$T/out")
    errout=$(cat "$T/err")
}
has_line() { grep -qxF -- "$2" <<<"$1"; }

# --- a valid node file: effective config on stdout, exit 0, secret masked
cat >"$T/node.json" <<'EOF'
{
  "nodeId": 3,
  "coordinator": {"@type": "PeerToPeer", "peers": ["10.0.0.2:7911"], "secret": "SUPERSECRET-42"}
}
EOF
run config check "$T/node.json"
[ "$rc" -eq 0 ] || fail "valid file: exit $rc (stderr: $errout)"
[ -z "$errout" ] || fail "valid file: unexpected stderr: $errout"
for l in '  "nodeId": 3,' '  "codec": "agora",' '  "heartbeatInterval": "250ms",' \
         '  "failureTimeout": "1500ms",' '  "outboxLimit": 100000,' \
         '    "@type": "PeerToPeer",' '    "listen": ["127.0.0.1:7911"],' \
         '    "peers": ["10.0.0.2:7911"],' '    "secret": "********",' \
         '    "connectTimeout": "2s"'; do
    has_line "$out" "$l" || fail "valid file: output lacks line: $l"
done
grep -q SUPERSECRET <<<"$out$errout" && fail "the secret was printed"

# the output is itself a valid configuration that prints the same
printf '%s\n' "$out" >"$T/effective.json"
run config check "$T/effective.json"
[ "$rc" -eq 0 ] && [ "$out" = "$(cat "$T/effective.json")" ] || fail "output does not re-check to itself"

# --- --node-id overrides the file (both spellings)
run config check --node-id 9 "$T/node.json"
[ "$rc" -eq 0 ] && has_line "$out" '  "nodeId": 9,' || fail "--node-id 9 not applied"
run config check "$T/node.json" --node-id=65535
[ "$rc" -eq 0 ] && has_line "$out" '  "nodeId": 65535,' || fail "--node-id=65535 not applied"
run config check --node-id 65536 "$T/node.json"
[ "$rc" -eq 2 ] && grep -q -- '--node-id' <<<"$errout" || fail "--node-id 65536: exit $rc"
run config check --node-id abc "$T/node.json"
[ "$rc" -eq 2 ] || fail "--node-id abc: exit $rc"

# --- a bare coordinator object on stdin
run_in '{"@type": "Redis", "url": "redis://u:PW-XYZ@127.0.0.1:6379/1"}' config check -
[ "$rc" -eq 0 ] || fail "stdin: exit $rc ($errout)"
has_line "$out" '    "url": "redis://u:********@127.0.0.1:6379/1",' || fail "stdin: url not masked: $out"
has_line "$out" '  "nodeId": null,' || fail "stdin: nodeId should be null"
grep -q PW-XYZ <<<"$out$errout" && fail "a URL password was printed"

# --- invalid: every error on stderr, one per line, file-prefixed; nothing on stdout; exit 2
cat >"$T/bad.json" <<'EOF'
{"nodeId": 70000, "coordinator": {"@type": "Kafka", "brokers": [], "timeoutSession": "5 s", "color": "red"}}
EOF
run config check "$T/bad.json"
[ "$rc" -eq 2 ] || fail "invalid file: exit $rc"
[ -z "$out" ] || fail "invalid file: stdout not empty: $out"
for l in "$T/bad.json: nodeId: out of range: 70000 is not from 0 to 65535" \
         "$T/bad.json: coordinator.brokers: at least one broker is required" \
         "$T/bad.json: coordinator.timeoutSession: expected a duration such as \"5s\"" \
         "$T/bad.json: coordinator.groupId: required (the Kafka consumer group id, e.g. \"agora\")"; do
    has_line "$errout" "$l" || fail "invalid file: stderr lacks: $l (got: $errout)"
done
[ "$(wc -l <"$T/err")" -eq 5 ] || fail "invalid file: expected 5 error lines, got: $errout"

# unknown @type
run_in '{"@type": "Zookeeper"}' config check -
[ "$rc" -eq 2 ] && has_line "$errout" '-: coordinator.@type: unknown coordinator type "Zookeeper" (expected one of PeerToPeer, Kafka, Nats, Redis, RedisCluster, RedisSentinel, Zenoh, Disabled)' \
    || fail "unknown @type: exit $rc: $errout"

# unparseable JSON with line and column
printf '{\n  "@type": "Redis",\n  "timeout": 5s\n}\n' >"$T/syntax.json"
run config check "$T/syntax.json"
[ "$rc" -eq 2 ] && [ "$errout" = "$T/syntax.json: invalid JSON at line 3, column 15: expected ',' or '}', found 's'" ] \
    || fail "syntax error: exit $rc: $errout"

# wrong type for a secret: named, value not shown
run_in '{"@type": "PeerToPeer", "secret": 987654321}' config check -
[ "$rc" -eq 2 ] && has_line "$errout" '-: coordinator.secret: expected a string, found number' \
    || fail "secret type: $errout"
grep -q 987654321 <<<"$errout" && fail "secret value echoed in an error"

# missing and unreadable files
run config check "$T/does-not-exist.json"
[ "$rc" -eq 2 ] && [ "$errout" = "$T/does-not-exist.json: cannot open the configuration file: No such file or directory" ] \
    || fail "missing file: exit $rc: $errout"
run config check "$T"
[ "$rc" -eq 2 ] && grep -q "^$T: cannot read the configuration file" <<<"$errout" || fail "directory: exit $rc: $errout"

# --- usage
run config check
[ "$rc" -eq 2 ] && grep -q 'missing FILE' <<<"$errout" || fail "no FILE: exit $rc"
run config check a.json b.json
[ "$rc" -eq 2 ] || fail "two files: exit $rc"
run config check --bogus "$T/node.json"
[ "$rc" -eq 2 ] && grep -q "unknown option '--bogus'" <<<"$errout" || fail "unknown option: exit $rc"
run config frobnicate
[ "$rc" -eq 2 ] || fail "unknown subcommand: exit $rc"
run config
[ "$rc" -eq 2 ] && [ -z "$out" ] && grep -q SYNOPSIS <<<"$errout" || fail "bare 'config': exit $rc"
for h in "config --help" "config -h" "config check --help"; do
    # shellcheck disable=SC2086
    run $h
    [ "$rc" -eq 0 ] || fail "$h: exit $rc"
    for s in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' EXAMPLES 'agora config check'; do
        grep -q "$s" <<<"$out" || fail "$h: help lacks $s"
    done
done

# --- a bus backend's "secret" (sealed messages): masked, re-checks to itself, checked
#     by index without being echoed, refused with the stalwart codec
run_in '{"nodeId": 2, "coordinator": {"@type": "Nats", "secret": ["BUSSECRET-new-0123", "BUSSECRET-old-0123"]}}' config check -
[ "$rc" -eq 0 ] && has_line "$out" '    "secret": ["********", "********"]' || fail "bus secret: $rc $out $errout"
grep -q BUSSECRET <<<"$out$errout" && fail "the bus secret was printed"
printf '%s\n' "$out" >"$T/sealed.json"
run config check "$T/sealed.json"
[ "$rc" -eq 0 ] && [ "$out" = "$(cat "$T/sealed.json")" ] || fail "sealed output does not re-check to itself"
run_in '{"@type": "Redis", "secret": ["BUSSECRET-new-0123", "BUSSHORT"]}' config check -
[ "$rc" -eq 2 ] && has_line "$errout" '-: coordinator.secret[1]: must be at least 16 bytes (a random string; it is not stretched)' \
    || fail "short bus secret: $errout"
grep -q BUSS <<<"$errout" && fail "a bus secret was echoed in an error"
run_in '{"nodeId": 1, "codec": "stalwart", "coordinator": {"@type": "Redis", "secret": "BUSSECRET-new-0123"}}' config check -
[ "$rc" -eq 2 ] && grep -q 'coordinator.secret: the "stalwart" codec cannot be sealed' <<<"$errout" \
    || fail "stalwart + secret: $rc $errout"

if [ "$fails" -ne 0 ]; then
    echo "test_config_cli: $fails failure(s)" >&2
    exit 1
fi
echo "test_config_cli: ok"
