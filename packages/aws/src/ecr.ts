import type { ECRClient } from '@aws-sdk/client-ecr';
import { UserError } from '@deploy-actions/action-kit';
import { awsCall, awsErrorName, type AwsCallOptions } from './errors';
import type { EcrApi, EcrOperations } from './ecr-api';

/** Manifest types BatchGetImage may return; without this list ECR converts to Docker v2 schema 2. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

/** ECR as the helpers below take it: the small client (ecrApi) or an SDK ECRClient (makeEcrClient). */
export type EcrLike = EcrApi | Pick<ECRClient, 'send'>;

/** `ecr` as an EcrApi; an SDK client is wrapped (its module loaded only then: it is the SDK's). */
export async function asEcrApi(ecr: EcrLike): Promise<EcrApi> {
  if ('call' in ecr) return ecr;
  const { sdkEcrApi } = await import('./ecr-sdk');
  return sdkEcrApi(ecr);
}

type ImageDetail = NonNullable<EcrOperations['DescribeImages']['output']['imageDetails']>[number];

export interface ImageRef {
  repositoryName: string;
  registryId?: string;
}

/** The image carrying `tag`, or undefined when no image has it. Repository absence is thrown. */
export async function findImageByTag(
  ecr: EcrLike,
  ref: ImageRef,
  tag: string,
  opts: AwsCallOptions = {},
): Promise<ImageDetail | undefined> {
  const api = await asEcrApi(ecr);
  try {
    const res = await awsCall('ecr:DescribeImages', ref.repositoryName, () =>
      api.call('DescribeImages', { repositoryName: ref.repositoryName, registryId: ref.registryId, imageIds: [{ imageTag: tag }] }),
      opts,
    );
    return res.imageDetails?.[0];
  } catch (err) {
    if (awsErrorName(err) === 'ImageNotFoundException') return undefined;
    throw err;
  }
}

export type TagResult = 'created' | 'existed';

/** An image manifest as ECR returns it (BatchGetImage). */
export interface Manifest {
  imageManifest: string;
  imageManifestMediaType?: string;
}

/** The manifest of the image `digest` (one BatchGetImage); a UserError when there is none. */
export async function getManifest(ecr: EcrLike, ref: ImageRef, digest: string, opts: AwsCallOptions = {}): Promise<Manifest> {
  const api = await asEcrApi(ecr);
  const got = await awsCall('ecr:BatchGetImage', ref.repositoryName, () =>
    api.call('BatchGetImage', {
      repositoryName: ref.repositoryName,
      registryId: ref.registryId,
      imageIds: [{ imageDigest: digest }],
      acceptedMediaTypes: MANIFEST_MEDIA_TYPES,
    }),
    opts,
  );
  const image = got.images?.[0];
  if (!image?.imageManifest) throw new UserError(`Image ${ref.repositoryName}@${digest} does not exist in ECR`);
  return { imageManifest: image.imageManifest, imageManifestMediaType: image.imageManifestMediaType };
}

/**
 * Puts `tag` on the image `digest` by re-putting its manifest: no pull, no push, no
 * layer bytes moved. Idempotent: a tag already on that digest is success; a tag on
 * another digest is a UserError (ECR tags are immutable here). With `manifest` (already read),
 * one call: PutImage.
 */
export async function tagExistingImage(
  ecr: EcrLike,
  ref: ImageRef,
  digest: string,
  tag: string,
  opts: AwsCallOptions = {},
  manifest?: Manifest,
): Promise<TagResult> {
  const api = await asEcrApi(ecr);
  const image = manifest ?? (await getManifest(api, ref, digest, opts));
  try {
    await awsCall('ecr:PutImage', ref.repositoryName, () =>
      api.call('PutImage', {
        repositoryName: ref.repositoryName,
        registryId: ref.registryId,
        imageManifest: image.imageManifest,
        imageManifestMediaType: image.imageManifestMediaType,
        imageDigest: digest,
        imageTag: tag,
      }),
      opts,
    );
    return 'created';
  } catch (err) {
    const name = awsErrorName(err);
    if (name !== 'ImageAlreadyExistsException' && name !== 'ImageTagAlreadyExistsException') throw err;
    const current = await findImageByTag(api, ref, tag, opts);
    if (current?.imageDigest === digest) return 'existed';
    throw new UserError(
      `Tag '${tag}' in ${ref.repositoryName} already points at ${current?.imageDigest ?? 'another image'}, not ${digest}; ECR tags are immutable`,
    );
  }
}

/** The repository policy's text; undefined when the repository has none. */
export async function getRepositoryPolicy(ecr: EcrLike, ref: ImageRef, opts: AwsCallOptions = {}): Promise<string | undefined> {
  const api = await asEcrApi(ecr);
  try {
    const r = await awsCall('ecr:GetRepositoryPolicy', ref.repositoryName, () => api.call('GetRepositoryPolicy', ref), opts);
    return r.policyText;
  } catch (err) {
    if (awsErrorName(err) === 'RepositoryPolicyNotFoundException') return undefined;
    throw err;
  }
}
