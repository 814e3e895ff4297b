// API semantics through plain HTTP, and TLS/bearer/EKS authentication with the real kubectl.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type KubeTools, ensureKubeTools } from '../../tools/kube-binaries';
import { type KubeStandin, createEksToken, startKubeStandin } from './index';
import { encEnvelope, encField, encMapEntry } from './protobuf';
import { SAMPLE_CHART, kubeClients, ok } from './testing';

let s: KubeStandin | undefined;
let tools: KubeTools;
beforeAll(async () => {
  tools = await ensureKubeTools();
});
afterEach(async () => {
  await s?.stop();
  s = undefined;
});

async function req(method: string, path: string, body?: unknown, contentType = 'application/json', headers: Record<string, string> = {}) {
  const res = await fetch(s!.url + path, {
    method,
    headers: { 'Content-Type': contentType, ...headers },
    body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

describe('API semantics', () => {
  it('CRUD with resourceVersion, generation, /status, generateName and Status errors', async () => {
    s = await startKubeStandin({ runtime: 'fake' });
    const cm = await req('POST', '/api/v1/namespaces/default/configmaps', { metadata: { generateName: 'cfg-' }, data: { a: '1' } });
    expect(cm.status).toBe(201);
    expect(cm.body.metadata.name).toMatch(/^cfg-\w{5}$/);
    const dup = await req('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: cm.body.metadata.name } });
    expect(dup).toMatchObject({ status: 409, body: { kind: 'Status', reason: 'AlreadyExists', code: 409 } });
    expect((await req('GET', '/api/v1/namespaces/default/configmaps/missing')).body).toMatchObject({ reason: 'NotFound', code: 404 });
    expect((await req('POST', '/api/v1/namespaces/nope/configmaps', { metadata: { name: 'x' } })).status).toBe(404);
    const stale = await req('PUT', `/api/v1/namespaces/default/configmaps/${cm.body.metadata.name}`, { ...cm.body, metadata: { ...cm.body.metadata, resourceVersion: '1' } });
    expect(stale.body.reason).toBe('Conflict');

    const dep = { metadata: { name: 'web', labels: { app: 'web' } }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } } };
    const created = (await req('POST', '/apis/apps/v1/namespaces/default/deployments', dep)).body;
    expect(created.metadata.generation).toBe(1);
    const labelled = (await req('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json')).body;
    expect(labelled.metadata.generation).toBe(1);
    expect(Number(labelled.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    const scaled = (await req('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', { spec: { replicas: 3 } }, 'application/strategic-merge-patch+json')).body;
    expect(scaled.metadata.generation).toBe(2);
    // Status is only written through /status.
    const ignored = (await req('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', { status: { replicas: 99 } }, 'application/merge-patch+json')).body;
    expect(ignored.status?.replicas).not.toBe(99);
    // Server-side apply: create (201), then a field the manager stops setting disappears.
    const apply = (labels: Record<string, string>) => req('PATCH', '/api/v1/namespaces/default/configmaps/applied?fieldManager=helm&force=false', `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  labels: ${JSON.stringify(labels)}\ndata: {k: v}\n`, 'application/apply-patch+yaml');
    expect((await apply({ a: '1', b: '2' })).status).toBe(201);
    const re = await apply({ a: '1' });
    expect(re.status).toBe(200);
    expect(re.body.metadata.labels).toEqual({ a: '1' });
  });

  it('lists with selectors and serves Tables, watch replay and watch-list with the initial-events-end bookmark', async () => {
    s = await startKubeStandin({ runtime: 'fake' });
    for (const [n, tier] of [['a', 'front'], ['b', 'back']]) await req('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: n, labels: { tier } } });
    const list = (await req('GET', '/api/v1/namespaces/default/configmaps?labelSelector=tier%20in%20(front)')).body;
    expect(list.items.map((i: any) => i.metadata.name)).toEqual(['a']);
    const rv = list.metadata.resourceVersion;
    const table = (await req('GET', '/api/v1/namespaces/default/configmaps', undefined, 'application/json', { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' })).body;
    expect(table.kind).toBe('Table');
    expect(table.rows.map((r: any) => r.cells[0])).toEqual(['a', 'b']);
    await req('PATCH', '/api/v1/namespaces/default/configmaps/b', { data: { x: '1' } }, 'application/merge-patch+json');

    const lines = async (path: string, n: number) => {
      const ac = new AbortController();
      const res = await fetch(s!.url + path, { signal: ac.signal });
      const reader = res.body!.getReader();
      let buf = '';
      while (buf.split('\n').filter(Boolean).length < n) buf += Buffer.from((await reader.read()).value!).toString();
      ac.abort();
      return buf.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    };
    const replay = await lines(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`, 1);
    expect(replay[0]).toMatchObject({ type: 'MODIFIED', object: { metadata: { name: 'b' } } });
    const wl = await lines('/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&fieldSelector=metadata.name%3Da', 2);
    expect(wl[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'a' } } });
    expect(wl[1]).toMatchObject({ type: 'BOOKMARK', object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } } });
    // Objects leaving or entering a label selector are DELETED/ADDED for that watch.
    const rv2 = (await req('GET', '/api/v1/namespaces/default/configmaps')).body.metadata.resourceVersion;
    await req('PATCH', '/api/v1/namespaces/default/configmaps/a', { metadata: { labels: { tier: 'back' } } }, 'application/merge-patch+json');
    await req('PATCH', '/api/v1/namespaces/default/configmaps/b', { metadata: { labels: { tier: 'front' } } }, 'application/merge-patch+json');
    const moved = await lines(`/api/v1/namespaces/default/configmaps?watch=true&labelSelector=tier%3Dfront&resourceVersion=${rv2}`, 2);
    expect(moved.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['DELETED a', 'ADDED b']);
  });

  it('accepts protobuf Secrets and DELETE bodies, cascades deletes to owned objects', async () => {
    s = await startKubeStandin({ runtime: 'fake' });
    const meta = Buffer.concat([encField(1, 'sh.helm.release.v1.r.v1'), encMapEntry(11, 'owner', 'helm')]);
    const body = encEnvelope('v1', 'Secret', Buffer.concat([encField(1, meta), encMapEntry(2, 'release', 'abc'), encField(3, 'helm.sh/release.v1')]));
    const r = await req('POST', '/api/v1/namespaces/default/secrets', body, 'application/vnd.kubernetes.protobuf');
    expect(r.status).toBe(201);
    expect((await req('GET', '/api/v1/namespaces/default/secrets?labelSelector=owner%3Dhelm')).body.items[0].data.release).toBe(Buffer.from('abc').toString('base64'));
    const dep = { metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } } };
    await req('POST', '/apis/apps/v1/namespaces/default/deployments', dep);
    await s.waitFor(() => s!.list('Pod', 'default').length === 2);
    const del = await req('DELETE', '/apis/apps/v1/namespaces/default/deployments/web', encEnvelope('v1', 'DeleteOptions', encField(4, 'Background')), 'application/vnd.kubernetes.protobuf');
    expect(del.status).toBe(200);
    await s.waitFor(() => s!.list('Pod', 'default').length === 0 && s!.list('ReplicaSet', 'default').length === 0);
  });
});

describe('Deployment progress deadline', () => {
  it('marks a stuck rollout ProgressDeadlineExceeded and kubectl rollout status fails', async () => {
    s = await startKubeStandin({ runtime: 'fake' });
    const dep = {
      metadata: { name: 'stuck' },
      spec: {
        replicas: 1,
        progressDeadlineSeconds: 2,
        selector: { matchLabels: { app: 'stuck' } },
        template: { metadata: { labels: { app: 'stuck' }, annotations: { 'standin.deploy-actions/fake-readiness': 'fail' } }, spec: { containers: [{ name: 'c', image: 'x:1', readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 } }] } },
      },
    };
    await req('POST', '/apis/apps/v1/namespaces/default/deployments', dep);
    const c = kubeClients(s, tools);
    const r = await c.kubectl(['rollout', 'status', 'deployment/stuck', '--timeout', '20s']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/exceeded its progress deadline/);
    const d = s.get('Deployment', 'default', 'stuck')!;
    expect(d.status.conditions.find((x: any) => x.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
  }, 60_000);
});

describe('TLS and authentication with the real kubectl', () => {
  it('serves HTTPS with a generated CA and requires a bearer token', async () => {
    s = await startKubeStandin({ runtime: 'fake', tls: true, auth: { mode: 'bearer', tokens: ['s3cret'] }, kubeconfigToken: 's3cret' });
    expect(s.url).toMatch(/^https:/);
    expect(s.caData).toBeTruthy();
    const c = kubeClients(s, tools);
    expect(ok(await c.kubectl(['get', 'ns']))).toMatch(/default\s+Active/);
    const bad = await c.kubectl(['get', 'ns', '--token', 'wrong']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Unauthorized/);
  }, 60_000);

  it('EKS mode: accepts signed tokens for this cluster from callers with an access entry', async () => {
    const admin = { accessKeyId: 'AKIAADMIN', secretAccessKey: 'admin-secret' };
    const other = { accessKeyId: 'AKIAOTHER', secretAccessKey: 'other-secret' };
    const viewer = { accessKeyId: 'AKIAVIEWER', secretAccessKey: 'viewer-secret' };
    s = await startKubeStandin({
      runtime: 'fake',
      tls: true,
      auth: {
        mode: 'eks',
        clusterName: 'prod',
        region: 'eu-west-1',
        credentials: [admin, other, viewer],
        arnForAccessKey: { AKIAADMIN: 'arn:aws:iam::111122223333:role/deployer', AKIAOTHER: 'arn:aws:iam::111122223333:role/nobody', AKIAVIEWER: 'arn:aws:iam::111122223333:role/viewer' },
        allowedArns: ['arn:aws:iam::111122223333:role/deployer', 'arn:aws:iam::111122223333:role/viewer'],
        readOnlyArns: ['arn:aws:iam::111122223333:role/viewer'],
      },
    });
    const c = kubeClients(s, tools);
    const token = (cluster: string, creds = admin) => createEksToken({ clusterName: cluster, region: 'eu-west-1', credentials: creds });
    expect(ok(await c.kubectl(['get', 'ns', 'default', '--token', token('prod')]))).toMatch(/default/);
    for (const t of [token('staging'), token('prod', other), token('prod', { ...admin, secretAccessKey: 'x' }), 's3cret']) {
      const r = await c.kubectl(['get', 'ns', '--token', t]);
      expect(r.stderr).toMatch(/Unauthorized/);
    }
    // A read-only access entry: reads work, writes get 403 (helm cannot store its release).
    const vt = token('prod', viewer);
    expect(ok(await c.kubectl(['get', 'pods', '-A', '--token', vt]))).toBe('');
    const w = await c.kubectl(['create', 'namespace', 'x', '--token', vt]);
    expect(w.stderr).toMatch(/forbidden: User "arn:aws:iam::111122223333:role\/viewer" cannot create resource "namespaces"/);
    const h = await c.helm4(['upgrade', '--install', 'r', SAMPLE_CHART, '-n', 'default', '--kube-token', vt]);
    expect(h.code).not.toBe(0);
    expect(h.stderr).toMatch(/forbidden/);
    ok(await c.helm4(['upgrade', '--install', 'r', SAMPLE_CHART, '-n', 'default', '--kube-token', token('prod')]), 'helm with an admin EKS token');
    const res = await fetch(`${s.url}/api/v1/namespaces`, { headers: { Authorization: `Bearer ${token('staging')}` } }).catch((e) => e);
    expect(res).toBeInstanceOf(Error); // Node does not trust the generated CA: the kubeconfig carries it
  }, 60_000);
});
