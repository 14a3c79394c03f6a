import { fileURLToPath } from 'node:url';
import { defineConfig, type Options } from 'tsup';

// Code only some apps need is loaded on first use, through a dynamic import(): the Redis backend
// (src/coordination/deferred.ts), the telemetry recorders (src/observe/telemetry/telemetry.ts) and
// the stream guard (src/streams/load-guard.ts). In the ESM build each is a file of its own, built
// as an entry of its own, so that importing the package does not compile them; the CommonJS build
// keeps them inline (esbuild turns each dynamic import into a require there).
const LAZY = [
  {
    chunk: 'redis-coordination',
    source: 'src/coordination/redis/coordination.ts',
    importer: 'coordination/redis/create.ts',
    specifier: './coordination.js',
  },
  {
    chunk: 'telemetry-recorders',
    source: 'src/observe/telemetry/recorders.ts',
    importer: 'observe/telemetry/telemetry.ts',
    specifier: './recorders.js',
  },
  {
    chunk: 'stream-guard',
    source: 'src/streams/guard-stream.ts',
    importer: 'streams/load-guard.ts',
    specifier: './guard-stream.js',
  },
];
// What a chunk must share with the entry rather than have a copy of: the public error classes,
// which callers test with `instanceof`. The chunk imports them from the entry, which exports
// them. Safe in one build because the importer named is in the chunk only, never in the entry's
// imports (test/architecture.test.ts).
const FROM_ENTRY = [{ importer: 'streams/guarded-source.ts', specifier: './errors.js' }];
const lazyChunks: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'lazy-chunks',
  setup(build) {
    build.onResolve({ filter: /^\.\/[a-z-]+\.js$/ }, ({ path, importer, kind }) => {
      const lazy = LAZY.find((l) => kind === 'dynamic-import' && l.specifier === path && importer.endsWith(l.importer));
      if (lazy) return { path: `./${lazy.chunk}.js`, external: true };
      const shared = FROM_ENTRY.find((s) => kind === 'import-statement' && s.specifier === path && importer.endsWith(s.importer));
      return shared ? { path: './index.js', external: true } : undefined;
    });
  },
};

// The CommonJS build keeps the stream guard inline, through a load-guard.ts of its own
// (src/streams/inline-guard.ts says why).
const inlineGuard: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'inline-guard',
  setup(build) {
    build.onResolve({ filter: /^(\.\/|\.\.\/streams\/)load-guard\.js$/ }, () => ({
      path: fileURLToPath(new URL('src/streams/inline-guard.ts', import.meta.url)),
    }));
  },
};

// No source maps: the output is plain, unminified ES2022 with the original names and comments, so
// stack traces already point at readable code; maps would more than double the tarball (they embed
// every source, p-retry's included) for no gain. scripts/check-package.sh fails on a map that does
// not embed its sources.
export default defineConfig([
  {
    entry: { index: 'src/index.ts', ...Object.fromEntries(LAZY.map((l) => [l.chunk, l.source])) },
    format: ['esm'],
    // Each entry bundled whole: a chunk shared by both would be one more file for every import.
    splitting: false,
    esbuildPlugins: [lazyChunks],
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
    esbuildPlugins: [inlineGuard],
  },
]);
