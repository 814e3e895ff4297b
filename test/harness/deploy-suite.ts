/**
 * Everything a helm-deploy-eks end-to-end suite stands on: a registry holding the sample
 * image twice (v1, and a v2 with other content), the Kubernetes stand-in over HTTPS, the EKS
 * world in front of it (STS, front door, EKS), the local helm/kubectl download mirror, one
 * runner directory (tool cache shared by the suite's steps) and a scratch workspace.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushSampleImage, sampleServiceVariant } from './docker';
import { startRegistry, type Registry } from './registry';
import { newRunnerDir, repoRoot } from './runner';
import { startEksWorld, type EksWorld } from '../standins/eks/world';
import type { Identity } from '../standins/eks/index';
import { startKubeStandin, type KubeStandin } from '../standins/kube/index';
import type { KubeletTiming } from '../standins/kube/kubelet';
import { startToolArchives, type ToolArchives } from '../tools/tool-archives';

export interface DeploySuite {
  registry: Registry;
  kube: KubeStandin;
  world: EksWorld;
  archives: ToolArchives;
  /** Digests of sample-service:v1 and :v2 in the registry. */
  digest1: string;
  digest2: string;
  runnerDir: string;
  workspace: string;
  /**
   * The fixture charts, copied into the workspace (the action refuses a chart outside it):
   * the sample service's chart and the ledger chart laid out differently.
   */
  charts: { sample: string; ledger: string };
  /** The sample image pinned by digest, as helm-deploy-eks's `image` input takes it. */
  image(digest: string): string;
  stop(): Promise<void>;
}

export async function startDeploySuite(opts: {
  runtime: 'fake' | 'docker';
  identities: Identity[];
  accessEntries: string[];
  clusterName?: string;
  region?: string;
  timing?: Partial<KubeletTiming>;
}): Promise<DeploySuite> {
  const stops: Array<() => Promise<void>> = [];
  try {
    const archives = await startToolArchives();
    stops.push(archives.stop);
    const registry = await startRegistry();
    stops.push(registry.stop);
    const digest1 = await pushSampleImage(registry, 'sample-service', 'v1');
    const digest2 = await pushSampleImage(registry, 'sample-service', 'v2', sampleServiceVariant('v2'));
    const kube = await startKubeStandin({ tls: true, runtime: opts.runtime, registry, timing: opts.timing });
    stops.push(kube.stop);
    const world = await startEksWorld({ kube, identities: opts.identities, accessEntries: opts.accessEntries, clusterName: opts.clusterName, region: opts.region });
    stops.push(world.stop);
    const workspace = mkdtempSync(join(tmpdir(), 'da-deploy-ws-'));
    const charts = { sample: join(workspace, 'chart'), ledger: join(workspace, 'ledger-chart') };
    cpSync(join(repoRoot, 'test/fixtures/sample-service/chart'), charts.sample, { recursive: true });
    cpSync(join(repoRoot, 'test/fixtures/ledger-service/chart'), charts.ledger, { recursive: true });
    return {
      registry,
      kube,
      world,
      archives,
      digest1,
      digest2,
      runnerDir: newRunnerDir(),
      workspace,
      charts,
      image: (digest) => `${registry.host}/sample-service@${digest}`,
      stop: async () => {
        for (const stop of stops.reverse()) await stop();
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}
