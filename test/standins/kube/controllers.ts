// Deployment, ReplicaSet, Job, Endpoints and garbage-collector controllers, reconciling the whole store on every change.
import { createHash } from 'node:crypto';
import type { Api } from './api';
import type { Recorder } from './events';
import { RESOURCES, byKind } from './resources';
import { matchSelectorObject } from './selectors';
import { type KObj, now, randomSuffix } from './store';

const D = byKind('Deployment');
const RS = byKind('ReplicaSet');
const POD = byKind('Pod');
const JOB = byKind('Job');
const SVC = byKind('Service');
const EP = byKind('Endpoints');
const EPS = byKind('EndpointSlice');
const PDB = byKind('PodDisruptionBudget');
const HPA = byKind('HorizontalPodAutoscaler');

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().filter((k) => (v as any)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as any)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
const ALPHA = 'bcdfghjklmnpqrstvwxz2456789';
export function templateHash(t: KObj): string {
  const h = createHash('sha256').update(canonical(t)).digest();
  let s = '';
  for (let i = 0; i < 10; i++) s += ALPHA[h[i]! % ALPHA.length];
  return s;
}
function withoutHash(t: KObj): string {
  const c = clone(t ?? {});
  if (c.metadata?.labels) delete c.metadata.labels['pod-template-hash'];
  return canonical(c);
}
const ownedBy = (o: KObj, owner: KObj) => (o.metadata.ownerReferences ?? []).some((r: KObj) => r.controller && r.uid === owner.metadata.uid);
const ownerRef = (o: KObj) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid, controller: true, blockOwnerDeletion: true });
export const podReady = (p: KObj) => (p.status?.conditions ?? []).some((c: KObj) => c.type === 'Ready' && c.status === 'True');
function podAvailable(p: KObj, minReadySeconds: number): boolean {
  if (!podReady(p)) return false;
  if (!minReadySeconds) return true;
  const c = p.status.conditions.find((x: KObj) => x.type === 'Ready');
  return Date.now() - Date.parse(c.lastTransitionTime) >= minReadySeconds * 1000;
}
const active = (p: KObj) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

function intOrPercent(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const s = String(v ?? '0');
  if (s.endsWith('%')) {
    const x = (Number(s.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  return Number(s);
}

function condition(type: string, status: string, reason: string, message: string, prev?: KObj, keepTransition = true): KObj {
  const t = now();
  const same = prev && prev.status === status;
  return {
    type,
    status,
    lastUpdateTime: same && prev.reason === reason && prev.message === message ? prev.lastUpdateTime : t,
    lastTransitionTime: same && keepTransition ? prev.lastTransitionTime : t,
    reason,
    message,
  };
}

export class Controllers {
  private timer?: NodeJS.Timeout;
  private tick?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private jobRetryAt = new Map<string, number>();
  private unsubscribe?: () => void;

  constructor(private api: Api, private rec: Recorder) {}

  start() {
    this.unsubscribe = this.api.store.subscribe(() => this.schedule());
    this.tick = setInterval(() => this.schedule(), 500);
    this.schedule();
  }
  stop() {
    this.unsubscribe?.();
    clearInterval(this.tick);
    clearTimeout(this.timer);
  }
  schedule() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reconcileAll();
    }, 5);
  }

  reconcileAll() {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        this.gc();
        for (const d of this.api.store.list(D)) this.safe(() => this.deployment(d));
        for (const rs of this.api.store.list(RS)) this.safe(() => this.replicaSet(rs));
        for (const j of this.api.store.list(JOB)) this.safe(() => this.job(j));
        for (const s of this.api.store.list(SVC)) this.safe(() => this.endpoints(s));
        for (const p of this.api.store.list(PDB)) this.safe(() => this.pdb(p));
        for (const h of this.api.store.list(HPA)) this.safe(() => this.hpa(h));
      } while (this.again);
    } finally {
      this.running = false;
    }
  }
  private safe(f: () => void) {
    try {
      f();
    } catch (e) {
      if (process.env.STANDIN_KUBE_DEBUG) process.stderr.write(`[kube-standin] controller: ${(e as Error).stack}\n`);
    }
  }

  private gc() {
    const uids = new Set<string>();
    const all: [typeof RESOURCES[number], KObj][] = [];
    for (const r of RESOURCES) for (const o of this.api.store.list(r)) {
      uids.add(o.metadata.uid);
      all.push([r, o]);
    }
    for (const [r, o] of all) {
      const refs = o.metadata.ownerReferences as KObj[] | undefined;
      if (refs?.length && refs.every((x) => !uids.has(x.uid))) {
        try {
          this.api.delete(r, o.metadata.namespace, o.metadata.name);
        } catch { /* already gone */ }
      }
    }
  }

  // ---------- Deployment ----------
  private deployment(d: KObj) {
    const ns = d.metadata.namespace;
    const rss = this.api.store.list(RS, ns).filter((rs) => ownedBy(rs, d));
    const desired: number = d.spec.replicas ?? 1;
    const tpl = withoutHash(d.spec.template);
    let newRS = rss.find((rs) => withoutHash(rs.spec.template) === tpl);
    const maxRevision = Math.max(0, ...rss.map((rs) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0)));
    const ru = d.spec.strategy?.rollingUpdate ?? {};
    const recreate = d.spec.strategy?.type === 'Recreate';
    let maxSurge = recreate ? 0 : intOrPercent(ru.maxSurge ?? '25%', desired, true);
    let maxUnavailable = recreate ? desired : intOrPercent(ru.maxUnavailable ?? '25%', desired, false);
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    maxUnavailable = Math.min(maxUnavailable, desired);
    maxSurge = Math.max(0, maxSurge);

    if (!newRS) {
      const hash = templateHash(d.spec.template);
      const template = clone(d.spec.template);
      template.metadata ??= {};
      template.metadata.labels = { ...(template.metadata.labels ?? {}), 'pod-template-hash': hash };
      const oldRSs = rss;
      const total = oldRSs.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
      const initial = oldRSs.length === 0 || recreate ? (recreate && total > 0 ? 0 : desired) : Math.max(0, Math.min(desired, desired + maxSurge - total));
      newRS = this.api.create(RS, {
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: ns,
          labels: template.metadata.labels,
          annotations: { 'deployment.kubernetes.io/desired-replicas': String(desired), 'deployment.kubernetes.io/max-replicas': String(desired + maxSurge), 'deployment.kubernetes.io/revision': String(maxRevision + 1) },
          ownerReferences: [ownerRef(d)],
        },
        spec: { replicas: initial, minReadySeconds: d.spec.minReadySeconds ?? 0, selector: { ...clone(d.spec.selector), matchLabels: { ...(d.spec.selector.matchLabels ?? {}), 'pod-template-hash': hash } }, template },
      });
      if (initial > 0) this.rec.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${newRS.metadata.name} from 0 to ${initial}`, 'deployment-controller');
      rss.push(newRS);
    } else if (Number(newRS.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0) < maxRevision) {
      // Rolling back to an older template: that ReplicaSet becomes the newest revision.
      newRS.metadata.annotations = { ...(newRS.metadata.annotations ?? {}), 'deployment.kubernetes.io/revision': String(maxRevision + 1) };
      newRS = this.api.update(RS, newRS);
    }
    const oldRSs = rss.filter((rs) => rs.metadata.uid !== newRS!.metadata.uid);
    const scale = (rs: KObj, to: number) => {
      const from = rs.spec.replicas ?? 0;
      if (from === to) return;
      rs.spec.replicas = to;
      rs.metadata.annotations = { ...(rs.metadata.annotations ?? {}), 'deployment.kubernetes.io/desired-replicas': String(desired), 'deployment.kubernetes.io/max-replicas': String(desired + maxSurge) };
      Object.assign(rs, this.api.update(RS, rs));
      this.rec.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`, 'deployment-controller');
    };
    const specSum = (list: KObj[]) => list.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
    const availSum = (list: KObj[]) => list.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);

    if (!d.spec.paused) {
      if (recreate) {
        const oldPods = this.api.store.list(POD, ns).filter((p) => oldRSs.some((rs) => ownedBy(p, rs)));
        for (const rs of oldRSs) scale(rs, 0);
        if (oldPods.length === 0) scale(newRS, desired);
      } else {
        // reconcileNewReplicaSet
        const cur = newRS.spec.replicas ?? 0;
        if (cur > desired) scale(newRS, desired);
        else if (cur < desired) {
          const maxTotal = desired + maxSurge;
          const total = specSum([...oldRSs, newRS]);
          if (total < maxTotal) scale(newRS, cur + Math.min(maxTotal - total, desired - cur));
        }
        // reconcileOldReplicaSets
        const all = [...oldRSs, newRS];
        const minAvailable = desired - maxUnavailable;
        const newUnavailable = (newRS.spec.replicas ?? 0) - (newRS.status?.availableReplicas ?? 0);
        let maxScaledDown = specSum(all) - minAvailable - newUnavailable;
        const sorted = oldRSs.filter((rs) => (rs.spec.replicas ?? 0) > 0).sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
        if (maxScaledDown > 0) {
          // Unhealthy old replicas go first.
          for (const rs of sorted) {
            if (maxScaledDown <= 0) break;
            const unhealthy = (rs.spec.replicas ?? 0) - (rs.status?.availableReplicas ?? 0);
            const n = Math.min(maxScaledDown, unhealthy);
            if (n > 0) {
              scale(rs, rs.spec.replicas - n);
              maxScaledDown -= n;
            }
          }
          const available = availSum(all);
          let canDown = available - minAvailable;
          for (const rs of sorted) {
            if (canDown <= 0) break;
            const n = Math.min(canDown, rs.spec.replicas ?? 0);
            if (n > 0) {
              scale(rs, rs.spec.replicas - n);
              canDown -= n;
            }
          }
        }
      }
      // Old ReplicaSets beyond revisionHistoryLimit go away.
      const limit = d.spec.revisionHistoryLimit ?? 10;
      const idle = oldRSs.filter((rs) => (rs.spec.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0).sort((a, b) => Number(a.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0) - Number(b.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0));
      for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) this.api.delete(RS, ns, rs.metadata.name);
    }

    // Status
    const fresh = this.api.store.list(RS, ns).filter((rs) => ownedBy(rs, d));
    const nrs = fresh.find((rs) => rs.metadata.uid === newRS!.metadata.uid) ?? newRS;
    const replicas = fresh.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
    const ready = fresh.reduce((n, rs) => n + (rs.status?.readyReplicas ?? 0), 0);
    const available = fresh.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
    const updated = nrs.status?.replicas ?? 0;
    const prev: KObj = d.status ?? {};
    const prevCond = (t: string) => (prev.conditions ?? []).find((c: KObj) => c.type === t);
    const availableCond = available >= desired - maxUnavailable
      ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', prevCond('Available'))
      : condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', prevCond('Available'));
    const complete = updated === desired && replicas === desired && available === desired && (nrs.status?.availableReplicas ?? 0) === desired;
    const pc = prevCond('Progressing');
    let progressing: KObj;
    const counts = `${updated}/${replicas}/${available}/${ready}/${nrs.spec.replicas}`;
    const changed = this.lastCounts.get(d.metadata.uid) !== counts;
    if (complete) progressing = condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${nrs.metadata.name}" has successfully progressed.`, pc);
    else if (pc?.reason === 'ProgressDeadlineExceeded' && !changed && pc.message.includes(`"${nrs.metadata.name}"`)) progressing = pc;
    else {
      const lastProgress = changed || !pc ? Date.now() : Date.parse(pc.lastUpdateTime);
      const deadline = (d.spec.progressDeadlineSeconds ?? 600) * 1000;
      if (Date.now() - lastProgress > deadline) {
        progressing = condition('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${nrs.metadata.name}" has timed out progressing.`, pc);
        this.rec.event(d, 'Warning', 'ProgressDeadlineExceeded', `Deployment "${d.metadata.name}" has timed out progressing.`, 'deployment-controller');
      } else {
        progressing = condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${nrs.metadata.name}" is progressing.`, pc);
        // lastUpdateTime marks the last progress: it moves only when the rollout's counts change.
        progressing.lastUpdateTime = changed || !pc ? now() : pc.lastUpdateTime;
      }
    }
    const status: KObj = {
      observedGeneration: d.metadata.generation,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      ...(desired - available > 0 ? { unavailableReplicas: desired - available } : {}),
      conditions: [availableCond, progressing],
    };
    for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas'] as const) if (status[k] === 0) delete status[k];
    const revision = nrs.metadata.annotations?.['deployment.kubernetes.io/revision'];
    this.lastCounts.set(d.metadata.uid, counts);
    if (revision && d.metadata.annotations?.['deployment.kubernetes.io/revision'] !== revision) {
      const cur = this.api.store.get(D, ns, d.metadata.name)!;
      cur.metadata.annotations = { ...(cur.metadata.annotations ?? {}), 'deployment.kubernetes.io/revision': revision };
      d = this.api.store.update(D, cur);
    }
    this.api.setStatus(D, d, status);
  }
  private lastCounts = new Map<string, string>();

  // ---------- ReplicaSet ----------
  private replicaSet(rs: KObj) {
    const ns = rs.metadata.namespace;
    const pods = this.api.store.list(POD, ns).filter((p) => ownedBy(p, rs) && active(p));
    const want = rs.spec.replicas ?? 1;
    if (pods.length < want) {
      for (let i = pods.length; i < want; i++) {
        const t = clone(rs.spec.template ?? {});
        const p = this.api.create(POD, {
          metadata: { ...(t.metadata ?? {}), name: `${rs.metadata.name}-${randomSuffix()}`, namespace: ns, ownerReferences: [ownerRef(rs)] },
          spec: t.spec,
        });
        pods.push(p);
        this.rec.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata.name}`, 'replicaset-controller');
      }
    } else if (pods.length > want) {
      const victims = [...pods].sort((a, b) => Number(podReady(a)) - Number(podReady(b)) || b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp)).slice(0, pods.length - want);
      for (const p of victims) {
        this.api.delete(POD, ns, p.metadata.name);
        this.rec.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, 'replicaset-controller');
      }
      pods.splice(0, pods.length, ...pods.filter((p) => !victims.includes(p)));
    }
    const status: KObj = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.length,
      readyReplicas: pods.filter(podReady).length,
      availableReplicas: pods.filter((p) => podAvailable(p, rs.spec.minReadySeconds ?? 0)).length,
      observedGeneration: rs.metadata.generation,
    };
    for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'] as const) if (status[k] === 0) delete status[k];
    this.api.setStatus(RS, rs, status);
  }

  // ---------- Job ----------
  private job(j: KObj) {
    const ns = j.metadata.namespace;
    const st: KObj = clone(j.status ?? {});
    const finished = (st.conditions ?? []).some((c: KObj) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    const pods = this.api.store.list(POD, ns).filter((p) => ownedBy(p, j));
    const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded').length;
    const failed = pods.filter((p) => p.status?.phase === 'Failed').length;
    const running = pods.filter(active);
    if (finished) return;
    st.startTime ??= now();
    const completions = j.spec.completions ?? 1;
    const t = now();
    const cond = (type: string, reason: string, message: string) => ({ type, status: 'True', lastProbeTime: t, lastTransitionTime: t, reason, message });
    if (succeeded >= completions) {
      st.conditions = [cond('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'), cond('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods')];
      st.completionTime = t;
      this.rec.event(j, 'Normal', 'Completed', 'Job completed', 'job-controller');
    } else if (failed > (j.spec.backoffLimit ?? 6)) {
      for (const p of running) this.api.delete(POD, ns, p.metadata.name);
      st.conditions = [cond('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'), cond('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')];
      this.rec.event(j, 'Warning', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', 'job-controller');
    } else if (j.spec.activeDeadlineSeconds && Date.now() - Date.parse(st.startTime) > j.spec.activeDeadlineSeconds * 1000) {
      for (const p of running) this.api.delete(POD, ns, p.metadata.name);
      st.conditions = [cond('FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline'), cond('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline')];
      this.rec.event(j, 'Warning', 'DeadlineExceeded', 'Job was active longer than specified deadline', 'job-controller');
    } else if (running.length === 0 && !j.spec.suspend) {
      const retryAt = this.jobRetryAt.get(j.metadata.uid) ?? 0;
      if (failed === 0 || Date.now() >= retryAt) {
        const tp = clone(j.spec.template ?? {});
        const p = this.api.create(POD, { metadata: { ...(tp.metadata ?? {}), name: `${j.metadata.name}-${randomSuffix()}`, namespace: ns, ownerReferences: [ownerRef(j)] }, spec: tp.spec });
        this.rec.event(j, 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata.name}`, 'job-controller');
        running.push(p);
        this.jobRetryAt.set(j.metadata.uid, Date.now() + 1000 * 2 ** Math.min(failed, 4));
      }
    }
    st.active = running.length || undefined;
    st.ready = running.filter(podReady).length;
    st.succeeded = succeeded || undefined;
    st.failed = failed || undefined;
    st.terminating = 0;
    st.uncountedTerminatedPods = {};
    this.api.setStatus(JOB, j, JSON.parse(JSON.stringify(st)));
  }

  // ---------- Endpoints ----------
  private endpoints(s: KObj) {
    if (!s.spec?.selector) return;
    const ns = s.metadata.namespace;
    const pods = this.api.store.list(POD, ns).filter((p) => active(p) && p.status?.podIP && matchSelectorObject({ matchLabels: s.spec.selector }, p.metadata.labels));
    const addr = (p: KObj) => ({ ip: p.status.podIP, nodeName: p.spec.nodeName, targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid } });
    const ready = pods.filter(podReady).map(addr);
    const notReady = pods.filter((p) => !podReady(p)).map(addr);
    const targetPort = (sp: KObj): number => {
      if (typeof sp.targetPort === 'number') return sp.targetPort;
      for (const p of pods) for (const c of p.spec.containers ?? []) for (const cp of c.ports ?? []) if (cp.name === sp.targetPort) return cp.containerPort;
      return Number(sp.targetPort) || sp.port;
    };
    const ports = (s.spec.ports ?? []).map((p: KObj) => ({ name: p.name, port: targetPort(p), protocol: p.protocol ?? 'TCP' }));
    const subsets = pods.length ? [{ ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ports }] : [];
    const cur = this.api.store.get(EP, ns, s.metadata.name);
    if (!cur) {
      this.api.create(EP, { metadata: { name: s.metadata.name, namespace: ns, labels: s.metadata.labels, ownerReferences: [{ ...ownerRef(s), controller: true }] }, subsets });
    } else if (JSON.stringify(cur.subsets ?? []) !== JSON.stringify(subsets)) {
      cur.subsets = subsets;
      this.api.store.update(EP, cur);
    }
    // The EndpointSlice kubectl describe reads (one per Service).
    const sliceName = `${s.metadata.name}-${templateHash({ uid: s.metadata.uid }).slice(0, 5)}`;
    const endpoints = pods.map((p) => ({
      addresses: [p.status.podIP],
      conditions: { ready: podReady(p), serving: podReady(p), terminating: false },
      nodeName: p.spec.nodeName,
      targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid },
    }));
    const slice = this.api.store.get(EPS, ns, sliceName);
    if (!slice) {
      this.api.create(EPS, {
        metadata: { name: sliceName, namespace: ns, labels: { ...(s.metadata.labels ?? {}), 'kubernetes.io/service-name': s.metadata.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' }, ownerReferences: [ownerRef(s)] },
        addressType: 'IPv4',
        endpoints,
        ports,
      });
    } else if (JSON.stringify(slice.endpoints ?? []) !== JSON.stringify(endpoints) || JSON.stringify(slice.ports) !== JSON.stringify(ports)) {
      this.api.store.update(EPS, { ...slice, endpoints, ports });
    }
  }

  // ---------- PodDisruptionBudget and HPA: status only (nothing is evicted or scaled) ----------
  private pdb(b: KObj) {
    const pods = this.api.store.list(POD, b.metadata.namespace).filter((p) => active(p) && matchSelectorObject(b.spec?.selector, p.metadata.labels));
    const healthy = pods.filter(podReady).length;
    const desired = b.spec?.minAvailable !== undefined ? intOrPercent(b.spec.minAvailable, pods.length, true) : Math.max(0, pods.length - intOrPercent(b.spec?.maxUnavailable ?? 0, pods.length, true));
    const allowed = Math.max(0, healthy - desired);
    const prev = (b.status?.conditions ?? [])[0];
    this.api.setStatus(PDB, b, {
      observedGeneration: b.metadata.generation,
      disruptionsAllowed: allowed,
      currentHealthy: healthy,
      desiredHealthy: desired,
      expectedPods: pods.length,
      conditions: [allowed > 0
        ? { ...condition('DisruptionAllowed', 'True', 'SufficientPods', '', prev), lastUpdateTime: undefined, observedGeneration: b.metadata.generation }
        : { ...condition('DisruptionAllowed', 'False', 'InsufficientPods', '', prev), lastUpdateTime: undefined, observedGeneration: b.metadata.generation }].map((c) => JSON.parse(JSON.stringify(c))),
    });
  }
  private hpa(h: KObj) {
    const ref = h.spec?.scaleTargetRef;
    const target = ref?.kind === 'Deployment' ? this.api.store.get(D, h.metadata.namespace, ref.name) : undefined;
    const current = target?.status?.replicas ?? 0;
    // No metrics: the replica count is only kept within [minReplicas, maxReplicas], as a real HPA would at least do.
    const desired = target ? Math.min(Math.max(target.spec.replicas ?? 1, h.spec.minReplicas ?? 1), h.spec.maxReplicas ?? 1) : 0;
    if (target && target.spec.replicas !== desired) {
      this.rec.event(h, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: Current number of replicas ${desired > target.spec.replicas ? 'below Spec.MinReplicas' : 'above Spec.MaxReplicas'}`, 'horizontal-pod-autoscaler');
      target.spec.replicas = desired;
      this.api.update(D, target);
    }
    this.api.setStatus(HPA, h, { currentReplicas: current, desiredReplicas: desired, currentMetrics: null });
  }
}
