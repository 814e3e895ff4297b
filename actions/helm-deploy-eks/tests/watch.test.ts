import { describe, expect, test } from 'vitest';
import { expectsRunningPods, judgeLive, runningImages } from '../src/live';
import { parseManifests } from '../src/manifests';
import { failedJob, matchesSelector, releasePods, watchedWorkloads, type KubeItem } from '../src/release-pods';
import { heartbeat } from '../src/upgrade';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const rendered = parseManifests(`
kind: Deployment
metadata: { name: web }
---
kind: Job
metadata: { name: web-migrate, annotations: { helm.sh/hook: "pre-install,pre-upgrade" } }
---
kind: Pod
metadata: { name: web-test, annotations: { helm.sh/hook: test } }
---
kind: Service
metadata: { name: web }
`);
const workloads = watchedWorkloads(rendered);

const owned = (kind: string, name: string) => [{ kind, name, controller: true }];
const pod = (name: string, owners: Array<{ kind: string; name: string }>, status: KubeItem['status'] & Record<string, unknown> = {}, labels?: Record<string, string>): KubeItem => ({
  kind: 'Pod',
  metadata: { name, ownerReferences: owners, labels, creationTimestamp: `2026-01-01T00:00:0${name.length % 10}Z` },
  status,
});
const items: KubeItem[] = [
  { kind: 'ReplicaSet', metadata: { name: 'web-abc', ownerReferences: owned('Deployment', 'web') } },
  { kind: 'ReplicaSet', metadata: { name: 'other-abc', ownerReferences: owned('Deployment', 'other') } },
  pod('web-abc-1', owned('ReplicaSet', 'web-abc')),
  pod('other-abc-1', owned('ReplicaSet', 'other-abc')),
  pod('web-migrate-x', owned('Job', 'web-migrate')),
  pod('sidecar', [], {}, { team: 'a', 'app.kubernetes.io/instance': 'web' }),
];

describe('the release pods, by owner', () => {
  test('rendered workloads are watched, helm test pods are not', () =>
    expect(workloads).toEqual([{ kind: 'Deployment', name: 'web' }, { kind: 'Job', name: 'web-migrate', hook: 'pre-install,pre-upgrade' }]));

  test('Deployment -> ReplicaSet -> Pod, hook Job -> Pod, and the selector; not another release', () => {
    const ours = releasePods(items, workloads, 'app.kubernetes.io/instance=web');
    expect(ours.map((p) => [p.pod.metadata.name, p.owner?.name])).toEqual([
      ['web-abc-1', 'web'],
      ['web-migrate-x', 'web-migrate'],
      ['sidecar', undefined],
    ]);
  });

  test.each([
    ['a=1', { a: '1' }, true],
    ['a==1,b', { a: '1', b: '' }, true],
    ['a!=1', { a: '1' }, false],
    ['!a', {}, true],
    ['a', {}, false],
  ])('selector %s on %j -> %s', (sel, labels, want) => expect(matchesSelector(sel, labels)).toBe(want));

  test('a failed hook Job is named', () => {
    const job: KubeItem = { kind: 'Job', metadata: { name: 'web-migrate' }, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } };
    expect(failedJob([job], workloads)).toEqual({ job: workloads[1], reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    expect(failedJob([{ ...job, status: {} }], workloads)).toBeUndefined();
  });
});

describe('heartbeat', () => {
  const ours = releasePods(items, workloads, 'app.kubernetes.io/instance=none');
  test('a pending hook comes first', () =>
    expect(heartbeat(ours, [{ pod: 'web-migrate-x', phase: 'Pending', ready: false, restarts: 0, detail: 'migrate: Waiting (ContainerCreating)' }], 14)).toBe(
      'waiting 14 s: hook Job web-migrate (pre-install,pre-upgrade), pod web-migrate-x Pending (migrate: Waiting (ContainerCreating))',
    ));
  test('then N of M pods ready and the oldest unready one', () => {
    const workloadPods = ours.filter((p) => !p.owner?.hook);
    expect(heartbeat(workloadPods, [{ pod: 'web-abc-1', phase: 'Running', ready: false, restarts: 1, detail: 'app: Running since x' }], 26)).toBe(
      'waiting 26 s: 0 of 1 new pods ready; oldest unready: pod web-abc-1 Running (app: Running since x)',
    );
    expect(heartbeat([], [], 3)).toBe('waiting 3 s: no new pods yet');
  });
});

describe('live check', () => {
  const runningPod = (name: string, image: string, imageID: string) =>
    pod(name, owned('ReplicaSet', 'web-abc'), { phase: 'Running', containerStatuses: [{ name: 'app', image, imageID }] });
  const pinned = { repository: 'reg/app', digest: D1 };

  test('the digest the runtime resolved is compared (docker-pullable:// too)', () => {
    const imgs = runningImages([items[0]!, runningPod('web-abc-1', `reg/app@${D1}`, `docker-pullable://reg/app@${D1}`)], workloads, 'x=y');
    expect(imgs).toEqual([{ pod: 'web-abc-1', container: 'app', image: `reg/app@${D1}`, digest: D1 }]);
    expect(judgeLive(imgs, pinned)).toEqual({ ok: true, running: [`reg/app@${D1}`] });
  });

  test('a pod of the pinned repository running another digest fails, naming it', () => {
    const imgs = runningImages([items[0]!, runningPod('web-abc-1', 'reg/app:v1', `reg/app@${D2}`)], workloads, 'x=y');
    const v = judgeLive(imgs, pinned);
    expect(v).toMatchObject({ ok: false, running: [`reg/app@${D2}`] });
    if (!v.ok) expect(v.line).toBe(`The release's pods do not run the pinned digest sha256:111111111111…: web-abc-1/app runs reg/app@sha256:222222222222…`);
  });

  test('the pinned repository spelled otherwise (Docker Hub defaults) running another digest fails too', () => {
    const imgs = runningImages(
      [items[0]!, runningPod('web-abc-0', `busybox@${D1}`, `docker.io/library/busybox@${D1}`), runningPod('web-abc-1', 'docker.io/library/busybox:1.36', `docker.io/library/busybox@${D2}`)],
      workloads,
      'x=y',
    );
    expect(judgeLive(imgs, { repository: 'busybox', digest: D1 })).toMatchObject({ ok: false, line: expect.stringMatching(/web-abc-1\/app runs docker.io\/library\/busybox@sha256:222222222222…$/) });
  });

  test('no running pod at all fails', () => expect(judgeLive([], pinned)).toMatchObject({ ok: false, line: expect.stringMatching(/no running pod of the release was found$/) }));

  const obj = (kind: string, spec: Record<string, unknown> = {}, hook?: string) => ({
    kind,
    metadata: { name: 'x', ...(hook ? { annotations: { 'helm.sh/hook': hook } } : {}) },
    spec,
  });
  test.each([
    [[obj('Deployment')], true],
    [[obj('Deployment', { replicas: 0 })], false],
    [[obj('StatefulSet', { replicas: 2 })], true],
    [[obj('DaemonSet')], true],
    [[obj('CronJob'), obj('Job')], false],
    [[obj('Job', {}, 'pre-upgrade'), obj('Pod', {}, 'test')], false],
    [[obj('Pod')], true],
  ])('expectsRunningPods(%j) is %s: finding no pod fails only when pods should run', (objects, want) => {
    expect(expectsRunningPods(objects)).toBe(want);
  });

});
