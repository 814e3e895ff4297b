// Helpers for tests that drive the real helm/kubectl binaries against the stand-in.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunResult, run } from './exec';
import { startKubeStandin, type KubeStandin } from './index';
import type { KubeTools } from '../../tools/kube-binaries';

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
