import { describe, expect, test } from 'vitest';
import { buildKubeconfig, renderKubeconfig } from '../src/kubeconfig';
import { eksToken, execCredential, parseTokenArgs, stsEndpoint, TOKEN_PREFIX } from '../src/token';
import { verifySigV4 } from '../../../test/standins/eks/sigv4';
import { verifyEksToken } from '../../../test/standins/kube/eks-token';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const now = new Date('2026-11-21T10:00:00Z');

function decode(token: string): URL {
  expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
  const b64 = token.slice(TOKEN_PREFIX.length);
  expect(b64).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return new URL(Buffer.from(b64, 'base64url').toString('utf8'));
}

describe('eksToken', () => {
  test('presigned GetCallerIdentity on the regional STS host with the cluster header signed', async () => {
    const { token, expiresAt } = await eksToken({ cluster: 'prod', region: 'eu-west-1', credentials, now });
    const url = decode(token);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261121T100000Z');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261121/eu-west-1/sts/aws4_request');
    expect(url.searchParams.get('X-Amz-SignedHeaders')!.split(';')).toEqual(['host', 'x-k8s-aws-id']);
    expect(expiresAt.toISOString()).toBe('2026-11-21T10:14:00.000Z');

    // Recompute the signature independently, as STS would.
    const verdict = verifySigV4(
      { method: 'GET', url: url.pathname + url.search, headers: { host: url.host, 'x-k8s-aws-id': 'prod' }, body: Buffer.alloc(0) },
      (id) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined),
      new Date(now.getTime() + 30_000),
    );
    expect(verdict).toMatchObject({ ok: true, service: 'sts', region: 'eu-west-1' });
    // A different cluster name in the header breaks the signature.
    const other = verifySigV4(
      { method: 'GET', url: url.pathname + url.search, headers: { host: url.host, 'x-k8s-aws-id': 'staging' }, body: Buffer.alloc(0) },
      () => credentials.secretAccessKey,
      now,
    );
    expect(other).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  test('the Kubernetes stand-in\'s own EKS token verifier accepts it for this cluster only', async () => {
    const { token } = await eksToken({ cluster: 'prod', region: 'eu-west-1', credentials, now });
    const at = new Date(now.getTime() + 10_000);
    expect(verifyEksToken(token, { clusterName: 'prod', credentials, now: at })).toMatchObject({ ok: true, accessKeyId: 'AKIDEXAMPLE', region: 'eu-west-1' });
    expect(verifyEksToken(token, { clusterName: 'staging', credentials, now: at })).toMatchObject({ ok: false });
  });

  test('session token travels in the query; a configured STS endpoint is used with its port', async () => {
    const { token } = await eksToken({
      cluster: 'c',
      region: 'us-east-1',
      credentials: { ...credentials, sessionToken: 'FwoGZXIvYXdzE+/=' },
      stsEndpoint: 'http://127.0.0.1:4566',
      now,
    });
    const url = decode(token);
    expect(url.protocol).toBe('http:');
    expect(url.host).toBe('127.0.0.1:4566');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('FwoGZXIvYXdzE+/=');
    const verdict = verifySigV4(
      { method: 'GET', url: url.pathname + url.search, headers: { host: url.host, 'x-k8s-aws-id': 'c' }, body: Buffer.alloc(0) },
      () => credentials.secretAccessKey,
      now,
    );
    expect(verdict.ok).toBe(true);
  });

  test.each([
    [{}, 'https://sts.ap-south-1.amazonaws.com'],
    [{ AWS_ENDPOINT_URL: 'http://all:1/' }, 'http://all:1'],
    [{ AWS_ENDPOINT_URL: 'http://all:1', AWS_ENDPOINT_URL_STS: 'http://sts:2' }, 'http://sts:2'],
    [{ AWS_ENDPOINT_URL_STS: 'http://sts:2', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }, 'https://sts.ap-south-1.amazonaws.com'],
  ])('stsEndpoint %o', (env, want) => expect(stsEndpoint('ap-south-1', env)).toBe(want));

  test('ExecCredential shape', () => {
    expect(execCredential('t', new Date('2026-11-21T10:14:00.123Z'))).toEqual({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      spec: {},
      status: { expirationTimestamp: '2026-11-21T10:14:00Z', token: 't' },
    });
  });

  test('plugin argv', () => {
    expect(parseTokenArgs(['--cluster', 'prod', '--region', 'eu-west-1'])).toEqual({ cluster: 'prod', region: 'eu-west-1' });
    expect(() => parseTokenArgs(['--cluster', 'prod'])).toThrow(/usage/);
  });
});

describe('kubeconfig', () => {
  test('exec plugin is this bundle under this node, secrets never written', () => {
    const cfg = buildKubeconfig({
      clusterName: 'prod',
      region: 'eu-west-1',
      server: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
      caData: 'LS0tLS1CRUdJTg==',
      nodePath: '/opt/node24/bin/node',
      bundlePath: '/actions/helm-deploy-eks/dist/index.js',
      env: { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:1', AWS_SECRET_ACCESS_KEY: 'shh', AWS_SESSION_TOKEN: 'shh2', AWS_ACCESS_KEY_ID: 'AKID' },
    });
    expect(cfg).toMatchObject({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'eks_eu-west-1_prod',
      clusters: [{ name: 'eks_eu-west-1_prod', cluster: { server: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', 'certificate-authority-data': 'LS0tLS1CRUdJTg==' } }],
      users: [
        {
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1beta1',
              command: '/opt/node24/bin/node',
              args: ['/actions/helm-deploy-eks/dist/index.js', 'eks-token', '--cluster', 'prod', '--region', 'eu-west-1'],
              interactiveMode: 'Never',
              env: [{ name: 'AWS_REGION', value: 'eu-west-1' }, { name: 'AWS_ENDPOINT_URL_STS', value: 'http://127.0.0.1:1' }],
            },
          },
        },
      ],
    });
    const text = renderKubeconfig(cfg);
    expect(text).not.toContain('shh');
    expect(text).not.toContain('AKID');
    expect(JSON.parse(text)).toEqual(cfg);
  });
});
