import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { repoRoot } from '../../harness/runner';
import { loadStack, TemplateError, type ParameterValue, type Template } from './index';

const fixture = (name: string) => JSON.parse(readFileSync(resolve(repoRoot, 'test/fixtures/cloudformation', name), 'utf8'));
const template = fixture('account.template.json') as Template;
const parameters = fixture('account.parameters.json') as ParameterValue[];
const load = (params: ParameterValue[] = parameters, t: Template = template) => loadStack({ stackName: 'fixture', account: '222222222222', region: 'eu-west-1', template: t, parameters: params });
const withParam = (key: string, value: string) => [...parameters.filter((p) => p.ParameterKey !== key), { ParameterKey: key, ParameterValue: value }];

describe('a stack as CloudFormation creates it', () => {
  const stack = load();
  const role = stack.resources.DeployRole!;

  test('Ref, Fn::Join, Fn::Sub with pseudo parameters and variables, Fn::If on a condition, Fn::GetAtt', () => {
    expect(role.ref).toBe('gha-fixture-qa');
    expect(role.attributes.Arn).toBe('arn:aws:iam::222222222222:role/gha-fixture-qa');
    const trust = role.properties.AssumeRolePolicyDocument.Statement[0];
    expect(trust.Principal.Federated).toBe('arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com');
    expect(trust.Condition.StringEquals['token.actions.githubusercontent.com:sub']).toBe('repo:acme@190000001/sample-service@1041000001:environment:qa');
    expect(role.properties.Policies[0].PolicyDocument.Statement[0].Resource).toBe('arn:aws:eks:eu-west-1:222222222222:cluster/nonprod');
  });

  test('AWS::NoValue removes the property; a false Condition leaves the resource out', () => {
    expect(role.properties.Policies[0].PolicyDocument.Statement[1]).not.toHaveProperty('Resource');
    expect(stack.resources.AccessEntry!.properties.AccessPolicies[0].AccessScope.Namespaces).toEqual(['sample-qa']);
    const production = load(withParam('Environment', 'production'));
    expect(production.resources.AccessEntry).toBeUndefined();
    expect(production.resources.DeployRole!.properties.Policies[0].PolicyDocument.Statement[1].Resource).toBe('*');
  });

  test('KMS key ids are stable per stack; the role policy and the outputs name the same key', () => {
    const key = stack.resources.EvidenceKey!;
    expect(key.attributes.Arn).toMatch(/^arn:aws:kms:eu-west-1:222222222222:key\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(load().resources.EvidenceKey!.attributes.Arn).toBe(key.attributes.Arn);
    expect(stack.resources.DeployRoleEvidencePolicy!.properties).toMatchObject({ RoleName: 'gha-fixture-qa', PolicyDocument: { Statement: [{ Resource: key.attributes.Arn }] } });
    expect(key.properties.KeyPolicy.Statement[0].Principal.AWS).toBe('arn:aws:iam::222222222222:role/platform-kms-admin');
    expect(stack.outputs).toEqual({ DeployRoleArn: role.attributes.Arn, EvidenceKeyArn: key.attributes.Arn, Literal: '${NotAReference}-fixture' });
  });

  test('reusing an existing OIDC provider: no provider resource, the trust names the account provider by ARN', () => {
    const existing = load(withParam('OidcProvider', 'existing'));
    expect(existing.resources.GitHubOidcProvider).toBeUndefined();
    expect(existing.resources.DeployRole!.properties.AssumeRolePolicyDocument.Statement[0].Principal.Federated).toBe('arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com');
  });
});

describe('what CloudFormation refuses, the loader refuses', () => {
  test.each([
    ['a value outside AllowedValues', withParam('OidcProvider', 'maybe'), /OidcProvider' must be one of AllowedValues/],
    ['a value not matching AllowedPattern', withParam('KeyAdministratorArn', 'admin'), /KeyAdministratorArn' must match pattern/],
    ['a missing value without default', parameters.filter((p) => p.ParameterKey !== 'KeyAdministratorArn'), /\[KeyAdministratorArn\] must have values/],
    ['a parameter the template does not declare', withParam('Nope', 'x'), /\[Nope\] do not exist in the template/],
  ])('%s', (_name, params, message) => {
    expect(() => load(params)).toThrow(message);
  });

  test('an intrinsic or a resource type it does not model is an error, not a silent pass', () => {
    const base = structuredClone(template);
    base.Resources.DeployRole!.Properties!.Description = { 'Fn::ImportValue': 'shared' };
    expect(() => load(parameters, base)).toThrow(TemplateError);
    const other = structuredClone(template);
    other.Resources.Bucket = { Type: 'AWS::S3::Bucket', Properties: {} };
    expect(() => load(parameters, other)).toThrow(/AWS::S3::Bucket is not modelled/);
  });

  test('a reference to a resource that is not created is an error', () => {
    const broken = structuredClone(template);
    broken.Resources.EvidenceKey!.Properties!.Description = { Ref: 'GitHubOidcProvider' };
    expect(() => load(withParam('OidcProvider', 'existing'), broken)).toThrow(/GitHubOidcProvider is not created/);
  });
});
