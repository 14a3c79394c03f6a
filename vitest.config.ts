import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The packed package on Bun, Deno, Workers, Edge and Chromium: scripts/test-runtimes.sh (vitest.runtimes.config.ts).
    exclude: [...configDefaults.exclude, 'test/runtimes/**'],
    // Once per run: redis-server and Chromium are there, or installed (Debian, root), or the run stops.
    globalSetup: ['test/setup/services.ts'],
    testTimeout: 20_000,
    // Every test starts its own loopback servers; files run in parallel workers.
    pool: 'forks',
  },
});
