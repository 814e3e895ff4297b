/**
 * AWS names parsed at the boundary, before any call: partitions and their regions, ARNs, and a
 * repository URI given where a repository name is expected. Pure; part of every action's entry.
 */
import { InputError } from './errors';

/** The partitions AWS documents, and the region prefixes of each other than `aws` (the rest). */
const PARTITION_REGIONS: ReadonlyArray<[partition: string, prefix: RegExp]> = [
  ['aws-cn', /^cn-/],
  ['aws-us-gov', /^us-gov-/],
  ['aws-iso', /^us-iso-/],
  ['aws-iso-b', /^us-isob-/],
  ['aws-iso-e', /^eu-isoe-/],
  ['aws-iso-f', /^us-isof-/],
  ['aws-eusc', /^eusc-/],
];
export const PARTITIONS: readonly string[] = ['aws', ...PARTITION_REGIONS.map(([p]) => p)];

/** The partition a region belongs to (`cn-north-1` -> `aws-cn`, `us-gov-west-1` -> `aws-us-gov`, others `aws`). */
export function partitionOf(region: string): string {
  return PARTITION_REGIONS.find(([, prefix]) => prefix.test(region))?.[0] ?? 'aws';
}

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/**
 * `value` as an ARN of `service`, refused (naming `input`) unless its partition exists and, when
 * `region` is known, is that region's partition; `regional` ARNs (KMS keys) must name a region
 * of the same partition too.
 */
export function parseArn(input: string, value: string, o: { service: string; region?: string; what: string }): Arn {
  const m = /^arn:([a-z-]+):([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:(.+)$/.exec(value);
  if (!m || m[2] !== o.service) throw new InputError(input, `must hold ${o.what}`, value);
  const [, partition, service, arnRegion, account = '', resource] = m as unknown as [string, string, string, string, string | undefined, string];
  if (!PARTITIONS.includes(partition)) throw new InputError(input, `must hold ARNs of an AWS partition (${PARTITIONS.join(', ')}); '${partition}' is none`, value);
  if (arnRegion && partitionOf(arnRegion) !== partition) {
    throw new InputError(input, `must hold ARNs whose partition matches their region: ${arnRegion} is in ${partitionOf(arnRegion)}, not ${partition}`, value);
  }
  if (o.region && partitionOf(o.region) !== partition) {
    throw new InputError(input, `must hold ARNs of the aws-region's partition: ${o.region} is in ${partitionOf(o.region)}, not ${partition}`, value);
  }
  return { partition, service, region: arnRegion, account, resource };
}

/** A registry host as the first path segment: an ECR registry (any partition, FIPS), ECR Public, localhost, or any host:port. */
const REGISTRY_HOST = /^(\d{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?|public\.ecr\.aws|localhost|[^/]+:\d+)$/;

/** Whether `value` starts with a registry host (REGISTRY_HOST) followed by a path. */
export function isRepositoryUri(value: string): boolean {
  return value.includes('/') && REGISTRY_HOST.test(value.split('/')[0] ?? '');
}

/**
 * Refuses a repository URI (`<registry host>/team/app`) given where a repository name is
 * expected: its dots make it a valid name, so ECR would be asked about a repository that
 * does not exist, or create one.
 */
export function refuseRepositoryUri(input: string, value: string): void {
  if (isRepositoryUri(value)) throw new InputError(input, `must be an ECR repository name${repositoryUriHint(value)}`, value);
}

/**
 * When `value` (refused as a repository name) is a repository URI or reference, the hint that
 * says which name to give: `registry/team/app:tag` -> ` (a repository name, not a URI: give team/app)`.
 */
export function repositoryUriHint(value: string): string {
  if (/[\0-\x20\x7f]/.test(value)) return '';
  const parts = value.split('/');
  const host = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!) ? parts.shift() : undefined;
  const name = parts.join('/').replace(/@.*$/, '').replace(/:[^/]*$/, '');
  if (!host && name === value) return '';
  return ` (a repository name, not ${host ? 'its URI' : 'a reference with a tag or digest'}: give ${name || 'the path after the registry host'})`;
}

/** arn:aws:kms:<region>:<account>:key/<id>: a key, never an alias (an alias can be moved to another key). */
export const KMS_KEY_ARN_RE = /^arn:aws(?:-[a-z]+)*:kms:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):key\/((?:mrk-)?[0-9a-f-]{32,36})$/;
