/**
 * The order test files start in (vitest's `sequence.sequencer`). Files run in two lanes
 * (vitest.config.ts); a lane takes the next file when it is free, so the suite ends soonest
 * when the longest files start first and the short ones fill in at the end. Vitest itself
 * sorts by the durations it cached on an earlier run of this checkout, else by file size; a
 * fresh clone (CI) has no cache, and size says little here (local-pipeline.test.ts is one of
 * the smallest files and the longest to run). So: a file's cached duration when vitest has one,
 * else its duration from the list below, else vitest's own order after the listed files.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds per file, measured on this 2-core machine with one lane: the e2e files of more than
 * 15 s in the CI log of 2026-12-07 15:43 UTC; local-pipeline and rollback from their passing
 * runs of 16:00-16:40 UTC; build-once less the two rows it no longer has. Refresh it when a
 * file's time changes much (the JSON report of `npm test`, .tmp/vitest-report.json, has each
 * file's duration).
 */
export const MEASURED_SECONDS: Record<string, number> = {
  'test/e2e/local-pipeline.test.ts': 350,
  'test/e2e/rollback.test.ts': 200,
  // card3, 18:17 UTC: 1012 s in all under the session's load (its first test, 676 s, ran beside a
  // build); the figure is its other three tests as measured (151 + 107 + 54 s) plus the first
  // taken as long as the second, an estimate until a CI log gives its time.
  'test/e2e/release-card.test.ts': 460,
  'test/e2e/bake.test.ts': 101,
  'test/e2e/helm-deploy-eks.test.ts': 89,
  'test/security/faults.test.ts': 80,
  'test/e2e/build-once.test.ts': 62,
  'test/e2e/helm-deploy-docker.test.ts': 43,
  'test/security/attacks.test.ts': 42,
  'test/e2e/kube-helm4-fake.test.ts': 37,
  'test/e2e/release.test.ts': 36,
  'test/security/bad-inputs.test.ts': 35,
  'test/e2e/kube-docker.test.ts': 29,
  'test/e2e/kube-helm3-fake.test.ts': 27,
  'test/e2e/cross-account.test.ts': 20,
  'test/e2e/build-push-ecr.test.ts': 19,
  'test/e2e/tool-updates.test.ts': 18,
};

export default class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const own = await super.sort(files);
    const root = this.ctx.config.root;
    const weight = (f: TestSpecification): number => {
      const path = relative(root, f.moduleId);
      const cached = this.ctx.cache.getFileTestResults(`${f.project.name}:${path}`)?.duration;
      return cached ?? (MEASURED_SECONDS[path] ?? 0) * 1000;
    };
    const weights = new Map(own.map((f) => [f, weight(f)]));
    // Array.prototype.sort is stable: files of equal weight keep vitest's order.
    return own.sort((a, b) => weights.get(b)! - weights.get(a)!);
  }
}
