/**
 * Tiny OCI images pushed straight to a test registry through its HTTP API (no Docker): enough
 * for tests that need an image digest in ECR (promote-gate's evidence), not a runnable image.
 */
import { createHash } from 'node:crypto';
import type { Registry } from './registry';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** One registry API call with the registry's credentials. */
export function registryFetch(registry: Registry, method: string, path: string, body?: Buffer | string, contentType?: string): Promise<Response> {
  const url = path.startsWith('http') ? path : `${registry.url}${path}`;
  const headers: Record<string, string> = { Authorization: registry.authHeader };
  if (contentType) headers['Content-Type'] = contentType;
  return fetch(url, { method, headers, body });
}

async function expectStatus(res: Promise<Response>, status: number, what: string): Promise<Response> {
  const r = await res;
  if (r.status !== status) throw new Error(`registry: ${what} answered ${r.status}, expected ${status}`);
  return r;
}

async function pushBlob(registry: Registry, name: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const start = await expectStatus(registryFetch(registry, 'POST', `/v2/${name}/blobs/uploads/`), 202, 'starting a blob upload');
  const loc = new URL(start.headers.get('location')!, registry.url);
  loc.searchParams.set('digest', digest);
  await expectStatus(registryFetch(registry, 'PUT', loc.toString(), data, 'application/octet-stream'), 201, 'a blob upload');
  return digest;
}

/** Puts `manifest` (OCI image manifest JSON) under `tag`; returns the registry's digest for it. */
export async function putManifest(registry: Registry, name: string, tag: string, manifest: string): Promise<string> {
  const res = await expectStatus(registryFetch(registry, 'PUT', `/v2/${name}/manifests/${tag}`, manifest, 'application/vnd.oci.image.manifest.v1+json'), 201, `putting manifest ${tag}`);
  return res.headers.get('docker-content-digest')!;
}

/** Pushes a one-layer OCI image under `tag` (content from `seed`) and returns its digest. */
export async function pushImage(registry: Registry, name: string, tag: string, seed: string): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { seed } }, rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = Buffer.from(`layer ${seed}`);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await pushBlob(registry, name, config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: await pushBlob(registry, name, layer), size: layer.length }],
  });
  return putManifest(registry, name, tag, manifest);
}

/** The manifest under a tag or digest, or undefined when there is none. */
export async function manifestOf(registry: Registry, name: string, ref: string): Promise<{ digest: string | null; body: string } | undefined> {
  const res = await fetch(`${registry.url}/v2/${name}/manifests/${ref}`, {
    headers: { Authorization: registry.authHeader, Accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (res.status === 404) return undefined;
  return { digest: res.headers.get('docker-content-digest'), body: await res.text() };
}
