/**
 * helm-deploy-eks with real containers: the Kubernetes stand-in's docker runtime runs the
 * sample service image from the local registry. A broken upgrade (missing image, then a
 * container that exits) fails fast and rolls back while the previous pods keep serving HTTP.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dockerAvailable } from '../harness/docker';
import { startDeploySuite, type DeploySuite } from '../harness/deploy-suite';
import { errorsOf, repoRoot, runActionBundle, type RunResult } from '../harness/runner';
import type { EksWorld } from '../standins/eks/world';
import type { KubeStandin } from '../standins/kube/index';
import type { ToolArchives } from '../tools/tool-archives';

const CHART = join(repoRoot, 'test/fixtures/sample-service/chart');
const deployer = { accessKeyId: 'AKIADEPLOYER0000002', secretAccessKey: 'deployer-secret-2', arn: 'arn:aws:sts::111122223333:assumed-role/deployer/gha-2000' };
const MISSING = `sha256:${'0'.repeat(64)}`;
const haveDocker = await dockerAvailable();

let suite: DeploySuite;
let kube: KubeStandin;
let world: EksWorld;
let archives: ToolArchives;
let digest1: string;
let digest2: string;
let runnerDir: string;
let workspace: string;

beforeAll(async () => {
  if (!haveDocker) throw new Error('the Docker engine is needed (pgrep dockerd || dockerd &)');
  suite = await startDeploySuite({
    runtime: 'docker',
    identities: [deployer],
    accessEntries: ['arn:aws:iam::111122223333:role/deployer'],
    timing: { backoffInitialMs: 500, backoffMaxMs: 4000 },
  });
  ({ kube, world, archives, digest1, digest2, runnerDir, workspace } = suite);
  writeFileSync(join(workspace, 'crash.yaml'), 'command: ["/bin/busybox", "sh", "-c", "echo fatal: cannot open /config/app.toml >&2; exit 3"]\n');
  writeFileSync(join(workspace, 'one.yaml'), 'replicaCount: 1\n');
}, 600_000);

afterAll(async () => {
  await suite?.stop();
});

const image = (digest: string) => suite.image(digest);

function deploy(withInputs: Record<string, string>): Promise<RunResult> {
  return runActionBundle({
    action: 'helm-deploy-eks',
    runnerDir,
    workspace,
    timeoutMs: 300_000,
    with: {
      release: 'shopfront',
      namespace: 'live',
      'create-namespace': 'true',
      chart: CHART,
      ...world.clusterInputs(),
      ...archives.inputs,
      'values-files': 'one.yaml',
      timeout: '3m',
      ...withInputs,
    },
    env: world.envFor(deployer),
  });
}

function servingPods(): Array<{ name: string; ip: string; image: string }> {
  return kube
    .list('Pod', 'live')
    .filter((p) => p.metadata.labels?.['app.kubernetes.io/instance'] === 'shopfront' && !p.metadata.labels?.['app.kubernetes.io/component'] && !p.metadata.deletionTimestamp)
    .filter((p) => (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'))
    .map((p) => ({ name: p.metadata.name, ip: p.status.podIP, image: p.spec.containers[0].image }));
}

async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

function explain(r: RunResult): string {
  return `exit ${r.exitCode}\n${r.log.slice(-4000)}\nstderr: ${r.stderr.slice(-1500)}`;
}

describe.skipIf(!haveDocker)('helm-deploy-eks with the docker runtime (helm 4)', () => {
  test('install, smoke check against the real pod, and broken upgrades that keep the old pods serving', async () => {
    const first = await deploy({ image: image(digest1) });
    expect(first.exitCode, explain(first)).toBe(0);
    const [pod] = servingPods();
    expect(pod?.image).toBe(image(digest1));
    expect((await httpGet(`http://${pod!.ip}:8080/healthz`)).status).toBe(200);

    const second = await deploy({ image: image(digest2), 'smoke-url': `http://${pod!.ip}:8080/healthz` });
    expect(second.exitCode, explain(second)).toBe(0);
    expect(second.outputs).toMatchObject({ revision: '2', 'previous-revision': '1', status: 'deployed' });
    const [pod2] = servingPods();
    expect(pod2?.image).toBe(image(digest2));
    expect((await httpGet(`http://${pod2!.ip}:8080/healthz`)).body).toContain('ok v2');

    // A missing image: fails at the first failing pod, while the v2 pod serves throughout.
    const pending = deploy({ image: image(MISSING) });
    let served = 0;
    let failedRequests = 0;
    let done = false;
    void pending.finally(() => (done = true));
    while (!done) {
      try {
        if ((await httpGet(`http://${pod2!.ip}:8080/healthz`)).status === 200) served++;
        else failedRequests++;
      } catch {
        failedRequests++;
      }
      await new Promise((x) => setTimeout(x, 250));
    }
    const bad = await pending;
    expect(bad.exitCode).toBe(1);
    expect(errorsOf(bad).join('\n'), explain(bad)).toMatch(/container sample-service: (ErrImagePull|ImagePullBackOff)/);
    expect(errorsOf(bad).join('\n')).not.toMatch(/context deadline exceeded|timed out waiting/); // the watcher ended it, not helm's timeout
    expect(served).toBeGreaterThan(0);
    expect(failedRequests).toBe(0);
    expect(servingPods().map((p) => p.image)).toEqual([image(digest2)]);
    expect(bad.summary).toMatch(/Rollout failed: (ErrImagePull|ImagePullBackOff)/);

    // A container that exits: real restarts until the crash-loop threshold.
    const crash = await deploy({ image: image(digest1), 'values-files': 'one.yaml\ncrash.yaml', 'crash-loop-restarts': '2' });
    expect(crash.exitCode).toBe(1);
    expect(errorsOf(crash).join('\n'), explain(crash)).toMatch(/: CrashLoopBackOff/);
    expect(crash.summary).toContain('fatal: cannot open /config/app.toml');
    expect(crash.summary).toMatch(/last exit: Error with code 3/);
    const after = servingPods();
    expect(after.map((p) => p.image)).toEqual([image(digest2)]);
    expect((await httpGet(`http://${after[0]!.ip}:8080/healthz`)).status).toBe(200);
  });
});
