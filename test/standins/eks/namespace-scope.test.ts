/**
 * EKS access entries scoped to a namespace (what deploy-setup generates: AmazonEKSEditPolicy with
 * AccessScope namespace): the front door lets the deploy role act in its namespace only. The
 * token is the one helm-deploy-eks mints (presigned GetCallerIdentity), the entries are the
 * generated ones (workflows/aws/), the cluster is the Kubernetes stand-in.
 */
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eksToken } from '../../../actions/helm-deploy-eks/src/token';
import { deployRoleArn, generatedSetup } from '../../executor/doubles/aws-trust';
import { ALLOW_ALL, IamStore } from '../iam/index';
import { startKubeStandin, type KubeStandin } from '../kube/index';
import { byKind } from '../kube/resources';
import { startEksWorld, type EksWorld } from './world';
import { namespaceRefusal } from './front-door';

let kube: KubeStandin;
let world: EksWorld;
const entry = generatedSetup().setup.accessEntries.find((e) => e.principalArn === deployRoleArn('qa'))!;
const session = `arn:aws:sts::${entry.account}:assumed-role/${deployRoleArn('qa').split('/').pop()}/gha`;
const creds = { accessKeyId: 'ASIANAMESPACESCOPE01', secretAccessKey: 'scope-secret', arn: session };

beforeAll(async () => {
  kube = await startKubeStandin({ tls: true, runtime: 'fake' });
  for (const ns of [entry.namespaces[0]!, 'payments']) kube.api.create(byKind('Namespace'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const iam = new IamStore();
  iam.addIdentity(creds, [ALLOW_ALL]);
  world = await startEksWorld({ kube, iam, region: 'eu-west-1', clusters: [{ name: entry.cluster, account: entry.account, accessEntries: [{ principalArn: entry.principalArn, policies: entry.policies }] }] });
}, 60_000);
afterAll(async () => {
  await world?.stop();
  await kube?.stop();
});

async function get(path: string, method = 'GET', body?: unknown): Promise<{ status: number; json: { message?: string; reason?: string } }> {
  const { token } = await eksToken({ cluster: entry.cluster, region: 'eu-west-1', credentials: creds, stsEndpoint: world.sts.url });
  const url = new URL(path, world.door.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: world.door.caCert, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text || '{}') }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('a namespace-scoped access entry (the generated AmazonEKSEditPolicy scope)', () => {
  test('in its namespace: allowed (list, create, the namespace object, discovery)', async () => {
    const ns = entry.namespaces[0]!;
    expect((await get(`/api/v1/namespaces/${ns}/configmaps`)).status).toBe(200);
    expect((await get(`/api/v1/namespaces/${ns}/configmaps`, 'POST', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {} })).status).toBe(201);
    expect((await get(`/api/v1/namespaces/${ns}`)).status).toBe(200);
    expect((await get('/api')).status).toBe(200);
  });

  test('another namespace, a list across namespaces, a cluster-scoped write: 403 Forbidden as Kubernetes words it', async () => {
    const other = await get('/api/v1/namespaces/payments/secrets');
    expect(other.status).toBe(403);
    expect(other.json).toMatchObject({ reason: 'Forbidden', message: `secrets is forbidden: User "${session}" cannot list resource "secrets" in API group "" in the namespace "payments"` });
    const across = await get('/apis/apps/v1/deployments');
    expect(across.status).toBe(403);
    expect(across.json.message).toBe(`deployments is forbidden: User "${session}" cannot list resource "deployments" in API group "apps" at the cluster scope`);
    const create = await get('/api/v1/namespaces', 'POST', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mine' } });
    expect(create.status).toBe(403);
    expect(world.door.decisions.filter((d) => d.forbidden)).toHaveLength(3);
  });

  test.each([
    ['GET', '/api/v1/namespaces/sample-qa/pods?watch=true', undefined],
    ['DELETE', '/apis/apps/v1/namespaces/other/deployments/web', 'deployments is forbidden: User "u" cannot delete resource "deployments" in API group "apps" in the namespace "other"'],
    ['GET', '/api/v1/namespaces/other', 'namespaces "other" is forbidden: User "u" cannot get resource "namespaces" in API group "" at the cluster scope'],
    ['GET', '/api/v1/nodes', 'nodes is forbidden: User "u" cannot list resource "nodes" in API group "" at the cluster scope'],
    ['GET', '/apis/apps/v1', undefined],
  ])('namespaceRefusal %s %s', (method, path, want) => {
    expect(namespaceRefusal(method, path, 'u', ['sample-qa'])).toBe(want);
  });
});
