// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // scripts/consumer/ is compiled against the packed tarball by scripts/check-package.sh, not here.
  { ignores: ['dist/', 'docs/', 'coverage/', 'test-artifacts/', 'test/.readme/', '.cache/', 'scripts/consumer/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs', 'examples/status-page/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Unused values are mistakes; a leading underscore marks the deliberate ones.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // The SDK's internal types are derived loosely on purpose in a few places (see client.ts).
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Tests drive the SDK with deliberately odd values and untyped fixtures.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    // The status page runs in the browser, without a build step.
    files: ['examples/status-page/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'document',
          'window',
          'fetch',
          'EventSource',
          'sessionStorage',
          'setInterval',
          'clearInterval',
          'setTimeout',
          'clearTimeout',
          'console',
          'navigator',
        ].map((n) => [n, 'readonly']),
      ),
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        exports: 'writable',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
        Response: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
      },
    },
  },
);
