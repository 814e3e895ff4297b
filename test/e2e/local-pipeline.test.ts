/**
 * The main job (`npm run main` runs test/pipeline/local-pipeline.ts after set-up and build):
 * the real workflow files through the workflow executor. Run as a subprocess; it checks every
 * outcome itself (exit code), and this test checks what it reports, so the README stays true.
 * Every stage on the sample service here; other services' rehearsals are files of their own
 * (local-pipeline-ledger, local-pipeline-orders), so the suite's lanes can run them side by side.
 */
import { expect, test } from 'vitest';
import { dockerAvailable } from '../harness/docker';
import { mainJob, whatRanWhere } from '../pipeline/main-job';

const hasDocker = await dockerAvailable();

test.skipIf(!hasDocker)('the starter workflows take the sample service from develop through preprod to production, and the refusals hold', async () => {
  const { code, out } = await mainJob();
  expect(code, out.slice(-6000)).toBe(0);
  expect(out).toContain('Every outcome is as expected.');
  // Jobs print as the Actions UI names them: caller / called job.
  expect(out).toMatch(/▶ pipeline \/ build \/ build image/);
  expect(out).toMatch(/▶ pipeline \/ production \/ deploy to production {2}\(environment: production, approved by (alice|bob)\)/);
  const rows = whatRanWhere(out);
  const where = rows.map((r) => `${r[0]!.split('.')[0]}:${r[2]}:${r[3]}`);
  expect(where).toEqual(
    expect.arrayContaining(['1:qa:success', '2:preprod:success', '2:production:success', '3b:production:success', '4:production:success', '5a:production:failure', '5c:qa:failure']),
  );
  // Build once: the image QA ran from develop is the one the merge (and the squash) commit took
  // to preprod and production, unchanged.
  const digestsOf = (...stages: string[]) => new Set(rows.filter((r) => stages.some((s) => r[0]!.startsWith(`${s}.`))).map((r) => r[4]));
  expect(digestsOf('1', '2').size).toBe(1);
  expect(digestsOf('3a', '3b').size).toBe(1);
  expect(digestsOf('1', '3a').size).toBe(2);
  // The redeploy took production back to PR #1's image.
  expect(digestsOf('1', '2', '4').size).toBe(1);
  expect(out).toMatch(/refused as expected: .*preprod/);
  expect(out).toMatch(/refused as expected: .*production is deployed from refs\/heads\/main/);
  expect(out).toMatch(/QA still serves the previous image/);
}, 900_000);
