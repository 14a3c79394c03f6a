import { defineConfig } from 'vitest/config';

/**
 * The packed package on other runtimes than Node (test/runtimes/): run by scripts/test-runtimes.sh,
 * which first prepares .cache/runtimes/ (scripts/runtimes/install.sh). Not part of `npm test`.
 */
export default defineConfig({
  test: {
    include: ['test/runtimes/**/*.test.ts'],
    // Chromium is checked (and installed when it can be) as for `npm test`: the browser test needs it.
    globalSetup: ['test/setup/services.ts'],
    // Each test starts a runtime process or VM; the first start of some compiles and caches.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
