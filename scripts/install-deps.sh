#!/usr/bin/env bash
# Install the Debian packages agora's build, tests and demo need. Idempotent: does
# nothing when everything is present. Needs root (or sudo) only when something is
# missing. Usage: scripts/install-deps.sh [--check]
set -euo pipefail

PKGS=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libssl-dev libhiredis-dev libnats-dev librdkafka-dev
      redis-server redis-tools nats-server
      default-jre-headless maven python3 python3-venv procps iproute2
      libmicrohttpd-dev libcurl4-openssl-dev prometheus chromium python3-websocket
      nftables iptables kcat)
# groff renders the man pages for tests/test_man.sh; systemd-analyze verifies the unit
# (tests/test_install.sh).
PKGS+=(groff-base man-db systemd openssl)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${1:-}" = "--check" ]; then
  [ ${#missing[@]} -eq 0 ] && exit 0
  echo "missing packages: ${missing[*]}"; exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packaged servers start themselves on install; agora's tests start their own
# on other ports, so stop the system ones to keep the machine quiet.
for svc in redis-server nats-server prometheus; do
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
echo "install-deps: done" >&2
