import { describe, expect, test } from 'vitest';
import { classifyPods, podsOfDeploy, type ContainerStatus, type Pod } from '../src/pods';

const NOW = Date.parse('2026-11-21T10:10:00Z');
const th = { crashLoopRestarts: 3, readinessTimeoutMs: 120_000 };
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();

function pod(name: string, c: Partial<ContainerStatus>, extra: Partial<NonNullable<Pod['status']>> = {}): Pod {
  return {
    metadata: { name, creationTimestamp: ago(60) },
    status: { phase: 'Pending', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, ...c }], ...extra },
  };
}

describe('classifyPods', () => {
  test.each<[string, Pod, string | undefined]>([
    ['ImagePullBackOff', pod('p', { state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "r/app:nope"' } } }), 'ImagePullBackOff'],
    ['ErrImagePull', pod('p', { state: { waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } } }), 'ErrImagePull'],
    ['InvalidImageName', pod('p', { state: { waiting: { reason: 'InvalidImageName' } } }), 'InvalidImageName'],
    ['CreateContainerConfigError', pod('p', { state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "db" not found' } } }), 'CreateContainerConfigError'],
    ['ContainerCreating is fine', pod('p', { state: { waiting: { reason: 'ContainerCreating' } } }), undefined],
    ['CrashLoopBackOff below threshold', pod('p', { restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }), undefined],
    [
      'CrashLoopBackOff at threshold',
      pod('p', { restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { reason: 'Error', exitCode: 1 } } }),
      'CrashLoopBackOff',
    ],
    ['restarting and running again, not ready', pod('p', { restartCount: 4, state: { running: { startedAt: ago(2) } } }), 'CrashLoopBackOff'],
    ['restarted but ready now', pod('p', { restartCount: 4, ready: true, state: { running: { startedAt: ago(200) } } }), undefined],
    ['running not ready, young', pod('p', { state: { running: { startedAt: ago(60) } } }), undefined],
    ['running not ready, past threshold', pod('p', { state: { running: { startedAt: ago(121) } } }), 'ReadinessTimeout'],
    ['ready', pod('p', { ready: true, state: { running: { startedAt: ago(500) } } }, { phase: 'Running' }), undefined],
    [
      'unschedulable past threshold',
      { metadata: { name: 'p', creationTimestamp: ago(300) }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available', lastTransitionTime: ago(130) }] } },
      'Unschedulable',
    ],
    [
      'unschedulable, young',
      { metadata: { name: 'p', creationTimestamp: ago(10) }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', lastTransitionTime: ago(10) }] } },
      undefined,
    ],
    [
      'failing init container',
      { metadata: { name: 'p' }, status: { phase: 'Pending', initContainerStatuses: [{ name: 'migrate', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull' } } }] } },
      'ErrImagePull',
    ],
    [
      'terminating pods are ignored',
      { metadata: { name: 'p', deletionTimestamp: ago(1) }, status: { containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ImagePullBackOff' } } }] } },
      undefined,
    ],
  ])('%s', (_name, p, reason) => {
    const c = classifyPods([p], th, NOW);
    expect(c.failure?.reason).toBe(reason);
    if (reason) expect(c.failure).toMatchObject({ pod: 'p' });
  });

  test('the failure names pod, container, state; views cover every pod', () => {
    const ok = pod('good', { ready: true, state: { running: { startedAt: ago(30) } } }, { phase: 'Running' });
    const bad = pod('bad', { state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } } });
    const c = classifyPods([ok, bad], th, NOW);
    expect(c.failure).toEqual({
      pod: 'bad',
      container: 'app',
      reason: 'ImagePullBackOff',
      message: 'not found',
      restartCount: 0,
      state: 'Waiting (ImagePullBackOff): not found',
    });
    expect(c.pods.map((v) => [v.pod, v.ready])).toEqual([['good', true], ['bad', false]]);
  });
});

test('podsOfDeploy keeps pods created since the deploy started', () => {
  const mk = (name: string, s: number): Pod => ({ metadata: { name, creationTimestamp: ago(s) } });
  const kept = podsOfDeploy([mk('old', 600), mk('skew', 62), mk('new', 10)], NOW - 60_000);
  expect(kept.map((p) => p.metadata.name)).toEqual(['skew', 'new']);
});
