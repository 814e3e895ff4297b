/**
 * The main job (`npm run main` runs test/pipeline/local-pipeline.ts after set-up and build):
 * run it as a subprocess and check what it reports, so the README's command stays true.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { dockerAvailable } from '../harness/docker';
import { repoRoot } from '../harness/runner';

const hasDocker = await dockerAvailable();

test.skipIf(!hasDocker)('the local pipeline deploys one digest qa -> preprod -> production and the gate refuses the rest', async () => {
  const { code, out } = await new Promise<{ code: number; out: string }>((resolve, reject) => {
    const tsx = join(repoRoot, 'test/node_modules/.bin/tsx');
    const child = spawn(tsx, ['pipeline/local-pipeline.ts'], { cwd: join(repoRoot, 'test'), env: process.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? 1, out }));
  });
  expect(code, out.slice(-4000)).toBe(0);
  const rows = out.split('\n').filter((l) => /^\| (develop|main) \|/.test(l)).map((l) => l.split('|').map((c) => c.trim()).slice(1, -1));
  const deployed = rows.filter((r) => r[3] === 'deployed');
  expect(deployed.map((r) => `${r[0]}:${r[1]}`)).toEqual(['develop:qa', 'main:preprod', 'main:production', 'develop:qa']);
  // qa, preprod and production run the same digest.
  expect(new Set(deployed.slice(0, 3).map((r) => r[4])).size).toBe(1);
  expect(rows.filter((r) => r[3] === 'refused').map((r) => `${r[0]}:${r[1]}`)).toEqual(['main:production', 'develop:production']);
  expect(out).toMatch(/refused as expected: .*never recorded in preprod/);
  expect(out).toMatch(/refused as expected: .*refs\/heads\/develop may not deploy to production/);
  expect(out).toMatch(/Running pods \(real containers\): .*sample-production\//);
  // The broken deploy failed fast with its cause, rolled back, and QA kept serving.
  expect(rows.filter((r) => r[3]!.startsWith('failed')).map((r) => `${r[0]}:${r[1]}:${r[3]}`)).toEqual([
    expect.stringMatching(/^develop:qa:failed; revision \d+ deployed \(rollback to 2\)$/),
  ]);
  expect(out).toMatch(/failed as expected: Deploy of sample-service failed after [\d.]+ s: pod \S+ container sample-service: (ImagePullBackOff|ErrImagePull)/);
  expect(out).toMatch(/QA still serves the previous image/);
}, 600_000);
