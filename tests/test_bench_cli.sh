#!/usr/bin/env bash
# `agora bench` on a 2-node PeerToPeer cluster in one process: it finishes, prints one
# JSON object with the documented fields, delivers every event exactly once, and its
# usage errors exit 2.
set -u
AGORA_BIN=${AGORA_BIN:?AGORA_BIN is not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2" >&2; fail=1; fi; }

cat >"$tmp/p2p.json" <<'JSON'
{"codec":"agora","coordinator":{"@type":"PeerToPeer","listen":"127.0.0.1:29431","secret":"bench-smoke"}}
JSON

"$AGORA_BIN" bench --config "$tmp/p2p.json" --nodes 2 --events 2000 --json -q >"$tmp/out" 2>"$tmp/err"
rc=$?
check '[ $rc -eq 0 ]' "agora bench exited $rc: $(cat "$tmp/err")"
check '[ $(wc -l <"$tmp/out") -eq 1 ]' "expected one JSON line, got: $(cat "$tmp/out")"
out=$(cat "$tmp/out")
for f in eventsPerSec bytesPerSec latencyUs p50 p90 p99 p999 max lost duplicated rssKiB; do
  check '[[ "$out" == *"\"$f\":"* ]]' "field $f missing in: $out"
done
check '[[ "$out" == *"\"lost\":0,"* ]]' "events were lost: $out"
check '[[ "$out" == *"\"duplicated\":0,"* ]]' "events were duplicated: $out"
check '[[ "$out" == *"\"delivered\":4000,"* ]]' "expected 4000 deliveries (2000 each way): $out"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["eventsPerSec"]>0 and d["latencyUs"]["p50"]>0 and d["latencyUs"]["p50"]<=d["latencyUs"]["p99"]<=d["latencyUs"]["max"] and d["rssKiB"]>0' "$tmp/out" \
  || { echo "FAIL: JSON invalid or numbers implausible: $out" >&2; fail=1; }

# Mixed kinds and the paced mode.
"$AGORA_BIN" bench --config "$tmp/p2p.json" --nodes 3 --events 300 --rate 2000 --mix mixed --json -q >"$tmp/out2" 2>"$tmp/err2"
rc=$?
check '[ $rc -eq 0 ]' "mixed/rate run exited $rc: $(cat "$tmp/err2")"
check 'grep -q "\"delivered\":1800," "$tmp/out2"' "mixed: expected 1800 deliveries: $(cat "$tmp/out2")"

# Delivery through agora_fd + agora_dispatch instead of I/O-thread callbacks.
"$AGORA_BIN" bench --config "$tmp/p2p.json" --nodes 2 --events 1000 --delivery fd --json -q >"$tmp/out3" 2>"$tmp/err3"
rc=$?
check '[ $rc -eq 0 ]' "--delivery fd run exited $rc: $(cat "$tmp/err3")"
check 'grep -q "\"delivered\":2000," "$tmp/out3"' "--delivery fd: expected 2000 deliveries: $(cat "$tmp/out3")"

# Usage errors.
"$AGORA_BIN" bench --nodes 2 >/dev/null 2>&1; rc=$?
check '[ $rc -eq 2 ]' "missing --config should exit 2, got $rc"
"$AGORA_BIN" bench --config "$tmp/p2p.json" --mix bogus >/dev/null 2>&1; rc=$?
check '[ $rc -eq 2 ]' "bad --mix should exit 2, got $rc"
"$AGORA_BIN" bench --help | grep -q 'EXIT STATUS' || { echo "FAIL: --help" >&2; fail=1; }

[ $fail -eq 0 ] && echo "bench_cli: ok"
exit $fail
