/**
 * deploy-setup end to end: real Octokit against the GitHub stand-in (GITHUB_API_URL) for the
 * repository ids, OIDC subject templates, environments and variables; the stack outputs come
 * from a stand-in reader (CloudFormation itself is not emulated here).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { logText } from '../../packages/action-kit/src/log';
import { setupMain } from '../../packages/environments/src/setup/cli';
import type { ReadOutputs } from '../../packages/environments/src/setup/stack-outputs';
import { repoRoot } from '../harness/runner';
import { startGithubStandin, type GithubStandin } from '../standins/github';

const ADMIN = 'ghp_setup_admin_0123456789';
const NO_VARIABLES = 'ghp_setup_envs_only_0123456789';
const EXAMPLE = join(repoRoot, 'workflows/environments.yml');
const KEYS: Record<string, string> = {
  SampleServiceQaEvidenceKeyArn: 'arn:aws:kms:eu-west-1:222222222222:key/11111111-1111-4111-8111-111111111111',
  SampleServicePreprodEvidenceKeyArn: 'arn:aws:kms:eu-west-1:222222222222:key/22222222-2222-4222-8222-222222222222',
  SampleServiceProductionEvidenceKeyArn: 'arn:aws:kms:eu-west-1:333333333333:key/33333333-3333-4333-8333-333333333333',
  SampleServiceProvenanceKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/44444444-4444-4444-8444-444444444444',
};

let gh: GithubStandin;
let dir: string;
let deployed = true;
const outputs: ReadOutputs = async (stack) => (deployed ? Object.fromEntries(Object.entries(KEYS).filter(([, v]) => v.includes(`:${stack.account}:`))) : undefined);

async function run(args: string[], token = ADMIN): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await setupMain(
    args,
    { GITHUB_TOKEN: token, GITHUB_API_URL: gh.url },
    { out: (l) => logText(l, (t) => void (out += t)), err: (l) => logText(l, (t) => void (err += t)) },
    { outputs: () => outputs },
  );
  return { code, out, err };
}

const variable = (name: string, environment?: string) => gh.state.variables.find((v) => v.name === name && v.environment === environment)?.value;

beforeAll(async () => {
  gh = await startGithubStandin({
    tokens: {
      [ADMIN]: { permissions: { administration: 'write', members: 'read', actions: 'read', variables: 'write', environments: 'write' } },
      [NO_VARIABLES]: { permissions: { administration: 'write', members: 'read', actions: 'read' } },
    },
    repositories: ['acme/sample-service', 'acme/old-service', 'acme/custom-service', 'acme/org-template'],
    repositoryInfo: {
      'acme/custom-service': { id: 5550001, ownerId: 190000001, createdAt: '2026-10-01T00:00:00Z', subject: { use_default: false, include_claim_keys: ['repo', 'context', 'job_workflow_ref'] } },
      'acme/org-template': { id: 5550002, ownerId: 190000001, createdAt: '2025-01-01T00:00:00Z', subject: { use_default: false } },
    },
    orgSubjectTemplates: { acme: ['repository_owner_id', 'repository_id', 'context'] },
    teams: [
      { org: 'acme', slug: 'platform', id: 501 },
      { org: 'acme', slug: 'release-managers', id: 502 },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'da-setup-'));
});
afterAll(() => gh.stop());
beforeEach(() => {
  deployed = true;
  gh.state.environments.length = 0;
  gh.state.branchPolicies.length = 0;
  gh.state.variables.length = 0;
});

describe('generate reads what the repository tokens will carry', () => {
  test('the sample service (created after 2026-07-15): the same templates as the committed example', async () => {
    const out = join(dir, 'sample');
    const r = await run(['generate', '--file', EXAMPLE, '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('acme/sample-service: repository id 1041000001, owner id 190000001, OIDC subject immutable');
    for (const f of ['build.template.json', 'qa-preprod.template.json', 'production.template.json', 'production.parameters.json']) {
      expect(readFileSync(join(out, f), 'utf8')).toBe(readFileSync(join(repoRoot, 'workflows/aws', f), 'utf8'));
    }
    expect(r.out).toContain('aws cloudformation deploy --region eu-west-1 --stack-name deploy-actions-production');
    // --check against what was just written: in sync; against another service's: drift
    expect((await run(['generate', '--file', EXAMPLE, '--out', out, '--check'])).code).toBe(0);
  });

  test.each([
    ['acme/old-service', 'repo:acme/old-service:environment:production'],
    ['acme/custom-service', 'repo:acme@190000001/custom-service@5550001:environment:production:job_workflow_ref:org/deploy-actions/.github/workflows/deploy.yml@*'],
    ['acme/org-template', 'repository_owner_id:190000001:repository_id:5550002:environment:production'],
  ])('%s', async (repository, sub) => {
    const file = join(dir, `${repository.replace('/', '-')}.yml`);
    writeFileSync(file, readFileSync(EXAMPLE, 'utf8').replace('repository: acme/sample-service', `repository: ${repository}`));
    const out = join(dir, repository.replace('/', '-'));
    const r = await run(['generate', '--file', file, '--out', out]);
    expect(r.code, r.err).toBe(0);
    const t = JSON.parse(readFileSync(join(out, 'production.template.json'), 'utf8'));
    const cond = t.Resources.SampleServiceProductionDeployRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition;
    const where = sub.includes('*') ? cond.StringLike : cond.StringEquals;
    expect(where['token.actions.githubusercontent.com:sub']).toBe(sub);
  });

  test('--offline takes the ids as arguments; without them it names the service', async () => {
    const r = await run(['generate', '--file', EXAMPLE, '--out', join(dir, 'off'), '--offline']);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe('error: --offline: give the ids of acme/sample-service with --repo-ids acme/sample-service=OWNER_ID/REPO_ID (services.sample-service.repository)');
    const ok = await run(['generate', '--file', EXAMPLE, '--out', join(dir, 'off'), '--offline', '--repo-ids', 'acme/sample-service=190000001/1041000001', '--subject', 'acme/sample-service=legacy']);
    expect(ok.code, ok.err).toBe(0);
    expect(readFileSync(join(dir, 'off', 'build.template.json'), 'utf8')).toContain('"repo:acme/sample-service:ref:refs/heads/main"');
  });

  test('a bad file fails before any request, naming the place', async () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(file, readFileSync(EXAMPLE, 'utf8').replace("account: '333333333333'", 'account: 333333333333'));
    gh.state.requests.length = 0;
    const r = await run(['generate', '--file', file, '--out', join(dir, 'bad')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`environments.production.account must be a 12-digit AWS account id in quotes`);
    expect(gh.state.requests).toEqual([]);
  });
});

describe('github: environments and variables', () => {
  test('applies environments and every variable; --check is then clean; a changed variable is drift', async () => {
    const r = await run(['github', '--file', EXAMPLE]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(gh.state.environments.map((e) => e.name).sort()).toEqual(['preprod', 'production', 'qa']);
    expect(variable('AWS_BUILD_ROLE_ARN')).toBe('arn:aws:iam::111111111111:role/gha-sample-service-build');
    expect(variable('AWS_EVIDENCE_ROLE_ARN')).toBe('arn:aws:iam::111111111111:role/gha-sample-service-evidence');
    expect(variable('ECR_PULL_ACCOUNTS')).toBe('222222222222,333333333333');
    expect(variable('ECR_DEPLOY_ROLES')).toBe(
      'arn:aws:iam::222222222222:role/gha-sample-service-qa,arn:aws:iam::222222222222:role/gha-sample-service-preprod,arn:aws:iam::333333333333:role/gha-sample-service-production',
    );
    expect(variable('PROVENANCE_KMS_KEY')).toBe(KEYS.SampleServiceProvenanceKeyArn);
    expect(variable('EVIDENCE_KMS_KEYS')).toBe(`qa=${KEYS.SampleServiceQaEvidenceKeyArn},preprod=${KEYS.SampleServicePreprodEvidenceKeyArn},production=${KEYS.SampleServiceProductionEvidenceKeyArn}`);
    expect(variable('AWS_DEPLOY_ROLE_ARN', 'production')).toBe('arn:aws:iam::333333333333:role/gha-sample-service-production');
    expect(variable('EKS_CLUSTER_NAME', 'preprod')).toBe('nonprod');
    expect(variable('K8S_NAMESPACE', 'qa')).toBe('sample-qa');
    expect(variable('SMOKE_URL', 'production')).toBe('https://sample-service.example.com/healthz');
    expect(r.out).toContain('What the plan cannot enforce: required reviewers');

    const clean = await run(['github', '--file', EXAMPLE, '--check']);
    expect(clean.out).toContain('GitHub matches');
    expect(clean.code, clean.out + clean.err).toBe(0);

    gh.state.variables.find((v) => v.name === 'AWS_DEPLOY_ROLE_ARN' && v.environment === 'production')!.value = 'arn:aws:iam::333333333333:role/someone-else';
    const writesBefore = gh.state.requests.filter((q) => q.method !== 'GET').length;
    const drift = await run(['github', '--file', EXAMPLE, '--check']);
    expect(drift.code).toBe(2);
    expect(drift.out).toContain('differs acme/sample-service environment production AWS_DEPLOY_ROLE_ARN: "arn:aws:iam::333333333333:role/someone-else" -> "arn:aws:iam::333333333333:role/gha-sample-service-production"');
    expect(gh.state.requests.filter((q) => q.method !== 'GET').length).toBe(writesBefore);
  });

  test('stacks not deployed yet: EVIDENCE_KMS_KEYS is reported, never guessed', async () => {
    deployed = false;
    const r = await run(['github', '--file', EXAMPLE]);
    expect(r.code).toBe(0);
    expect(variable('EVIDENCE_KMS_KEYS')).toBeUndefined();
    expect(r.out).toContain('not set: acme/sample-service EVIDENCE_KMS_KEYS (deploy the stacks first');
    expect((await run(['github', '--file', EXAMPLE, '--check'])).code).toBe(2);
  });

  test('a value from the file that holds a workflow command reaches the log neutralised', async () => {
    const file = join(dir, 'inject.yml');
    writeFileSync(file, readFileSync(EXAMPLE, 'utf8').replace('SMOKE_URL: https://sample-service.example.com/healthz', 'SMOKE_URL: "https://x\\n::error::pwned"'));
    const r = await run(['github', '--file', file]);
    expect(r.code, r.err).toBe(0);
    const line = r.out.split('\n').findIndex((l) => l.startsWith('::error::pwned'));
    expect(r.out).toContain('::stop-commands::');
    expect(line === -1 || r.out.split('\n').slice(0, line).some((l) => l.startsWith('::stop-commands::'))).toBe(true);
  });

  test('a token without variable permissions: one line naming what it needs', async () => {
    const r = await run(['github', '--file', EXAMPLE], NO_VARIABLES);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain("the token needs 'Variables: write'");
    expect(gh.state.environments).toEqual([]);
  });
});
