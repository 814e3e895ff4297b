// HTTP(S) front of the stand-in: discovery, OpenAPI stub, CRUD, patch/apply, watch and watch-list, Tables, pod logs.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Api } from './api';
import { decodeK8sProtobuf } from './protobuf';
import { RESOURCES, type ResourceDef, apiVersionOf, findByPlural, groupVersions, resourceKey } from './resources';
import { matchFieldSelector, matchLabelSelector } from './selectors';
import { ApiError, type KObj, type StoreEvent } from './store';
import { toTable } from './tables';
import { readBody } from '../../harness/net';

export interface LogOptions { container?: string; tailLines?: number; previous?: boolean; timestamps?: boolean }
export interface ServerHooks {
  /** Returns the log text of a pod's container, or throws ApiError. */
  logs(ns: string, pod: string, opts: LogOptions): Promise<string>;
  /** Returns an ApiError to reject the request (401/403), or undefined to let it through. */
  authenticate?(req: http.IncomingMessage): ApiError | undefined;
  /** Told of every request (method and URL), before it is answered. */
  onRequest?(method: string, url: string): void;
  /** Log of requests, for debugging: set STANDIN_KUBE_DEBUG=1. */
  debug?: boolean;
}

export const KUBE_VERSION = { major: '1', minor: '35', gitVersion: 'v1.35.0-standin', gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.25.0', compiler: 'gc', platform: 'linux/amd64' };

function statusBody(e: ApiError): KObj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, details: e.details, code: e.code };
}

function send(res: http.ServerResponse, code: number, body: unknown, contentType = 'application/json') {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

function parseBody(req: http.IncomingMessage, body: Buffer): KObj {
  const ct = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim();
  if (body.length === 0) return {};
  if (ct === 'application/vnd.kubernetes.protobuf') return decodeK8sProtobuf(body);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError(400, 'BadRequest', 'the request body is not valid JSON');
  }
}

function wantsTable(req: http.IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? '');
}

interface Route { r: ResourceDef; ns?: string; name?: string; sub?: string }

function route(parts: string[]): Route | undefined {
  // /api/v1/... or /apis/<group>/<version>/...
  let group = '';
  let version: string;
  let rest: string[];
  if (parts[0] === 'api') {
    version = parts[1]!;
    rest = parts.slice(2);
  } else {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  }
  let ns: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    ns = rest[1];
    rest = rest.slice(2);
  }
  const r = findByPlural(group, version, rest[0] ?? '');
  if (!r) return undefined;
  if (ns && !r.namespaced) return undefined;
  return { r, ns, name: rest[1], sub: rest[2] };
}

function discovery(parts: string[], host: string): KObj | undefined {
  const p = parts.join('/');
  if (p === 'api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] };
  if (p === 'apis') {
    const groups = new Map<string, string[]>();
    for (const gv of groupVersions()) if (gv.group) groups.set(gv.group, [...(groups.get(gv.group) ?? []), gv.version]);
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => ({
        name,
        versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
      })),
    };
  }
  if (parts[0] === 'apis' && parts.length === 2) {
    const versions = groupVersions().filter((g) => g.group === parts[1]);
    if (!versions.length) return undefined;
    return { kind: 'APIGroup', apiVersion: 'v1', name: parts[1], versions: versions.map((v) => ({ groupVersion: `${parts[1]}/${v.version}`, version: v.version })), preferredVersion: { groupVersion: `${parts[1]}/${versions[0]!.version}`, version: versions[0]!.version } };
  }
  const gv = parts[0] === 'api' && parts.length === 2 ? { group: '', version: parts[1] } : parts[0] === 'apis' && parts.length === 3 ? { group: parts[1], version: parts[2] } : undefined;
  if (!gv) return undefined;
  const rs = RESOURCES.filter((r) => r.group === gv.group && r.version === gv.version);
  if (!rs.length) return undefined;
  const resources: KObj[] = [];
  for (const r of rs) {
    const verbs = r.kind === 'Event' || r.kind === 'Pod' || true ? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] : [];
    resources.push({ name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs, shortNames: r.shortNames, categories: r.categories });
    for (const s of r.subresources ?? []) {
      resources.push({ name: `${r.plural}/${s}`, singularName: '', namespaced: r.namespaced, kind: s === 'scale' ? 'Scale' : r.kind, group: s === 'scale' ? 'autoscaling' : undefined, version: s === 'scale' ? 'v1' : undefined, verbs: s === 'log' ? ['get'] : ['get', 'patch', 'update'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(rs[0]!), resources };
}

function openapiIndex(): KObj {
  const paths: KObj = {};
  for (const gv of groupVersions()) {
    const p = gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=STANDIN${gv.group.replace(/\W/g, '')}${gv.version}` };
  }
  return { paths };
}

function openapiDoc(group: string, version: string): KObj | undefined {
  const rs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (!rs.length) return undefined;
  const paths: KObj = {};
  const schemas: KObj = {};
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  for (const r of rs) {
    const gvk = [{ group, version, kind: r.kind }];
    const schemaName = `io.k8s.standin.${group || 'core'}.${version}.${r.kind}`;
    schemas[schemaName] = { type: 'object', description: `${r.kind} (stand-in schema: any fields accepted)`, 'x-kubernetes-group-version-kind': gvk, 'x-kubernetes-preserve-unknown-fields': true };
    const op = (verb: string) => ({
      description: `${verb} ${r.kind}`,
      operationId: `${verb}${r.kind}`,
      parameters: [
        { name: 'dryRun', in: 'query', schema: { type: 'string' } },
        { name: 'fieldManager', in: 'query', schema: { type: 'string' } },
        { name: 'fieldValidation', in: 'query', schema: { type: 'string' } },
      ],
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName}` } } } } },
      'x-kubernetes-action': verb,
      'x-kubernetes-group-version-kind': gvk[0],
    });
    const item = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}/{name}` : `${prefix}/${r.plural}/{name}`;
    const coll = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
    paths[item] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
    paths[coll] = { get: op('list'), post: op('post') };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes stand-in', version: KUBE_VERSION.gitVersion }, paths, components: { schemas } };
}

export interface ServeResult { server: http.Server; url: string; api: Api }

export async function serve(api: Api, hooks: ServerHooks, opts: { port: number; host?: string; tls?: { key: string; cert: string } }): Promise<ServeResult> {
  const store = api.store;
  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const q = u.searchParams;
    const parts = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    hooks.onRequest?.(req.method ?? 'GET', req.url ?? '/');
    if (hooks.debug) process.stderr.write(`[kube-standin] ${req.method} ${req.url} ${req.headers['content-type'] ?? ''}\n`);
    try {
      const p = parts.join('/');
      if (p === 'healthz' || p === 'readyz' || p === 'livez') return send(res, 200, 'ok', 'text/plain');
      const authErr = hooks.authenticate?.(req);
      if (authErr) return send(res, authErr.code, statusBody(authErr));
      if (p === 'version') return send(res, 200, KUBE_VERSION);
      if (p === 'openapi/v3') return send(res, 200, openapiIndex());
      if (parts[0] === 'openapi' && parts[1] === 'v3') {
        const doc = parts[2] === 'api' ? openapiDoc('', parts[3]!) : openapiDoc(parts[3]!, parts[4]!);
        if (doc) return send(res, 200, doc);
      }
      if (parts[0] !== 'api' && parts[0] !== 'apis') throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      if (req.method === 'GET') {
        const d = discovery(parts, req.headers.host ?? '');
        if (d) return send(res, 200, d);
      }
      const rt = route(parts);
      if (!rt) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      await handleResource(req, res, rt, q);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`);
      if (!(err instanceof ApiError) || hooks.debug) process.stderr.write(`[kube-standin] ${req.method} ${req.url}: ${(err as Error).stack}\n`);
      if (!res.headersSent) send(res, e.code, statusBody(e));
      else res.end();
    }
  };

  async function handleResource(req: http.IncomingMessage, res: http.ServerResponse, rt: Route, q: URLSearchParams) {
    const { r, ns, name, sub } = rt;
    const dryRun = q.getAll('dryRun').includes('All');
    if (sub && !(r.subresources ?? []).includes(sub)) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    switch (req.method) {
      case 'GET': {
        if (sub === 'log') {
          const text = await hooks.logs(ns!, name!, {
            container: q.get('container') ?? undefined,
            tailLines: q.has('tailLines') ? Number(q.get('tailLines')) : undefined,
            previous: q.get('previous') === 'true',
            timestamps: q.get('timestamps') === 'true',
          });
          return send(res, 200, text, 'text/plain');
        }
        if (name) {
          if (q.get('watch') === 'true') return watch(req, res, r, ns, q, name);
          const obj = store.mustGet(r, ns, name);
          if (sub === 'scale') return send(res, 200, scaleOf(obj));
          return send(res, 200, wantsTable(req) ? toTable(r.kind, [obj], q.get('includeObject') ?? 'Metadata', obj.metadata.resourceVersion) : obj);
        }
        if (q.get('watch') === 'true' || q.get('watch') === '1') return watch(req, res, r, ns, q);
        const { items, metadata } = listPage(r, ns, q);
        if (wantsTable(req)) {
          const t = toTable(r.kind, items, q.get('includeObject') ?? 'Metadata', metadata.resourceVersion);
          return send(res, 200, { ...t, metadata: { ...t.metadata, ...metadata } });
        }
        return send(res, 200, { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata, items });
      }
      case 'POST': {
        if (name) throw new ApiError(405, 'MethodNotAllowed', 'POST to a named resource is not supported');
        const body = parseBody(req, await readBody(req));
        if (ns) (body.metadata ??= {}).namespace ??= ns;
        if (ns && body.metadata.namespace !== ns) throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
        const obj = api.create(r, body, { dryRun });
        return send(res, 201, obj);
      }
      case 'PUT': {
        if (!name) throw new ApiError(405, 'MethodNotAllowed', 'PUT needs a name');
        const body = parseBody(req, await readBody(req));
        body.metadata ??= {};
        body.metadata.name ??= name;
        if (ns) body.metadata.namespace ??= ns;
        if (body.metadata.name !== name) throw new ApiError(400, 'BadRequest', 'the name of the object does not match the name on the URL');
        if (sub === 'scale') {
          const cur = store.mustGet(r, ns, name);
          cur.spec.replicas = body.spec?.replicas ?? cur.spec.replicas;
          return send(res, 200, scaleOf(api.update(r, cur, { dryRun })));
        }
        if (!store.get(r, ns, name) && !sub) return send(res, 201, api.create(r, body, { dryRun }));
        return send(res, 200, api.update(r, body, { dryRun, subresource: sub }));
      }
      case 'PATCH': {
        if (!name) throw new ApiError(405, 'MethodNotAllowed', 'PATCH needs a name');
        const body = await readBody(req);
        if (sub === 'scale') {
          const cur = store.mustGet(r, ns, name);
          const p = JSON.parse(body.toString('utf8') || '{}');
          if (p.spec?.replicas !== undefined) cur.spec.replicas = p.spec.replicas;
          return send(res, 200, scaleOf(api.update(r, cur, { dryRun })));
        }
        const out = api.patch(r, ns, name, req.headers['content-type'] ?? '', body, q, { dryRun, subresource: sub });
        return send(res, out.created ? 201 : 200, out.obj);
      }
      case 'DELETE': {
        const body = parseBody(req, await readBody(req));
        const propagationPolicy = q.get('propagationPolicy') ?? body.propagationPolicy ?? (body.orphanDependents ? 'Orphan' : undefined);
        const dry = dryRun || (body.dryRun ?? []).includes('All');
        const grace = q.get('gracePeriodSeconds') ?? body.gracePeriodSeconds;
        const gracePeriodSeconds = grace === undefined || grace === null ? undefined : Number(grace);
        if (!name) {
          const items = filtered(r, ns, q).map((o) => api.delete(r, o.metadata.namespace, o.metadata.name, { dryRun: dry, propagationPolicy, gracePeriodSeconds }));
          return send(res, 200, { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(store.rv) }, items });
        }
        return send(res, 200, api.delete(r, ns, name, { dryRun: dry, propagationPolicy, gracePeriodSeconds }));
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', `method ${req.method} not allowed`);
    }
  }

  function filtered(r: ResourceDef, ns: string | undefined, q: URLSearchParams): KObj[] {
    const ls = q.get('labelSelector') ?? undefined;
    const fs = q.get('fieldSelector') ?? undefined;
    let items: KObj[];
    try {
      items = store.list(r, ns).filter((o) => matchLabelSelector(ls, o.metadata.labels) && matchFieldSelector(fs, o));
    } catch (e) {
      throw new ApiError(400, 'BadRequest', (e as Error).message);
    }
    return items;
  }

  /**
   * One page of a list (`limit` and `continue`, as the API server chunks lists): the continue
   * token carries the list's resourceVersion and the last key served; a token whose version was
   * compacted away gets 410 Expired, as etcd's compaction makes it. The stand-in keeps no old
   * versions, so later pages show the objects as they are now (a real server shows the snapshot).
   */
  function listPage(r: ResourceDef, ns: string | undefined, q: URLSearchParams): { items: KObj[]; metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number } } {
    let rv = store.rv;
    let after: { ns: string; name: string } | undefined;
    const token = q.get('continue');
    if (token) {
      let t: { rv?: unknown; ns?: unknown; name?: unknown };
      try {
        t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      } catch {
        t = {};
      }
      if (typeof t.rv !== 'number' || typeof t.ns !== 'string' || typeof t.name !== 'string') throw new ApiError(400, 'BadRequest', 'continue key is not valid: invalid continue token');
      if (t.rv < store.oldestRv() - 1) {
        throw new ApiError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      rv = t.rv;
      after = { ns: t.ns, name: t.name };
    }
    const cmp = (o: KObj, k: { ns: string; name: string }) => (o.metadata.namespace ?? '').localeCompare(k.ns) || o.metadata.name.localeCompare(k.name);
    const all = filtered(r, ns, q).filter((o) => !after || cmp(o, after) > 0);
    const limit = Number(q.get('limit') ?? 0);
    if (!(limit > 0) || all.length <= limit) return { items: all, metadata: { resourceVersion: String(rv) } };
    const items = all.slice(0, limit);
    const last = items[items.length - 1]!;
    const next = Buffer.from(JSON.stringify({ rv, ns: last.metadata.namespace ?? '', name: last.metadata.name })).toString('base64url');
    return { items, metadata: { resourceVersion: String(rv), continue: next, remainingItemCount: all.length - limit } };
  }

  function watch(req: http.IncomingMessage, res: http.ServerResponse, r: ResourceDef, ns: string | undefined, q: URLSearchParams, name?: string) {
    const ls = q.get('labelSelector') ?? undefined;
    let fs = q.get('fieldSelector') ?? undefined;
    if (name) fs = fs ? `${fs},metadata.name=${name}` : `metadata.name=${name}`;
    const table = wantsTable(req);
    const includeObject = q.get('includeObject') ?? 'Metadata';
    const key = resourceKey(r);
    const matches = (o: KObj) => (!ns || !r.namespaced || o.metadata.namespace === ns) && matchLabelSelector(ls, o.metadata.labels) && matchFieldSelector(fs, o);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const write = (type: string, obj: KObj) => {
      const object = table && type !== 'BOOKMARK' && type !== 'ERROR' ? toTable(r.kind, [obj], includeObject, obj.metadata.resourceVersion) : obj;
      res.write(JSON.stringify({ type, object }) + '\n');
    };
    const bookmark = (initialEnd: boolean) =>
      write('BOOKMARK', { kind: r.kind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(store.rv), ...(initialEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}) } });
    // An object that starts or stops matching the selectors is ADDED or DELETED for this watcher.
    const deliver = (ev: StoreEvent) => {
      const now = matches(ev.obj);
      if (ev.type !== 'MODIFIED') {
        if (now) write(ev.type, ev.obj);
        return;
      }
      const before = ev.prev ? matches(ev.prev) : now;
      if (now) write(before ? 'MODIFIED' : 'ADDED', ev.obj);
      else if (before) write('DELETED', ev.obj);
    };
    const rvParam = q.get('resourceVersion') ?? '';
    if (q.get('sendInitialEvents') === 'true') {
      for (const o of store.list(r, ns)) if (matches(o)) write('ADDED', o);
      bookmark(true);
    } else if (rvParam === '' || rvParam === '0') {
      for (const o of store.list(r, ns)) if (matches(o)) write('ADDED', o);
    } else {
      const from = Number(rvParam);
      if (from < store.oldestRv() - 1) {
        write('ERROR', { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${store.oldestRv()})`, reason: 'Expired', code: 410 });
        return res.end();
      }
      for (const ev of store.history) if (ev.rv > from && ev.key === key) deliver(ev);
    }
    const unsubscribe = store.subscribe((ev: StoreEvent) => {
      if (ev.key === key) deliver(ev);
    });
    const timers: NodeJS.Timeout[] = [];
    const done = () => {
      unsubscribe();
      for (const t of timers) clearTimeout(t), clearInterval(t);
      if (!res.writableEnded) res.end();
    };
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    timers.push(setTimeout(done, (timeout > 0 ? timeout : 1800) * 1000));
    if (q.get('allowWatchBookmarks') === 'true') timers.push(setInterval(() => bookmark(false), 10_000));
    req.on('close', done);
    res.on('close', done);
    activeWatches.add(done);
    res.on('close', () => activeWatches.delete(done));
  }

  const activeWatches = new Set<() => void>();
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const origClose = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    for (const d of [...activeWatches]) d();
    server.closeAllConnections?.();
    return origClose(cb);
  }) as typeof server.close;
  return { server, url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${addr.port}`, api };
}

function scaleOf(o: KObj): KObj {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, selector: Object.entries(o.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') },
  };
}
