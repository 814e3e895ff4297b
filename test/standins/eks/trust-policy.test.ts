/**
 * Role trust policies for AssumeRoleWithWebIdentity, decided by the shared IAM store
 * (test/standins/iam) as STS asks it: the Federated principal of the OIDC provider and the
 * token's claims as condition keys, against the documented operator semantics.
 */
import { describe, expect, test } from 'vitest';
import { IamStore, type PolicyDocument } from '../iam/index';

interface TrustRequest {
  action: string;
  provider: string;
  context: Record<string, string | string[]>;
}

function evaluateTrustPolicy(policy: object, req: TrustRequest): 'allow' | 'explicit-deny' | 'implicit-deny' {
  const iam = new IamStore();
  const role = iam.addRole({ account: '111122223333', name: 'gha', trustPolicy: policy as PolicyDocument });
  const d = iam.mayAssume(role.arn, { arn: req.provider, federated: req.provider }, req.action, req.context);
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
  ])('%s', (_name, condition, sub, decision) => {
    expect(evaluateTrustPolicy(policy(condition), req({ [`${K}:sub`]: sub, [`${K}:aud`]: 'sts.amazonaws.com' }))).toBe(decision);
  });

  test.each([
    ['StringEquals on a missing key is false', { StringEquals: { [`${K}:job_workflow_ref`]: 'x' } }, 'implicit-deny'],
    ['a negated operator on a missing key is true', { StringNotEquals: { [`${K}:job_workflow_ref`]: 'x' } }, 'allow'],
    ['IfExists on a missing key is true', { StringEqualsIfExists: { [`${K}:job_workflow_ref`]: 'x' } }, 'allow'],
    ['Null true when missing', { Null: { [`${K}:job_workflow_ref`]: 'true' } }, 'allow'],
    ['Null false when missing', { Null: { [`${K}:job_workflow_ref`]: 'false' } }, 'implicit-deny'],
  ])('%s', (_name, condition, decision) => {
    expect(evaluateTrustPolicy(policy(condition), req({ [`${K}:sub`]: 'repo:a/b:ref:refs/heads/main' }))).toBe(decision);
  });

  test('several keys and operators are all required', () => {
    const both = { StringEquals: { [`${K}:aud`]: 'sts.amazonaws.com', [`${K}:sub`]: 'repo:a/b:environment:qa' } };
    expect(evaluateTrustPolicy(policy(both), req({ [`${K}:aud`]: 'sts.amazonaws.com', [`${K}:sub`]: 'repo:a/b:environment:qa' }))).toBe('allow');
    expect(evaluateTrustPolicy(policy(both), req({ [`${K}:aud`]: 'other', [`${K}:sub`]: 'repo:a/b:environment:qa' }))).toBe('implicit-deny');
  });

  test('multi-valued keys: ForAnyValue needs one value to match, ForAllValues every value', () => {
    const aud = { [`${K}:aud`]: ['sts.amazonaws.com', 'other'] };
    expect(evaluateTrustPolicy(policy({ 'ForAnyValue:StringEquals': { [`${K}:aud`]: 'sts.amazonaws.com' } }), req(aud))).toBe('allow');
    expect(evaluateTrustPolicy(policy({ 'ForAllValues:StringEquals': { [`${K}:aud`]: 'sts.amazonaws.com' } }), req(aud))).toBe('implicit-deny');
  });
});

describe('statements', () => {
  test('another provider, another action or an explicit Deny do not allow', () => {
    const ctx = { [`${K}:sub`]: 'repo:a/b:environment:qa' };
    const open = policy({});
    expect(evaluateTrustPolicy(open, req(ctx))).toBe('allow');
    expect(evaluateTrustPolicy(open, req(ctx, 'arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com'))).toBe('implicit-deny');
    expect(evaluateTrustPolicy(open, { ...req(ctx), action: 'sts:AssumeRole' })).toBe('implicit-deny');
    expect(evaluateTrustPolicy(policy({}, { Action: 'sts:*' }), req(ctx))).toBe('allow');
    const denied = { Statement: [...open.Statement, { Effect: 'Deny', Principal: '*', Action: '*', Condition: { StringLike: { [`${K}:sub`]: '*:qa' } } }] };
    expect(evaluateTrustPolicy(denied, req(ctx))).toBe('explicit-deny');
  });

  test('an operator it does not model is an error, not a silent pass', () => {
    expect(() => evaluateTrustPolicy(policy({ DateGreaterThan: { 'aws:CurrentTime': '2020-01-01' } }), req({}))).toThrow(/not supported/);
  });
});
