/**
 * Reuse by content: the image found under this commit's SHA tag or under the content key tag is
 * used instead of building. The key tag names the first image built for the key and never moves.
 */
import type { ActionIO } from '@deploy-actions/action-kit';
import { findImageByTag, tagExistingImage, type AwsCallOptions, type EcrApi } from '@deploy-actions/aws';

export interface Reusable {
  digest: string;
  /** The tag the image was found under: the SHA tag (a re-run) or the content key. */
  from: string;
  why: string;
  /**
   * The image is known to be the content key's (found under the key, or the key tag names it too).
   * When false, the commit's image was built from other content (build args, Dockerfile, target or
   * platforms changed for this commit) or before content keys: it must not get the key tag.
   */
  keyed: boolean;
}

/** This commit's SHA tag first (a re-run keeps its own image), then the content key. Pure. */
export function findReusable(existing: Map<string, string>, shaTag: string, key: string | undefined): Reusable | undefined {
  const own = existing.get(shaTag);
  const same = key ? existing.get(key) : undefined;
  if (own) {
    if (!key || same === own) return { digest: own, from: shaTag, why: `commit tag ${shaTag} already exists`, keyed: key !== undefined };
    const other = same ? `${key} names ${same}` : `no image has ${key}`;
    return {
      digest: own,
      from: shaTag,
      why: `commit tag ${shaTag} already exists, on an image that is not this content's (${other}): it was built with other build args, Dockerfile, target or platforms, or before content keys. Tags are immutable, so this commit keeps that image; commit again to build this content`,
      keyed: false,
    };
  }
  if (same) return { digest: same, from: key!, why: `an image with content key ${key} exists (same tree, Dockerfile, target, platforms and build args)`, keyed: true };
  return undefined;
}

/**
 * Puts the key tag on the image unless the key already names one. When another run tagged another
 * image with the key meanwhile, that one stays the key's image: a warning, not a failure.
 */
export async function tagContentKey(
  ecr: EcrApi,
  ref: { repositoryName: string; registryId?: string },
  digest: string,
  key: string,
  existing: Map<string, string>,
  aws: AwsCallOptions,
  io: ActionIO,
): Promise<void> {
  const current = existing.get(key);
  if (current) {
    if (current !== digest) io.info(`Content key ${key} stays on ${current}, the first image built from this content`);
    return;
  }
  try {
    await tagExistingImage(ecr, ref, digest, key, aws);
    io.info(`Tagged ${digest} as ${key}`);
  } catch (err) {
    const theirs = await findImageByTag(ecr, ref, key, aws);
    if (!theirs?.imageDigest || theirs.imageDigest === digest) throw err;
    io.warning(`Another run tagged ${theirs.imageDigest} with content key ${key} first; this image keeps its commit tag only`);
  }
}
