#!/usr/bin/env bash
# test_codec_cli.sh — `agora decode` / `agora encode`: the vectors both ways, errors
# with byte offsets and line numbers, exit statuses, batch splitting, the agora codec.
set -u
A=${AGORA_BIN:?AGORA_BIN must point at build/agora}
V=${AGORA_VECTORS:?}/stalwart
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect STATUS CMD...: run, keep stdout/stderr in $T/out / $T/err
expect() {
    local want=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    [ "$got" = "$want" ] || fail "exit $got (expected $want): $* [stderr: $(head -c 300 "$T/err")]"
}
has() { grep -qF -- "$2" "$1" || fail "$1 lacks: $2 [it has: $(head -c 300 "$1")]"; }

node_of() { # the batch's node id (LEB128 u16 at the start)
    od -An -tu1 -v "$1" | tr -s ' ' '\n' | awk 'NF{v+=($1%128)*m; if($1<128){print v; exit} m*=128} BEGIN{m=1}'
}

# 1. every good vector: decode, encode the output back (same bytes), and the
#    expected .jsonl encodes to the same bytes (so it says the same as our output)
n=0
for bin in "$V"/[0-9]*.bin; do
    n=$((n + 1))
    base=${bin%.bin}
    node=$(node_of "$bin")
    expect 0 "$A" decode --codec stalwart "$bin"
    [ "$(wc -l <"$T/out")" = "$(grep -c . "$base.jsonl")" ] || fail "$bin: line count"
    "$A" encode --codec stalwart --node-id "$node" <"$T/out" >"$T/re.bin" || fail "$bin: re-encode"
    cmp -s "$T/re.bin" "$bin" || fail "$bin: decode|encode differs"
    "$A" encode --node-id "$node" "$base.jsonl" >"$T/re2.bin" || fail "$bin: encode jsonl"
    cmp -s "$T/re2.bin" "$bin" || fail "$bin: encoded .jsonl differs"
    "$A" decode <"$bin" >"$T/stdin.out" || fail "$bin: decode from stdin"
    cmp -s "$T/stdin.out" "$T/out" || fail "$bin: stdin vs file"
done
[ "$n" -ge 5 ] || fail "only $n good vectors"

# the exact printed form
expect 0 "$A" decode "$V/01-state-change.bin"
[ "$(cat "$T/out")" = '{"node":1,"type":"StateChange","accountId":42,"changeId":7,"types":["Email","Mailbox","Thread"]}' ] ||
    fail "exact form: $(cat "$T/out")"

# 2. malformed batches: exit 1, "agora decode: byte N: what"
expect 1 "$A" decode "$V/bad-01-empty.bin"; has "$T/err" "agora decode: byte 0: empty input"
expect 1 "$A" decode "$V/bad-02-truncated-leb.bin"; has "$T/err" "agora decode: byte 0: node id: truncated"
expect 1 "$A" decode "$V/bad-03-unknown-tag.bin"; has "$T/err" "agora decode: byte 1: unknown event tag 13"
expect 1 "$A" decode "$V/bad-04-truncated-state.bin"; has "$T/err" "agora decode: byte 3: StateChange types"
expect 1 "$A" decode "$V/bad-05-bad-object-type.bin"; has "$T/err" "agora decode: byte 2: RegistryReload object: unknown object type id 117"
for bin in "$V"/bad-*.bin; do
    expect 1 "$A" decode "$bin"; has "$T/err" "agora decode: byte "
done
# events before the fault are printed
printf '\x01\x08\x0c\x0d' >"$T/partial.bin"
expect 1 "$A" decode "$T/partial.bin"
[ "$(wc -l <"$T/out")" = 2 ] || fail "events before the fault: $(cat "$T/out")"
has "$T/err" "agora decode: byte 3: unknown event tag 13"

# 3. encode errors name the line; nothing is written; exit 1
printf '{"type":"QueueRefresh"}\n\n{"type":"StateChange","accountId":1,"changeId":2,"types":["Email","Mailbox","Emial"]}\n' >"$T/e1"
expect 1 "$A" encode --node-id 1 "$T/e1"
has "$T/err" 'agora encode: line 3: types[2]: unknown data type "Emial"'
[ ! -s "$T/out" ] || fail "output written despite an error"
printf '{"type":"QueueRefresh"}\n{"type":\n' | expect 1 "$A" encode --node-id 1
has "$T/err" "agora encode: line 2: line 1, column"
printf '{"type":"BlockIp","address":"203.0.113.7/32"}\n' | expect 1 "$A" encode --codec stalwart --node-id 1
has "$T/err" "agora encode: line 1: BlockIp cannot be sent with the stalwart codec: Stalwart does not know this event"

# 4. usage errors: exit 2
expect 2 "$A" encode --codec stalwart </dev/null; has "$T/err" "--node-id N is required"
expect 2 "$A" encode --node-id 65536 </dev/null; has "$T/err" "--node-id: expected an integer from 0 to 65535"
expect 2 "$A" encode --node-id -1 </dev/null
expect 2 "$A" decode --codec nope </dev/null; has "$T/err" 'expected "stalwart" or "agora"'
expect 2 "$A" decode --bogus </dev/null; has "$T/err" "unknown option '--bogus'"
expect 2 "$A" decode --node-id 3 </dev/null
expect 2 "$A" encode --node-id
expect 1 "$A" decode "$T/does-not-exist"
expect 0 "$A" decode --help; has "$T/out" "EXIT STATUS"
expect 0 "$A" encode --help; has "$T/out" "--out-prefix"

# 5. no events: one empty batch; 250 events: batches of 100, 100, 50
expect 0 "$A" encode --node-id 300 </dev/null
[ "$(od -An -tx1 "$T/out" | tr -d ' \n')" = "ac02" ] || fail "empty batch: $(od -An -tx1 "$T/out")"
for i in $(seq 1 250); do echo "{\"type\":\"PushServerUpdate\",\"accountId\":$i}"; done >"$T/many.jsonl"
expect 0 "$A" encode --node-id=7 --out-prefix "$T/part" "$T/many.jsonl"
[ ! -s "$T/out" ] || fail "--out-prefix also wrote stdout"
total=0
for k in 001:100 002:100 003:50; do
    f="$T/part-${k%%:*}.bin"
    [ -f "$f" ] || { fail "missing $f"; continue; }
    c=$("$A" decode "$f" | wc -l)
    [ "$c" = "${k##*:}" ] || fail "$f holds $c events"
    total=$((total + $(wc -c <"$f")))
done
[ -e "$T/part-004.bin" ] && fail "a fourth batch"
"$A" decode "$T/part-003.bin" | tail -1 | grep -qF '"accountId":250}' || fail "last event of the split"
expect 0 "$A" encode --node-id 7 "$T/many.jsonl"
[ "$(wc -c <"$T/out")" = "$total" ] || fail "stdout holds the batches one after the other"

# 6. the agora codec carries agora's own kinds too
cat >"$T/agora.jsonl" <<'J'
{"node":9,"type":"BlockIp","address":"203.0.113.7/32","expires":"2026-12-01T00:00:00Z","reason":"brute force"}
{"node":9,"type":"CertificateUpdate","domains":["mail.example.com"],"notAfter":"2027-02-01T00:00:00Z","sha256":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff","chain":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
{"node":9,"type":"Custom","name":"x","data":"AAEC/w=="}
{"node":9,"type":"StateChange","accountId":42,"changeId":7,"types":["Email"]}
J
expect 0 "$A" encode --codec agora --node-id 9 --incarnation 5 --first-seq 3 "$T/agora.jsonl"
cp "$T/out" "$T/agora.bin"
expect 0 "$A" decode --codec agora "$T/agora.bin"
cmp -s "$T/out" "$T/agora.jsonl" || fail "agora codec round trip: $(cat "$T/out")"
head -c 20 "$T/agora.bin" >"$T/agora-cut.bin"
expect 1 "$A" decode --codec agora "$T/agora-cut.bin"; has "$T/err" "agora decode: byte "
printf '{"type":"Gap","missed":1}\n' | expect 1 "$A" encode --codec agora --node-id 1
has "$T/err" "agora encode: line 1: Gap is a local notice"

# sealed messages (docs/sealing.md): --secret seals and opens; a wrong secret, a plain
# message, a short secret and the stalwart codec are refused; the secret is never echoed
S1=CLISECRET-0123456789ab S2=CLISECRET-ba9876543210
expect 0 "$A" encode --codec agora --node-id 9 --secret "$S1" "$T/agora.jsonl"
cp "$T/out" "$T/sealed.bin"
[ "$(head -c 2 "$T/sealed.bin")" = AS ] || fail "sealed message lacks the AS magic"
[ $(( $(wc -c <"$T/sealed.bin") - $(wc -c <"$T/agora.bin") )) = 46 ] || fail "envelope overhead"
expect 0 "$A" decode --codec agora --secret "$S2" --secret "$S1" "$T/sealed.bin"
cmp -s "$T/out" "$T/agora.jsonl" || fail "sealed round trip: $(cat "$T/out")"
expect 1 "$A" decode --codec agora --secret "$S2" "$T/sealed.bin"; has "$T/err" "does not open: unknown key"
expect 1 "$A" decode --codec agora --secret "$S1" "$T/agora.bin"; has "$T/err" "does not open: not sealed"
expect 1 "$A" decode --codec agora "$T/sealed.bin"
expect 2 "$A" decode --codec agora --secret short "$T/sealed.bin"; has "$T/err" "secret[0]: must be at least 16 bytes"
expect 2 "$A" encode --codec stalwart --node-id 1 --secret "$S1" "$T/agora.jsonl"
has "$T/err" "--secret needs --codec agora"
grep -q CLISECRET "$T/err" && fail "a secret was echoed"

if [ "$fails" -ne 0 ]; then
    echo "test_codec_cli: $fails failures"
    exit 1
fi
echo "test_codec_cli: all passed"
