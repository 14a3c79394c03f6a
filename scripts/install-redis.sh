#!/usr/bin/env bash
# Installs Debian's redis-server, redis-tools (redis-cli: `--cluster create`) and redis-sentinel for
# the Redis coordination tests (test/redis/: a single server, a Redis Cluster, Sentinels) and the
# propagation benchmark (scripts/bench/propagation.mjs). Idempotent: does nothing when
# `redis-server`, `redis-cli` and `redis-sentinel` are already on the PATH. Needs root or sudo. `npm test` runs it when redis-server is missing
# (test/setup/services.ts); it also runs on its own. The packaged service is neither needed nor started:
# the tests and the benchmark start their own server processes on loopback ports.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && command -v redis-sentinel >/dev/null 2>&1; then
  echo "install-redis: $(redis-server --version | cut -d' ' -f1-3) is already installed"
  exit 0
fi

SUDO=''
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO='sudo'; else
    echo 'install-redis: run as root (or install sudo): apt-get install redis-server redis-tools redis-sentinel' >&2
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
# Wait for another apt run (a second `npm test` on a fresh machine) instead of failing on its lock.
APT=(apt-get -q -o DPkg::Lock::Timeout=300)
$SUDO "${APT[@]}" update
$SUDO "${APT[@]}" install -y --no-install-recommends redis-server redis-tools redis-sentinel
echo "install-redis: installed $(redis-server --version | cut -d' ' -f1-3) in $(( $(date +%s) - started ))s"
