/**
 * How a chart takes its image, and the one form every image reference is compared in. Pure.
 *
 * Charts keep the image under different keys: `repository` (host and path) + `digest`; a
 * separate `registry` (host only, often defaulting to docker.io) + `repository` (path) +
 * `digest`, with a `tag` that wins over the digest unless cleared; or one key holding the
 * whole reference. `ImageKeys` says which keys this deploy sets; `imageValues` gives the pairs.
 *
 * References are normalised with @swimlane/docker-reference (a port of the distribution
 * project's reference package, 12 kB, no dependencies): Docker's defaulting rules make
 * `busybox`, `library/busybox`, `docker.io/library/busybox` and `index.docker.io/library/busybox`
 * the same image, and make `docker.io/<ecr host>/team/app` another one.
 */
import { parseFamiliarName } from '@swimlane/docker-reference';
import type { ImageKeys } from './image-keys';

/** An image pinned by digest: repository (host and path), optional tag, digest. */
export interface ImageRef {
  repository: string;
  tag?: string;
  digest: string;
}

/** An image reference in Docker's normal form: registry host, repository path, tag and digest. */
export interface NormalRef {
  registry: string;
  path: string;
  tag?: string;
  digest?: string;
}

/** Docker's normal form of a reference (docker.io, library/, index.docker.io); undefined when it is not a valid reference. */
export function normalizeImage(ref: string): NormalRef | undefined {
  if (ref === '' || ref.length > 4096) return undefined;
  try {
    const r = parseFamiliarName(ref);
    if (!r.domain || !r.repository) return undefined;
    const out: NormalRef = { registry: r.domain, path: r.repository };
    if (r.tag) out.tag = r.tag;
    if (r.digest) out.digest = r.digest;
    return out;
  } catch {
    return undefined;
  }
}

/** `registry/path@digest` (the tag does not pick the image when there is a digest). */
export function normalText(n: NormalRef): string {
  return `${n.registry}/${n.path}${n.digest ? `@${n.digest}` : n.tag ? `:${n.tag}` : ''}`;
}

/** The pinned image as a reference text, repository[:tag]@digest. */
export function imageText(image: ImageRef): string {
  return `${image.repository}${image.tag ? `:${image.tag}` : ''}@${image.digest}`;
}

/** The pairs passed as --set-string for the pinned image, in the order given to helm. */
export function imageValues(image: ImageRef, keys: ImageKeys): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (keys.referenceKey) out.push([keys.referenceKey, imageText(image)]);
  if (keys.registryKey) {
    const n = normalizeImage(image.repository);
    out.push([keys.registryKey, n?.registry ?? image.repository.split('/')[0]!]);
    if (keys.repositoryKey) out.push([keys.repositoryKey, n?.path ?? image.repository]);
  } else if (keys.repositoryKey) out.push([keys.repositoryKey, image.repository]);
  if (keys.digestKey) out.push([keys.digestKey, image.digest]);
  if (keys.tagKey) out.push([keys.tagKey, image.tag ?? '']);
  return out;
}
