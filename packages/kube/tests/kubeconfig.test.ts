import { describe, expect, test } from 'vitest';
import { KubeconfigError, parseKubeconfig } from '../src/kubeconfig';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const files: Record<string, string> = { '/kc/ca.pem': 'CA FILE', '/kc/token': 'tok-from-file\n', '/abs/cert.pem': 'CERT FILE', '/kc/key.pem': 'KEY FILE' };
const readFile = (p: string) => {
  const f = files[p];
  if (f === undefined) throw new Error('ENOENT');
  return f;
};
const config = (cluster: Record<string, unknown>, user: Record<string, unknown>, ctx: Record<string, unknown> = {}) =>
  JSON.stringify({
    'current-context': 'c',
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'u', ...ctx } }],
    clusters: [{ name: 'k', cluster: { server: 'https://10.0.0.1:6443/', ...cluster } }],
    users: [{ name: 'u', user }],
  });
const parse = (text: string, context = '') => parseKubeconfig(text, { context, dir: '/kc', readFile });

describe('parseKubeconfig', () => {
  test.each([
    ['token', { token: 'abc' }, { kind: 'token', token: 'abc' }],
    ['token file, relative to the kubeconfig', { tokenFile: 'token' }, { kind: 'token-file', path: '/kc/token' }],
    ['basic auth', { username: 'u', password: 'p' }, { kind: 'basic', username: 'u', password: 'p' }],
    [
      'exec plugin (aws eks get-token)',
      { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'x'], env: [{ name: 'AWS_PROFILE', value: 'p' }] } },
      { kind: 'exec', plugin: { command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'x'], env: { AWS_PROFILE: 'p' }, apiVersion: 'client.authentication.k8s.io/v1beta1' } },
    ],
    ['exec plugin with a relative path', { exec: { command: './bin/token' } }, { kind: 'exec', plugin: { command: '/kc/./bin/token', args: [], env: {}, apiVersion: 'client.authentication.k8s.io/v1beta1' } }],
    ['no credentials', {}, { kind: 'none' }],
  ])('%s', (_name, user, credentials) => expect(parse(config({}, user)).credentials).toEqual(credentials));

  test('trust and client certificate from data and from files', () => {
    const c = parse(config({ 'certificate-authority-data': b64('CA DATA'), 'tls-server-name': 'api.internal' }, { 'client-certificate': '/abs/cert.pem', 'client-key': 'key.pem' }, { namespace: 'shop' }));
    expect(c).toMatchObject({ server: 'https://10.0.0.1:6443', ca: 'CA DATA', serverName: 'api.internal', cert: 'CERT FILE', key: 'KEY FILE', insecure: false, namespace: 'shop' });
    expect(parse(config({ 'certificate-authority': 'ca.pem', 'insecure-skip-tls-verify': true }, { 'client-certificate-data': b64('C'), 'client-key-data': b64('K') }))).toMatchObject({ ca: 'CA FILE', insecure: true, cert: 'C', key: 'K' });
  });

  test.each([
    ['not: [yaml', '', 'is not YAML'],
    ['', '', 'is empty (no clusters, contexts or users)'],
    [config({}, {}), 'other', "has no context 'other'"],
    [config({ server: 'localhost' }, {}), '', "names no server URL for the cluster of context 'c'"],
    [config({ 'proxy-url': 'http://proxy:3128' }, {}), '', "sets proxy-url for cluster 'k', which this action's API client does not support"],
    [config({}, { 'auth-provider': { name: 'gcp' } }), '', "user 'u' uses an auth-provider plugin (removed from client-go); use an exec plugin"],
    [config({}, { 'client-certificate-data': b64('C') }), '', "user 'u' has a client certificate without its key, or a key without its certificate"],
    [config({ 'certificate-authority': 'missing.pem' }, {}), '', 'names certificate-authority /kc/missing.pem, which cannot be read'],
  ])('refuses %j (context %j): %s', (text, context, message) => {
    expect(() => parse(text, context)).toThrow(KubeconfigError);
    expect(() => parse(text, context)).toThrow(message);
  });
});
