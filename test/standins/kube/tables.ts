// Server-side Table output (meta.k8s.io/v1 Table), as kubectl get and helm status ask for it.
import type { KObj } from './store';

type Col = { name: string; type?: string; format?: string; priority?: number; cell: (o: KObj) => unknown };

export function age(ts: string | undefined): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

export function podStatusReason(p: KObj): string {
  if (p.metadata.deletionTimestamp) return 'Terminating';
  let reason: string = p.status?.reason || p.status?.phase || 'Pending';
  for (const c of p.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
    else if (c.state?.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
  }
  if (reason === 'Running' && !(p.status?.conditions ?? []).some((c: KObj) => c.type === 'Ready' && c.status === 'True')) reason = 'Running';
  return reason;
}

const name: Col = { name: 'Name', format: 'name', cell: (o) => o.metadata.name };
const ageCol: Col = { name: 'Age', cell: (o) => age(o.metadata.creationTimestamp) };
const selector = (s: KObj | undefined) => Object.entries(s?.matchLabels ?? s ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>';

const COLUMNS: Record<string, Col[]> = {
  Pod: [
    name,
    { name: 'Ready', cell: (o) => `${(o.status?.containerStatuses ?? []).filter((c: KObj) => c.ready).length}/${o.spec?.containers?.length ?? 0}` },
    { name: 'Status', cell: podStatusReason },
    { name: 'Restarts', type: 'string', cell: (o) => String((o.status?.containerStatuses ?? []).reduce((n: number, c: KObj) => n + (c.restartCount ?? 0), 0)) },
    ageCol,
    { name: 'IP', priority: 1, cell: (o) => o.status?.podIP ?? '<none>' },
    { name: 'Node', priority: 1, cell: (o) => o.spec?.nodeName ?? '<none>' },
  ],
  Deployment: [
    name,
    { name: 'Ready', cell: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}` },
    { name: 'Up-to-date', type: 'integer', cell: (o) => o.status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'integer', cell: (o) => o.status?.availableReplicas ?? 0 },
    ageCol,
    { name: 'Containers', priority: 1, cell: (o) => (o.spec?.template?.spec?.containers ?? []).map((c: KObj) => c.name).join(',') },
    { name: 'Images', priority: 1, cell: (o) => (o.spec?.template?.spec?.containers ?? []).map((c: KObj) => c.image).join(',') },
    { name: 'Selector', priority: 1, cell: (o) => selector(o.spec?.selector) },
  ],
  ReplicaSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => o.spec?.replicas ?? 0 },
    { name: 'Current', type: 'integer', cell: (o) => o.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', cell: (o) => o.status?.readyReplicas ?? 0 },
    ageCol,
    { name: 'Images', priority: 1, cell: (o) => (o.spec?.template?.spec?.containers ?? []).map((c: KObj) => c.image).join(',') },
  ],
  Service: [
    name,
    { name: 'Type', cell: (o) => o.spec?.type ?? 'ClusterIP' },
    { name: 'Cluster-IP', cell: (o) => o.spec?.clusterIP ?? '<none>' },
    { name: 'External-IP', cell: () => '<none>' },
    { name: 'Port(s)', cell: (o) => (o.spec?.ports ?? []).map((p: KObj) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') },
    ageCol,
    { name: 'Selector', priority: 1, cell: (o) => selector(o.spec?.selector) },
  ],
  Job: [
    name,
    { name: 'Status', cell: (o) => ((o.status?.conditions ?? []).find((c: KObj) => c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed'))?.type ?? 'Running') },
    { name: 'Completions', cell: (o) => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}` },
    { name: 'Duration', cell: (o) => (o.status?.startTime ? age(o.status.startTime) : '') },
    ageCol,
  ],
  Event: [
    { name: 'Last Seen', cell: (o) => age(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp) },
    { name: 'Type', cell: (o) => o.type },
    { name: 'Reason', cell: (o) => o.reason },
    { name: 'Object', cell: (o) => `${String(o.involvedObject?.kind ?? '').toLowerCase()}/${o.involvedObject?.name}` },
    { name: 'Message', cell: (o) => o.message },
  ],
  Namespace: [name, { name: 'Status', cell: (o) => o.status?.phase ?? 'Active' }, ageCol],
  ConfigMap: [name, { name: 'Data', type: 'integer', cell: (o) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length }, ageCol],
  Secret: [name, { name: 'Type', cell: (o) => o.type ?? 'Opaque' }, { name: 'Data', type: 'integer', cell: (o) => Object.keys(o.data ?? {}).length }, ageCol],
  Ingress: [
    name,
    { name: 'Class', cell: (o) => o.spec?.ingressClassName ?? '<none>' },
    { name: 'Hosts', cell: (o) => (o.spec?.rules ?? []).map((r: KObj) => r.host ?? '*').join(',') || '*' },
    { name: 'Address', cell: () => '' },
    { name: 'Ports', cell: (o) => (o.spec?.tls ? '80, 443' : '80') },
    ageCol,
  ],
  PodDisruptionBudget: [
    name,
    { name: 'Min Available', cell: (o) => (o.spec?.minAvailable !== undefined ? String(o.spec.minAvailable) : 'N/A') },
    { name: 'Max Unavailable', cell: (o) => (o.spec?.maxUnavailable !== undefined ? String(o.spec.maxUnavailable) : 'N/A') },
    { name: 'Allowed Disruptions', type: 'integer', cell: (o) => o.status?.disruptionsAllowed ?? 0 },
    ageCol,
  ],
  NetworkPolicy: [name, { name: 'Pod-Selector', cell: (o) => selector(o.spec?.podSelector) }, ageCol],
  EndpointSlice: [
    name,
    { name: 'AddressType', cell: (o) => o.addressType },
    { name: 'Ports', cell: (o) => (o.ports ?? []).map((p: KObj) => p.port).join(',') || '<unset>' },
    { name: 'Endpoints', cell: (o) => (o.endpoints ?? []).flatMap((e: KObj) => e.addresses).join(',') || '<unset>' },
    ageCol,
  ],
  HorizontalPodAutoscaler: [
    name,
    { name: 'Reference', cell: (o) => `${o.spec?.scaleTargetRef?.kind}/${o.spec?.scaleTargetRef?.name}` },
    { name: 'MinPods', type: 'integer', cell: (o) => o.spec?.minReplicas ?? 1 },
    { name: 'MaxPods', type: 'integer', cell: (o) => o.spec?.maxReplicas ?? 0 },
    { name: 'Replicas', type: 'integer', cell: (o) => o.status?.currentReplicas ?? 0 },
    ageCol,
  ],
};

export function toTable(kind: string, items: KObj[], includeObject: string, resourceVersion: string): KObj {
  const cols = COLUMNS[kind] ?? [name, ageCol];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: cols.map((c) => ({ name: c.name, type: c.type ?? 'string', format: c.format ?? '', description: c.name, priority: c.priority ?? 0 })),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      object:
        includeObject === 'None' ? undefined
        : includeObject === 'Object' ? o
        : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
