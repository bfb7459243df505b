#!/usr/bin/env bash
# run-fuzz.sh BUILD_DIR [SECONDS] — run every libFuzzer target built in BUILD_DIR/fuzz
# (configure with -DCMAKE_C_COMPILER=clang -DAGORA_FUZZ=ON; `make fuzz` does it all)
# for SECONDS each (default 30), starting from a copy of its kept corpus
# tests/fuzz/corpus/<target>/ (or <target without fuzz_>/), so the kept corpus is never modified. Prints one line
# per target; exits 1 if any target crashed, leaked or timed out (the input that did
# it is saved under BUILD_DIR/fuzz-work/<target>/artifacts/).
set -u
build=${1:?usage: run-fuzz.sh BUILD_DIR [SECONDS]}
secs=${2:-30}
case $secs in '' | *[!0-9]*) echo "run-fuzz: SECONDS must be a whole number, got '$secs'" >&2; exit 2 ;; esac
src=$(cd "$(dirname "$0")/.." && pwd)

shopt -s nullglob
targets=("$build"/fuzz/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
    echo "run-fuzz: no fuzz targets in $build/fuzz (configure with -DCMAKE_C_COMPILER=clang -DAGORA_FUZZ=ON)" >&2
    exit 2
fi

status=0
for t in "${targets[@]}"; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    name=$(basename "$t")
    work=$build/fuzz-work/$name
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    seeds=0
    kept=$src/tests/fuzz/corpus/$name
    [ -d "$kept" ] || kept=$src/tests/fuzz/corpus/${name#fuzz_} # corpus/config for fuzz_config
    if [ -d "$kept" ]; then
        cp "$kept"/* "$work/corpus/" 2>/dev/null
        seeds=$(find "$work/corpus" -type f | wc -l)
    fi
    log=$work/log
    "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    size=$(find "$work/corpus" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        printf 'fuzz %-18s ok     %10s runs in %ss, %s, corpus %d (%d seeds)\n' \
            "$name" "${runs:-?}" "$secs" "${cov:-cov: ?}" "$size" "$seeds"
    else
        printf 'fuzz %-18s FAILED (exit %d) after %s runs; log %s\n' "$name" "$rc" "${runs:-?}" "$log"
        grep -E 'ERROR|SUMMARY|==[0-9]+==|^[^ ].*(differs|bad error|re-encode)' "$log" | head -20
        for a in "$work/artifacts"/*; do echo "  reproduce: $t $a"; done
        status=1
    fi
done
exit $status
