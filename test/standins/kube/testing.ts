// Helpers for tests that drive the real helm/kubectl binaries against the stand-in.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunResult, run } from './exec';
import { startKubeStandin, type KubeStandin } from './index';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { pushSampleImage } from '../../harness/docker';
import { startRegistry, type Registry } from '../../harness/registry';
import { ensureKubeTools, type KubeTools } from '../../tools/kube-binaries';

export const SAMPLE_CHART = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'fixtures', 'sample-service', 'chart');

export interface KubeClients {
  home: string;
  env: NodeJS.ProcessEnv;
  helm4(args: string[], timeoutMs?: number): Promise<RunResult>;
  helm3(args: string[], timeoutMs?: number): Promise<RunResult>;
  kubectl(args: string[], timeoutMs?: number): Promise<RunResult>;
}

/** Clients with a HOME of their own (helm and kubectl cache discovery under it) pointed at the stand-in. */
export function kubeClients(standin: Pick<KubeStandin, 'kubeconfigPath'>, tools: KubeTools): KubeClients {
  const home = mkdtempSync(join(tmpdir(), 'kube-client-home-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    KUBECONFIG: standin.kubeconfigPath,
    HELM_CACHE_HOME: join(home, '.cache', 'helm'),
    HELM_CONFIG_HOME: join(home, '.config', 'helm'),
    HELM_DATA_HOME: join(home, '.local', 'share', 'helm'),
  };
  const mk = (bin: string) => (args: string[], timeoutMs = 170_000) => run(bin, args, { env, timeoutMs });
  return { home, env, helm4: mk(tools.helm4), helm3: mk(tools.helm3), kubectl: mk(tools.kubectl) };
}

/** Throws with the command's output when it failed. */
export function ok(r: RunResult, what = 'command'): string {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Re-runs `f` until its result satisfies `pred` (state that flips, like a crash-looping pod), returning the last result. */
export async function eventually<T>(f: () => Promise<T>, pred: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (pred(v) || Date.now() - t0 > timeoutMs) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A fake-runtime stand-in checking images against `registry`, with short back-offs for tests. */
export function startFakeStandin(registry: { url: string; username?: string; password?: string }): Promise<KubeStandin> {
  return startKubeStandin({ runtime: 'fake', registry, timing: { backoffInitialMs: 200, backoffMaxMs: 1000 } });
}

/**
 * The fixture of the fake-runtime scenario suites: real helm (3 or 4) and kubectl, a registry
 * with the sample image as v1 and v2, and a fresh stand-in (own port) and HOME per test, stopped
 * after it. Call once at the top of a test file.
 */
export function useFakeCluster(helm: 'helm3' | 'helm4') {
  const ctx = {
    tools: undefined as unknown as KubeTools,
    registry: undefined as unknown as Registry,
    standin: undefined as KubeStandin | undefined,
    async setup(): Promise<KubeClients> {
      ctx.standin = await startFakeStandin(ctx.registry);
      return kubeClients(ctx.standin, ctx.tools);
    },
    image: (tag: string) => ['--set', `image.repository=${ctx.registry.host}/sample-service`, '--set', `image.tag=${tag}`],
    install: (c: KubeClients, ns: string, extra: string[], timeout = '60s') =>
      c[helm](['upgrade', '--install', 'svc', SAMPLE_CHART, '-n', ns, '--create-namespace', '--wait', '--timeout', timeout, ...extra]),
    /** The release's app pods (not test or hook pods), not terminating. */
    podsOf: (ns: string) =>
      ctx.standin!.list('Pod', ns).filter(
        (p) => p.metadata.labels?.['app.kubernetes.io/instance'] === 'svc' && !p.metadata.labels?.['app.kubernetes.io/component'] && !p.metadata.deletionTimestamp,
      ),
  };
  beforeAll(async () => {
    ctx.tools = await ensureKubeTools();
    ctx.registry = await startRegistry();
    await pushSampleImage(ctx.registry, 'sample-service', 'v1');
    // A second tag with the same content: "a new image" for upgrades.
    await pushSampleImage(ctx.registry, 'sample-service', 'v2');
  });
  afterAll(async () => {
    await ctx.registry?.stop();
  });
  afterEach(async () => {
    await ctx.standin?.stop();
    ctx.standin = undefined;
  });
  return ctx;
}

export const isReady = (p: any) => (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
