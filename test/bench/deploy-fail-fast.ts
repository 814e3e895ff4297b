/**
 * Seconds from the first failing pod (a container of the new revision in ErrImagePull or
 * ImagePullBackOff) to the end of the deploy step with the cause, for helm-deploy-eks
 * (fail-fast watcher) beside plain `helm upgrade --wait --timeout 120s` on the same broken
 * upgrade. Kubernetes stand-in with the fake runtime, images from the local registry.
 * Figures only; nothing is asserted. Goal: <= 20 s for the action, vs the whole timeout.
 * BENCH_HELM_TIMEOUT overrides the plain helm timeout (default 120s).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDeploySuite } from '../harness/deploy-suite';
import { errorsOf, repoRoot, runActionBundle } from '../harness/runner';
import type { KubeStandin } from '../standins/kube/index';
import { ensureKubeTools } from '../tools/kube-binaries';

const CHART = join(repoRoot, 'test/fixtures/sample-service/chart');
const FATAL = new Set(['ErrImagePull', 'ImagePullBackOff']);
const HELM_TIMEOUT = process.env.BENCH_HELM_TIMEOUT ?? '120s';
const deployer = { accessKeyId: 'AKIABENCH0000000001', secretAccessKey: 'bench-secret', arn: 'arn:aws:sts::111122223333:assumed-role/deployer/bench' };

/** Watches the stand-in's store for the first pod of `ns` with a fatal waiting reason; resolves its time. */
function firstFailingPod(kube: KubeStandin, ns: string, release: string): { at: () => number | undefined; stop: () => void } {
  let at: number | undefined;
  const timer = setInterval(() => {
    if (at !== undefined) return;
    for (const p of kube.list('Pod', ns)) {
      if (p.metadata.labels?.['app.kubernetes.io/instance'] !== release) continue;
      const reasons = (p.status?.containerStatuses ?? []).map((c: { state?: { waiting?: { reason?: string } } }) => c.state?.waiting?.reason);
      if (reasons.some((r: string | undefined) => r && FATAL.has(r))) at = Date.now();
    }
  }, 50);
  return { at: () => at, stop: () => clearInterval(timer) };
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

async function main() {
  const tools = await ensureKubeTools();
  const suite = await startDeploySuite({ runtime: 'fake', identities: [deployer], accessEntries: ['arn:aws:iam::111122223333:role/deployer'] });
  const { registry, kube, world, archives, runnerDir } = suite;
  try {
    const digest = suite.digest1;
    const good = suite.image(digest);
    const missing = `sha256:${'0'.repeat(64)}`;
    const deploy = (release: string, ns: string, img: string) =>
      runActionBundle({
        action: 'helm-deploy-eks',
        runnerDir,
        timeoutMs: 600_000,
        with: {
          release,
          namespace: ns,
          'create-namespace': 'true',
          chart: CHART,
          ...world.clusterInputs(),
          ...archives.inputs,
          image: img,
          timeout: HELM_TIMEOUT,
        },
        env: world.envFor(deployer),
      });

    // helm-deploy-eks
    const ok = await deploy('bench', 'bench-action', good);
    if (ok.exitCode !== 0) throw new Error(`install failed: ${errorsOf(ok).join('; ')}\n${ok.log}`);
    const watch = firstFailingPod(kube, 'bench-action', 'bench');
    const t0 = Date.now();
    const bad = await deploy('bench', 'bench-action', `${registry.host}/sample-service@${missing}`);
    const tEnd = Date.now();
    watch.stop();
    const first = watch.at();
    const actionSecs = first === undefined ? NaN : (tEnd - first) / 1000;
    console.log(`helm-deploy-eks:   exit ${bad.exitCode}, ${((tEnd - t0) / 1000).toFixed(1)} s in all, ${actionSecs.toFixed(1)} s from the first failing pod`);
    console.log(`  cause: ${errorsOf(bad)[0]?.slice(0, 160) ?? '(none)'}`);

    // plain helm upgrade --wait
    const home = mkdtempSync(join(tmpdir(), 'bench-helm-home-'));
    const env = { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: home };
    const common = (img: string) => ['--install', '--namespace', 'bench-plain', '--create-namespace', '--set-string', `image.repository=${registry.host}/sample-service`, '--set-string', `image.digest=${img}`, '--wait', '--timeout', HELM_TIMEOUT];
    const inst = await run(tools.helm4, ['upgrade', 'bench', CHART, ...common(digest)], env);
    if (inst.code !== 0) throw new Error(`plain install failed: ${inst.stderr}`);
    const watch2 = firstFailingPod(kube, 'bench-plain', 'bench');
    const p0 = Date.now();
    const plain = await run(tools.helm4, ['upgrade', 'bench', CHART, ...common(missing)], env);
    const pEnd = Date.now();
    watch2.stop();
    const first2 = watch2.at();
    const plainSecs = first2 === undefined ? NaN : (pEnd - first2) / 1000;
    console.log(`plain helm --wait: exit ${plain.code}, ${((pEnd - p0) / 1000).toFixed(1)} s in all, ${plainSecs.toFixed(1)} s from the first failing pod (timeout ${HELM_TIMEOUT})`);
    console.log(`  cause: ${plain.stderr.trim().split('\n').pop()?.slice(0, 160) ?? ''}`);
    console.log(`Goal: helm-deploy-eks <= 20 s from the first failing pod.`);
  } finally {
    await suite.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
