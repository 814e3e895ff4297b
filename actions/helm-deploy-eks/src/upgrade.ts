/** helm upgrade --install, watched: the rollout's pods are judged while helm waits, and helm is stopped at the first unrecoverable one. */
import type { ExecResult } from '@deploy-actions/action-kit';
import type { Ctx } from './context';
import { helmUpgradeArgs, type ChartValues, type HelmMajor } from './helm-args';
import { diagnose, listPods, oneLine, type Diagnosis } from './kube';
import { classifyPods, podsOfDeploy, type PodView } from './pods';

function supportsLabels(major: HelmMajor, version: string): boolean {
  if (major === 4) return true;
  const minor = Number(/^v?3\.(\d+)/.exec(version)?.[1] ?? 0);
  return minor >= 13;
}

/** The argv of the upgrade: values, the run's description and labels (where the helm version stores them). */
export function upgradeArgs(c: Ctx, values: ChartValues): string[] {
  const { inputs } = c;
  const gh = c.deps.github;
  const description = [`commit ${gh.sha.slice(0, 12)}`, inputs.image ? `image ${inputs.image.digest}` : '', gh.runUrl ? `run ${gh.runUrl}` : '']
    .filter(Boolean)
    .join(' ');
  const labels: Array<[string, string]> = [];
  if (supportsLabels(c.major, c.helmVersion)) {
    if (/^[0-9a-f]{40}$/.test(gh.sha)) labels.push(['deploy-actions/commit', gh.sha]);
    if (/^\d+$/.test(gh.runId)) labels.push(['deploy-actions/run-id', gh.runId]);
  }
  return helmUpgradeArgs(
    {
      ...values,
      release: inputs.release,
      createNamespace: inputs.createNamespace,
      timeout: inputs.timeout,
      historyMax: inputs.historyMax,
      rollbackOnFailure: inputs.rollbackOnFailure,
      force: inputs.force,
      description,
      labels,
      kubeContext: inputs.kubeContext,
    },
    c.major,
  );
}

export interface WatchResult {
  helm: ExecResult;
  diagnosis?: Diagnosis;
  failedAt?: number;
  pods: PodView[];
}

/** Runs helm upgrade while watching the release's new pods; stops helm at the first unrecoverable pod state. */
export async function upgradeWatched(c: Ctx, args: string[], startedAt: number): Promise<WatchResult> {
  const { deps, inputs } = c;
  // Pods that exist before helm starts are the previous revision's; only new ones are judged.
  const before = inputs.failFast ? await listPods(deps.exec, c.kubectl, inputs.podSelector) : undefined;
  const existing = new Set((before ?? []).map((p) => p.metadata.name));
  const proc = deps.start(c.helm, args, c.kubeEnv);
  let finished = false;
  const done = proc.done.finally(() => {
    finished = true;
  });
  let lastViews: PodView[] = [];
  let lastStates = '';
  const thresholds = { crashLoopRestarts: inputs.crashLoopRestarts, readinessTimeoutMs: inputs.readinessTimeoutSeconds * 1000 };
  while (!finished && inputs.failFast) {
    await deps.within(done, deps.pollMs);
    if (finished) break;
    const pods = await listPods(deps.exec, c.kubectl, inputs.podSelector);
    if (!pods || finished) continue;
    const ours = before ? pods.filter((p) => !existing.has(p.metadata.name)) : podsOfDeploy(pods, startedAt);
    const cls = classifyPods(ours, thresholds, deps.now());
    lastViews = cls.pods;
    const states = cls.pods.map((p) => `${p.pod} ${p.phase}${p.ready ? ' ready' : ''}${p.detail ? ` ${p.detail}` : ''}`).join('; ');
    if (states !== lastStates && states !== '') deps.io.info(`pods: ${states}`);
    lastStates = states;
    if (cls.failure) {
      const failedAt = deps.now();
      deps.io.info(`Unrecoverable: ${oneLine(cls.failure)}; stopping helm`);
      // Gather the evidence first: the rollback may delete the failing pod.
      const diagnosis = await diagnose(deps.exec, c.kubectl, cls.failure, cls.pods, inputs.logLines);
      proc.kill('SIGTERM');
      if ((await deps.within(done, deps.killGraceMs)) === 'timeout') {
        deps.io.warning(`helm did not stop within ${deps.killGraceMs / 1000} s of SIGTERM; killing it`);
        proc.kill('SIGKILL');
      }
      const helm = await done;
      return { helm, diagnosis, failedAt, pods: cls.pods };
    }
  }
  return { helm: await done, pods: lastViews };
}
