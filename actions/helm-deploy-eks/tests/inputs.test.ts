import { describe, expect, test } from 'vitest';
import { Inputs as Raw, mapInputs } from '@deploy-actions/action-kit';
import { getInputs, readInputs, isValidNamespace, isValidReleaseName, parseGoDuration, parseImageRef, type InputContext } from '../src/inputs';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const kc = (server: string, extra = '') => `apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: '${server}'}\n${extra}`;
const KUBECONFIGS: Record<string, string> = {
  '/ws/kc': kc('https://10.0.0.1:6443'),
  '/ws/kc-empty': '',
  '/ws/kc-blank': '\n  \n',
  '/ws/kc-nocontext': 'apiVersion: v1\nkind: Config\nclusters: []\n',
  '/ws/kc-noserver': kc(''),
  '/ws/kc-notyaml': '{: [',
  '/ws/kc-proxy': kc('https://10.0.0.1:6443').replace('server:', 'proxy-url: "http://proxy:3128", server:'),
  '/ws/kc-cafile': kc('https://10.0.0.1:6443').replace('server:', 'certificate-authority: missing-ca.pem, server:'),
};
const files = new Set(['/ws/kc-proxy', '/ws/kc-cafile', '/ws/kc-empty', '/ws/kc-blank', '/ws/kc-nocontext', '/ws/kc-noserver', '/ws/kc-notyaml', '/ws/chart', '/ws/chart/Chart.yaml', '/ws/nochart', '/ws/extra.yaml', '/ws/kc']);
const ctx: InputContext = {
  workspace: '/ws',
  exists: (p) => files.has(p),
  isDirectory: (p) => p === '/ws/chart' || p === '/ws/nochart',
  realpath: (p) => (files.has(p) || p === '/ws' ? p : undefined),
  envRegion: 'eu-west-1',
  readText: (p) => KUBECONFIGS[p],
};
const base = { release: 'web', 'cluster-name': 'prod' };
const read = (extra: Record<string, string>) => getInputs(new Raw(mapInputs({ ...base, ...extra })), ctx);

describe('release and namespace names', () => {
  test.each([
    ['web', true],
    ['web-api.v2', true],
    ['a'.repeat(53), true],
    ['a'.repeat(54), false],
    ['Web', false],
    ['-web', false],
    ['web_api', false],
    ['web.', false],
  ])('release %s -> %s', (name, ok) => expect(isValidReleaseName(name)).toBe(ok));
  test.each([
    ['prod', true],
    ['team-a', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['team.a', false],
    ['Prod', false],
  ])('namespace %s -> %s', (name, ok) => expect(isValidNamespace(name)).toBe(ok));
});

describe('durations and image refs', () => {
  test.each([
    ['5m', 300],
    ['300s', 300],
    ['1m30s', 90],
    ['1h', 3600],
    ['1.5m', 90],
    ['5', undefined],
    ['5 m', undefined],
    ['m5', undefined],
    ['5d', undefined],
  ])('duration %s -> %s', (text, seconds) => expect(parseGoDuration(text)).toBe(seconds));

  test.each([
    [`repo@${DIGEST}`, { repository: 'repo', digest: DIGEST }],
    [`123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app@${DIGEST}`, { repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app', digest: DIGEST }],
    [`localhost:5000/app:1.2.3@${DIGEST}`, { repository: 'localhost:5000/app', tag: '1.2.3', digest: DIGEST }],
    ['repo:latest', undefined],
    [`repo@sha256:${'ab'.repeat(31)}`, undefined],
    [`repo@sha256:${'AB'.repeat(32)}`, undefined],
    [`Repo@${DIGEST}`, undefined],
    [`@${DIGEST}`, undefined],
  ])('image %s', (ref, want) => expect(parseImageRef(ref)).toEqual(want));
});

describe('getInputs', () => {
  test.each([
    ['4', '4.3.0'],
    ['3', '3.22.0'],
    ['v3.17.3', '3.17.3'],
  ])('helm-version %s installs %s', (given, want) => expect(read({ 'helm-version': given }).helmVersion).toBe(want));

  test.each([
    ['set', 'migrations.enabled=false', 'set', [['migrations.enabled', 'false']]],
    ['set-string', 'config.BUILD=0012', 'setString', [['config.BUILD', '0012']]],
  ])('%s lines', (input, text, field, want) => expect(read({ [input]: text })[field as 'set']).toEqual(want));

  test('defaults', () => {
    const i = read({});
    expect(i).toMatchObject({
      release: 'web',
      namespace: 'default',
      chart: '/ws/chart',
      timeout: '5m',
      timeoutSeconds: 300,
      historyMax: 10,
      rollbackOnFailure: true,
      helmVersion: '4.3.0',
      helmBaseUrl: 'https://get.helm.sh',
      region: 'eu-west-1',
      imageRepositoryKey: 'image.repository',
      imageDigestKey: 'image.digest',
      imageTagKey: '',
      podSelector: 'app.kubernetes.io/instance=web',
      failFast: true,
    });
    expect(i.image).toBeUndefined();
  });

  test('image from parts and tag', () => {
    const i = read({ 'image-repository': 'reg:5000/app', 'image-digest': DIGEST, 'image-tag': 'v1' });
    expect(i.image).toEqual({ repository: 'reg:5000/app', digest: DIGEST, tag: 'v1' });
  });

  test.each([
    [{}, { imageRegistryKey: '', imageRepositoryKey: 'image.repository', imageDigestKey: 'image.digest', imageTagKey: '', imageReferenceKey: '' }],
    [
      { 'image-registry-key': 'image.registry', 'image-tag-key': 'image.tag' },
      { imageRegistryKey: 'image.registry', imageRepositoryKey: 'image.repository', imageDigestKey: 'image.digest', imageTagKey: 'image.tag', imageReferenceKey: '' },
    ],
    [
      { 'image-registry-key': 'app.image.host', 'image-repository-key': 'app.image.path', 'image-digest-key': 'app.image.sha' },
      { imageRegistryKey: 'app.image.host', imageRepositoryKey: 'app.image.path', imageDigestKey: 'app.image.sha', imageTagKey: '', imageReferenceKey: '' },
    ],
    [{ 'image-reference-key': 'image' }, { imageRegistryKey: '', imageRepositoryKey: '', imageDigestKey: '', imageTagKey: '', imageReferenceKey: 'image' }],
    [{ 'image-reference-key': 'app.image', 'image-tag-key': 'app.tag' }, { imageRegistryKey: '', imageRepositoryKey: '', imageDigestKey: '', imageTagKey: 'app.tag', imageReferenceKey: 'app.image' }],
  ])('image keys %o', (extra, want) => expect(read(extra)).toMatchObject(want));

  test('extra values files resolve against the workspace', () => {
    expect(read({ 'values-files': 'extra.yaml' }).valuesFiles).toEqual(['/ws/extra.yaml']);
  });

  test('the image\'s registry: from an ECR host, else registry-id', () => {
    expect(read({ image: `111111111111.dkr.ecr.eu-central-1.amazonaws.com/team/app@${DIGEST}` }).imageSource).toEqual({ registryId: '111111111111', region: 'eu-central-1', repository: 'team/app' });
    expect(read({ image: `127.0.0.1:5000/team/app@${DIGEST}`, 'registry-id': '111111111111' }).imageSource).toEqual({ registryId: '111111111111', region: 'eu-west-1', repository: 'team/app' });
    expect(read({ image: `127.0.0.1:5000/team/app@${DIGEST}` }).imageSource).toBeUndefined();
  });

  test.each([
    [{ release: '' }, "Input 'release' is required"],
    [{ release: 'My_App' }, "Input 'release' must be a lowercase RFC 1123 name"],
    [{ namespace: 'a.b' }, "Input 'namespace' must be a lowercase RFC 1123 label"],
    [{ chart: 'missing' }, "Input 'chart' must be a chart directory that exists in the workspace (got 'missing')"],
    [{ chart: 'nochart' }, "Input 'chart' must be a chart directory holding Chart.yaml (got 'nochart')"],
    [{ 'values-files': 'values-qa.yaml' }, "Input 'values-files' must be a values file that exists in the workspace (got 'values-qa.yaml')"],
    [{ timeout: '5' }, "Input 'timeout' must be a Go duration such as 5m, 300s or 1m30s (got '5')"],
    [{ 'readiness-timeout': '0s' }, "Input 'readiness-timeout' must be a Go duration"],
    [{ image: 'app:latest' }, "Input 'image' must be an image pinned by digest"],
    [{ 'image-repository': 'app', 'image-digest': 'sha256:abc' }, "Input 'image-digest' must be sha256: followed by 64 lowercase hex digits (got 'sha256:abc')"],
    [{ image: `app@${DIGEST}`, 'image-digest': DIGEST }, "Input 'image' cannot be combined"],
    [{ 'dry-run': 'maybe' }, "Input 'dry-run' must be true or false (got 'maybe')"],
    [{ image: `127.0.0.1:5000/app@${DIGEST}`, 'registry-id': '1111' }, "Input 'registry-id' must be a 12-digit AWS account id (got '1111')"],
    [{ 'registry-id': '111111111111' }, "Input 'registry-id' needs image or image-repository/image-digest"],
    [{ image: `222222222222.dkr.ecr.eu-west-1.amazonaws.com/app@${DIGEST}`, 'registry-id': '111111111111' }, "Input 'registry-id' must be the account in the image's ECR host (222222222222)"],
    [{ 'create-namespace': 'yess' }, "Input 'create-namespace' must be true or false"],
    [{ 'cluster-name': '' }, "Input 'cluster-name' is required (or give kubeconfig)"],
    [{ kubeconfig: 'kc' }, "Input 'kubeconfig' cannot be combined with cluster-name"],
    [{ 'cluster-name': '', kubeconfig: 'nope' }, "Input 'kubeconfig' must be a kubeconfig file that exists"],
    [{ 'cluster-name': '', kubeconfig: 'chart' }, "Input 'kubeconfig' must be a kubeconfig file that exists, not a directory (got 'chart')"],
    [{ 'aws-region': 'mars' }, "Input 'aws-region' must be an AWS region"],
    [{ 'helm-version': 'latest' }, "Input 'helm-version' must be a version"],
    [{ 'helm-base-url': 'ftp://x' }, "Input 'helm-base-url' must be an http(s) URL"],
    [{ 'image-digest-key': 'image digest' }, "Input 'image-digest-key' must be a dotted values key"],
    [{ 'image-reference-key': 'image', 'image-repository-key': 'image.repository' }, "Input 'image-repository-key' cannot be combined with image-reference-key (image takes the whole reference) (got 'image.repository')"],
    [{ 'image-reference-key': 'app.image', 'image-registry-key': 'app.registry' }, "Input 'image-registry-key' cannot be combined with image-reference-key"],
    [{ 'image-registry-key': 'image.repository' }, "Input 'image-registry-key' must be a values key of its own (it overlaps image.repository, another image key)"],
    [{ 'image-tag-key': 'image' }, "Input 'image-repository-key' must be a values key of its own (it overlaps image, another image key)"],
    [{ 'image-registry-key': 'image registry' }, "Input 'image-registry-key' must be a dotted values key"],
    [{ 'history-max': '-1' }, "Input 'history-max' must be a whole number from 0 to 1000"],
    [{ 'smoke-url': 'localhost:8080' }, "Input 'smoke-url' must be an http(s) URL"],
    [{ set: 'no-equals' }, "Input 'set' must be KEY=VALUE lines"],
    // Inputs the chosen way of working does not read (issue 23).
    [{ 'kube-context': 'ctx' }, "Input 'kube-context' is read only with kubeconfig (with cluster-name the action writes a kubeconfig of its own, with one context); remove it (got 'ctx')"],
    [{ 'tools-from-path': 'true', 'helm-version': '3.18.0' }, "Input 'helm-version' is not read with tools-from-path: true (the helm on PATH is used as it is); remove one of them (got '3.18.0')"],
    [{ 'tools-from-path': 'true', 'helm-base-url': 'https://mirror.example' }, "Input 'helm-base-url' is not read with tools-from-path: true"],
    [{ 'smoke-attempts': '3' }, "Input 'smoke-attempts' is read only with smoke-url (set smoke-url, or remove it) (got '3')"],
  ])('%o fails with one line', (extra, message) => {
    let err: Error | undefined;
    try {
      read(extra as Record<string, string>);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.name).toBe('InputError');
    expect(err?.message).toContain(message);
    expect(err?.message).not.toContain('\n');
  });

  test('a kubeconfig instead of a cluster needs no region', async () => {
    const i = await readInputs(new Raw(mapInputs({ release: 'web', kubeconfig: 'kc' })), { ...ctx, envRegion: '' });
    expect(i.kubeconfig).toBe('/ws/kc');
    expect(i.kubeServer).toBe('https://10.0.0.1:6443');
    expect(i.clusterName).toBe('');
  });

  const kcBase = { release: 'web', kubeconfig: 'kc' };
  test.each([
    [{ kubeconfig: 'kc-empty' }, "Input 'kubeconfig' must be a kubeconfig this action can use (server, trust, credentials); this file is empty"],
    [{ kubeconfig: 'kc-proxy' }, "this file sets proxy-url for cluster 'k', which this action's API client does not support"],
    [{ kubeconfig: 'kc-cafile' }, 'this file names certificate-authority /ws/missing-ca.pem, which cannot be read'],
    [{ kubeconfig: 'kc-blank' }, 'this file is empty'],
    [{ kubeconfig: 'kc-nocontext' }, 'this file has no current-context'],
    [{ kubeconfig: 'kc-noserver' }, "names no server URL for the cluster of context 'c'"],
    [{ kubeconfig: 'kc-notyaml' }, 'this file is not YAML'],
    [{ 'kube-context': 'other' }, "this file has no context 'other'"],
    [{ 'aws-region': 'eu-west-1' }, "Input 'aws-region' is read only with cluster-name or bake alarms"],
    [{ set: 'a=1\nb=2\na=3' }, "Input 'set' must give each key once (a is given twice)"],
    [{ set: 'a=1', 'set-string': 'a=x' }, "Input 'set-string' must not give a key that set gives (a)"],
    [{ 'set-string': 'x=1\nx=2' }, "Input 'set-string' must give each key once"],
    [{ image: `r@${DIGEST}`, set: 'image.digest=sha256:00' }, "Input 'set' must not set image.digest: the action sets it from image (image-digest-key)"],
    [{ image: `r@${DIGEST}`, 'set-string': 'image.repository=evil' }, "Input 'set-string' must not set image.repository"],
    [{ image: `r@${DIGEST}`, 'image-digest-key': 'app.digest', set: 'app.digest=x' }, "Input 'set' must not set app.digest"],
    [{ image: `r@${DIGEST}`, 'image-tag-key': 'image.tag', set: 'image.tag=v9' }, "Input 'set' must not set image.tag: the action sets it from image (image-tag-key)"],
    [{ image: `r:v1@${DIGEST}`, 'image-tag': 'v2' }, "Input 'image-tag' must equal the tag in image ('v1')"],
    [{ timeout: '2562048h' }, "Input 'timeout' must be at most 2562047h"],
    [{ 'readiness-timeout': '9999999999s' }, "Input 'readiness-timeout' must be at most 2562047h"],
    [{ 'helm-version': '2.17.0' }, "Input 'helm-version' must be a helm 3 or helm 4 version"],
    [{ 'helm-version': '5.0.0' }, "Input 'helm-version' must be a helm 3 or helm 4 version"],
    [{ 'dry-run': 'true', 'helm-test': 'true' }, "Input 'helm-test' is not read with dry-run: true"],
    [{ 'dry-run': 'true', 'smoke-url': 'https://web.example' }, "Input 'smoke-url' is not read with dry-run: true"],
    [{ 'dry-run': 'true', 'bake-duration': '5m' }, "Input 'bake-duration' is not read with dry-run: true"],
  ])('conflicting inputs are refused: %j', async (extra, message) => {
    await expect(readInputs(new Raw(mapInputs({ ...kcBase, ...extra })), { ...ctx, envRegion: '' })).rejects.toThrow(message);
  });

  test('the same tag in image and image-tag, and a region with bake alarms in kubeconfig mode, are accepted', () => {
    expect(getInputs(new Raw(mapInputs({ ...kcBase, image: `r:v1@${DIGEST}`, 'image-tag': 'v1' })), ctx).image?.tag).toBe('v1');
    const i = getInputs(new Raw(mapInputs({ ...kcBase, 'aws-region': 'eu-west-1', 'bake-duration': '5m', 'bake-alarms': 'web-5xx' })), { ...ctx, envRegion: '' });
    expect(i.region).toBe('eu-west-1');
  });

  test('tools-from-path with the default helm-version and helm-base-url, smoke-attempts with smoke-url, kube-context with kubeconfig, are accepted', async () => {
    expect(read({ 'tools-from-path': 'true', 'helm-version': '4.3.0', 'helm-base-url': 'https://get.helm.sh' }).toolsFromPath).toBe(true);
    expect(read({ 'smoke-url': 'https://web.example', 'smoke-attempts': '3' }).smokeAttempts).toBe(3);
    const kc = await readInputs(new Raw(mapInputs({ ...kcBase, 'kube-context': 'c' })), { ...ctx, envRegion: '' });
    expect(kc.kubeContext).toBe('c');
  });
});
