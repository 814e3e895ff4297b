/**
 * `npm run main` as the e2e files run it (test/e2e/local-pipeline*.test.ts): test/pipeline/local-pipeline.ts
 * in a subprocess, its whole output, and the table of what ran where it ends with. Each rehearsal
 * is a file of its own so that the suite's two lanes can run two of them side by side.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../harness/runner';

export function mainJob(...args: string[]): Promise<{ code: number; out: string }> {
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
export function whatRanWhere(out: string): string[][] {
  return out
    .split('\n')
    .filter((l) => /^\| \d/.test(l))
    .map((l) => l.split('|').map((c) => c.trim()).slice(1, -1));
}
