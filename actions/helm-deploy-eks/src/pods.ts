/**
 * Decides from pod states alone whether a rollout can still succeed. Pure: the watcher
 * feeds it `kubectl get pods -o json` items and the clock.
 */

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { reason?: string; message?: string; exitCode?: number; finishedAt?: string };
}

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  image?: string;
  /** What the image resolved to on the node, e.g. repo@sha256:... (docker-pullable:// on dockershim). */
  imageID?: string;
  state?: ContainerState;
  lastState?: ContainerState;
}

export interface Pod {
  metadata: { name: string; namespace?: string; creationTimestamp?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec?: { containers?: Array<{ name: string; image?: string }> };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }>;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

export interface Thresholds {
  /** CrashLoopBackOff (or repeated termination) is fatal once restarts reach this. */
  crashLoopRestarts: number;
  /** A running container not ready, or a pod not schedulable, for longer than this is fatal. */
  readinessTimeoutMs: number;
}

/** Container waiting reasons no amount of waiting fixes. */
export const FATAL_WAITING_REASONS = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

export interface PodFailure {
  pod: string;
  container: string;
  reason: string;
  message: string;
  restartCount: number;
  /** The container state as kubectl describe would show it, one line. */
  state: string;
  /** The rendered workload owning the pod, e.g. "hook Job web-migrate (pre-upgrade)". */
  owner?: string;
}

export interface PodView {
  pod: string;
  phase: string;
  ready: boolean;
  restarts: number;
  detail: string;
}

export interface Classification {
  failure?: PodFailure;
  pods: PodView[];
}

export function describeState(s: ContainerState | undefined): string {
  if (!s) return 'unknown';
  if (s.waiting) return `Waiting (${s.waiting.reason ?? 'unknown'})${s.waiting.message ? `: ${s.waiting.message}` : ''}`;
  if (s.terminated) {
    const t = s.terminated;
    return `Terminated (${t.reason ?? 'unknown'}, exit code ${t.exitCode ?? '?'})${t.message ? `: ${t.message}` : ''}`;
  }
  if (s.running) return `Running since ${s.running.startedAt ?? '?'}`;
  return 'unknown';
}

function ms(ts: string | undefined): number | undefined {
  if (!ts) return undefined;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? undefined : t;
}

function containerFailure(pod: Pod, c: ContainerStatus, th: Thresholds, now: number): PodFailure | undefined {
  const restarts = c.restartCount ?? 0;
  const base = { pod: pod.metadata.name, container: c.name, restartCount: restarts, state: describeState(c.state) };
  const waiting = c.state?.waiting;
  if (waiting?.reason && FATAL_WAITING_REASONS.has(waiting.reason)) {
    return { ...base, reason: waiting.reason, message: waiting.message ?? '' };
  }
  if (restarts >= th.crashLoopRestarts) {
    const last = c.lastState?.terminated;
    const why = last ? `last exit: ${last.reason ?? 'Error'} with code ${last.exitCode ?? '?'}` : '';
    if (waiting?.reason === 'CrashLoopBackOff') {
      return { ...base, reason: 'CrashLoopBackOff', message: [waiting.message, why].filter(Boolean).join('; ') };
    }
    if (!c.ready) {
      return { ...base, reason: 'CrashLoopBackOff', message: `restarted ${restarts} times; ${why}`.replace(/; $/, '') };
    }
  }
  const started = ms(c.state?.running?.startedAt);
  if (started !== undefined && c.ready === false && now - started > th.readinessTimeoutMs) {
    return {
      ...base,
      reason: 'ReadinessTimeout',
      message: `running for ${Math.round((now - started) / 1000)} s without passing its readiness probe`,
    };
  }
  return undefined;
}

export function classifyPods(pods: readonly Pod[], th: Thresholds, now: number): Classification {
  const views: PodView[] = [];
  let failure: PodFailure | undefined;
  for (const pod of pods) {
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const main = pod.status?.containerStatuses ?? [];
    const ready = main.length > 0 && main.every((c) => c.ready === true);
    const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
    const notReady = statuses.find((c) => !c.ready && c.state && !c.state.running) ?? statuses.find((c) => !c.ready);
    views.push({
      pod: pod.metadata.name,
      phase: pod.status?.phase ?? 'Unknown',
      ready,
      restarts,
      detail: pod.metadata.deletionTimestamp ? 'Terminating' : notReady ? `${notReady.name}: ${describeState(notReady.state)}` : '',
    });
    if (failure || pod.metadata.deletionTimestamp) continue;
    for (const c of statuses) {
      failure = containerFailure(pod, c, th, now);
      if (failure) break;
    }
    if (failure) continue;
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const since = ms(scheduled?.lastTransitionTime) ?? ms(pod.metadata.creationTimestamp);
    if (scheduled?.status === 'False' && since !== undefined && now - since > th.readinessTimeoutMs) {
      failure = {
        pod: pod.metadata.name,
        container: '',
        reason: scheduled.reason ?? 'Unschedulable',
        message: scheduled.message ?? '',
        restartCount: 0,
        state: 'Pending (not scheduled)',
      };
    }
  }
  return failure ? { failure, pods: views } : { pods: views };
}

/** Pods belonging to this deploy: created at or after the deploy started (allowing for clock skew). */
export function podsOfDeploy(pods: readonly Pod[], startedAt: number, skewMs = 5_000): Pod[] {
  return pods.filter((p) => {
    const created = ms(p.metadata.creationTimestamp);
    return created === undefined || created >= startedAt - skewMs;
  });
}
