#!/usr/bin/env bash
# libagora.so exports the public functions of agora.h (agora_*) and nothing else:
# the library is built with hidden visibility and AGORA_API marks what is public.
set -u
so="$AGORA_BUILD/libagora.so"
[ -f "$so" ] || { echo "FAIL: $so not built"; exit 1; }
syms=$(nm -D --defined-only "$so" | awk 'NF >= 3 {print $3}') \
  || { echo "FAIL: nm -D $so"; exit 1; }
stray=$(printf '%s\n' "$syms" | grep -v '^agora_' | grep -v '^$')
count=$(printf '%s\n' "$syms" | grep -c '^agora_')
if [ -n "$stray" ]; then
  echo "FAIL: libagora.so exports symbols outside the public API:"
  printf '  %s\n' $stray
  exit 1
fi
# Every exported function is declared in agora.h (and so carries AGORA_API).
missing=0
for s in $(printf '%s\n' "$syms" | grep '^agora_'); do
  grep -q "AGORA_API .*\b$s(" "$AGORA_SRC/include/agora.h" \
    || { echo "FAIL: $s exported but not declared with AGORA_API in agora.h"; missing=1; }
done
[ $missing -eq 0 ] || exit 1
echo "ok: libagora.so exports $count symbols, all agora_*"
