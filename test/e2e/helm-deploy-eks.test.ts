/**
 * helm-deploy-eks end to end: the built bundle through the runner harness, real helm 4 and
 * helm 3 installed from the local tool mirror (no kubectl: the action reads the API itself,
 * list + watch against the stand-in), DescribeCluster from the EKS
 * stand-in, tokens minted by the bundle's exec credential plugin and checked (through STS)
 * by the EKS front door, in front of the Kubernetes stand-in (fake runtime, images checked
 * against the real local registry).
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import YAML from 'yaml';
import { startDeploySuite, type DeploySuite } from '../harness/deploy-suite';
import type { Registry } from '../harness/registry';
import { errorsOf, runActionBundle, type RunResult } from '../harness/runner';
import type { EksStandin, StsStandin } from '../standins/eks';
import type { FrontDoor } from '../standins/eks/front-door';
import type { EksWorld } from '../standins/eks/world';
import type { KubeStandin } from '../standins/kube/index';
import { ensureKubeTools, type KubeTools } from '../tools/kube-binaries';
import type { ToolArchives } from '../tools/tool-archives';

const REGION = 'eu-west-1';
const CLUSTER = 'prod';
const deployer = { accessKeyId: 'AKIADEPLOYER0000001', secretAccessKey: 'deployer-secret', arn: 'arn:aws:sts::111122223333:assumed-role/deployer/gha-1000' };
const intruder = { accessKeyId: 'AKIAINTRUDER0000001', secretAccessKey: 'intruder-secret', arn: 'arn:aws:sts::111122223333:assumed-role/other-team/gha-7' };
const MISSING = `sha256:${'0'.repeat(64)}`;
/** The action's watch of a collection (helm 4's own watches ask for sendInitialEvents instead). */
const WATCH_OF = (ns: string, plural: string) =>
  new RegExp(`^GET /(api|apis/apps|apis/batch)/v1/namespaces/${ns}/${plural}\\?watch=true&resourceVersion=\\d+&allowWatchBookmarks=true&timeoutSeconds=300$`);

let tools: KubeTools;
let suite: DeploySuite;
let registry: Registry;
let kube: KubeStandin;
let world: EksWorld;
let door: FrontDoor;
let sts: StsStandin;
let eks: EksStandin;
let archives: ToolArchives;
let digest1: string;
let digest2: string;
let runnerDir: string;
let workspace: string;

beforeAll(async () => {
  tools = await ensureKubeTools();
  suite = await startDeploySuite({
    runtime: 'fake',
    identities: [deployer, intruder],
    accessEntries: ['arn:aws:iam::111122223333:role/deployer'],
    clusterName: CLUSTER,
    region: REGION,
    timing: { backoffInitialMs: 300, backoffMaxMs: 2000 },
  });
  ({ registry, kube, world, archives, digest1, digest2, runnerDir, workspace } = suite);
  ({ sts, eks, door } = world);
  writeFileSync(
    join(workspace, 'crash.yaml'),
    'command: ["/bin/busybox", "false"]\npodAnnotations:\n  standin.deploy-actions/fake-exit-code: "1"\n  standin.deploy-actions/fake-exit-after-ms: "200"\n  standin.deploy-actions/fake-log: "fatal: DATABASE_URL is not set"\n',
  );
  writeFileSync(join(workspace, 'never-ready.yaml'), 'podAnnotations:\n  standin.deploy-actions/fake-readiness: fail\n');
  writeFileSync(join(workspace, 'failing-test.yaml'), 'tests:\n  podAnnotations:\n    standin.deploy-actions/fake-exit-code: "1"\n');
}, 600_000);

afterAll(async () => {
  await suite?.stop();
});

const image = (digest: string) => suite.image(digest);

function deploy(withInputs: Record<string, string>, id = deployer, extraEnv: Record<string, string> = {}): Promise<RunResult> {
  return runActionBundle({
    action: 'helm-deploy-eks',
    runnerDir,
    workspace,
    timeoutMs: 240_000,
    with: {
      release: 'web',
      namespace: 'shop',
      chart: suite.charts.sample,
      environment: 'qa',
      ...world.clusterInputs(),
      ...archives.inputs,
      timeout: '2m',
      ...withInputs,
    },
    env: { ...world.envFor(id), ...extraEnv },
  });
}

function helm(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { env: { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: join(runnerDir, 'home') } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

async function historyOf(release: string, ns: string): Promise<Array<{ revision: number; status: string; description: string }>> {
  for (let attempt = 1; ; attempt++) {
    const r = await helm(tools.helm4, ['history', release, '-n', ns, '-o', 'json']);
    if (r.code === 0) return JSON.parse(r.stdout);
    if (/not found/.test(r.stderr)) return [];
    if (attempt >= 3) throw new Error(`helm history ${release}: ${r.stderr}`);
    await new Promise((x) => setTimeout(x, 300));
  }
}

function deploymentImage(ns: string, release = ns === 'shop3' ? 'api' : ns === 'kind' ? 'kc' : 'web'): string | undefined {
  const d = kube.get('Deployment', ns, `${release}-sample-service`);
  return d?.spec?.template?.spec?.containers?.[0]?.image;
}

function explain(r: RunResult): string {
  return `exit ${r.exitCode}\n${r.log.slice(-4000)}\nstderr: ${r.stderr.slice(-2000)}`;
}

describe('helm-deploy-eks on EKS (helm 4)', () => {
  test('first install: tools from the mirror, kubeconfig with the exec plugin, outputs and summary', async () => {
    const r = await deploy({ image: image(digest1), 'create-namespace': 'true', 'export-kubeconfig': 'true' });
    expect(r.exitCode, explain(r)).toBe(0);
    expect(r.outputs).toMatchObject({
      release: 'web',
      namespace: 'shop',
      revision: '1',
      status: 'deployed',
      'previous-revision': '',
      'image-ref': image(digest1),
    });
    const kc = r.outputs.kubeconfig!;
    expect(kc.startsWith(join(runnerDir, 'temp'))).toBe(true);
    expect(statSync(kc).mode & 0o777).toBe(0o600);
    expect(r.env.KUBECONFIG).toBe(kc);
    expect(archives.requests).toEqual(expect.arrayContaining(['/helm/helm-v4.2.3-linux-amd64.tar.gz', '/helm/helm-v4.2.3-linux-amd64.tar.gz.sha256sum']));
    // kubectl is never downloaded: the rollout is watched through the API (list, then watch from its resourceVersion).
    expect(archives.requests.filter((q) => q.includes('kubectl'))).toEqual([]);
    expect(kube.requests).toEqual(expect.arrayContaining([expect.stringMatching(WATCH_OF('shop', 'pods')), expect.stringMatching(WATCH_OF('shop', 'replicasets'))]));
    expect(r.log).toContain(`AWS identity: ${deployer.arn}`);
    expect(r.summary).toContain('web revision 1 deployed');
    expect(r.summary, r.annotations.filter((a) => a.level === "debug").map((a) => a.message).filter((m) => m.startsWith("kubectl")).join("\n")).toMatch(/Deployment \| web-sample-service \| \d+\/\d+ \| yes/);
    expect(r.summary).toContain(digest1);
    // Every cluster request came with an EKS token the front door verified through STS.
    expect(door.decisions.length).toBeGreaterThan(0);
    expect(door.decisions.every((d) => d.ok && d.arn === deployer.arn)).toBe(true);
    expect(sts.requests.some((q) => q.method === 'GET' && q.verdict.ok && q.verdict.signedHeaders.includes('x-k8s-aws-id'))).toBe(true);
    expect(deploymentImage('shop')).toBe(image(digest1));
    const pod = kube.list('Pod', 'shop').find((p) => p.metadata.labels?.['app.kubernetes.io/instance'] === 'web');
    expect(pod?.metadata.annotations?.['deploy-actions/commit']).toBe('0123456789abcdef0123456789abcdef01234567');
    const hist = await historyOf('web', 'shop');
    expect(hist.at(-1)?.description).toBe(`commit 0123456789ab image ${digest1} run https://github.com/acme/sample-service/actions/runs/1000`);
    const meta = JSON.parse((await helm(tools.helm4, ['get', 'metadata', 'web', '-n', 'shop', '-o', 'json'])).stdout);
    expect(meta.labels).toMatchObject({ 'deploy-actions/commit': '0123456789abcdef0123456789abcdef01234567', 'deploy-actions/run-id': '1000' });
  });

  test('upgrade to a new image reuses the cached tools', async () => {
    const before = archives.requests.length;
    const r = await deploy({ image: image(digest2) });
    expect(r.exitCode, explain(r)).toBe(0);
    expect(r.outputs).toMatchObject({ revision: '2', 'previous-revision': '1', status: 'deployed' });
    expect(archives.requests.length).toBe(before);
    expect(deploymentImage('shop')).toBe(image(digest2));
  });

  test('dry run diffs against the live release without changing it', async () => {
    const r = await deploy({ image: image(digest1), 'dry-run': 'true' });
    expect(r.exitCode, explain(r)).toBe(0);
    expect(r.outputs).toMatchObject({ status: 'dry-run', changed: 'true', revision: '2' });
    expect(r.summary).toContain(`-          image: "${image(digest2)}"`);
    expect(r.summary).toContain(`+          image: "${image(digest1)}"`);
    expect((await historyOf('web', 'shop')).length).toBe(2);
    const same = await deploy({ image: image(digest2), 'dry-run': 'true' });
    expect(same.outputs.changed, explain(same)).toBe('false');
  });

  test('a missing image fails within seconds, names ImagePullBackOff, and rolls back', async () => {
    const r = await deploy({ image: image(MISSING) });
    if (process.env.DEBUG_HELM_DEPLOY) console.log(r.log);
    expect(r.exitCode).toBe(1);
    const errors = errorsOf(r);
    expect(errors.join('\n'), explain(r)).toMatch(/Deploy of web failed after [\d.]+ s: pod web-sample-service-\S+ container sample-service: (ImagePullBackOff|ErrImagePull)/);
    expect(errors.join('\n')).toMatch(/rolled back to revision 2|helm rolled back to revision 2/);
    expect(errors.join('\n')).not.toMatch(/context deadline exceeded|timed out waiting/); // the watcher ended it, not helm's timeout
    expect(r.summary).toMatch(/Rollout failed: (ImagePullBackOff|ErrImagePull)/);
    expect(r.summary).toContain('Recent events');
    expect(r.summary).toMatch(/Failed to pull image|ErrImagePull|Back-off pulling image/);
    const hist = await historyOf('web', 'shop');
    expect(hist.at(-1)).toMatchObject({ status: 'deployed' });
    expect(hist.at(-1)!.description).toMatch(/Rollback to 2/);
    // The failed step still says where the release stands, for `if: failure()` steps.
    expect(r.outputs).toMatchObject({ release: 'web', status: 'deployed', revision: String(hist.at(-1)!.revision), 'previous-revision': '2' });
    expect(deploymentImage('shop')).toBe(image(digest2));
  });

  test('a crash loop fails with the container state, events and last log lines', async () => {
    const r = await deploy({ image: image(digest1), 'values-files': 'crash.yaml', 'crash-loop-restarts': '2' });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r).join('\n'), explain(r)).toMatch(/: CrashLoopBackOff/);
    expect(r.summary).toContain('Rollout failed: CrashLoopBackOff');
    expect(r.summary).toContain('fatal: DATABASE_URL is not set');
    expect(errorsOf(r).join('\n')).not.toMatch(/context deadline exceeded|timed out waiting/); // the watcher ended it, not helm's timeout
    expect(deploymentImage('shop')).toBe(image(digest2));
    expect((await historyOf('web', 'shop')).at(-1)).toMatchObject({ status: 'deployed' });
  });

  test('a pod that never gets ready fails after readiness-timeout, not helm\'s timeout; a heartbeat says what helm waits for', async () => {
    const r = await deploy({ image: image(digest1), 'values-files': 'never-ready.yaml', 'readiness-timeout': '15s' });
    expect(r.exitCode).toBe(1);
    expect(r.log, explain(r)).toMatch(/^waiting 1\d s: 0 of \d+ new pods ready; oldest unready: pod web-sample-service-\S+ Running \(sample-service: Running since /m);
    expect(errorsOf(r).join('\n'), explain(r)).toMatch(/: ReadinessTimeout \(running for \d+ s without passing its readiness probe\)/);
    expect(errorsOf(r).join('\n')).not.toMatch(/context deadline exceeded|timed out waiting/); // the watcher ended it, not helm's timeout
    expect(r.summary).toMatch(/Readiness probe failed/);
    expect(deploymentImage('shop')).toBe(image(digest2));
  });

  test('a release stuck in pending-upgrade by a cancelled run is recovered first', async () => {
    const p = spawn(tools.helm4, ['upgrade', 'web', suite.charts.sample, '-n', 'shop', '--set-string', `image.repository=${registry.host}/sample-service`, '--set-string', `image.digest=${MISSING}`, '--wait', '--timeout', '60s'], {
      env: { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: join(runnerDir, 'home') },
      stdio: 'ignore',
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await historyOf('web', 'shop')).at(-1)?.status !== 'pending-upgrade') await new Promise((x) => setTimeout(x, 200));
    p.kill('SIGKILL');
    expect((await historyOf('web', 'shop')).at(-1)?.status).toBe('pending-upgrade');

    const r = await deploy({ image: image(digest1) });
    expect(r.exitCode, explain(r)).toBe(0);
    expect(r.annotations.filter((a) => a.level === 'warning').map((a) => a.message).join('\n')).toMatch(
      /Release web was stuck in pending-upgrade \(revision \d+\), probably by a cancelled run: rolled back web to revision \d+/,
    );
    expect(r.outputs.status).toBe('deployed');
    expect(deploymentImage('shop')).toBe(image(digest1));
  });

  test('a first install left pending-install is uninstalled, then installed cleanly', async () => {
    const p = spawn(tools.helm4, ['upgrade', 'fresh', suite.charts.sample, '--install', '-n', 'shop', '--set-string', `image.repository=${registry.host}/sample-service`, '--set-string', `image.digest=${MISSING}`, '--wait', '--timeout', '60s'], {
      env: { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: join(runnerDir, 'home') },
      stdio: 'ignore',
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await historyOf('fresh', 'shop')).at(-1)?.status !== 'pending-install') await new Promise((x) => setTimeout(x, 200));
    p.kill('SIGKILL');
    expect((await historyOf('fresh', 'shop')).map((h) => h.status)).toEqual(['pending-install']);

    const r = await deploy({ release: 'fresh', image: image(digest1), 'pod-selector': 'app.kubernetes.io/instance=fresh' });
    expect(r.exitCode, explain(r)).toBe(0);
    expect(r.annotations.filter((a) => a.level === 'warning').map((a) => a.message).join('\n')).toMatch(
      /Release fresh was stuck in pending-install \(revision 1\), probably by a cancelled run: uninstalled fresh/,
    );
    expect(r.outputs).toMatchObject({ revision: '1', status: 'deployed', 'previous-revision': '' });
  });

  test('helm test and the smoke check pass; a failing helm test fails the deploy and rolls back', async () => {
    let status = 200;
    const server: Server = createServer((_q, res) => {
      res.writeHead(status);
      res.end('ok');
    });
    await new Promise<void>((x) => server.listen(0, '127.0.0.1', x));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
    try {
      const good = await deploy({ image: image(digest2), 'helm-test': 'true', 'smoke-url': url });
      expect(good.exitCode, explain(good)).toBe(0);
      expect(good.summary).toMatch(/helm test passed; smoke check .*: HTTP 200 after 1 attempt/);
      const goodRevision = Number(good.outputs.revision);

      const badTest = await deploy({ image: image(digest1), 'helm-test': 'true', 'values-files': 'failing-test.yaml' });
      expect(badTest.exitCode).toBe(1);
      expect(errorsOf(badTest).join('\n'), explain(badTest)).toMatch(new RegExp(`helm test failed: .*; rolled back web to revision ${goodRevision}`));
      expect(deploymentImage('shop')).toBe(image(digest2));

      status = 503;
      const badSmoke = await deploy({ image: image(digest1), 'smoke-url': url, 'smoke-attempts': '2' });
      expect(badSmoke.exitCode).toBe(1);
      expect(errorsOf(badSmoke).join('\n'), explain(badSmoke)).toMatch(/smoke check failed: .* answered HTTP 503; rolled back web to revision \d+/);
      expect(deploymentImage('shop')).toBe(image(digest2));
    } finally {
      server.close();
    }
  }, 180_000); // three deploys: about 20 s on a quiet machine, over 60 s under load

  test('a caller without an access entry is told which ARN needs one', async () => {
    const r = await deploy({ image: image(digest1) }, intruder);
    expect(r.exitCode).toBe(1);
    const failure = r.annotations.filter((a) => a.level === 'error').map((a) => a.message).join('\n');
    expect(failure, explain(r)).toContain(`The cluster refused ${intruder.arn}`);
    expect(failure).toContain('aws eks create-access-entry --cluster-name prod --region eu-west-1 --principal-arn arn:aws:iam::111122223333:role/other-team');
    expect(failure).toContain('associate-access-policy');
    expect(door.decisions.some((d) => !d.ok && d.arn === intruder.arn && d.reason === 'no access entry')).toBe(true);
  });

  test('bad input fails before any side effect with one line', async () => {
    const before = archives.requests.length;
    const eksBefore = eks.requests.length;
    const r = await deploy({ image: image(digest1), chart: join(workspace, 'no-such-chart') });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)).toEqual([`Input 'chart' must be a chart directory that exists in the workspace (got '${join(workspace, 'no-such-chart')}')`]);
    const badDigest = await deploy({ image: `${registry.host}/sample-service@sha256:abc` });
    expect(errorsOf(badDigest)[0]).toMatch(/^Input 'image' must be an image pinned by digest/);
    expect(archives.requests.length).toBe(before);
    expect(eks.requests.length).toBe(eksBefore);
  });
});

describe('helm-deploy-eks with a kubeconfig instead of EKS', () => {
  test('deploys to any cluster the kubeconfig reaches, with no AWS calls', async () => {
    const stsBefore = sts.requests.length;
    const eksBefore = eks.requests.length;
    const r = await runActionBundle({
      action: 'helm-deploy-eks',
      runnerDir,
      workspace,
      timeoutMs: 120_000,
      with: {
        release: 'kc',
        namespace: 'kind',
        'create-namespace': 'true',
        chart: suite.charts.sample,
        kubeconfig: kube.kubeconfigPath,
        image: image(digest1),
        ...archives.inputs,
      },
      env: { AWS_EC2_METADATA_DISABLED: 'true' },
    });
    expect(r.exitCode, explain(r)).toBe(0);
    expect(r.outputs).toMatchObject({ revision: '1', status: 'deployed', kubeconfig: kube.kubeconfigPath });
    expect(sts.requests.length).toBe(stsBefore);
    expect(eks.requests.length).toBe(eksBefore);
    expect(deploymentImage('kind')).toBe(image(digest1));
    // The live check ran on the pods it found, as in EKS mode: no warning of its own (the one warning
    // is the mirror's helm 4.2.3 and its advisory), the running digest reported.
    expect(r.annotations.filter((a) => a.level === 'warning').map((a) => a.message), explain(r)).toEqual([
      expect.stringMatching(/^helm v4\.2\.3 has known security advisories \(GO-2026-5158: .*\); set helm-version to 4 for the newest patched release$/),
    ]);
    expect(r.outputs['running-images']).toBe(image(digest1));
  });

  test('a kubeconfig whose user is an exec credential plugin: the action runs it for its own reads, as helm does', async () => {
    const config = YAML.parse(readFileSync(kube.kubeconfigPath, 'utf8'));
    const marker = join(workspace, 'exec-plugin-ran');
    const script = `require("fs").appendFileSync(${JSON.stringify(marker)}, "ran\\n"); console.log(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1beta1", kind: "ExecCredential", status: { token: "standin" } }))`;
    config.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: process.execPath, args: ['-e', script], interactiveMode: 'Never' } };
    const path = join(workspace, 'exec-plugin.kubeconfig');
    writeFileSync(path, YAML.stringify(config), { mode: 0o600 });
    const watchesBefore = kube.requests.filter((q) => WATCH_OF('kind2', 'pods').test(q)).length;
    const r = await runActionBundle({
      action: 'helm-deploy-eks',
      runnerDir,
      workspace,
      timeoutMs: 120_000,
      with: { release: 'kc2', namespace: 'kind2', 'create-namespace': 'true', chart: suite.charts.sample, kubeconfig: path, image: image(digest1), ...archives.inputs },
      env: { AWS_EC2_METADATA_DISABLED: 'true' },
    });
    expect(r.exitCode, explain(r)).toBe(0);
    expect(r.outputs['running-images']).toBe(image(digest1));
    expect(kube.requests.filter((q) => WATCH_OF('kind2', 'pods').test(q)).length).toBeGreaterThan(watchesBefore);
    // helm ran it, and so did the action's client (once: its token is kept).
    expect(readFileSync(marker, 'utf8').split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(2);
  });
});

describe('helm-deploy-eks with helm 3', () => {
  test('installs, upgrades, and fails fast with --atomic on a missing image', async () => {
    const h3 = { 'helm-version': '3.18.0', namespace: 'shop3', 'create-namespace': 'true', release: 'api' };
    const first = await deploy({ ...h3, image: image(digest1) });
    expect(first.exitCode, explain(first)).toBe(0);
    expect(first.log).toContain('helm v3.18.0');
    expect(first.outputs).toMatchObject({ revision: '1', status: 'deployed' });
    const second = await deploy({ ...h3, image: image(digest2) });
    expect(second.outputs, explain(second)).toMatchObject({ revision: '2', 'previous-revision': '1' });
    const bad = await deploy({ ...h3, image: image(MISSING) });
    if (process.env.DEBUG_HELM_DEPLOY) console.log(bad.log, bad.summary);
    expect(bad.exitCode).toBe(1);
    expect(errorsOf(bad).join('\n'), explain(bad)).toMatch(/(ImagePullBackOff|ErrImagePull)/);
    expect(errorsOf(bad).join('\n')).toMatch(/^Deploy of api failed after [\d.]+ s: pod /); // the watcher's diagnosis, not helm's timeout
    expect(deploymentImage('shop3')).toBe(image(digest2));
    expect(kube.requests).toEqual(expect.arrayContaining([expect.stringMatching(WATCH_OF('shop3', 'pods')), expect.stringMatching(WATCH_OF('shop3', 'jobs'))]));
    const hist = (await historyOf('api', 'shop3')).at(-1);
    expect(hist?.status).toBe('deployed');
  });
});
