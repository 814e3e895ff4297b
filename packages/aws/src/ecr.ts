import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  GetRepositoryPolicyCommand,
  PutImageCommand,
  type ImageDetail,
} from '@aws-sdk/client-ecr';
import { UserError } from '@deploy-actions/action-kit';
import { awsClientConfig, reportEndpoint } from './client';
import { awsCall, awsErrorName, type AwsCallOptions } from './errors';

/** Manifest types BatchGetImage may return; without this list ECR converts to Docker v2 schema 2. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

/** An ECR client whose retries are ours (awsCall), configured from the standard chain and AWS_ENDPOINT_URL_ECR. */
export function makeEcrClient(region: string): ECRClient {
  return reportEndpoint(new ECRClient(awsClientConfig(region)));
}

export interface ImageRef {
  repositoryName: string;
  registryId?: string;
}

/** The image carrying `tag`, or undefined when no image has it. Repository absence is thrown. */
export async function findImageByTag(
  ecr: ECRClient,
  ref: ImageRef,
  tag: string,
  opts: AwsCallOptions = {},
): Promise<ImageDetail | undefined> {
  try {
    const res = await awsCall('ecr:DescribeImages', ref.repositoryName, () =>
      ecr.send(
        new DescribeImagesCommand({
          repositoryName: ref.repositoryName,
          registryId: ref.registryId,
          imageIds: [{ imageTag: tag }],
        }),
      ),
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
export async function getManifest(ecr: ECRClient, ref: ImageRef, digest: string, opts: AwsCallOptions = {}): Promise<Manifest> {
  const got = await awsCall('ecr:BatchGetImage', ref.repositoryName, () =>
    ecr.send(
      new BatchGetImageCommand({
        repositoryName: ref.repositoryName,
        registryId: ref.registryId,
        imageIds: [{ imageDigest: digest }],
        acceptedMediaTypes: MANIFEST_MEDIA_TYPES,
      }),
    ),
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
  ecr: ECRClient,
  ref: ImageRef,
  digest: string,
  tag: string,
  opts: AwsCallOptions = {},
  manifest?: Manifest,
): Promise<TagResult> {
  const image = manifest ?? (await getManifest(ecr, ref, digest, opts));
  try {
    await awsCall('ecr:PutImage', ref.repositoryName, () =>
      ecr.send(
        new PutImageCommand({
          repositoryName: ref.repositoryName,
          registryId: ref.registryId,
          imageManifest: image.imageManifest,
          imageManifestMediaType: image.imageManifestMediaType,
          imageDigest: digest,
          imageTag: tag,
        }),
      ),
      opts,
    );
    return 'created';
  } catch (err) {
    const name = awsErrorName(err);
    if (name !== 'ImageAlreadyExistsException' && name !== 'ImageTagAlreadyExistsException') throw err;
    const current = await findImageByTag(ecr, ref, tag, opts);
    if (current?.imageDigest === digest) return 'existed';
    throw new UserError(
      `Tag '${tag}' in ${ref.repositoryName} already points at ${current?.imageDigest ?? 'another image'}, not ${digest}; ECR tags are immutable`,
    );
  }
}

/** The repository policy's text; undefined when the repository has none. */
export async function getRepositoryPolicy(ecr: Pick<ECRClient, 'send'>, ref: ImageRef, opts: AwsCallOptions = {}): Promise<string | undefined> {
  try {
    const r = await awsCall('ecr:GetRepositoryPolicy', ref.repositoryName, () => ecr.send(new GetRepositoryPolicyCommand(ref)), opts);
    return r.policyText;
  } catch (err) {
    if (awsErrorName(err) === 'RepositoryPolicyNotFoundException') return undefined;
    throw err;
  }
}
