/**
 * `npm run main -- --service test/fixtures/ledger-service --stages 1,2,4,5`: another service with
 * its own deploy.yml, its image under other keys and a migration hook, through build once, QA,
 * preprod, production, the redeploy and the refusals (stage 5c: a broken QA deploy rolled back).
 * Stage 3 (the squash merge) is the sample's (local-pipeline.test.ts): nothing in it depends on
 * the chart's layout, and it is a quarter of the run.
 */
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { dockerAvailable } from '../harness/docker';
import { repoRoot } from '../harness/runner';
import { mainJob, whatRanWhere } from '../pipeline/main-job';

const hasDocker = await dockerAvailable();

test.skipIf(!hasDocker)('--service rehearses another service: its own deploy.yml, a chart with its image under other keys and a migration hook', async () => {
  const { code, out } = await mainJob('--service', join(repoRoot, 'test/fixtures/ledger-service'), '--stages', '1,2,4,5');
  expect(code, out.slice(-6000)).toBe(0);
  expect(out).toContain('(its own deploy.yml, the starter redeploy.yml)');
  expect(out).toContain('Every outcome is as expected.');
  const rows = whatRanWhere(out);
  expect(rows.filter((r) => r[2] === 'production' && r[3] === 'success').length).toBeGreaterThan(0);
  // Stages 1, 2, 4 and 5 ran, not 3.
  expect([...new Set(rows.map((r) => r[0]!.split('.')[0]!.replace(/[a-z]$/, '')))]).toEqual(['1', '2', '4', '5']);
  // The chart received the digest under container.image.repo/ref: the pods run it.
  expect(out).toMatch(/QA still serves the previous image from \d+ pod\(s\): \S+\/payments\/ledger@sha256:/);
}, 900_000);
