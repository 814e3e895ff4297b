/**
 * The attack suite of issue 10 through the workflow executor: the real deploy.yml (and attacker
 * workflows) on GitHub's parser, the committed promote-gate bundle, OIDC tokens and STS evaluating
 * the generated trust policies (workflows/aws/: each role bound to deploy-actions' build.yml or
 * deploy.yml by job_workflow_ref), the roles' generated permissions, the KMS stand-in with the
 * generated key policies (keys in the environments' accounts), the GitHub stand-in (deployments,
 * job tokens with exactly the job's permissions), the ECR stand-in on a real registry in the
 * build account, with the repository policy build-push-ecr keeps from ECR_PULL_ACCOUNTS and
 * ECR_DEPLOY_ROLES. Every attack must be refused with one clear line and nothing
 * deployed (deploy.yml's Deploy step never runs, production gets no evidence). The deploy
 * step of the one positive control fails at once on a chart that does not exist (no cluster here):
 * it shows the gate let the digest through.
 * Legitimate evidence is written by jobs that enter the environment and assume its deploy role,
 * running promote-gate record with the inputs deploy.yml gives it; as only a job of deploy.yml
 * may assume a deploy role, those jobs run in place of deploy.yml (the executor's `overrides`:
 * the reusable workflow's file replaced by the evidence job, so its job_workflow_ref is
 * deploy.yml's). The forgeries that need a role run the same way, as an attacker who holds the
 * build role's or the QA role's powers: the gate's own checks are tested behind the trust policies.
 * A workflow an insider writes in the service repository gets no role at all (first describe).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createActionDoubles } from '../executor/doubles/index';
import { mergeRepositoryPolicy } from '@deploy-actions/aws';
import { buildAccount, buildRoleArn, deployRoleArn, evidenceRoleArn, projectTrust, repositoryIds, variablesOf } from '../executor/doubles/aws-trust';
import { loadEnvironments, projectEnvironmentsFile } from '../executor/doubles/environments';
import { startOidcTokenService, subjectsFromGithub, type OidcTokenService } from '../executor/doubles/oidc';
import { runWorkflow } from '../executor/index';
import type { WorkflowRun } from '../executor/model';
import { granted } from '../executor/permissions';
import { prepareSampleService, sampleServiceDir } from '../harness/docker';
import { pushImage } from '../harness/oci-push';
import { startRegistry, type Registry } from '../harness/registry';
import { createServiceRepo, dispatchEvent, type ServiceRepo } from '../pipeline/service-repo';
import { startEcrStandin, type EcrStandin } from '../standins/ecr/index';
import { startStsStandin, type StsStandinWithSessions } from '../standins/eks/index';
import { startGithubStandin, type GithubStandin } from '../standins/github/index';
import { IamStore } from '../standins/iam/index';
import { startEvidenceKms, type EvidenceKms } from './evidence-keys';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { pushBuildProvenance } from '../harness/provenance';

const NAME = 'acme/sample-service';
/** The ECR repository (the example's services.sample-service.ecr_repository, which the deploy roles may read). */
const REPO = 'acme/sample-service';
const REGION = 'eu-west-1';
const AWS_CREDS = 'aws-actions/configure-aws-credentials@a03048d87541d1d9fcf2ecf528a4a65ba9bd7838';

let tokens: OidcTokenService;
let sts: StsStandinWithSessions;
let iam: IamStore;
let evidence: EvidenceKms;
let registry: Registry;
let ecr: EcrStandin;
let github: GithubStandin;
let repo: ServiceRepo;
/** Commits on main and their images: each with its own evidence history. */
const image: Record<string, { sha: string; digest: string; ref: string }> = {};

beforeAll(async () => {
  github = await startGithubStandin({ tokens: {}, repositories: [NAME] });
  tokens = await startOidcTokenService({ subjects: subjectsFromGithub(github.url, github.mintToken({ contents: 'read', actions: 'read' })) });
  const trust = projectTrust({ tokenService: tokens });
  iam = new IamStore();
  sts = await startStsStandin({ region: REGION, iam, webIdentity: { providers: trust.providers, roles: trust.roles } });
  evidence = await startEvidenceKms({ iam });
  registry = await startRegistry();
  ecr = await startEcrStandin({ registry, iam, accountId: buildAccount(), region: REGION, front: false });
  prepareSampleService();
  repo = createServiceRepo({ serviceDir: sampleServiceDir, name: NAME, ecrRepository: REPO, release: 'sample-service', imageRepository: `${registry.host}/${REPO}` });
  for (const name of ['validated', 'newer', 'failed', 'none', 'unsigned', 'qaSigned', 'otherStatement', 'rolledBack', 'built', 'planted', 'otherKey', 'otherDigest']) {
    repo.change('main', `www/${name}.html`, `${name}\n`, `Change ${name}`);
    const sha = repo.head('main');
    const digest = await pushImage(registry, REPO, sha.slice(0, 7), name);
    image[name] = { sha, digest, ref: `${registry.host}/${REPO}@${digest}` };
  }
  // The repository as build-push-ecr leaves it: its policy lets the other accounts' deploy roles read and record.
  const vars = variablesOf(NAME).repository;
  const roles = vars.ECR_DEPLOY_ROLES!.split(',');
  ecr.adopt(REPO, 'IMMUTABLE').policyText = mergeRepositoryPolicy(undefined, { pull: vars.ECR_PULL_ACCOUNTS!.split(',').map((a) => `arn:aws:iam::${a}:root`), read: roles, record: roles }).text;
}, 120_000);
afterAll(async () => {
  for (const s of [github, ecr, registry, evidence?.kms, sts, tokens]) await s?.stop();
});

/** The reviewers' answer to the next approval requests (the environments' required reviewers). */
let reviewersApprove = true;

/**
 * `workflow` (the service's attack.yml) run with "Run workflow" on `branch`; or, with `file`, the
 * service repository's own workflow of that name (its starter copy), `workflow` then replacing its
 * text when given, with the dispatch `inputs`.
 */
function run(
  workflow: string | undefined,
  branch: string,
  vars: Record<string, string> = { EVIDENCE_KMS_KEYS: evidence.variable },
  overrides?: Record<string, string>,
  o: { file?: string; inputs?: Record<string, string>; environmentVars?: boolean } = {},
): Promise<WorkflowRun> {
  const file = o.file ?? 'attack.yml';
  return runWorkflow({
    workflow: { path: `.github/workflows/${file}`, text: workflow },
    event: dispatchEvent(repo, branch, file, o.inputs ?? {}),
    repository: { root: repo.root, name: NAME, ...repositoryIds(NAME) },
    ...(overrides ? { overrides } : {}),
    vars: { AWS_REGION: REGION, ECR_REGISTRY_ID: buildAccount(), ...vars },
    actions: createActionDoubles({ repositories: { [NAME]: repo.root } }),
    environments: loadEnvironments({ file: projectEnvironmentsFile(), owner: 'acme', teams: { 'acme/platform': ['alice'] }, ...(o.environmentVars ? { vars: environmentVars() } : {}), approver: () => ({ approve: reviewersApprove, reviewer: 'alice' }) }),
    idTokens: tokens,
    mintToken: (permissions) => github.mintToken(granted(permissions)),
    apiUrl: github.url,
    runnerEnv: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      AWS_ENDPOINT_URL_STS: sts.url,
      AWS_ENDPOINT_URL_ECR: ecr.url,
      AWS_ENDPOINT_URL_KMS: evidence.kms.url,
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
}

interface GateJob {
  environment?: string;
  role: string;
  mode: string;
  img: { sha: string; ref: string };
  with?: Record<string, string>;
}

/** A job that entered `environment` (its protection rules) and assumed `role`, running promote-gate as deploy.yml does. */
function gateJob(o: GateJob, on = 'workflow_dispatch'): string {
  const extra = Object.entries(o.with ?? {}).map(([k, v]) => `\n          ${k}: ${v}`).join('');
  return `on: ${on}
permissions: {}
jobs:
  evidence:
    runs-on: ubuntu-latest
    ${o.environment ? `environment: ${o.environment}` : ''}
    permissions: { contents: read, id-token: write, deployments: write }
    steps:
      - uses: ${AWS_CREDS}
        with: { role-to-assume: '${o.role}', aws-region: ${REGION} }
      - name: promote-gate
        uses: org/deploy-actions/promote-gate@v1
        with:
          mode: ${o.mode}
          image-ref: ${o.img.ref}${o.mode === 'fail' ? '' : '\n          registry-id: ${{ vars.ECR_REGISTRY_ID }}'}
          sha: ${o.img.sha}${extra}
`;
}

/**
 * The gate job run from the service's attack.yml or, with `via`, in place of deploy-actions'
 * reusable workflow of that name (its file overridden), so its token's job_workflow_ref is the
 * one the generated trust policies admit for the role.
 */
function runGate(o: GateJob & { via?: 'build.yml' | 'deploy.yml' }, branch: string): Promise<WorkflowRun> {
  if (!o.via) return run(gateJob(o), branch);
  const caller = `on: workflow_dispatch
permissions: {}
jobs:
  evidence:
    uses: org/deploy-actions/.github/workflows/${o.via}@v1
    permissions: { contents: read, id-token: write, deployments: write }
`;
  return run(caller, branch, undefined, { [`.github/workflows/${o.via}`]: gateJob(o, 'workflow_call') });
}

const SIGNED = { 'evidence-keys': '${{ vars.EVIDENCE_KMS_KEYS }}', 'require-signed-evidence': 'true' };
/** Evidence written the way deploy.yml writes it: a job of the environment, its deploy role, its key. */
async function legit(environment: string, img: { sha: string; ref: string }, mode: 'record' | 'fail' = 'record') {
  const r = await runGate({ via: 'deploy.yml', environment, role: deployRoleArn(environment), mode, img, with: { environment, ...SIGNED } }, environment === 'qa' ? 'develop' : 'main');
  expect(r.conclusion, JSON.stringify(r.jobs.map((j) => j.steps.map((s) => [s.name, s.outcome, s.annotations.map((a) => a.message)])))).toBe('success');
}

/** deploy.yml called for `environment` from `branch`. */
function deploy(environment: string, img: { sha: string; ref: string }, o: { branch?: string; with?: Record<string, string>; vars?: Record<string, string> } = {}): Promise<WorkflowRun> {
  const extra = Object.entries(o.with ?? {}).map(([k, v]) => `\n      ${k}: ${v}`).join('');
  return run(
    `on: workflow_dispatch
permissions: {}
jobs:
  target:
    uses: org/deploy-actions/.github/workflows/deploy.yml@v1
    permissions: { contents: read, id-token: write, deployments: write, actions: read, pull-requests: read }
    with:
      environment: '${environment}'
      image-ref: ${img.ref}
      sha: ${img.sha}
      release: sample-service
      chart: no-such-chart
      role-to-assume: ${deployRoleArn(environment.trim().toLowerCase() === 'prod' ? 'production' : environment.trim().toLowerCase())}
      cluster-name: prod-${REGION}
      aws-region: ${REGION}${extra}
`,
    o.branch ?? 'main',
    o.vars,
  );
}

/** What a `deployments: write` token can do over the REST API. */
function asWriter() {
  const token = github.mintToken({ deployments: 'write' });
  return (path: string, body: unknown) =>
    fetch(`${github.url}/repos/${NAME}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<{ id: number }>);
}

/** A preprod deployment with any payload (and the evidence records' own task), then a success status. */
async function forgeDeployment(sha: string, payload: object, post = asWriter()): Promise<void> {
  const d = await post('/deployments', { ref: sha, task: 'deploy:evidence:preprod', environment: 'preprod', payload, transient_environment: true, required_contexts: [] });
  await post(`/deployments/${d.id}/statuses`, { state: 'success', auto_inactive: false });
}

const steps = (r: WorkflowRun) => r.jobs.flatMap((j) => j.steps);
const step = (r: WorkflowRun, name: string) => steps(r).find((s) => s.name === name);
const productionRecords = () => github.state.deployments.filter((d) => d.environment.toLowerCase() === 'production' && (d.payload as { recorded_by?: string }).recorded_by);

/** Refused: the run failed, the Deploy step never ran, and the failure's one line (the failing step's last error) matches. */
function expectRefused(r: WorkflowRun, line: RegExp): void {
  expect(r.conclusion).toBe('failure');
  expect(step(r, 'Deploy')?.outcome ?? 'not started').not.toMatch(/success|failure/);
  const failed = steps(r).find((s) => s.outcome === 'failure');
  const errors = [r.error, ...r.jobs.map((j) => j.error), failed?.annotations.filter((a) => a.level === 'error').at(-1)?.message].filter((e): e is string => !!e);
  expect(errors.filter((e) => line.test(e)), errors.join('\n')).toHaveLength(1);
}

describe("an insider's own workflow on develop gets no AWS role (the generated trust binds each role to deploy-actions' workflow)", () => {
  test.each([
    ['the build role', { role: buildRoleArn(), mode: 'record', with: { environment: 'preprod' } }],
    ["the QA environment's deploy role", { environment: 'qa', role: deployRoleArn('qa'), mode: 'record', with: { environment: 'qa', ...SIGNED } }],
  ])('%s: refused by STS before any evidence is written', async (_name, job) => {
    const before = github.state.deployments.length;
    const r = await runGate({ ...job, img: image.unsigned! }, 'develop');
    expect(r.conclusion).toBe('failure');
    expect(steps(r).find((s) => s.outcome === 'failure')!.annotations.map((a) => a.message).join('\n')).toMatch(/Not authorized to perform sts:AssumeRoleWithWebIdentity/);
    expect(step(r, 'promote-gate')!.outcome).toBe('skipped');
    expect(github.state.deployments.length).toBe(before);
  });
});

describe('the positive control', () => {
  test('evidence signed in preprod lets the digest through the production gate (the deploy step then runs)', async () => {
    await legit('preprod', image.validated!);
    const r = await deploy('production', image.validated!);
    expect(step(r, 'Promotion gate')!.outcome).toBe('success');
    expect(step(r, 'Deploy')!.outcome).toBe('failure');
  });
});

describe('forged evidence', () => {
  beforeAll(async () => {
    // An attacker with the build role's powers on develop (as build.yml has them) and a deployments: write token.
    const forge = await runGate({ via: 'build.yml', role: buildRoleArn(), mode: 'record', img: image.unsigned!, with: { environment: 'preprod' } }, 'develop');
    expect(forge.conclusion).toBe('success'); // unsigned evidence: a success deployment and the preprod tag, both written
    const sign = await runGate({ via: 'build.yml', role: buildRoleArn(), mode: 'record', img: image.unsigned!, with: { environment: 'preprod', ...SIGNED } }, 'develop');
    expect(sign.conclusion).toBe('failure');
    expect(steps(sign).find((s) => s.outcome === 'failure')!.annotations.map((a) => a.message).join('\n')).toMatch(/may not sign with preprod's evidence key .*gha-sample-service-build/);
    // The QA job (develop may deploy to qa) signs a statement saying preprod with the only key it may use.
    const qa = await runGate(
      { via: 'deploy.yml', environment: 'qa', role: deployRoleArn('qa'), mode: 'record', img: image.qaSigned!, with: { environment: 'preprod', 'evidence-keys': `preprod=${evidence.keys.qa!.arn}` } },
      'develop',
    );
    expect(qa.conclusion).toBe('success');
    // A valid preprod statement about another digest, copied into a deployment that claims this one.
    await legit('preprod', image.newer!);
    const theirs = github.state.deployments.filter((d) => (d.payload as { digest?: string }).digest === image.newer!.digest).at(-1)!;
    await forgeDeployment(image.otherStatement!.sha, { ...(theirs.payload as object), digest: image.otherStatement!.digest });
  }, 120_000);

  const evidenceCases = ['none', 'unsigned', 'qaSigned', 'otherStatement'] as const;
  test.each(evidenceCases)('production with %s evidence: refused by the gate', async (what) => {
    const before = productionRecords().length;
    const r = await deploy('production', image[what]!);
    const ignored = what === 'qaSigned' ? ".*ignored in preprod: \\d+ signature does not verify with the environment's key" : '';
    expectRefused(r, new RegExp(`^Promotion of ${REPO}@${image[what]!.digest} to production refused: .*no statement signed with preprod's key says digest .* passed preprod${ignored}`));
    expect(productionRecords().length).toBe(before);
  });

  test('the default configuration, no keys set: the forged unsigned evidence is refused, naming evidence-keys', async () => {
    const r = await deploy('production', image.unsigned!, { vars: {} });
    expectRefused(r, /^Input 'evidence-keys' must name the KMS key of preprod: require-signed-evidence is true/);
  });

  // Fail closed (issue 20): signing off, or no key of preprod, refuses production by default.
  test('EVIDENCE_SIGNING=off: production is refused by default, one line naming the rule and the opt-out, nothing deployed', async () => {
    const before = productionRecords().length;
    const r = await deploy('production', image.unsigned!, { vars: { EVIDENCE_SIGNING: 'off' } });
    expectRefused(r, /^Input 'evidence-keys' names no key of preprod: production is a promotion target, and unsigned evidence .* can be forged .*; production is refused \(set weaken-promotion-gate: true to accept it/);
    const errors = steps(r).flatMap((s) => s.annotations).filter((a) => a.level === 'error').map((a) => a.message);
    expect(errors.filter((m) => /^EVIDENCE_SIGNING is off: /.test(m)), errors.join('\n')).toHaveLength(1);
    expect(productionRecords().length).toBe(before);
  });

  test('EVIDENCE_SIGNING=off with the explicit opt-out WEAKEN_PROMOTION_GATE=true: each weakened rule is an error annotation in the run, whatever the unsigned gate decides', async () => {
    const r = await deploy('production', image.unsigned!, { vars: { EVIDENCE_SIGNING: 'off', WEAKEN_PROMOTION_GATE: 'true' } });
    const errors = steps(r).flatMap((s) => s.annotations).filter((a) => a.level === 'error').map((a) => a.message);
    expect(errors.filter((m) => /^EVIDENCE_SIGNING is off: the promotion gate accepts unsigned evidence .* can forge/.test(m)), errors.join('\n')).toHaveLength(1);
    expect(errors.filter((m) => /^Weakened promotion gate: evidence-keys names no key of preprod: production is a promotion target.*accepted because weaken-promotion-gate is true/.test(m)), errors.join('\n')).toHaveLength(1);
    // (Here the unsigned record was already superseded by a later preprod record, so the gate refuses.)
    expect(step(r, 'Promotion gate')!.outcome).toBe('failure');
  });

  // Another spelling is another OIDC subject (environment:Production, environment:prod, ...) that
  // the production role's trust policy refuses, before any step reads evidence or reaches the
  // cluster; so each is run once, with the fullest forgery a develop workflow can write (a success
  // deployment and the preprod tag).
  test.each([
    ['Production', /Not authorized to perform sts:AssumeRoleWithWebIdentity/],
    ['PRODUCTION', /Not authorized to perform sts:AssumeRoleWithWebIdentity/],
    ['prod', /Not authorized to perform sts:AssumeRoleWithWebIdentity/],
    [' production', /'roleSessionName' failed to satisfy constraint/],
  ])('environment %j with forged evidence: refused before AWS credentials', async (spelling, line) => {
    const before = productionRecords().length;
    expectRefused(await deploy(spelling, image.unsigned!), line);
    expect(productionRecords().length).toBe(before);
  });
});

describe('refs and replays', () => {
  test('a caller widening allowed-refs is refused before any evidence is read', async () => {
    const r = await deploy('production', image.validated!, { with: { 'allowed-refs': 'refs/heads/main,refs/heads/develop' } });
    expectRefused(r, /^Input 'allowed-refs' cannot widen the refs of production: the pipeline allows only refs\/heads\/main/);
  });

  test('production from develop: the environment refuses the branch', async () => {
    const r = await deploy('production', image.validated!, { branch: 'develop' });
    expectRefused(r, /Branch "develop" is not allowed to deploy to production due to environment protection rules/);
  });

  test('a statement replayed after a newer one superseded it; a digest failed in preprod; a rollback production ran', async () => {
    // failed: passed preprod, then its bake failed there (a signed failed statement).
    await legit('preprod', image.failed!);
    await legit('preprod', image.failed!, 'fail');
    expectRefused(await deploy('production', image.failed!), /digest sha256:[0-9a-f]{64} was marked failed in preprod at/);
    // rolledBack ran in production; preprod then moved on to `validated`, which production ran next.
    await legit('preprod', image.rolledBack!);
    await legit('production', image.rolledBack!);
    await legit('preprod', image.validated!);
    await legit('production', image.validated!);
    // newer passed preprod earlier but never ran in production: preprod has moved on from it.
    expectRefused(await deploy('production', image.newer!), /preprod has moved on to sha256:[0-9a-f]{64} .*only the digest preprod holds can be promoted, or one production ran before/);
    // Its statement replayed in a new deployment is as old as the original.
    const original = github.state.deployments.filter((d) => (d.payload as { digest?: string }).digest === image.newer!.digest && (d.payload as { signed?: unknown }).signed).at(0)!;
    await forgeDeployment(image.newer!.sha, original.payload as object);
    expectRefused(await deploy('production', image.newer!), /preprod has moved on to/);
    // A status naming another environment moves the newest preprod statement's deployment out of
    // preprod's list (GitHub: a status's environment "can be changed when setting a deploy status"):
    // the gate lists evidence by task and reads the environment from the statement, so nothing changes.
    const newest = github.state.deployments.filter((d) => (d.payload as { digest?: string }).digest === image.validated!.digest && d.task === 'deploy:evidence:preprod').at(-1)!;
    await asWriter()(`/deployments/${newest.id}/statuses`, { state: 'success', environment: 'qa', auto_inactive: false });
    expect(github.state.deployments.find((d) => d.id === newest.id)!.environment).toBe('qa');
    expectRefused(await deploy('production', image.newer!), /preprod has moved on to/);
    // The rollback of issue 14: an older digest production ran before passes.
    const back = await deploy('production', image.rolledBack!);
    expect(step(back, 'Promotion gate')!.outcome).toBe('success');
    expect(step(back, 'Promotion gate')!.log).toMatch(/rollback: digest sha256:[0-9a-f]{64} passed preprod at .* and ran in production/);
  }, 180_000);
});

describe('gaps in the chain', () => {
  test('record refuses a commit/digest pair it cannot prove: a commit with no build tag on the digest, one line, nothing written', async () => {
    // A job with the QA role's powers on develop (develop may deploy there) binds a validated image to
    // a commit that was never built: before, record wrote it ("not checked") and production later took it.
    repo.change('develop', 'www/unbuilt.html', 'unbuilt\n', 'A commit that is never built');
    const unbuilt = repo.head('develop');
    const records = github.state.deployments.length;
    const puts = ecr.calls.filter((c) => c === 'PutImage').length;
    const r = await runGate({ via: 'deploy.yml', environment: 'qa', role: deployRoleArn('qa'), mode: 'record', img: { sha: unbuilt, ref: image.validated!.ref }, with: { environment: 'qa', ...SIGNED } }, 'develop');
    const sha7 = unbuilt.slice(0, 7);
    expectRefused(r, new RegExp(`^Refusing to record ${image.validated!.digest} for commit ${sha7} in qa: the image carries no tag ${sha7} .*so nothing shows it is the build of commit ${sha7}; nothing was written$`));
    expect(github.state.deployments.length).toBe(records);
    expect(ecr.calls.filter((c) => c === 'PutImage').length).toBe(puts);
  });

  test('a content key is accepted only with the commit it was built from: with an unrelated commit (whose chart would be checked out) production-bound preprod refuses', async () => {
    // develop's D built the image (its tag and the content key); main's M reused it by the key
    // (build-push-ecr adds M's tag); U is an unrelated commit on main whose chart an attacker wants.
    const key = `tree-${'5'.repeat(40)}`;
    repo.change('develop', 'www/keyed.html', 'keyed\n', 'Keyed content');
    const d = repo.head('develop');
    repo.change('main', 'www/keyed.html', 'keyed\n', 'Keyed content on main');
    const m = repo.head('main');
    repo.change('main', 'www/unrelated.html', 'unrelated\n', 'Unrelated');
    const u = repo.head('main');
    let digest = '';
    for (const tag of [d.slice(0, 7), key, m.slice(0, 7)]) digest = await pushImage(registry, REPO, tag, 'keyed');
    const ref = `${registry.host}/${REPO}@${digest}`;
    const qa = await runGate({ via: 'deploy.yml', environment: 'qa', role: deployRoleArn('qa'), mode: 'record', img: { sha: d, ref }, with: { environment: 'qa', 'content-key': key, ...SIGNED } }, 'develop');
    expect(qa.conclusion).toBe('success');
    const preprod = () => github.state.deployments.filter((x) => x.environment.toLowerCase() === 'preprod').length;
    const before = preprod();
    const viaKey = { 'content-key': key, 'require-environment': 'qa' };
    const attack = await deploy('preprod', { sha: u, ref }, { with: viaKey });
    expectRefused(attack, new RegExp(`^Promotion of ${REPO}@${digest} to preprod refused: the image carries no tag ${u.slice(0, 7)} .*; content key ${key} is accepted only with the commit it was built from`));
    // The commit the gate judged is the one deploy.yml checks out (both inputs.sha): U's chart never deploys.
    expect(step(attack, 'Promotion gate')!.log).toContain(`(commit ${u}, refs/heads/main)`);
    expect(preprod()).toBe(before);
    // The control: the same key with the commit it was built from passes the gate (the deploy step then runs).
    const ok = await deploy('preprod', { sha: m, ref }, { with: viaKey });
    expect(step(ok, 'Promotion gate')!.outcome).toBe('success');
    expect(step(ok, 'Promotion gate')!.log).toContain(`carries commit ${m.slice(0, 7)}'s tag ${m.slice(0, 7)} and its content key ${key}`);
    expect(step(ok, 'Deploy')!.outcome).toBe('failure');
  }, 120_000);
});

/** The service's own starter workflow on `branch` (redeploy.yml, rollback.yml), with a team's edits. */
const starter = (file: string, branch = 'main') => repo.git('show', `${branch}:.github/workflows/${file}`);
/** The environments' variables deploy-setup sets that the starters rely on (their deploy role and cluster). */
const environmentVars = () => Object.fromEntries(['qa', 'preprod', 'production'].map((e) => [e, { AWS_DEPLOY_ROLE_ARN: deployRoleArn(e), EKS_CLUSTER_NAME: variablesOf(NAME).environments[e]!.EKS_CLUSTER_NAME! }]));
const recordsOf = (environment: string) => github.state.deployments.filter((d) => d.task === `deploy:evidence:${environment}`).length;
/** A new commit on `branch` and its image pushed under the commit's SHA tag (what build.yml leaves). */
async function built(branch: string, name: string, file = `www/${name}.html`, text = `${name}\n`) {
  repo.change(branch, file, text, `Change ${name}`);
  const sha = repo.head(branch);
  const digest = await pushImage(registry, REPO, sha.slice(0, 7), name);
  return { sha, digest, ref: `${registry.host}/${REPO}@${digest}` };
}

describe("the gate's rules and preprod's QA evidence", () => {
  test("the gate's rules come from the default branch: a dispatched commit whose environments file drops QA from the chain is still held to main's chain (preprod needs QA evidence), one line, nothing deployed", async () => {
    const rules = (chain: string) => `${projectEnvironmentsFile()}\npromotion:\n  chain: [${chain}]\n  refs: [refs/heads/main]\n`;
    // The default branch's rules: QA before preprod before production.
    repo.change('main', '.github/environments.yml', rules('qa, preprod, production'), 'QA evidence before preprod');
    try {
      // An insider's commit on develop (built, its SHA tag on its image) whose own file drops QA from the chain.
      const weakened = await built('develop', 'weakened', '.github/environments.yml', rules('preprod, production'));
      const before = recordsOf('preprod');
      // A caller on main passes that commit (deploy.yml checks out its chart): no require-environment.
      const r = await deploy('preprod', weakened);
      expectRefused(r, new RegExp(`^Promotion of ${REPO}@${weakened.digest} to preprod refused: .*no statement signed with qa's key says digest ${weakened.digest} passed qa`));
      expect(recordsOf('preprod')).toBe(before);
    } finally {
      repo.git('checkout', '--quiet', 'main');
      repo.git('rm', '--quiet', '.github/environments.yml');
      repo.git('commit', '--quiet', '-m', 'Default chain again');
    }
  }, 120_000);

  test('redeploy.yml to preprod of an image without QA evidence: refused by the gate in one line, nothing deployed; with QA evidence the gate lets it through', async () => {
    // The team's redeploy.yml, its chart one that does not exist (no cluster here: the deploy step
    // fails at once when the gate lets the digest through) and no release card.
    const text = starter('redeploy.yml')
      .replace(/^(\s*chart: )chart(\s+# EDIT)/m, '$1no-such-chart$2')
      .replace(/^(\s*release-card: ).+?(\s+# EDIT)/m, '$1false$2');
    expect(text).toContain('chart: no-such-chart');
    const redeploy = (img: { sha: string; digest: string }) =>
      run(text, 'main', { EVIDENCE_KMS_KEYS: evidence.variable }, undefined, { file: 'redeploy.yml', inputs: { environment: 'preprod', digest: img.digest, sha: img.sha }, environmentVars: true });
    const untested = await built('develop', 'untested');
    const before = recordsOf('preprod');
    const r = await redeploy(untested);
    expectRefused(r, new RegExp(`^Promotion of ${REPO}@${untested.digest} to preprod refused: .*no statement signed with qa's key says digest ${untested.digest} passed qa`));
    expect(recordsOf('preprod')).toBe(before);
    // The control: the same starter with an image QA validated.
    const tested = await built('develop', 'tested');
    await legit('qa', tested);
    const ok = await redeploy(tested);
    expect(step(ok, 'Promotion gate')!.outcome, step(ok, 'Promotion gate')!.annotations.map((a) => a.message).join('\n')).toBe('success');
    expect(step(ok, 'Deploy')!.outcome).toBe('failure');
  }, 180_000);
});

describe('unsigned fields of a signed record', () => {
  test("rollback.yml after genuine statements replayed under forged payloads (image host evil.example.com, actor mallory, another run): the plan, status and last-validated take the signed fields; the rollback deploys the signed image, nothing else", async () => {
    // X then Y passed preprod and ran in production: Y runs, X is the rollback target.
    const X = await built('main', 'rollbackTarget');
    const Y = await built('main', 'rollbackRunning');
    for (const img of [X, Y]) {
      await legit('preprod', img);
      await legit('production', img);
    }
    // Each genuine production statement replayed in a new deployment whose unsigned payload names
    // an image of the same digest on another host, another actor, run and workflow.
    const post = asWriter();
    for (const img of [X, Y]) {
      const genuine = github.state.deployments.filter((d) => d.task === 'deploy:evidence:production' && (d.payload as { digest?: string; signed?: unknown }).digest === img.digest && (d.payload as { signed?: unknown }).signed).at(-1)!;
      const forged = { ...(genuine.payload as object), image: `evil.example.com/${REPO}@${img.digest}`, actor: 'mallory', run_id: '31337', run_url: 'https://evil.example.com/run', workflow: 'evil' };
      const d = await post('/deployments', { ref: img.sha, task: 'deploy:evidence:production', environment: 'production', payload: forged, transient_environment: true, required_contexts: [] });
      await post(`/deployments/${d.id}/statuses`, { state: 'success', auto_inactive: false });
    }
    const before = productionRecords().length;
    // The team's rollback.yml, its chart one that does not exist (no cluster here) and no release card.
    const text = starter('rollback.yml')
      .replace(/^(\s*chart: )chart(\s+# EDIT)/m, '$1no-such-chart$2')
      .replace(/^(\s*release-card: ).+?(\s+# EDIT)/m, '$1false$2');
    const r = await run(text, 'main', { EVIDENCE_KMS_KEYS: evidence.variable, AWS_EVIDENCE_ROLE_ARN: evidenceRoleArn() }, undefined, { file: 'rollback.yml', inputs: { environment: 'production' }, environmentVars: true });
    const plan = r.jobs.find((j) => j.path.join('/') === 'plan')!;
    const why = JSON.stringify(r.jobs.map((j) => [j.path.join('/'), j.error, j.steps.map((s) => [s.name, s.outcome, s.annotations.map((a) => a.message)])]));
    expect(plan.result, why).toBe('success');
    expect(plan.outputs).toMatchObject({ 'image-ref': X.ref, sha: X.sha, running: Y.ref, 'running-sha': Y.sha });
    const target = plan.steps.find((s) => s.name === 'Previous validated release')!;
    expect(target.outputs).toMatchObject({ digest: X.digest, 'image-ref': X.ref, 'validated-by': 'dev' });
    expect(target.outputs['run-url']).toMatch(/\/actions\/runs\/\d+$/);
    // Nothing the plan outputs, writes to its summary or gives the rollback job comes from the forged payloads.
    const shown = JSON.stringify([plan.outputs, plan.steps.map((s) => [s.outputs, s.summary])]);
    expect(shown).not.toMatch(/evil|mallory|31337/);
    // The rollback: deploy.yml re-verifies the signed target and deploys it (the deploy step fails at once: no such chart).
    expect(step(r, 'Promotion gate')!.outcome, why).toBe('success');
    expect(step(r, 'Promotion gate')!.log).toContain(X.digest);
    expect(step(r, 'Deploy')!.outcome).toBe('failure');
    expect(productionRecords().length).toBe(before);
  }, 240_000);
});

describe('flooding', () => {
  test('10,000 junk deployments (and a replayed older statement) do not let a digest preprod moved on from through; the held one still passes', async () => {
    // Last in this file: every later read would page through the junk too.
    const older = image.none!;
    const held = image.qaSigned!;
    await legit('preprod', older);
    await legit('preprod', held);
    const original = github.state.deployments.filter((d) => (d.payload as { digest?: string }).digest === older.digest && (d.payload as { signed?: unknown }).signed).at(-1)!;
    const post = asWriter();
    const t0 = Date.now();
    await forgeDeployment(older.sha, original.payload as object, post);
    for (let i = 0; i < 10_000; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) => post('/deployments', { ref: (i + j) % 2 ? older.sha : held.sha, task: 'deploy:evidence:preprod', environment: 'preprod', payload: { digest: older.digest, junk: i + j }, transient_environment: true, required_contexts: [] })),
      );
    }
    console.log(`flood: 10,000 junk deployments created in ${Date.now() - t0} ms`);
    const before = github.state.requests.length;
    const t1 = Date.now();
    const r = await deploy('production', older);
    expectRefused(r, /preprod has moved on to sha256:[0-9a-f]{64}/);
    const lists = github.state.requests.slice(before).filter((q) => q.method === 'GET' && q.path.endsWith('/deployments')).length;
    // The verifier's cost, printed (figures, not a timed assertion): the whole deploy.yml run and the gate step's own time.
    const gate = step(r, 'Promotion gate')!;
    console.log(`flood: production's gate over 10,000 junk deployments: ${lists} list requests, ${github.state.requests.length - before} GitHub requests in the run; deploy.yml run ${Date.now() - t1} ms, gate step ${gate.durationMs} ms`);
    expect(step(r, 'Promotion gate')!.log).toMatch(/Read 100\d\d preprod evidence deployments \(\d+ statements verified; ignored: 100\d\d unsigned/);
    // The head read (10,000+ deployments newer than the held statement) and the commit's read (its half of the junk), 100 per page.
    expect(lists).toBeLessThanOrEqual(101 + 51 + 2 * 2);
    const ok = await deploy('production', held);
    expect(step(ok, 'Promotion gate')!.outcome).toBe('success');
  }, 300_000);
});

describe('build provenance (PROVENANCE_KMS_KEY): an image pushed under a commit\'s SHA tag is not its build without a statement signed with the provenance key', () => {
  const provenanceKey = () => variablesOf(NAME).repository.PROVENANCE_KMS_KEY!;
  const withProvenance = () => ({ EVIDENCE_KMS_KEYS: evidence.variable, PROVENANCE_KMS_KEY: provenanceKey() });
  /** A statement as build-push-ecr writes it, signed with `key`, pushed beside `digest` (the registry has no referrers API: the sha256-<hex> tag). */
  const provenance = (img: { sha: string; digest: string }, key: KeyObject, digest = img.digest) =>
    pushBuildProvenance(registry, { repository: REPO, digest: img.digest, commit: img.sha, githubRepository: NAME, keyArn: provenanceKey(), key, storedBeside: digest });

  beforeAll(async () => {
    const genuine = Object.values(evidence.keys).find((k) => k.arn === provenanceKey());
    expect(genuine, `the KMS stand-in holds the generated provenance key ${provenanceKey()}`).toBeDefined();
    await provenance(image.built!, genuine!.privateKey);
    // Signed by a key of the attacker's own, not the provenance key.
    await provenance(image.otherKey!, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    // A genuine statement (for image.built's digest) copied beside another image.
    await provenance(image.built!, genuine!.privateKey, image.otherDigest!.digest);
  }, 120_000);

  test('the positive control: the provenance verifies, production\'s gate lets the digest through (the deploy step then runs)', async () => {
    await legit('preprod', image.built!);
    const r = await deploy('production', image.built!, { vars: withProvenance() });
    expect(step(r, 'Promotion gate')!.outcome, step(r, 'Promotion gate')!.annotations.map((a) => a.message).join('\n')).toBe('success');
    expect(step(r, 'Promotion gate')!.annotations.map((a) => a.message).join('\n')).not.toMatch(/did not check the build provenance/);
    expect(step(r, 'Deploy')!.outcome).toBe('failure');
  });

  const cases = [
    ['planted', 'no provenance', /has no build provenance \(neither the referrers API nor tag sha256-[0-9a-f]{64} lists one\): nothing shows build\.yml built it \(provenance-kms-key arn:aws:kms:[^)]+\)$/],
    ['otherKey', 'provenance signed with another key', /has no valid build provenance: sha256:[0-9a-f]{12}: its signature does not verify with the provenance key \(provenance-kms-key arn:aws:kms:[^)]+\)$/],
    ['otherDigest', "another digest's genuine provenance", /has no valid build provenance: sha256:[0-9a-f]{12}: it is signed for sha256:[0-9a-f]{64} \(provenance-kms-key arn:aws:kms:[^)]+\)$/],
  ] as const;
  test.each(cases)('%s (%s): production is refused by verify in one line, nothing deployed', async (what, _how, why) => {
    // Genuine preprod evidence (the digest preprod holds): the provenance is all that is missing.
    await legit('preprod', image[what]!);
    const before = productionRecords().length;
    const r = await deploy('production', image[what]!, { vars: withProvenance() });
    expectRefused(r, new RegExp(`^Promotion of ${REPO}@${image[what]!.digest} to production refused: ${image[what]!.digest} ${why.source}`));
    expect(productionRecords().length).toBe(before);
  });

  test('planted: record refuses to bind it to the commit in one line, nothing written', async () => {
    const before = github.state.deployments.length;
    const r = await runGate(
      { via: 'deploy.yml', environment: 'preprod', role: deployRoleArn('preprod'), mode: 'record', img: image.planted!, with: { environment: 'preprod', ...SIGNED, 'provenance-kms-key': provenanceKey() } },
      'main',
    );
    expect(r.conclusion).toBe('failure');
    const lines = steps(r).find((s) => s.outcome === 'failure')!.annotations.filter((a) => a.level === 'error').map((a) => a.message);
    expect(lines.filter((l) => new RegExp(`^Refusing to record ${image.planted!.digest} for commit ${image.planted!.sha.slice(0, 7)} in preprod: ${image.planted!.digest} has no build provenance .*nothing was written$`).test(l)), lines.join('\n')).toHaveLength(1);
    expect(github.state.deployments.length).toBe(before);
  });
});
