/**
 * Seconds from the first failing pod (ErrImagePull or ImagePullBackOff) to the end of the deploy
 * step with the cause, for helm-deploy-eks (fail-fast watcher) beside plain
 * `helm upgrade --wait --timeout 120s` on the same broken upgrade, in two cases: a pod of the
 * release's Deployment (sample chart), and the pod of a pre-upgrade migration hook Job that
 * carries only the Job's labels (ledger fixture chart). Kubernetes stand-in with the fake
 * runtime, images from the local registry. Figures only; nothing is asserted.
 * Goals: <= 20 s for a workload pod, <= 5 s for a hook pod, vs the whole timeout.
 * BENCH_HELM_TIMEOUT overrides the plain helm timeout (default 120s).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDeploySuite } from '../harness/deploy-suite';
import { errorsOf, runActionBundle } from '../harness/runner';
import type { KubeStandin } from '../standins/kube/index';
import { ensureKubeTools } from '../tools/kube-binaries';

interface Case {
  /** Its first word names the namespaces. */
  name: string;
  chart: 'sample' | 'ledger';
  /** The pods whose first failure starts the clock. */
  watched: (labels: Record<string, string> | undefined, release: string) => boolean;
  /** Where the chart takes the image. */
  keys: { repository: string; digest: string };
  goal: string;
}

const CASES: Case[] = [
  {
    name: 'workload pod',
    chart: 'sample',
    watched: (l, release) => l?.['app.kubernetes.io/instance'] === release,
    keys: { repository: 'image.repository', digest: 'image.digest' },
    goal: '20 s',
  },
  {
    name: 'pre-upgrade hook pod',
    chart: 'ledger',
    watched: (l) => l?.['app.kubernetes.io/name'] === 'ledger-migrate',
    keys: { repository: 'container.image.repo', digest: 'container.image.ref' },
    goal: '5 s',
  },
];
const FATAL = new Set(['ErrImagePull', 'ImagePullBackOff']);
const HELM_TIMEOUT = process.env.BENCH_HELM_TIMEOUT ?? '120s';
const deployer = { accessKeyId: 'AKIABENCH0000000001', secretAccessKey: 'bench-secret', arn: 'arn:aws:sts::111122223333:assumed-role/deployer/bench' };

/** Watches the stand-in's store for the first pod of `ns` with a fatal waiting reason; resolves its time. */
function firstFailingPod(kube: KubeStandin, ns: string, release: string, watched: Case['watched']): { at: () => number | undefined; stop: () => void } {
  let at: number | undefined;
  const timer = setInterval(() => {
    if (at !== undefined) return;
    for (const p of kube.list('Pod', ns)) {
      if (!watched(p.metadata.labels, release)) continue;
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
  try {
    for (const c of CASES) await runCase(c, suite, tools.helm4);
  } finally {
    await suite.stop();
  }
}

async function runCase(c: Case, suite: Awaited<ReturnType<typeof startDeploySuite>>, helm4: string): Promise<void> {
  const { registry, kube, world, archives, runnerDir } = suite;
  const tag = c.name.split(' ')[0]!.replace(/[^a-z]/g, '');
  const chart = suite.charts[c.chart];
  const digest = suite.digest1;
  const missing = `sha256:${'0'.repeat(64)}`;
  const deploy = (ns: string, img: string) =>
    runActionBundle({
      action: 'helm-deploy-eks',
      runnerDir,
      workspace: suite.workspace,
      timeoutMs: 600_000,
      with: {
        release: 'bench',
        namespace: ns,
        'create-namespace': 'true',
        chart,
        ...world.clusterInputs(),
        ...archives.inputs,
        image: img,
        'image-repository-key': c.keys.repository,
        'image-digest-key': c.keys.digest,
        timeout: HELM_TIMEOUT,
      },
      env: world.envFor(deployer),
    });
  console.log(`--- ${c.name}`);

  // helm-deploy-eks
  const ns = `bench-action-${tag}`;
  const servedBefore = archives.served.length;
  const ok = await deploy(ns, suite.image(digest));
  if (ok.exitCode !== 0) throw new Error(`install failed: ${errorsOf(ok).join('; ')}\n${ok.log}`);
  const got = archives.served.slice(servedBefore);
  const bytesOf = (tool: string) => got.filter((g) => g.path.includes(tool)).reduce((n, g) => n + g.bytes, 0);
  console.log(
    `deploy step's downloads (counted at the tool mirror, ${servedBefore === 0 ? 'empty tool cache' : 'tool cache already filled by the previous case'}): helm ${bytesOf('helm').toLocaleString('en-US')} bytes in ${got.filter((g) => g.path.includes('helm')).length} files, kubectl ${bytesOf('kubectl').toLocaleString('en-US')} bytes; ${got.length} requests in all`,
  );
  const watch = firstFailingPod(kube, ns, 'bench', c.watched);
  const t0 = Date.now();
  const bad = await deploy(ns, `${registry.host}/sample-service@${missing}`);
  const tEnd = Date.now();
  watch.stop();
  const first = watch.at();
  const actionSecs = first === undefined ? NaN : (tEnd - first) / 1000;
  console.log(`helm-deploy-eks:   exit ${bad.exitCode}, ${((tEnd - t0) / 1000).toFixed(1)} s in all, ${actionSecs.toFixed(1)} s from the first failing pod`);
  console.log(`  cause: ${errorsOf(bad)[0]?.slice(0, 200) ?? '(none)'}`);

  // plain helm upgrade --wait
  const home = mkdtempSync(join(tmpdir(), 'bench-helm-home-'));
  const env = { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: home };
  const plainNs = `bench-plain-${tag}`;
  const common = (img: string) => ['--install', '--namespace', plainNs, '--create-namespace', '--set-string', `${c.keys.repository}=${registry.host}/sample-service`, '--set-string', `${c.keys.digest}=${img}`, '--wait', '--timeout', HELM_TIMEOUT];
  const inst = await run(helm4, ['upgrade', 'bench', chart, ...common(digest)], env);
  if (inst.code !== 0) throw new Error(`plain install failed: ${inst.stderr}`);
  const watch2 = firstFailingPod(kube, plainNs, 'bench', c.watched);
  const p0 = Date.now();
  const plain = await run(helm4, ['upgrade', 'bench', chart, ...common(missing)], env);
  const pEnd = Date.now();
  watch2.stop();
  const first2 = watch2.at();
  const plainSecs = first2 === undefined ? NaN : (pEnd - first2) / 1000;
  console.log(`plain helm --wait: exit ${plain.code}, ${((pEnd - p0) / 1000).toFixed(1)} s in all, ${plainSecs.toFixed(1)} s from the first failing pod (timeout ${HELM_TIMEOUT})`);
  console.log(`  cause: ${plain.stderr.trim().split('\n').pop()?.slice(0, 160) ?? ''}`);
  console.log(`Goal: helm-deploy-eks <= ${c.goal} from the first failing pod.`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
