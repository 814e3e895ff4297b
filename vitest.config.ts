import { defineConfig } from 'vitest/config';
import SlowestFirst from './test/suite/slowest-first';

export default defineConfig({
  test: {
    include: ['actions/*/tests/**/*.test.ts', 'packages/*/tests/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'test/.cache/**'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Integration suites share one Docker engine and registry on a 2-core machine.
    fileParallelism: false,
    // The longest files first (test/suite/slowest-first.ts); helm, kubectl and the helm archives
    // made once before any file starts (test/suite/global-setup.ts).
    sequence: { sequencer: SlowestFirst },
    globalSetup: ['test/suite/global-setup.ts'],
    reporters: ['default'],
  },
});
