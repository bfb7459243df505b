#!/usr/bin/env bash
# The manual pages in man/: each renders without a warning (groff -ww, and man-db's
# man --warnings), every page one names in SEE ALSO exists, every command of
# `agora --help` has its agora-<cmd>(1), and every long option that `agora <cmd>
# --help` prints appears in agora-<cmd>(1). A command this build lacks is skipped,
# so the check follows the build.
set -u
man_dir="$AGORA_SRC/man"
fail=0
failed() { echo "FAIL: $*"; fail=1; }

# Rendered as plain text: long lines (no wrapping inside an option), no overstrike.
render() { groff -man -Tascii -P-cbou -rLL=250n "$1" 2>/dev/null; }

pages=("$man_dir"/*.[1-9])
[ ${#pages[@]} -ge 14 ] || failed "expected at least 14 pages in man/, found ${#pages[@]}"
for page in "${pages[@]}"; do
  name=$(basename "$page")
  out=$(groff -man -ww -z "$page" 2>&1)
  [ -z "$out" ] || failed "$name: groff warnings: $out"
  if command -v man >/dev/null; then
    out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    [ -z "$out" ] || failed "$name: man --warnings: $out"
  fi
  head -n1 "$page" | grep -q '^\.TH ' || failed "$name: does not start with .TH"
  # Every agora page it refers to exists.
  for ref in $(render "$page" | grep -oE '\b(agora|libagora)[a-z.-]*\([0-9]\)' | sort -u); do
    ref_file="$man_dir/${ref%(*}.${ref: -2:1}"
    [ -f "$ref_file" ] || failed "$name: refers to $ref, which has no page"
  done
done

# The commands `agora --help` lists, each with its page and in agora(1).
commands=$("$AGORA_BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && /^  [a-z]/ {print $1}')
[ -n "$commands" ] || failed "agora --help lists no command"
for cmd in $commands version; do
  [ -f "$man_dir/agora-$cmd.1" ] || failed "agora $cmd has no page agora-$cmd.1"
  render "$man_dir/agora.1" | grep -q "agora-$cmd(1)" || failed "agora(1) does not name agora-$cmd(1)"
done

# Every long option of each command's --help is documented in its page.
for page in "$man_dir"/agora-*.1; do
  cmd=$(basename "$page" .1); cmd=${cmd#agora-}
  help=$("$AGORA_BIN" "$cmd" --help 2>&1); rc=$?
  if [ $rc -ne 0 ] || echo "$help" | grep -q "unknown command"; then
    echo "skip: agora $cmd is not in this build"
    continue
  fi
  text=$(render "$page")
  checked=0
  for opt in $(echo "$help" | grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u); do
    checked=$((checked + 1))
    echo "$text" | grep -qE -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|$)" \
      || failed "agora-$cmd.1 does not document $opt (printed by 'agora $cmd --help')"
  done
  echo "ok: agora-$cmd.1 documents the $checked long options of 'agora $cmd --help'"
done

if [ $fail -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail
