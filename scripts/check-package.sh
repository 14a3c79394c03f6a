#!/usr/bin/env bash
# Checks the package as users get it: packs it, lints the tarball (publint, attw), then installs it
# into a fresh consumer project with the given openai version and uses it from ESM, CommonJS and
# TypeScript (node16, nodenext, bundler, CommonJS), through third-party libraries that take an
# OpenAI client, and through the host libraries that take its `client.fetch` (AI SDK, LangChain.js).
# Run `npm run build` first.
#
#   bash scripts/check-package.sh [openai-version]    (default: the openai in node_modules)
#
# Prints one line per check and exits non-zero if any failed; a failing check's output is shown.
# Needs the npm registry (consumer installs, with --prefer-offline) and nothing else: the runtime
# checks talk to servers on 127.0.0.1 only.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
openai_version=${1:-$(node -p "require('$root/node_modules/openai/package.json').version" 2>/dev/null || echo 6)}
openai_major=${openai_version%%.*}
# Consumer toolchain and the third-party libraries proved to accept a ResilientOpenAI; pinned so a
# release of theirs cannot turn CI red overnight (override to try newer ones).
typescript_version=${TYPESCRIPT_VERSION:-~5.9.3}
types_node_version=${TYPES_NODE_VERSION:-20}
langsmith_version=${LANGSMITH_VERSION:-0.12.0}
openai_agents_version=${OPENAI_AGENTS_VERSION:-0.20.0}
ai_version=${AI_VERSION:-7.0.173}
ai_sdk_openai_version=${AI_SDK_OPENAI_VERSION:-4.0.118}
langchain_openai_version=${LANGCHAIN_OPENAI_VERSION:-1.6.0}
langchain_core_version=${LANGCHAIN_CORE_VERSION:-1.4.0}

cd "$root"
work=$(mktemp -d)
# CHECK_PACKAGE_KEEP=1 keeps the packed tarball and the consumer project for a closer look.
if [ "${CHECK_PACKAGE_KEEP:-}" = 1 ]; then echo "work dir: $work"; else trap 'rm -rf "$work"' EXIT; fi
npm_install=(npm install --no-audit --no-fund --prefer-offline --no-package-lock --loglevel=error --engine-strict=false)
started=$SECONDS
summary=()
failures=0

# check [--show] NAME COMMAND...: runs COMMAND, records ✓/✗; its output is shown on failure (or
# always, with --show).
check() {
  local show=0 log="$work/check.log" t0=$SECONDS
  if [ "$1" = --show ]; then show=1; shift; fi
  local name=$1
  shift
  if "$@" >"$log" 2>&1; then
    summary+=("✓ $name ($((SECONDS - t0))s)")
    if [ "$show" = 1 ]; then cat "$log"; fi
  else
    summary+=("✗ $name")
    failures=$((failures + 1))
    printf '\n--- ✗ %s:\n' "$name"
    tail -n 60 "$log" | sed 's/^/    /'
  fi
}
skip() { summary+=("- $1: skipped ($2)"); }
finish() {
  printf '\npackage check, openai %s (node %s), %ss:\n' "$openai_version" "$(node --version)" "$((SECONDS - started))"
  printf '  %s\n' "${summary[@]}"
  if [ "$failures" -gt 0 ]; then echo "$failures check(s) failed" >&2; exit 1; fi
  exit 0
}

# --- the tarball -------------------------------------------------------------------------------
for f in dist/index.js dist/index.cjs dist/index.d.ts dist/index.d.cts; do
  [ -f "$f" ] || { summary+=("✗ build output: $f is missing (run npm run build first)"); failures=1; finish; }
done
npm pack --json --pack-destination "$work" >"$work/pack.json" 2>"$work/pack.err" || { cat "$work/pack.err" >&2; summary+=("✗ npm pack"); failures=1; finish; }
tarball="$work/$(node -p "require('$work/pack.json')[0].filename")"

# What npm says it packed; fails on anything users do not need and on source maps that point nowhere.
inspect_tarball() {
  node - "$work/pack.json" "$tarball" <<'EOF'
const { execFileSync } = require('node:child_process');
const [info] = require(process.argv[2]);
const tarball = process.argv[3];
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
console.log(`${info.filename}: ${kb(info.size)} packed, ${kb(info.unpackedSize)} unpacked, ${info.entryCount} files`);
for (const f of info.files) console.log(`  ${kb(f.size).padStart(9)}  ${f.path}`);
const allowed = /^(package\.json|README\.md|CHANGELOG\.md|LICEN[CS]E(\.md|\.txt)?|dist\/[\w.-]+\.(js|cjs|d\.ts|d\.cts|js\.map|cjs\.map))$/;
const problems = info.files.filter((f) => !allowed.test(f.path)).map((f) => `not needed by users: ${f.path}`);
for (const need of ['package.json', 'README.md', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts']) {
  if (!info.files.some((f) => f.path === need)) problems.push(`missing: ${need}`);
}
// A map must embed every source it names: src/ is not published, so a bare path points nowhere.
for (const f of info.files.filter((f) => f.path.endsWith('.map'))) {
  const map = JSON.parse(execFileSync('tar', ['-xzOf', tarball, `package/${f.path}`], { maxBuffer: 64 << 20 }));
  const missing = map.sources.filter((_, i) => typeof map.sourcesContent?.[i] !== 'string');
  if (missing.length) problems.push(`${f.path} names sources it does not embed: ${missing.join(', ')}`);
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
EOF
}
check --show "tarball: only what users need ($(node -p "(require('$work/pack.json')[0].size / 1024).toFixed(1)") kB packed)" inspect_tarball
if ! tar -tzf "$tarball" | grep -E '^package/LICEN[CS]E' >/dev/null; then
  summary+=('! no LICENSE file in the tarball, although package.json says "license": "MIT"')
fi

# publint exits 0 on suggestions; "All good!" is what it prints when it found nothing at all.
publint_clean() {
  local out rc
  out=$(npx --no-install publint run --strict "$tarball" 2>&1)
  rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] && grep -q 'All good!' <<<"$out"
}
check "publint --strict: no errors, warnings or suggestions" publint_clean
# attw (profile strict: node10, node16 from CJS and ESM, bundler) exits non-zero on any problem.
check "attw: types resolve in node10, node16 (CJS and ESM), bundler" npx --no-install attw "$tarball" --no-color --format table-flipped

# --- a fresh consumer project ------------------------------------------------------------------
consumer="$work/consumer"
mkdir "$consumer"
cp -R scripts/consumer/. "$consumer/"
# The TypeScript consumers start with `// @ts-nocheck` so the repository's own type check skips
# them; remove it here, or tsc would pass them unseen.
for f in "$consumer/consumer.ts" "$consumer/cjs/consumer.ts" "$consumer/hosts.ts" "$consumer/hosts-langchain.ts"; do
  grep -v '^// @ts-nocheck' "$f" >"$f.tmp" && mv "$f.tmp" "$f"
  if grep -q '@ts-nocheck' "$f"; then summary+=("✗ $f still has @ts-nocheck"); failures=1; finish; fi
done
echo '{ "name": "consumer", "private": true, "type": "module" }' >"$consumer/package.json"
deps=("$tarball" "openai@$openai_version" "typescript@$typescript_version" "@types/node@$types_node_version" "langsmith@$langsmith_version"
  "ai@$ai_version" "@ai-sdk/openai@$ai_sdk_openai_version" "zod@4")
# @openai/agents and @langchain/openai depend on openai ^7: with openai 6 each would bring its own
# copy, so they run on 7 only. The AI SDK does not use openai at all and runs on both.
with_openai7=0
if [[ $openai_major =~ ^[0-9]+$ ]] && [ "$openai_major" -ge 7 ]; then with_openai7=1; fi
[ "$with_openai7" = 1 ] && deps+=("@openai/agents-core@$openai_agents_version" "@openai/agents-openai@$openai_agents_version"
  "@langchain/openai@$langchain_openai_version" "@langchain/core@$langchain_core_version")

install_consumer() {
  (cd "$consumer" && "${npm_install[@]}" "${deps[@]}") || return 1
  # One openai in the tree: a second copy would make `instanceof OpenAI` and the SDK's types differ.
  local copies
  copies=$(cd "$consumer" && find node_modules -path '*node_modules/openai/package.json' | sort)
  echo "openai copies: $copies"
  [ "$(echo "$copies" | wc -l)" -eq 1 ] || { echo "more than one openai installed" >&2; return 1; }
}
before=$failures
check "install tarball + openai@$openai_version into a fresh project (one openai copy)" install_consumer
if [ "$failures" -gt "$before" ]; then finish; fi
installed() { node -p "require('$consumer/node_modules/$1/package.json').version"; }
openai_version="$(installed openai)"

in_consumer() { (cd "$consumer" && "$@"); }
tsc=(node "$consumer/node_modules/typescript/bin/tsc")
check "ESM: import from 'resilient-openai' (dist/index.js)" in_consumer node smoke.mjs
check "CJS: require('resilient-openai') (dist/index.cjs)" in_consumer node smoke.cjs
for resolution in node16 nodenext bundler; do
  check "TypeScript $(installed typescript), moduleResolution $resolution: consumer.ts type-checks" in_consumer "${tsc[@]}" -p "tsconfig.$resolution.json"
done
compile_and_run_cjs() {
  (cd "$consumer/cjs" && "${tsc[@]}" -p tsconfig.json) || return 1
  grep -q 'require("resilient-openai")' "$consumer/cjs/consumer.js" || { echo "consumer.js does not require('resilient-openai'):" >&2; cat "$consumer/cjs/consumer.js" >&2; return 1; }
  (cd "$consumer/cjs" && node consumer.js)
}
check "TypeScript CommonJS (module node16): compiles to require(), runs" compile_and_run_cjs
# The legacy "moduleResolution": "node" (node10) ignores `exports` and reads `main`/`types`.
check "TypeScript CommonJS, module commonjs, moduleResolution node10: type-checks" \
  in_consumer "${tsc[@]}" -p cjs/tsconfig.json --module commonjs --moduleResolution node10 --noEmit
check "langsmith $(installed langsmith): wrapOpenAI(resilient client) fails over" in_consumer node third-party.mjs langsmith
if [ "$with_openai7" = 1 ]; then
  check "@openai/agents $(installed @openai/agents-openai): OpenAIProvider({ openAIClient }) fails over" in_consumer node third-party.mjs openai-agents
else
  skip "@openai/agents" "it depends on openai ^7"
fi

# Host libraries that take `client['fetch']` (typed any, as openai declares fetch private).
check "TypeScript: client['fetch'] fits createOpenAI({ fetch }), client.fetch does not compile" in_consumer "${tsc[@]}" -p tsconfig.hosts.json
if [ "$with_openai7" = 1 ]; then
  check "TypeScript: client['fetch'] fits ChatOpenAI/OpenAIEmbeddings({ configuration: { fetch } })" \
    in_consumer "${tsc[@]}" -p tsconfig.hosts-langchain.json
else
  skip "LangChain.js (types and runtime)" "@langchain/openai depends on openai ^7"
fi
# They declare Node >= 22, so their runtime checks run on Node 22: this node if it is one, else the
# one scripts/test-openai7.sh keeps in .cache/ (installed the same way when missing).
host_node=node
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  host_node="$root/.cache/node22/node_modules/.bin/node"
  if [ ! -x "$host_node" ]; then
    mkdir -p "$root/.cache/node22"
    (cd "$root/.cache/node22" && echo '{"private":true}' >package.json && npm install --silent --no-audit --no-fund node@22 >/dev/null 2>&1)
  fi
fi
if host_node_version=$("$host_node" --version 2>/dev/null); then
  check "AI SDK ai $(installed ai) + @ai-sdk/openai $(installed @ai-sdk/openai) (node $host_node_version): createOpenAI({ fetch: client.fetch }) fails over" \
    in_consumer "$host_node" third-party.mjs ai-sdk
  [ "$with_openai7" = 1 ] && check "LangChain @langchain/openai $(installed @langchain/openai) (node $host_node_version): ChatOpenAI({ configuration: { fetch } }) fails over" \
    in_consumer "$host_node" third-party.mjs langchain
else
  skip "AI SDK and LangChain.js runtime" "no Node 22 (npm install node@22 into .cache/node22 failed)"
fi
finish
