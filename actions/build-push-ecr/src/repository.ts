/**
 * The service's ECR repository: what the run reads first (the repository and the requested
 * tags, in one round trip), creating it with our settings and a creation marker, and
 * reconciling the settings we own on a repository that carries our marker.
 */
import { UserError, type ActionIO } from '@deploy-actions/action-kit';
import {
  MANIFEST_MEDIA_TYPES,
  awsCall,
  awsErrorName,
  isAccessDenied,
  wildcardRegExp,
  type AwsCallOptions,
  type EcrApi,
  type EcrRepository as Repository,
  type Manifest,
} from '@deploy-actions/aws';
import type { Inputs } from './inputs';

/** The repository tag that says build-push-ecr created the repository (and so owns its settings). */
export const CREATION_MARKER = { Key: 'deploy-actions:created-by', Value: 'build-push-ecr' };

interface Io {
  ecr: EcrApi;
  io: ActionIO;
}

/** ECR's lifecycle rule that expires untagged images (build cache leftovers, replaced indexes). */
export function untaggedExpiryPolicy(days: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `Expire untagged images after ${days} days (deploy-actions)`,
        selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: days },
        action: { type: 'expire' },
      },
    ],
  });
}

/**
 * Does ECR refuse to move `tag` in this repository? Exclusion filters (`*` wildcards matching
 * the whole tag, case-sensitively) turn the repository's setting around for the tags they match.
 */
export function tagIsImmutable(repository: Pick<Repository, 'imageTagMutability' | 'imageTagMutabilityExclusionFilters'>, tag: string): boolean {
  const mode = repository.imageTagMutability ?? 'MUTABLE';
  const immutable = mode.startsWith('IMMUTABLE');
  if (!mode.endsWith('_WITH_EXCLUSION')) return immutable;
  const excluded = (repository.imageTagMutabilityExclusionFilters ?? []).some((f) => wildcardRegExp(f.filter ?? '').test(tag));
  return excluded ? !immutable : immutable;
}

export interface RepoState {
  repository?: Repository;
  /** tag -> digest, for the requested tags that exist. */
  existing: Map<string, string>;
  /** digest -> manifest, for the images the lookup returned (tags are added from these, no second read). */
  manifests: Map<string, Manifest>;
  /** Whether the repository has a lifecycle policy (read only when we would set one; undefined: not read or not allowed). */
  hasLifecyclePolicy?: boolean;
}

/** The repository, the requested tags and (with `settings`) its lifecycle policy: one round trip. */
export async function readRepoState(inputs: Inputs, { ecr, io }: Io, tags: string[], aws: AwsCallOptions, settings = false): Promise<RepoState> {
  const ref = { repositoryName: inputs.repository, registryId: inputs.registryId };
  const describe = awsCall('ecr:DescribeRepositories', inputs.repository, () =>
    ecr.call('DescribeRepositories', { repositoryNames: [inputs.repository], registryId: inputs.registryId }),
    aws,
  );
  const images = awsCall('ecr:BatchGetImage', inputs.repository, () =>
    ecr.call('BatchGetImage', { ...ref, imageIds: tags.map((imageTag) => ({ imageTag })), acceptedMediaTypes: MANIFEST_MEDIA_TYPES }),
    aws,
  );
  const lifecycle =
    settings && inputs.untaggedExpiryDays > 0
      ? readOrWarn(`the lifecycle policy of ${inputs.repository}`, () =>
          awsCall('ecr:GetLifecyclePolicy', inputs.repository, () => ecr.call('GetLifecyclePolicy', ref), aws).then(
            () => true,
            (err) => {
              const name = awsErrorName(err);
              if (name === 'LifecyclePolicyNotFoundException') return false;
              if (name === 'RepositoryNotFoundException') return undefined;
              throw err;
            },
          ),
          io,
        )
      : Promise.resolve(undefined);
  // The reads go out together: a re-run on a pushed SHA costs one round trip.
  const [d, i, l] = await Promise.allSettled([describe, images, lifecycle]);
  if (d.status === 'rejected') {
    if (awsErrorName(d.reason) === 'RepositoryNotFoundException') return { existing: new Map(), manifests: new Map() };
    throw d.reason;
  }
  if (i.status === 'rejected') throw i.reason;
  if (l.status === 'rejected') throw l.reason;
  const existing = new Map<string, string>();
  const manifests = new Map<string, Manifest>();
  for (const img of i.value.images ?? []) {
    const digest = img.imageId?.imageDigest;
    if (!digest) continue;
    if (img.imageId?.imageTag) existing.set(img.imageId.imageTag, digest);
    if (img.imageManifest) manifests.set(digest, { imageManifest: img.imageManifest, imageManifestMediaType: img.imageManifestMediaType });
  }
  return { repository: d.value.repositories?.[0], existing, manifests, hasLifecyclePolicy: l.value };
}

async function putLifecyclePolicy(inputs: Inputs, { ecr, io }: Io, aws: AwsCallOptions): Promise<void> {
  await awsCall('ecr:PutLifecyclePolicy', inputs.repository, () =>
    ecr.call('PutLifecyclePolicy', { repositoryName: inputs.repository, registryId: inputs.registryId, lifecyclePolicyText: untaggedExpiryPolicy(inputs.untaggedExpiryDays) }),
    aws,
  );
  io.info(`Lifecycle policy: untagged images expire after ${inputs.untaggedExpiryDays} days`);
}

/**
 * Creates the repository with our settings and the creation marker. When a setting cannot be
 * applied (the lifecycle policy denied, say), the step fails naming it; the next run finds
 * the marker and applies what is missing.
 */
export async function createRepository(inputs: Inputs, deps: Io, aws: AwsCallOptions): Promise<Repository> {
  if (!inputs.createRepository) {
    throw new UserError(`ECR repository '${inputs.repository}' does not exist and create-repository is false`);
  }
  let repository: Repository;
  try {
    const filters = inputs.tagMutabilityExclusionFilters.map((filter) => ({ filterType: 'WILDCARD' as const, filter }));
    const created = await awsCall('ecr:CreateRepository', inputs.repository, () =>
      deps.ecr.call('CreateRepository', {
        repositoryName: inputs.repository,
        registryId: inputs.registryId,
        imageTagMutability: inputs.tagMutability,
        ...(filters.length > 0 ? { imageTagMutabilityExclusionFilters: filters } : {}),
        imageScanningConfiguration: { scanOnPush: inputs.scanOnPush },
        tags: [CREATION_MARKER],
      }),
      aws,
    );
    repository = created.repository!;
    const excluded = filters.length > 0 ? ` except ${inputs.tagMutabilityExclusionFilters.join(', ')}` : '';
    deps.io.info(`Created ECR repository ${inputs.repository} (tags ${inputs.tagMutability}${excluded}, scan on push ${inputs.scanOnPush})`);
  } catch (err) {
    // Another job created it between our read and this call: use theirs, settings untouched.
    if (awsErrorName(err) !== 'RepositoryAlreadyExistsException') throw err;
    const d = await awsCall('ecr:DescribeRepositories', inputs.repository, () =>
      deps.ecr.call('DescribeRepositories', { repositoryNames: [inputs.repository], registryId: inputs.registryId }),
      aws,
    );
    return d.repositories![0]!;
  }
  if (inputs.untaggedExpiryDays > 0) {
    try {
      await putLifecyclePolicy(inputs, deps, aws);
    } catch (err) {
      if (err instanceof UserError) throw new UserError(`${err.message} The repository was created; the next run applies the missing lifecycle policy.`);
      throw err;
    }
  }
  return repository;
}

/** An optional read: undefined when the identity may not make it (with a warning naming what it could not check). */
async function readOrWarn<T>(what: string, call: () => Promise<T>, io: ActionIO): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (!isAccessDenied(err) && !(err instanceof UserError && /^AccessDenied/.test(err.message))) throw err;
    io.warning(`Could not check ${what}: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/**
 * On an existing repository: settings we own (lifecycle policy, scan on push) are applied when
 * missing if the repository carries our creation marker; a repository we did not create is
 * left alone, with a warning naming what it lacks. Returns the summary line.
 */
export async function reconcileRepository(inputs: Inputs, deps: Io, state: RepoState & { repository: Repository }, aws: AwsCallOptions): Promise<string> {
  const name = inputs.repository;
  const missing: string[] = [];
  if (state.hasLifecyclePolicy === false) missing.push('lifecycle policy');
  if (inputs.scanOnPush && state.repository.imageScanningConfiguration?.scanOnPush === false) missing.push('scan on push');
  if (missing.length === 0) return 'as they were';
  const tags = await readOrWarn(
    `whether deploy-actions created ${name}`,
    () => awsCall('ecr:ListTagsForResource', name, () => deps.ecr.call('ListTagsForResource', { resourceArn: state.repository.repositoryArn }), aws),
    deps.io,
  );
  const ours = tags?.tags?.some((t) => t.Key === CREATION_MARKER.Key && t.Value === CREATION_MARKER.Value) ?? false;
  if (!ours) {
    deps.io.warning(`ECR repository ${name} was not created by deploy-actions, so its settings are left as they are; it lacks: ${missing.join(', ')}`);
    return `not created by deploy-actions, left as it is (lacks ${missing.join(', ')})`;
  }
  if (state.hasLifecyclePolicy === false) await putLifecyclePolicy(inputs, deps, aws);
  if (missing.includes('scan on push')) {
    await awsCall('ecr:PutImageScanningConfiguration', name, () =>
      deps.ecr.call('PutImageScanningConfiguration', { repositoryName: name, registryId: inputs.registryId, imageScanningConfiguration: { scanOnPush: true } }),
      aws,
    );
  }
  deps.io.info(`Applied the missing settings of ${name}: ${missing.join(', ')}`);
  return `applied missing: ${missing.join(', ')}`;
}

/** Requested tags that sit on another image and may not move there. */
export function conflicts(state: RepoState, repository: Repository, tags: string[], digest: string | undefined): string[] {
  return tags.filter((t) => state.existing.has(t) && state.existing.get(t) !== digest && tagIsImmutable(repository, t));
}
