import { describe, expect, test } from 'vitest';
import { isWellFormedImage, parseManifests, renderedContainers } from '../src/manifests';
import { DEFAULT_KEYS, NO_KEYS } from '@deploy-actions/chart';
import { imageKeyCandidates, judgeRender, renderFailureLine } from '../src/render-check';
import { cutMiddle, shortenCause, shortenImage } from '../src/shorten';

const D = `sha256:${'ab'.repeat(32)}`;
const pinned = { repository: 'reg.example.com/app', digest: D };

const manifests = `
---
# Source: c/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  template:
    spec:
      initContainers: [{ name: wait, image: "busybox:1.36" }]
      containers: [{ name: app, image: "IMG" }]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: web-migrate
  annotations: { helm.sh/hook: pre-upgrade }
spec: { template: { spec: { containers: [{ name: migrate, image: "HOOK" }] } } }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: web-nightly }
spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: n, image: "reg.example.com/app:nightly" }] } } } } }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { ports: [{ port: 80 }] }
`;

const containersOf = (img: string, hook = 'reg.example.com/app:1.0') => renderedContainers(parseManifests(manifests.replace('IMG', img).replace('HOOK', hook)));

describe('rendered containers', () => {
  test('workloads, init containers, hooks and cron jobs; not services', () => {
    expect(containersOf('x').map((c) => [c.kind, c.name, c.container, c.init, c.hook])).toEqual([
      ['Deployment', 'web', 'wait', true, undefined],
      ['Deployment', 'web', 'app', false, undefined],
      ['Job', 'web-migrate', 'migrate', false, 'pre-upgrade'],
      ['CronJob', 'web-nightly', 'n', false, undefined],
    ]);
  });

  test.each([
    ['reg.example.com/app@' + D, true],
    ['127.0.0.1:5000/sample-service:v1', true],
    ['busybox', true],
    ['docker.io/library/busybox:1.36@' + D, true],
    [':', false],
    ['', false],
    ['reg.example.com/app:', false],
    [':1.0', false],
    ['@' + D, false],
    ['reg.example.com/app@', false],
    ['reg.example.com/App', false],
  ])('image %j well formed: %s', (img, ok) => expect(isWellFormedImage(img)).toBe(ok));
});

describe('judgeRender', () => {
  test('the digest in a workload container passes', () => {
    const v = judgeRender(containersOf(`reg.example.com/app@${D}`), pinned);
    expect(v.ok && v.pinned.map((c) => c.name)).toEqual(['web']);
  });
  test('the digest in a hook only still passes (a hook is a workload too)', () => {
    expect(judgeRender(containersOf('reg.example.com/app:1.0', `reg.example.com/app@${D}`), pinned).ok).toBe(true);
  });
  test('no digest: missing, naming every image once with where it is', () => {
    const v = judgeRender(containersOf('reg.example.com/app:1.0'), pinned);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    const line = renderFailureLine(v, pinned, DEFAULT_KEYS, [{ ...NO_KEYS, repositoryKey: 'container.image.repo', digestKey: 'container.image.ref' }]);
    expect(line).toBe(
      'The chart does not render the pinned image reg.example.com/app@sha256:abababababab… in any workload container (values keys set: image-repository-key: image.repository, image-digest-key: image.digest): ' +
        '"busybox:1.36" in Deployment web init container wait; "reg.example.com/app:1.0" in Deployment web, Job web-migrate (pre-upgrade hook); "reg.example.com/app:nightly" in CronJob web-nightly; ' +
        'these keys render it: image-repository-key: container.image.repo, image-digest-key: container.image.ref',
    );
  });
  test('the pinned digest from another registry fails, showing rendered and expected and naming the keys', () => {
    const ecr = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/orders';
    const image = { repository: ecr, digest: D };
    const v = judgeRender(containersOf(`docker.io/${ecr}@${D}`), image);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.kind).toBe('elsewhere');
    const split = { ...NO_KEYS, registryKey: 'image.registry', repositoryKey: 'image.repository', digestKey: 'image.digest', tagKey: 'image.tag' };
    expect(renderFailureLine(v, image, DEFAULT_KEYS, [split])).toBe(
      `The chart renders the pinned digest from another image: rendered "docker.io/${ecr}@sha256:abababababab…" in Deployment web, ` +
        `expected "${ecr}@sha256:abababababab…" (values keys set: image-repository-key: image.repository, image-digest-key: image.digest); ` +
        'these keys render it: image-registry-key: image.registry, image-repository-key: image.repository, image-digest-key: image.digest, image-tag-key: image.tag',
    );
  });
  test.each([
    ['another repository, same registry', `reg.example.com/other@${D}`, false],
    ['a hook with the digest under another repository', `reg.example.com/app@${D}|reg.example.com/migrate@${D}`, false],
    ['the same image spelled with its tag', `reg.example.com/app:1.0@${D}`, true],
  ])('%s: ok %s', (_, imgs, ok) => {
    const [img, hook] = imgs.split('|');
    expect(judgeRender(containersOf(img!, hook), pinned).ok).toBe(ok);
  });
  test.each([
    ['busybox', `busybox@${D}`],
    ['docker.io/library/busybox', `index.docker.io/library/busybox@${D}`],
    ['library/busybox', `docker.io/library/busybox:1.36@${D}`],
  ])('Docker Hub defaulting: pinned %s passes when the chart renders %s', (repository, img) => {
    expect(judgeRender(containersOf(img), { repository, digest: D }).ok).toBe(true);
  });
  test('a malformed image fails even without a pinned image', () => {
    const v = judgeRender(containersOf(':'), undefined);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(renderFailureLine(v, undefined, DEFAULT_KEYS, [])).toBe(
      'The chart renders a malformed image (values keys left at the chart defaults): ":" in Deployment web',
    );
  });
});

describe('imageKeyCandidates', () => {
  const used = DEFAULT_KEYS;
  test('nested keys of a real chart, test and hook images last', () => {
    const values = `
tests:
  image: { repository: busybox, tag: "1.36" }
container:
  image:
    repo: reg/app
    ref: "1.0"
  port: 8080
migrations:
  enabled: true
`;
    expect(imageKeyCandidates(values, used)).toEqual([
      { ...NO_KEYS, repositoryKey: 'container.image.repo', digestKey: 'container.image.ref' },
      { ...NO_KEYS, repositoryKey: 'tests.image.repository', digestKey: 'tests.image.tag' },
    ]);
  });
  test('a split registry layout (registry defaulting to docker.io) with its tag, then without it', () => {
    const values = 'image:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: 1.25.3\n  digest: ""\n';
    expect(imageKeyCandidates(values, used)).toEqual([
      { ...NO_KEYS, registryKey: 'image.registry', repositoryKey: 'image.repository', digestKey: 'image.digest', tagKey: 'image.tag' },
      { ...NO_KEYS, registryKey: 'image.registry', repositoryKey: 'image.repository', digestKey: 'image.digest' },
    ]);
  });
  test('a whole reference in one key', () => {
    expect(imageKeyCandidates('image: registry.example.com/app:1.0\nworker:\n  image: ""\n', used)).toEqual([
      { ...NO_KEYS, referenceKey: 'image' },
      { ...NO_KEYS, referenceKey: 'worker.image' },
    ]);
  });
  test('the keys already used are not suggested; broken YAML gives none', () => {
    expect(imageKeyCandidates('image: { repository: a, digest: "" }', used)).toEqual([]);
    expect(imageKeyCandidates('image: [', used)).toEqual([]);
  });
});

describe('shortening', () => {
  const ecr = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/ledger-service';
  const pull = `Back-off pulling image "${ecr}@${D}": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image "${ecr}@${D}": failed to resolve reference "${ecr}@${D}": ${ecr}@${D}: not found`;

  test('an image: digest to 12 hex digits, a long host to its first label', () =>
    expect(shortenImage(`${ecr}@${D}`)).toBe('123456789012…/payments/ledger-service@sha256:abababababab…'));

  test('a pull error keeps its end ("not found") and names the image once', () => {
    const s = shortenCause(pull);
    expect(s.length).toBeLessThanOrEqual(240);
    expect(s).toMatch(/not found$/);
    expect(s.match(/ledger-service/g)).toHaveLength(1);
  });

  test.each([
    ['short', 10, 'short'],
    ['0123456789abcdefghij', 13, '012 … defghij'],
  ])('cutMiddle %s to %i keeps the end', (text, max, want) => expect(cutMiddle(text, max)).toBe(want));
});
