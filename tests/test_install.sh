#!/usr/bin/env bash
# cmake --install puts the library, the header, agora.pc and the command under a
# prefix, and a program builds against it with pkg-config alone and runs.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$1"; then :; else echo "FAIL: $2"; fail=1; fi; }

cmake --install "$AGORA_BUILD" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 \
  || { cat "$tmp/install.log"; echo "FAIL: cmake --install"; exit 1; }
p="$tmp/prefix"
pc=$(find "$p" -name agora.pc | head -n1)
check '[ -f "$p/include/agora.h" ]' "header installed"
check '[ -x "$p/bin/agora" ]' "command installed"
check '[ -n "$pc" ]' "agora.pc installed"
check 'ls "$p"/lib*/libagora.so* "$p"/lib*/*/libagora.so* 2>/dev/null | grep -q .' "shared library installed"
check 'ls "$p"/lib*/libagora.a "$p"/lib*/*/libagora.a 2>/dev/null | grep -q .' "static library installed"
check '"$p/bin/agora" version | grep -q "^agora "' "installed command runs"

export PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$(pkg-config --cflags agora) libs=$(pkg-config --libs agora)
check 'cc -std=c11 ${AGORA_TEST_CFLAGS:-} "$AGORA_SRC/examples/callback.c" $cflags $libs -o "$tmp/callback"' \
  "an example builds with pkg-config --cflags --libs agora"
libdir=$(pkg-config --variable=libdir agora)
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/callback" 2>&1)
check 'echo "$out" | grep -q "usage"' "the example runs against the installed library"

if [ $fail -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail
