import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['actions/*/tests/**/*.test.ts', 'packages/*/tests/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'test/.cache/**'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Integration suites share one Docker engine and registry on a 2-core machine.
    fileParallelism: false,
    reporters: ['default'],
  },
});
