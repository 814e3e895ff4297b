/**
 * The registry endpoint as ECR presents it to docker: a pass-through in front of the real
 * registry that, like ECR, refuses to move an existing tag of an immutable repository
 * ("tag invalid: ... cannot be overwritten because the repository is immutable"). Requests
 * keep their Host header, so the registry writes upload Locations that point back here.
 */
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry } from '../../harness/registry';
import { closeServer, listenLocal, readBody } from '../../harness/net';

const MANIFEST_PUT = /^\/v2\/(.+)\/manifests\/([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/;

export interface RegistryFront {
  host: string;
  url: string;
  /** Manifest pushes refused because the tag was taken. */
  refused: string[];
  stop(): Promise<void>;
}

export async function startRegistryFront(registry: Registry, isImmutable: (repository: string) => boolean): Promise<RegistryFront> {
  const upstream = new URL(registry.url);
  const refused: string[] = [];
  // Check-then-put of one tag must not interleave with another push of the same tag.
  const locks = new Map<string, Promise<void>>();

  function forward(req: IncomingMessage, res: ServerResponse, body?: Buffer): void {
    const up = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(String(err));
    });
    if (body) up.end(body);
    else req.pipe(up);
  }

  async function currentDigest(repository: string, tag: string): Promise<string | undefined> {
    const res = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
      method: 'HEAD',
      headers: {
        Authorization: registry.authHeader,
        Accept: [
          'application/vnd.docker.distribution.manifest.v2+json',
          'application/vnd.docker.distribution.manifest.list.v2+json',
          'application/vnd.oci.image.manifest.v1+json',
          'application/vnd.oci.image.index.v1+json',
        ].join(', '),
      },
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
      const existing = isImmutable(repository) ? await currentDigest(repository, tag) : undefined;
      if (existing && existing !== digest) {
        refused.push(key);
        const message = `The image tag '${tag}' already exists in the '${repository}' repository and cannot be overwritten because the repository is immutable.`;
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'TAG_INVALID', message }] }));
        return;
      }
      await new Promise<void>((resolve) => {
        res.on('finish', resolve);
        res.on('close', resolve);
        forward(req, res, body);
      });
    } finally {
      release();
    }
  }

  const server = createServer((req, res) => {
    const m = req.method === 'PUT' ? MANIFEST_PUT.exec((req.url ?? '').split('?')[0]!) : null;
    if (m) void putManifest(req, res, m[1]!, m[2]!); // a tag (a digest reference has a ':')
    else forward(req, res);
  });
  const host = `127.0.0.1:${await listenLocal(server)}`;
  return {
    host,
    url: `http://${host}`,
    refused,
    stop: () => closeServer(server),
  };
}
