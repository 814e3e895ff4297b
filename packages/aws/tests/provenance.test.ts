/**
 * Build provenance: the in-toto/SLSA statement, its DSSE envelope, the OCI artifact (referrers API
 * and the sha256-<hex> tag fallback, against an in-memory registry speaking the distribution API)
 * and the verdict both actions act on.
 */
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  OciRegistry,
  checkProvenance,
  encodeProvenance,
  fallbackTag,
  findProvenance,
  judgeProvenance,
  openEnvelope,
  pae,
  parseProvenance,
  pushProvenance,
  signEnvelope,
  type BuildFacts,
} from '../src/provenance/index';

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const COMMIT = 'a'.repeat(40);
const KEY = `tree-${'b'.repeat(40)}`;
const IMAGE = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', layers: [] });
const DIGEST = sha(IMAGE);
const FACTS: BuildFacts = {
  digest: DIGEST,
  ecrRepository: 'acme/sample',
  contentKey: KEY,
  commit: COMMIT,
  githubRepository: 'acme/sample-service',
  workflowRef: 'org/deploy-actions/.github/workflows/build.yml@refs/tags/v1',
  runUrl: 'https://github.com/acme/sample-service/actions/runs/7/attempts/1',
  time: '2026-12-07T18:00:00.000Z',
};

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    keys: { sign: async (_arn: string, m: Buffer) => sign('sha256', m, privateKey) },
    verify: (m: Buffer, s: Buffer) => verify('sha256', m, publicKey, s),
  };
}
const build = keyPair();
const other = keyPair();

describe('statement', () => {
  test('an in-toto Statement v1 with a SLSA provenance v1 predicate, read back to the same facts', () => {
    const bytes = encodeProvenance(FACTS);
    const s = JSON.parse(bytes.toString());
    expect(s._type).toBe('https://in-toto.io/Statement/v1');
    expect(s.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(s.subject).toEqual([{ name: 'acme/sample', digest: { sha256: DIGEST.slice(7) } }]);
    expect(s.predicate.buildDefinition.resolvedDependencies[0].digest).toEqual({ gitCommit: COMMIT });
    expect(s.predicate.runDetails.builder.id).toBe(`https://github.com/${FACTS.workflowRef}`);
    expect(parseProvenance(bytes)).toEqual(FACTS);
  });

  test.each([
    ['another statement type', (s: any) => (s._type = 'https://in-toto.io/Statement/v0.1'), /in-toto Statement v1/],
    ['another predicate', (s: any) => (s.predicateType = 'https://slsa.dev/provenance/v0.2'), /predicateType/],
    ['a builder that is not build.yml', (s: any) => (s.predicate.runDetails.builder.id = 'https://github.com/acme/sample-service/.github/workflows/evil.yml@refs/heads/develop'), /malformed/],
    ['two subjects', (s: any) => s.subject.push(s.subject[0]), /malformed/],
    ['a commit that is not 40 hex', (s: any) => (s.predicate.buildDefinition.externalParameters.commit = 'main'), /malformed/],
    ['a dependency commit other than the commit', (s: any) => (s.predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit = 'c'.repeat(40)), /malformed/],
  ])('refused: %s', (_name, mutate, why) => {
    const s = JSON.parse(encodeProvenance(FACTS).toString());
    mutate(s);
    expect(parseProvenance(Buffer.from(JSON.stringify(s)))).toMatch(why);
  });
});

describe('DSSE', () => {
  test('PAE as the DSSE protocol defines it', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  test('signed with the key, opened only with that key, and only untouched', async () => {
    const bytes = encodeProvenance(FACTS);
    const env = await signEnvelope(build.keys, 'arn:key', bytes);
    const json = Buffer.from(JSON.stringify(env));
    expect(openEnvelope(json, build.verify)).toEqual(bytes);
    expect(openEnvelope(json, other.verify)).toMatch(/does not verify with the provenance key/);
    const tampered = { ...env, payload: encodeProvenance({ ...FACTS, commit: 'c'.repeat(40) }).toString('base64') };
    expect(openEnvelope(Buffer.from(JSON.stringify(tampered)), build.verify)).toMatch(/does not verify/);
    const retyped = { ...env, payloadType: 'application/json' };
    expect(openEnvelope(Buffer.from(JSON.stringify(retyped)), build.verify)).toMatch(/not a DSSE envelope/);
  });
});

/** A registry with the distribution API's manifest, blob and upload routes; referrers only when asked. */
function memoryRegistry(referrers: boolean) {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { body: Buffer; type: string }>();
  const requests: string[] = [];
  manifests.set(DIGEST, { body: Buffer.from(IMAGE), type: 'application/vnd.docker.distribution.manifest.v2+json' });
  const fetchImpl = async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const method = init.method ?? 'GET';
    requests.push(`${method} ${url.pathname}`);
    const body = init.body ? Buffer.from(init.body as Buffer) : Buffer.alloc(0);
    let m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (m) return new Response(null, { status: blobs.has(m[2]!) ? 200 : 404 });
    if (/\/blobs\/uploads\/$/.test(url.pathname)) return new Response(null, { status: 202, headers: { location: '/v2/upload/1' } });
    if (url.pathname === '/v2/upload/1') {
      blobs.set(url.searchParams.get('digest')!, body);
      return new Response(null, { status: 201 });
    }
    m = /^\/v2\/(.+)\/referrers\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (m) {
      if (!referrers) return new Response('404 page not found', { status: 404 });
      const list = [...manifests.entries()]
        .filter(([ref, v]) => ref.startsWith('sha256:') && JSON.parse(v.body.toString()).subject?.digest === m![2])
        .map(([ref, v]) => ({ mediaType: v.type, digest: ref, size: v.body.length, artifactType: JSON.parse(v.body.toString()).artifactType }));
      return new Response(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: list }), {
        status: 200,
        headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
      });
    }
    m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname);
    if (m && method === 'PUT') {
      const ref = m[2]!;
      if (!ref.startsWith('sha256:') && manifests.has(ref) && !manifests.get(ref)!.body.equals(body)) return new Response('{"errors":[{"code":"TAG_INVALID"}]}', { status: 400 });
      manifests.set(ref, { body, type: String((init.headers as Record<string, string>)['Content-Type']) });
      manifests.set(sha(body.toString()), { body, type: String((init.headers as Record<string, string>)['Content-Type']) });
      const subject = JSON.parse(body.toString()).subject?.digest;
      return new Response(null, { status: 201, headers: referrers && subject ? { 'OCI-Subject': subject } : {} });
    }
    if (m) {
      const v = manifests.get(m[2]!);
      return v ? new Response(new Uint8Array(v.body), { status: 200, headers: { 'content-type': v.type } }) : new Response(null, { status: 404 });
    }
    return new Response(null, { status: 404 });
  };
  return { reg: new OciRegistry('https://registry.example', 'Basic x', fetchImpl as typeof fetch), manifests, requests };
}

async function envelopeOf(facts: BuildFacts, signer = build.keys): Promise<Buffer> {
  return Buffer.from(JSON.stringify(await signEnvelope(signer, 'arn:key', encodeProvenance(facts))));
}

describe('stored beside the image', () => {
  test('referrers API: the artifact refers to the digest, no fallback tag is written, and it is found', async () => {
    const { reg, manifests } = memoryRegistry(true);
    const stored = await pushProvenance(reg, 'acme/sample', DIGEST, await envelopeOf(FACTS), FACTS.time);
    expect(stored.via).toBe('referrers');
    expect(manifests.has(fallbackTag(DIGEST))).toBe(false);
    const found = await findProvenance(reg, 'acme/sample', DIGEST);
    expect(found.via).toBe('referrers');
    expect(found.envelopes.map((e) => e.artifact)).toEqual([stored.artifact]);
    const manifest = JSON.parse(manifests.get(stored.artifact)!.body.toString());
    expect(manifest).toMatchObject({ artifactType: 'application/vnd.in-toto+json', subject: { digest: DIGEST }, layers: [{ mediaType: 'application/vnd.dsse.envelope.v1+json' }] });
  });

  test('no referrers API: the sha256-<hex> tag lists the artifact, written once; the same push again keeps it', async () => {
    const { reg, manifests } = memoryRegistry(false);
    const envelope = await envelopeOf(FACTS);
    const first = await pushProvenance(reg, 'acme/sample', DIGEST, envelope, FACTS.time);
    expect(first.via).toBe('tag');
    expect(JSON.parse(manifests.get(fallbackTag(DIGEST))!.body.toString()).manifests[0]).toMatchObject({ digest: first.artifact, artifactType: 'application/vnd.in-toto+json' });
    expect((await pushProvenance(reg, 'acme/sample', DIGEST, envelope, FACTS.time)).via).toBe('tag-kept');
    await expect(pushProvenance(reg, 'acme/sample', DIGEST, await envelopeOf({ ...FACTS, time: '2026-12-07T18:01:00.000Z' }), FACTS.time)).rejects.toThrow(
      /tag sha256-[0-9a-f]{64} of acme\/sample already lists other artifacts .* immutable/,
    );
    const found = await findProvenance(reg, 'acme/sample', DIGEST);
    expect(found.via).toBe('tag');
    expect(found.envelopes).toHaveLength(1);
  });
});

describe('the verdict', () => {
  const claim = { digest: DIGEST, ecrRepository: 'acme/sample', githubRepository: 'acme/sample-service', commit: COMMIT };
  const found = async (...envelopes: Buffer[]) => ({ via: 'tag' as const, envelopes: envelopes.map((envelope, i) => ({ artifact: `sha256:${String(i).repeat(64)}`, envelope })), skipped: [] });

  test.each([
    ['its commit', claim, true, /verified: built by org\/deploy-actions\/.github\/workflows\/build.yml@refs\/tags\/v1 from commit aaaaaaa/],
    ['its content key, for another commit', { ...claim, commit: 'c'.repeat(40), contentKey: KEY }, true, /verified/],
    ['another commit', { ...claim, commit: 'c'.repeat(40) }, false, /built from commit aaaaaaa \(content key tree-b+\), not commit ccccccc/],
    ['another commit and another key', { ...claim, commit: 'c'.repeat(40), contentKey: `tree-${'d'.repeat(40)}` }, false, /not commit ccccccc or content key tree-d+/],
    ['another digest', { ...claim, digest: sha('other') }, false, /it is signed for sha256:/],
    ['another GitHub repository', { ...claim, githubRepository: 'acme/other' }, false, /built for acme\/sample-service/],
  ])('for %s', async (_name, c, ok, detail) => {
    const v = judgeProvenance(await found(await envelopeOf(FACTS)), build.verify, c);
    expect(v.ok).toBe(ok);
    expect(v.detail).toMatch(detail);
  });

  test('a statement signed with another key is refused, one that verifies among them is taken', async () => {
    const forged = await envelopeOf(FACTS, other.keys);
    expect(judgeProvenance(await found(forged), build.verify, claim).detail).toMatch(/no valid build provenance: .*does not verify with the provenance key/);
    expect(judgeProvenance(await found(forged, await envelopeOf(FACTS)), build.verify, claim).ok).toBe(true);
  });

  test('no provenance at all names where it was looked for', async () => {
    const { reg } = memoryRegistry(false);
    const v = await checkProvenance(reg, build.verify, claim);
    expect(v).toEqual({ ok: false, detail: expect.stringMatching(/has no build provenance \(neither the referrers API nor tag sha256-[0-9a-f]{64} lists one\)/) });
  });
});
