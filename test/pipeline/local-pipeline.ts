/**
 * The main job: a local run of the deploy-actions pipeline on the sample service, with the
 * real action bundles run the way the GitHub runner runs them, against local stand-ins:
 * a real registry behind the ECR stand-in.
 *
 *   npm run main
 */
import { execFileSync } from 'node:child_process';
import { runActionBundle, repoRoot, type RunResult, type RunOptions } from '../harness/runner';
import { startRegistry } from '../harness/registry';
import { dockerAvailable, prepareSampleService } from '../harness/docker';
import { startEcrStandin } from '../standins/ecr';

const stops: Array<() => Promise<void>> = [];

function headSha(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return '0123456789abcdef0123456789abcdef01234567';
  }
}

async function step(title: string, opts: RunOptions): Promise<RunResult> {
  console.log(`\n=== ${title}`);
  const r = await runActionBundle(opts);
  const log = r.log.trim();
  if (log) console.log(log.split('\n').map((l) => `  | ${l}`).join('\n'));
  if (r.summary.trim()) console.log(`\n  Job summary:\n${r.summary.trim().split('\n').map((l) => `    ${l}`).join('\n')}`);
  console.log(`  -> exit ${r.exitCode} in ${(r.durationMs / 1000).toFixed(1)} s; outputs: ${JSON.stringify(r.outputs)}`);
  if (r.exitCode !== 0) throw new Error(`${title} failed: ${r.annotations.filter((a) => a.level === 'error').map((a) => a.message).join('; ')}`);
  return r;
}

async function main(): Promise<void> {
  if (!(await dockerAvailable())) throw new Error('The Docker engine is not running (scripts/setup.sh starts it as root)');
  const registry = await startRegistry();
  stops.push(registry.stop);
  const ecr = await startEcrStandin({ registry });
  stops.push(ecr.stop);
  console.log(`Registry ${registry.host}; ECR stand-in ${ecr.url}`);

  const sha = headSha();
  const workspace = prepareSampleService();
  const build = () =>
    step(`build-push-ecr (commit ${sha.slice(0, 7)})`, {
      action: 'build-push-ecr',
      workspace,
      with: { repository: 'acme/sample-service', 'tag-run-number': 'true' },
      env: { ...ecr.env, GITHUB_SHA: sha },
      timeoutMs: 300_000,
    });
  const first = await build();
  const again = await build();
  if (again.outputs.skipped !== 'true' || again.outputs.digest !== first.outputs.digest) {
    throw new Error('the second build of the same commit was not skipped');
  }
  console.log(`\nPipeline done: ${first.outputs['image-ref']}`);
}

main()
  .catch((err) => {
    console.error(`\nMain job failed: ${(err as Error).message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });
