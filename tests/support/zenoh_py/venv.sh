#!/usr/bin/env bash
# Make (once) a Python virtual environment with Zenoh's Python binding, the other side
# of agora's Zenoh interop tests, and print its python's path.
#   venv.sh DIR      DIR: in the build tree, e.g. $AGORA_BUILD/zenoh-py
# Reruns are instant: a marker names the pinned version installed. Concurrent callers
# wait on a lock. pip's own cache (~/.cache/pip) makes a fresh build tree quick too.
set -euo pipefail
ZENOH_PY_VERSION=1.10.2   # the zenoh crate's version in src/backend/zenoh/shim/Cargo.toml
dir=${1:?usage: venv.sh DIR}
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
marker="$dir/.eclipse-zenoh-$ZENOH_PY_VERSION"
if [ ! -e "$marker" ]; then
  rm -rf "$dir"
  python3 -m venv "$dir" >&2
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check \
    "eclipse-zenoh==$ZENOH_PY_VERSION" >&2
  touch "$marker"
fi
echo "$dir/bin/python"
