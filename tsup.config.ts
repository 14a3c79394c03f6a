import { defineConfig, type Options } from 'tsup';

// The Redis backend is loaded on first use (src/coordination/deferred.ts). In the ESM build it is a
// file of its own, built as a second entry, so that importing the package does not compile it; the
// CommonJS build keeps it inline (esbuild turns the dynamic import into a require there).
const REDIS_CHUNK = 'redis-coordination';
const redisChunk: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'redis-chunk',
  setup(build) {
    build.onResolve({ filter: /^\.\/coordination\.js$/ }, ({ importer }) =>
      importer.endsWith('coordination/redis/create.ts') ? { path: `./${REDIS_CHUNK}.js`, external: true } : undefined,
    );
  },
};

// No source maps: the output is plain, unminified ES2022 with the original names and comments, so
// stack traces already point at readable code; maps would more than double the tarball (they embed
// every source, p-retry's included) for no gain. scripts/check-package.sh fails on a map that does
// not embed its sources.
export default defineConfig([
  {
    entry: { index: 'src/index.ts', [REDIS_CHUNK]: 'src/coordination/redis/coordination.ts' },
    format: ['esm'],
    // Each entry bundled whole: a chunk shared by both would be one more file for every import.
    splitting: false,
    esbuildPlugins: [redisChunk],
    dts: { entry: 'src/index.ts' },
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
