// The write paths shared by the HTTP server and the controllers: admission defaults, subresources, patches, apply, deletion.
import YAML from 'yaml';
import { Admission } from './admission';
import { applyThreeWay, jsonPatch, mergePatch, strategicMergePatch } from './patch';
import { RESOURCES, type ResourceDef, byKind } from './resources';
import { ApiError, type KObj, Store, now } from './store';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

export interface WriteOpts { dryRun?: boolean; subresource?: string }

export class Api {
  readonly admission = new Admission();
  /** What each field manager applied last, per object uid: the basis for removing fields it stops setting. */
  private lastApplied = new Map<string, KObj>();

  constructor(readonly store: Store) {}

  private checkNamespace(r: ResourceDef, ns: string | undefined) {
    if (!r.namespaced) return;
    const n = this.store.get(byKind('Namespace'), undefined, ns ?? 'default');
    if (!n) throw new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    if (n.status?.phase === 'Terminating') throw new ApiError(403, 'Forbidden', `unable to create new content in namespace ${ns} because it is being terminated`);
  }

  create(r: ResourceDef, obj: KObj, opts: WriteOpts = {}): KObj {
    obj = clone(obj);
    const md = (obj.metadata ??= {});
    delete md.uid;
    delete md.resourceVersion;
    delete md.creationTimestamp;
    delete md.deletionTimestamp;
    delete md.managedFields;
    if (r.namespaced) md.namespace ??= 'default';
    this.checkNamespace(r, md.namespace);
    if (r.hasStatus) delete obj.status;
    this.admission.default(r, obj, undefined);
    if (opts.dryRun) {
      const existing = md.name ? this.store.get(r, md.namespace, md.name) : undefined;
      if (existing) throw new ApiError(409, 'AlreadyExists', `${r.plural} "${md.name}" already exists`, { name: md.name, kind: r.plural });
      return { ...obj, apiVersion: r.group ? `${r.group}/${r.version}` : r.version, kind: r.kind, metadata: { ...md, creationTimestamp: now(), generation: 1 } };
    }
    return this.store.create(r, obj);
  }

  /** PUT semantics. For the main resource the stored status is kept; for /status only the status changes. */
  update(r: ResourceDef, obj: KObj, opts: WriteOpts = {}): KObj {
    obj = clone(obj);
    const md = obj.metadata ?? {};
    const cur = this.store.mustGet(r, md.namespace, md.name);
    let next: KObj;
    if (opts.subresource === 'status') {
      next = { ...cur, status: obj.status };
    } else {
      next = obj;
      if (r.hasStatus) next.status = cur.status;
      this.admission.default(r, next, cur);
    }
    if (opts.dryRun) return next;
    return this.store.update(r, next, { expectRv: md.resourceVersion });
  }

  patch(r: ResourceDef, ns: string | undefined, name: string, contentType: string, body: Buffer, q: URLSearchParams, opts: WriteOpts = {}): { obj: KObj; created: boolean } {
    const ct = contentType.split(';')[0]!.trim();
    const text = body.toString('utf8');
    const cur = this.store.get(r, ns, name);
    if (ct === 'application/apply-patch+yaml' || ct === 'application/apply-patch+json') {
      const applied = (YAML.parse(text) ?? {}) as KObj;
      if (applied.kind && applied.kind !== r.kind) throw new ApiError(400, 'BadRequest', `apply kind ${applied.kind} does not match ${r.kind}`);
      if (applied.metadata?.name && applied.metadata.name !== name) throw new ApiError(400, 'BadRequest', 'the name of the object does not match the name on the URL');
      const manager = q.get('fieldManager') ?? '';
      if (!manager) throw new ApiError(400, 'BadRequest', 'PATCH request must specify fieldManager for apply');
      const sub = opts.subresource ?? '';
      if (!cur) {
        if (sub) throw new ApiError(404, 'NotFound', `${r.plural} "${name}" not found`, { name, kind: r.plural });
        const obj = clone(applied);
        obj.metadata = { ...(obj.metadata ?? {}), name };
        if (r.namespaced) obj.metadata.namespace = ns;
        const created = this.create(r, obj, opts);
        if (!opts.dryRun) this.lastApplied.set(`${created.metadata.uid}/${manager}/${sub}`, stripIdentity(applied));
        return { obj: created, created: true };
      }
      const key = `${cur.metadata.uid}/${manager}/${sub}`;
      const last = this.lastApplied.get(key);
      const merged = applyThreeWay(cur, last ?? {}, stripIdentity(applied));
      merged.metadata.resourceVersion = undefined;
      const out = this.update(r, keepIdentity(merged, cur), opts);
      if (!opts.dryRun) this.lastApplied.set(key, stripIdentity(applied));
      return { obj: out, created: false };
    }
    if (!cur) throw new ApiError(404, 'NotFound', `${r.plural}${r.group ? '.' + r.group : ''} "${name}" not found`, { name, group: r.group, kind: r.plural });
    let patched: KObj;
    const p = JSON.parse(text || '{}');
    if (ct === 'application/json-patch+json') patched = jsonPatch(cur, p);
    else if (ct === 'application/merge-patch+json') patched = mergePatch(cur, p);
    else if (ct === 'application/strategic-merge-patch+json') patched = strategicMergePatch(cur, p);
    else throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
    const expectRv = p?.metadata?.resourceVersion;
    const next = keepIdentity(patched, cur);
    next.metadata.resourceVersion = expectRv ?? undefined;
    return { obj: this.update(r, next, opts), created: false };
  }

  /** Set by the kubelet: pods it runs are deleted gracefully (Terminating until their containers stopped). */
  gracefulPods?: (pod: KObj) => boolean;

  delete(r: ResourceDef, ns: string | undefined, name: string, opts: { dryRun?: boolean; propagationPolicy?: string; gracePeriodSeconds?: number } = {}): KObj {
    const cur = this.store.mustGet(r, ns, name);
    if (opts.dryRun) return cur;
    if (r.kind === 'Pod' && opts.gracePeriodSeconds !== 0 && this.gracefulPods?.(cur)) {
      if (cur.metadata.deletionTimestamp) return cur;
      cur.metadata.deletionTimestamp = now();
      cur.metadata.deletionGracePeriodSeconds = opts.gracePeriodSeconds ?? cur.spec.terminationGracePeriodSeconds ?? 30;
      return this.store.update(r, cur);
    }
    if (opts.propagationPolicy === 'Orphan') {
      for (const dr of RESOURCES) {
        for (const o of this.store.list(dr, r.namespaced ? ns : undefined)) {
          const refs = (o.metadata.ownerReferences ?? []) as KObj[];
          if (refs.some((x) => x.uid === cur.metadata.uid)) {
            o.metadata.ownerReferences = refs.filter((x) => x.uid !== cur.metadata.uid);
            this.store.update(dr, o);
          }
        }
      }
    }
    if (r.kind === 'Namespace') {
      for (const dr of RESOURCES) if (dr.namespaced) for (const o of this.store.list(dr, name)) this.store.delete(dr, name, o.metadata.name);
    }
    for (const k of [...this.lastApplied.keys()]) if (k.startsWith(cur.metadata.uid + '/')) this.lastApplied.delete(k);
    return this.store.delete(r, ns, name);
  }

  /** Controller helper: write status only if it changed. */
  setStatus(r: ResourceDef, obj: KObj, status: KObj): KObj {
    if (JSON.stringify(obj.status) === JSON.stringify(status)) return obj;
    const cur = this.store.get(r, obj.metadata.namespace, obj.metadata.name);
    if (!cur) return obj;
    return this.store.update(r, { ...cur, status });
  }
}

function stripIdentity(o: KObj): KObj {
  const c = clone(o);
  delete c.apiVersion;
  delete c.kind;
  if (c.metadata) {
    delete c.metadata.name;
    delete c.metadata.namespace;
    delete c.metadata.resourceVersion;
    delete c.metadata.uid;
    delete c.metadata.managedFields;
    delete c.metadata.creationTimestamp;
  }
  return c;
}
function keepIdentity(next: KObj, cur: KObj): KObj {
  next.apiVersion = cur.apiVersion;
  next.kind = cur.kind;
  next.metadata = { ...(next.metadata ?? {}), name: cur.metadata.name, namespace: cur.metadata.namespace, uid: cur.metadata.uid };
  return next;
}
