/**
 * The order of writes (docs/build-push-ecr.md, "Order of writes"): a build is pushed under a
 * staging tag no other run uses, its provenance is stored, and only then does the image get the
 * commit's SHA tag (one ECR PutImage of its manifest). No permanent tag ever names an image
 * without provenance, so a KMS or registry failure half-way leaves nothing a re-run trips on.
 * The staging tag is removed at the end, whatever happened: ECR's BatchDeleteImage by tag removes
 * only that tag while others remain, and the image itself when it was the last one (a build whose
 * provenance could not be written).
 */
import { UserError, type ActionIO, type GitHubContext } from '@deploy-actions/action-kit';
import type { Provenance } from './provenance';
import { awsCall, findImageByTag, tagExistingImage, type AwsCallOptions, type EcrApi, type ImageRef, type Manifest } from '@deploy-actions/aws';

/** Every staging tag starts so; nothing but this file reads or writes such a tag. */
export const STAGING_PREFIX = 'staging-';

/** `staging-<sha7>-<run id>-<attempt>-<nonce>`: unique to this run attempt (the nonce covers two jobs of one run). */
export function stagingTag(ctx: Pick<GitHubContext, 'runId' | 'runAttempt'>, commit: string, nonce: string): string {
  const run = /^[0-9]+$/.test(ctx.runId) ? ctx.runId : 'local';
  const attempt = /^[0-9]+$/.test(ctx.runAttempt) ? ctx.runAttempt : '1';
  return `${STAGING_PREFIX}${commit.slice(0, 7)}-${run}-${attempt}-${nonce}`;
}

export interface Staged {
  ecr: EcrApi;
  ref: ImageRef;
  aws: AwsCallOptions;
  io: ActionIO;
  /** This run's image, pushed under `staging`. */
  digest: string;
  staging: string;
}

/**
 * The SHA tag on this run's image. When a concurrent run of the same commit put it on its own
 * image first, that image's digest comes back (the caller decides whether it may be used).
 */
export async function putShaTag(s: Staged, shaTag: string, manifest: Manifest): Promise<{ digest: string; ours: boolean }> {
  try {
    await tagExistingImage(s.ecr, s.ref, s.digest, shaTag, s.aws, manifest);
    return { digest: s.digest, ours: true };
  } catch (err) {
    const theirs = (await findImageByTag(s.ecr, s.ref, shaTag, s.aws))?.imageDigest;
    if (!theirs || theirs === s.digest) throw err;
    return { digest: theirs, ours: false };
  }
}

/**
 * Removes the staging tag. Never fails the step: a tag left behind is named in a warning (it
 * names nothing permanent; deploy-setup's build role may remove it, docs say how to by hand).
 */
export async function removeStagingTag(s: Staged): Promise<void> {
  try {
    const res = await awsCall('ecr:BatchDeleteImage', s.ref.repositoryName, () =>
      s.ecr.call('BatchDeleteImage', { repositoryName: s.ref.repositoryName, registryId: s.ref.registryId, imageIds: [{ imageTag: s.staging }] }),
      s.aws,
    );
    const failure = res?.failures?.find((f) => f.failureCode !== 'ImageNotFound');
    if (failure) throw new UserError(`ECR answered ${failure.failureCode}: ${failure.failureReason ?? ''}`);
    s.io.info(`Staging tag ${s.staging} removed`);
  } catch (err) {
    s.io.warning(`Staging tag ${s.staging} is left on ${s.digest} in ${s.ref.repositoryName} (no permanent tag depends on it; remove it with aws ecr batch-delete-image --image-ids imageTag=${s.staging}): ${(err as Error).message.split('\n')[0]}`);
  }
}

export interface Race {
  repositoryUri: string;
  shaTag: string;
  /** This run's image (it keeps no tag). */
  built: string;
  /** The image a concurrent run of this commit put the SHA tag on first. */
  theirs: string;
  commit: string;
  key: string | undefined;
}

/**
 * The run that lost the SHA tag uses the winner's image only when the winner's provenance
 * verifies for this commit, as a re-run's reuse does; the content key stays only when the
 * winner's statement names it. Without a provenance key there is nothing to check (a warning).
 */
export async function useWinner(io: ActionIO, provenance: Provenance | undefined, r: Race): Promise<{ key: string | undefined; row?: string }> {
  const first = `Another run of this commit tagged ${r.repositoryUri}:${r.shaTag} first (${r.theirs})`;
  if (!provenance) {
    io.warning(`${first}; using that image without a provenance check: input provenance-kms-key is empty`);
    return { key: r.key };
  }
  const verdict = await provenance.verify({ digest: r.theirs, commit: r.commit });
  if (!verdict.ok) {
    throw new UserError(
      `${first} and it is not used: ${verdict.detail}; this run's image ${r.built} got no tag and is removed (tag ${r.shaTag} is immutable: push a new commit, or have an administrator remove the tag after finding out how it got there)`,
    );
  }
  io.warning(`${first}; using that image: ${verdict.detail}`);
  return { key: r.key !== undefined && verdict.facts.contentKey === r.key ? r.key : undefined, row: verdict.detail };
}
