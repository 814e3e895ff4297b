/**
 * Role trust policies for AssumeRoleWithWebIdentity, decided by the shared IAM store
 * (test/standins/iam: @cloud-copilot/iam-simulate) as STS asks it: the Federated principal of
 * the OIDC provider and the token's claims as condition keys, against the documented operator
 * semantics. The `aud` and `sub` keys are not in the simulator's per-action key list: these
 * tests are what shows they are evaluated, not dropped.
 */
import { describe, expect, test } from 'vitest';
import { IamStore, type PolicyDocument } from '../iam/index';

interface TrustRequest {
  action: string;
  provider: string;
  context: Record<string, string | string[]>;
}

async function evaluateTrustPolicy(policy: object, req: TrustRequest): Promise<'allow' | 'explicit-deny' | 'implicit-deny'> {
  const iam = new IamStore();
  const role = iam.addRole({ account: '111122223333', name: 'gha', trustPolicy: policy as PolicyDocument });
  const d = await iam.mayAssume(role.arn, { arn: req.provider, federated: req.provider }, req.action, req.context);
  return d.allowed ? 'allow' : d.reason === 'explicit-deny-resource' ? 'explicit-deny' : 'implicit-deny';
}

const PROVIDER = 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com';
const K = 'token.actions.githubusercontent.com';

const req = (context: TrustRequest['context'], provider = PROVIDER): TrustRequest => ({ action: 'sts:AssumeRoleWithWebIdentity', provider, context });
const policy = (Condition: object, extra: object = {}) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', Condition, ...extra }],
});

describe('conditions', () => {
  test.each([
    ['StringEquals matches exactly', { StringEquals: { [`${K}:sub`]: 'repo:acme/svc:environment:production' } }, 'repo:acme/svc:environment:production', 'allow'],
    ['StringEquals is case-sensitive on values', { StringEquals: { [`${K}:sub`]: 'repo:acme/svc:environment:production' } }, 'repo:acme/svc:environment:Production', 'implicit-deny'],
    ['condition key names are case-insensitive', { StringEquals: { [`${K.toUpperCase()}:SUB`]: 'repo:a/b:ref:refs/heads/main' } }, 'repo:a/b:ref:refs/heads/main', 'allow'],
    ['a list of values is OR', { StringEquals: { [`${K}:sub`]: ['repo:a/b:ref:refs/heads/develop', 'repo:a/b:ref:refs/heads/main'] } }, 'repo:a/b:ref:refs/heads/main', 'allow'],
    ['StringLike * spans anything', { StringLike: { [`${K}:sub`]: 'repo:acme/*' } }, 'repo:acme/other:ref:refs/heads/x', 'allow'],
    ['StringLike ? is one character', { StringLike: { [`${K}:sub`]: 'repo:a/b:environment:qa?' } }, 'repo:a/b:environment:qa', 'implicit-deny'],
    ['StringEqualsIgnoreCase ignores case', { StringEqualsIgnoreCase: { [`${K}:sub`]: 'REPO:A/B:PULL_REQUEST' } }, 'repo:a/b:pull_request', 'allow'],
    ['StringNotEquals denies the listed value', { StringNotEquals: { [`${K}:sub`]: 'repo:a/b:pull_request' } }, 'repo:a/b:pull_request', 'implicit-deny'],
    ['StringNotLike allows other values', { StringNotLike: { [`${K}:sub`]: 'repo:a/b:pull_request' } }, 'repo:a/b:ref:refs/heads/main', 'allow'],
  ])('%s', async (_name, condition, sub, decision) => {
    expect(await evaluateTrustPolicy(policy(condition), req({ [`${K}:sub`]: sub, [`${K}:aud`]: 'sts.amazonaws.com' }))).toBe(decision);
  });

  test.each([
    ['StringEquals on a missing key is false', { StringEquals: { [`${K}:job_workflow_ref`]: 'x' } }, 'implicit-deny'],
    ['a negated operator on a missing key is true', { StringNotEquals: { [`${K}:job_workflow_ref`]: 'x' } }, 'allow'],
    ['IfExists on a missing key is true', { StringEqualsIfExists: { [`${K}:job_workflow_ref`]: 'x' } }, 'allow'],
    ['Null true when missing', { Null: { [`${K}:job_workflow_ref`]: 'true' } }, 'allow'],
    ['Null false when missing', { Null: { [`${K}:job_workflow_ref`]: 'false' } }, 'implicit-deny'],
  ])('%s', async (_name, condition, decision) => {
    expect(await evaluateTrustPolicy(policy(condition), req({ [`${K}:sub`]: 'repo:a/b:ref:refs/heads/main' }))).toBe(decision);
  });

  test('several keys and operators are all required', async () => {
    const both = { StringEquals: { [`${K}:aud`]: 'sts.amazonaws.com', [`${K}:sub`]: 'repo:a/b:environment:qa' } };
    expect(await evaluateTrustPolicy(policy(both), req({ [`${K}:aud`]: 'sts.amazonaws.com', [`${K}:sub`]: 'repo:a/b:environment:qa' }))).toBe('allow');
    expect(await evaluateTrustPolicy(policy(both), req({ [`${K}:aud`]: 'other', [`${K}:sub`]: 'repo:a/b:environment:qa' }))).toBe('implicit-deny');
  });

  test('multi-valued keys: ForAnyValue needs one value to match, ForAllValues every value', async () => {
    const aud = { [`${K}:aud`]: ['sts.amazonaws.com', 'other'] };
    expect(await evaluateTrustPolicy(policy({ 'ForAnyValue:StringEquals': { [`${K}:aud`]: 'sts.amazonaws.com' } }), req(aud))).toBe('allow');
    expect(await evaluateTrustPolicy(policy({ 'ForAllValues:StringEquals': { [`${K}:aud`]: 'sts.amazonaws.com' } }), req(aud))).toBe('implicit-deny');
  });
});

describe('statements', () => {
  test('another provider, another action or an explicit Deny do not allow', async () => {
    const ctx = { [`${K}:sub`]: 'repo:a/b:environment:qa' };
    const open = policy({});
    expect(await evaluateTrustPolicy(open, req(ctx))).toBe('allow');
    expect(await evaluateTrustPolicy(open, req(ctx, 'arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com'))).toBe('implicit-deny');
    expect(await evaluateTrustPolicy(open, { ...req(ctx), action: 'sts:AssumeRole' })).toBe('implicit-deny');
    expect(await evaluateTrustPolicy(policy({}, { Action: 'sts:*' }), req(ctx))).toBe('allow');
    const denied = { Statement: [...open.Statement, { Effect: 'Deny', Principal: '*', Action: '*', Condition: { StringLike: { [`${K}:sub`]: '*:qa' } } }] };
    expect(await evaluateTrustPolicy(denied, req(ctx))).toBe('explicit-deny');
  });

  test('a key AWS does not evaluate for the action is an error, never silently dropped', async () => {
    await expect(evaluateTrustPolicy(policy({}), req({ 'ecr:ImageTag': 'x' }))).rejects.toThrow(/ecr:ImageTag do not apply to sts:AssumeRoleWithWebIdentity/);
  });
});

describe('what the simulator evaluates beyond its per-action key list', () => {
  // The GitHub claims in iam-simulate's data for the action, evaluated through the validated path,
  // and aud/sub, which are not: a mismatch on any of them must refuse.
  const claims = {
    [`${K}:aud`]: 'sts.amazonaws.com',
    [`${K}:sub`]: 'repo:acme@7/svc@42:environment:qa',
    [`${K}:repository_id`]: '42',
    [`${K}:job_workflow_ref`]: 'org/deploy-actions/.github/workflows/deploy.yml@refs/tags/v1',
  };
  const trust = policy({
    StringEquals: { [`${K}:aud`]: 'sts.amazonaws.com', [`${K}:sub`]: 'repo:acme@7/svc@42:environment:qa', [`${K}:repository_id`]: '42' },
    StringLike: { [`${K}:job_workflow_ref`]: 'org/deploy-actions/.github/workflows/deploy.yml@*' },
  });
  test.each([
    ['all claims match', {}, 'allow'],
    ['sub of another repository', { [`${K}:sub`]: 'repo:acme@7/other@43:environment:qa' }, 'implicit-deny'],
    ['sub in the old name-only format', { [`${K}:sub`]: 'repo:acme/svc:environment:qa' }, 'implicit-deny'],
    ['aud of another relying party', { [`${K}:aud`]: 'https://github.com/acme' }, 'implicit-deny'],
    ['repository_id of another repository', { [`${K}:repository_id`]: '43' }, 'implicit-deny'],
    ['another workflow', { [`${K}:job_workflow_ref`]: 'acme/svc/.github/workflows/evil.yml@refs/heads/develop' }, 'implicit-deny'],
  ])('%s -> %s', async (_name, override, decision) => {
    expect(await evaluateTrustPolicy(trust, req({ ...claims, ...override }))).toBe(decision);
  });

  test('a sub condition under a negated operator is evaluated too (a dropped key would pass it)', async () => {
    const notPr = policy({ StringNotLike: { [`${K}:sub`]: '*:pull_request' } });
    expect(await evaluateTrustPolicy(notPr, req({ [`${K}:sub`]: 'repo:a/b:pull_request' }))).toBe('implicit-deny');
    expect(await evaluateTrustPolicy(notPr, req({ [`${K}:sub`]: 'repo:a/b:ref:refs/heads/main' }))).toBe('allow');
  });
});
