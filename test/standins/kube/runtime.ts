// What the kubelet needs from a container runtime; implemented by runtime-docker.ts and runtime-fake.ts.
import type { KObj } from './store';

export type PullResult = { ok: true; imageID: string; ms: number; size?: number } | { ok: false; message: string };
export interface ProbeResult { ok: boolean; message: string }

export interface StartSpec {
  pod: KObj;
  container: KObj;
  env: [string, string][];
  restartCount: number;
  /** name -> IP entries for /etc/hosts (Service names resolved to a ready endpoint). */
  hosts: [string, string][];
}

export interface RunningContainer {
  id: string;
  ip: string;
  /** Resolves when the container's main process exits. */
  exited: Promise<{ exitCode: number; reason?: string }>;
  probe(probe: KObj, container: KObj, kind: 'readiness' | 'liveness' | 'startup'): Promise<ProbeResult>;
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after graceSeconds. */
  stop(graceSeconds: number): Promise<void>;
  logs(opts: { tailLines?: number; timestamps?: boolean }): Promise<string>;
  remove(): Promise<void>;
}

export interface Runtime {
  readonly name: 'docker' | 'fake';
  pull(image: string, pod: KObj): Promise<PullResult>;
  start(spec: StartSpec): Promise<RunningContainer>;
  /** Removes every container this runtime started. */
  stopAll(): Promise<void>;
}

export interface RegistryConfig { url: string; username?: string; password?: string }

/** Splits `host:port/repo/name:tag` or `...@sha256:...` into registry host, repository and reference. */
export function parseImage(image: string): { host: string; repo: string; ref: string } {
  let rest = image;
  let host = 'docker.io';
  const first = rest.split('/')[0]!;
  if (rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    host = first;
    rest = rest.slice(first.length + 1);
  }
  let ref = 'latest';
  const at = rest.indexOf('@');
  if (at >= 0) {
    ref = rest.slice(at + 1);
    rest = rest.slice(0, at);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon >= 0) {
      ref = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  if (host === 'docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  return { host, repo: rest, ref };
}

/** Asks a registry (HTTP API v2) whether it has a manifest; used by the fake runtime. */
export async function registryHasManifest(reg: RegistryConfig, image: string): Promise<PullResult> {
  const t0 = Date.now();
  const { host, repo, ref } = parseImage(image);
  const regHost = new URL(reg.url).host;
  if (host !== regHost) return { ok: false, message: `failed to resolve reference "${image}": failed to do request: Head "https://${host}/v2/${repo}/manifests/${ref}": dial tcp: lookup ${host}: no such host` };
  const headers: Record<string, string> = {
    Accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json',
  };
  if (reg.username) headers.Authorization = `Basic ${Buffer.from(`${reg.username}:${reg.password ?? ''}`).toString('base64')}`;
  try {
    const res = await fetch(`${reg.url.replace(/\/$/, '')}/v2/${repo}/manifests/${ref}`, { method: 'HEAD', headers, signal: AbortSignal.timeout(5000) });
    if (res.ok) return { ok: true, imageID: `${host}/${repo}@${res.headers.get('docker-content-digest') ?? ref}`, ms: Date.now() - t0, size: Number(res.headers.get('content-length') ?? 0) };
    if (res.status === 401 || res.status === 403) return { ok: false, message: `failed to authorize: failed to fetch anonymous token: unexpected status: ${res.status}` };
    return { ok: false, message: `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found` };
  } catch (e) {
    return { ok: false, message: `failed to do request: Head "${reg.url}/v2/${repo}/manifests/${ref}": ${(e as Error).message}` };
  }
}
