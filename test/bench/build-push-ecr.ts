/**
 * Prints each bundle's size and the wall time of build-push-ecr's skip path (the SHA is
 * already in ECR) against the ECR stand-in: median of N runs, beside node's bare start time
 * on the same binary. Figures only; nothing is asserted. Goals: <= 1.5 MB per bundle,
 * <= 250 ms per skip-path run including node start.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, runActionBundle } from '../harness/runner';
import { startRegistry } from '../harness/registry';
import { prepareSampleService } from '../harness/docker';
import { startEcrStandin } from '../standins/ecr';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const node = process.env.DEPLOY_ACTIONS_TEST_NODE ?? process.execPath;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function bareNodeMs(): Promise<number> {
  const t = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const c = spawn(node, ['-e', '0'], { stdio: 'ignore' });
    c.on('error', reject);
    c.on('close', () => resolve());
  });
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function main() {
  console.log(`Bundle sizes (goal <= 1.5 MB each):`);
  for (const name of readdirSync(join(repoRoot, 'actions'))) {
    const f = join(repoRoot, 'actions', name, 'dist/index.js');
    if (existsSync(f)) console.log(`  ${name.padEnd(18)} ${(statSync(f).size / 1e6).toFixed(2)} MB`);
  }

  const registry = await startRegistry();
  const ecr = await startEcrStandin({ registry });
  try {
    const sha = '1111111111111111111111111111111111111111';
    const opts = {
      action: 'build-push-ecr',
      workspace: prepareSampleService(),
      with: { repository: 'bench/sample' },
      env: { ...ecr.env, GITHUB_SHA: sha },
      node,
    };
    const first = await runActionBundle(opts);
    if (first.exitCode !== 0) throw new Error(`first build failed:\n${first.stdout}\n${first.stderr}`);
    const skip: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await runActionBundle(opts);
      if (r.outputs.skipped !== 'true') throw new Error('expected the skip path');
      skip.push(r.durationMs);
      bare.push(await bareNodeMs());
    }
    const calls = ecr.calls.length;
    await runActionBundle(opts);
    console.log(`\nbuild-push-ecr skip path (SHA already in ECR), ${RUNS} runs on ${node.includes('node-v24') ? 'Node 24' : `Node ${process.version}`}:`);
    console.log(`  median ${median(skip).toFixed(0)} ms (min ${Math.min(...skip).toFixed(0)}, max ${Math.max(...skip).toFixed(0)}), goal <= 250 ms`);
    console.log(`  bare node start: median ${median(bare).toFixed(0)} ms`);
    console.log(`  AWS API calls per skip-path run: ${ecr.calls.length - calls} (${ecr.calls.slice(calls).join(', ')}), sent together`);
  } finally {
    await ecr.stop();
    await registry.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
