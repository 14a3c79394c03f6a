#!/usr/bin/env bash
# Runs the same test suite with openai 7 on Node 22 (openai 7 declares Node >= 22). Node 22 comes
# from the npm registry's `node` package into .cache/; openai is swapped in node_modules for the run
# and put back afterwards, so package.json and the lockfile never change.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
openai7=${OPENAI7_VERSION:-7.59.0}
node22="$root/.cache/node22/node_modules/.bin/node"
if [ ! -x "$node22" ]; then
  mkdir -p .cache/node22
  (cd .cache/node22 && echo '{"private":true}' > package.json && npm install --silent --no-audit --no-fund node@22 >/dev/null)
fi
locked=$(node -p "require('./package-lock.json').packages['node_modules/openai'].version")
restore() { npm install --silent --no-save --no-audit --no-fund "openai@$locked" >/dev/null 2>&1; }
trap restore EXIT
npm install --silent --no-save --no-audit --no-fund "openai@$openai7" >/dev/null 2>&1
echo "node $("$node22" --version), openai $(node -p "require('./node_modules/openai/package.json').version")"
"$node22" node_modules/vitest/vitest.mjs run "$@"
