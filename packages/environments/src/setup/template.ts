/**
 * The CloudFormation templates: one stack per AWS account (its environments' region), holding
 * the GitHub OIDC provider (or reusing the account's), and per service the build role and
 * evidence reader (build account), one deploy role, evidence key and EKS access entry per
 * environment of that account. JSON with long-form intrinsics only (Ref, Fn::Sub, Fn::GetAtt,
 * Fn::If with one condition), so a reader needs no YAML tags.
 *
 * Pure: the same file and identities give the same templates, byte for byte.
 */
import { partitionOf } from '@deploy-actions/aws';
import type { EnvironmentsConfig } from '../config';
import { ConfigError } from '../errors';
import {
  BUILD_LOGIN_ACTIONS,
  PROVENANCE_SIGN_ACTIONS,
  REGISTRY_LOGIN_ACTIONS,
  BUILD_REPOSITORY_ACTIONS,
  DEPLOY_ALARM_ACTIONS,
  DEPLOY_CLUSTER_ACTIONS,
  DEPLOY_REPOSITORY_ACTIONS,
  EKS_ACCESS_POLICY,
  KEY_ADMIN_ACTIONS,
  READER_REPOSITORY_ACTIONS,
  SIGN_ACTIONS,
  VERIFY_ACTIONS,
} from './permissions';
import { GITHUB_ISSUER_HOST, AUDIENCE, trustConditions, workflowRef, type RepoIdentity } from './subject';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

export interface SetupConfig extends EnvironmentsConfig {
  aws: NonNullable<EnvironmentsConfig['aws']>;
}

export interface RoleRef {
  service: string;
  kind: 'build' | 'reader' | 'deploy';
  environment?: string;
  account: string;
  name: string;
  arn: string;
}

export interface KeyRef {
  service: string;
  environment: string;
  account: string;
  region: string;
  /** The stack output holding its ARN (key ids are only known once created). */
  output: string;
}

export interface Stack {
  /** build, qa-preprod, production, ...: the file names and the stack name's suffix. */
  label: string;
  stackName: string;
  account: string;
  region: string;
  environments: string[];
  template: Obj;
  parameters: Array<{ ParameterKey: string; ParameterValue: string }>;
}

export interface SetupPlan {
  stacks: Stack[];
  roles: RoleRef[];
  keys: KeyRef[];
}

export const pascal = (s: string) =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9+=,.@_-]+/g, '-');
const sub = (s: string): Obj => ({ 'Fn::Sub': s });
const ref = (s: string): Obj => ({ Ref: s });
const arnOf = (logicalId: string): Obj => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

export function roleNames(cfg: SetupConfig, service: string) {
  const p = cfg.aws.rolePrefix;
  return {
    build: `${p}-${service}-build`,
    reader: `${p}-${service}-evidence`,
    deploy: (env: string) => `${p}-${service}-${slug(env)}`,
  };
}

/** Every role and key the file describes, with ARNs where they are known before deployment. */
export function inventory(cfg: SetupConfig): { roles: RoleRef[]; keys: KeyRef[] } {
  const roles: RoleRef[] = [];
  const keys: KeyRef[] = [];
  const b = cfg.aws.buildAccount;
  const arn = (account: string, region: string, name: string) => `arn:${partitionOf(region)}:iam::${account}:role/${name}`;
  for (const s of cfg.services) {
    const n = roleNames(cfg, s.name);
    roles.push({ service: s.name, kind: 'build', account: b, name: n.build, arn: arn(b, cfg.aws.region, n.build) });
    roles.push({ service: s.name, kind: 'reader', account: b, name: n.reader, arn: arn(b, cfg.aws.region, n.reader) });
    for (const e of cfg.environments) {
      const t = e.target!;
      roles.push({ service: s.name, kind: 'deploy', environment: e.name, account: t.account, name: n.deploy(e.name), arn: arn(t.account, t.region, n.deploy(e.name)) });
      keys.push({ service: s.name, environment: e.name, account: t.account, region: t.region, output: `${pascal(s.name)}${pascal(e.name)}EvidenceKeyArn` });
    }
  }
  for (const r of roles) {
    if (r.name.length > 64) throw new ConfigError(`services.${r.service}: the role name ${r.name} is longer than IAM's 64 characters; shorten the service name or aws.role_prefix`);
    const twin = roles.find((o) => o !== r && o.arn.toLowerCase() === r.arn.toLowerCase());
    if (twin) throw new ConfigError(`services.${r.service}: two roles would be named ${r.name} (environment names that differ only in case or punctuation)`);
  }
  return { roles, keys };
}

function policy(statements: Obj[]): Obj {
  return { Version: '2012-10-17', Statement: statements };
}

/** The stacks: one per account, in the order build account first, then the environments' accounts. */
/**
 * A KMS signing key whose policy lets the key administrator manage it, one role sign with it, and
 * the named roles (each from its own account) read its public key. `what` names the statements.
 */
function signingKey(k: { what: string; description: string; signer: Obj; signActions: readonly string[]; verifiers: RoleRef[]; partition: string; tags: Obj[] }): Obj {
  return {
    Type: 'AWS::KMS::Key',
    Properties: {
      Description: k.description,
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      Enabled: true,
      PendingWindowInDays: 30,
      KeyPolicy: policy([
        { Sid: 'KeyAdministration', Effect: 'Allow', Principal: { AWS: ref('KeyAdministratorArn') }, Action: [...KEY_ADMIN_ACTIONS], Resource: '*' },
        { Sid: `Sign${k.what}`, Effect: 'Allow', Principal: { AWS: k.signer }, Action: [...k.signActions], Resource: '*' },
        {
          Sid: `Verify${k.what}`,
          Effect: 'Allow',
          Principal: { AWS: [...new Set(k.verifiers.map((r) => r.account))].sort().map((acct) => `arn:${k.partition}:iam::${acct}:root`) },
          Action: [...VERIFY_ACTIONS],
          Resource: '*',
          Condition: { ArnEquals: { 'aws:PrincipalArn': k.verifiers.map((r) => r.arn) } },
        },
      ]),
      Tags: k.tags,
    },
  };
}

export function plan(cfg: SetupConfig, identities: ReadonlyMap<string, RepoIdentity>): SetupPlan {
  if (cfg.services.length === 0) throw new ConfigError(`the file has no services: add a 'services' section to generate the AWS set-up`);
  const { roles, keys } = inventory(cfg);
  const b = cfg.aws.buildAccount;
  const accounts: Array<{ account: string; region: string; environments: string[] }> = [{ account: b, region: cfg.aws.region, environments: [] }];
  for (const e of cfg.environments) {
    const t = e.target!;
    let a = accounts.find((x) => x.account === t.account);
    if (!a) accounts.push((a = { account: t.account, region: t.region, environments: [] }));
    else if (a.environments.length === 0 && a.account === b && a.region !== t.region) {
      throw new ConfigError(`environments.${e.name}.region: ${t.region} differs from aws.region ${a.region} of the build account ${b}; one stack per account needs one region (put the environment in aws.region or another account)`);
    } else if (a.region !== t.region) {
      throw new ConfigError(`environments.${e.name}.region: ${t.region} differs from ${a.region} of environments.${a.environments[0] ?? 'aws'} in account ${t.account}; one stack per account needs one region`);
    }
    a.environments.push(e.name);
  }
  const stacks = accounts.map((a) => accountStack(cfg, identities, a, roles, keys));
  return { stacks, roles, keys };
}

function accountStack(
  cfg: SetupConfig,
  identities: ReadonlyMap<string, RepoIdentity>,
  a: { account: string; region: string; environments: string[] },
  roles: RoleRef[],
  keys: KeyRef[],
): Stack {
  const isBuild = a.account === cfg.aws.buildAccount;
  const label = [...(isBuild ? ['build'] : []), ...a.environments.map(slug)].join('-');
  const partition = partitionOf(a.region);
  const resources: Obj = {};
  const outputs: Obj = {};
  const federated: Obj = {
    'Fn::If': ['CreateOidcProvider', ref('GitHubOidcProvider'), sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:oidc-provider/${GITHUB_ISSUER_HOST}`)],
  };
  resources.GitHubOidcProvider = {
    Type: 'AWS::IAM::OIDCProvider',
    Condition: 'CreateOidcProvider',
    Properties: { Url: `https://${GITHUB_ISSUER_HOST}`, ClientIdList: [AUDIENCE] },
  };
  const trust = (condition: Obj): Obj =>
    policy([{ Effect: 'Allow', Principal: { Federated: federated }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: condition }]);
  const role = (logicalId: string, name: string, description: string, condition: Obj, statements: Obj[]) => {
    resources[logicalId] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: name,
        Description: description,
        MaxSessionDuration: 3600,
        AssumeRolePolicyDocument: trust(condition),
        Policies: [{ PolicyName: 'deploy-actions', PolicyDocument: policy(statements) }],
      },
    };
    outputs[`${logicalId}Arn`] = { Description: description, Value: arnOf(logicalId) };
  };
  const keyArnIn = (k: KeyRef): Json => {
    const id = `${pascal(k.service)}${pascal(k.environment)}EvidenceKey`;
    return k.account === a.account ? arnOf(id) : `arn:${partitionOf(k.region)}:kms:${k.region}:${k.account}:key/*`;
  };
  const uniq = (xs: Json[]) => [...new Map(xs.map((x) => [JSON.stringify(x), x])).values()];
  let hasKeys = false;

  for (const s of cfg.services) {
    const id = identities.get(s.repository.toLowerCase());
    if (!id) throw new ConfigError(`services.${s.name}.repository: no GitHub ids for ${s.repository} (read from the API, or --repo-ids in --offline mode)`);
    const names = roleNames(cfg, s.name);
    const repoArn = `arn:${partitionOf(cfg.aws.region)}:ecr:${cfg.aws.region}:${cfg.aws.buildAccount}:repository/${s.ecrRepository}`;
    const serviceKeys = keys.filter((k) => k.service === s.name);
    const branchRefs = releaseRefs(cfg);
    const P = pascal(s.name);

    if (isBuild) {
      role(`${P}BuildRole`, names.build, `deploy-actions build role of ${s.repository}: ${s.ecrRepository} (build.yml only)`, trustConditions(id, { refs: branchRefs }, workflowRef(cfg.aws.deployActions, 'build.yml')), [
        { Sid: 'EcrLogin', Effect: 'Allow', Action: [...BUILD_LOGIN_ACTIONS], Resource: '*' },
        { Sid: 'EcrRepository', Effect: 'Allow', Action: [...BUILD_REPOSITORY_ACTIONS], Resource: repoArn },
      ]);
      // Build provenance: only the build role (build.yml only) signs; the deploy roles and the
      // evidence reader (the rollback plan applies the promotion gate, provenance included) verify.
      const verifiers = roles.filter((r) => r.service === s.name && (r.kind === 'deploy' || r.kind === 'reader'));
      resources[`${P}ProvenanceKey`] = signingKey({
        what: 'Provenance',
        description: `deploy-actions build provenance: ${s.repository}`,
        signer: arnOf(`${P}BuildRole`),
        signActions: PROVENANCE_SIGN_ACTIONS,
        verifiers,
        partition,
        tags: [{ Key: 'deploy-actions:repository', Value: s.repository }],
      });
      hasKeys = true;
      outputs[`${P}ProvenanceKeyArn`] = { Description: `PROVENANCE_KMS_KEY of ${s.repository}`, Value: arnOf(`${P}ProvenanceKey`) };
      resources[`${P}BuildRoleProvenancePolicy`] = {
        Type: 'AWS::IAM::RolePolicy',
        Properties: {
          RoleName: ref(`${P}BuildRole`),
          PolicyName: 'deploy-actions-provenance',
          PolicyDocument: policy([{ Sid: 'SignProvenance', Effect: 'Allow', Action: [...PROVENANCE_SIGN_ACTIONS], Resource: arnOf(`${P}ProvenanceKey`) }]),
        },
      };
      role(`${P}EvidenceReaderRole`, names.reader, `deploy-actions evidence reader of ${s.repository}: the rollback plan (read only)`, trustConditions(id, { refs: branchRefs }, undefined), [
        { Sid: 'EvidenceTags', Effect: 'Allow', Action: [...READER_REPOSITORY_ACTIONS], Resource: repoArn },
        { Sid: 'EvidencePublicKeys', Effect: 'Allow', Action: [...VERIFY_ACTIONS], Resource: uniq(serviceKeys.map(keyArnIn)) },
        { Sid: 'ProvenanceArtifacts', Effect: 'Allow', Action: [...REGISTRY_LOGIN_ACTIONS], Resource: '*' },
        { Sid: 'ProvenancePublicKey', Effect: 'Allow', Action: [...VERIFY_ACTIONS], Resource: arnOf(`${P}ProvenanceKey`) },
      ]);
    }

    for (const envName of a.environments) {
      const e = cfg.environments.find((x) => x.name === envName)!;
      const t = e.target!;
      const E = `${P}${pascal(envName)}`;
      const own = serviceKeys.find((k) => k.environment === envName)!;
      const others = serviceKeys.filter((k) => k !== own);
      role(`${E}DeployRole`, names.deploy(envName), `deploy-actions ${envName} deploy role of ${s.repository} (deploy.yml, environment ${envName})`, trustConditions(id, { environment: envName }, workflowRef(cfg.aws.deployActions, 'deploy.yml')), [
        { Sid: 'FindCluster', Effect: 'Allow', Action: [...DEPLOY_CLUSTER_ACTIONS], Resource: sub(`arn:\${AWS::Partition}:eks:\${AWS::Region}:\${AWS::AccountId}:cluster/${t.cluster}`) },
        { Sid: 'ImageAndEvidenceTags', Effect: 'Allow', Action: [...DEPLOY_REPOSITORY_ACTIONS], Resource: repoArn },
        { Sid: 'BakeAlarms', Effect: 'Allow', Action: [...DEPLOY_ALARM_ACTIONS], Resource: sub(`arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:*`) },
        { Sid: 'ProvenanceArtifacts', Effect: 'Allow', Action: [...REGISTRY_LOGIN_ACTIONS], Resource: '*' },
        { Sid: 'ProvenancePublicKey', Effect: 'Allow', Action: [...VERIFY_ACTIONS], Resource: isBuild ? arnOf(`${P}ProvenanceKey`) : `arn:${partitionOf(cfg.aws.region)}:kms:${cfg.aws.region}:${cfg.aws.buildAccount}:key/*` },
      ]);
      // The key names its signer; the role's KMS statements name the key: a separate policy keeps
      // CloudFormation's graph acyclic (role -> key -> role policy).
      const readers = roles.filter((r) => r.service === s.name && (r.kind === 'deploy' || r.kind === 'reader'));
      hasKeys = true;
      resources[`${E}EvidenceKey`] = signingKey({
        what: 'Evidence',
        description: `deploy-actions evidence: ${s.repository} ${envName}`,
        signer: arnOf(`${E}DeployRole`),
        signActions: SIGN_ACTIONS,
        verifiers: readers,
        partition,
        tags: [
          { Key: 'deploy-actions:repository', Value: s.repository },
          { Key: 'deploy-actions:environment', Value: envName },
        ],
      });
      outputs[own.output] = { Description: `EVIDENCE_KMS_KEYS entry of ${envName} (${s.repository})`, Value: arnOf(`${E}EvidenceKey`) };
      resources[`${E}DeployRoleEvidencePolicy`] = {
        Type: 'AWS::IAM::RolePolicy',
        Properties: {
          RoleName: ref(`${E}DeployRole`),
          PolicyName: 'deploy-actions-evidence',
          PolicyDocument: policy([
            { Sid: 'SignEvidence', Effect: 'Allow', Action: [...SIGN_ACTIONS], Resource: arnOf(`${E}EvidenceKey`) },
            ...(others.length ? [{ Sid: 'VerifyEvidence', Effect: 'Allow', Action: [...VERIFY_ACTIONS], Resource: uniq(others.map(keyArnIn)) }] : []),
          ]),
        },
      };
      resources[`${E}AccessEntry`] = {
        Type: 'AWS::EKS::AccessEntry',
        Properties: {
          ClusterName: t.cluster,
          PrincipalArn: arnOf(`${E}DeployRole`),
          Type: 'STANDARD',
          AccessPolicies: [
            {
              PolicyArn: sub(`arn:\${AWS::Partition}:eks::aws:cluster-access-policy/${EKS_ACCESS_POLICY}`),
              AccessScope: { Type: 'namespace', Namespaces: [s.namespaces[envName]!] },
            },
          ],
        },
      };
    }
  }

  const parameters: Obj = {
    OidcProvider: {
      Type: 'String',
      AllowedValues: ['create', 'existing'],
      Default: 'create',
      Description: `create: this stack creates the account's GitHub OIDC provider; existing: the account already has ${GITHUB_ISSUER_HOST} (IAM allows one per URL)`,
    },
  };
  const values = [{ ParameterKey: 'OidcProvider', ParameterValue: 'create' }];
  if (hasKeys) {
    parameters.KeyAdministratorArn = {
      Type: 'String',
      AllowedPattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$',
      Description:
        'The IAM role or user that administers the evidence keys. Deploy this stack as that principal: KMS refuses a key policy that would lock out its creator. Keep it out of CI: it can change who signs.',
    };
    values.push({ ParameterKey: 'KeyAdministratorArn', ParameterValue: cfg.aws.keyAdminArn?.arn ?? `arn:${partition}:iam::${a.account}:role/${cfg.aws.keyAdminRole}` });
  }
  const template: Obj = {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `deploy-actions: GitHub OIDC roles${hasKeys ? ', evidence keys and EKS access entries' : ''} for account ${a.account} (${label}). Generated by deploy-setup; do not edit.`,
    Metadata: { DeployActions: { Account: a.account, Region: a.region, Environments: a.environments, Services: cfg.services.map((s) => s.repository) } },
    Parameters: parameters,
    Conditions: { CreateOidcProvider: { 'Fn::Equals': [ref('OidcProvider'), 'create'] } },
    Resources: resources,
    Outputs: outputs,
  };
  return { label, stackName: `deploy-actions-${label}`, account: a.account, region: a.region, environments: a.environments, template, parameters: values };
}

/**
 * The refs a build (and the rollback plan) runs on: the deployment branches of the file's
 * environments (exact names and patterns), else develop and main.
 */
export function releaseRefs(cfg: EnvironmentsConfig): string[] {
  const refs = new Set<string>();
  for (const e of cfg.environments) {
    if (e.branches.mode !== 'custom') continue;
    for (const p of e.branches.policies) if (p.type === 'branch') refs.add(`refs/heads/${p.name}`);
  }
  return refs.size ? [...refs].sort() : ['refs/heads/develop', 'refs/heads/main'];
}
