// Server-side defaulting that clients rely on (Service clusterIP, Deployment and Job defaults, Pod defaults).
import { randomUUID } from 'node:crypto';
import type { ResourceDef } from './resources';
import { ApiError, type KObj } from './store';

export class Admission {
  private nextIp = 10;
  private usedIps = new Set<string>();

  /** Called on create (before the object is stored) and on every update of the main resource. */
  default(r: ResourceDef, obj: KObj, cur: KObj | undefined): void {
    const md = (obj.metadata ??= {});
    if (!cur) md.uid = randomUUID();
    switch (r.kind) {
      case 'Namespace':
        md.labels = { ...(md.labels ?? {}), 'kubernetes.io/metadata.name': md.name };
        obj.spec = { finalizers: ['kubernetes'], ...(obj.spec ?? {}) };
        obj.status = cur?.status ?? { phase: 'Active' };
        break;
      case 'Secret':
        if (obj.stringData) {
          obj.data = { ...(obj.data ?? {}) };
          for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString('base64');
          delete obj.stringData;
        }
        obj.type ??= 'Opaque';
        break;
      case 'Service': {
        const s = (obj.spec ??= {});
        s.type ??= 'ClusterIP';
        s.sessionAffinity ??= 'None';
        s.internalTrafficPolicy ??= 'Cluster';
        if (s.type !== 'ExternalName' && s.clusterIP !== 'None') {
          if (!s.clusterIP) s.clusterIP = cur?.spec?.clusterIP ?? this.allocateIp();
          s.clusterIPs = [s.clusterIP];
          s.ipFamilies ??= ['IPv4'];
          s.ipFamilyPolicy ??= 'SingleStack';
        }
        for (const p of s.ports ?? []) {
          p.protocol ??= 'TCP';
          p.targetPort ??= p.port;
        }
        obj.status ??= cur?.status ?? { loadBalancer: {} };
        break;
      }
      case 'Deployment': {
        const s = (obj.spec ??= {});
        s.replicas ??= 1;
        s.revisionHistoryLimit ??= 10;
        s.progressDeadlineSeconds ??= 600;
        s.strategy ??= { type: 'RollingUpdate' };
        if (s.strategy.type === 'RollingUpdate') s.strategy.rollingUpdate = { maxSurge: '25%', maxUnavailable: '25%', ...(s.strategy.rollingUpdate ?? {}) };
        if (!s.selector) throw new ApiError(422, 'Invalid', `Deployment.apps "${md.name}" is invalid: spec.selector: Required value`);
        break;
      }
      case 'ReplicaSet':
        obj.spec.replicas ??= 1;
        break;
      case 'Job': {
        const s = (obj.spec ??= {});
        s.backoffLimit ??= 6;
        s.completions ??= 1;
        s.parallelism ??= 1;
        s.completionMode ??= 'NonIndexed';
        s.suspend ??= false;
        const uid = cur?.metadata?.uid ?? md.uid;
        if (!s.manualSelector) {
          s.selector ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
          const t = (s.template ??= {});
          t.metadata ??= {};
          t.metadata.labels = {
            ...(t.metadata.labels ?? {}),
            'batch.kubernetes.io/controller-uid': uid,
            'batch.kubernetes.io/job-name': md.name,
            'controller-uid': uid,
            'job-name': md.name,
          };
        }
        break;
      }
      case 'Pod': {
        const s = (obj.spec ??= {});
        s.restartPolicy ??= 'Always';
        s.terminationGracePeriodSeconds ??= 30;
        s.dnsPolicy ??= 'ClusterFirst';
        s.schedulerName ??= 'default-scheduler';
        s.serviceAccountName ??= 'default';
        s.enableServiceLinks ??= true;
        for (const c of s.containers ?? []) {
          c.imagePullPolicy ??= /:latest$/.test(c.image ?? '') || !/[:@]/.test((c.image ?? '').split('/').pop() ?? '') ? 'Always' : 'IfNotPresent';
          c.terminationMessagePath ??= '/dev/termination-log';
          c.terminationMessagePolicy ??= 'File';
        }
        obj.status ??= cur?.status ?? { phase: 'Pending', qosClass: 'BestEffort' };
        break;
      }
    }
  }

  private allocateIp(): string {
    for (;;) {
      const n = this.nextIp++;
      const ip = `10.96.${Math.floor(n / 250)}.${(n % 250) + 1}`;
      if (!this.usedIps.has(ip)) {
        this.usedIps.add(ip);
        return ip;
      }
    }
  }
}
