import { defineConfig } from 'vitest/config';
import SlowestFirst from './test/suite/slowest-first.ts';

export default defineConfig({
  test: {
    include: ['actions/*/tests/**/*.test.ts', 'packages/*/tests/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'test/.cache/**'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Two lanes: two test files at a time (one lane: `npm test -- --maxWorkers=1`). The
    // integration files share the Docker engine and nothing else: each starts its own registry,
    // stand-ins and Kubernetes stand-in on free ports, with its own temp dirs, Docker config and
    // container labels (test/README.md, "How the suite runs").
    fileParallelism: true,
    maxWorkers: 2,
    // The longest files first (test/suite/slowest-first.ts); one temp directory for the whole run,
    // removed at its end (test/suite/run-temp-dir.ts: TMPDIR for every file and process); helm,
    // kubectl and the helm archives made once before any file starts (test/suite/global-setup.ts).
    sequence: { sequencer: SlowestFirst },
    globalSetup: ['test/suite/run-temp-dir.ts', 'test/suite/global-setup.ts'],
    reporters: ['default'],
  },
});
