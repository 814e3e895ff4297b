// The stand-in running pods as real containers in the Docker engine, images pulled from a registry with auth.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerAvailable, pushSampleImage, sampleServiceVariant } from '../harness/docker';
import { type Registry, startRegistry } from '../harness/registry';
import { type KubeStandin, STANDIN_LABEL, startKubeStandin } from '../standins/kube/index';
import { type KubeClients, SAMPLE_CHART, kubeClients, ok } from '../standins/kube/testing';
import { type KubeTools, ensureKubeTools } from '../tools/kube-binaries';

const T = 240_000;
const haveDocker = await dockerAvailable();
let tools: KubeTools;
let registry: Registry;
let standin: KubeStandin | undefined;

beforeAll(async () => {
  if (!haveDocker) return;
  tools = await ensureKubeTools();
  registry = await startRegistry();
  await pushSampleImage(registry, 'sample-service', 'v1', sampleServiceVariant('v1'));
  await pushSampleImage(registry, 'sample-service', 'v2', sampleServiceVariant('v2'));
});
afterAll(async () => {
  await registry?.stop();
});
afterEach(async () => {
  const id = standin?.id;
  await standin?.stop();
  standin = undefined;
  if (id) expect((await docker(['ps', '-aq', '--filter', `label=${STANDIN_LABEL}=${id}`])).trim()).toBe('');
});

async function setup(): Promise<KubeClients> {
  standin = await startKubeStandin({ runtime: 'docker', registry, timing: { backoffInitialMs: 500, backoffMaxMs: 2000 } });
  return kubeClients(standin, tools);
}
const image = (tag: string) => ['--set', `image.repository=${registry.host}/sample-service`, '--set', `image.tag=${tag}`];
const install = (c: KubeClients, ns: string, extra: string[], timeout = '90s') =>
  c.helm4(['upgrade', '--install', 'svc', SAMPLE_CHART, '-n', ns, '--create-namespace', '--wait', '--timeout', timeout, ...extra]);
const podsOf = (ns: string) => standin!.list('Pod', ns).filter((p) => p.metadata.labels?.['app.kubernetes.io/instance'] === 'svc' && !p.metadata.labels?.['app.kubernetes.io/component'] && !p.metadata.deletionTimestamp);
const healthz = async (ip: string) => (await fetch(`http://${ip}:8080/healthz`, { signal: AbortSignal.timeout(3000) })).text();

describe.skipIf(!haveDocker)('kube stand-in with the docker runtime', () => {
  it('installs and upgrades for real; a bad upgrade is rolled back while the old pods keep answering HTTP', async () => {
    const c = await setup();
    ok(await install(c, 'app', image('v1')), 'install');
    const v1Pods = podsOf('app');
    expect(v1Pods).toHaveLength(2);
    for (const p of v1Pods) expect(await healthz(p.status.podIP)).toBe('ok v1\n');
    expect(ok(await c.helm4(['test', 'svc', '-n', 'app', '--logs']))).toMatch(/ok v1/);

    // Missing image: ImagePullBackOff for the new pod, old pods answer during and after the failed upgrade.
    const pending = install(c, 'app', [...image('missing'), '--rollback-on-failure'], '10s');
    const bad = await standin!.waitFor(() => podsOf('app').find((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff'), 20_000);
    expect(bad.status.containerStatuses[0].state.waiting.message).toMatch(/missing/);
    for (const p of v1Pods) expect(await healthz(p.status.podIP)).toBe('ok v1\n');
    const r = await pending;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/rolled back/);
    expect(podsOf('app').map((p) => p.metadata.name).sort()).toEqual(v1Pods.map((p) => p.metadata.name).sort());
    for (const p of v1Pods) expect(await healthz(p.status.podIP)).toBe('ok v1\n');

    ok(await install(c, 'app', image('v2')), 'upgrade to v2');
    const v2Pods = podsOf('app');
    for (const p of v2Pods) expect(await healthz(p.status.podIP)).toBe('ok v2\n');
    const logs = ok(await c.kubectl(['logs', v2Pods[0]!.metadata.name, '-n', 'app', '--tail', '5']));
    expect(logs).toMatch(/response:200/);
    // helm test fails for a path the service does not have.
    ok(await install(c, 'app', [...image('v2'), '--set', 'tests.path=/nope']), 'upgrade test path');
    const t = await c.helm4(['test', 'svc', '-n', 'app']);
    expect(t.code).not.toBe(0);
  }, T);

  it('crash-loops a container that exits, with restart counts, previous logs and BackOff events', async () => {
    const c = await setup();
    const r = await install(c, 'crash', [...image('v1'), '--set', 'replicaCount=1', '--set', 'command[0]=/bin/sh', '--set', 'command[1]=-c', '--set', 'command[2]=echo starting $LOG_LEVEL; exit 3'], '8s');
    expect(r.code).not.toBe(0);
    const p = await standin!.waitFor(() => podsOf('crash').find((x) => x.status?.containerStatuses?.[0]?.restartCount >= 2 && x.status.containerStatuses[0].state.waiting?.reason === 'CrashLoopBackOff'), 30_000);
    expect(p.status.containerStatuses[0].lastState.terminated.exitCode).toBe(3);
    const prev = await (await fetch(`${standin!.url}/api/v1/namespaces/crash/pods/${p.metadata.name}/log?container=sample-service&previous=true&tailLines=10`)).text();
    expect(prev).toBe('starting info\n'); // envFrom the chart's ConfigMap
    const evs = ok(await c.kubectl(['get', 'events', '-n', 'crash', '--field-selector', `involvedObject.name=${p.metadata.name}`]));
    expect(evs).toMatch(/BackOff.*Back-off restarting failed container/);
    expect(ok(await c.kubectl(['describe', 'pod', p.metadata.name, '-n', 'crash']))).toMatch(/Last State:\s+Terminated[\s\S]*Exit Code:\s+3/);
  }, T);
});
