/**
 * What the pipeline itself costs per push (`BENCH=pipeline npm run bench`): the main job's first
 * two stages (test/pipeline/local-pipeline.ts, `npm run main`) run through the workflow executor
 * on the sample service, and beside them, in the same run and world, the workflow users write
 * today (amazon-ecr-login, docker build and push, `helm upgrade --install --wait` per
 * environment) on the same commits:
 *   1. push to develop           pipeline: build -> qa               baseline: build -> qa
 *   2. PR merged (merge commit)  pipeline: build -> preprod -> prod  baseline: build -> preprod -> prod
 * Per stage and workflow it prints: jobs run, seconds of all steps (of which our own actions), AWS calls by operation (counted at the
 * ECR, EKS, STS and KMS stand-ins), GitHub API calls by operation (counted at the GitHub stand-in,
 * job tokens only), bytes our actions downloaded (what they added to the runner's tool cache)
 * and bytes pushed (layer bytes through the registry front). Figures only; nothing is asserted.
 *
 * amazon-ecr-login is not part of this repository: BENCH_ECR_LOGIN names a directory holding its
 * action.yml and dist/ (default .tmp/bench/amazon-ecr-login, as test/bench/build-push-ecr.ts).
 * The baseline authenticates with static keys of an identity in the build account (the world's
 * roles trust only deploy-actions' reusable workflows) and reaches the cluster with its
 * kubeconfig (no awscli here for `aws eks update-kubeconfig`); both differences are printed.
 */
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg, cpus, totalmem } from 'node:os';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { runWorkflow } from '../executor/index';
import type { ActionDouble } from '../executor/doubles/types';
import type { GithubEvent, WorkflowRun } from '../executor/model';
import { dockerAvailable, prepareSampleService } from '../harness/docker';
import { repoRoot, runActionBundle } from '../harness/runner';
import { buildAccount } from '../executor/doubles/aws-trust';
import { createServiceRepo } from '../pipeline/service-repo';
import { startPipelineWorld, type PipelineWorld } from '../pipeline/world';
import { ensureKubeTools } from '../tools/kube-binaries';

const peerDir = resolve(repoRoot, process.env.BENCH_ECR_LOGIN ?? '.tmp/bench/amazon-ecr-login');
const NAME = 'acme/sample-service';
const BASELINE_REPOSITORY = 'acme/sample-service-baseline';

/** The workflow a team writes today without deploy-actions. */
const BASELINE = `name: baseline
on:
  push:
    branches: [develop, main]
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      image: \${{ steps.push.outputs.image }}
    steps:
      - uses: actions/checkout@v4
      - id: ecr
        uses: aws-actions/amazon-ecr-login@v2
      - id: push
        name: Build and push
        env:
          IMAGE: \${{ steps.ecr.outputs.registry }}/${BASELINE_REPOSITORY}:\${{ github.sha }}
        run: |
          docker build --tag "$IMAGE" .
          docker push "$IMAGE"
          echo "image=$IMAGE" >> "$GITHUB_OUTPUT"
  qa:
    if: github.ref == 'refs/heads/develop'
    needs: build
    runs-on: ubuntu-latest
    environment: qa
    steps:
      - uses: actions/checkout@v4
      - name: Deploy
        run: helm upgrade --install sample-service ./chart --namespace baseline-qa --create-namespace -f chart/values-qa.yaml --set-string "image.repository=\${IMAGE%:*}" --set-string "image.tag=\${IMAGE##*:}" --wait --timeout 5m
        env:
          IMAGE: \${{ needs.build.outputs.image }}
  preprod:
    if: github.ref == 'refs/heads/main'
    needs: build
    runs-on: ubuntu-latest
    environment: preprod
    steps:
      - uses: actions/checkout@v4
      - name: Deploy
        run: helm upgrade --install sample-service ./chart --namespace baseline-preprod --create-namespace -f chart/values-preprod.yaml --set-string "image.repository=\${IMAGE%:*}" --set-string "image.tag=\${IMAGE##*:}" --wait --timeout 5m
        env:
          IMAGE: \${{ needs.build.outputs.image }}
  production:
    needs: [build, preprod]
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - name: Deploy
        run: helm upgrade --install sample-service ./chart --namespace baseline-production --create-namespace -f chart/values-prod.yaml --set-string "image.repository=\${IMAGE%:*}" --set-string "image.tag=\${IMAGE##*:}" --wait --timeout 5m
        env:
          IMAGE: \${{ needs.build.outputs.image }}
`;

/** amazon-ecr-login's real bundle, run as the runner runs a node action. */
function ecrLoginAction(): ActionDouble {
  return async (ctx) => {
    const r = await runActionBundle({ action: basename(peerDir), root: dirname(peerDir), with: ctx.with, env: ctx.env, workspace: ctx.workspace });
    const error = r.annotations.find((a) => a.level === 'error')?.message;
    return { outcome: r.exitCode === 0 ? 'success' : 'failure', outputs: r.outputs, exportEnv: r.env, path: r.path, addMask: r.masks, log: r.log.split('\n'), ...(error ? { error } : {}) };
  };
}

/** Bytes of every regular file under `dir`. */
function treeBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += treeBytes(p);
    else if (e.isFile()) n += lstatSync(p).size;
  }
  return n;
}

interface Counts {
  aws: string[];
  github: string[];
  /** Presigned GetCallerIdentity requests: the cluster checking EKS tokens, not a client's call. */
  tokenChecks: number;
  kube: number;
  pushed: number;
  downloaded: number;
}

/** Where the stand-ins' logs stand now. */
function mark(world: PipelineWorld) {
  return {
    ecr: world.ecr.calls.length,
    eks: world.eks.eks.requests.length,
    sts: world.eks.sts.requests.length,
    webIdentity: world.eks.sts.webIdentityCalls.length,
    kms: world.evidence.kms.requests.length,
    github: world.github.state.requests.length,
    kube: world.kube.requests.length,
    pushed: world.ecr.uploadedBytes(),
    cache: treeBytes(world.toolCache),
  };
}

/** An EKS REST path as its operation. */
function eksOperation(method: string, url: string): string {
  const path = url.split('?')[0]!;
  if (method === 'GET' && /^\/clusters\/[^/]+$/.test(path)) return 'DescribeCluster';
  if (method === 'GET' && /^\/clusters\/[^/]+\/access-entries\/[^/]+$/.test(path)) return 'DescribeAccessEntry';
  return `${method} ${path.replace(/\/clusters\/[^/]+/, '/clusters/{name}')}`;
}

/** A GitHub REST path with its variable parts named. */
function githubOperation(method: string, path: string): string {
  return `${method} ${path
    .replace(/^\/repos\/[^/]+\/[^/]+/, '/repos/{owner}/{repo}')
    .replace(/\/[0-9a-f]{40}(?=\/|$)/g, '/{sha}')
    .replace(/\/\d+(?=\/|$)/g, '/{id}')
    .replace(/\/git\/(ref|refs|matching-refs)\/.+$/, '/git/$1/{ref}')}`;
}

function since(world: PipelineWorld, m: ReturnType<typeof mark>, jobTokens: Set<string>): Counts {
  const sts = world.eks.sts.requests.slice(m.sts);
  const tokenCheck = (r: { method: string; url: string }) => r.method === 'GET' && /X-Amz-Signature=/i.test(r.url);
  const stsOps = sts.filter((r) => !tokenCheck(r)).map((r) => `STS ${new URLSearchParams(r.body).get('Action') ?? new URL(r.url, 'http://x').searchParams.get('Action') ?? '?'}`);
  return {
    aws: [
      ...world.ecr.calls.slice(m.ecr).map((op) => `ECR ${op}`),
      ...world.eks.eks.requests.slice(m.eks).map((r) => `EKS ${eksOperation(r.method, r.url)}`),
      ...stsOps,
      // configure-aws-credentials' calls, which the STS stand-in answers before its request log.
      ...world.eks.sts.webIdentityCalls.slice(m.webIdentity).map(() => 'STS AssumeRoleWithWebIdentity'),
      ...world.evidence.kms.requests.slice(m.kms).map((r) => `KMS ${(r.target ?? '').replace(/^TrentService\./, '') || `${r.method} ${r.url}`}`),
    ],
    github: world.github.state.requests
      .slice(m.github)
      .filter((r) => r.token !== undefined && jobTokens.has(r.token))
      .map((r) => githubOperation(r.method, r.path)),
    tokenChecks: sts.filter(tokenCheck).length,
    kube: world.kube.requests.length - m.kube,
    pushed: world.ecr.uploadedBytes() - m.pushed,
    downloaded: treeBytes(world.toolCache) - m.cache,
  };
}

/** "a 3, b 1" in order of first appearance. */
function tally(ops: string[]): string {
  const n = new Map<string, number>();
  for (const op of ops) n.set(op, (n.get(op) ?? 0) + 1);
  return [...n].map(([op, c]) => `${op} ${c}`).join(', ') || 'none';
}

/** Seconds of every step that ran (the doubles of checkout and credentials take next to none here), and of our own actions' steps. */
function stepSeconds(run: WorkflowRun): { work: number; own: number } {
  const steps = run.jobs.flatMap((j) => j.steps).filter((s) => s.outcome !== 'skipped');
  const sum = (xs: typeof steps) => xs.reduce((n, s) => n + s.durationMs, 0) / 1000;
  return { work: sum(steps), own: sum(steps.filter((s) => s.action)) };
}

interface Row {
  stage: string;
  workflow: string;
  jobs: number;
  conclusion: string;
  seconds: { work: number; own: number };
  counts: Counts;
}

async function main(): Promise<void> {
  if (!(await dockerAvailable())) throw new Error('The Docker engine is not running (scripts/setup.sh starts it as root)');
  const havePeer = existsSync(join(peerDir, 'action.yml'));
  const machine = `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`;
  console.log(`${new Date().toISOString().slice(0, 16)}Z on ${machine}; load average ${loadavg()[0]!.toFixed(1)} at the start`);
  if (!havePeer) console.log(`baseline: not measured (no ${join(peerDir, 'action.yml')}; see this file's header)`);

  const tools = await ensureKubeTools();
  const world = await startPipelineWorld({ runtime: 'docker', repository: NAME });
  const rows: Row[] = [];
  try {
    const repo = createServiceRepo({ serviceDir: prepareSampleService(), name: NAME, ecrRepository: NAME, release: 'sample-service', imageRepository: `${world.registryHost}/${NAME}` });
    // The baseline's workflow on both branches, committed before the stages' commits.
    repo.change('main', '.github/workflows/baseline.yml', BASELINE, 'Baseline workflow');
    repo.change('develop', '.github/workflows/baseline.yml', BASELINE, 'Baseline workflow');

    // The baseline's identity (static keys in the build account) and its repository, which the
    // clusters' nodes may pull from (as the build role's repository policy lets them for ours).
    const baselineId = { accessKeyId: 'AKIABASELINE00000001', secretAccessKey: 'baseline-secret', arn: `arn:aws:sts::${buildAccount(NAME)}:assumed-role/baseline-ci/ci` };
    world.identities.push(baselineId);
    const record = world.ecr.adopt(BASELINE_REPOSITORY, 'MUTABLE');
    record.policyText = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'NodesPull', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'] }],
    });
    const jobTokens = new Set<string>();
    const base = world.options(repo);
    const options = {
      ...base,
      mintToken: (permissions: Parameters<NonNullable<typeof base.mintToken>>[0], job: Parameters<NonNullable<typeof base.mintToken>>[1]) => {
        const t = base.mintToken!(permissions, job);
        jobTokens.add(t);
        return t;
      },
    };
    const baselineOptions = {
      ...options,
      actions: { ...options.actions, ...(havePeer ? { 'aws-actions/amazon-ecr-login': ecrLoginAction() } : {}) },
      runnerEnv: {
        ...options.runnerEnv,
        PATH: `${dirname(tools.newest.helm4)}:${options.runnerEnv?.PATH ?? ''}`,
        KUBECONFIG: world.kube.kubeconfigPath,
        AWS_ACCESS_KEY_ID: baselineId.accessKeyId,
        AWS_SECRET_ACCESS_KEY: baselineId.secretAccessKey,
        AWS_REGION: world.ecr.region,
        HELM_CACHE_HOME: mkdtempSync(join(tmpdir(), 'bench-helm-')),
      },
    };

    const measure = async (stage: string, workflow: 'deploy.yml' | 'baseline.yml', event: GithubEvent) => {
      const m = mark(world);
      const r = await runWorkflow({ ...(workflow === 'baseline.yml' ? baselineOptions : options), workflow: { path: `.github/workflows/${workflow}` }, event });
      rows.push({ stage, workflow: workflow === 'deploy.yml' ? 'deploy-actions' : 'baseline', jobs: r.jobs.filter((j) => j.result !== 'skipped').length, conclusion: r.conclusion, seconds: stepSeconds(r), counts: since(world, m, jobTokens) });
      if (r.conclusion !== 'success') {
        const failed = r.jobs.flatMap((j) => j.steps.filter((s) => s.outcome === 'failure').map((s) => `${j.names.join(' / ')} / ${s.name}: ${s.annotations.map((a) => a.message).join(' | ')}\n${s.log.slice(-1500)}`));
        console.log(`  ${stage} ${workflow}: ${r.conclusion}${r.error ? ` (${r.error})` : ''}\n${failed.join('\n')}`);
      }
    };
    const stages: Array<[string, () => GithubEvent]> = [
      ['1. push to develop', () => repo.change('develop', 'www/index.html', `${readFileSync(join(repo.root, 'www/index.html'), 'utf8')}\n<!-- bench change -->\n`, 'Change 1')],
      ['2. PR merged to main', () => repo.mergeCommit('develop', 'main', 1)],
    ];
    for (const [stage, make] of stages) {
      const event = make();
      console.log(`\n${stage} (${event.ref} ${event.sha.slice(0, 7)})`);
      await measure(stage, 'deploy.yml', event);
      if (havePeer) await measure(stage, 'baseline.yml', event);
    }
  } finally {
    await world.stop();
  }

  const kb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
  console.log('\n| stage | workflow | jobs | steps\' seconds (of which our actions) | AWS calls | GitHub API calls | downloaded by our actions | pushed |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const c = r.counts;
    const own = r.workflow === 'deploy-actions' ? ` (${r.seconds.own.toFixed(1)})` : '';
    console.log(`| ${r.stage} | ${r.workflow}${r.conclusion === 'success' ? '' : ` (${r.conclusion})`} | ${r.jobs} | ${r.seconds.work.toFixed(1)}${own} | ${c.aws.length} | ${c.github.length} | ${r.workflow === 'deploy-actions' ? kb(c.downloaded) : '-'} | ${kb(c.pushed)} |`);
  }
  console.log('\nBy operation:');
  for (const r of rows) {
    console.log(`  ${r.stage}, ${r.workflow}:`);
    console.log(`    AWS: ${tally(r.counts.aws)}`);
    console.log(`    GitHub: ${tally(r.counts.github)}`);
    console.log(`    (not counted above: ${r.counts.tokenChecks} EKS token checks the cluster made at STS; ${r.counts.kube} Kubernetes API requests)`);
  }
  console.log('\nDownloaded: what our actions added to the runner\'s tool cache, which holds helm at the default version as a runner image would (the first deploy on an empty cache downloads helm once: BENCH=deploy-fail-fast).');
  console.log(
    'Baseline differences: static keys (with configure-aws-credentials and OIDC, 1 AssumeRoleWithWebIdentity per job more) and a kubeconfig given (`aws eks update-kubeconfig` would add 1 EKS DescribeCluster per deploy job); its docker build ran after the pipeline\'s on the same daemon (layer cache warm).',
  );
  console.log(`load average ${loadavg()[0]!.toFixed(1)} at the end`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
