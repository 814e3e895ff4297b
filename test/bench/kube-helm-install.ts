// Prints how long a helm 4 `upgrade --install --wait` of the sample chart takes against the Kubernetes stand-in,
// with the fake and the docker runtime. Figures are printed, never asserted.
//   pnpm --filter @deploy-actions/test exec tsx bench/kube-helm-install.ts
import { dockerAvailable, pushSampleImage } from '../harness/docker';
import { startRegistry } from '../harness/registry';
import { startKubeStandin } from '../standins/kube/index';
import { SAMPLE_CHART, kubeClients, ok } from '../standins/kube/testing';
import { ensureKubeTools } from '../tools/kube-binaries';

const tools = await ensureKubeTools();
const registry = await startRegistry();
try {
  if (!(await dockerAvailable())) throw new Error('the Docker engine is needed (sample image build and the docker runtime)');
  await pushSampleImage(registry, 'sample-service', 'bench');
  for (const runtime of ['fake', 'docker'] as const) {
    const s = await startKubeStandin({ runtime, registry });
    try {
      const c = kubeClients(s, tools);
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        ok(await c.helm4(['upgrade', '--install', `bench${i}`, SAMPLE_CHART, '-n', `bench${i}`, '--create-namespace', '--wait', '--timeout', '120s', '--set', `image.repository=${registry.host}/sample-service`, '--set', 'image.tag=bench']), 'helm install');
        times.push(performance.now() - t0);
      }
      process.stdout.write(`kube stand-in, runtime ${runtime}: helm 4 upgrade --install --wait of sample-service (2 replicas): ${times.map((t) => `${(t / 1000).toFixed(2)} s`).join(', ')}\n`);
    } finally {
      await s.stop();
    }
  }
} finally {
  await registry.stop();
}
