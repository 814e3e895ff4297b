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

test.skipIf(!hasDocker)('the starter workflows take the sample service from develop through preprod to production, and the refusals hold', async () => {
  const { code, out } = await new Promise<{ code: number; out: string }>((resolve, reject) => {
    const tsx = join(repoRoot, 'test/node_modules/.bin/tsx');
    const child = spawn(tsx, ['pipeline/local-pipeline.ts'], { cwd: join(repoRoot, 'test'), env: process.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? 1, out }));
  });
  expect(code, out.slice(-6000)).toBe(0);
  expect(out).toContain('Every outcome is as expected.');
  // Jobs print as the Actions UI names them: caller / called job.
  expect(out).toMatch(/▶ pipeline \/ build \/ build image/);
  expect(out).toMatch(/▶ pipeline \/ production \/ deploy to production {2}\(environment: production, approved by (alice|bob)\)/);
  const rows = out
    .split('\n')
    .filter((l) => /^\| \d/.test(l))
    .map((l) => l.split('|').map((c) => c.trim()).slice(1, -1));
  const where = rows.map((r) => `${r[0]!.split('.')[0]}:${r[2]}:${r[3]}`);
  expect(where).toEqual(
    expect.arrayContaining(['1:qa:success', '2:preprod:success', '2:production:success', '3b:production:success', '4:production:success', '5a:production:failure', '5c:qa:failure']),
  );
  // Build once: the image QA ran from develop is the one the merge (and the squash) commit took
  // to preprod and production, unchanged.
  const digestsOf = (...stages: string[]) => new Set(rows.filter((r) => stages.some((s) => r[0]!.startsWith(`${s}.`))).map((r) => r[4]));
  expect(digestsOf('1', '2').size).toBe(1);
  expect(digestsOf('3a', '3b', '4').size).toBe(1);
  expect(digestsOf('1', '3a').size).toBe(2);
  expect(out).toMatch(/refused as expected: .*preprod/);
  expect(out).toMatch(/refused as expected: .*production is deployed from refs\/heads\/main/);
  expect(out).toMatch(/QA still serves the previous image/);
}, 900_000);
