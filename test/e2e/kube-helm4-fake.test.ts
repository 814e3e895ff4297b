// The real helm 4 and kubectl 1.35 against the Kubernetes stand-in with the fake runtime (images checked
// against a real registry, containers simulated). One stand-in (own port) and one HOME per test.
import { describe, expect, it } from 'vitest';
import { SAMPLE_CHART, eventually, isReady as ready, ok, useFakeCluster } from '../standins/kube/testing';

const T = 180_000;
const k = useFakeCluster('helm4');
const { setup, image, install, podsOf } = k;

describe('kube stand-in with helm 4 (fake runtime)', () => {
  it('installs, upgrades to a new image, shows status/history, rolls back and uninstalls', async () => {
    const c = await setup();
    ok(await install(c, 'app', image('v1')), 'install');
    const d = k.standin!.get('Deployment', 'app', 'svc-sample-service')!;
    expect(d.status.readyReplicas).toBe(2);
    expect(d.status.conditions.find((x: any) => x.type === 'Progressing').reason).toBe('NewReplicaSetAvailable');
    expect(k.standin!.get('Service', 'app', 'svc-sample-service')!.spec.clusterIP).toMatch(/^10\.96\./);
    for (const kind of ['ConfigMap', 'ServiceAccount', 'PodDisruptionBudget', 'NetworkPolicy']) expect(k.standin!.get(kind, 'app', 'svc-sample-service'), kind).toBeDefined();

    ok(await install(c, 'app', image('v2')), 'upgrade');
    const pods = podsOf('app');
    expect(pods).toHaveLength(2);
    expect(pods.every((p) => p.spec.containers[0].image.endsWith(':v2') && ready(p))).toBe(true);
    expect(k.standin!.get('Deployment', 'app', 'svc-sample-service')!.metadata.generation).toBe(2);
    const events = ok(await c.kubectl(['get', 'events', '-n', 'app', '--field-selector', 'involvedObject.name=svc-sample-service']));
    expect(events).toMatch(/ScalingReplicaSet.*Scaled up replica set svc-sample-service-\w+ from 0 to 1/);

    expect(ok(await c.helm4(['history', 'svc', '-n', 'app']))).toMatch(/2\s+.*deployed/);
    expect(ok(await c.helm4(['status', 'svc', '-n', 'app']))).toMatch(/STATUS: deployed/);
    ok(await c.helm4(['rollback', 'svc', '1', '-n', 'app', '--wait', '--timeout', '60s']), 'rollback');
    expect(podsOf('app').every((p) => p.spec.containers[0].image.endsWith(':v1'))).toBe(true);
    expect(ok(await c.kubectl(['rollout', 'status', 'deployment/svc-sample-service', '-n', 'app', '--timeout', '30s']))).toMatch(/successfully rolled out/);

    const get = ok(await c.kubectl(['get', 'deploy,rs,po,svc', '-n', 'app']));
    expect(get).toMatch(/deployment.apps\/svc-sample-service\s+2\/2\s+2\s+2/);
    const describe = ok(await c.kubectl(['describe', 'deployment', 'svc-sample-service', '-n', 'app']));
    expect(describe).toMatch(/Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable/);
    expect(describe).toMatch(/NewReplicaSet:\s+svc-sample-service-\w+/);
    const podName = podsOf('app')[0]!.metadata.name;
    expect(ok(await c.kubectl(['describe', 'pod', podName, '-n', 'app']))).toMatch(/Successfully assigned app\/.* to standin-node/);
    expect(ok(await c.kubectl(['logs', podName, '-n', 'app']))).toMatch(/fake container sample-service started/);

    ok(await c.helm4(['uninstall', 'svc', '-n', 'app', '--wait', '--timeout', '60s']), 'uninstall');
    await k.standin!.waitFor(() => podsOf('app').length === 0 && k.standin!.list('ReplicaSet', 'app').length === 0, 10_000);
    expect(k.standin!.list('Secret', 'app').filter((s) => s.metadata.labels?.owner === 'helm')).toHaveLength(0);
  }, T);

  it('rolls back an upgrade to an image the registry lacks; old pods keep serving', async () => {
    const c = await setup();
    ok(await install(c, 'bad', image('v1')), 'install');
    const before = podsOf('bad').map((p) => p.metadata.name).sort();
    let sawBackOff = false;
    const watch = setInterval(() => {
      for (const p of k.standin!.list('Pod', 'bad')) if (p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff') sawBackOff = true;
      // The old pods never stop being ready while the bad ReplicaSet fails.
      expect(podsOf('bad').filter((p) => before.includes(p.metadata.name) && ready(p))).toHaveLength(2);
    }, 100);
    const r = await install(c, 'bad', [...image('does-not-exist'), '--rollback-on-failure'], '8s');
    clearInterval(watch);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/has been rolled back due to rollback-on-failure/);
    expect(r.stderr).toMatch(/Updated: 1\/2/);
    expect(sawBackOff).toBe(true);
    expect(podsOf('bad').map((p) => p.metadata.name).sort()).toEqual(before);
    expect(ok(await c.helm4(['history', 'svc', '-n', 'bad']))).toMatch(/3\s+.*deployed.*Rollback to 1/);
    // What the deploy action reads: events of the failed pod through plain GETs.
    const evs: any = await (await fetch(`${k.standin!.url}/api/v1/namespaces/bad/events`)).json();
    const reasons = evs.items.filter((e: any) => e.involvedObject.kind === 'Pod').map((e: any) => `${e.reason}:${e.message}`);
    expect(reasons.some((x: string) => x.startsWith('Failed:Failed to pull image') && x.includes('does-not-exist'))).toBe(true);
    expect(reasons).toContain('Failed:Error: ErrImagePull');
    expect(reasons).toContain('Failed:Error: ImagePullBackOff');
    expect(reasons.some((x: string) => x.startsWith('BackOff:Back-off pulling image'))).toBe(true);
  }, T);

  it('shows a crash loop: CrashLoopBackOff, growing restartCount, BackOff events', async () => {
    const c = await setup();
    ok(await install(c, 'crash', image('v1')), 'install');
    const r = await install(c, 'crash', [...image('v2'), '--set-string', 'podAnnotations.standin\\.deploy-actions/fake-exit-code=2', '--rollback-on-failure'], '6s');
    expect(r.code).not.toBe(0);
    const evs: any = await (await fetch(`${k.standin!.url}/api/v1/namespaces/crash/events?fieldSelector=reason%3DBackOff`)).json();
    expect(evs.items.some((e: any) => /Back-off restarting failed container sample-service/.test(e.message) && e.count >= 1)).toBe(true);
    // Make a crash loop that stays, and read it through kubectl.
    const r2 = await install(c, 'crash', [...image('v2'), '--set-string', 'podAnnotations.standin\\.deploy-actions/fake-exit-code=2'], '4s');
    expect(r2.code).not.toBe(0);
    const bad = await k.standin!.waitFor(() => podsOf('crash').find((p) => p.status?.containerStatuses?.[0]?.restartCount >= 2 && p.status.containerStatuses[0].state.waiting?.reason === 'CrashLoopBackOff'), 20_000);
    expect(bad.status.containerStatuses[0].lastState.terminated.exitCode).toBe(2);
    expect(await eventually(async () => ok(await c.kubectl(['get', 'pods', '-n', 'crash'])), (o) => /CrashLoopBackOff/.test(o))).toMatch(/CrashLoopBackOff/);
    const api: any = await (await fetch(`${k.standin!.url}/api/v1/namespaces/crash/pods?labelSelector=${encodeURIComponent('app.kubernetes.io/instance=svc')}`)).json();
    expect(api.items.length).toBeGreaterThanOrEqual(3); // 2 old ready pods + the crashing one (maxUnavailable 0)
    const logs = await (await fetch(`${k.standin!.url}/api/v1/namespaces/crash/pods/${bad.metadata.name}/log?container=sample-service&tailLines=1`)).text();
    expect(logs).toMatch(/exiting with code 2/);
  }, T);

  it('keeps a pod with a failing readiness probe out of service and reports Unhealthy', async () => {
    const c = await setup();
    const r = await install(c, 'unready', [...image('v1'), '--set', 'replicaCount=1', '--set-string', 'podAnnotations.standin\\.deploy-actions/fake-readiness=fail'], '6s');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not ready/);
    const p = podsOf('unready')[0]!;
    expect(p.status.phase).toBe('Running');
    expect(ready(p)).toBe(false);
    expect(p.status.conditions.find((x: any) => x.type === 'Ready').reason).toBe('ContainersNotReady');
    const evs = ok(await c.kubectl(['get', 'events', '-n', 'unready', '--field-selector', `involvedObject.name=${p.metadata.name}`]));
    expect(evs).toMatch(/Unhealthy.*Readiness probe failed/);
    expect(ok(await c.kubectl(['get', 'deploy', '-n', 'unready']))).toMatch(/0\/1/);
  }, T);

  it('runs helm test (pass and fail) and chart hooks', async () => {
    const c = await setup();
    ok(await install(c, 'hooks', [...image('v1'), '--set', 'hooks.enabled=true']), 'install with hooks');
    const jobs = k.standin!.list('Job', 'hooks');
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual(['svc-sample-service-post-deploy', 'svc-sample-service-pre-deploy']);
    expect(jobs.every((j) => j.status.conditions.some((x: any) => x.type === 'Complete' && x.status === 'True'))).toBe(true);
    expect(ok(await c.helm4(['test', 'svc', '-n', 'hooks']))).toMatch(/Phase:\s+Succeeded/);
    const failing = await c.helm4(['upgrade', 'svc', SAMPLE_CHART, '-n', 'hooks', '--reuse-values', '--set-string', 'tests.podAnnotations.standin\\.deploy-actions/fake-exit-code=1', '--wait', '--timeout', '60s']);
    ok(failing, 'upgrade');
    const t = await c.helm4(['test', 'svc', '-n', 'hooks']);
    expect(t.code).not.toBe(0);
    expect(t.stdout + t.stderr).toMatch(/Failed/);
    // A failing pre-upgrade hook fails the upgrade.
    const h = await c.helm4(['upgrade', 'svc', SAMPLE_CHART, '-n', 'hooks', '--reuse-values', '--set-string', 'hooks.podAnnotations.standin\\.deploy-actions/fake-exit-code=1', '--wait', '--timeout', '30s']);
    expect(h.code).not.toBe(0);
    expect(h.stderr).toMatch(/pre-upgrade hooks failed|hook/i);
  }, T);

  it('supports everyday kubectl: get all / -w, rollout restart|history|undo, scale, apply (client and server side), delete', async () => {
    const c = await setup();
    ok(await install(c, 'ops', image('v1')), 'install');
    expect(ok(await c.kubectl(['get', 'all', '-n', 'ops']))).toMatch(/service\/svc-sample-service\s+ClusterIP\s+10\.96\./);
    ok(await c.kubectl(['rollout', 'restart', 'deployment/svc-sample-service', '-n', 'ops']));
    expect(ok(await c.kubectl(['rollout', 'status', 'deployment/svc-sample-service', '-n', 'ops', '--timeout', '30s']))).toMatch(/successfully rolled out/);
    expect(ok(await c.kubectl(['rollout', 'history', 'deployment/svc-sample-service', '-n', 'ops']))).toMatch(/1\s+<none>\s+2\s+<none>/);
    ok(await c.kubectl(['rollout', 'undo', 'deployment/svc-sample-service', '-n', 'ops']));
    ok(await c.kubectl(['scale', 'deployment/svc-sample-service', '-n', 'ops', '--replicas', '3']));
    await k.standin!.waitFor(() => k.standin!.get('Deployment', 'ops', 'svc-sample-service')!.status.readyReplicas === 3, 20_000);
    const w = await c.kubectl(['get', 'pods', '-n', 'ops', '-w', '--request-timeout', '2s'], 10_000);
    expect(w.stdout.split('\n').filter((l) => /Running/.test(l)).length).toBeGreaterThanOrEqual(3);
    const { writeFileSync } = await import('node:fs');
    const file = `${c.home}/cm.yaml`;
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: ops\ndata:\n  a: "1"\n');
    expect(ok(await c.kubectl(['apply', '-f', file]))).toMatch(/configmap\/extra created/);
    expect(ok(await c.kubectl(['apply', '--server-side', '-f', file]))).toMatch(/serverside-applied/);
    expect(ok(await c.kubectl(['delete', '-f', file]))).toMatch(/deleted/);
    expect(k.standin!.get('ConfigMap', 'ops', 'extra')).toBeUndefined();
    // Graceful pod deletion: kubectl waits until the kubelet stopped the containers; the ReplicaSet replaces the pod.
    const victim = podsOf('ops')[0]!.metadata.name;
    expect(ok(await c.kubectl(['delete', 'pod', victim, '-n', 'ops']))).toMatch(/deleted/);
    expect(k.standin!.get('Pod', 'ops', victim)).toBeUndefined();
    await k.standin!.waitFor(() => podsOf('ops').filter(ready).length === 3, 20_000);
    const evs = ok(await c.kubectl(['get', 'events', '-n', 'ops', '--field-selector', `involvedObject.name=${victim}`]));
    expect(evs).toMatch(/Killing\s+pod\/\S+\s+Stopping container sample-service/);
  }, T);
});
