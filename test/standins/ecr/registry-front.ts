/**
 * The registry endpoint as ECR presents it to docker and to cluster nodes: a pass-through in
 * front of the real registry that, like ECR,
 * - accepts only the basic-auth password GetAuthorizationToken handed out (`AWS:<token>`), and
 *   authorizes every request as the ECR action it amounts to (pull: ecr:BatchGetImage and
 *   ecr:GetDownloadUrlForLayer; push: ecr:InitiateLayerUpload, ecr:UploadLayerPart,
 *   ecr:CompleteLayerUpload, ecr:PutImage; ecr:BatchCheckLayerAvailability) for the token's
 *   caller, against IAM and the repository policy (the stand-in's `authorize`);
 * - knows only the stand-in's repositories (NAME_UNKNOWN otherwise);
 * - refuses to move an existing immutable tag ("tag invalid: ... cannot be overwritten because
 *   the repository is immutable").
 * Requests keep their Host header, so the registry writes upload Locations that point back
 * here; the registry's own htpasswd credentials replace the caller's on the way in.
 */
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry } from '../../harness/registry';
import { closeServer, listenLocal, readBody } from '../../harness/net';

const MANIFEST = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const BLOB = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/;
const UPLOAD = /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/;
const TAGS = /^\/v2\/(.+)\/tags\/list$/;
const TAG_REF = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/** The ECR action a registry request amounts to, and its repository ('' for the /v2/ ping). */
export function registryAction(method: string, path: string): { action: string; repository: string } | undefined {
  if (path === '/v2/' || path === '/v2') return { action: '', repository: '' };
  let m = MANIFEST.exec(path);
  if (m) return { action: method === 'PUT' ? 'ecr:PutImage' : method === 'DELETE' ? 'ecr:BatchDeleteImage' : 'ecr:BatchGetImage', repository: m[1]! };
  m = BLOB.exec(path);
  if (m) return { action: method === 'HEAD' ? 'ecr:BatchCheckLayerAvailability' : method === 'GET' ? 'ecr:GetDownloadUrlForLayer' : 'ecr:BatchDeleteImage', repository: m[1]! };
  m = UPLOAD.exec(path);
  if (m) {
    const action = method === 'POST' ? 'ecr:InitiateLayerUpload' : method === 'PUT' ? 'ecr:CompleteLayerUpload' : 'ecr:UploadLayerPart';
    return { action, repository: m[1]! };
  }
  m = TAGS.exec(path);
  if (m) return { action: 'ecr:ListImages', repository: m[1]! };
  return undefined;
}

export type FrontDecision = { ok: true } | { ok: false; status: 400 | 401 | 403 | 404 | 405; code: string; message: string };

export interface FrontPolicy {
  /** Who the basic-auth header stands for, and may they do `action` on `repository` ('' action: any valid token)? */
  authorize(authorization: string | undefined, action: string, repository: string): Promise<FrontDecision>;
  isImmutable(repository: string, tag: string): boolean;
}

export interface RegistryFront {
  host: string;
  url: string;
  /** Manifest pushes refused because the tag was taken. */
  refused: string[];
  stop(): Promise<void>;
}

function registryError(res: ServerResponse, d: Exclude<FrontDecision, { ok: true }>, host: string): void {
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8', 'Docker-Distribution-Api-Version': 'registry/2.0' };
  if (d.status === 401) headers['WWW-Authenticate'] = `Basic realm="http://${host}/",service="ecr.amazonaws.com"`;
  res.writeHead(d.status, headers);
  res.end(JSON.stringify({ errors: [{ code: d.code, message: d.message }] }));
}

export async function startRegistryFront(registry: Registry, policy: FrontPolicy): Promise<RegistryFront> {
  const upstream = new URL(registry.url);
  const refused: string[] = [];
  // Check-then-put of one tag must not interleave with another push of the same tag.
  const locks = new Map<string, Promise<void>>();

  function forward(req: IncomingMessage, res: ServerResponse, body?: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    // No cross-repository blob mounts (a caller could mount what it may not read): a plain upload.
    url.searchParams.delete('mount');
    url.searchParams.delete('from');
    const headers = { ...req.headers, authorization: registry.authHeader };
    return new Promise((resolve) => {
      res.on('close', resolve);
      const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: url.pathname + url.search, headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      });
      res.on('close', () => up.destroy());
      if (body) up.end(body);
      else req.pipe(up);
    });
  }

  async function currentDigest(repository: string, tag: string): Promise<string | undefined> {
    const res = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { Authorization: registry.authHeader, Accept: MANIFEST_ACCEPT },
    });
    return res.ok ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
  }

  async function putManifest(req: IncomingMessage, res: ServerResponse, repository: string, tag: string): Promise<void> {
    const body = await readBody(req);
    const key = `${repository}:${tag}`;
    const before = locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    locks.set(key, before.then(() => mine));
    await before;
    try {
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      const existing = policy.isImmutable(repository, tag) ? await currentDigest(repository, tag) : undefined;
      if (existing && existing !== digest) {
        refused.push(key);
        const message = `The image tag '${tag}' already exists in the '${repository}' repository and cannot be overwritten because the repository is immutable.`;
        registryError(res, { ok: false, status: 400, code: 'TAG_INVALID', message }, '');
        return;
      }
      await forward(req, res, body);
    } finally {
      release();
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, host: string): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const what = registryAction(req.method ?? 'GET', path);
    if (!what) return registryError(res, { ok: false, status: 404, code: 'UNSUPPORTED', message: `${req.method} ${path} is not supported` }, host);
    if (what.action === 'ecr:BatchDeleteImage') {
      return registryError(res, { ok: false, status: 405, code: 'UNSUPPORTED', message: 'Deletes go through the ECR API (BatchDeleteImage)' }, host);
    }
    const decision = await policy.authorize(req.headers.authorization, what.action, what.repository);
    if (!decision.ok) {
      req.resume();
      return registryError(res, decision, host);
    }
    const m = req.method === 'PUT' ? MANIFEST.exec(path) : null;
    if (m && TAG_REF.test(m[2]!)) return putManifest(req, res, m[1]!, m[2]!);
    await forward(req, res);
  }

  let host = '';
  const server = createServer((req, res) => {
    handle(req, res, host).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(err));
    });
  });
  host = `127.0.0.1:${await listenLocal(server)}`;
  return {
    host,
    url: `http://${host}`,
    refused,
    stop: () => closeServer(server),
  };
}
