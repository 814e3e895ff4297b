// In-memory object store with one global resourceVersion, an event history for watch replay, and watchers.
import { randomUUID } from 'node:crypto';
import { type ResourceDef, resourceKey } from './resources';

export type KObj = Record<string, any>;
export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface StoreEvent { rv: number; type: WatchType; key: string; obj: KObj; /** state before a MODIFIED */ prev?: KObj }
export type Listener = (ev: StoreEvent) => void;

export class ApiError extends Error {
  constructor(public code: number, public reason: string, message: string, public details?: Record<string, unknown>) {
    super(message);
  }
}

const HISTORY_LIMIT = 20000;
export const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

export class Store {
  rv = 1;
  private objects = new Map<string, Map<string, KObj>>();
  history: StoreEvent[] = [];
  private listeners = new Set<Listener>();

  private bucket(r: ResourceDef): Map<string, KObj> {
    const k = resourceKey(r);
    let b = this.objects.get(k);
    if (!b) this.objects.set(k, (b = new Map()));
    return b;
  }
  private id(ns: string | undefined, name: string) {
    return `${ns ?? ''}/${name}`;
  }
  /** The oldest resourceVersion a watch can start after (an event before it was compacted away). */
  oldestRv(): number {
    return this.history[0]?.rv ?? this.rv + 1;
  }
  /**
   * Drops the event history up to now, as etcd's compaction does: watches and continue tokens
   * from an earlier resourceVersion then get 410 Gone (reason Expired) and must list again.
   */
  compact(): void {
    this.history.length = 0;
  }

  get(r: ResourceDef, ns: string | undefined, name: string): KObj | undefined {
    const o = this.bucket(r).get(this.id(r.namespaced ? ns : undefined, name));
    return o && clone(o);
  }
  mustGet(r: ResourceDef, ns: string | undefined, name: string): KObj {
    const o = this.get(r, ns, name);
    if (!o) throw new ApiError(404, 'NotFound', `${r.plural}${r.group ? '.' + r.group : ''} "${name}" not found`, { name, group: r.group, kind: r.plural });
    return o;
  }
  list(r: ResourceDef, ns?: string): KObj[] {
    const out: KObj[] = [];
    for (const o of this.bucket(r).values()) if (!ns || !r.namespaced || o.metadata.namespace === ns) out.push(clone(o));
    return out.sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
  }

  private emit(type: WatchType, r: ResourceDef, obj: KObj, prev?: KObj) {
    const ev: StoreEvent = { rv: this.rv, type, key: resourceKey(r), obj: clone(obj), prev };
    this.history.push(ev);
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
    for (const l of this.listeners) l(ev);
  }
  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  create(r: ResourceDef, obj: KObj): KObj {
    const md = (obj.metadata ??= {});
    if (!md.name && md.generateName) md.name = md.generateName + randomSuffix();
    if (!md.name) throw new ApiError(422, 'Invalid', `${r.kind} is invalid: metadata.name: Required value: name or generateName is required`);
    if (r.namespaced && !md.namespace) md.namespace = 'default';
    if (!r.namespaced) delete md.namespace;
    const b = this.bucket(r);
    const id = this.id(md.namespace, md.name);
    if (b.has(id)) throw new ApiError(409, 'AlreadyExists', `${r.plural}${r.group ? '.' + r.group : ''} "${md.name}" already exists`, { name: md.name, group: r.group, kind: r.plural });
    obj.apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
    obj.kind = r.kind;
    md.uid ??= randomUUID();
    md.creationTimestamp = now();
    md.generation = 1;
    md.resourceVersion = String(++this.rv);
    delete md.deletionTimestamp;
    b.set(id, clone(obj));
    this.emit('ADDED', r, obj);
    return clone(obj);
  }

  /** Replaces an object. `expectRv` (from the client) must match the stored one when given. */
  update(r: ResourceDef, obj: KObj, opts: { expectRv?: string } = {}): KObj {
    const md = obj.metadata;
    const b = this.bucket(r);
    const id = this.id(r.namespaced ? md.namespace : undefined, md.name);
    const cur = b.get(id);
    if (!cur) throw new ApiError(404, 'NotFound', `${r.plural}${r.group ? '.' + r.group : ''} "${md.name}" not found`, { name: md.name, group: r.group, kind: r.plural });
    if (opts.expectRv && opts.expectRv !== cur.metadata.resourceVersion) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${r.plural}${r.group ? '.' + r.group : ''} "${md.name}": the object has been modified; please apply your changes to the latest version and try again`, { name: md.name, group: r.group, kind: r.plural });
    }
    // Identity and server-owned fields stay.
    obj.apiVersion = cur.apiVersion;
    obj.kind = cur.kind;
    md.uid = cur.metadata.uid;
    md.creationTimestamp = cur.metadata.creationTimestamp;
    md.namespace = cur.metadata.namespace;
    if (!r.namespaced) delete md.namespace;
    md.generation = cur.metadata.generation;
    md.resourceVersion = cur.metadata.resourceVersion;
    if (cur.metadata.deletionTimestamp) md.deletionTimestamp = cur.metadata.deletionTimestamp;
    if (JSON.stringify(specOf(obj)) !== JSON.stringify(specOf(cur))) md.generation = (cur.metadata.generation ?? 1) + 1;
    if (JSON.stringify(obj) === JSON.stringify(cur)) return clone(cur); // no-op: no new version, no event
    md.resourceVersion = String(++this.rv);
    b.set(id, clone(obj));
    this.emit('MODIFIED', r, obj, cur);
    return clone(obj);
  }

  delete(r: ResourceDef, ns: string | undefined, name: string): KObj {
    const b = this.bucket(r);
    const id = this.id(r.namespaced ? ns : undefined, name);
    const cur = b.get(id);
    if (!cur) throw new ApiError(404, 'NotFound', `${r.plural}${r.group ? '.' + r.group : ''} "${name}" not found`, { name, group: r.group, kind: r.plural });
    b.delete(id);
    cur.metadata.resourceVersion = String(++this.rv);
    cur.metadata.deletionTimestamp ??= now();
    this.emit('DELETED', r, cur);
    return clone(cur);
  }
}

/** What counts as "spec" for generation: everything except metadata and status. */
function specOf(o: KObj): KObj {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[Math.floor(Math.random() * ALNUM.length)];
  return s;
}
