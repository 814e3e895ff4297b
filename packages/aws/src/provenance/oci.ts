/**
 * Provenance stored beside the image in ECR, as an OCI artifact that refers to it (OCI image spec
 * 1.1): an image manifest with `artifactType` application/vnd.in-toto+json, the empty config, one
 * layer holding the DSSE envelope (also inline as the descriptor's `data`, so a reader needs no
 * blob download) and `subject` naming the image's manifest. Found through the referrers API
 * (GET /v2/<name>/referrers/<digest>); where the registry has none (the push answers without an
 * `OCI-Subject` header, the referrers GET answers 404), through the referrers tag schema: the tag
 * `sha256-<hex>` names an image index listing the artifacts. ECR tags are immutable, so that tag
 * is written once; a re-run that finds it listing the same artifact leaves it as it is.
 *
 * Spoken over the registry HTTP API (distribution spec) with the token ECR's
 * GetAuthorizationToken gives; a handful of requests, each under DEADLINES.awsMs. No npm client
 * covers push of a referrer and the tag schema without a docker daemon, hence this small one.
 * Requests go over node:http(s) (httpRegistryFetch), not fetch: build-push-ecr's skip path with
 * a provenance key reads the statement, and fetch's first use (undici) cost more CPU than the
 * rest of that path (issue 25).
 */
import { createHash } from 'node:crypto';
import { DEADLINES, UserError, networkFailure } from '@deploy-actions/action-kit';
import { awsCall, type AwsCallOptions } from '../errors';
import { httpExchange } from '../json-client';
import { asEcrApi, type EcrLike } from '../ecr';
import { IN_TOTO_PAYLOAD_TYPE } from './dsse';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
const ACCEPT = [
  OCI_MANIFEST,
  OCI_INDEX,
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');
/** At most this many referrers are read for one image (the answer stays bounded). */
export const MAX_REFERRERS = 16;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  data?: string;
}

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
export const fallbackTag = (digest: string) => digest.replace(':', '-');

/** What the registry client reads of an answer: a subset of fetch's Response. */
export interface RegistryAnswer {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** How the registry client sends a request: a subset of fetch (a real fetch, or a fake answering Responses, fits). */
export type RegistryFetch = (url: string, init: { method: string; headers: Record<string, string>; body?: Buffer | string }) => Promise<RegistryAnswer>;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * RegistryFetch over node:http(s), each request under `deadlineMs`. Redirects of GET and HEAD
 * are followed as fetch follows them (at most 5; Authorization dropped when the origin changes,
 * as for a registry's blob redirect to storage); other methods get the redirect as it came.
 */
export function httpRegistryFetch(deadlineMs: number = DEADLINES.awsMs): RegistryFetch {
  return async (url, init) => {
    let target = new URL(url);
    let headers = init.headers;
    for (let hop = 0; ; hop++) {
      const res = await httpExchange(target, init.method, headers, init.body, deadlineMs);
      const location = res.header('location');
      if (REDIRECTS.has(res.status) && location && /^(GET|HEAD)$/.test(init.method) && hop < 5) {
        const next = new URL(location, target);
        if (next.origin !== target.origin) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
        target = next;
        continue;
      }
      const { body } = res;
      return {
        status: res.status,
        headers: { get: (name) => res.header(name) ?? null },
        text: async () => body.toString('utf8'),
        arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
      };
    }
  };
}

/** A registry reached with ECR's basic-auth token. */
export class OciRegistry {
  constructor(
    readonly url: string,
    private readonly authorization: string,
    private readonly fetchImpl: RegistryFetch = httpRegistryFetch(),
  ) {}

  async request(method: string, path: string, init: { body?: Buffer | string; contentType?: string; accept?: string } = {}): Promise<RegistryAnswer> {
    const url = /^https?:\/\//.test(path) ? path : `${this.url}${path}`;
    const headers: Record<string, string> = { Authorization: this.authorization, Accept: init.accept ?? ACCEPT };
    if (init.contentType) headers['Content-Type'] = init.contentType;
    const started = Date.now();
    try {
      return await this.fetchImpl(url, { method, headers, ...(init.body !== undefined ? { body: init.body } : {}) });
    } catch (err) {
      const operation = `${method} ${new URL(url).pathname}`;
      throw networkFailure(err, { endpoint: `the registry (${this.url})`, operation, waitedMs: Date.now() - started, attempts: 1, deadlineMs: DEADLINES.awsMs }) ?? err;
    }
  }

  async expect(res: RegistryAnswer, what: string, ok: number[]): Promise<RegistryAnswer> {
    if (ok.includes(res.status)) return res;
    const text = (await res.text().catch(() => '')).slice(0, 300);
    throw new UserError(`${what}: the registry answered ${res.status}${text ? ` ${text}` : ''}`);
  }
}

/** The registry endpoint and token of ECR's GetAuthorizationToken (ecr:GetAuthorizationToken). */
export async function ecrRegistry(ecr: EcrLike, registryId: string | undefined, aws: AwsCallOptions = {}, fetchImpl?: RegistryFetch): Promise<OciRegistry> {
  const api = await asEcrApi(ecr);
  const res = await awsCall('ecr:GetAuthorizationToken', registryId ?? 'registry', () => api.call('GetAuthorizationToken', registryId ? { registryIds: [registryId] } : {}), aws);
  const data = res.authorizationData?.[0];
  if (!data?.authorizationToken || !data.proxyEndpoint) throw new UserError('ecr:GetAuthorizationToken returned no token or registry endpoint');
  return new OciRegistry(data.proxyEndpoint.replace(/\/+$/, ''), `Basic ${data.authorizationToken}`, fetchImpl);
}

async function pushBlob(reg: OciRegistry, repo: string, body: Buffer): Promise<Descriptor> {
  const digest = sha256(body);
  const head = await reg.request('HEAD', `/v2/${repo}/blobs/${digest}`);
  if (head.status !== 200) {
    const start = await reg.expect(await reg.request('POST', `/v2/${repo}/blobs/uploads/`), `start of a blob upload to ${repo}`, [202]);
    const location = new URL(start.headers.get('location') ?? '', `${reg.url}/`);
    location.searchParams.set('digest', digest);
    await reg.expect(await reg.request('PUT', location.toString(), { body, contentType: 'application/octet-stream' }), `upload of blob ${digest} to ${repo}`, [201]);
  }
  return { mediaType: '', digest, size: body.length };
}

/** The manifest of `reference` (digest or tag): its bytes and media type, or undefined (404). */
export async function getManifest(reg: OciRegistry, repo: string, reference: string): Promise<{ body: Buffer; mediaType: string } | undefined> {
  const res = await reg.request('GET', `/v2/${repo}/manifests/${reference}`);
  if (res.status === 404) return undefined;
  await reg.expect(res, `manifest ${repo}:${reference}`, [200]);
  return { body: Buffer.from(await res.arrayBuffer()), mediaType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim() };
}

/** The artifact manifest for `envelope`, referring to the image `subject`. Pure. */
export function artifactManifest(subject: Descriptor, envelope: Buffer, created: string): Buffer {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: IN_TOTO_PAYLOAD_TYPE,
    config: { mediaType: OCI_EMPTY, digest: sha256('{}'), size: 2, data: Buffer.from('{}').toString('base64') },
    layers: [{ mediaType: DSSE_ENVELOPE, digest: sha256(envelope), size: envelope.length, data: envelope.toString('base64') }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { 'org.opencontainers.image.created': created },
  };
  return Buffer.from(JSON.stringify(manifest), 'utf8');
}

export type Stored = { artifact: string; via: 'referrers' | 'tag' | 'tag-kept' };

/**
 * Pushes the envelope as an artifact referring to `digest` in `repo`; where the registry has no
 * referrers API, lists it under the tag `sha256-<hex>`, written once.
 */
export async function pushProvenance(reg: OciRegistry, repo: string, digest: string, envelope: Buffer, created: string): Promise<Stored> {
  const image = await getManifest(reg, repo, digest);
  if (!image) throw new UserError(`image ${repo}@${digest} is not in the registry: no provenance can refer to it`);
  await pushBlob(reg, repo, Buffer.from('{}'));
  await pushBlob(reg, repo, envelope);
  const body = artifactManifest({ mediaType: image.mediaType, digest, size: image.body.length }, envelope, created);
  const artifact = sha256(body);
  const put = await reg.expect(
    await reg.request('PUT', `/v2/${repo}/manifests/${artifact}`, { body, contentType: OCI_MANIFEST }),
    `push of the provenance of ${digest} to ${repo}`,
    [201],
  );
  if (put.headers.get('oci-subject') === digest) return { artifact, via: 'referrers' };

  const tag = fallbackTag(digest);
  const existing = await getManifest(reg, repo, tag);
  const listed = existing ? indexEntries(existing.body) : [];
  if (listed.some((d) => d.digest === artifact)) return { artifact, via: 'tag-kept' };
  if (existing) {
    throw new UserError(
      `tag ${tag} of ${repo} already lists other artifacts (${listed.map((d) => d.digest).join(', ') || 'none'}) and tags are immutable: this build's provenance ${artifact} cannot be added`,
    );
  }
  const index = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: artifact, size: body.length, artifactType: IN_TOTO_PAYLOAD_TYPE }] }),
    'utf8',
  );
  await reg.expect(await reg.request('PUT', `/v2/${repo}/manifests/${tag}`, { body: index, contentType: OCI_INDEX }), `push of tag ${tag} to ${repo}`, [201]);
  return { artifact, via: 'tag' };
}

function indexEntries(body: Buffer): Descriptor[] {
  try {
    const json = JSON.parse(body.toString('utf8')) as { manifests?: unknown };
    return Array.isArray(json.manifests) ? (json.manifests as Descriptor[]).filter((d) => d && typeof d.digest === 'string') : [];
  } catch {
    return [];
  }
}

export interface FoundEnvelope {
  artifact: string;
  envelope: Buffer;
}

/** Where the referrers were listed, and the in-toto envelopes of those that refer to `digest`. */
export interface Referrers {
  via: 'referrers' | 'tag' | 'none';
  envelopes: FoundEnvelope[];
  /** Artifacts skipped, with why (not an in-toto artifact of this digest, malformed). */
  skipped: string[];
}

/** The in-toto artifacts referring to `digest`: referrers API first, the tag schema where it is missing. */
export async function findProvenance(reg: OciRegistry, repo: string, digest: string): Promise<Referrers> {
  const res = await reg.request('GET', `/v2/${repo}/referrers/${digest}?artifactType=${encodeURIComponent(IN_TOTO_PAYLOAD_TYPE)}`, { accept: OCI_INDEX });
  let via: Referrers['via'];
  let entries: Descriptor[];
  if (res.status === 200 && (res.headers.get('content-type') ?? '').startsWith(OCI_INDEX)) {
    via = 'referrers';
    entries = indexEntries(Buffer.from(await res.arrayBuffer()));
  } else {
    // 404 (or another answer that is not an index): no referrers API; the tag schema.
    await res.arrayBuffer().catch(() => undefined);
    const tagged = await getManifest(reg, repo, fallbackTag(digest));
    via = tagged ? 'tag' : 'none';
    entries = tagged ? indexEntries(tagged.body) : [];
  }
  const envelopes: FoundEnvelope[] = [];
  const skipped: string[] = [];
  for (const d of entries.filter((e) => e.artifactType === IN_TOTO_PAYLOAD_TYPE).slice(0, MAX_REFERRERS)) {
    const m = await getManifest(reg, repo, d.digest);
    const why = m ? readArtifact(m.body, d.digest, digest) : 'not in the registry';
    if (typeof why === 'string') skipped.push(`${d.digest}: ${why}`);
    else envelopes.push({ artifact: d.digest, envelope: why });
  }
  return { via, envelopes, skipped };
}

/** The envelope an artifact manifest carries when it is one for `subject`, else why not. Pure. */
export function readArtifact(body: Buffer, artifact: string, subject: string): Buffer | string {
  if (sha256(body) !== artifact) return 'the manifest does not hash to its digest';
  let m: { artifactType?: unknown; subject?: { digest?: unknown }; layers?: Descriptor[] };
  try {
    m = JSON.parse(body.toString('utf8')) as typeof m;
  } catch {
    return 'the manifest is not JSON';
  }
  if (m.artifactType !== IN_TOTO_PAYLOAD_TYPE) return `artifactType is not ${IN_TOTO_PAYLOAD_TYPE}`;
  if (m.subject?.digest !== subject) return `it refers to ${String(m.subject?.digest)}, not ${subject}`;
  const layer = Array.isArray(m.layers) ? m.layers.find((l) => l?.mediaType === DSSE_ENVELOPE) : undefined;
  if (!layer || typeof layer.data !== 'string') return 'no DSSE envelope in it';
  const envelope = Buffer.from(layer.data, 'base64');
  if (sha256(envelope) !== layer.digest) return 'the envelope does not hash to its layer digest';
  return envelope;
}
