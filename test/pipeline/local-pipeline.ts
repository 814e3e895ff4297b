/**
 * The main job: a local run of the deploy-actions pipeline on the sample service, the same
 * flow as .github/workflows/pipeline.yml, with the real action bundles run the way the
 * GitHub runner runs them (test/harness/runner.ts), one fresh runner directory per job.
 *
 *   push to develop:  build -> qa (deploy, helm test, record)
 *   push to main:     build (skipped: same commit) -> preprod (deploy, helm test, record)
 *                     -> production (verify preprod evidence, deploy, record)
 *   and the refusals: a digest validated only in QA, and a production run from develop.
 *
 * Stand-ins: a real registry behind the ECR stand-in; EKS, STS and the EKS front door (token
 * check through STS, access entries) in front of the Kubernetes stand-in, whose pods run as
 * real containers in the Docker engine; the GitHub API stand-in for deployments. helm and
 * kubectl are installed by the deploy action from a local mirror of their release archives.
 *
 *   npm run main
 */
import { execFileSync } from 'node:child_process';
import { newRunnerDir, runActionBundle, repoRoot, type RunResult, type RunOptions } from '../harness/runner';
import { startRegistry } from '../harness/registry';
import { dockerAvailable, prepareSampleService, sampleServiceVariant } from '../harness/docker';
import { startEcrStandin } from '../standins/ecr';
import { startEksWorld } from '../standins/eks/world';
import { startKubeStandin } from '../standins/kube/index';
import { startGithubStandin } from '../standins/github';
import { startToolArchives } from '../tools/tool-archives';

const REGION = 'eu-west-1';
const REPOSITORY = 'acme/sample-service';
const TOKEN = 'ghs_local_pipeline_token';
const ROLE = 'arn:aws:iam::123456789012:role/sample-service-deploy';
const identity = {
  accessKeyId: 'AKIALOCALPIPELINE01',
  secretAccessKey: 'local-pipeline-secret',
  arn: 'arn:aws:sts::123456789012:assumed-role/sample-service-deploy/github-actions',
};
const CHART = 'chart';

const stops: Array<() => Promise<void>> = [];
const rows: string[][] = [];

function headSha(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return '0123456789abcdef0123456789abcdef01234567';
  }
}

function indent(text: string, prefix: string): string {
  return text
    .trim()
    .split('\n')
    .map((l) => `${prefix}${l}`)
    .join('\n');
}

async function step(title: string, opts: RunOptions, expectFailure = false): Promise<RunResult> {
  console.log(`\n--- ${title}`);
  const r = await runActionBundle(opts);
  if (r.log.trim()) console.log(indent(r.log, '  | '));
  if (r.summary.trim()) console.log(`  Job summary:\n${indent(r.summary, '    ')}`);
  const failed = r.exitCode !== 0;
  console.log(`  -> ${failed ? 'FAILED' : 'ok'} in ${(r.durationMs / 1000).toFixed(1)} s`);
  const errors = r.annotations.filter((a) => a.level === 'error').map((a) => a.message);
  if (failed !== expectFailure) {
    throw new Error(`${title}: expected ${expectFailure ? 'a refusal' : 'success'}; ${errors.join('; ') || r.stderr.trim().slice(-500)}`);
  }
  return r;
}

async function main(): Promise<void> {
  if (!(await dockerAvailable())) throw new Error('The Docker engine is not running (scripts/setup.sh starts it as root)');
  const sha = headSha();
  const workspace = prepareSampleService();

  console.log('Starting the local stand-ins');
  const registry = await startRegistry();
  stops.push(registry.stop);
  const ecr = await startEcrStandin({ registry, region: REGION, accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey });
  stops.push(ecr.stop);
  const github = await startGithubStandin({ tokens: { [TOKEN]: 'all' }, repositories: ['acme/sample-service'] });
  stops.push(github.stop);
  const kube = await startKubeStandin({
    tls: true,
    runtime: 'docker',
    registry,
  });
  stops.push(kube.stop);
  const clusters: Record<string, string> = { qa: 'nonprod', preprod: 'nonprod', production: 'prod' };
  const world = await startEksWorld({ kube, identities: [identity], accessEntries: [ROLE], clusterNames: ['nonprod', 'prod'], region: REGION });
  stops.push(world.stop);
  const archives = await startToolArchives();
  stops.push(archives.stop);
  console.log(`  registry ${registry.host}, ECR ${ecr.url}, EKS ${world.eks.url}, STS ${world.sts.url}, Kubernetes ${kube.url} (docker runtime), GitHub ${github.url}`);

  const awsEnv = { ...ecr.env, ...world.envFor(identity), GITHUB_API_URL: github.url };
  const push = (branch: string, commit: string) => ({
    GITHUB_SHA: commit,
    GITHUB_REF: `refs/heads/${branch}`,
    GITHUB_REF_NAME: branch,
    GITHUB_REF_TYPE: 'branch',
  });

  const build = (branch: string, commit: string, context = workspace) =>
    step(`[${branch}] build: build-push-ecr`, {
      action: 'build-push-ecr',
      workspace: context,
      with: { repository: REPOSITORY },
      env: { ...awsEnv, ...push(branch, commit) },
      timeoutMs: 300_000,
    });

  /** One deploy job of .github/workflows/deploy.yml: [verify], deploy, [record]. */
  async function deployJob(
    branch: string,
    commit: string,
    environment: string,
    imageRef: string,
    gate: { verify?: string; record: boolean; expectFailure?: boolean },
  ) {
    console.log(`\n=== [${branch}] job ${environment}: environment '${environment}'${environment === 'qa' ? '' : ' (required reviewers approve in the GitHub UI; approved here)'}`);
    const runnerDir = newRunnerDir();
    const env = { ...awsEnv, ...push(branch, commit) };
    const gateWith = { repository: REPOSITORY, 'image-ref': imageRef, 'github-token': TOKEN, 'aws-region': REGION };
    if (gate.verify) {
      await step(`[${branch}] ${environment}: promote-gate verify (requires ${gate.verify})`, {
        action: 'promote-gate',
        runnerDir,
        with: { ...gateWith, mode: 'verify', 'target-environment': environment, 'require-environment': gate.verify },
        env,
      });
    }
    const deployed = await step(`[${branch}] ${environment}: helm-deploy-eks`, {
      action: 'helm-deploy-eks',
      runnerDir,
      workspace,
      with: {
        release: 'sample-service',
        namespace: `sample-${environment}`,
        'create-namespace': 'true',
        chart: CHART,
        environment,
        image: imageRef,
        ...world.clusterInputs(clusters[environment]),
        ...archives.inputs,
        timeout: '3m',
        'helm-test': 'true',
      },
      env,
      timeoutMs: 300_000,
    }, gate.expectFailure);
    if (gate.expectFailure) {
      rows.push([branch, environment, '-', `failed; revision ${deployed.outputs.revision} ${deployed.outputs.status} (rollback to ${deployed.outputs['previous-revision']})`, imageRef.split('@')[1]!.slice(0, 19)]);
      return deployed;
    }
    if (gate.record) {
      await step(`[${branch}] ${environment}: promote-gate record`, {
        action: 'promote-gate',
        runnerDir,
        with: { ...gateWith, mode: 'record', environment },
        env,
      });
    }
    rows.push([branch, environment, deployed.outputs.revision ?? '', deployed.outputs.status ?? '', imageRef.split('@')[1]!.slice(0, 19)]);
    return deployed;
  }

  console.log(`\n##### push to develop (commit ${sha.slice(0, 7)})`);
  const qaBuild = await build('develop', sha);
  const image = qaBuild.outputs['image-ref']!;
  await deployJob('develop', sha, 'qa', image, { record: true });

  console.log(`\n##### push to main (the same commit, merged)`);
  const mainBuild = await build('main', sha);
  if (mainBuild.outputs.skipped !== 'true' || mainBuild.outputs['image-ref'] !== image) {
    throw new Error('main rebuilt an image the develop build had already pushed');
  }
  await deployJob('main', sha, 'preprod', image, { record: true });
  await deployJob('main', sha, 'production', image, { verify: 'preprod', record: true });

  console.log(`\n##### what the gate refuses`);
  const hotfix = 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed';
  const qaOnly = await build('develop', hotfix, sampleServiceVariant('hotfix'));
  await deployJob('develop', hotfix, 'qa', qaOnly.outputs['image-ref']!, { record: true });
  const refusals = [
    ['a digest validated in QA only, sent to production from main', 'main', hotfix, qaOnly.outputs['image-ref']!],
    ['the preprod-validated digest, but a production run from develop', 'develop', sha, image],
  ] as const;
  for (const [what, branch, commit, ref] of refusals) {
    const r = await step(
      `[${branch}] production: promote-gate verify: ${what}`,
      {
        action: 'promote-gate',
        with: { repository: REPOSITORY, 'image-ref': ref, 'github-token': TOKEN, 'aws-region': REGION, mode: 'verify', 'target-environment': 'production', 'require-environment': 'preprod' },
        env: { ...awsEnv, ...push(branch, commit) },
      },
      true,
    );
    rows.push([branch, 'production', '-', 'refused', ref.split('@')[1]!.slice(0, 19)]);
    console.log(`  refused as expected: ${r.annotations.filter((a) => a.level === 'error').pop()?.message}`);
  }

  console.log(`\n##### a broken deploy: an image digest the registry does not have`);
  const serving = qaOnly.outputs['image-ref']!;
  const missing = `${serving.split('@')[0]}@sha256:${'0'.repeat(64)}`;
  const broken = await deployJob('develop', hotfix, 'qa', missing, { record: false, expectFailure: true });
  console.log(`  failed as expected: ${broken.annotations.filter((a) => a.level === 'error').pop()?.message.split('\n')[0]}`);
  const qaImages = kube
    .list('Pod', 'sample-qa')
    .filter((p) => !p.metadata?.deletionTimestamp && (p as { status?: { phase?: string } }).status?.phase === 'Running')
    .flatMap((p) => ((p as { spec?: { containers?: Array<{ image?: string }> } }).spec?.containers ?? []).map((c) => c.image));
  if (qaImages.length === 0 || qaImages.some((i) => i !== serving)) throw new Error(`QA pods do not all run the previous image: ${qaImages.join(', ')}`);
  console.log(`  QA still serves the previous image from ${qaImages.length} pod(s): ${serving}`);

  console.log('\n##### pipeline summary');
  console.log('| branch | environment | revision | status | digest |\n| --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  const pods = kube
    .list('Pod')
    .filter((p) => String(p.metadata?.namespace).startsWith('sample-') && !p.metadata?.deletionTimestamp && (p as { status?: { phase?: string } }).status?.phase === 'Running');
  console.log(`\nRunning pods (real containers): ${pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(', ')}`);
  console.log(`Production runs ${image}`);
}

main()
  .catch((err) => {
    console.error(`\nMain job failed: ${(err as Error).message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });
