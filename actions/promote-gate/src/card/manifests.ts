/**
 * The manifest part of the release card: `helm template` output of the running release and of
 * the candidate, compared object by object (kind/namespace/name), as unified diffs made by jsdiff
 * (the `diff` package, which helm-deploy-eks's dry run also uses). A Secret's values never
 * leave this file: they are replaced by a placeholder before any text is made, and only
 * which keys were added, removed or changed is kept (from a hash of each value).
 */
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { isMap, isScalar, parseAllDocuments, type Document } from 'yaml';

export interface ContainerFacts {
  name: string;
  image: string;
  /** The container's `resources`, as stable JSON ('' when none). */
  resources: string;
}

export interface RenderedObject {
  /** `Kind/name`, or `Kind/namespace/name` when the object names a namespace other than the release's. */
  id: string;
  kind: string;
  /** The object as YAML, Secret values replaced. */
  text: string;
  /** Secrets: key -> hash of its value (compared, never shown). */
  secretValues?: Record<string, string>;
  /** Workloads: replicas (undefined when the kind has none) and containers. */
  replicas?: number;
  containers?: ContainerFacts[];
}

export const HIDDEN = '(value hidden)';
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod']);
const SCALED = new Set(['Deployment', 'StatefulSet', 'ReplicaSet']);

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** JSON with object keys sorted, so equal values compare equal whatever their order. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as Obj)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Obj)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

function podSpec(kind: string, o: Obj): Obj {
  const spec = obj(o.spec);
  if (kind === 'Pod') return spec;
  if (kind === 'CronJob') return obj(obj(obj(obj(spec.jobTemplate).spec).template).spec);
  return obj(obj(spec.template).spec);
}

function containersOf(kind: string, o: Obj): ContainerFacts[] {
  const spec = podSpec(kind, o);
  return [...list(spec.initContainers), ...list(spec.containers)].map((c) => {
    const x = obj(c);
    return { name: String(x.name ?? '?'), image: String(x.image ?? ''), resources: x.resources === undefined ? '' : stable(x.resources) };
  });
}

/** Replaces every value under data/stringData/binaryData of a Secret; returns key -> hash of the value. */
function hideSecretValues(doc: Document): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const field of ['data', 'stringData', 'binaryData']) {
    const node = doc.get(field, true);
    if (!isMap(node)) continue;
    for (const item of node.items) {
      const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
      const value = isScalar(item.value) ? String(item.value.value) : JSON.stringify(item.value ?? null);
      hashes[key] = createHash('sha256').update(`${field}\0${value}`).digest('hex');
      item.value = doc.createNode(HIDDEN);
    }
  }
  return hashes;
}

/** The objects of `helm template` output; documents that are empty or not objects are skipped. */
export function parseRendered(text: string, releaseNamespace: string): RenderedObject[] {
  const out: RenderedObject[] = [];
  const docs = parseAllDocuments(text, { uniqueKeys: false });
  const all = Array.isArray(docs) ? docs : [docs];
  for (const doc of all) {
    if (doc.errors.length) throw new Error(`rendered manifests are not YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
    const js = obj(doc.toJS({ maxAliasCount: 1000 }));
    const kind = typeof js.kind === 'string' ? js.kind : '';
    const meta = obj(js.metadata);
    const name = typeof meta.name === 'string' ? meta.name : '';
    if (!kind || !name) continue;
    const ns = typeof meta.namespace === 'string' && meta.namespace !== releaseNamespace ? `${meta.namespace}/` : '';
    const secretValues = kind === 'Secret' ? hideSecretValues(doc) : undefined;
    // `# Source: <template>`: which file rendered the object is not a change of it.
    doc.commentBefore = null;
    if (doc.contents && 'commentBefore' in doc.contents) doc.contents.commentBefore = null;
    const text = doc.toString({ lineWidth: 0 }).replace(/^# Source: .*\n/gm, '');
    const object: RenderedObject = { id: `${kind}/${ns}${name}`, kind, text };
    if (secretValues) object.secretValues = secretValues;
    if (WORKLOADS.has(kind)) {
      object.containers = containersOf(kind, js);
      // No replicas field (an HorizontalPodAutoscaler owns it, or the default of 1): left undefined.
      if (SCALED.has(kind) && typeof obj(js.spec).replicas === 'number') object.replicas = obj(js.spec).replicas as number;
    }
    out.push(object);
  }
  return out;
}

export interface Change<T> {
  id: string;
  container?: string;
  from: T | undefined;
  to: T | undefined;
}

export interface ManifestChanges {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: number;
  replicas: Array<Change<number>>;
  images: Array<Change<string>>;
  resources: Array<Change<string>>;
  /** Per Secret that changed: its keys added, removed, and whose value changed. */
  secrets: Array<{ id: string; added: string[]; removed: string[]; changed: string[] }>;
  /** Unified diff of each object added, removed or changed, in id order. */
  patches: Array<{ id: string; patch: string }>;
}

function byId(objects: readonly RenderedObject[]): Map<string, RenderedObject> {
  const m = new Map<string, RenderedObject>();
  for (const o of objects) m.set(o.id, o);
  return m;
}

function patchOf(id: string, before: string, after: string): string {
  const p = createTwoFilesPatch(before ? `a/${id}` : '/dev/null', after ? `b/${id}` : '/dev/null', before, after, undefined, undefined, { context: 3 });
  // Start at the --- line as `diff -u` does (jsdiff begins with an Index/==== preamble).
  return p.slice(p.indexOf('\n---') + 1).replace(/^(---|\+\+\+) (\S+)\t$/gm, '$1 $2').replace(/\s+$/, '');
}

function secretChange(id: string, a: Record<string, string> = {}, b: Record<string, string> = {}) {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return {
    id,
    added: keys.filter((k) => !(k in a)),
    removed: keys.filter((k) => !(k in b)),
    changed: keys.filter((k) => k in a && k in b && a[k] !== b[k]),
  };
}

/** What changes from `running` to `candidate` (either may be empty: a first deploy, a removal). */
export function compareManifests(running: readonly RenderedObject[], candidate: readonly RenderedObject[]): ManifestChanges {
  const a = byId(running);
  const b = byId(candidate);
  const ids = [...new Set([...a.keys(), ...b.keys()])].sort((p, q) => p.localeCompare(q, 'en', { numeric: true }));
  const out: ManifestChanges = { added: [], removed: [], changed: [], unchanged: 0, replicas: [], images: [], resources: [], secrets: [], patches: [] };
  for (const id of ids) {
    const x = a.get(id);
    const y = b.get(id);
    const sameSecret = stable(x?.secretValues ?? null) === stable(y?.secretValues ?? null);
    if (x && y && x.text === y.text && sameSecret) {
      out.unchanged++;
      continue;
    }
    (x && y ? out.changed : x ? out.removed : out.added).push(id);
    if (x?.secretValues || y?.secretValues) {
      const s = secretChange(id, x?.secretValues, y?.secretValues);
      if (s.added.length || s.removed.length || s.changed.length) out.secrets.push(s);
    }
    if (x?.replicas !== y?.replicas && (x?.replicas !== undefined || y?.replicas !== undefined)) out.replicas.push({ id, from: x?.replicas, to: y?.replicas });
    const names = [...new Set([...(x?.containers ?? []), ...(y?.containers ?? [])].map((c) => c.name))];
    for (const name of names) {
      const cx = x?.containers?.find((c) => c.name === name);
      const cy = y?.containers?.find((c) => c.name === name);
      if (cx?.image !== cy?.image) out.images.push({ id, container: name, from: cx?.image, to: cy?.image });
      if (cx && cy && cx.resources !== cy.resources) out.resources.push({ id, container: name, from: cx.resources, to: cy.resources });
    }
    const patch = x?.text === y?.text ? '' : patchOf(id, x?.text ?? '', y?.text ?? '');
    if (patch) out.patches.push({ id, patch });
  }
  return out;
}

export interface DiffText {
  text: string;
  /** Objects whose patch was cut or left out, and the diff lines not shown. */
  omittedObjects: string[];
  omittedLines: number;
}

/**
 * The patches joined, cut to at most `budget` bytes (UTF-8) at a line boundary: what does not fit
 * is counted, never silently dropped.
 */
export function limitDiff(patches: ManifestChanges['patches'], budget: number): DiffText {
  let used = 0;
  const lines: string[] = [];
  const omittedObjects: string[] = [];
  let omittedLines = 0;
  let full = false;
  for (const { id, patch } of patches) {
    const patchLines = patch.split('\n');
    let shown = 0;
    for (const line of patchLines) {
      const size = Buffer.byteLength(line, 'utf8') + 1;
      if (full || used + size > budget) {
        full = true;
        break;
      }
      used += size;
      lines.push(line);
      shown++;
    }
    if (shown < patchLines.length) {
      omittedObjects.push(id);
      omittedLines += patchLines.length - shown;
    }
  }
  return { text: lines.join('\n'), omittedObjects, omittedLines };
}
