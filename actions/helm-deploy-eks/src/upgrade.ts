/** helm upgrade --install, watched: the rollout's pods are judged while helm waits, and helm is stopped at the first unrecoverable one. */
import type { DeadlineError, ExecResult } from '@deploy-actions/action-kit';
import { clusterDeadline, helmDeadlineMs, type Ctx } from './context';
import { helmUpgradeArgs, type ChartValues, type HelmMajor } from '@deploy-actions/chart';
import { diagnose, oneLine, watchPodsAndOwners, type Diagnosis } from './kube';
import { classifyPods, podsOfDeploy, type Pod, type PodFailure, type PodView } from './pods';
import { failedJob, releasePods, workloadText, type KubeItem, type ReleasePod, type Workload } from './release-pods';

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
  /** helm did not finish within its deadline (the API server went silent) and was stopped: the step's line. */
  deadline?: DeadlineError;
}

/** What helm waits for, in one line: a hook Job's pod, or N of M new pods ready and the oldest unready one. */
export function heartbeat(ours: readonly ReleasePod[], views: readonly PodView[], seconds: number): string {
  const view = new Map(views.map((v) => [v.pod, v]));
  const state = (p: ReleasePod) => {
    const v = view.get(p.pod.metadata.name);
    return `pod ${p.pod.metadata.name} ${v?.phase ?? 'Unknown'}${v?.detail ? ` (${v.detail})` : ''}`;
  };
  const hookPending = ours.find((p) => p.owner?.hook && !['Succeeded', 'Failed'].includes(p.pod.status?.phase ?? ''));
  if (hookPending) return `waiting ${seconds} s: ${workloadText(hookPending.owner!)}, ${state(hookPending)}`;
  const workloadPods = ours.filter((p) => !p.owner?.hook);
  if (workloadPods.length === 0) return `waiting ${seconds} s: no new pods yet`;
  const unready = workloadPods
    .filter((p) => !view.get(p.pod.metadata.name)?.ready)
    .sort((a, b) => (a.pod.metadata.creationTimestamp ?? '').localeCompare(b.pod.metadata.creationTimestamp ?? ''));
  const ready = workloadPods.length - unready.length;
  return `waiting ${seconds} s: ${ready} of ${workloadPods.length} new pods ready${unready[0] ? `; oldest unready: ${state(unready[0])}` : ''}`;
}

/**
 * Runs helm upgrade while watching every new pod of the release (hook Jobs' included); stops
 * helm at the first unrecoverable pod state or failed Job, and says every heartbeatMs what
 * helm is waiting for.
 */
export async function upgradeWatched(c: Ctx, args: string[], startedAt: number, workloads: Workload[]): Promise<WatchResult> {
  const { deps, inputs } = c;
  // Pods, ReplicaSets and Jobs kept live by list+watch; objects listed before helm starts are
  // the previous revision's, and only new ones are judged.
  const live = watchPodsAndOwners(c.kube);
  try {
    return await watchWhileHelmRuns(c, args, startedAt, workloads, (await live.synced) ? live.snapshot() : undefined, live.snapshot);
  } finally {
    await live.stop();
  }
}

async function watchWhileHelmRuns(
  c: Ctx,
  args: string[],
  startedAt: number,
  workloads: Workload[],
  before: KubeItem[] | undefined,
  current: () => KubeItem[] | undefined,
): Promise<WatchResult> {
  const { deps, inputs } = c;
  const existing = new Set((before ?? []).map((i) => i.metadata.uid ?? `${i.kind}/${i.metadata.name}`));
  const isNew = (i: KubeItem) => (before ? !existing.has(i.metadata.uid ?? `${i.kind}/${i.metadata.name}`) : podsOfDeploy([i as Pod], startedAt).length > 0);
  const proc = deps.start(c.helm, args, c.kubeEnv);
  let finished = false;
  const done = proc.done.finally(() => {
    finished = true;
  });
  let lastViews: PodView[] = [];
  let lastStates = '';
  let lastBeat = deps.now();
  const thresholds = { crashLoopRestarts: inputs.crashLoopRestarts, readinessTimeoutMs: inputs.readinessTimeoutSeconds * 1000 };
  const deadlineMs = helmDeadlineMs(args, inputs.timeoutSeconds);
  while (!finished) {
    await deps.within(done, deps.pollMs);
    if (finished) break;
    if (deps.now() - startedAt > deadlineMs) {
      deps.io.info(`helm did not finish within ${deadlineMs / 1000} s (its --timeout and ${(deadlineMs / 1000 - inputs.timeoutSeconds).toFixed(0)} s for the API calls around it); stopping it`);
      proc.kill('SIGTERM');
      if ((await deps.within(done, deps.killGraceMs)) === 'timeout') proc.kill('SIGKILL');
      const r = await done;
      const deadline = clusterDeadline(c, 'helm upgrade', deadlineMs, deps.now() - startedAt);
      return { helm: { ...r, exitCode: 124, stderr: `${r.stderr}\nError: ${deadline.message}` }, pods: lastViews, deadline };
    }
    const items = current();
    if (!items || finished) continue;
    const fresh = items.filter(isNew);
    const ours = releasePods(fresh, workloads, inputs.podSelector);
    const cls = classifyPods(ours.map((p) => p.pod), thresholds, deps.now());
    lastViews = cls.pods;
    const states = cls.pods.map((p) => `${p.pod} ${p.phase}${p.ready ? ' ready' : ''}${p.detail ? ` ${p.detail}` : ''}`).join('; ');
    if (states !== lastStates && states !== '') deps.io.info(`pods: ${states}`);
    lastStates = states;
    if (deps.now() - lastBeat >= deps.heartbeatMs) {
      lastBeat = deps.now();
      deps.io.info(heartbeat(ours, cls.pods, Math.round((deps.now() - startedAt) / 1000)));
    }
    if (!inputs.failFast) continue;
    let failure: PodFailure | undefined = cls.failure;
    if (failure) {
      const owner = ours.find((p) => p.pod.metadata.name === failure!.pod)?.owner;
      // Hook pods are named by their Job (their names say little); workload pods name themselves.
      if (owner?.hook) failure = { ...failure, owner: workloadText(owner) };
    } else {
      const job = failedJob(fresh, workloads);
      if (job) {
        const lastPod = ours.filter((p) => p.owner?.name === job.job.name).at(-1);
        failure = { pod: lastPod?.pod.metadata.name ?? job.job.name, container: '', reason: job.reason, message: job.message, restartCount: 0, state: 'Failed', owner: workloadText(job.job) };
      }
    }
    if (failure) {
      const failedAt = deps.now();
      deps.io.info(`Unrecoverable: ${oneLine(failure)}; stopping helm`);
      // Gather the evidence first: the rollback may delete the failing pod.
      const diagnosis = await diagnose(c.kube, failure, cls.pods, inputs.logLines);
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
