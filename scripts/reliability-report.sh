#!/usr/bin/env bash
# reliability-report.sh [-o DOC] RESULTS... — puts the fault-injection suite's figures
# (the results files tests/chaos/chaos.sh writes; several when the suite ran in parts)
# into DOC (default docs/reliability.md), between the lines "<!-- results:begin -->"
# and "<!-- results:end -->": the machine's facts (from the first file) and one table
# row per scenario. The rest of DOC is left as it is.
set -euo pipefail
DOC=$(cd "$(dirname "$0")/.." && pwd)/docs/reliability.md
if [ "${1:-}" = -o ]; then DOC=$2; shift 2; fi
[ $# -ge 1 ] || { echo "usage: reliability-report.sh [-o DOC] RESULTS..." >&2; exit 2; }
for r in "$@"; do [ -s "$r" ] || { echo "reliability-report: $r is empty" >&2; exit 1; }; done
grep -q '^<!-- results:begin -->$' "$DOC" && grep -q '^<!-- results:end -->$' "$DOC" ||
  { echo "reliability-report: $DOC has no results markers" >&2; exit 1; }

table=$(mktemp); trap 'rm -f "$table" "$table.doc"' EXIT
awk -F'\t' '
  function ms(v) { return v == "" || v < 0 ? "—" : sprintf("%.1f s", v / 1000) }
  FNR == 1 { file++ }
  /^# / && file > 1 { next }
  $1 == "scenario" && file > 1 { next }
  /^# / { sub(/^# /, ""); k = $0; sub(/:.*/, "", k); v = $0; sub(/^[^:]*: /, "", v); facts[k] = v; next }
  $1 == "scenario" {
    printf "Measured %s on %s; %s. Faults: %s. Mode: %s.\n\n", facts["date"], facts["machine"], facts["agora"], facts["faults"], facts["mode"]
    print "| scenario | fault | expected | published | delivered / expected deliveries | gaps (events) | duplicates | silent losses | failures reported | detection | recovery | peak RSS per process | result |"
    print "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    next
  }
  $15 == "FAIL" && $5 == "" { printf "| %s | %s | %s | — | — | — | — | — | — | — | — | — | did not complete |\n", $1, $3, $4; next }
  {
    printf "| %s (%s) | %s | %s | %d | %d / %d | %d | %d | %d | %d | %s | %s | %.1f MiB | %s |\n",
      $1, $2, $3, $4, $5, $7, $6, $8, $9, $10, $11, ms($12), ms($13), $14 / 1024, $15
  }' "$@" > "$table"

awk -v table="$table" '
  $0 == "<!-- results:begin -->" { print; while ((getline l < table) > 0) print l; skip = 1; next }
  $0 == "<!-- results:end -->" { skip = 0 }
  !skip' "$DOC" > "$table.doc"
cat "$table.doc" > "$DOC"
echo "reliability-report: $DOC updated from $*"
