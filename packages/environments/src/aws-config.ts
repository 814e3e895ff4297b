/**
 * The AWS half of the environments file (all optional, so a file without it still only manages
 * GitHub environments):
 *
 *   aws:
 *     build_account: '111111111111'       # holds the ECR repositories and the build roles
 *     region: eu-west-1                   # the ECR repositories' region; each environment's default
 *     key_admin_role: platform-kms-admin  # role (in each account) that administers the evidence keys:
 *                                         # a name (with its path, if any), or the ARN of a role or user
 *                                         # when every account holding keys is that ARN's account
 *     deploy_actions: org/deploy-actions  # whose reusable workflows (build.yml, deploy.yml) the roles trust
 *     role_prefix: gha                    # role names: <prefix>-<service>-build, <prefix>-<service>-<environment>
 *   services:
 *     my-service:                         # the name in role names
 *       repository: acme/my-service       # the GitHub repository that deploys it
 *       ecr_repository: my-team/my-service
 *       namespace: my-service             # or one per environment: { qa: my-service-qa, ... }
 *   environments:
 *     qa:
 *       account: '222222222222'
 *       region: eu-west-1                 # default: aws.region
 *       cluster: nonprod
 *       variables: { SMOKE_URL: https://... }  # optional extra GitHub environment variables
 *
 * Every error names its place in the file; nothing is generated or called before the whole file
 * is valid.
 */
import { InputError, parseArn, partitionOf, shown } from '@deploy-actions/action-kit';
import { ConfigError } from './errors';

export interface AwsSettings {
  buildAccount: string;
  region: string;
  /** A role name (may carry its path), the role of that name in each account holding keys. */
  keyAdminRole: string;
  /** Given as an ARN instead: that principal, in that account only. */
  keyAdminArn?: { arn: string; account: string };
  deployActions: string;
  rolePrefix: string;
}

export interface ServiceSpec {
  name: string;
  /** owner/name of the GitHub repository. */
  repository: string;
  ecrRepository: string;
  /** Namespace per environment name. */
  namespaces: Record<string, string>;
}

/** Where an environment deploys. */
export interface EnvironmentTarget {
  account: string;
  region: string;
  cluster: string;
}

/** GitHub variables the workflows read that a file may set per environment (the rest are generated). */
export const OPTIONAL_ENV_VARIABLES = ['SMOKE_URL', 'BAKE_DURATION', 'BAKE_ALARMS', 'BAKE_INTERVAL', 'ECR_REGISTRY_ID'] as const;

export const ACCOUNT_RE = /^\d{12}$/;
const REGION_RE = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const ROLE_NAME_PART_RE = /^[A-Za-z0-9+=,.@_-]+$/;
/** A role name with an optional IAM path (`aws-reserved/sso.amazonaws.com/AWSReservedSSO_KmsAdmin_0a1b`). */
const ROLE_PATH_NAME_RE = /^(?:[\x21-\x7e]+\/)*[A-Za-z0-9+=,.@_-]{1,64}$/;
/** What follows `arn:<partition>:iam::<account>:` for a role or a user. */
const IAM_PRINCIPAL_RE = /^(role|user)\/(?:[\x21-\x7e]+\/)*[A-Za-z0-9+=,.@_-]{1,64}$/;
const REPO_RE = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;
/** ECR repository names (AWS: lowercase, optional namespaces separated by '/'). */
const ECR_NAME_RE = /^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Kubernetes namespace names (RFC 1123 label). */
const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** EKS cluster names. */
const CLUSTER_RE = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(map: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(map)) if (!allowed.includes(k)) throw new ConfigError(`${where}: unknown key '${k}' (allowed: ${allowed.join(', ')})`);
}

function text(v: unknown, where: string, re: RegExp, expected: string): string {
  // YAML reads an unquoted 012345678901 as a number: say so rather than guess the digits.
  if (typeof v === 'number') throw new ConfigError(`${where} must be ${expected} in quotes (YAML read ${v} as a number)`);
  if (typeof v !== 'string' || !re.test(v)) throw new ConfigError(`${where} must be ${expected} (got ${JSON.stringify(v ?? null)})`);
  return v;
}

/**
 * An ARN at `where` in the file, parsed by the code the actions use (action-kit's parseArn):
 * an existing partition, the one of `region`; the refusal names the place in the file.
 */
export function fileArn(value: string, where: string, o: { service: string; region: string; what: string }) {
  try {
    return parseArn(where, value, o);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new ConfigError(`${where} ${err.expected.replace("the aws-region's", "aws.region's")} (got '${shown(value)}')`);
  }
}

/** `key_admin_role`: a role name (with its path), or the ARN of a role or user. */
function keyAdmin(raw: unknown, where: string, region: string): Pick<AwsSettings, 'keyAdminRole' | 'keyAdminArn'> {
  if (raw === undefined) return { keyAdminRole: 'deploy-actions-key-admin' };
  if (typeof raw === 'string' && raw.startsWith('arn:')) {
    const arn = fileArn(raw, where, { service: 'iam', region, what: 'the ARN of an IAM role or user (arn:aws:iam::123456789012:role/name)' });
    if (arn.region || !arn.account || !IAM_PRINCIPAL_RE.test(arn.resource)) {
      throw new ConfigError(`${where} must be an IAM role name or the ARN of an IAM role or user (arn:${arn.partition}:iam::<account>:role/<name>) (got '${shown(raw)}')`);
    }
    return { keyAdminRole: arn.resource.slice(arn.resource.indexOf('/') + 1), keyAdminArn: { arn: raw, account: arn.account } };
  }
  return { keyAdminRole: text(raw, where, ROLE_PATH_NAME_RE, 'an IAM role name (with its path, if any) or the ARN of an IAM role or user') };
}

export function parseAws(raw: unknown, file: string): AwsSettings | undefined {
  if (raw === undefined || raw === null) return undefined;
  const where = `${file}: aws`;
  if (!isMap(raw)) throw new ConfigError(`${where} must be a mapping`);
  onlyKeys(raw, ['build_account', 'region', 'key_admin_role', 'deploy_actions', 'role_prefix'], where);
  const region = text(raw.region, `${where}.region`, REGION_RE, 'an AWS region such as eu-west-1');
  return {
    buildAccount: text(raw.build_account, `${where}.build_account`, ACCOUNT_RE, 'a 12-digit AWS account id'),
    region,
    ...keyAdmin(raw.key_admin_role, `${where}.key_admin_role`, region),
    deployActions: raw.deploy_actions === undefined ? 'org/deploy-actions' : text(raw.deploy_actions, `${where}.deploy_actions`, REPO_RE, 'owner/name'),
    rolePrefix: raw.role_prefix === undefined ? 'gha' : text(raw.role_prefix, `${where}.role_prefix`, ROLE_NAME_PART_RE, 'letters, digits or +=,.@_-'),
  };
}

export function parseTarget(spec: Record<string, unknown>, where: string, aws: AwsSettings | undefined): EnvironmentTarget | undefined {
  const given = ['account', 'region', 'cluster'].filter((k) => spec[k] !== undefined);
  if (given.length === 0) return undefined;
  if (!aws) throw new ConfigError(`${where}.${given[0]} needs the top-level 'aws' section (build_account, region)`);
  if (spec.account === undefined) throw new ConfigError(`${where}.account is required with ${given.join(', ')}`);
  if (spec.cluster === undefined) throw new ConfigError(`${where}.cluster is required with ${given.join(', ')}`);
  const region = spec.region === undefined ? aws.region : text(spec.region, `${where}.region`, REGION_RE, 'an AWS region such as eu-west-1');
  // One set-up spans one partition: its roles trust each other and pull from one registry by ARN.
  if (partitionOf(region) !== partitionOf(aws.region)) {
    throw new ConfigError(`${where}.region: ${region} is in the partition ${partitionOf(region)}, aws.region ${aws.region} in ${partitionOf(aws.region)}: every environment must be in the partition of aws.region`);
  }
  return {
    account: text(spec.account, `${where}.account`, ACCOUNT_RE, 'a 12-digit AWS account id'),
    region,
    cluster: text(spec.cluster, `${where}.cluster`, CLUSTER_RE, 'an EKS cluster name'),
  };
}

export function parseVariables(raw: unknown, where: string): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!isMap(raw)) throw new ConfigError(`${where} must be a mapping of variable names to values`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(OPTIONAL_ENV_VARIABLES as readonly string[]).includes(k)) {
      throw new ConfigError(`${where}: '${k}' is not a variable this file sets (allowed: ${OPTIONAL_ENV_VARIABLES.join(', ')}; the others are generated)`);
    }
    if (typeof v !== 'string' && typeof v !== 'number') throw new ConfigError(`${where}.${k} must be a string`);
    out[k] = String(v);
  }
  return out;
}

export function parseServices(raw: unknown, file: string, environments: readonly string[], aws: AwsSettings | undefined): ServiceSpec[] {
  if (raw === undefined || raw === null) return [];
  const where = `${file}: services`;
  if (!aws) throw new ConfigError(`${where} needs the top-level 'aws' section (build_account, region)`);
  if (!isMap(raw) || Object.keys(raw).length === 0) throw new ConfigError(`${where} must be a mapping of service names to their repository, ecr_repository and namespace`);
  const out: ServiceSpec[] = [];
  for (const [name, spec] of Object.entries(raw)) {
    const at = `${where}.${name}`;
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(name)) throw new ConfigError(`${at}: a service name must be lowercase letters, digits and '-' (at most 40; it is part of role names)`);
    if (!isMap(spec)) throw new ConfigError(`${at} must be a mapping with repository, ecr_repository and namespace`);
    onlyKeys(spec, ['repository', 'ecr_repository', 'namespace'], at);
    const repository = text(spec.repository, `${at}.repository`, REPO_RE, 'the GitHub repository as owner/name');
    if (out.some((s) => s.repository.toLowerCase() === repository.toLowerCase())) throw new ConfigError(`${at}.repository: ${repository} is listed twice`);
    const ecrRepository = text(spec.ecr_repository, `${at}.ecr_repository`, ECR_NAME_RE, 'an ECR repository name (lowercase, may contain /)');
    const namespaces: Record<string, string> = {};
    if (isMap(spec.namespace)) {
      for (const env of environments) {
        if (spec.namespace[env] === undefined) throw new ConfigError(`${at}.namespace.${env} is missing (a namespace per environment, or one for all)`);
      }
      for (const [env, ns] of Object.entries(spec.namespace)) {
        if (!environments.includes(env)) throw new ConfigError(`${at}.namespace: '${env}' is not one of the environments (${environments.join(', ')})`);
        namespaces[env] = text(ns, `${at}.namespace.${env}`, NAMESPACE_RE, 'a Kubernetes namespace name');
      }
    } else {
      const ns = text(spec.namespace, `${at}.namespace`, NAMESPACE_RE, 'a Kubernetes namespace name (or a mapping per environment)');
      for (const env of environments) namespaces[env] = ns;
    }
    out.push({ name, repository, ecrRepository, namespaces });
  }
  return out;
}
