/**
 * Which pods belong to the release: those owned, through their controllers, by a workload the
 * chart rendered (Deployment -> ReplicaSet -> Pod, CronJob -> Job -> Pod, StatefulSet or
 * DaemonSet -> Pod, a bare Pod), hook Jobs included, plus those the pod selector matches. Pure.
 */
import { hookOf, WORKLOAD_KINDS, type K8sObject } from './manifests';
import type { Pod } from './pods';

export interface OwnerRef {
  kind: string;
  name: string;
  controller?: boolean;
}

/** An item of `kubectl get pods,replicasets,jobs -o json`. */
export interface KubeItem {
  kind: string;
  metadata: Pod['metadata'] & { uid?: string; ownerReferences?: OwnerRef[] };
  spec?: unknown;
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>; failed?: number };
}

/** A workload of the release, as messages name it: "Deployment web", "Job web-migrate (pre-upgrade hook)". */
export interface Workload {
  kind: string;
  name: string;
  hook?: string;
}

export function workloadText(w: Workload): string {
  return `${w.hook ? 'hook ' : ''}${w.kind} ${w.name}${w.hook ? ` (${w.hook})` : ''}`;
}

/** The rendered workloads to watch during the upgrade (helm test pods run later, under helm test). */
export function watchedWorkloads(objects: readonly K8sObject[]): Workload[] {
  return objects
    .filter((o) => WORKLOAD_KINDS.includes(o.kind) && !(hookOf(o) ?? '').split(',').some((h) => h.trim().startsWith('test')))
    .map((o) => {
      const hook = hookOf(o);
      return hook ? { kind: o.kind, name: o.metadata.name, hook } : { kind: o.kind, name: o.metadata.name };
    });
}

/** Equality-based label selector (k=v, k==v, k!=v, k, !k), comma separated. */
export function matchesSelector(selector: string, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .every((req) => {
      const m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(req);
      if (m) return m[2] === '!=' ? l[m[1]!] !== m[3]!.trim() : l[m[1]!] === m[3]!.trim();
      return req.startsWith('!') ? !(req.slice(1).trim() in l) : req in l;
    });
}

export interface ReleasePod {
  pod: Pod;
  /** The rendered workload that owns it; undefined when only the selector matched. */
  owner?: Workload;
}

function controllerOf(item: KubeItem): OwnerRef | undefined {
  const refs = item.metadata.ownerReferences ?? [];
  return refs.find((r) => r.controller) ?? refs[0];
}

export function releasePods(items: readonly KubeItem[], workloads: readonly Workload[], selector: string): ReleasePod[] {
  const byKey = new Map(items.map((i) => [`${i.kind}/${i.metadata.name}`, i]));
  const watched = new Map(workloads.map((w) => [`${w.kind}/${w.name}`, w]));
  const out: ReleasePod[] = [];
  for (const item of items) {
    if (item.kind !== 'Pod') continue;
    let owner = watched.get(`Pod/${item.metadata.name}`);
    let cur: KubeItem | undefined = item;
    for (let depth = 0; !owner && cur && depth < 3; depth++) {
      const ref = controllerOf(cur);
      if (!ref) break;
      owner = watched.get(`${ref.kind}/${ref.name}`);
      cur = byKey.get(`${ref.kind}/${ref.name}`);
    }
    if (owner) out.push({ pod: item as Pod, owner });
    else if (matchesSelector(selector, item.metadata.labels)) out.push({ pod: item as Pod });
  }
  return out;
}

/** A rendered Job that the cluster reports Failed (backoff limit or deadline reached). */
export function failedJob(items: readonly KubeItem[], workloads: readonly Workload[]): { job: Workload; reason: string; message: string } | undefined {
  for (const w of workloads.filter((x) => x.kind === 'Job')) {
    const job = items.find((i) => i.kind === 'Job' && i.metadata.name === w.name);
    const failed = job?.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
    if (failed) return { job: w, reason: failed.reason ?? 'Failed', message: failed.message ?? '' };
  }
  return undefined;
}
