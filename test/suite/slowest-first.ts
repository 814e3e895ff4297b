/**
 * The order test files start in (vitest's `sequence.sequencer`). Files run in two lanes
 * (vitest.config.ts); a lane takes the next file when it is free, so the suite ends soonest
 * when the longest files start first and the short ones fill in at the end. Vitest itself
 * sorts by the durations it cached on an earlier run of this checkout, else by file size; a
 * fresh clone (CI) has no cache, and size says little here (local-pipeline.test.ts is one of
 * the smallest files and among the longest to run). So: a file's cached duration when vitest has one,
 * else its duration from the list below, else vitest's own order after the listed files.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds per file, whole file with its hooks, from the default reporter's lines of the CI log of
 * 2026-12-07 19:22 UTC (beb6180, two lanes, the machine shared with engineers: about twice what
 * one lane alone takes, but the order is what counts here); files changed since, as noted.
 * Refresh it when a file's time changes much (the JSON report of `npm test`,
 * .tmp/vitest-report.json, has each file's duration without its beforeAll).
 */
export const MEASURED_SECONDS: Record<string, number> = {
  // local-pipeline.test.ts held three rehearsals (586 s): the sample's (251 s) stays, the ledger's
  // (242 s, now without stage 3: about three quarters) and the orders' (94 s) are files of their own.
  'test/e2e/local-pipeline.test.ts': 255,
  'test/e2e/local-pipeline-ledger.test.ts': 185,
  'test/e2e/local-pipeline-orders.test.ts': 95,
  // 333 s with four releases of three replicas and a helm test each; one replica and no helm test since.
  'test/e2e/rollback.test.ts': 260,
  'test/e2e/release-card.test.ts': 222,
  // 19:22's run failed to collect it; 188 s in the 20:03 run (two CIs at once), 36 s one lane at 16:03.
  'test/e2e/release.test.ts': 120,
  'test/e2e/bake.test.ts': 179,
  'test/security/attacks.test.ts': 168,
  'test/e2e/build-once.test.ts': 117,
  'test/e2e/helm-deploy-eks.test.ts': 117,
  // With the API server silent during helm upgrade (its row alone ~165 s): 292 s at load 22, rows in the old order (00:09 UTC, strict5).
  'test/security/faults.test.ts': 290,
  'test/e2e/helm-deploy-docker.test.ts': 97,
  'test/security/bad-inputs.test.ts': 67,
  'test/e2e/kube-helm4-fake.test.ts': 52,
  // Not listed before, so it started among the last files. suite3 (2026-12-08, load 12-22): 92 s
  // in a two-lane run where kube-docker took 63 s (31 here); 3.1-3.6 s of each of its five
  // pipeline runs was preprod-reviews' curl retrying api.github.com, a job gone since c33ee09
  // (~15 s): (92 - 15) / 63 x 31 = 38.
  'test/executor/self-references.test.ts': 40,
  'test/e2e/kube-docker.test.ts': 31,
  'test/e2e/tool-updates.test.ts': 29,
  'test/e2e/build-push-ecr.test.ts': 29,
  'test/e2e/cross-account.test.ts': 27,
  'test/e2e/kube-helm3-fake.test.ts': 25,
  'packages/release/tests/release.test.ts': 24,
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
