// Just enough of the Kubernetes protobuf encoding to read what helm sends: the "k8s\0" envelope around a
// runtime.Unknown, and inside it a v1 Secret or a DeleteOptions. Wire format: https://protobuf.dev/programming-guides/encoding/
type Field = { no: number; wire: number; value: bigint | Buffer };

export function readFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) throw new Error('truncated bytes');
      out.push({ no, wire, value: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === 1) {
      out.push({ no, wire, value: buf.readBigUInt64LE(pos) });
      pos += 8;
    } else if (wire === 5) {
      out.push({ no, wire, value: BigInt(buf.readUInt32LE(pos)) });
      pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const str = (f: Field) => (f.value as Buffer).toString('utf8');
const bytes = (f: Field) => f.value as Buffer;

function mapEntry(f: Field): [string, Buffer] {
  let k = '';
  let v: Buffer = Buffer.alloc(0);
  for (const e of readFields(bytes(f))) {
    if (e.no === 1) k = str(e);
    if (e.no === 2) v = bytes(e);
  }
  return [k, v];
}

function time(f: Field): string {
  let seconds = 0n;
  for (const e of readFields(bytes(f))) if (e.no === 1) seconds = e.value as bigint;
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

function ownerReference(f: Field): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const e of readFields(bytes(f))) {
    if (e.no === 1) o.kind = str(e);
    if (e.no === 3) o.name = str(e);
    if (e.no === 4) o.uid = str(e);
    if (e.no === 5) o.apiVersion = str(e);
    if (e.no === 6) o.controller = e.value !== 0n;
    if (e.no === 7) o.blockOwnerDeletion = e.value !== 0n;
  }
  return o;
}

export function decodeObjectMeta(buf: Buffer): Record<string, unknown> {
  const m: Record<string, any> = {};
  for (const f of readFields(buf)) {
    switch (f.no) {
      case 1: m.name = str(f); break;
      case 2: m.generateName = str(f); break;
      case 3: m.namespace = str(f); break;
      case 5: m.uid = str(f); break;
      case 6: m.resourceVersion = str(f); break;
      case 7: m.generation = Number(f.value); break;
      case 8: m.creationTimestamp = time(f); break;
      case 11: { const [k, v] = mapEntry(f); (m.labels ??= {})[k] = v.toString('utf8'); break; }
      case 12: { const [k, v] = mapEntry(f); (m.annotations ??= {})[k] = v.toString('utf8'); break; }
      case 13: (m.ownerReferences ??= []).push(ownerReference(f)); break;
      case 14: (m.finalizers ??= []).push(str(f)); break;
    }
  }
  for (const k of ['name', 'generateName', 'namespace', 'uid', 'resourceVersion']) if (m[k] === '') delete m[k];
  return m;
}

function decodeSecret(buf: Buffer): Record<string, unknown> {
  const s: Record<string, any> = { apiVersion: 'v1', kind: 'Secret', metadata: {} };
  for (const f of readFields(buf)) {
    if (f.no === 1) s.metadata = decodeObjectMeta(bytes(f));
    if (f.no === 2) { const [k, v] = mapEntry(f); (s.data ??= {})[k] = v.toString('base64'); }
    if (f.no === 3) s.type = str(f);
    if (f.no === 4) { const [k, v] = mapEntry(f); (s.stringData ??= {})[k] = v.toString('utf8'); }
    if (f.no === 5) s.immutable = f.value !== 0n;
  }
  return s;
}

function decodeDeleteOptions(buf: Buffer): Record<string, unknown> {
  const d: Record<string, any> = { apiVersion: 'v1', kind: 'DeleteOptions' };
  for (const f of readFields(buf)) {
    if (f.no === 1) d.gracePeriodSeconds = Number(f.value);
    if (f.no === 3) d.orphanDependents = f.value !== 0n;
    if (f.no === 4) d.propagationPolicy = str(f);
    if (f.no === 5) (d.dryRun ??= []).push(str(f));
  }
  return d;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a `application/vnd.kubernetes.protobuf` body into the JSON form of the object. */
export function decodeK8sProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new Error('missing k8s protobuf magic');
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  for (const f of readFields(body.subarray(4))) {
    if (f.no === 1) {
      for (const t of readFields(bytes(f))) {
        if (t.no === 1) apiVersion = str(t);
        if (t.no === 2) kind = str(t);
      }
    }
    if (f.no === 2) raw = bytes(f);
  }
  if (kind === 'Secret') return { ...decodeSecret(raw), apiVersion: apiVersion || 'v1' };
  if (kind === 'DeleteOptions') return decodeDeleteOptions(raw);
  throw new Error(`protobuf decoding of ${apiVersion}/${kind} is not supported by the stand-in`);
}

// ---------- a tiny encoder, for tests ----------
function encVarint(n: number | bigint): Buffer {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}
export function encField(no: number, value: string | Buffer | number): Buffer {
  if (typeof value === 'number') return Buffer.concat([encVarint(no << 3), encVarint(value)]);
  const b = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([encVarint((no << 3) | 2), encVarint(b.length), b]);
}
export function encMapEntry(no: number, k: string, v: string | Buffer): Buffer {
  return encField(no, Buffer.concat([encField(1, k), encField(2, v)]));
}
export function encEnvelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([encField(1, apiVersion), encField(2, kind)]);
  return Buffer.concat([MAGIC, encField(1, typeMeta), encField(2, raw), encField(4, 'application/vnd.kubernetes.protobuf')]);
}
