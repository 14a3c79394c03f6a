#!/usr/bin/env bash
# Prepares .cache/runtimes/: a consumer project that installs the packed tarball (as a user's app
# would) with openai, and the runtimes the runtime tests run it on, each from the npm registry as
# a package that ships its binary: bun, deno, workerd (through miniflare), @edge-runtime/vm, and
# esbuild to bundle for Workers and browsers (Chromium comes from Debian: scripts/install-chromium.sh).
#
#   bash scripts/runtimes/install.sh        (run `npm run build` first)
#
# Idempotent: the runtimes are installed once; the tarball is re-packed and re-installed each run.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/.cache/runtimes"
mkdir -p "$dir"
[ -f "$root/dist/index.js" ] || { echo "dist/ is missing: run npm run build first" >&2; exit 1; }
openai=${OPENAI_VERSION:-$(node -p "require('$root/package-lock.json').packages['node_modules/openai'].version")}
# Pinned, so that a runtime release cannot turn CI red overnight (override to try newer ones).
bun=${BUN_VERSION:-1.4.5}
deno=${DENO_VERSION:-2.9.6}
miniflare=${MINIFLARE_VERSION:-4.20260730.0}
edge=${EDGE_RUNTIME_VM_VERSION:-5.0.0}
esbuild=$(node -p "require('$root/node_modules/esbuild/package.json').version")

tarball=$(cd "$root" && npm pack --silent --pack-destination "$dir" | tail -n 1)
cd "$dir"
cat > package.json <<JSON
{ "private": true, "type": "module", "name": "resilient-openai-runtimes" }
JSON
npm install --no-audit --no-fund --no-package-lock --loglevel=error \
  "openai@$openai" "bun@$bun" "deno@$deno" "miniflare@$miniflare" "@edge-runtime/vm@$edge" "esbuild@$esbuild" "./$tarball"
echo "runtimes ready in $dir: openai $openai, $(node_modules/.bin/bun --version | sed 's/^/bun /'), $(node_modules/.bin/deno --version | head -n 1)"
