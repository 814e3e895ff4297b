/**
 * The registry client's transport (oci.ts httpRegistryFetch, node:http instead of fetch): answers
 * as fetch gives them, GET/HEAD redirects followed with the token kept only on the same origin,
 * other methods' redirects returned, and a request that gets no answer ends at its deadline in
 * the one network-fault line.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OciRegistry, httpRegistryFetch } from '../src/provenance/oci';

const seen: Array<{ server: string; method: string; url: string; authorization?: string; body: string }> = [];
let registry: Server;
let storage: Server;
let registryUrl = '';
let storageUrl = '';

function listen(name: string, answer: (req: IncomingMessage, body: string) => [number, Record<string, string>, string] | 'hang'): Promise<[Server, string]> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ server: name, method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      const a = answer(req, body);
      if (a === 'hang') return;
      res.writeHead(a[0], a[1]).end(req.method === 'HEAD' ? undefined : a[2]);
    });
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done([server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`])));
}

beforeAll(async () => {
  [storage, storageUrl] = await listen('storage', () => [200, { 'content-type': 'application/octet-stream' }, 'blob bytes']);
  [registry, registryUrl] = await listen('registry', (req) => {
    if (req.url === '/v2/app/blobs/sha256:aa') return [307, { location: `${storageUrl}/bucket/aa?sig=1` }, ''];
    if (req.url === '/v2/app/blobs/sha256:same') return [302, { location: '/v2/app/blobs/sha256:moved' }, ''];
    if (req.url === '/v2/app/blobs/sha256:moved') return [200, { 'docker-content-digest': 'sha256:moved' }, 'moved bytes'];
    if (req.url === '/v2/app/blobs/uploads/') return [307, { location: `${storageUrl}/upload` }, ''];
    if (req.url === '/v2/app/manifests/hang') return 'hang';
    return [404, { 'content-type': 'application/json' }, '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}'];
  });
});
afterAll(() => {
  registry?.closeAllConnections();
  registry?.close();
  storage?.close();
});

describe('httpRegistryFetch', () => {
  test('a GET redirected to another origin is followed without the registry token', async () => {
    seen.length = 0;
    const res = await new OciRegistry(registryUrl, 'Basic secret').request('GET', '/v2/app/blobs/sha256:aa');
    expect([res.status, await res.text(), res.headers.get('Content-Type')]).toEqual([200, 'blob bytes', 'application/octet-stream']);
    expect(seen.map((s) => [s.server, s.url, s.authorization])).toEqual([
      ['registry', '/v2/app/blobs/sha256:aa', 'Basic secret'],
      ['storage', '/bucket/aa?sig=1', undefined],
    ]);
  });

  test('a redirect on the same origin keeps the token; the body is read as bytes', async () => {
    seen.length = 0;
    const res = await new OciRegistry(registryUrl, 'Basic secret').request('HEAD', '/v2/app/blobs/sha256:same');
    expect([res.status, res.headers.get('docker-content-digest')]).toEqual([200, 'sha256:moved']);
    expect(seen.map((s) => s.authorization)).toEqual(['Basic secret', 'Basic secret']);
    const get = await new OciRegistry(registryUrl, 'Basic secret').request('GET', '/v2/app/blobs/sha256:same');
    expect(Buffer.from(await get.arrayBuffer()).toString()).toBe('moved bytes');
  });

  test('a POST is not followed: its redirect comes back as it was answered, and the body was sent', async () => {
    seen.length = 0;
    const res = await new OciRegistry(registryUrl, 'Basic secret').request('POST', '/v2/app/blobs/uploads/', { body: 'x', contentType: 'text/plain' });
    expect([res.status, res.headers.get('location')]).toEqual([307, `${storageUrl}/upload`]);
    expect(seen.map((s) => [s.server, s.method, s.body])).toEqual([['registry', 'POST', 'x']]);
  });

  test('an error status is an answer, not a fault', async () => {
    const reg = new OciRegistry(registryUrl, 'Basic secret');
    await expect(reg.expect(await reg.request('GET', '/v2/app/manifests/none'), 'manifest app:none', [200])).rejects.toThrow(
      'manifest app:none: the registry answered 404 {"errors":[{"code":"MANIFEST_UNKNOWN"}]}',
    );
  });

  test('no answer within the deadline: the one network-fault line naming the registry and the request', async () => {
    const reg = new OciRegistry(registryUrl, 'Basic secret', httpRegistryFetch(300));
    await expect(reg.request('GET', '/v2/app/manifests/hang')).rejects.toThrow(`GET /v2/app/manifests/hang: the registry (${registryUrl}): no answer within`);
  });
});
