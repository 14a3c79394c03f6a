#!/usr/bin/env bash
# Packs the library and uses the tarball from a fresh consumer project, with import and require(),
# against the given openai version (default: the one in devDependencies).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
openai_version=${1:-$(node -p "require('$root/node_modules/openai/package.json').version" 2>/dev/null || echo 6)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
echo "packed $tarball ($(du -h "$work/$tarball" | cut -f1)); files:"
tar tzf "$work/$tarball" | sed 's/^/  /'
if tar tzf "$work/$tarball" | grep -Eq '^package/(src|test|examples)/'; then
  echo "the tarball holds sources or tests" >&2; exit 1
fi
mkdir "$work/consumer"
cp scripts/consumer/* "$work/consumer/"
cd "$work/consumer"
echo '{ "name": "consumer", "private": true }' > package.json
npm install --silent --no-audit --no-fund --prefer-offline "$work/$tarball" "openai@$openai_version" >/dev/null
node smoke.cjs
node smoke.mjs
