import { describe, expect, test } from 'vitest';
import { IamStore, evaluate, wildcardMatch, type PolicyDocument, type Principal } from './index';

const BUILD = '111111111111';
const QA = '222222222222';
const PROD = '333333333333';
const repo = `arn:aws:ecr:eu-west-1:${BUILD}:repository/team/api`;
const session = (account: string, role: string): Principal => ({
  arn: `arn:aws:sts::${account}:assumed-role/${role}/gha`,
  account,
  roleArn: `arn:aws:iam::${account}:role/${role}`,
});
const allow = (Action: string | string[], Resource: string | string[] = '*'): PolicyDocument => ({ Statement: [{ Effect: 'Allow', Action, Resource }] });
const pullPolicy = (principals: string[]): PolicyDocument => ({
  Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: { AWS: principals }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }],
});

describe('wildcards', () => {
  test.each([
    ['ecr:*', 'ecr:BatchGetImage', true, true],
    ['ecr:Batch*', 'ecr:BatchGetImage', true, true],
    ['ecr:batchgetimage', 'ecr:BatchGetImage', true, true],
    ['ecr:batchgetimage', 'ecr:BatchGetImage', false, false],
    ['ecr:Get?', 'ecr:GetX', false, true],
    ['ecr:Get?', 'ecr:Get', false, false],
    ['release-*', 'release-1.2', false, true],
    ['a.b', 'axb', false, false],
  ])('%s ~ %s (ignore case %s) -> %s', (pattern, value, ic, expected) => {
    expect(wildcardMatch(pattern, value, ic)).toBe(expected);
  });
});

describe('evaluate', () => {
  const build = session(BUILD, 'build');
  const prodNode = session(PROD, 'eks-node');
  test.each<[string, Principal, PolicyDocument[], PolicyDocument | undefined, boolean, string?]>([
    ['same account, identity allows', build, [allow('ecr:*')], undefined, true],
    ['same account, nothing allows', build, [allow('s3:*')], undefined, false, 'because no identity-based policy allows the ecr:BatchGetImage action'],
    ['same account, resource policy names the role', build, [], pullPolicy([`arn:aws:iam::${BUILD}:role/build`]), true],
    ['same account, resource policy names only the account: IAM decides', build, [], pullPolicy([BUILD]), false],
    ['cross account, both allow (account root)', prodNode, [allow('ecr:BatchGetImage')], pullPolicy([`arn:aws:iam::${PROD}:root`]), true],
    ['cross account, both allow (account id)', prodNode, [allow('ecr:*')], pullPolicy([PROD]), true],
    ['cross account, repository policy lacks the account', prodNode, [allow('ecr:*')], pullPolicy([QA]), false, 'because no resource-based policy allows'],
    ['cross account, own IAM does not allow', prodNode, [], pullPolicy([PROD]), false, 'because no identity-based policy allows'],
    ['cross account, resource names another role of the account', prodNode, [allow('ecr:*')], pullPolicy([`arn:aws:iam::${PROD}:role/other`]), false],
    ['cross account, principal *', prodNode, [allow('ecr:*')], pullPolicy(['*']), true],
  ])('%s', async (_name, principal, identityPolicies, resourcePolicy, allowed, message) => {
    const d = await evaluate({ principal, action: 'ecr:BatchGetImage', resource: repo, identityPolicies, resourcePolicy, resourceAccount: BUILD });
    expect(d.allowed).toBe(allowed);
    if (message && !d.allowed) expect(d.message).toContain(message);
    if (!d.allowed) expect(d.message).toMatch(new RegExp(`^User: ${principal.arn} is not authorized to perform: ecr:BatchGetImage on resource: ${repo} `));
  });

  test('an explicit deny wins over every allow', async () => {
    const deny: PolicyDocument = { Statement: [{ Effect: 'Deny', Principal: { AWS: PROD }, Action: 'ecr:*' }, ...pullPolicy([PROD]).Statement as never[]] };
    const d = await evaluate({ principal: prodNode, action: 'ecr:BatchGetImage', resource: repo, identityPolicies: [allow('*')], resourcePolicy: deny, resourceAccount: BUILD });
    expect(d).toMatchObject({ allowed: false, reason: 'explicit-deny-resource' });
  });

  test('NotAction and Resource patterns', async () => {
    const policy: PolicyDocument = { Statement: [{ Effect: 'Allow', NotAction: 'ecr:Delete*', Resource: `arn:aws:ecr:*:${BUILD}:repository/team/*` }] };
    const ask = async (action: string, resource: string) => (await evaluate({ principal: build, action, resource, identityPolicies: [policy] })).allowed;
    expect(await ask('ecr:PutImage', repo)).toBe(true);
    expect(await ask('ecr:DeleteRepository', repo)).toBe(false);
    expect(await ask('ecr:PutImage', `arn:aws:ecr:eu-west-1:${BUILD}:repository/other/api`)).toBe(false);
  });

  test('a KMS key policy must name the caller, or its account and then IAM must allow', async () => {
    const key = `arn:aws:kms:eu-west-1:${BUILD}:key/1`;
    const ask = async (p: Principal, identity: PolicyDocument[], keyPolicy: PolicyDocument) =>
      (await evaluate({ principal: p, action: 'kms:Sign', resource: key, identityPolicies: identity, resourcePolicy: keyPolicy, resourceAccount: BUILD })).allowed;
    const names = (who: string): PolicyDocument => ({ Statement: [{ Effect: 'Allow', Principal: { AWS: who }, Action: 'kms:*', Resource: '*' }] });
    expect(await ask(build, [], names(build.roleArn!))).toBe(true);
    expect(await ask(build, [allow('kms:*')], names(`arn:aws:iam::${QA}:role/x`))).toBe(false);
    expect(await ask(build, [], names(`arn:aws:iam::${BUILD}:root`))).toBe(false);
    expect(await ask(build, [allow('kms:Sign')], names(`arn:aws:iam::${BUILD}:root`))).toBe(true);
  });
});

describe('IamStore', () => {
  test('issued credentials authenticate with their session token until they expire, and act as their role', async () => {
    const iam = new IamStore();
    const role = iam.addRole({ account: PROD, name: 'deploy', policies: [allow('eks:DescribeCluster')] });
    const now = new Date('2026-12-01T20:00:00Z');
    const creds = iam.issueCredentials(role.arn, 'gha-1', { durationSeconds: 900, now });
    expect(creds.arn).toBe(`arn:aws:sts::${PROD}:assumed-role/deploy/gha-1`);
    expect(creds.accessKeyId).toMatch(/^ASIA[0-9A-F]{16}$/);
    expect(iam.authenticate(creds.accessKeyId, creds.sessionToken, now)).toMatchObject({ ok: true, identity: { account: PROD, roleArn: role.arn } });
    expect(iam.authenticate(creds.accessKeyId, undefined, now)).toMatchObject({ ok: false, code: 'InvalidClientTokenId' });
    expect(iam.authenticate(creds.accessKeyId, creds.sessionToken, new Date(now.getTime() + 901_000))).toMatchObject({ ok: false, code: 'ExpiredToken' });
    expect(iam.authenticate('AKIDUNKNOWN', undefined, now)).toMatchObject({ ok: false, code: 'InvalidClientTokenId' });
    const cluster = `arn:aws:eks:eu-west-1:${PROD}:cluster/prod`;
    expect((await iam.authorize(creds, 'eks:DescribeCluster', cluster)).allowed).toBe(true);
    iam.setPolicies(role.arn, []);
    expect((await iam.authorize(creds, 'eks:DescribeCluster', cluster)).allowed).toBe(false);
  });

  test('fixed identities get their role (everything allowed unless told otherwise)', async () => {
    const iam = IamStore.of([{ accessKeyId: 'AKID1', secretAccessKey: 's', arn: `arn:aws:sts::${BUILD}:assumed-role/build/gha` }]);
    expect(iam.secretFor('AKID1')).toBe('s');
    expect(iam.role(`arn:aws:iam::${BUILD}:role/build`)).toBeDefined();
    expect((await iam.authorize(iam.identities.get('AKID1')!, 'ecr:PutImage', repo)).allowed).toBe(true);
  });

  test('mayAssume: a GitHub OIDC trust policy with sub and aud conditions', async () => {
    const iam = new IamStore();
    const provider = `arn:aws:iam::${PROD}:oidc-provider/token.actions.githubusercontent.com`;
    const role = iam.addRole({
      account: PROD,
      name: 'deploy',
      trustPolicy: {
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: provider },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
              StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:acme/api:environment:production' },
            },
          },
        ],
      },
    });
    const claims = (sub: string) => ({ 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': sub });
    const p = { arn: provider, federated: provider };
    const ask = async (sub: string, who = p, context: Record<string, string> = claims(sub)) => (await iam.mayAssume(role.arn, who, 'sts:AssumeRoleWithWebIdentity', context)).allowed;
    expect(await ask('repo:acme/api:environment:production')).toBe(true);
    expect(await ask('repo:acme/api:ref:refs/heads/main')).toBe(false);
    // Another provider's token: its own claim keys, and the statement names another principal.
    const other = `arn:aws:iam::${PROD}:oidc-provider/other.example`;
    expect(await ask('', { arn: other, federated: other }, { 'other.example:aud': 'sts.amazonaws.com', 'other.example:sub': 'repo:acme/api:environment:production' })).toBe(false);
    // Keys of a provider other than the caller's are a stand-in bug, never dropped.
    await expect(ask('repo:acme/api:environment:production', { arn: other, federated: other })).rejects.toThrow(/do not apply to sts:AssumeRoleWithWebIdentity/);
  });
});
