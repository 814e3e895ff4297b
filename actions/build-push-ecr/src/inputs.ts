import { join } from 'node:path';
import { confinedPath, InputError, KMS_KEY_ARN_RE, type Inputs as RawInputs, parseArn, refuseRepositoryUri, repositoryUriHint } from '@deploy-actions/action-kit';
import { accountRoot } from '@deploy-actions/aws';
import { validateTag } from './tags';

export const BUILDERS = ['auto', 'buildx', 'docker'] as const;
export const MUTABILITY = ['IMMUTABLE', 'MUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION'] as const;

export interface Inputs {
  repository: string;
  registryId?: string;
  region: string;
  context: string;
  dockerfile: string;
  buildArgs: Array<[string, string]>;
  labels: Array<[string, string]>;
  target?: string;
  platforms: string[];
  builder: (typeof BUILDERS)[number];
  tagSemver: boolean;
  tagBranch: boolean;
  tagRunNumber: boolean;
  tagTimestamp: boolean;
  extraTags: string[];
  createRepository: boolean;
  tagMutability: (typeof MUTABILITY)[number];
  /** Wildcard filters (`*`) naming the tags the mutability setting does not apply to. */
  tagMutabilityExclusionFilters: string[];
  scanOnPush: boolean;
  untaggedExpiryDays: number;
  skipExisting: boolean;
  /** Principal ARNs the repository policy lets pull: the pull-accounts' roots, then pull-principals. */
  pullPrincipals: string[];
  /** Principal ARNs (deploy roles of other accounts) the repository policy lets read. */
  readPrincipals: string[];
  /** Principal ARNs (deploy roles of other accounts) the repository policy lets record evidence tags. */
  recordPrincipals: string[];
  cacheRef?: string;
  provenance: boolean;
  /** The build provenance KMS key (PROVENANCE_KMS_KEY): signs what is built, checks what is reused. Unset: neither. */
  provenanceKey?: string;
  sbom: boolean;
}

/**
 * ECR repository names: 2-256 characters, lowercase letters, digits and ._-/ separators,
 * each path component starting and ending with a letter or digit.
 */
const ECR_REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const IAM_PRINCIPAL = /^arn:aws[a-z-]*:iam::\d{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+)$/;
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;

export function validateRepositoryName(name: string, input = 'repository'): string {
  refuseRepositoryUri(input, name);
  if (name.length < 2 || name.length > 256 || !ECR_REPOSITORY.test(name)) {
    throw new InputError(
      input,
      `must be an ECR repository name: 2-256 lowercase letters, digits and . _ - / separators, e.g. team/orders-api${repositoryUriHint(name)}`,
      name,
    );
  }
  return name;
}

function provenanceKey(value: string): string | undefined {
  if (!value) return undefined;
  if (!KMS_KEY_ARN_RE.test(value)) throw new InputError('provenance-kms-key', 'must be the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>; not an alias)', value);
  return value;
}

export function getInputs(i: RawInputs, env: NodeJS.ProcessEnv = process.env): Inputs {
  const repository = validateRepositoryName(i.required('repository'));
  const registryId = i.string('registry-id') || undefined;
  if (registryId && !/^\d{12}$/.test(registryId)) throw new InputError('registry-id', 'must be a 12-digit AWS account id', registryId);
  const region = i.string('aws-region') || env.AWS_REGION || env.AWS_DEFAULT_REGION || '';
  if (!region) throw new InputError('aws-region', 'is required when AWS_REGION is not set (e.g. eu-west-1)');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new InputError('aws-region', 'must be an AWS region like eu-west-1', region);

  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const context = confinedPath('context', i.string('context', '.'), { workspace, kind: 'directory' });
  const dockerfileInput = i.string('dockerfile');
  const dockerfile = dockerfileInput
    ? confinedPath('dockerfile', dockerfileInput, { workspace, kind: 'file' })
    : confinedPath('dockerfile', join(i.string('context', '.'), 'Dockerfile'), { workspace, kind: 'file' });

  const platforms = i.list('platforms');
  for (const p of platforms) if (!PLATFORM.test(p)) throw new InputError('platforms', 'must be os/arch[/variant] entries like linux/amd64', p);
  const builder = i.oneOf('builder', BUILDERS, 'auto');
  if (builder === 'docker' && platforms.length > 0) {
    throw new InputError('platforms', "needs docker buildx; it cannot be used with builder 'docker'");
  }
  const extraTags = i.list('extra-tags');
  for (const t of extraTags) validateTag(t, 'extra-tags');

  const cacheRef = i.string('cache-ref') || undefined;
  if (cacheRef && !/^[a-z0-9.:-]+(\/[a-z0-9._-]+)+(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?$/.test(cacheRef)) {
    throw new InputError('cache-ref', 'must be an image reference like 1234.dkr.ecr.eu-west-1.amazonaws.com/app-cache:main', cacheRef);
  }

  const tagMutability = i.oneOf('image-tag-mutability', MUTABILITY, 'IMMUTABLE');
  const tagMutabilityExclusionFilters = i.list('image-tag-mutability-exclusion-filters');
  const withExclusion = tagMutability.endsWith('_WITH_EXCLUSION');
  if (withExclusion && tagMutabilityExclusionFilters.length === 0) {
    throw new InputError('image-tag-mutability-exclusion-filters', `is required with image-tag-mutability ${tagMutability} (e.g. main, dev-*)`);
  }
  if (!withExclusion && tagMutabilityExclusionFilters.length > 0) {
    throw new InputError('image-tag-mutability-exclusion-filters', 'needs image-tag-mutability IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION');
  }
  if (tagMutabilityExclusionFilters.length > 5) throw new InputError('image-tag-mutability-exclusion-filters', 'takes at most 5 filters (an ECR limit)');
  for (const f of tagMutabilityExclusionFilters) {
    if (!/^[0-9a-zA-Z._*-]{1,128}$/.test(f)) throw new InputError('image-tag-mutability-exclusion-filters', 'must hold tag patterns of letters, digits, . _ - and * wildcards', f);
  }

  const pullAccounts = i.list('pull-accounts');
  for (const a of pullAccounts) if (!/^\d{12}$/.test(a)) throw new InputError('pull-accounts', 'must hold 12-digit AWS account ids', a);
  const principals = (name: string) => {
    const arns = i.list(name);
    for (const arn of arns) {
      if (!IAM_PRINCIPAL.test(arn)) throw new InputError(name, 'must hold IAM role, user or account-root ARNs like arn:aws:iam::333333333333:role/deploy', arn);
      parseArn(name, arn, { service: 'iam', region, what: 'IAM role, user or account-root ARNs' });
    }
    return arns;
  };

  return {
    repository,
    registryId,
    region,
    context,
    dockerfile,
    buildArgs: i.keyValues('build-args'),
    labels: i.keyValues('labels'),
    target: i.string('target') || undefined,
    platforms,
    builder,
    tagSemver: i.bool('tag-semver', true),
    tagBranch: i.bool('tag-branch', false),
    tagRunNumber: i.bool('tag-run-number', false),
    tagTimestamp: i.bool('tag-timestamp', false),
    extraTags,
    createRepository: i.bool('create-repository', true),
    tagMutability,
    tagMutabilityExclusionFilters,
    scanOnPush: i.bool('scan-on-push', true),
    untaggedExpiryDays: i.int('untagged-expiry-days', 14, { min: 0, max: 3650 }),
    skipExisting: i.bool('skip-existing', true),
    pullPrincipals: [...pullAccounts.map((a) => accountRoot(a, region)), ...principals('pull-principals')],
    readPrincipals: principals('read-principals'),
    recordPrincipals: principals('record-principals'),
    cacheRef,
    provenance: i.bool('provenance', false),
    provenanceKey: provenanceKey(i.string('provenance-kms-key')),
    sbom: i.bool('sbom', false),
  };
}
