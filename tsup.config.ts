import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    external: ['openai'],
  },
  {
    entry: ['src/index.ts'],
    format: ['cjs'],
    dts: true,
    sourcemap: true,
    target: 'node20',
    external: ['openai'],
    // p-retry is ESM-only: bundle it into the CommonJS build so that require() works on every Node 20.
    noExternal: ['p-retry', 'is-network-error'],
  },
]);
