// The real helm 3.18 (POST creates, strategic merge patch upgrades, polling --wait) against the stand-in, fake runtime.
import { describe, expect, it } from 'vitest';
import { eventually, isReady as ready, ok, useFakeCluster } from '../standins/kube/testing';

const T = 180_000;
const k = useFakeCluster('helm3');
const { setup, image, install, podsOf } = k;

describe('kube stand-in with helm 3 (fake runtime)', () => {
  it('installs, upgrades (strategic merge patch), rolls back, tests and uninstalls', async () => {
    const c = await setup();
    ok(await install(c, 'app', [...image('v1'), '--set', 'hooks.enabled=true']), 'install');
    expect(k.standin!.get('Deployment', 'app', 'svc-sample-service')!.status.availableReplicas).toBe(2);
    expect(k.standin!.list('Job', 'app')).toHaveLength(2);
    // Upgrade: new image, a changed ConfigMap key set (a removed key must go), replicas 3.
    ok(await install(c, 'app', [...image('v2'), '--set', 'hooks.enabled=true', '--set', 'replicaCount=3', '--set', 'config.LOG_LEVEL=null', '--set', 'config.NEW_KEY=x']), 'upgrade');
    const cm = k.standin!.get('ConfigMap', 'app', 'svc-sample-service')!;
    expect(cm.data).toEqual({ NEW_KEY: 'x' });
    const pods = podsOf('app');
    expect(pods).toHaveLength(3);
    expect(pods.every((p) => p.spec.containers[0].image.endsWith(':v2') && ready(p))).toBe(true);
    expect(ok(await c.helm3(['test', 'svc', '-n', 'app']))).toMatch(/Phase:\s+Succeeded/);
    ok(await c.helm3(['rollback', 'svc', '1', '-n', 'app', '--wait', '--timeout', '60s']), 'rollback');
    await k.standin!.waitFor(() => podsOf('app').length === 2 && podsOf('app').every((p) => p.spec.containers[0].image.endsWith(':v1')), 20_000);
    expect(ok(await c.helm3(['history', 'svc', '-n', 'app']))).toMatch(/3\s+.*deployed.*Rollback to 1/);
    expect(ok(await c.helm3(['status', 'svc', '-n', 'app']))).toMatch(/STATUS: deployed/);
    ok(await c.helm3(['uninstall', 'svc', '-n', 'app', '--wait']), 'uninstall');
    await k.standin!.waitFor(() => podsOf('app').length === 0, 10_000);
  }, T);

  it('--atomic rolls back an upgrade to a missing image while the old pods keep serving', async () => {
    const c = await setup();
    ok(await install(c, 'bad', image('v1')), 'install');
    const before = podsOf('bad').map((p) => p.metadata.name).sort();
    const r = await install(c, 'bad', [...image('nope'), '--atomic'], '6s');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/has been rolled back due to atomic being set/);
    expect(podsOf('bad').map((p) => p.metadata.name).sort()).toEqual(before);
    expect(podsOf('bad').every(ready)).toBe(true);
    const evs = ok(await c.kubectl(['get', 'events', '-n', 'bad', '--field-selector', 'reason=Failed']));
    expect(evs).toMatch(/ErrImagePull|ImagePullBackOff/);
  }, T);

  it('fails --wait on a crash loop and reports it through kubectl', async () => {
    const c = await setup();
    const r = await install(c, 'crash', [...image('v1'), '--set', 'replicaCount=1', '--set-string', 'podAnnotations.standin\\.deploy-actions/fake-exit-code=1'], '5s');
    expect(r.code).not.toBe(0);
    // Between restarts the container briefly runs: ask until kubectl shows the back-off.
    const out = await eventually(async () => ok(await c.kubectl(['get', 'pods', '-n', 'crash'])), (o) => /CrashLoopBackOff/.test(o));
    expect(out).toMatch(/CrashLoopBackOff/);
    expect(podsOf('crash')[0]!.status.containerStatuses[0].restartCount).toBeGreaterThanOrEqual(1);
  }, T);
});
