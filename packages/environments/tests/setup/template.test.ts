import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseEnvironmentsConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { EXAMPLE_DIR, EXAMPLE_IDENTITIES, exampleFiles } from '../../src/setup/example';
import { INLINE_TEMPLATE_BYTES, setupMain } from '../../src/setup/cli';
import { driftedFiles } from '../../src/setup/files';
import { plan, type SetupConfig } from '../../src/setup/template';
import type { RepoIdentity } from '../../src/setup/subject';
import { desiredVariables } from '../../src/setup/variables';

const ids = new Map(EXAMPLE_IDENTITIES.map((i) => [i.repository.toLowerCase(), i]));
const cfgOf = (text: string) => parseEnvironmentsConfig(text, 'acme', 'envs.yml') as SetupConfig;

const FILE = `aws: { build_account: '111111111111', region: eu-west-1 }
services:
  sample-service: { repository: acme/sample-service, ecr_repository: acme/sample-service, namespace: sample }
environments:
  qa: { account: '222222222222', cluster: nonprod, deployment_branches: [develop] }
  preprod: { account: '222222222222', cluster: nonprod, deployment_branches: [main] }
  production: { account: '333333333333', cluster: prod, deployment_branches: [main] }
`;

type Res = { Type: string; Properties: Record<string, any>; Condition?: string };
const resources = (t: Record<string, unknown>) => t.Resources as Record<string, Res>;

test('workflows/aws/ is what the generator makes of workflows/environments.yml (run pnpm build to refresh it)', () => {
  expect(driftedFiles(EXAMPLE_DIR, exampleFiles())).toEqual([]);
});

test('a changed template is drift', () => {
  const files = exampleFiles();
  const [name, text] = [...files].find(([n]) => n.endsWith('.template.json'))!;
  files.set(name, text.replace('ecr:TagResource', 'ecr:Nothing'));
  expect(driftedFiles(EXAMPLE_DIR, files)).toEqual([name]);
});

describe('the example stacks', () => {
  const p = plan(cfgOf(FILE), ids);
  const byLabel = Object.fromEntries(p.stacks.map((s) => [s.label, s]));
  test('one stack per account: build, then the environments by account', () => {
    expect(p.stacks.map((s) => [s.label, s.account, s.region])).toEqual([
      ['build', '111111111111', 'eu-west-1'],
      ['qa-preprod', '222222222222', 'eu-west-1'],
      ['production', '333333333333', 'eu-west-1'],
    ]);
  });
  test('resources per account', () => {
    const types = (label: string) => Object.values(resources(byLabel[label]!.template)).map((r) => r.Type).sort();
    expect(types('build')).toEqual(['AWS::IAM::OIDCProvider', 'AWS::IAM::Role', 'AWS::IAM::Role', 'AWS::IAM::RolePolicy', 'AWS::KMS::Key']);
    expect(types('production')).toEqual(['AWS::EKS::AccessEntry', 'AWS::IAM::OIDCProvider', 'AWS::IAM::Role', 'AWS::IAM::RolePolicy', 'AWS::KMS::Key']);
    expect(types('qa-preprod').length).toBe(9);
  });
  test('the build role may tag what it creates (CreateRepository with tags needs ecr:TagResource)', () => {
    const role = resources(byLabel.build!.template).SampleServiceBuildRole!;
    const actions = role.Properties.Policies[0].PolicyDocument.Statement.flatMap((s: any) => s.Action);
    expect(actions).toEqual(expect.arrayContaining(['ecr:CreateRepository', 'ecr:TagResource', 'ecr:PutImage', 'ecr:GetAuthorizationToken']));
    expect(actions).not.toContain('kms:Sign');
  });
  test('the production key: only the production deploy role signs; the service roles read the public key; the administrator is a parameter', () => {
    const key = resources(byLabel.production!.template).SampleServiceProductionEvidenceKey!;
    const st = Object.fromEntries(key.Properties.KeyPolicy.Statement.map((s: any) => [s.Sid, s]));
    expect(st.SignEvidence.Principal).toEqual({ AWS: { 'Fn::GetAtt': ['SampleServiceProductionDeployRole', 'Arn'] } });
    expect(st.SignEvidence.Action).toEqual(['kms:Sign', 'kms:GetPublicKey']);
    expect(st.KeyAdministration.Principal).toEqual({ AWS: { Ref: 'KeyAdministratorArn' } });
    expect(st.KeyAdministration.Action).toContain('kms:PutKeyPolicy');
    expect(st.VerifyEvidence.Action).toEqual(['kms:GetPublicKey']);
    expect(st.VerifyEvidence.Condition.ArnEquals['aws:PrincipalArn']).toEqual([
      'arn:aws:iam::111111111111:role/gha-sample-service-evidence',
      'arn:aws:iam::222222222222:role/gha-sample-service-qa',
      'arn:aws:iam::222222222222:role/gha-sample-service-preprod',
      'arn:aws:iam::333333333333:role/gha-sample-service-production',
    ]);
  });
  test("the production role reads preprod's public key across accounts and signs only with its own key", () => {
    const pol = resources(byLabel.production!.template).SampleServiceProductionDeployRoleEvidencePolicy!.Properties.PolicyDocument.Statement;
    expect(pol).toEqual([
      { Sid: 'SignEvidence', Effect: 'Allow', Action: ['kms:Sign', 'kms:GetPublicKey'], Resource: { 'Fn::GetAtt': ['SampleServiceProductionEvidenceKey', 'Arn'] } },
      { Sid: 'VerifyEvidence', Effect: 'Allow', Action: ['kms:GetPublicKey'], Resource: ['arn:aws:kms:eu-west-1:222222222222:key/*'] },
    ]);
  });
  test('the preprod deploy role reads and records in the build account repository', () => {
    const role = resources(byLabel['qa-preprod']!.template).SampleServicePreprodDeployRole!;
    const ecr = role.Properties.Policies[0].PolicyDocument.Statement.find((s: any) => s.Sid === 'ImageAndEvidenceTags');
    expect(ecr).toEqual({
      Sid: 'ImageAndEvidenceTags',
      Effect: 'Allow',
      Action: ['ecr:BatchGetImage', 'ecr:DescribeImageScanFindings', 'ecr:DescribeImages', 'ecr:GetRepositoryPolicy', 'ecr:PutImage'],
      Resource: 'arn:aws:ecr:eu-west-1:111111111111:repository/acme/sample-service',
    });
  });
  test('access entries are scoped to the namespace of their environment', () => {
    const entry = resources(byLabel['qa-preprod']!.template).SampleServiceQaAccessEntry!;
    expect(entry.Properties).toMatchObject({ ClusterName: 'nonprod', Type: 'STANDARD', AccessPolicies: [{ AccessScope: { Type: 'namespace', Namespaces: ['sample'] } }] });
  });
  test("OidcProvider=existing reuses the account's provider", () => {
    const t = byLabel.build!.template;
    expect(resources(t).GitHubOidcProvider!.Condition).toBe('CreateOidcProvider');
    const fed = resources(t).SampleServiceBuildRole!.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Federated;
    expect(fed['Fn::If'][0]).toBe('CreateOidcProvider');
    expect(fed['Fn::If'][2]).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com' });
  });
  test('parameters file: the key administrator of each account', () => {
    expect(byLabel.build!.parameters).toEqual([
      { ParameterKey: 'OidcProvider', ParameterValue: 'create' },
      { ParameterKey: 'KeyAdministratorArn', ParameterValue: 'arn:aws:iam::111111111111:role/deploy-actions-key-admin' },
    ]);
    expect(byLabel.production!.parameters[1]).toEqual({ ParameterKey: 'KeyAdministratorArn', ParameterValue: 'arn:aws:iam::333333333333:role/deploy-actions-key-admin' });
  });
});

test('every committed template uses only the intrinsics of the contract', () => {
  const allowed = new Set(['Ref', 'Fn::Sub', 'Fn::GetAtt', 'Fn::If', 'Fn::Equals']);
  const seen = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (k.startsWith('Fn::') || k === 'Ref' ? seen.add(k) : 0, walk(x));
  };
  for (const f of readdirSync(EXAMPLE_DIR).filter((n) => n.endsWith('.template.json'))) walk(JSON.parse(readFileSync(join(EXAMPLE_DIR, f), 'utf8')));
  expect([...seen].filter((k) => !allowed.has(k))).toEqual([]);
  expect(seen.has('Fn::GetAtt')).toBe(true);
});

describe('refused before anything is generated, naming the place', () => {
  test.each([
    [FILE.replace("'111111111111'", '111111111111'), "envs.yml: aws.build_account must be a 12-digit AWS account id in quotes"],
    [FILE.replace('region: eu-west-1', 'region: europe'), 'envs.yml: aws.region must be an AWS region'],
    [FILE.replace("qa: { account: '222222222222', ", 'qa: { '), 'envs.yml: environments.qa.account is required with cluster'],
    [FILE.replace('cluster: prod, ', ''), 'envs.yml: environments.production.cluster is required with account'],
    [FILE.replace('ecr_repository: acme/sample-service', 'ecr_repository: Acme/Sample'), 'envs.yml: services.sample-service.ecr_repository must be an ECR repository name'],
    [FILE.replace('namespace: sample', 'namespace: { qa: a }'), 'envs.yml: services.sample-service.namespace.preprod is missing'],
    [FILE.replace('namespace: sample', 'namespace: Sample_NS'), 'envs.yml: services.sample-service.namespace must be a Kubernetes namespace name'],
    [FILE.replace('repository: acme/sample-service,', 'repository: sample-service,'), 'envs.yml: services.sample-service.repository must be the GitHub repository as owner/name'],
    [FILE.replace('sample-service: {', 'Sample_Service: {'), 'envs.yml: services.Sample_Service: a service name must be lowercase'],
    [FILE.replace('deployment_branches: [develop] }', 'deployment_branches: [develop], variables: { AWS_DEPLOY_ROLE_ARN: x } }'), "envs.yml: environments.qa.variables: 'AWS_DEPLOY_ROLE_ARN' is not a variable this file sets"],
    [FILE.replace(/^aws:.*\n/, ''), "envs.yml: environments.qa.account needs the top-level 'aws' section"],
    [FILE.replace('services:', 'service:'), "envs.yml: unknown top-level key 'service'"],
    [FILE.replace('region: eu-west-1 }', 'region: eu-west-1, vpc: x }'), "envs.yml: aws: unknown key 'vpc'"],
    // ARNs and partitions (issue 23): parsed by action-kit's parseArn, the place in the file named.
    [FILE.replace('region: eu-west-1 }', "region: eu-west-1, key_admin_role: 'arn:aws-cn:iam::333333333333:role/kms-admin' }"), "envs.yml: aws.key_admin_role must hold ARNs of aws.region's partition: eu-west-1 is in aws, not aws-cn"],
    [FILE.replace('region: eu-west-1 }', "region: eu-west-1, key_admin_role: 'arn:aws-moon:iam::333333333333:role/kms-admin' }"), "envs.yml: aws.key_admin_role must hold ARNs of an AWS partition (aws, aws-cn"],
    [FILE.replace('region: eu-west-1 }', "region: eu-west-1, key_admin_role: 'arn:aws:kms:eu-west-1:333333333333:key/abc' }"), 'envs.yml: aws.key_admin_role must hold the ARN of an IAM role or user'],
    [FILE.replace('region: eu-west-1 }', "region: eu-west-1, key_admin_role: 'arn:aws:iam::333333333333:policy/kms-admin' }"), 'envs.yml: aws.key_admin_role must be an IAM role name or the ARN of an IAM role or user'],
    [FILE.replace('region: eu-west-1 }', "region: eu-west-1, key_admin_role: 'arn:aws:iam::333333333333:role/kms-admin' }"), 'envs.yml: aws.key_admin_role: arn:aws:iam::333333333333:role/kms-admin is in account 333333333333, but environments.qa keeps its evidence keys in 222222222222'],
    [FILE.replace('region: eu-west-1 }', "region: eu-west-1, key_admin_role: 'kms admin' }"), 'envs.yml: aws.key_admin_role must be an IAM role name (with its path, if any) or the ARN of an IAM role or user'],
    [FILE.replace("production: { account: '333333333333', ", "production: { account: '333333333333', region: cn-north-1, "), 'envs.yml: environments.production.region: cn-north-1 is in the partition aws-cn, aws.region eu-west-1 in aws'],
  ])('%#: %s', (text, message) => {
    let err: unknown;
    try {
      cfgOf(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(message);
  });

  test('key_admin_role as a path/name or as the ARN of the one account holding keys', () => {
    const sso = 'aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_KmsAdmin_0a1b2c3d';
    const one = FILE.replace(/'333333333333'/, "'222222222222'");
    const byPath = plan(cfgOf(one.replace('region: eu-west-1 }', `region: eu-west-1, key_admin_role: ${sso} }`)), ids);
    expect(byPath.stacks.find((st) => st.account === '222222222222')!.parameters[1]!.ParameterValue).toBe(`arn:aws:iam::222222222222:role/${sso}`);
    const arn = 'arn:aws:iam::222222222222:user/kms-admin';
    const byArn = plan(cfgOf(one.replace('region: eu-west-1 }', `region: eu-west-1, key_admin_role: '${arn}' }`)), ids);
    expect(byArn.stacks.find((st) => st.account === '222222222222')!.parameters[1]!.ParameterValue).toBe(arn);
  });

  test.each([
    ['arn:aws:kms:eu-west-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab', undefined],
    ['arn:aws-cn:kms:cn-north-1:333333333333:key/1234abcd', "stack output SampleServiceProductionEvidenceKeyArn must hold ARNs of eu-west-1's partition: eu-west-1 is in aws, not aws-cn"],
    ['arn:aws:kms:eu-west-1:444444444444:key/1234abcd', 'stack output SampleServiceProductionEvidenceKeyArn is arn:aws:kms:eu-west-1:444444444444:key/1234abcd: not a KMS key of account 333333333333 in eu-west-1'],
    ['arn:aws:kms:us-east-1:333333333333:key/1234abcd', 'not a KMS key of account 333333333333 in eu-west-1'],
    ['arn:aws:kms:eu-west-1:333333333333:alias/evidence', 'not a KMS key of account 333333333333 in eu-west-1'],
    ['arn:aws:iam::333333333333:role/x', 'stack output SampleServiceProductionEvidenceKeyArn must hold the ARN of a KMS key'],
  ])('a stack output key ARN %s is parsed before it becomes EVIDENCE_KMS_KEYS', (value, refused) => {
    const cfg = cfgOf(FILE);
    const p = plan(cfg, ids);
    const good = (env: string, acct: string) => `arn:aws:kms:eu-west-1:${acct}:key/${env}-0000`;
    const outputs = new Map([
      ['SampleServiceQaEvidenceKeyArn', good('qa', '222222222222')],
      ['SampleServicePreprodEvidenceKeyArn', good('preprod', '222222222222')],
      ['SampleServiceProductionEvidenceKeyArn', value],
    ]);
    if (refused) expect(() => desiredVariables(cfg, p, outputs)).toThrow(refused);
    else expect(desiredVariables(cfg, p, outputs).find((v) => v.name === 'EVIDENCE_KMS_KEYS')!.value).toContain(`production=${value}`);
  });

  test('two environments of one account in different regions', () => {
    const cfg = cfgOf(FILE.replace("preprod: { account: '222222222222', ", "preprod: { account: '222222222222', region: us-east-1, "));
    expect(() => plan(cfg, ids)).toThrow('environments.preprod.region: us-east-1 differs from eu-west-1 of environments.qa in account 222222222222');
  });
  test('a repository without GitHub ids', () => {
    expect(() => plan(cfgOf(FILE), new Map<string, RepoIdentity>())).toThrow('services.sample-service.repository: no GitHub ids for acme/sample-service');
  });
  test('a role name over 64 characters', () => {
    const long = 'a'.repeat(40);
    const text = FILE.replace('sample-service: {', `${long}: {`).replace('production: {', 'production-eu-west-1-blue: {');
    expect(() => plan(cfgOf(text), ids)).toThrow(`services.${long}: the role name gha-${long}-production-eu-west-1-blue is longer than IAM's 64 characters`);
  });
});

test('a file without the aws section still parses (backward compatible) and has no services', () => {
  const cfg = parseEnvironmentsConfig('environments:\n  qa: { deployment_branches: [develop] }\n', 'acme');
  expect(cfg.aws).toBeUndefined();
  expect(cfg.services).toEqual([]);
  expect(cfg.environments[0]!.target).toBeUndefined();
});

test('generate: a template over the 51,200 bytes CloudFormation takes inline gets --s3-bucket in its deploy line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'da-setup-large-'));
  const services = Array.from({ length: 4 }, (_, i) => `  svc-${i}: { repository: acme/svc-${i}, ecr_repository: acme/svc-${i}, namespace: svc-${i} }`).join('\n');
  writeFileSync(join(dir, 'envs.yml'), FILE.replace(/services:\n.*\n/, `services:\n${services}\n`));
  const lines: string[] = [];
  const ids = Array.from({ length: 4 }, (_, i) => ['--repo-ids', `acme/svc-${i}=190000001/${1041000100 + i}`]).flat();
  const code = await setupMain(['generate', '--offline', '--file', join(dir, 'envs.yml'), '--out', join(dir, 'aws'), ...ids], {}, { out: (l) => lines.push(l), err: (l) => lines.push(l) });
  expect(code, lines.join('\n')).toBe(0);
  const deploy = (label: string) => lines.find((l) => l.includes(`--stack-name deploy-actions-${label} `))!;
  expect(statSync(join(dir, 'aws/qa-preprod.template.json')).size).toBeGreaterThan(INLINE_TEMPLATE_BYTES);
  expect(deploy('qa-preprod')).toMatch(/ --s3-bucket <a bucket of that account>$/);
  expect(statSync(join(dir, 'aws/build.template.json')).size).toBeLessThanOrEqual(INLINE_TEMPLATE_BYTES);
  expect(deploy('build')).not.toContain('--s3-bucket');
  expect(lines.at(-1)).toMatch(/^note: .*qa-preprod\.template\.json exceed the 51200 bytes CloudFormation takes inline/);
});
