#!/usr/bin/env bash
# Installs Debian's redis-server for the Redis coordination tests (test/redis/) and the propagation
# benchmark (scripts/bench/propagation.mjs). Idempotent: does nothing when `redis-server` is already
# on the PATH. Needs root (CI runs as root). The packaged service is neither needed nor started:
# the tests and the benchmark start their own server processes on loopback ports.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  echo "install-redis: $(redis-server --version | cut -d' ' -f1-3) is already installed"
  exit 0
fi

SUDO=''
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO='sudo'; else
    echo 'install-redis: run as root (or install sudo): apt-get install redis-server' >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
started=$(date +%s)
# Keep the package from starting its service (a container may have no init system at all).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap "$SUDO rm -f /usr/sbin/policy-rc.d" EXIT
fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends redis-server
echo "install-redis: installed $(redis-server --version | cut -d' ' -f1-3) in $(( $(date +%s) - started ))s"
