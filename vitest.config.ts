import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    // Every test starts its own loopback servers; files run in parallel workers.
    pool: 'forks',
  },
});
