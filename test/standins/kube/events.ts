// core/v1 Events with the kubelet's and controllers' aggregation (same object+reason+message: count++).
import type { Api } from './api';
import { byKind } from './resources';
import { type KObj, now } from './store';

let counter = 0;

export class Recorder {
  private seen = new Map<string, string>();
  constructor(private api: Api) {}

  event(obj: KObj, type: 'Normal' | 'Warning', reason: string, message: string, component: string, fieldPath?: string): void {
    const ns = obj.metadata.namespace ?? 'default';
    const evR = byKind('Event');
    const key = `${obj.metadata.uid}|${fieldPath ?? ''}|${reason}|${message}`;
    const t = now();
    const existingName = this.seen.get(key);
    const existing = existingName ? this.api.store.get(evR, ns, existingName) : undefined;
    try {
      if (existing) {
        existing.count = (existing.count ?? 1) + 1;
        existing.lastTimestamp = t;
        this.api.store.update(evR, existing);
        return;
      }
      const name = `${obj.metadata.name}.${(Date.now() * 1000 + (counter++ % 1000)).toString(16)}`;
      this.api.create(evR, {
        metadata: { name, namespace: ns },
        involvedObject: {
          kind: obj.kind,
          namespace: obj.metadata.namespace,
          name: obj.metadata.name,
          uid: obj.metadata.uid,
          apiVersion: obj.apiVersion,
          resourceVersion: obj.metadata.resourceVersion,
          ...(fieldPath ? { fieldPath } : {}),
        },
        reason,
        message,
        source: component === 'kubelet' ? { component, host: 'standin-node' } : { component },
        firstTimestamp: t,
        lastTimestamp: t,
        count: 1,
        type,
        eventTime: null,
        reportingComponent: component,
        reportingInstance: component === 'kubelet' ? 'standin-node' : '',
      });
      this.seen.set(key, name);
    } catch {
      // The namespace may be going away; events are best effort, as in Kubernetes.
    }
  }
}
