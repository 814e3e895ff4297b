/**
 * What ties a digest to the commit it is recorded or promoted for (issue 20, "the chain has no
 * gaps"). build-push-ecr leaves the commit's build tag (`{sha7}`, `commit-tag-template`) on every
 * image it builds for a commit, and on the image it reuses for one (by that tag on a re-run, or by
 * the content key, when another commit built the same content): the tag is the record that this
 * commit's build produced this digest. A content key is that build's key only when its tag is on
 * the same image: a key then names the content the commit was built from, never another commit's.
 *
 * One DescribeImages call by digest gives the image's tags; a second (by tag) only to say where a
 * missing tag is instead. Pure decisions (`judgeSource`) apart from the calls (`proveSource`).
 * A tag alone can be planted by anyone holding the build role: with the provenance key
 * (`provenance-kms-key`), `proveProvenance` also requires a build provenance statement signed with
 * it for this digest and commit (or content key), read from ECR (@deploy-actions/aws/provenance).
 */
import { asEcrApi, awsCall, awsErrorName, findImageByTag, type AwsCallOptions, type EcrLike } from '@deploy-actions/aws';
import type { EvidenceKeys } from '@deploy-actions/aws/kms';
import { checkProvenance, ecrRegistry } from '@deploy-actions/aws/provenance';

export interface SourceClaim {
  repository: string;
  registryId?: string;
  digest: string;
  sha: string;
  /** The commit's build tag, rendered from commit-tag-template. */
  commitTag: string;
  contentKey?: string;
}

export type SourceProof = { ok: true; detail: string } | { ok: false; detail: string };

const short = (sha: string) => sha.slice(0, 7);

/**
 * The decision from the image's tags (undefined: no such image) and, when the commit tag is not on
 * it, the digest that tag is on (undefined: nowhere).
 */
export function judgeSource(c: SourceClaim, tags: readonly string[] | undefined, commitTagOn?: string): SourceProof {
  if (!tags) return { ok: false, detail: `image ${c.repository}@${c.digest} does not exist in ECR` };
  if (!tags.includes(c.commitTag)) {
    const where = commitTagOn
      ? `the commit's tag ${c.commitTag} is on ${commitTagOn}, so this digest is not the build of commit ${short(c.sha)}`
      : `the image carries no tag ${c.commitTag} (build-push-ecr tags every image it builds or reuses for a commit with it), so nothing shows it is the build of commit ${short(c.sha)}`;
    return { ok: false, detail: where + (c.contentKey ? `; content key ${c.contentKey} is accepted only with the commit it was built from` : '') };
  }
  if (c.contentKey && !tags.includes(c.contentKey)) {
    return {
      ok: false,
      detail: `content key ${c.contentKey} is not a tag of ${c.digest}: the key is accepted only with the commit it was built from, and commit ${short(c.sha)}'s image carries another key or none`,
    };
  }
  return {
    ok: true,
    detail: `${c.digest} carries commit ${short(c.sha)}'s tag ${c.commitTag}` + (c.contentKey ? ` and its content key ${c.contentKey}` : ''),
  };
}

/** The image's tags, or undefined when the repository has no image with this digest. */
async function imageTags(ecr: EcrLike, c: SourceClaim, aws?: AwsCallOptions): Promise<string[] | undefined> {
  const api = await asEcrApi(ecr);
  try {
    const res = await awsCall(
      'ecr:DescribeImages',
      c.repository,
      () => api.call('DescribeImages', { repositoryName: c.repository, registryId: c.registryId, imageIds: [{ imageDigest: c.digest }] }),
      aws,
    );
    const detail = (res.imageDetails ?? []).find((d) => d.imageDigest === c.digest);
    return detail ? (detail.imageTags ?? []) : undefined;
  } catch (err) {
    if (awsErrorName(err) === 'ImageNotFoundException') return undefined;
    throw err;
  }
}

export async function proveSource(ecr: EcrLike, c: SourceClaim, aws?: AwsCallOptions): Promise<SourceProof> {
  const tags = await imageTags(ecr, c, aws);
  const elsewhere = tags && !tags.includes(c.commitTag) ? await findImageByTag(ecr, { repositoryName: c.repository, registryId: c.registryId }, c.commitTag, aws) : undefined;
  return judgeSource(c, tags, elsewhere?.imageDigest);
}

/** A source claim with the GitHub repository the provenance must name; an empty `commitTag` gives no content-key fallback. */
export interface ProvenanceClaimInputs extends SourceClaim {
  githubRepository: string;
}

const CONTENT_KEY_TAG = /^tree-[0-9a-f]{40}$/;

/**
 * The digest's build provenance, checked with the provenance key: signed by it, for this digest,
 * ECR repository and GitHub repository, built from this commit (or from this content key).
 */
export async function proveProvenance(
  ecr: EcrLike,
  keys: Pick<EvidenceKeys, 'verifier'>,
  keyArn: string,
  c: ProvenanceClaimInputs,
  aws?: AwsCallOptions,
): Promise<SourceProof> {
  const verify = await keys.verifier(keyArn);
  // A commit that reused another commit's image (same tree: develop's build, main's merge commit)
  // has only that build's provenance, for its content key. Without a content-key input, that key
  // counts when the image carries both this commit's build tag and the key's tag (build-push-ecr
  // puts both on an image it reuses; tags are immutable, and a statement for the key is still needed).
  let contentKey = c.contentKey;
  if (!contentKey && c.commitTag) {
    const tags = (await imageTags(ecr, c, aws)) ?? [];
    if (tags.includes(c.commitTag)) contentKey = tags.find((t) => CONTENT_KEY_TAG.test(t));
  }
  const registry = await ecrRegistry(ecr, c.registryId, aws ?? {});
  const verdict = await checkProvenance(registry, verify, {
    digest: c.digest,
    ecrRepository: c.repository,
    githubRepository: c.githubRepository,
    commit: c.sha,
    ...(contentKey ? { contentKey } : {}),
  });
  return { ok: verdict.ok, detail: verdict.ok ? verdict.detail : `${verdict.detail} (provenance-kms-key ${keyArn})` };
}
