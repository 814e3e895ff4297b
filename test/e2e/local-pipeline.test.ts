/**
 * The main job (`npm run main` runs test/pipeline/local-pipeline.ts after set-up and build):
 * the real workflow files through the workflow executor. Run as a subprocess; it checks every
 * outcome itself (exit code), and this test checks what it reports, so the README stays true.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { dockerAvailable } from '../harness/docker';
import { repoRoot } from '../harness/runner';

const hasDocker = await dockerAvailable();

function mainJob(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const tsx = join(repoRoot, 'test/node_modules/.bin/tsx');
    const child = spawn(tsx, ['pipeline/local-pipeline.ts', ...args], { cwd: join(repoRoot, 'test'), env: process.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? 1, out }));
  });
}

/** The table rows the run ends with: stage, job, environment, result, digest, revision, approved by. */
function whatRanWhere(out: string): string[][] {
  return out
    .split('\n')
    .filter((l) => /^\| \d/.test(l))
    .map((l) => l.split('|').map((c) => c.trim()).slice(1, -1));
}

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
    expect.arrayContaining(['1:qa:success', '2:preprod:success', '2:production:success', '3b:production:success', '4:production:success', '5a:production:failure', '5c:qa:failure', '5d:qa:failure']),
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

test.skipIf(!hasDocker)('--service rehearses another service: its own deploy.yml, a chart with its image under other keys and a migration hook', async () => {
  const { code, out } = await mainJob('--service', join(repoRoot, 'test/fixtures/ledger-service'));
  expect(code, out.slice(-6000)).toBe(0);
  expect(out).toContain('(its own deploy.yml, the starter redeploy.yml)');
  expect(out).toContain('Every outcome is as expected.');
  const rows = whatRanWhere(out);
  expect(rows.filter((r) => r[2] === 'production' && r[3] === 'success').length).toBeGreaterThan(0);
  // The chart received the digest under container.image.repo/ref: the pods run it.
  expect(out).toMatch(/QA still serves the previous image from \d+ pod\(s\): \S+\/payments\/ledger@sha256:/);
}, 900_000);

test.skipIf(!hasDocker)('--service --short rehearses a chart with its registry apart (image.registry defaulting to docker.io): the pods run the pinned reference', async () => {
  const { code, out } = await mainJob('--service', join(repoRoot, 'test/fixtures/orders-service'), '--short');
  expect(code, out.slice(-6000)).toBe(0);
  expect(out).toContain('(its own deploy.yml, the starter redeploy.yml)');
  expect(out).toContain('Every outcome is as expected.');
  const rows = whatRanWhere(out);
  expect(rows.map((r) => `${r[0]!.split('.')[0]}:${r[2]}:${r[3]}`)).toEqual(['1:qa:success', '2:preprod:success', '2:production:success', '4:production:success']);
  // image.registry got the registry host and image.repository the path: not docker.io/<host>/...
  expect(out).toMatch(/^ {2}production pods run: 127\.0\.0\.1:\d+\/acme\/orders@sha256:[0-9a-f]{64}$/m);
  expect(out).toMatch(/^ {2}qa pods run: 127\.0\.0\.1:\d+\/acme\/orders@sha256:[0-9a-f]{64}$/m);
}, 900_000);
