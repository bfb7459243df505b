#!/usr/bin/env bash
# Installing: `make install PREFIX=DIR` puts the library, header, agora.pc, the CMake
# package, the command, the man pages, the bash completion, the systemd unit, the docs
# and the examples under DIR; a program builds against it with pkg-config and with
# CMake's find_package(agora) (shared and static) and runs. The Makefile also
# re-runs cmake when CMAKE_FLAGS changes on an existing build directory.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$1"; then :; else echo "FAIL: $2"; fail=1; fi; }

# The build's own compiler and flags (a sanitized library needs its runtime).
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$AGORA_BUILD/CMakeCache.txt")
cc=${cc:-cc}
cflags=${AGORA_TEST_CFLAGS:-}

# make install PREFIX=DIR, on the build directory ctest runs in (-o build: it is
# built already; the recipe is the one a user runs).
make -s -C "$AGORA_SRC" -o build install BUILD="$AGORA_BUILD" PREFIX="$tmp/prefix" \
  >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; echo "FAIL: make install PREFIX=DIR"; exit 1; }
p="$tmp/prefix"
pc=$(find "$p" -name agora.pc | head -n1)
check '[ -f "$p/include/agora.h" ]' "header installed"
check '[ -x "$p/bin/agora" ]' "command installed"
check '[ -n "$pc" ]' "agora.pc installed"
check 'ls "$p"/lib*/libagora.so* "$p"/lib*/*/libagora.so* 2>/dev/null | grep -q .' "shared library installed"
check 'ls "$p"/lib*/libagora.a "$p"/lib*/*/libagora.a 2>/dev/null | grep -q .' "static library installed"
check '"$p/bin/agora" version | grep -q "^agora "' "installed command runs"

# Man pages, completion, unit, docs, examples.
for page in "$AGORA_SRC"/man/*.[1-9]; do
  name=$(basename "$page"); section=${name##*.}
  check '[ -f "$p/share/man/man$section/$name" ]' "man page $name installed in man$section"
done
check 'MANPATH="$p/share/man" man -w agora-serve >/dev/null 2>&1 || ! command -v man >/dev/null' \
  "man finds agora-serve(1) under the prefix"
check '[ -f "$p/share/bash-completion/completions/agora" ]' "bash completion installed"
check 'bash -c "source \"$p/share/bash-completion/completions/agora\" && complete -p agora" >/dev/null' \
  "the installed completion loads"
check '[ -f "$p/share/doc/agora/README.md" ]' "README installed"
for doc in "$AGORA_SRC"/docs/*.md; do
  check '[ -f "$p/share/doc/agora/docs/$(basename "$doc")" ]' "docs/$(basename "$doc") installed"
done
check '[ -f "$p/share/doc/agora/examples/callback.c" ] && [ -f "$p/share/doc/agora/examples/cluster/node1.json" ]' \
  "examples installed"

unit="$p/lib/systemd/system/agora@.service"
check '[ -f "$unit" ]' "agora@.service installed"
if [ -f "$unit" ]; then
  check 'grep -qx "ExecStart=$p/bin/agora serve --config %d/node.json" "$unit"' \
    "the unit runs the installed command (ExecStart names $p/bin/agora)"
  check 'grep -qx "LoadCredential=node.json:/etc/agora/%i.json" "$unit"' \
    "the unit reads /etc/agora/<instance>.json"
  for key in Restart=on-failure RestartPreventExitStatus=2 DynamicUser=yes NoNewPrivileges=yes \
             ProtectSystem=strict ProtectHome=yes PrivateTmp=yes CapabilityBoundingSet= \
             WantedBy=multi-user.target; do
    check 'grep -qx "$key" "$unit"' "the unit sets $key"
  done
  if command -v systemd-analyze >/dev/null; then
    # An instance of the template, as systemctl would load it; any complaint fails.
    # Its Documentation= pages are looked up with man, under the prefix.
    cp "$unit" "$tmp/agora@test.service"
    man_opt=--man=no
    command -v man >/dev/null && man_opt=--man=yes
    out=$(MANPATH="$p/share/man" systemd-analyze verify $man_opt "$tmp/agora@test.service" 2>&1)
    check '[ $? -eq 0 ] && [ -z "$out" ]' "systemd-analyze verify agora@.service: $out"
  fi
fi

# A program built with pkg-config, against the shared library.
export PKG_CONFIG_PATH=$(dirname "$pc")
pc_cflags=$(pkg-config --cflags agora) pc_libs=$(pkg-config --libs agora)
check '"$cc" -std=c11 $cflags "$AGORA_SRC/examples/callback.c" $pc_cflags $pc_libs -o "$tmp/callback"' \
  "an example builds with pkg-config --cflags --libs agora"
libdir=$(pkg-config --variable=libdir agora)
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/callback" 2>&1)
check 'echo "$out" | grep -q "usage"' "the example runs against the installed library"
check 'pkg-config --static --libs agora | grep -q -- "-lssl"' "pkg-config --static names the dependencies"

# The same with CMake: find_package(agora), shared and static.
mkdir -p "$tmp/cm"
cat >"$tmp/cm/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(agora_consumer C)
find_package(agora 0.1 REQUIRED)
add_executable(callback_shared "$AGORA_SRC/examples/callback.c")
target_link_libraries(callback_shared PRIVATE agora::agora)
add_executable(callback_static "$AGORA_SRC/examples/callback.c")
target_link_libraries(callback_static PRIVATE agora::agora_static)
CMAKE
if cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$p" -DCMAKE_C_COMPILER="$cc" \
     -DCMAKE_C_FLAGS="$cflags" >"$tmp/cm.log" 2>&1 \
   && cmake --build "$tmp/cm/build" >>"$tmp/cm.log" 2>&1; then
  for kind in shared static; do
    out=$("$tmp/cm/build/callback_$kind" 2>&1)
    check 'echo "$out" | grep -q "usage"' "the example built with find_package(agora) ($kind) runs"
  done
  check 'ldd "$tmp/cm/build/callback_shared" | grep -q "$p/.*libagora.so"' \
    "agora::agora links the installed libagora.so"
  check '! ldd "$tmp/cm/build/callback_static" | grep -q libagora' \
    "agora::agora_static links libagora.a"
else
  cat "$tmp/cm.log"
  check false "an example builds with CMake find_package(agora)"
fi
# The version file: a later major version is not this one.
sed -i 's/find_package(agora 0.1 REQUIRED)/find_package(agora 1.0 REQUIRED)/' "$tmp/cm/CMakeLists.txt"
check '! cmake -S "$tmp/cm" -B "$tmp/cm/build1" -DCMAKE_PREFIX_PATH="$p" >/dev/null 2>&1' \
  "find_package(agora 1.0) refuses agora 0.x"

# CMAKE_FLAGS on an existing build directory is applied (issue 16: it used to be
# ignored once CMakeCache.txt existed, and make install went to /usr/local).
b="$tmp/b"
for prefix in "$tmp/p1" "$tmp/p2"; do
  make -s -C "$AGORA_SRC" configure BUILD="$b" CMAKE_FLAGS="-DCMAKE_INSTALL_PREFIX=$prefix -DAGORA_ZENOH=OFF" \
    >"$tmp/configure.log" 2>&1 || cat "$tmp/configure.log"
  check 'grep -qx "CMAKE_INSTALL_PREFIX:PATH=$prefix" "$b/CMakeCache.txt"' \
    "make CMAKE_FLAGS=-DCMAKE_INSTALL_PREFIX=$prefix reaches an existing build directory"
done

if [ $fail -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail
