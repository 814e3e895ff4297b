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
import { errorsOf, runActionBundle, type RunResult } from '../harness/runner';
import type { EksWorld } from '../standins/eks/world';
import type { KubeStandin } from '../standins/kube/index';
import type { ToolArchives } from '../tools/tool-archives';

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
      chart: suite.charts.sample,
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
  }, 180_000); // four deploys: 30-40 s on a quiet machine, over 60 s under load
});

/**
 * The second fixture chart (test/fixtures/ledger-service/chart): nested image keys, a repo@ref helper,
 * a pre-upgrade migration Job, a helm test pod through a Service port that differs from the
 * container port. Same suite, same registry and cluster as above.
 */
describe.skipIf(!haveDocker)('helm-deploy-eks on a chart laid out differently (ledger fixture)', () => {
  const keys = { 'image-repository-key': 'container.image.repo', 'image-digest-key': 'container.image.ref' };
  const ledger = (withInputs: Record<string, string>) =>
    deploy({ release: 'books', namespace: 'ledger', chart: suite.charts.ledger, 'values-files': '', environment: 'staging', timeout: '2m', ...withInputs });
  const migrateJob = 'hook Job books-ledger-migrate (pre-install,pre-upgrade)';

  test('image keys the chart does not read fail before the cluster, naming the keys that fit', async () => {
    const r = await ledger({ image: image(digest1) });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r), explain(r)).toEqual([
      `The chart does not render the pinned image ${image(digest1).replace(/(sha256:[0-9a-f]{12})[0-9a-f]{52}/, '$1…')} in any workload container ` +
        '(values keys set: image-repository-key: image.repository, image-digest-key: image.digest): ' +
        '"registry.example.com/payments/ledger:v1" in Deployment books-ledger, Pod books-ledger-smoke (test hook), Job books-ledger-migrate (pre-install,pre-upgrade hook); ' +
        'these keys render it: image-repository-key: container.image.repo, image-digest-key: container.image.ref',
    ]);
    expect(kube.get('Namespace', undefined as unknown as string, 'ledger')).toBeUndefined();
  });

  test('with its keys: typed set turns the migration off, helm test reaches the pod through Service port 80, the live digest is reported', async () => {
    const r = await ledger({ ...keys, image: image(digest1), set: 'migrations.enabled=false', 'helm-test': 'true' });
    expect(r.exitCode, explain(r)).toBe(0);
    expect(r.outputs['running-images']).toBe(image(digest1));
    expect(kube.list('Job', 'ledger')).toEqual([]);
    expect(r.summary).toContain('helm test passed');
    expect(r.summary.match(new RegExp(digest1, 'g'))?.length).toBeLessThanOrEqual(2); // pinned and running, each once
  });

  test('a failing helm test shows the last lines of its pod, once in the annotation and in the summary', async () => {
    const r = await ledger({ ...keys, image: image(digest1), set: 'migrations.enabled=false', 'helm-test': 'true', 'set-string': 'smokeTest.path=/no-such-page' });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r), explain(r)).toHaveLength(1);
    expect(errorsOf(r)[0]).toMatch(/^helm test failed: .*; pod books-ledger-smoke printed: .*wget: server returned error: HTTP\/1\.[01] 404 Not Found.*; (rolled back books to revision \d+|uninstalled books) \(revision \d+ failed validation/);
    expect(r.summary).toContain('Last lines of the test pod books-ledger-smoke');
    expect(r.summary).toMatch(/wget: server returned error: HTTP\/1\.[01] 404 Not Found/);
  });

  test('a migration hook pod that cannot pull its image fails in seconds, naming the Job', async () => {
    const r = await ledger({ ...keys, image: image(MISSING) });
    expect(r.exitCode).toBe(1);
    const [line] = errorsOf(r);
    expect(errorsOf(r), explain(r)).toHaveLength(1);
    expect(line).toMatch(new RegExp(`^Deploy of books failed after [\\d.]+ s: ${migrateJob.replace(/[()]/g, '\\$&')}: pod books-ledger-migrate-\\w+ container migrate: (ErrImagePull|ImagePullBackOff) \\(.*\\); (helm rolled back to revision \\d+|rolled back books to revision \\d+ .*)$`));
    expect(line).not.toMatch(/context deadline exceeded/);
    expect(r.summary).toContain(migrateJob);
  });

  test('a crash-looping migration fails naming the Job and showing its output', async () => {
    const r = await ledger({ ...keys, image: image(digest2), set: 'migrations.command={/bin/busybox,sh,-c,echo relation ledger_entries does not exist >&2; exit 2}', 'crash-loop-restarts': '2' });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)[0], explain(r)).toContain(`${migrateJob}: pod books-ledger-migrate-`);
    expect(errorsOf(r)[0]).toMatch(/: CrashLoopBackOff/);
    expect(r.summary).toContain('relation ledger_entries does not exist');
  });

  test('pods that run another digest than the pinned one fail the live check', async () => {
    // Keys that put the digest in the migration Job only: the render check passes, the Deployment runs the v1 tag.
    const r = await ledger({
      'image-repository-key': 'migrations.image.repo',
      'image-digest-key': 'migrations.image.ref',
      image: image(digest2),
      'set-string': `container.image.repo=${suite.registry.host}/sample-service\ncontainer.image.ref=v1`,
    });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)[0], explain(r)).toMatch(
      new RegExp(`^The release's pods do not run the pinned digest ${digest2.slice(0, 19)}…: books-ledger-\\w+-\\w+/ledger runs .*sample-service@${digest1.slice(0, 19)}…; rolled back books to revision \\d+ \\(revision \\d+ failed validation\\)$`),
    );
  });
});
