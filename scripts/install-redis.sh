#!/usr/bin/env bash
# Installs redis-server (Debian's package) for the Redis coordination tests and the propagation
# benchmark. Idempotent: does nothing when `redis-server` is already on the PATH. The tests start
# their own server processes on loopback ports; the packaged service is neither needed nor used.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=''
if [ "$(id -u)" -ne 0 ]; then SUDO='sudo'; fi
$SUDO apt-get update -qq
# policy-rc.d keeps the package's service from being started (a container may have no init anyway).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
command -v redis-server >/dev/null
redis-server --version
