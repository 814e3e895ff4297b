/**
 * Reads pods, events, logs and workloads through kubectl (so any kubeconfig works: EKS
 * exec plugin, kind, client certificates), and turns a pod failure into a diagnosis.
 */
import type { Exec } from '@deploy-actions/action-kit';
import { codeBlock, table } from '@deploy-actions/action-kit';
import type { Pod, PodFailure, PodView } from './pods';
import type { KubeItem } from './release-pods';
import { shortenCause } from './shorten';

export interface Kubectl {
  path: string;
  env: Record<string, string>;
  context: string;
  namespace: string;
  /** Told about failed kubectl calls (the watcher keeps going; this goes to the debug log). */
  onError?: (message: string) => void;
}

function base(k: Kubectl): string[] {
  return [...(k.context ? ['--context', k.context] : []), '--namespace', k.namespace];
}

/**
 * The last line of kubectl's stderr, or what it means when kubectl prompted: over https with a
 * kubeconfig user holding no credentials, kubectl (unlike helm) asks for a username on stdin
 * (on stdout) and fails with a bare "EOF" when there is none.
 */
export function kubectlCause(stderr: string, stdout = ''): string {
  if (stdout.includes('Please enter Username') || stderr.includes('Please enter Username')) {
    return "kubectl asked for a username: the kubeconfig's user has no credentials (token, client certificate or exec plugin)";
  }
  return stderr.trim().split('\n').pop() ?? '';
}

export async function kubectlJson<T>(exec: Exec, k: Kubectl, args: string[]): Promise<T | undefined> {
  const r = await exec(k.path, [...base(k), ...args, '--output', 'json', '--request-timeout', '20s'], {
    env: k.env,
    silent: true,
    allowFailure: true,
  });
  if (r.exitCode !== 0) {
    k.onError?.(`kubectl ${args.join(' ')}: ${kubectlCause(r.stderr, r.stdout)}`);
    return undefined;
  }
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    return undefined;
  }
}

export async function listPods(exec: Exec, k: Kubectl, selector: string): Promise<Pod[] | undefined> {
  const list = await kubectlJson<{ items: Pod[] }>(exec, k, ['get', 'pods', '--selector', selector]);
  return list?.items;
}

/** Pods, ReplicaSets and Jobs of the namespace in one call: enough to follow owners from pods to workloads. */
export async function listPodsAndOwners(exec: Exec, k: Kubectl): Promise<KubeItem[] | undefined> {
  const list = await kubectlJson<{ items: KubeItem[] }>(exec, k, ['get', 'pods,replicasets,jobs']);
  return list?.items;
}

export interface KubeEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  firstTimestamp?: string;
  series?: { count?: number; lastObservedTime?: string };
}

export async function podEvents(exec: Exec, k: Kubectl, pod: string, max = 10): Promise<KubeEvent[]> {
  const list = await kubectlJson<{ items: KubeEvent[] }>(exec, k, ['get', 'events', '--field-selector', `involvedObject.name=${pod}`]);
  const when = (e: KubeEvent) => Date.parse(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? '') || 0;
  return (list?.items ?? []).sort((a, b) => when(a) - when(b)).slice(-max);
}

export async function podLogs(exec: Exec, k: Kubectl, pod: string, container: string, lines: number, previous: boolean): Promise<string> {
  if (lines <= 0) return '';
  const args = [...base(k), 'logs', pod, '--request-timeout', '20s', '--tail', String(lines), ...(container ? ['--container', container] : []), ...(previous ? ['--previous'] : [])];
  const r = await exec(k.path, args, { env: k.env, silent: true, allowFailure: true });
  return r.exitCode === 0 ? r.stdout : '';
}

export interface Workload {
  kind: string;
  name: string;
  ready: string;
  upToDate: boolean;
}

interface RawWorkload {
  kind: string;
  metadata: { name: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    readyReplicas?: number;
    replicas?: number;
    updatedReplicas?: number;
    observedGeneration?: number;
    numberReady?: number;
    desiredNumberScheduled?: number;
  };
}

export async function listWorkloads(exec: Exec, k: Kubectl, selector: string): Promise<Workload[]> {
  const items: RawWorkload[] = [];
  for (const [plural, kind] of [['deployments', 'Deployment'], ['statefulsets', 'StatefulSet'], ['daemonsets', 'DaemonSet']] as const) {
    const list = await kubectlJson<{ items: RawWorkload[] }>(exec, k, ['get', plural, '--selector', selector]);
    items.push(...(list?.items ?? []).map((w) => ({ ...w, kind: w.kind || kind })));
  }
  return items.map((w) => {
    const s = w.status ?? {};
    const desired = w.kind === 'DaemonSet' ? (s.desiredNumberScheduled ?? 0) : (w.spec?.replicas ?? 1);
    const ready = w.kind === 'DaemonSet' ? (s.numberReady ?? 0) : (s.readyReplicas ?? 0);
    return {
      kind: w.kind,
      name: w.metadata.name,
      ready: `${ready}/${desired}`,
      upToDate: ready >= desired && (s.observedGeneration ?? 0) >= (w.metadata.generation ?? 0),
    };
  });
}

export interface Diagnosis {
  failure: PodFailure;
  events: KubeEvent[];
  logs: string;
  pods: PodView[];
}

export async function diagnose(exec: Exec, k: Kubectl, failure: PodFailure, pods: PodView[], logLines: number): Promise<Diagnosis> {
  const [events, current] = await Promise.all([
    podEvents(exec, k, failure.pod),
    podLogs(exec, k, failure.pod, failure.container, logLines, false),
  ]);
  const logs = current.trim() !== '' ? current : failure.restartCount > 0 ? await podLogs(exec, k, failure.pod, failure.container, logLines, true) : '';
  return { failure, events, logs, pods };
}

export function oneLine(f: PodFailure): string {
  return `${f.owner ? `${f.owner}: ` : ''}pod ${f.pod}${f.container ? ` container ${f.container}` : ''}: ${f.reason}${f.message ? ` (${shortenCause(f.message)})` : ''}`;
}

/** A container state without its message ("Waiting (ImagePullBackOff)"): the message is shown once, elsewhere. */
function brief(state: string): string {
  return state.replace(/^(.*?\))(: .*)$/s, '$1');
}

/** The summary of a failed rollout; each fact once (the one-line cause above it carries the shortened message). */
export function diagnosisMarkdown(d: Diagnosis): string {
  const f = d.failure;
  const parts = [
    `### Rollout failed: ${f.reason}\n`,
    table(['Workload', 'Pod', 'Container', 'State', 'Restarts'], [[f.owner ?? '-', f.pod, f.container || '-', brief(f.state), f.restartCount]]),
  ];
  const message = f.message.replace(/\s+/g, ' ').trim();
  // The full message only when the one line had to shorten it.
  if (message && shortenCause(message) !== message) parts.push(`\n${codeBlock(f.message.trim())}`);
  const events = d.events.filter((e) => (e.message ?? '').replace(/\s+/g, ' ').trim() !== message || message === '');
  if (events.length > 0) {
    parts.push('\n**Recent events**\n\n');
    parts.push(table(['Type', 'Reason', 'Count', 'Message'], events.map((e) => [e.type ?? '', e.reason ?? '', e.series?.count ?? e.count ?? 1, shortenCause(e.message ?? '', 400)])));
  }
  if (d.logs.trim() !== '') parts.push(`\n**Last log lines of ${f.container || f.pod}**\n\n`, codeBlock(d.logs));
  const others = d.pods.filter((p) => p.pod !== f.pod);
  if (others.length > 0) {
    parts.push('\n**Other pods of this deploy**\n\n');
    parts.push(table(['Pod', 'Phase', 'Ready', 'Restarts', 'Detail'], others.map((p) => [p.pod, p.phase, p.ready ? 'yes' : 'no', p.restarts, brief(p.detail)])));
  }
  return parts.join('');
}
