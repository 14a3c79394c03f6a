#!/usr/bin/env bash
# The packed package on Bun, Deno, Cloudflare Workers (workerd), Vercel's Edge runtime and Chromium
# (test/runtimes/). Prepares .cache/runtimes/ (scripts/runtimes/install.sh), then runs the tests;
# arguments go to vitest (test files, --reporter, ...).
#
#   npm run build && bash scripts/test-runtimes.sh [vitest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/runtimes/install.sh
exec npx vitest run --config vitest.runtimes.config.ts "$@"
