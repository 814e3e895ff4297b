/**
 * Mutation tests of the generated AWS set-up (workflows/aws/, loaded as CloudFormation would
 * create it by test/standins/cloudformation), decided by the IAM simulator as the stand-ins
 * decide every request: the generated build role admits exactly what GitHub issues to the
 * sample service's build.yml job, and each mutation a hand-written policy would carry is refused.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { recordingIO } from '@deploy-actions/action-kit';
import { ecrApi } from '@deploy-actions/aws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRepository } from '../../actions/build-push-ecr/src/repository';
import type { Inputs } from '../../actions/build-push-ecr/src/inputs';
import { repoRoot } from '../harness/runner';
import { startRegistry, type Registry } from '../harness/registry';
import { loadStack, type LoadedStack } from '../standins/cloudformation/index';
import { startEcrStandin, type EcrStandin } from '../standins/ecr/index';
import { IamStore, type PolicyDocument, type Statement } from '../standins/iam/index';

const dir = resolve(repoRoot, 'workflows/aws');
const read = (file: string) => JSON.parse(readFileSync(resolve(dir, file), 'utf8'));
const index = read('stacks.json') as { stacks: Array<{ label: string; stackName: string; account: string; region: string; template: string; parameters: string }> };
const stacks: LoadedStack[] = index.stacks.map((s) => loadStack({ stackName: s.stackName, account: s.account, region: s.region, template: read(s.template), parameters: read(s.parameters) }));
const build = stacks.find((s) => Object.values(s.resources).some((r) => r.type === 'AWS::IAM::Role' && /-build$/.test(r.ref)))!;
const buildRole = Object.values(build.resources).find((r) => r.type === 'AWS::IAM::Role' && /-build$/.test(r.ref))!;
const trust = buildRole.properties.AssumeRolePolicyDocument as PolicyDocument;
const permissions = (buildRole.properties.Policies as Array<{ PolicyDocument: PolicyDocument }>).map((p) => p.PolicyDocument);
const provider = `arn:aws:iam::${build.account}:oidc-provider/token.actions.githubusercontent.com`;
const K = 'token.actions.githubusercontent.com';

/** The claims GitHub puts in the token of the sample service's build job (a repository created after 2026-07-15). */
const buildJob = {
  [`${K}:aud`]: 'sts.amazonaws.com',
  [`${K}:sub`]: 'repo:acme@190000001/sample-service@1041000001:ref:refs/heads/main',
  [`${K}:repository_id`]: '1041000001',
  [`${K}:repository_owner_id`]: '190000001',
  [`${K}:ref`]: 'refs/heads/main',
  [`${K}:job_workflow_ref`]: 'org/deploy-actions/.github/workflows/build.yml@v1',
  [`${K}:workflow`]: 'deploy',
};

async function mayAssume(policy: PolicyDocument, claims: Record<string, string>): Promise<boolean> {
  const iam = new IamStore();
  const role = iam.addRole({ account: build.account, name: buildRole.ref, trustPolicy: policy });
  return (await iam.mayAssume(role.arn, { arn: provider, federated: provider }, 'sts:AssumeRoleWithWebIdentity', claims)).allowed;
}

const mapConditions = (policy: PolicyDocument, f: (key: string, value: unknown) => unknown): PolicyDocument => ({
  ...policy,
  Statement: ([] as Statement[]).concat(policy.Statement).map((s) => ({
    ...s,
    Condition: Object.fromEntries(Object.entries(s.Condition ?? {}).map(([op, block]) => [op, Object.fromEntries(Object.entries(block).map(([k, v]) => [k, f(k, v)]))])),
  })) as Statement[],
});

describe('the generated build role trust', () => {
  test("admits the token GitHub issues to the sample service's build.yml job", async () => {
    expect(await mayAssume(trust, buildJob)).toBe(true);
  });

  test('mutation: the old name-only sub (repo:ORG/REPO:...) refuses a repository created after 2026-07-15', async () => {
    const old = mapConditions(trust, (k, v) => (k === `${K}:sub` ? ([] as string[]).concat(v as string[]).map((s) => s.replace(/@\d+/g, '')) : v));
    expect(JSON.stringify(old)).toContain('repo:acme/sample-service:ref:refs/heads/main');
    expect(await mayAssume(old, buildJob)).toBe(false);
  });

  test.each([
    ['a workflow of the service repository itself', 'acme/sample-service/.github/workflows/push-anything.yml@refs/heads/develop'],
    ['another reusable workflow of deploy-actions', 'org/deploy-actions/.github/workflows/deploy.yml@v1'],
    ['a fork of deploy-actions', 'evil/deploy-actions/.github/workflows/build.yml@v1'],
  ])('a workflow other than build.yml cannot assume the build role: %s', async (_name, ref) => {
    expect(await mayAssume(trust, { ...buildJob, [`${K}:job_workflow_ref`]: ref })).toBe(false);
  });

  test.each([
    ['another repository with the same name after a rename (other ids)', { [`${K}:sub`]: 'repo:acme@190000001/sample-service@1041009999:ref:refs/heads/main', [`${K}:repository_id`]: '1041009999' }],
    ['a feature branch', { [`${K}:sub`]: 'repo:acme@190000001/sample-service@1041000001:ref:refs/heads/feature', [`${K}:ref`]: 'refs/heads/feature' }],
    ['a pull request', { [`${K}:sub`]: 'repo:acme@190000001/sample-service@1041000001:pull_request', [`${K}:ref`]: 'refs/pull/7/merge' }],
    ['another audience', { [`${K}:aud`]: 'https://github.com/acme' }],
  ])('refuses %s', async (_name, override) => {
    expect(await mayAssume(trust, { ...buildJob, ...override })).toBe(false);
  });
});

describe("the generated build role's permissions, enforced by the ECR stand-in", () => {
  let registry: Registry;
  let ecr: EcrStandin;
  const iam = new IamStore();
  const role = iam.addRole({ account: build.account, name: buildRole.ref, policies: permissions });
  const repository = 'acme/sample-service';
  const inputs = { repository, region: build.region, createRepository: true, tagMutability: 'IMMUTABLE', tagMutabilityExclusionFilters: [], scanOnPush: true, untaggedExpiryDays: 0 } as unknown as Inputs;
  const create = () => {
    const creds = iam.issueCredentials(role.arn, 'build-4242');
    // The action's own ECR client, with the environment configure-aws-credentials leaves.
    const client = ecrApi(build.region, {
      env: { AWS_ENDPOINT_URL_ECR: ecr.url, AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_SESSION_TOKEN: creds.sessionToken },
    });
    return createRepository(inputs, { ecr: client, io: recordingIO() } as never, { sleep: async () => {} } as never);
  };
  beforeAll(async () => {
    registry = await startRegistry();
    ecr = await startEcrStandin({ registry, accountId: build.account, region: build.region, iam });
  });
  afterAll(async () => {
    await ecr?.stop();
    await registry?.stop();
  });

  test('mutation: without ecr:TagResource the first build fails with one line naming it', async () => {
    const withoutTag = permissions.map((p) => ({
      ...p,
      Statement: ([] as Statement[]).concat(p.Statement).map((s) => ({ ...s, Action: ([] as string[]).concat(s.Action ?? []).filter((a) => a !== 'ecr:TagResource') })),
    }));
    expect(JSON.stringify(permissions)).toContain('ecr:TagResource');
    iam.setPolicies(role.arn, withoutTag);
    const err = (await create().catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).not.toContain('\n');
    expect(err.message).toMatch(/is not authorized to perform: ecr:TagResource on resource: arn:aws:ecr:eu-west-1:\d{12}:repository\/acme\/sample-service/);
    expect(ecr.repositories.has(repository)).toBe(false);
  });

  test('the generated policy as it is creates the repository', async () => {
    iam.setPolicies(role.arn, permissions);
    const created = await create();
    expect(created.repositoryArn).toBe(`arn:aws:ecr:eu-west-1:${build.account}:repository/${repository}`);
  });
});
