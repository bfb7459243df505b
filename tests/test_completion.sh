#!/usr/bin/env bash
# completions/agora.bash: what it offers for a few command lines (COMP_WORDS and
# COMP_CWORD set as bash sets them), and, for every command in this build, every
# long option its --help prints.
set -u
fail=0
failed() { echo "FAIL: $*"; fail=1; }
# shellcheck source=/dev/null
source "$AGORA_SRC/completions/agora.bash"
complete -p agora | grep -q -- '-F _agora' || failed "complete -F _agora agora is not set"

# complete WORD... : run the completion with the cursor on the last word.
complete_line() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _agora
  printf '%s\n' "${COMPREPLY[@]}" | sort
}
# expect "WORDS" "EXPECTED..." : the offers are exactly EXPECTED (sorted).
expect() {
  local words=$1; shift
  local got want
  # shellcheck disable=SC2086
  got=$(complete_line $words "" | tr '\n' ' ' | sed 's/ $//')
  want=$(printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//')
  [ "$got" = "$want" ] || failed "'$words <TAB>': expected [$want], got [$got]"
}
# expect_word "WORDS" CUR "EXPECTED..." : the same with a partial word under the cursor.
expect_word() {
  local words=$1 cur=$2; shift 2
  local got want
  # shellcheck disable=SC2086
  got=$(complete_line $words "$cur" | tr '\n' ' ' | sed 's/ $//')
  want=$(printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//')
  [ "$got" = "$want" ] || failed "'$words $cur<TAB>': expected [$want], got [$got]"
}

expect_word "agora" "se" serve
expect_word "agora" "to" top
expect_word "agora" "--v" --version
expect_word "agora serve" "--st" --status-interval
expect_word "agora serve" "--h" --http --help
expect_word "agora watch" "--f" --format
expect "agora watch --format" json table
expect "agora decode --codec" agora stalwart
expect_word "agora members" "--to" --token-file
expect_word "agora top" "--i" --interval
expect "agora config" check
expect "agora serve --node-id"   # a number of the user's own: nothing offered
expect_word "agora bench --mix" "m" mixed

# File names: --config offers JSON files and folders, encode any file.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/conf.d"
touch "$tmp/node1.json" "$tmp/node2.json" "$tmp/notes.txt"
(
  cd "$tmp" || exit 1
  expect "agora serve --config" conf.d node1.json node2.json
  expect_word "agora serve --config" "node1" node1.json
  expect "agora config check" conf.d node1.json node2.json
  expect_word "agora encode --node-id 1" "no" node1.json node2.json notes.txt
  exit $fail
) || fail=1

# Every long option that `agora CMD --help` prints is offered after `agora CMD --`.
for cmd in serve watch publish members status top encode decode config bench; do
  help=$("$AGORA_BIN" "$cmd" --help 2>&1)
  if [ $? -ne 0 ] || echo "$help" | grep -q "unknown command"; then
    echo "skip: agora $cmd is not in this build"
    continue
  fi
  offered=" $(complete_line agora "$cmd" "--" | tr '\n' ' ') "
  for opt in $(echo "$help" | grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u); do
    # Options of other commands named in the prose (publish's help shows a watch
    # pipeline) are left out: only those in the OPTIONS section count.
    echo "$help" | sed -n '/^OPTIONS/,/^[A-Z]/p' | grep -qE -- "^ +(-[a-z], )?$opt\b" || continue
    [[ $offered == *" $opt "* ]] || failed "agora $cmd --<TAB> does not offer $opt"
  done
done

if [ $fail -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail
