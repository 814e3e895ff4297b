/**
 * Build once (issue 9): for each merge method GitHub offers, the pipeline through the workflow
 * executor (develop push -> QA; PR merged to main -> preprod -> production; fake pod runtime,
 * real Docker builds, real registry behind the ECR stand-in), with reuse by content key (the
 * default) and with reuse disabled (build.yml's build step given `skip-existing: false`, the
 * documented build-push-ecr input, through the executor's file overrides; the action is the same).
 * Prints images built, layer bytes pushed through the registry, the wall time of main's build
 * step and how preprod and production ended. Figures only; nothing is asserted.
 * Goal: after the develop build, 0 builds and 0 layer bytes on main for every merge method.
 *
 *   BENCH=build-once npm run bench       (BENCH_METHODS=merge,squash,rebase to choose)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runWorkflow } from '../executor/index';
import type { GithubEvent, WorkflowRun } from '../executor/model';
import { dockerAvailable, prepareSampleService } from '../harness/docker';
import { repoRoot } from '../harness/runner';
import { createServiceRepo, type ServiceRepo } from '../pipeline/service-repo';
import { startPipelineWorld } from '../pipeline/world';

const NAME = 'acme/sample-service';
const METHODS = (process.env.BENCH_METHODS ?? 'merge,squash,rebase').split(',');
const BUILD_YML = '.github/workflows/build.yml';
const noReuse = readFileSync(join(repoRoot, BUILD_YML), 'utf8').replace(
  /(uses: org\/deploy-actions\/build-push-ecr@v1\n\s+with:\n)(\s+)/,
  '$1$2skip-existing: false\n$2',
);
if (!noReuse.includes('skip-existing: false')) throw new Error(`${BUILD_YML}: the build step was not found`);

const merges: Record<string, (repo: ServiceRepo, n: number) => GithubEvent> = {
  merge: (repo, n) => repo.mergeCommit('develop', 'main', n),
  squash: (repo, n) => repo.squash('develop', 'main', n),
  rebase: (repo, n) => repo.rebase('develop', 'main', n),
};

async function main() {
  if (!(await dockerAvailable())) throw new Error('The Docker engine is not running (scripts/setup.sh starts it as root)');
  const rows: string[][] = [];
  for (const reuse of [true, false]) {
    // A world per mode: the registry starts empty, so bytes pushed are this mode's alone.
    const world = await startPipelineWorld({ runtime: 'fake', repository: NAME });
    try {
      const repo = createServiceRepo({ serviceDir: prepareSampleService(), name: NAME, ecrRepository: NAME, release: 'sample-service', imageRepository: `${world.registryHost}/${NAME}` });
      const run = (event: GithubEvent): Promise<WorkflowRun> =>
        runWorkflow({ ...world.options(repo), ...(reuse ? {} : { overrides: { [BUILD_YML]: noReuse } }), workflow: { path: '.github/workflows/deploy.yml' }, event });
      for (const [i, method] of METHODS.entries()) {
        const develop = await run(repo.change('develop', `www/bench-${i}.html`, `<p>${method}</p>\n`, `Bench ${method}`));
        const bytesBefore = world.ecr.uploadedBytes();
        const main = await run(merges[method]!(repo, i + 1));
        const step = main.jobs.flatMap((j) => j.steps).find((s) => s.name === 'Build and push');
        const result = (env: string) => main.jobs.find((j) => j.path.join('/') === `pipeline/${env}/deploy`)?.result ?? 'skipped';
        const built = (r: WorkflowRun) => r.jobs.flatMap((j) => j.steps).filter((s) => s.name === 'Build and push' && s.outputs.skipped === 'false').length;
        rows.push([
          method,
          reuse ? 'by content key' : 'disabled',
          String(built(develop)),
          String(built(main)),
          (world.ecr.uploadedBytes() - bytesBefore).toLocaleString('en'),
          `${((step?.durationMs ?? 0) / 1000).toFixed(1)} s`,
          result('preprod'),
          result('production'),
        ]);
        console.log(`| ${rows.at(-1)!.join(' | ')} |`);
      }
    } finally {
      await world.stop();
    }
  }
  console.log('\nBuild once: images built and layer bytes pushed per merge method (fake pod runtime)');
  console.log('| merge | reuse | builds on develop | builds on main | layer bytes pushed on main | main build step | preprod | production |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log('With reuse disabled main builds a new image that never ran in QA, so preprod refuses it (its evidence requirement).');
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exitCode = 1;
});
