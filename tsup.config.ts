import { defineConfig } from 'tsup';

// No source maps: the output is plain, unminified ES2022 with the original names and comments, so
// stack traces already point at readable code; maps would more than double the tarball (they embed
// every source, p-retry's included) for no gain. scripts/check-package.sh fails on a map that does
// not embed its sources.
export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: false,
    clean: true,
    target: 'node20',
    external: ['openai'],
    // eventemitter3 is CommonJS: imported from ESM it makes Node start its CommonJS loader, about
    // 8 ms of every cold start (BENCHMARKS.md step 7). Bundled, it is 3 kB of plain code.
    noExternal: ['eventemitter3'],
  },
  {
    entry: ['src/index.ts'],
    format: ['cjs'],
    dts: true,
    sourcemap: false,
    target: 'node20',
    external: ['openai'],
    // p-retry is ESM-only: bundle it into the CommonJS build so that require() works on every Node 20.
    noExternal: ['p-retry', 'is-network-error'],
  },
]);
