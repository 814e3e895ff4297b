/**
 * Issue 14, one-click rollback, through the workflow executor: the service repository's starter
 * workflows/rollback.yml (-> promote-gate status and last-validated, then deploy.yml by digest)
 * on the pipeline world of `npm run main`, pods on the docker runtime, evidence signed with the
 * environments' KMS keys. Releases A, B and C go develop -> qa, then main -> preprod -> production;
 * D reaches qa only. A bake breach marks B failed in production.
 *
 *   - attacker: records and statuses forged with a deployments:write token do not move the target
 *   - rollback of production, nothing typed: C -> A (B skipped although it is the previous helm
 *     revision), after production's approval; A's pods serve; C marked failed with a signed statement
 *   - a second rollback goes back to neither C nor B; the wrong branch is refused
 *   - unsigned evidence (a team with signing off): the forged record of D, a digest that never
 *     passed preprod, is refused by the plan's promotion gate in one line before any approval;
 *     production untouched
 */
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runWorkflow } from '../executor/index';
import type { GithubEvent, JobRun, WorkflowRun } from '../executor/model';
import { dockerAvailable, prepareSampleService } from '../harness/docker';
import { createServiceRepo, dispatchEvent, type ServiceRepo } from '../pipeline/service-repo';
import { namespaceOf, startPipelineWorld, type PipelineWorld } from '../pipeline/world';
import { granted } from '../executor/permissions';

const NAME = 'acme/sample-service';
const hasDocker = await dockerAvailable();
let world: PipelineWorld;
let repo: ServiceRepo;
/** The reviewers' answer to the next approval requests (the environments' required reviewers). */
let reviewersApprove = true;

interface Release {
  name: string;
  image: string;
  digest: string;
  /** The commit production's evidence names (main's merge commit), or develop's for D. */
  sha: string;
  /** Production's helm revision of it. */
  revision?: number;
}
const releases = {} as Record<'A' | 'B' | 'C' | 'D', Release>;

const run = (event: GithubEvent, workflow: string, opts: { text?: string; vars?: Record<string, string>; overrides?: Record<string, string> } = {}): Promise<WorkflowRun> => {
  const o = world.options(repo);
  return runWorkflow({ ...o, vars: { ...o.vars, ...opts.vars }, workflow: { path: workflow, text: opts.text }, event, ...(opts.overrides ? { overrides: opts.overrides } : {}) });
};
const rollback = (branch: string, environment: string, vars?: Record<string, string>) =>
  run(dispatchEvent(repo, branch, 'rollback.yml', { environment }), '.github/workflows/rollback.yml', { vars });

const job = (r: WorkflowRun, path: string): JobRun | undefined => r.jobs.find((j) => j.path.join('/') === path);
const step = (r: WorkflowRun, path: string, name: string) => job(r, path)?.steps.find((s) => s.name === name);
const errorsOf = (r: WorkflowRun) => r.jobs.flatMap((j) => j.steps.flatMap((s) => s.annotations.filter((a) => a.level === 'error').map((a) => a.message)));
const why = (r: WorkflowRun) => `${r.error ?? ''} ${r.jobs.map((j) => j.error ?? '').join(' ')} ${errorsOf(r).join(' | ')}`;
const digestOf = (ref: string) => ref.split('@')[1]!;

/** What production's Deployment runs. */
function runningIn(environment: string): string[] {
  return world.kube.list('Deployment', namespaceOf(environment)).flatMap((d) => ((d as { spec?: { template?: { spec?: { containers?: Array<{ image?: string }> } } } }).spec?.template?.spec?.containers ?? []).map((c) => c.image ?? ''));
}

/** The release page each ready pod of the environment serves (real containers). */
async function served(environment: string): Promise<string[]> {
  type Pod = { metadata: { deletionTimestamp?: string; labels?: Record<string, string> }; status?: { podIP?: string; conditions?: Array<{ type: string; status: string }> } };
  const pods = (world.kube.list('Pod', namespaceOf(environment)) as unknown as Pod[]).filter(
    (p) => !p.metadata.deletionTimestamp && !p.metadata.labels?.['helm.sh/hook'] && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  return Promise.all(pods.map(async (p) => (await (await fetch(`http://${p.status!.podIP}:8080/release.html`, { signal: AbortSignal.timeout(5000) })).text()).trim()));
}

/** The environment's records of a digest with the statement each carries, checked with the environment's public key. */
function statements(environment: string, digest: string) {
  const key = createPublicKey({ key: world.evidence.keys[environment]!.publicKeyDer, format: 'der', type: 'spki' });
  return world.github.state.deployments
    .filter((d) => d.environment === environment && (d.payload as { digest?: string }).digest === digest)
    .map((d) => {
      const signed = (d.payload as { signed?: { statement: string; signature: string } }).signed;
      const bytes = signed ? Buffer.from(signed.statement, 'base64') : undefined;
      const valid = !!signed && verify('sha256', bytes!, key, Buffer.from(signed.signature, 'base64'));
      return { id: d.id, production: d.production_environment, valid, statement: bytes ? (JSON.parse(bytes.toString()) as { status: string; commit: string; time: string }) : undefined };
    });
}

/** A change through develop -> qa, then (unless qaOnly) merged: main -> preprod -> production. */
async function release(name: keyof typeof releases, qaOnly = false): Promise<Release> {
  const qa = await run(repo.change('develop', 'www/release.html', `release ${name}\n`, `Release ${name}`), '.github/workflows/deploy.yml');
  expect(qa.conclusion, why(qa)).toBe('success');
  const image = step(qa, 'pipeline/qa/deploy', 'Deploy')!.outputs['image-ref']!;
  if (qaOnly) return (releases[name] = { name, image, digest: digestOf(image), sha: repo.head('develop') });
  const main = await run(repo.mergeCommit('develop', 'main', Object.keys(releases).length + 1), '.github/workflows/deploy.yml');
  expect(main.conclusion, why(main)).toBe('success');
  const deployed = step(main, 'pipeline/production/deploy', 'Deploy')!.outputs;
  expect(deployed['image-ref']).toBe(image);
  console.log(`release ${name} in production (${Math.round(performance.now() / 1000)} s)`);
  return (releases[name] = { name, image, digest: digestOf(image), sha: repo.head('main'), revision: Number(deployed.revision) });
}

/** What a bake breach in production does (deploy.yml's "Mark the release failed"), as its own workflow. */
/**
 * The bake's breach, marked as deploy.yml marks it: a job of the production environment with its
 * deploy role. The generated trust admits that role only to deploy-actions' deploy.yml
 * (job_workflow_ref), so this job runs in place of deploy.yml (the executor's `overrides`).
 */
const MARK_FAILED_CALLER = `name: bake breach
on: workflow_dispatch
permissions: {}
jobs:
  mark:
    uses: org/deploy-actions/.github/workflows/deploy.yml@v1
    permissions: { id-token: write, deployments: write }
`;
const markFailedJob = (image: string, sha: string) => `on: workflow_call
permissions: {}
jobs:
  mark:
    runs-on: ubuntu-latest
    environment: production
    permissions: { id-token: write, deployments: write }
    steps:
      - uses: aws-actions/configure-aws-credentials@a03048d87541d1d9fcf2ecf528a4a65ba9bd7838
        with:
          role-to-assume: \${{ vars.AWS_DEPLOY_ROLE_ARN }}
          aws-region: \${{ vars.AWS_REGION }}
      - name: Mark the release failed
        uses: org/deploy-actions/promote-gate@v1
        with:
          mode: fail
          image-ref: ${image}
          environment: Production
          sha: ${sha}
          description: alarm sample-5xx entered ALARM during the bake
          evidence-keys: \${{ vars.EVIDENCE_KMS_KEYS }}
          require-signed-evidence: true
`;

/** Someone holding a token with deployments: write (and nothing else) writes straight to the API. */
async function forge(path: string, body: unknown): Promise<{ id: number }> {
  const token = world.github.mintToken(granted({ deployments: 'write' }));
  const res = await fetch(`${world.github.url}/repos/${NAME}/${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/vnd.github+json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: number };
}

describe.skipIf(!hasDocker)('one-click rollback through the executor (issue 14)', () => {
  beforeAll(async () => {
    world = await startPipelineWorld({
      runtime: 'docker',
      repository: NAME,
      approver: ({ eligible }) => ({ approve: reviewersApprove, reviewer: eligible[0]! }),
    });
    repo = createServiceRepo({ serviceDir: prepareSampleService(), name: NAME, ecrRepository: NAME, release: 'sample-service', imageRepository: `${world.registryHost}/${NAME}` });
    // The team's edits for these releases (the rollback is the starter rollback.yml's): one replica,
    // no helm test. Nothing here asserts either; the four releases cost a third less time.
    const starter = join(repo.root, '.github/workflows/deploy.yml');
    writeFileSync(starter, readFileSync(starter, 'utf8').replace(/^(\s*)(image-digest-key: .*)$/m, `$1$2\n$1helm-test: false\n$1set: |\n$1  replicaCount=1\n$1  autoscaling.enabled=false`));
    repo.git('commit', '--quiet', '-am', 'One replica, no helm test');
    repo.git('branch', '--force', 'develop', 'main');
    for (const name of ['A', 'B', 'C'] as const) await release(name);
    await release('D', true);
    expect(runningIn('production')).toEqual([releases.C.image]);
    // A bake breach marks B failed in production (after C replaced it: the bake of a later look).
    const B = releases.B;
    console.log(`D in qa (${Math.round(performance.now() / 1000)} s)`);
    const mark = await run(dispatchEvent(repo, 'main', 'mark-failed.yml', {}), '.github/workflows/mark-failed.yml', { text: MARK_FAILED_CALLER, overrides: { '.github/workflows/deploy.yml': markFailedJob(B.image, B.sha) } });
    expect(mark.conclusion, why(mark)).toBe('success');
  }, 900_000);
  afterAll(async () => {
    await world?.stop();
  });

  test('`Production` in any case: the failed statement is signed for production and GitHub is told it is a production deployment', () => {
    const failed = statements('production', releases.B.digest).filter((s) => s.statement?.status === 'failed');
    expect(failed).toEqual([expect.objectContaining({ valid: true, production: true })]);
  });

  test('records and statuses forged with a deployments:write token do not move the rollback target', async () => {
    const { A, B, D } = releases;
    const forged = (digest: string, image: string, sha: string, extra: Record<string, unknown> = {}) =>
      forge('deployments', {
        ref: sha,
        environment: 'production',
        auto_merge: false,
        required_contexts: [],
        transient_environment: true,
        payload: { image, digest, repository: NAME, recorded_by: 'deploy-actions/promote-gate', run_id: '666', actor: 'mallory', ...extra },
      });
    // B's genuine signed success statement, replayed on a new record (older than its failed statement).
    const genuineB = world.github.state.deployments.find((d) => d.environment === 'production' && (d.payload as { digest?: string; signed?: unknown }).digest === B.digest && (d.payload as { signed?: unknown }).signed && statements('production', B.digest).find((s) => s.id === d.id)?.statement?.status === 'success')!;
    const replay = await forged(B.digest, B.image, B.sha, { signed: (genuineB.payload as { signed: unknown }).signed });
    await forge(`deployments/${replay.id}/statuses`, { state: 'success', auto_inactive: false });
    // A failure status on every genuine record of A.
    for (const d of world.github.state.deployments.filter((x) => x.environment === 'production' && (x.payload as { digest?: string }).digest === A.digest)) {
      await forge(`deployments/${d.id}/statuses`, { state: 'failure', description: 'forged', auto_inactive: false });
    }
    // The newest record: D, which only ever ran in qa, unsigned, successful.
    const d = await forged(D.digest, D.image, D.sha);
    await forge(`deployments/${d.id}/statuses`, { state: 'success', auto_inactive: false });

    reviewersApprove = false;
    try {
      const r = await rollback('main', 'production');
      expect(job(r, 'plan')?.result, why(r)).toBe('success');
      expect(job(r, 'plan')!.outputs).toMatchObject({ 'image-ref': A.image, sha: A.sha, running: releases.C.image });
      // The reviewer rejected: nothing was deployed.
      expect(job(r, 'rollback/deploy')?.result).toBe('failure');
      expect(job(r, 'rollback/deploy')?.steps).toEqual([]);
      expect(runningIn('production')).toEqual([releases.C.image]);
    } finally {
      reviewersApprove = true;
    }
  }, 300_000);

  test('production, nothing typed: back to A (B failed, although it is the previous helm revision), after approval; A serves; C marked failed, signed', async () => {
    const { A, B, C } = releases;
    // Helm's history: A, B, C; the revision before C's is B's.
    expect([B.revision, C.revision]).toEqual([A.revision! + 1, A.revision! + 2]);
    const r = await rollback('main', 'production');
    expect(r.conclusion, why(r)).toBe('success');

    // The plan: what runs, and the target with its commit, time and validating actor.
    const target = step(r, 'plan', 'Previous validated release')!;
    expect(target.outputs).toMatchObject({ digest: A.digest, sha: A.sha, 'image-ref': A.image, 'validated-by': 'dev' });
    const summary = job(r, 'plan')!.steps.map((s) => s.summary).join('\n');
    const plan = summary.slice(summary.indexOf('### Rollback of production'));
    // A was validated by the run of its merge (actor dev), approved by production's reviewer.
    expect(plan).toContain(`| \`${A.digest}\` | ${A.sha} | ${target.outputs['validated-at']} | dev | alice | ${target.outputs['run-url']} |`);
    expect(target.outputs['validated-at']).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(target.log).toContain(`before ${C.digest}: ${A.digest}`);
    expect(plan).not.toContain(B.digest);
    // The plan applied the promotion gate already: A ran in production, and passed preprod.
    expect(step(r, 'plan', 'Check the target may go there')!.outputs.verified).toBe('true');

    // Production's required reviewers approved it; then A was redeployed by digest and recorded.
    const deploy = job(r, 'rollback/deploy')!;
    expect(deploy.environment).toMatchObject({ name: 'production', approvals: ['alice'] });
    expect(world.environments.approvals.at(-1)).toMatchObject({ environment: 'production', state: 'approved', reviewer: 'alice' });
    expect(step(r, 'rollback/deploy', 'Promotion gate')!.outputs.verified).toBe('true');
    expect(step(r, 'rollback/deploy', 'Deploy')!.outputs).toMatchObject({ 'image-ref': A.image, revision: String(C.revision! + 1) });
    expect(runningIn('production')).toEqual([A.image]);
    expect(await served('production')).toEqual(expect.arrayContaining(['release A']));
    expect(new Set(await served('production'))).toEqual(new Set(['release A']));

    // C is marked failed in production by the same job, signed with production's key.
    const failedC = statements('production', C.digest).filter((s) => s.statement?.status === 'failed');
    expect(failedC).toEqual([expect.objectContaining({ valid: true, production: true, statement: expect.objectContaining({ commit: C.sha }) })]);
    expect(step(r, 'rollback/deploy', 'Mark the release rolled back from failed')!.conclusion).toBe('success');
  }, 300_000);

  test('a second rollback goes back to neither C nor B: refused in the plan, production untouched', async () => {
    const { A, C } = releases;
    const approvals = world.environments.approvals.length;
    const r = await rollback('main', 'production');
    expect(r.conclusion).toBe('failure');
    const line = errorsOf(r);
    expect(line).toHaveLength(1);
    expect(line[0]).toMatch(new RegExp(`^No validated release of ${NAME} in production other than ${A.digest} \\(\\d+ signed record\\(s\\) read\\)$`));
    expect(job(r, 'rollback')?.result).toBe('skipped');
    expect(world.environments.approvals.length).toBe(approvals);
    expect(runningIn('production')).toEqual([A.image]);
    expect(step(r, 'plan', 'What runs now')!.log).toContain(`production: ${A.digest}`);
    expect(C.digest).not.toBe(A.digest);
  }, 120_000);

  test('on the wrong branch it is refused before anything is read', async () => {
    const r = await rollback('develop', 'production');
    expect(r.conclusion).toBe('failure');
    expect(errorsOf(r)[0]).toBe('production is deployed from refs/heads/main; run this workflow on that branch');
    expect(step(r, 'plan', 'What runs now')?.outcome).not.toBe('success');
  }, 60_000);

  test('unsigned evidence: the plan finds D, and production refuses unsigned evidence (fail closed) in one line before anyone is asked; production untouched', async () => {
    const { A, D } = releases;
    const approvals = world.environments.approvals.length;
    const r = await rollback('main', 'production', { EVIDENCE_KMS_KEYS: '', EVIDENCE_SIGNING: 'off' });
    expect(r.conclusion).toBe('failure');
    expect(step(r, 'plan', 'Previous validated release')!.outputs.digest).toBe(D.digest);
    const check = step(r, 'plan', 'Check the target may go there')!;
    expect(check.outcome).toBe('failure');
    const refusal = errorsOf(r);
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).not.toContain('\n');
    // Fail closed (issue 20): production takes no unsigned evidence unless WEAKEN_PROMOTION_GATE is true.
    expect(refusal[0]).toMatch(/^Input 'evidence-keys' names no key of preprod: production is a promotion target, .*; production is refused \(set weaken-promotion-gate: true/);
    expect(job(r, 'rollback')?.result).toBe('skipped');
    expect(world.environments.approvals.length).toBe(approvals);
    expect(runningIn('production')).toEqual([A.image]);
  }, 120_000);
});
