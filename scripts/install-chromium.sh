#!/usr/bin/env bash
# Installs Debian's Chromium for the status page's end-to-end test (test/status-page.e2e.test.ts).
# Idempotent: does nothing when /usr/bin/chromium is already there. Needs root or sudo. `npm test`
# runs it when Chromium is missing (test/setup/services.ts); it also runs on its own.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "install-chromium: /usr/bin/chromium is already installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

SUDO=''
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO='sudo'; else
    echo 'install-chromium: run as root (or install sudo): apt-get install chromium' >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
started=$(date +%s)
# Wait for another apt run (a second `npm test` on a fresh machine) instead of failing on its lock.
APT=(apt-get -q -o DPkg::Lock::Timeout=300)
$SUDO "${APT[@]}" update
$SUDO "${APT[@]}" install -y --no-install-recommends chromium
echo "install-chromium: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium) in $(( $(date +%s) - started ))s"
