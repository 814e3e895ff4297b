/**
 * Reads pods, events, logs and workloads from the Kubernetes API (packages/kube: the
 * kubeconfig's credentials or the EKS token, no kubectl), watches the rollout by list+watch,
 * and turns a pod failure into a diagnosis.
 */
import { codeBlock, errorMessage, table } from '@deploy-actions/action-kit';
import { collectionPath, Reflector, type KubeObject, type KubeReader, type Resource } from '@deploy-actions/kube';
import type { Pod, PodFailure, PodView } from './pods';
import type { KubeItem } from './release-pods';
import { shortenCause } from './shorten';

/** The API and the namespace the deploy reads. */
export interface Kube {
  api: KubeReader;
  namespace: string;
  /** Told about failed reads (the watcher keeps going; this goes to the debug log). */
  onError?: (message: string) => void;
}

async function listOf<T>(k: Kube, resource: Resource, query: { labelSelector?: string; fieldSelector?: string } = {}): Promise<T[] | undefined> {
  try {
    return (await k.api.list<KubeObject>(collectionPath(resource, k.namespace), query)).items as T[];
  } catch (err) {
    k.onError?.(errorMessage(err));
    return undefined;
  }
}

export async function listPods(k: Kube, selector: string): Promise<Pod[] | undefined> {
  return listOf<Pod>(k, 'pods', { labelSelector: selector });
}

const OWNER_CHAIN: Resource[] = ['pods', 'replicasets', 'jobs'];

/** Pods, ReplicaSets and Jobs of the namespace: enough to follow owners from pods to workloads. */
export async function listPodsAndOwners(k: Kube): Promise<KubeItem[] | undefined> {
  const lists = await Promise.all(OWNER_CHAIN.map((r) => listOf<KubeItem>(k, r)));
  return lists.some((l) => l === undefined) ? undefined : lists.flatMap((l) => l!);
}

/** The same three collections kept live by list+watch while helm runs. */
export interface OwnersWatch {
  /** Resolves after the first lists: whether all three succeeded. */
  synced: Promise<boolean>;
  /** The objects as last seen, or undefined while a collection has never been listed. */
  snapshot(): KubeItem[] | undefined;
  stop(): Promise<void>;
}

export function watchPodsAndOwners(k: Kube): OwnersWatch {
  const reflectors = OWNER_CHAIN.map((r) => new Reflector<KubeItem & KubeObject>(k.api, collectionPath(r, k.namespace), {}, { onError: k.onError }));
  const listed = reflectors.map(() => false);
  const synced = Promise.all(reflectors.map((r, i) => r.synced.then((ok) => (listed[i] = ok)))).then((oks) => oks.every(Boolean));
  return {
    synced,
    snapshot: () => (listed.every(Boolean) ? reflectors.flatMap((r) => r.snapshot()) : undefined),
    stop: async () => void (await Promise.all(reflectors.map((r) => r.stop()))),
  };
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

export async function podEvents(k: Kube, pod: string, max = 10): Promise<KubeEvent[]> {
  const items = await listOf<KubeEvent>(k, 'events', { fieldSelector: `involvedObject.name=${pod}` });
  const when = (e: KubeEvent) => Date.parse(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? '') || 0;
  return (items ?? []).sort((a, b) => when(a) - when(b)).slice(-max);
}

export async function podLogs(k: Kube, pod: string, container: string, lines: number, previous: boolean): Promise<string> {
  if (lines <= 0) return '';
  const query: Record<string, string> = { tailLines: String(lines), ...(container ? { container } : {}), ...(previous ? { previous: 'true' } : {}) };
  try {
    return await k.api.text(`${collectionPath('pods', k.namespace)}/${encodeURIComponent(pod)}/log`, query);
  } catch (err) {
    k.onError?.(errorMessage(err));
    return '';
  }
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

export async function listWorkloads(k: Kube, selector: string): Promise<Workload[]> {
  const lists = await Promise.all((['deployments', 'statefulsets', 'daemonsets'] as const).map((r) => listOf<RawWorkload>(k, r, { labelSelector: selector })));
  const items = lists.flatMap((l) => l ?? []);
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

export async function diagnose(k: Kube, failure: PodFailure, pods: PodView[], logLines: number): Promise<Diagnosis> {
  const [events, current] = await Promise.all([podEvents(k, failure.pod), podLogs(k, failure.pod, failure.container, logLines, false)]);
  const logs = current.trim() !== '' ? current : failure.restartCount > 0 ? await podLogs(k, failure.pod, failure.container, logLines, true) : '';
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
