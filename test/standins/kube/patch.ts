// JSON patch (RFC 6902), JSON merge patch (RFC 7386), strategic merge patch and a server-side-apply approximation.
type J = any;

const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));
const isObj = (v: J): v is Record<string, J> => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---------- JSON patch ----------
function pointer(path: string): string[] {
  if (path === '') return [];
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
export function jsonPatch(doc: J, ops: { op: string; path: string; value?: J; from?: string }[]): J {
  let root = clone(doc);
  const get = (p: string[]) => p.reduce((c, k) => (c === undefined ? undefined : Array.isArray(c) ? c[Number(k)] : c[k]), root);
  const remove = (p: string[]) => {
    const parent = get(p.slice(0, -1));
    const k = p[p.length - 1]!;
    if (parent === undefined || parent === null) throw new Error(`path not found: /${p.join('/')}`);
    const old = Array.isArray(parent) ? parent[Number(k)] : parent[k];
    if (old === undefined) throw new Error(`path not found: /${p.join('/')}`);
    if (Array.isArray(parent)) parent.splice(Number(k), 1);
    else delete parent[k];
    return old;
  };
  const add = (p: string[], value: J, replace: boolean) => {
    if (p.length === 0) {
      root = value;
      return;
    }
    const parent = get(p.slice(0, -1));
    const k = p[p.length - 1]!;
    if (parent === undefined || parent === null) throw new Error(`path not found: /${p.join('/')}`);
    if (Array.isArray(parent)) {
      const i = k === '-' ? parent.length : Number(k);
      if (replace) parent[i] = value;
      else parent.splice(i, 0, value);
    } else {
      if (replace && !(k in parent)) throw new Error(`path not found: /${p.join('/')}`);
      parent[k] = value;
    }
  };
  for (const o of ops) {
    const p = pointer(o.path);
    switch (o.op) {
      case 'add': add(p, clone(o.value), false); break;
      case 'replace': add(p, clone(o.value), true); break;
      case 'remove': remove(p); break;
      case 'move': add(p, remove(pointer(o.from!)), false); break;
      case 'copy': add(p, clone(get(pointer(o.from!))), false); break;
      case 'test':
        if (JSON.stringify(get(p)) !== JSON.stringify(o.value)) throw new Error(`test failed at ${o.path}`);
        break;
      default: throw new Error(`unknown op ${o.op}`);
    }
  }
  return root;
}

// ---------- JSON merge patch ----------
export function mergePatch(target: J, patch: J): J {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, J> = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// ---------- strategic merge patch ----------
/** Merge key of a list field, from the Kubernetes type definitions (`patchMergeKey`), keyed by field name and parent field. */
export function mergeKeyFor(field: string, parentPath: string[]): string | undefined {
  switch (field) {
    case 'containers': case 'initContainers': case 'ephemeralContainers': case 'env': case 'volumes':
    case 'imagePullSecrets': case 'resourceClaims': case 'schedulingGates':
      return 'name';
    case 'ports':
      // Container ports merge on containerPort; Service ports on port.
      return parentPath.some((p) => p === 'containers' || p === 'initContainers') ? 'containerPort' : 'port';
    case 'volumeMounts': return 'mountPath';
    case 'volumeDevices': return 'devicePath';
    case 'hostAliases': return 'ip';
    case 'topologySpreadConstraints': return 'topologyKey';
    case 'conditions': return 'type';
    case 'ownerReferences': return 'uid';
    default: return undefined;
  }
}
/** Primitive lists with patchStrategy merge. */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

function keyOf(el: J, key: string): string {
  return isObj(el) ? JSON.stringify(el[key]) : JSON.stringify(el);
}

export function strategicMergePatch(original: J, patch: J, path: string[] = []): J {
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return clone(stripDirectives(rest));
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, J> = isObj(original) ? clone(original) : {};
  const orders: Record<string, J[]> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch') continue;
    if (k === '$retainKeys') continue;
    if (k.startsWith('$setElementOrder/')) {
      orders[k.slice('$setElementOrder/'.length)] = v as J[];
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const f = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[f])) out[f] = out[f].filter((x: J) => !(v as J[]).some((d) => JSON.stringify(d) === JSON.stringify(x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = mergeList(out[k], v, k, path);
      continue;
    }
    if (isObj(v)) {
      const r = strategicMergePatch(out[k], v, [...path, k]);
      if (r === undefined) delete out[k];
      else out[k] = r;
      continue;
    }
    out[k] = v;
  }
  if (Array.isArray(patch.$retainKeys)) {
    for (const k of Object.keys(out)) if (!patch.$retainKeys.includes(k)) delete out[k];
  }
  for (const [f, order] of Object.entries(orders)) {
    if (!Array.isArray(out[f])) continue;
    const mk = mergeKeyFor(f, path);
    const idx = (el: J) => order.findIndex((o) => (mk ? keyOf(o, mk) === keyOf(el, mk) : JSON.stringify(o) === JSON.stringify(el)));
    const inOrder = out[f].filter((el: J) => idx(el) >= 0).sort((a: J, b: J) => idx(a) - idx(b));
    const rest = out[f].filter((el: J) => idx(el) < 0);
    out[f] = [...inOrder, ...rest];
  }
  return out;
}

function stripDirectives(v: J): J {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Record<string, J> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

function mergeList(orig: J, patch: J[], field: string, path: string[]): J[] {
  const mk = mergeKeyFor(field, path);
  if (patch.some((e) => isObj(e) && e.$patch === 'replace')) {
    return clone(patch.filter((e) => !(isObj(e) && e.$patch === 'replace'))).map(stripDirectives);
  }
  if (!mk) {
    if (MERGED_PRIMITIVE_LISTS.has(field)) {
      const base: J[] = Array.isArray(orig) ? clone(orig) : [];
      for (const e of patch) if (!base.some((b) => JSON.stringify(b) === JSON.stringify(e))) base.push(e);
      return base;
    }
    return clone(patch).map(stripDirectives);
  }
  const out: J[] = Array.isArray(orig) ? clone(orig) : [];
  for (const el of patch) {
    if (!isObj(el)) continue;
    const i = out.findIndex((o) => keyOf(o, mk) === keyOf(el, mk));
    if (el.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = strategicMergePatch(out[i], el, [...path, field]);
    else out.push(stripDirectives(clone(el)));
  }
  return out;
}

// ---------- server-side apply (approximation) ----------
/**
 * Applies `applied` (the full intent of one field manager) to `live`, given what that manager applied last
 * time (`lastApplied`): fields the manager set before and no longer sets are removed, lists with a merge key
 * are merged per element, other lists and scalars are replaced. Fields set by others are kept.
 */
export function applyThreeWay(live: J, lastApplied: J, applied: J, path: string[] = []): J {
  if (!isObj(applied)) return clone(applied);
  const out: Record<string, J> = isObj(live) ? clone(live) : {};
  const last = isObj(lastApplied) ? lastApplied : {};
  for (const k of Object.keys(last)) if (!(k in applied)) delete out[k];
  for (const [k, v] of Object.entries(applied)) {
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      const mk = mergeKeyFor(k, path);
      if (mk && Array.isArray(out[k])) {
        const lastList: J[] = Array.isArray(last[k]) ? last[k] : [];
        const liveList: J[] = out[k];
        const result: J[] = [];
        for (const el of v) {
          const l = liveList.find((o) => keyOf(o, mk) === keyOf(el, mk));
          const la = lastList.find((o) => keyOf(o, mk) === keyOf(el, mk));
          result.push(applyThreeWay(l, la, el, [...path, k]));
        }
        for (const l of liveList) {
          const inApplied = v.some((o) => keyOf(o, mk) === keyOf(l, mk));
          const inLast = lastList.some((o) => keyOf(o, mk) === keyOf(l, mk));
          if (!inApplied && !inLast) result.push(l);
        }
        out[k] = result;
      } else out[k] = clone(v);
      continue;
    }
    if (isObj(v)) {
      out[k] = applyThreeWay(out[k], last[k], v, [...path, k]);
      continue;
    }
    out[k] = v;
  }
  return out;
}
