/**
 * The ECR stand-in's view of the images in the real registry (registry HTTP API v2): tags,
 * digests and manifests are the registry's own.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from '../../harness/registry';
import { MANIFEST_ACCEPT } from './registry-front';

export interface ImageInfo {
  digest: string;
  tags: string[];
  mediaType: string;
  manifest: string;
  size: number;
}

export type ImageId = { imageTag?: string; imageDigest?: string };

export class RegistryImages {
  constructor(private readonly registry: Registry) {}

  request(method: string, path: string, body?: string, contentType?: string): Promise<Response> {
    const headers: Record<string, string> = { Authorization: this.registry.authHeader, Accept: MANIFEST_ACCEPT };
    if (contentType) headers['Content-Type'] = contentType;
    return fetch(`${this.registry.url}${path}`, { method, headers, body });
  }

  async manifest(name: string, reference: string): Promise<{ body: string; mediaType: string; digest: string } | undefined> {
    const res = await this.request('GET', `/v2/${name}/manifests/${reference}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`registry answered ${res.status}`);
    const body = await res.text();
    const digest = res.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(body).digest('hex')}`;
    return { body, mediaType: (res.headers.get('content-type') ?? '').split(';')[0]!, digest };
  }

  async tagsOf(name: string): Promise<string[]> {
    const res = await this.request('GET', `/v2/${name}/tags/list`);
    if (res.status === 404) return [];
    const json = (await res.json()) as { tags?: string[] | null };
    return json.tags ?? [];
  }

  /**
   * Removes one tag and leaves the image and its other tags, as ECR's BatchDeleteImage by tag does.
   * distribution 2.8's API deletes manifests by digest only (a tag there is refused as an invalid
   * digest), so the tag's entry goes from the registry's own storage (tags/<tag> under _manifests).
   */
  untag(name: string, tag: string): void {
    rmSync(join(this.registry.storageDir, 'docker/registry/v2/repositories', name, '_manifests/tags', tag), { recursive: true, force: true });
  }

  /** Every tagged image of the repository, grouped by digest. */
  async images(name: string): Promise<Map<string, ImageInfo>> {
    const byDigest = new Map<string, ImageInfo>();
    for (const tag of await this.tagsOf(name)) {
      const m = await this.manifest(name, tag);
      if (!m) continue;
      let info = byDigest.get(m.digest);
      if (!info) {
        info = { digest: m.digest, tags: [], mediaType: m.mediaType, manifest: m.body, size: imageSize(m.body) };
        byDigest.set(m.digest, info);
      }
      info.tags.push(tag);
    }
    return byDigest;
  }

  /** The images `ids` name, and ECR's failure entries for those it cannot find. */
  async resolve(name: string, ids: ImageId[]) {
    const all = [...(await this.images(name)).values()];
    const found: Array<{ id: ImageId; info: ImageInfo }> = [];
    const failures: Array<{ imageId: ImageId; failureCode: string; failureReason: string }> = [];
    for (const id of ids) {
      const info = all.find((i) => (id.imageDigest === undefined || i.digest === id.imageDigest) && (id.imageTag === undefined || i.tags.includes(id.imageTag)));
      if (info) {
        found.push({ id, info });
        continue;
      }
      const digestOnly = id.imageDigest && id.imageTag === undefined ? await this.manifest(name, id.imageDigest) : undefined;
      if (digestOnly) {
        found.push({ id, info: { digest: digestOnly.digest, tags: [], mediaType: digestOnly.mediaType, manifest: digestOnly.body, size: imageSize(digestOnly.body) } });
        continue;
      }
      const mismatch = id.imageTag !== undefined && id.imageDigest !== undefined && all.some((i) => i.tags.includes(id.imageTag!));
      failures.push({
        imageId: id,
        failureCode: mismatch ? 'ImageTagDoesNotMatchDigest' : 'ImageNotFound',
        failureReason: mismatch ? 'Requested image tag does not match image digest' : 'Requested image not found',
      });
    }
    return { found, failures };
  }
}

function imageSize(body: string): number {
  try {
    const json = JSON.parse(body) as { layers?: Array<{ size?: number }>; config?: { size?: number } };
    return (json.layers ?? []).reduce((n, l) => n + (l.size ?? 0), json.config?.size ?? 0);
  } catch {
    return body.length;
  }
}
