import { defineConfig } from 'vitest/config';
import SlowestFirst from './test/suite/slowest-first.ts';

export default defineConfig({
  test: {
    include: ['actions/*/tests/**/*.test.ts', 'packages/*/tests/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'test/.cache/**'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Three lanes: three test files at a time on the 2-core machine (one lane: `npm test --
    // --maxWorkers=1`). Two lanes left a sixth of the CPU idle (vmstat over a CI run, 2026-12-08:
    // idle 17 %): the fault table and the e2e files wait on deadlines, pods and probes. The
    // integration files share the Docker engine and nothing else: each starts its own registry,
    // stand-ins and Kubernetes stand-in on free ports, with its own temp dirs, Docker config and
    // container labels (test/README.md, "How the suite runs").
    fileParallelism: true,
    maxWorkers: 3,
    // The longest files first (test/suite/slowest-first.ts); one temp directory for the whole run,
    // removed at its end (test/suite/run-temp-dir.ts: TMPDIR for every file and process); helm,
    // kubectl and the helm archives made once before any file starts (test/suite/global-setup.ts).
    sequence: { sequencer: SlowestFirst },
    globalSetup: ['test/suite/run-temp-dir.ts', 'test/suite/global-setup.ts'],
    reporters: ['default'],
  },
});
